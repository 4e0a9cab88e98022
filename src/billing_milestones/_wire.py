"""Base of every platform's wire models: exact wire names, unknown fields kept, never dropped."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["WireModel"]


class WireModel(BaseModel):
    """A platform payload. Fields the server adds later survive in ``model_extra`` and in :meth:`raw`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)

    def raw(self) -> dict[str, Any]:
        """The payload as the wire had it (declared and unknown fields alike), JSON-safe."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    @property
    def extra_fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})
