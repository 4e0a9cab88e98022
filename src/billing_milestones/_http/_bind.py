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


#: Types last bound as a whole result (one wire object: a show, a create), with their binder: the next result
#: of the type is bound in one dict hit, without the page, list and tuple checks a result otherwise takes.
_SINGLE: dict[type, Callable[[Any, ResponseInfo], None]] = {}


def bound(result: T, info: ResponseInfo) -> T:
    """Tell each wire object in a result which response it came from (``obj.response_info``): every object
    whose type has ``_bind_response`` (see :class:`ResponseAware`). A page's items are mostly of one type,
    so the binder is looked up again only when the type changes."""
    single = _SINGLE.get(type(result))
    if single is not None:
        single(result, info)
        return result
    items: Any = result.items if isinstance(result, Page) else result
    if not isinstance(items, list | tuple):
        bind = _binder(type(items))
        if bind is not None:
            if items is result:
                _SINGLE[type(result)] = bind
            bind(items, info)
        return result
    last: type | None = None
    bind = None
    for item in items:
        cls = type(item)
        if cls is not last:
            last, bind = cls, _binder(cls)
        if bind is not None:
            bind(item, info)
    return result
