"""Base of every platform's wire models: exact wire names, unknown fields kept, never dropped."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PrivateAttr

from ._http import ResponseInfo
from ._http._json import MAX_EXACT_INT, double_exact

__all__ = ["MAX_EXACT_INT", "ResponseInfo", "WireCents", "WireDecimal", "WireIntId", "WireModel", "WireStrId"]


def _no_float(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, not a number")
    if isinstance(value, float):
        raise ValueError(f"float {value!r} refused: pass a str or Decimal so the amount stays exact")
    if isinstance(value, Decimal | int) and not double_exact(Decimal(value)):
        raise ValueError(f"{value} has more digits than a JSON number (a double) carries exactly")
    return value


def _strict_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{what} must be an integer, got {type(value).__name__} {value!r}")
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit():
            raise ValueError(f"{what} must be an integer, got {value!r}")
        value = int(value)
    if abs(value) > MAX_EXACT_INT:
        raise ValueError(f"{what} {value} is beyond what a JSON number carries exactly")
    return value


def _id_int(value: object) -> int:
    number = _strict_int(value, "an id")
    if number < 0:
        raise ValueError(f"an id cannot be negative, got {number}")
    return number


def _id_str(value: object) -> str:
    return str(_id_int(value))


def _cents(value: object) -> int:
    if isinstance(value, str):
        raise ValueError(f"an amount in minor units must be a JSON integer, got the string {value!r}")
    return _strict_int(value, "an amount in minor units")


#: A JSON number on the wire, held as an exact Decimal. Responses are parsed with Decimal for every number,
#: so a float here can only come from a caller, and is refused; so are booleans and numbers with more digits
#: than a double carries (the server would round them; we never send or accept a rounded amount).
WireDecimal = Annotated[Decimal, BeforeValidator(_no_float)]
#: An integer id: a JSON integer or a digit string; never a boolean (``True`` is not id 1), never negative.
WireIntId = Annotated[int, BeforeValidator(_id_int)]
#: An id the wire spells as a string of digits (Kantata); a JSON integer is accepted and spelled as digits.
WireStrId = Annotated[str, BeforeValidator(_id_str)]
#: Money in minor units: a JSON integer only (no boolean, float or string), within what a double holds exactly.
WireCents = Annotated[int, BeforeValidator(_cents)]


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
