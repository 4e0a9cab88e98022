"""Autotask's documented examples read through the SDK's query reader (``autotask._query_wire``).

The excerpt has one example, QueryModel's (PascalCase ``MaxRecords``/``IncludeFields``/``Filter``, a leaf filter
with ``"items": []``); every example in the document must be claimed here, so a new one cannot go unchecked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from billing_milestones.autotask._query_wire import query_from_wire

from ._openapi import ApiDescription


def _examples(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("example", "examples"):
                yield where, value
            elif not key.startswith("x-"):
                yield from _examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _examples(value, f"{where}/{i}")


def _query_example(api: ApiDescription) -> dict[str, Any]:
    return copy.deepcopy(api.document["definitions"]["QueryModel"]["example"])


def test_every_example_is_claimed(autotask_api: ApiDescription) -> None:
    """The only one is QueryModel's (inlined wherever a body refers to QueryModel)."""
    found = list(_examples(autotask_api.document))
    assert ("/definitions/QueryModel", _query_example(autotask_api)) in found
    assert all(value == _query_example(autotask_api) for _, value in found)


def test_the_query_example_parses_as_documented(autotask_api: ApiDescription) -> None:
    """`items: []` on a plain condition and `IncludeFields: []` (every field) read as the vendor means them."""
    assert query_from_wire(_query_example(autotask_api)).to_wire() == {
        "filter": [{"op": "gt", "field": "id", "value": 0}],
        "MaxRecords": 10,
    }


def test_the_query_example_parses_without_the_two_refused_parts(autotask_api: ApiDescription) -> None:
    """Casing aside (the reader takes Filter/MaxRecords in any casing), the example means what it says."""
    example = _query_example(autotask_api)
    del example["IncludeFields"]
    del example["Filter"][0]["items"]
    assert query_from_wire(example).to_wire() == {
        "filter": [{"op": "gt", "field": "id", "value": 0}],
        "MaxRecords": 10,
    }
