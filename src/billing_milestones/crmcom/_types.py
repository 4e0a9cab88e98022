"""Strict field types for crm.com *responses*: what the server sends is taken as it is typed, or refused.

Pydantic's lax mode would read ``true`` as the integer 1, ``"12.5"`` as an amount and ``1`` as ``has_more``;
each of those turns a broken response into plausible data (a milestone of 1.00, a listing that never ends).
The request models keep the friendlier ``WireDecimal`` (a caller may type ``"25"``); these are for what
comes back. crm.com ids are UUID-like strings, so they are non-empty strings here, never numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StrictStr

from .._wire import MAX_EXACT_INT, WireDecimal

__all__ = ["Count", "Flag", "Id", "Int", "Number", "Text"]


def _id(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError(f"an id must be a string, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise ValueError("an id must not be empty")
    return value


def _number(value: object) -> object:
    # Booleans, floats and unexact digits are refused by WireDecimal itself; a JSON string is refused here,
    # since the description types every amount and percentage as a number.
    if isinstance(value, str):
        raise ValueError(f"a number must be a JSON number, got the string {value!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def _int(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_EXACT_INT:
        raise ValueError(f"{value} is beyond what a JSON number carries exactly")
    return value


#: A crm.com entity id (order, stage, queue, estimation): a non-empty JSON string.
Id = Annotated[str, BeforeValidator(_id)]
#: A JSON string, never a number spelled out by pydantic.
Text = StrictStr
#: A JSON integer (counts, epoch seconds, priorities): never a boolean, a string or a decimal.
Int = Annotated[StrictInt, BeforeValidator(_int)]
#: A JSON boolean, never ``1`` or ``"true"``.
Flag = StrictBool
#: An amount or percentage: a JSON number held as an exact Decimal; never a boolean, string or float.
Number = Annotated[WireDecimal, BeforeValidator(_number)]
#: A page size or count the server reports: a JSON integer >= 0.
Count = Annotated[Int, Field(ge=0)]
