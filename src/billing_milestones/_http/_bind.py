"""Each wire object a call returns remembers the response it came in (``obj.response_info``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._request import Page, ResponseInfo

__all__ = ["bound"]

T = TypeVar("T")


#: Per result type, its ``_bind_response`` (None: the type has none). A runtime Protocol isinstance per item cost
#: about a tenth of a listing's time; a type is looked up once, then every item of it is one dict hit.
_BINDERS: dict[type, Callable[[Any, ResponseInfo], None] | None] = {}


def _binder(cls: type) -> Callable[[Any, ResponseInfo], None] | None:
    try:
        return _BINDERS[cls]
    except KeyError:
        bind = getattr(cls, "_bind_response", None)
        _BINDERS[cls] = bind if callable(bind) else None
        return _BINDERS[cls]


def bound(result: T, info: ResponseInfo) -> T:
    """Tell each wire object in a result which response it came from (``obj.response_info``): every object
    whose type has ``_bind_response`` (see :class:`ResponseAware`). A page's items are mostly of one type,
    so the binder is looked up again only when the type changes."""
    items: Any = result.items if isinstance(result, Page) else result
    last: type | None = None
    bind: Callable[[Any, ResponseInfo], None] | None = None
    for item in items if isinstance(items, list | tuple) else (items,):
        cls = type(item)
        if cls is not last:
            last, bind = cls, _binder(cls)
        if bind is not None:
            bind(item, info)
    return result
