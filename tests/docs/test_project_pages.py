"""Changelog, versioning policy and credentials pages: present, in their format, and in step with the code."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from billing_milestones.sync.config import OVERRIDES, SECRETS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n") and "keepachangelog.com" in text
    versions = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.MULTILINE)
    assert versions[0] == ("Unreleased", "")
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) and date for v, date in versions[1:]), versions
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert version in [v for v, _ in versions], "the package's version has its section"
    sections = set(re.findall(r"^### (\w+)$", text, re.MULTILINE))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}, sections
    for v, _ in versions:
        assert re.search(rf"^\[{re.escape(v)}\]: https://", text, re.MULTILINE), f"no link for [{v}]"


def test_the_site_shows_the_changelog_and_the_versioning_policy(site: Path) -> None:
    changelog = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "Unreleased" in changelog and 'href="../versioning/"' in changelog
    policy = (DOCS / "versioning.md").read_text(encoding="utf-8")
    assert all(part in policy for part in ("MAJOR", "MINOR", "PATCH", "__all__", "schema_version"))


@pytest.mark.parametrize("platform", ["kantata", "autotask", "crmcom"])
def test_a_credentials_page_per_platform_names_the_variables_the_code_reads(platform: str) -> None:
    page = (DOCS / "credentials" / f"{platform}.md").read_text(encoding="utf-8")
    needed = {*SECRETS[platform].values(), OVERRIDES[platform]["base_url"]}
    if platform == "autotask":
        needed.add(OVERRIDES[platform]["username"])
    missing = [name for name in needed if name not in page]
    assert not missing, f"docs/credentials/{platform}.md does not mention {missing}"
    assert platform in (DOCS / "credentials" / "index.md").read_text(encoding="utf-8")
