"""Base of every platform's wire models: exact wire names, unknown fields kept, never dropped."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from ._http import ResponseInfo
from ._http._json import MAX_EXACT_INT, double_exact
from .errors import ValidationError

__all__ = [
    "MAX_EXACT_INT",
    "JsonFirst",
    "LazyRaw",
    "ResponseInfo",
    "WireCents",
    "WireDecimal",
    "WireIntId",
    "WireModel",
    "WireStrId",
    "wire_error",
]


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
    # The usual case first, in one step (a listing checks several ids per item): canonical digits short
    # enough to be exact; anything else ("007", 17 digits, an int, a bool) goes through the full check.
    if type(value) is str and _CANONICAL_ID.fullmatch(value):
        return value
    return str(_id_int(value))


#: Digits without a leading zero (or "0" itself), at most 15 of them: always below 2**53.
_CANONICAL_ID = re.compile(r"0|[1-9][0-9]{0,14}")


def _cents(value: object) -> int:
    if type(value) is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
        return value
    if isinstance(value, str):
        raise ValueError(f"an amount in minor units must be a JSON integer, got the string {value!r}")
    return _strict_int(value, "an amount in minor units")


class JsonFirst:
    """``Annotated[T, BeforeValidator(check), JsonFirst(schema)]``: read from JSON bytes, a value that
    ``schema`` (pydantic-core's, no Python call) accepts is taken as it is; any other value goes through the
    full check, exactly as a value read from Python does. ``schema`` must accept only values that the full
    check accepts unchanged (the usual spelling of an id, a JSON integer in range), so the result never
    depends on which path read it; it only skips a Python call per value on a listing's common case."""

    def __init__(self, schema: CoreSchema) -> None:
        self.schema = schema

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        full = handler(source)
        return core_schema.json_or_python_schema(
            json_schema=core_schema.union_schema([self.schema, full], mode="left_to_right"),
            python_schema=full,
        )


#: A JSON number on the wire, held as an exact Decimal. Responses are parsed with Decimal for every number,
#: so a float here can only come from a caller, and is refused; so are booleans and numbers with more digits
#: than a double carries (the server would round them; we never send or accept a rounded amount).
WireDecimal = Annotated[Decimal, BeforeValidator(_no_float)]
#: An integer id: a JSON integer or a digit string; never a boolean (``True`` is not id 1), never negative.
WireIntId = Annotated[int, BeforeValidator(_id_int)]
#: An id the wire spells as a string of digits (Kantata); a JSON integer is accepted and spelled as digits.
WireStrId = Annotated[
    str,
    BeforeValidator(_id_str),
    JsonFirst(core_schema.str_schema(strict=True, pattern=r"^(?:0|[1-9][0-9]{0,14})$")),
]
#: Money in minor units: a JSON integer only (no boolean, float or string), within what a double holds exactly.
WireCents = Annotated[
    int,
    BeforeValidator(_cents),
    JsonFirst(core_schema.int_schema(strict=True, ge=-MAX_EXACT_INT, le=MAX_EXACT_INT)),
]


def _path(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a person writes it: ``items[0].quantity``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def wire_error(exc: pydantic.ValidationError, model: str) -> ValidationError:
    """Our ValidationError for pydantic's: every problem with its path and message, the first one's path as
    ``field``. An error of ours raised inside validation (a nested constructor, a validator naming its field)
    is read, not wrapped a second time: its own field extends the path and its message is kept as is."""
    parts, first_field, first_value = [], None, None
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        cause = (err.get("ctx") or {}).get("error")
        value = err.get("input")
        if isinstance(cause, ValidationError):
            inner = cause.field
            where = _path(loc)
            if inner and not where.endswith(inner):
                where = f"{where}.{inner}" if where and not inner.startswith("[") else f"{where}{inner}"
            text, value = cause.message, cause.value
        else:
            where = _path(loc)
            # A whole object as the input (a missing field, a model-level check) may carry a secret: not shown.
            shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
            text = f"{err.get('msg')}{shown}"
        parts.append(f"{model}.{where or '(model)'}: {text}")
        if first_field is None:
            first_field, first_value = where or None, value
    return ValidationError("; ".join(parts), field=first_field, value=first_value)


class WireModel(BaseModel):
    """A platform payload. Fields the server adds later survive in ``model_extra`` and in :meth:`raw`.

    What the client learns about an object besides its fields (the response it came in, side-loaded
    objects) is kept in pydantic's private-state slot, created on the first write: declared private
    attributes would be initialised for every object of a listing, most of which never get one.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)

    def __init__(self, /, **data: Any) -> None:
        """Built by a caller (``OrderItem(quantity=1.5)``): a bad value is our ValidationError naming its path
        (``items[0].quantity``), not pydantic's. Responses are read with ``model_validate``, whose callers
        (the clients) give their own errors."""
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise wire_error(exc, type(self).__name__) from None

    # Marked as pydantic's own __init__, so pydantic does not call it for every nested object it validates
    # (it would for a "custom" one): nested problems reach the outer call as paths of one error, never as
    # one error wrapped in another, and reading a response stays in pydantic's core.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def _state(self) -> dict[str, Any]:
        """This object's private state, made on first use (copied and compared with it, like private
        attributes)."""
        state = self.__pydantic_private__
        if state is None:
            state = {}
            object.__setattr__(self, "__pydantic_private__", state)
        return state

    def _get_state(self, name: str) -> Any:
        state = self.__pydantic_private__
        return None if state is None else state.get(name)

    @property
    def response_info(self) -> ResponseInfo | None:
        """Status, request id and ``retries_taken`` of the response this object came in (None if you built it)."""
        info: ResponseInfo | None = self._get_state("response_info")
        return info

    def _bind_response(self, info: ResponseInfo) -> None:
        # Called for every object of every page: the state dict is read or made here, not through _state.
        state = self.__pydantic_private__
        if state is None:
            object.__setattr__(self, "__pydantic_private__", {"response_info": info})
        else:
            state["response_info"] = info

    def raw(self) -> dict[str, Any]:
        """The payload as the wire had it (declared and unknown fields alike), JSON-safe."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    @property
    def extra_fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


_NO_SOURCE: Any = object()


class LazyRaw(Mapping[str, Any]):
    """A milestone's ``raw`` payload, dumped from its wire object when first read, not for every item of a
    listing (most are never written, so their payload is never needed). Read-only; pickles, copies and
    compares as the plain dict it stands for. The wire object is the one the client read, which nothing
    else holds, so the payload is the one the server sent."""

    __slots__ = ("_build", "_source", "_value")

    def __init__(self, build: Callable[..., dict[str, Any]], source: Any = _NO_SOURCE) -> None:
        """``build()``, or ``build(source)`` when a source is given (no ``partial`` object per item)."""
        self._build: Callable[..., dict[str, Any]] | None = build
        self._source = source
        # ``_value`` is set when first built (read only after that): no empty dict made per item.
        self._value: dict[str, Any]

    def _dict(self) -> dict[str, Any]:
        # Two threads may read one payload at once. The source is read before the build because a build
        # clears ``_build`` before ``_source``: a source read as cleared means the build is cleared too (and
        # ``_value`` set), never a build still to call with a cleared source.
        source = self._source
        build = self._build
        if build is not None:
            self._value = build() if source is _NO_SOURCE else build(source)
            self._build = self._source = None
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __repr__(self) -> str:
        return repr(self._dict())

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self._dict(),))
