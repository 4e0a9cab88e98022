"""Base of every platform's wire models: exact wire names, unknown fields kept, never dropped."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PrivateAttr

from ._http import ResponseInfo

__all__ = ["ResponseInfo", "WireDecimal", "WireModel"]


def _no_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError(f"float {value!r} refused: pass a str or Decimal so the amount stays exact")
    return value


#: A JSON number on the wire, held as an exact Decimal. Responses are parsed with Decimal for every number,
#: so a float here can only come from a caller, and is refused.
WireDecimal = Annotated[Decimal, BeforeValidator(_no_float)]


class WireModel(BaseModel):
    """A platform payload. Fields the server adds later survive in ``model_extra`` and in :meth:`raw`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)

    _response_info: ResponseInfo | None = PrivateAttr(default=None)

    @property
    def response_info(self) -> ResponseInfo | None:
        """Status, request id and ``retries_taken`` of the response this object came in (None if you built it)."""
        return self._response_info

    def _bind_response(self, info: ResponseInfo) -> None:
        self._response_info = info

    def raw(self) -> dict[str, Any]:
        """The payload as the wire had it (declared and unknown fields alike), JSON-safe."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    @property
    def extra_fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})
