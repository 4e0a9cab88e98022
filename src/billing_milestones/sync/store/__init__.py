"""Link store backends behind one interface: SQLite (embedded default) and PostgreSQL (``[postgres]``)."""

from ._backend import Backend
from ._model import SCHEMA_VERSION, Intent, Link, RunRecord
from ._url import StoreTarget, parse_target, redact_url, with_keepalives
from .linkstore import LinkStore, open_backend

__all__ = [
    "SCHEMA_VERSION",
    "Backend",
    "Intent",
    "Link",
    "LinkStore",
    "RunRecord",
    "StoreTarget",
    "open_backend",
    "parse_target",
    "redact_url",
    "with_keepalives",
]
