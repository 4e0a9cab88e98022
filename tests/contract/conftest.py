"""The vendors' descriptions, loaded from ``../shared/specs/`` where they lie (never copied into the repository).

Where that folder is absent (a clone without ``shared/`` beside it) every contract test skips and says why;
no other test depends on it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ._openapi import ApiDescription, load_description
from ._overrides import OVERRIDES

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
#: Each description the contract tests read, and the platform its override rows are filed under.
DESCRIPTIONS = {
    "kantata/billing-milestones.excerpt.openapi.json": "kantata",
    "crmcom/self-service-v2.excerpt.openapi.json": "crmcom",
}


def _load(relative: str, platform: str, base_path: str) -> ApiDescription:
    """The description with its override rows applied, or a skip naming the missing file."""
    path = SPECS / relative
    if not path.is_file():
        pytest.skip(f"vendor description {path} not found: contract tests need ../shared/specs beside the clone")
    return load_description(path, platform, OVERRIDES, base_path=base_path)


@pytest.fixture(scope="session")
def kantata_api() -> ApiDescription:
    return _load("kantata/billing-milestones.excerpt.openapi.json", "kantata", "/api/v1")


@pytest.fixture(scope="session")
def crmcom_api() -> ApiDescription:
    return _load("crmcom/self-service-v2.excerpt.openapi.json", "crmcom", "")
