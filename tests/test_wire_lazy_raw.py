"""A lazy raw payload built from a source (``LazyRaw(build, source)``) calls ``build(source)`` once, when first
read, then holds only the payload; it reads, pickles and compares as the plain dict it stands for."""

from __future__ import annotations

import pickle
from typing import Any

from billing_milestones._wire import LazyRaw


def test_a_payload_from_a_source_is_built_once_then_the_source_is_let_go() -> None:
    calls: list[object] = []

    def build(source: dict[str, Any]) -> dict[str, Any]:
        calls.append(source)
        return {"id": source["id"], "n": 1}

    source = {"id": "7"}
    raw = LazyRaw(build, source)
    assert calls == []  # nothing built until read
    assert raw["id"] == "7" and dict(raw) == {"id": "7", "n": 1} and len(raw) == 2
    assert calls == [source]  # built once, from that source
    assert raw._source is None and raw._build is None
    assert raw == {"id": "7", "n": 1} and pickle.loads(pickle.dumps(raw)) == {"id": "7", "n": 1}


def test_a_payload_without_a_source_calls_its_builder_with_nothing() -> None:
    raw = LazyRaw(lambda: {"a": None})
    assert dict(raw) == {"a": None} and repr(raw) == "{'a': None}"
    none_source = LazyRaw(lambda source: {"got": source}, None)  # None is a source like any other
    assert dict(none_source) == {"got": None}
