"""The vendors' descriptions, loaded from ``../shared/specs/`` where they lie (never copied into the repository).

Where that folder is absent (a clone without ``shared/`` beside it) every contract test skips and says why;
no other test depends on it.
"""

from __future__ import annotations

import pytest

from . import _specs
from ._openapi import ApiDescription, load_description
from ._overrides import OVERRIDES


def _load(relative: str, platform: str) -> ApiDescription:
    """The description with its override rows applied, or a skip naming the missing file."""
    path = _specs.SPECS / relative
    if not path.is_file():
        pytest.skip(f"vendor description {path} not found: contract tests need ../shared/specs beside the clone")
    return load_description(path, platform, OVERRIDES, base_path=_specs.BASE_PATHS[platform])


@pytest.fixture(scope="session")
def kantata_api() -> ApiDescription:
    return _load("kantata/billing-milestones.excerpt.openapi.json", "kantata")


@pytest.fixture(scope="session")
def crmcom_api() -> ApiDescription:
    return _load("crmcom/self-service-v2.excerpt.openapi.json", "crmcom")


@pytest.fixture(scope="session")
def autotask_api() -> ApiDescription:
    return _load("autotask/autotask-psa-rest-v1.excerpt.swagger.json", "autotask")
