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


class _Interleaved(LazyRaw):
    """A LazyRaw whose first read of ``_source`` lets another reader's whole build happen at that moment, as a
    second thread could between this reader's two reads."""

    __slots__ = ("_other_ran",)
    _slot: Any = LazyRaw.__dict__["_source"]  # the parent's slot descriptor

    @property
    def _source(self) -> Any:
        if not getattr(self, "_other_ran", False):
            self._other_ran = True
            LazyRaw._dict(self)  # the other thread: builds, sets the value, clears build and source
        return _Interleaved._slot.__get__(self)  # what this reader then reads: the source as cleared

    @_source.setter
    def _source(self, value: Any) -> None:
        _Interleaved._slot.__set__(self, value)


def test_a_build_finishing_between_a_readers_two_reads_is_seen_whole() -> None:
    calls: list[object] = []

    def build(source: object) -> dict[str, Any]:
        assert source is not None, "build called with a cleared source"
        calls.append(source)
        return {"id": "1"}

    raw = _Interleaved(build, "wire")
    assert dict(raw) == {"id": "1"}
    assert calls == ["wire"]
