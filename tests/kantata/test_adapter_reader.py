"""The listing page's reader (kantata/_read.py) gives what ``to_milestone`` gives, and both give what the
validating constructors give: over generated pages read from JSON bytes as the client reads them, every
milestone is equal field for field (types, fields set, repr, dumps, hashes of its parts) or both refuse it
with the same typed error naming the same field."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing_milestones import errors
from billing_milestones.kantata import BillingMilestone, ExternalReference, WorkspaceCurrency, _read, to_milestone
from billing_milestones.kantata._envelopes import resolve_milestones
from billing_milestones.kantata._read import milestone_reader
from billing_milestones.kantata.adapter import READ_FIELDS, raw_payload
from billing_milestones.kantata.wire import Envelope
from billing_milestones.model import CommonModel, ExternalRef, Milestone, MilestoneKey, MilestoneStatus, Trigger
from billing_milestones.money import Money

from .._same_model import assert_same_model
from .test_adapter import TODAY, USD, wire

INCLUDES = frozenset({"external_references", "story", "workspace"})
texts = st.text(st.characters(codec="utf-8"), max_size=12)
ids = st.integers(1, 10**15 - 1).map(str)
# Weighted to the usual milestone (what a listing is made of), with every unusual value often enough.
usual_services = st.sampled_from(["billing-milestones", "quickbooks", "x"])
titles = st.one_of(texts.filter(str.strip), texts, st.sampled_from(["Deposit", "", " ", "\t\n", "Final payment"]))
cents = st.one_of(st.integers(-(2**53), 2**53), st.sampled_from([0, 1, -1, 12345, 2**53, -(2**53)]))
dates = st.one_of(
    st.sampled_from([TODAY, TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=1)]),
    st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31)),
)
optional_text = st.one_of(st.none(), texts)


#: What can make a milestone unusual, each drawn on its own so that one unusual value meets the usual rest.
ODD = ("title", "currency", "billing_type", "story_id", "refs", "ref_parts", "absent")


@st.composite
def references(draw: st.DrawFn, owner: str, odd: frozenset[str]) -> list[dict[str, Any]]:
    refs = []
    for _ in range(draw(st.sampled_from([0, 2, 3] if "refs" in odd else [0, 1, 1]))):
        ref: dict[str, Any] = {
            "id": draw(ids),
            "service_name": draw(usual_services | texts if "ref_parts" in odd else usual_services),
            "service_model_ref": draw(
                st.none() | texts | st.integers(0, 10**6) if "ref_parts" in odd else texts.filter(bool)
            ),
            "subject_id": owner,
            "subject_type": "BillingMilestone",
        }
        for name in ("service_model", "status"):
            if draw(st.booleans()):
                ref[name] = draw(optional_text)
        if draw(st.booleans()):
            ref["x_unknown"] = draw(texts)  # an unknown field, kept in raw
        refs.append(ref)
    return refs


@st.composite
def milestones(draw: st.DrawFn, ident: str) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
    # Half of them the usual milestone (what a listing is made of, read in one step), half with some of
    # its values unusual.
    odd = frozenset() if draw(st.booleans()) else frozenset(draw(st.sets(st.sampled_from(ODD), min_size=1)))
    item: dict[str, Any] = {
        "id": ident,
        "title": draw(titles if "title" in odd else texts.filter(str.strip)),
        "amount_in_cents": draw(cents),
        "workspace_id": "900",
        "currency": draw(st.sampled_from(["usd", "EUR", "", "Usd"] if "currency" in odd else [None, "USD"])),
        "billing_type": draw(
            st.sampled_from(["upon_completion", None, "monthly"]) if "billing_type" in odd else st.just("fixed_date")
        ),
        "date_to_invoice": draw(st.one_of(st.none(), dates.map(str))),
        "story_id": draw(ids if "story_id" in odd else st.none()),
        "invoice_id": draw(st.one_of(st.none(), st.none(), ids)),
    }
    for name in tuple(item)[4:] if "absent" in odd else ("currency", "date_to_invoice", "invoice_id"):
        if draw(st.integers(0, 3)) == 0:
            del item[name]  # absent, not null: fields set differ
    refs = draw(references(ident, odd))
    item["external_reference_ids"] = [r["id"] for r in refs]  # asked for, so always listed
    if draw(st.booleans()):
        item["created_at"] = "2026-01-01T10:00:00-05:00"
    if draw(st.integers(0, 3)) == 0:
        item["x_extra"] = {"kept": draw(texts)}
    story = None
    if item.get("story_id") and draw(st.booleans()):
        story = {"id": item["story_id"], "state": draw(st.sampled_from(["completed", "started", None]))}
    return item, refs, story


@st.composite
def pages(draw: st.DrawFn) -> bytes:
    count = draw(st.integers(1, 6))
    first = draw(st.integers(1, 10**9))
    parts = [draw(milestones(str(first + n))) for n in range(count)]
    refs = {r["id"]: r for _, rs, _ in parts for r in rs}
    if len(refs) != sum(len(rs) for _, rs, _ in parts):
        for item, rs, _ in parts:  # a reference id drawn twice: give each its own
            for n, r in enumerate(rs):
                r["id"] = f"{item['id']}{n}"
            item["external_reference_ids"] = [r["id"] for r in rs]
        refs = {r["id"]: r for _, rs, _ in parts for r in rs}
    body = {
        "count": count,
        "results": [{"key": "billing_milestones", "id": item["id"]} for item, _, _ in parts],
        "billing_milestones": {item["id"]: item for item, _, _ in parts},
        "external_references": refs,
        "stories": {s["id"]: s for _, _, s in parts if s is not None},
        "workspaces": {"900": {"id": "900", "currency": "USD", "currency_base_unit": 100}},
    }
    return json.dumps(body).encode()


def outcome(read: Callable[[], Milestone]) -> Milestone | tuple[type[Exception], str | None]:
    try:
        return read()
    except (errors.ValidationError, errors.TranslationError) as exc:
        return type(exc), exc.field


def validated(m: Milestone, w: BillingMilestone) -> Milestone:
    """The same milestone built by the validating constructors, from plain values."""
    key = m.key
    assert key is not None
    fields: dict[str, Any] = {
        "key": MilestoneKey(platform=key.platform.value, id=key.id, container_id=key.container_id),
        "title": m.title,
        "amount": None if m.amount is None else Money(str(m.amount.amount), m.amount.currency),
        "due": None if m.due is None else m.due.isoformat(),
        "trigger": Trigger(**m.trigger.model_dump(exclude_unset=True)),
        "status": m.status.value,
        "locked": m.locked,
        "external_refs": tuple(ExternalRef(**r.model_dump()) for r in m.external_refs),
        "raw": raw_payload(w),
        "changes": m.changes,
    }
    assert set(fields) == READ_FIELDS == m.model_fields_set
    return Milestone(**fields)


def check_page(body: bytes, ws: WorkspaceCurrency, today: dt.date | None) -> None:
    # Read as the client reads a listing page: from its bytes, side-loads resolved.
    wires = resolve_milestones(Envelope.model_validate_json(body), INCLUDES)
    again = resolve_milestones(Envelope.model_validate_json(body), INCLUDES)
    read = milestone_reader(ws, today=today)
    general = 0

    def counted(*args: Any, **kwargs: Any) -> Milestone:
        nonlocal general
        general += 1
        return to_milestone(*args, **kwargs)

    made = []
    for w, w2 in zip(wires, again, strict=True):
        with patch.object(_read, "to_milestone", counted):
            got = outcome(lambda: read(w))  # noqa: B023
        expected = outcome(lambda: to_milestone(w2, ws, today=today))  # noqa: B023
        if isinstance(expected, tuple):
            assert got == expected
            continue
        assert isinstance(got, Milestone)
        assert_same_model(got, expected)
        assert_same_model(got, validated(got, w))
        assert got.raw == raw_payload(w) and dict(got.raw) == raw_payload(w2)
        made.append(got)
    event(f"read in one step: {len(wires) - general} of {len(wires)}")
    # Nothing mutable is shared between milestones of a page: a fields set two parts share refuses changes.
    parts: list[CommonModel] = [p for m in made for p in (m, m.key, *m.external_refs) if p is not None]
    owners: dict[int, int] = {}
    for p in parts:
        owners[id(p.model_fields_set)] = owners.get(id(p.model_fields_set), 0) + 1
    for p in parts:
        if owners[id(p.model_fields_set)] > 1:
            with pytest.raises(TypeError):
                p.model_fields_set.add("title")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages(), st.sampled_from([TODAY, None, dt.date(2040, 6, 1)]))
def test_the_reader_reads_every_generated_page_as_to_milestone_and_the_validating_constructors(
    body: bytes, today: dt.date | None
) -> None:
    check_page(body, WorkspaceCurrency("900", "USD", 2), today)


@pytest.mark.parametrize(
    "ws", [WorkspaceCurrency("900", "JPY", 0), WorkspaceCurrency("900", "KWD", 3), WorkspaceCurrency("900", "USD", 8)]
)
@settings(max_examples=40, deadline=None)
@given(body=pages())
def test_other_exponents_read_alike(ws: WorkspaceCurrency, body: bytes) -> None:
    check_page(body.replace(b'"USD"', f'"{ws.currency}"'.encode()), ws, TODAY)


@pytest.mark.parametrize(
    "ws",
    [WorkspaceCurrency("900", "usd", 2), WorkspaceCurrency("900", "XYZ", 2), WorkspaceCurrency("900", "USD", 9)],
)
def test_a_workspace_to_milestone_refuses_is_refused_alike(ws: WorkspaceCurrency) -> None:
    w = wire(currency=None)
    expected = outcome(lambda: to_milestone(w, ws))
    assert isinstance(expected, tuple) and outcome(lambda: milestone_reader(ws)(w)) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("title", None),
        ("title", "  "),
        ("amount_in_cents", 1.5),
        ("amount_in_cents", 10**70),
        ("amount_in_cents", 10**70 + 1),
    ],
)
def test_a_value_changed_after_validation_is_read_as_to_milestone_reads_it(name: str, value: object) -> None:
    # Not what a listing hands over (its wire objects are fresh from validation), but neither path trusts more.
    w, w2 = wire(), wire()
    setattr(w, name, value)
    setattr(w2, name, value)
    try:
        expected: Any = to_milestone(w2, USD, today=TODAY)
    except Exception as exc:
        with pytest.raises(type(exc)):
            milestone_reader(USD, today=TODAY)(w)
        return
    assert_same_model(milestone_reader(USD, today=TODAY)(w), expected)


def test_a_whitespace_title_is_refused_by_name_on_both_paths() -> None:
    for read in (lambda w: to_milestone(w, USD), milestone_reader(USD)):
        with pytest.raises(errors.ValidationError) as caught:
            read(wire(title=" \t"))
        assert caught.value.field == "title"


def test_a_usual_page_is_read_without_to_milestone_and_reads_as_it() -> None:
    # The benchmark's page (fixed dates, one sync-key reference each, some invoiced, some due): every item
    # takes the one-step path, and each equals what to_milestone makes of it.
    items = [
        wire(
            id=str(7000 + n), title=f"Milestone {n}", amount_in_cents=1000 * n - 500, invoice_id="9" if n % 5 else None
        ).attach(external_references=[_ref(n)])
        for n in range(40)
    ]
    read = milestone_reader(USD, today=TODAY)
    with patch.object(_read, "to_milestone", side_effect=AssertionError("took the general path")):
        got = [read(w) for w in items]
    for m, w in zip(got, items, strict=True):
        assert_same_model(m, to_milestone(w, USD, today=TODAY))
        assert_same_model(m, validated(m, w))
    assert {m.status for m in got} == {MilestoneStatus.BILLED, MilestoneStatus.PLANNED}
    # One read-only fields set per shape serves the whole page (no set copied, none for the collector to walk).
    for shape in ([m for m in got], [m.key for m in got], [m.external_refs[0] for m in got]):
        assert len({id(p.model_fields_set) for p in shape if p is not None}) == 1
    with pytest.raises(TypeError):
        got[0].model_fields_set.discard("title")
    assert got[1].model_fields_set == READ_FIELDS


def _ref(n: int) -> ExternalReference:
    return ExternalReference(
        id=str(50_000 + n),
        service_name="billing-milestones",
        service_model="billing_milestone",
        service_model_ref=f"bm{n:016x}",
        status="successful",
    )
