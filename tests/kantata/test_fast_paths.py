"""The Kantata read path's fast paths: each skips work that cannot change the answer, and each test fails
without its fast path (the skipped work is made to raise or is counted) while the answer stays the full path's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NoReturn

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import APIResponse, dumps
from billing_milestones.kantata import _envelopes, _operations
from billing_milestones.kantata.wire import Envelope

from .test_envelopes import _ref, envelope, ms


def boom(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("the fast path should not get here")


def response(body: dict[str, Any]) -> APIResponse:
    request = httpx.Request("GET", "https://api.mavenlink.com/api/v1/billing_milestones/1")
    return APIResponse(httpx.Response(200, content=dumps(body).encode(), request=request), 0, "kantata")


# -- ids ------------------------------------------------------------------------------------------------------


def test_an_id_already_in_canonical_digits_is_taken_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    ident = "".join(["10", "01"])  # a string object of its own, as a parsed response gives
    assert _operations._check_id(ident, field="id") is ident
    monkeypatch.setattr(_operations, "int", boom, raising=False)  # no int round trip for it
    assert _operations._check_id(ident, field="id") is ident


@pytest.mark.parametrize(("given", "canonical"), [("01", "1"), (" 5", "5"), ("7\n", "7"), (42, "42")])
def test_other_spellings_of_an_id_still_become_its_digits(given: object, canonical: str) -> None:
    assert _operations._check_id(given, field="id") == canonical


@pytest.mark.parametrize("bad", ["0", "00", "", "-1", "+1", "1e3", "a/b", "\u0663", True, 0, -5, 1.0, None])
def test_what_is_not_a_positive_integer_is_still_refused(bad: object) -> None:
    with pytest.raises(errors.ValidationError, match="expected a Kantata id"):
        _operations._check_id(bad, field="id")


def test_an_id_too_long_for_int_reads_alike_on_both_paths_or_is_refused_by_name() -> None:
    # Past Python's digit limit for int <-> text (4300), the canonical spelling is taken as it is by the fast
    # path, so a padded spelling of it must read as it does, and zeros or an int too long to spell are refused
    # with the typed error naming the field, never int()'s bare ValueError.
    digits = "1" * 5000
    assert _operations._check_id(digits, field="id") == digits
    assert _operations._check_id(f" 00{digits}\n", field="id") == digits
    for bad in ("0" * 5000, 10**5000):
        with pytest.raises(errors.ValidationError, match="expected a Kantata id") as caught:
            _operations._check_id(bad, field="workspace_id")
        assert caught.value.field == "workspace_id"


# -- the envelope walk ---------------------------------------------------------------------------------------


def with_reference() -> dict[str, Any]:
    body = envelope([ms("1", external_reference_ids=["5"]), ms("2")])
    body["external_references"] = {"5": _ref("5", subject="1")}
    return body


def test_the_typed_maps_are_walked_once_for_floats_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    maps = Envelope.typed_maps

    def counted(self: Envelope) -> Any:
        calls.append(1)
        return maps(self)

    monkeypatch.setattr(Envelope, "typed_maps", counted)
    got = _envelopes.parse_envelope(response(with_reference()))
    assert sorted(got.billing_milestones) == ["1", "2"] and len(calls) == 1


@pytest.mark.parametrize("with_float", [False, True])
def test_a_wrong_map_key_is_the_same_error_on_either_reading(with_float: bool) -> None:
    body = with_reference()
    body["billing_milestones"]["9"] = body["billing_milestones"].pop("2")  # keyed 9, its id says 2
    body["results"][1]["id"] = "9"
    if with_float:  # sends the body to the Decimal reading, which checks the keys itself
        body["external_references"]["5"]["rate"] = Decimal("0.5")
    with pytest.raises(errors.ValidationError) as info:
        _envelopes.parse_envelope(response(body))
    assert str(info.value) == "billing_milestones['9'] holds an object whose id is '2'"


def test_a_float_after_a_wrong_key_still_takes_the_decimal_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes reading raises a wrong key only once the whole walk found no float."""
    body = with_reference()
    body["billing_milestones"]["9"] = body["billing_milestones"].pop("2")
    body["results"][1]["id"] = "9"
    body["external_references"]["5"]["rate"] = Decimal("0.5")
    assert _envelopes._from_bytes(dumps(body).encode()) is None


def test_invoices_are_asked_about_only_for_a_milestone_that_has_some(monkeypatch: pytest.MonkeyPatch) -> None:
    got = _envelopes.parse_envelope(response(with_reference()))
    asked: list[str] = []
    has_map = Envelope.has_map

    def counted(self: Envelope, key: str) -> bool:
        asked.append(key)
        return has_map(self, key)

    monkeypatch.setattr(Envelope, "has_map", counted)
    milestones = _envelopes.resolve_milestones(got)
    assert [m.id for m in milestones] == ["1", "2"] and asked == []  # references were sent: no ask either
    assert [r.id for r in milestones[0].external_references] == ["5"]
    assert milestones[0].invoices == [] and milestones[1].external_references == []


def test_references_neither_asked_for_nor_sent_need_no_side_load_check(monkeypatch: pytest.MonkeyPatch) -> None:
    body = envelope([ms("1", external_reference_ids=["5"]), ms("2"), ms("3", external_reference_ids=None)])
    got = _envelopes.parse_envelope(response(body))
    monkeypatch.setattr(_envelopes, "_side_loaded", boom)
    known, empty, absent = _envelopes.resolve_milestones(got)
    assert not known.external_references_loaded and known.external_reference_ids == ["5"]  # known, not loaded
    assert empty.external_references_loaded and empty.external_references == []  # no ids: no references
    assert not absent.external_references_loaded
    monkeypatch.undo()
    with pytest.raises(errors.ValidationError, match=r"\['1'\] names external_references \['5'\]"):
        _envelopes.resolve_milestones(got, frozenset({"external_references"}))  # asked for: still checked
