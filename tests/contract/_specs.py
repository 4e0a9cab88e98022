"""Where the vendors' descriptions lie (``../shared/specs`` beside the clone) and what each one describes."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BASE_PATHS", "DESCRIPTIONS", "SPECS"]

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
#: Each description the contract tests read, and the platform its override rows are filed under.
DESCRIPTIONS = {
    "kantata/billing-milestones.excerpt.openapi.json": "kantata",
    "crmcom/self-service-v2.excerpt.openapi.json": "crmcom",
    "autotask/autotask-psa-rest-v1.excerpt.swagger.json": "autotask",
}
#: The path each platform's operations sit under on the wire (the descriptions' server URL path).
BASE_PATHS = {"kantata": "/api/v1", "crmcom": "", "autotask": "/ATServicesRest"}
