"""The bulk create's body writer (kantata/_write.py) sends what ``to_create_body``'s body sends: over
generated milestones and workspaces, the same wire object (values and their types, key order) and the
same values tied back, or both refuse the milestone with the same typed error naming the same field. The
usual body's wire form (``BillingMilestoneCreate.to_wire``, written directly) is the dump's, and the bulk
reply's in-place check ties back as the full comparison does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing_milestones import errors
from billing_milestones._http._json import CheckedObject, dumps
from billing_milestones.kantata import _write
from billing_milestones.kantata._operations import tie_back
from billing_milestones.kantata._tie import Fingerprinted, Sent
from billing_milestones.kantata._write import body_writer
from billing_milestones.kantata.adapter import WorkspaceCurrency, to_create_body
from billing_milestones.kantata.wire import (
    BillingMilestone,
    BillingMilestoneCreate,
    BillingType,
    ExternalReferenceInput,
)
from billing_milestones.model import SYNC_SERVICE_NAME, ExternalRef, Milestone, MilestoneStatus, Trigger
from billing_milestones.money import Money

texts = st.text(st.characters(codec="utf-8"), max_size=10)
titles = st.one_of(texts.filter(str.strip), st.sampled_from(["Deposit", " x ", "\u2003Final\u2003", "Étape 2"]))
USD = WorkspaceCurrency("900", "USD", 2)
WORKSPACES = st.sampled_from(
    [
        USD,
        WorkspaceCurrency("900", "USD", 0),
        WorkspaceCurrency("900", "JPY", 0),
        WorkspaceCurrency("900", "KWD", 3),
        WorkspaceCurrency("900", "USD", 9),  # an exponent out of range: refused by name
        WorkspaceCurrency("123456789012345678", "USD", 2),  # more digits than a double carries: sent as they are
        WorkspaceCurrency("0900", "USD", 2),  # not canonical: the general path, whatever it makes of it
        WorkspaceCurrency("0", "USD", 2),
        WorkspaceCurrency("abc", "USD", 2),
        WorkspaceCurrency("\uff19\uff10\uff10", "USD", 2),  # full-width digits: not an id
    ]
)
ODD = ("amount", "currency", "trigger", "description", "initial", "status", "refs", "due")


@st.composite
def milestones(draw: st.DrawFn) -> Milestone:
    # Half of them the usual milestone (what a sync creates), half with some of its values unusual.
    odd = frozenset() if draw(st.booleans()) else frozenset(draw(st.sets(st.sampled_from(ODD), min_size=1)))
    places = draw(st.sampled_from([2, 0, 3, 4] if "amount" in odd else [2]))
    minor = draw(st.integers(-(10**18), 10**18) if "amount" in odd else st.integers(-(10**9), 10**9))
    currency = draw(st.sampled_from(["EUR", "JPY", "USD"]) if "currency" in odd else st.just("USD"))
    fields: dict[str, Any] = {
        "title": draw(titles),
        "amount": Money(Decimal(minor).scaleb(-places), currency),
        "due": draw(st.none() | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
    }
    if "amount" in odd and draw(st.booleans()):
        fields["amount"], fields["percentage"] = None, Decimal("12.5")
    if "trigger" in odd:
        fields["trigger"] = draw(st.sampled_from([Trigger.on_completion("77"), Trigger.on_stage("s1")]))
    if "description" in odd:
        fields["description"] = draw(st.sampled_from(["", "notes"]))
    if "initial" in odd:
        fields["is_initial_payment"] = True
    if "status" in odd:
        status = draw(st.sampled_from(list(MilestoneStatus)))
        fields["status"], fields["locked"] = status, status is MilestoneStatus.BILLED
    refs = [ExternalRef(service="quickbooks", ref="q1")] if "refs" in odd and draw(st.booleans()) else []
    if draw(st.integers(0, 4)):
        refs.append(ExternalRef(service=SYNC_SERVICE_NAME, ref=draw(texts.filter(bool)), status="x"))
    if "refs" in odd and draw(st.booleans()):
        refs.append(ExternalRef(service=SYNC_SERVICE_NAME, ref="second"))  # only the first is the sync key
    fields["external_refs"] = tuple(refs)
    return Milestone(**fields)


def outcome(write: Any) -> Any:
    try:
        return write()
    except (errors.ValidationError, errors.TranslationError) as exc:
        return type(exc), exc.field


def assert_same_wire(got: Any, expected: Any) -> None:
    """Equal, with the same types and (for objects) the same key order, all the way down; an object the writer
    checked itself (CheckedObject, which the encoder writes as the dict it is) stands for a dict."""
    kind = dict if type(got) is CheckedObject else type(got)
    assert kind is type(expected) and got == expected
    if isinstance(expected, dict):
        assert list(got) == list(expected)
        for name, value in expected.items():
            assert_same_wire(got[name], value)


def assert_same_sent(got: Sent, expected: Sent) -> None:
    assert type(got) is Sent and len(got) == len(expected)
    assert_same_wire(got.wire, expected.wire)
    for mine, theirs in zip(got[1:], expected[1:], strict=True):
        assert type(mine) is type(theirs) and mine == theirs


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(milestones(), WORKSPACES, st.booleans())
def test_the_writer_writes_every_generated_milestone_as_to_create_body(
    milestone: Milestone, ws: WorkspaceCurrency, allow_drop: bool
) -> None:
    general = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal general
        general += 1
        return to_create_body(*args, **kwargs)

    with patch.object(_write, "to_create_body", counted):
        got = outcome(lambda: body_writer(ws, allow_drop=allow_drop)(milestone))
    expected = outcome(lambda: to_create_body(milestone, ws, allow_drop=allow_drop))
    event("general path" if general else "one step")
    if isinstance(expected, tuple) and isinstance(expected[0], type):
        assert got == expected
        return
    sent, changes = got
    assert changes == expected[1] and type(changes) is tuple
    assert_same_sent(sent, Sent.of(expected[0]))
    assert sent.wire == expected[0].model_dump(mode="json", exclude_none=True)


def test_a_usual_batch_is_written_without_to_create_body_and_as_it() -> None:
    due = dt.date(2027, 3, 1)
    batch = [
        Milestone(title=f"Milestone {n}", amount=Money.from_minor(1000 * n + 25, "USD"), due=due if n % 2 else None)
        for n in range(20)
    ]
    batch = [m.with_sync_key(f"bm{n:016x}") if n % 3 else m for n, m in enumerate(batch)]
    write = body_writer(USD)
    with patch.object(_write, "to_create_body", side_effect=AssertionError("took the general path")):
        got = [write(m) for m in batch]
    for (sent, changes), m in zip(got, batch, strict=True):
        expected, expected_changes = to_create_body(m, USD)
        assert changes == expected_changes == ()
        assert_same_sent(sent, Sent.of(expected))
    wires = [w for s, _ in got for w in (s.wire, s.wire.get("external_reference")) if w is not None]
    assert len({id(w) for w in wires}) == len(wires)  # nothing mutable shared between bodies
    # The one-step writer checked every value it wrote, so the encoder is told not to look again...
    assert {type(w) for w in wires} == {CheckedObject}
    # ... and writes each as the dict to_create_body's path would have sent, byte for byte.
    for sent, _ in got:
        assert dumps(sent.wire, exact=True) == dumps(dict(sent.wire), exact=True)


def test_the_general_path_leaves_its_body_to_the_encoder_s_checks() -> None:
    """What to_create_body wrote (a description here) is a plain dict: dumps checks it as any body."""
    m = Milestone(title="Kick-off", amount=Money.from_minor(1500, "USD"), description="first")
    sent, changes = body_writer(USD, allow_drop=True)(m)
    assert changes and type(sent.wire) is dict


class _OwnMilestone(Milestone):
    """A caller's subclass: written by to_create_body, which reads it through its attributes."""


def test_the_edges_of_the_usual_body_are_written_in_one_step_and_a_subclass_by_to_create_body() -> None:
    edges = [Milestone(title="Edge", amount=Money.from_minor(cents, "USD")) for cents in (2**53, -(2**53), 0)]
    write = body_writer(USD)
    with patch.object(_write, "to_create_body", side_effect=AssertionError("took the general path")):
        got = [write(m) for m in edges]
    for (sent, _), m in zip(got, edges, strict=True):
        assert_same_sent(sent, Sent.of(to_create_body(m, USD)[0]))
    own = _OwnMilestone(title="Own", amount=Money("1.00", "USD"))
    sent, changes = write(own)
    expected, expected_changes = to_create_body(own, USD)
    assert_same_sent(sent, Sent.of(expected))
    assert changes == expected_changes == ()


def _with_key(ref: str) -> Milestone:
    key = ExternalRef.model_construct(service=SYNC_SERVICE_NAME, ref=ref)  # past its own check, as a caller could
    return Milestone(title="Keyed", amount=Money("1.00", "USD")).model_copy(update={"external_refs": (key,)})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": ""}, "title"),
        ({"status": MilestoneStatus.BILLED, "locked": True}, "status"),
        ({"external_refs": _with_key("").external_refs}, "service_model_ref"),
        ({"amount": Money("1.005", "USD")}, "amount"),
        ({"amount": Money("1.00", "EUR")}, "amount.currency"),
        ({"amount": Money.from_minor(2**53 + 1, "USD")}, "amount_in_cents"),
        ({"description": "notes"}, "description"),
        ({"trigger": Trigger.on_stage("s1")}, "trigger"),
    ],
)
def test_refusals_name_their_field_on_both_paths(change: dict[str, Any], field: str) -> None:
    m = Milestone(title="Deposit", amount=Money("10.00", "USD")).model_copy(update=change)
    for write in (lambda x: to_create_body(x, USD), body_writer(USD)):
        with pytest.raises((errors.ValidationError, errors.TranslationError)) as caught:
            write(m)
        assert isinstance(caught.value, errors.ValidationError | errors.TranslationError)
        assert caught.value.field == field


# -- the wire form ----------------------------------------------------------------------------------------
ODD_VALUES: dict[str, list[Any]] = {
    "title": ["x", "", 5],
    "amount_in_cents": [7, True, 2**60],
    "workspace_id": ["901", 901, "0901", "1234567890123456", "x", None],
    "date_to_invoice": [None, dt.date(1, 1, 1), dt.datetime(2027, 1, 1, 10)],
    "billing_type": [None, BillingType.UPON_COMPLETION, "fixed_date"],
    "story_id": [None, "77", 77, "x7"],
    "external_reference": [None, ExternalReferenceInput(service_name="a", service_model="b", service_model_ref="c")],
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # the dump's own warnings about the values set
@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={k: st.sampled_from(v) for k, v in ODD_VALUES.items()}), st.booleans())
def test_to_wire_is_the_dump_for_any_body(changes: dict[str, Any], extra: bool) -> None:
    # Built by validation, then changed by assignment (no validation on assignment): every value the dump
    # writes is written alike, and whatever the dump refuses is refused alike.
    body = BillingMilestoneCreate(title="T", amount_in_cents=5, workspace_id="900", date_to_invoice=dt.date(2027, 1, 2))
    for name, value in changes.items():
        setattr(body, name, value)
    if extra:
        body.x_unknown = {"kept": 1}  # type: ignore[attr-defined]
    ref = body.external_reference
    if ref is not None and extra:
        ref.locked = True
    try:
        expected: Any = body.model_dump(mode="json", exclude_none=True)
    except Exception as exc:
        with pytest.raises(type(exc)):
            body.to_wire()
        return
    assert body.to_wire() == expected
    assert list(body.to_wire()) == list(expected)


# -- tying the reply back -----------------------------------------------------------------------------------
def _sent(n: int, **over: Any) -> BillingMilestoneCreate:
    values: dict[str, Any] = {"title": f"M{n}", "amount_in_cents": n, "workspace_id": "900"}
    return BillingMilestoneCreate(**{**values, **over})


def _made(n: int, **over: Any) -> BillingMilestone:
    values: dict[str, Any] = {"id": str(100 + n), "title": f"M{n}", "amount_in_cents": n, "workspace_id": "900"}
    return BillingMilestone.model_validate({**values, **over})


def _tied(inputs: Sequence[Fingerprinted], made: list[BillingMilestone]) -> Any:
    try:
        return [m.id for m in tie_back(inputs, made)]
    except errors.ValidationError as exc:
        return str(exc)


@pytest.mark.parametrize(
    ("sent", "made"),
    [
        ({"date_to_invoice": dt.date(2027, 1, 1)}, {}),
        ({}, {"date_to_invoice": "2027-01-01"}),
        ({"date_to_invoice": dt.date(2027, 1, 1)}, {"date_to_invoice": "2027-01-02"}),
        ({"story_id": "5"}, {}),
        ({}, {"story_id": "5"}),
        ({"story_id": "5"}, {"story_id": "6"}),
        ({"story_id": 5}, {"story_id": "5"}),
        ({"title": "Other"}, {}),
        ({"title": " M2\t"}, {}),
        ({"amount_in_cents": 99}, {}),
        ({}, {"amount_in_cents": 99}),
        ({}, {"title": "Other"}),
        ({}, {"workspace_id": "901"}),
        ({"workspace_id": 901}, {}),
        ({"workspace_id": 900}, {}),
    ],
)
def test_a_reply_that_differs_at_one_position_ties_back_as_the_full_comparison_does(
    sent: dict[str, Any], made: dict[str, Any]
) -> None:
    inputs = [_sent(1), _sent(2, **sent), _sent(2)]
    reply = [_made(1), _made(2, **made), _made(3, title="M2", amount_in_cents=2)]
    for order in (reply, reply[::-1]):
        assert _tied(inputs, order) == _tied_fully(inputs, order)
    alone, made_alone = [_sent(2, **sent)], [_made(2, **made)]  # every position differs: no in-place pass
    assert _tied(alone, made_alone) == _tied_fully(alone, made_alone)
    assert _tied([Sent.of(b) for b in alone], made_alone) == _tied_fully(alone, made_alone)


def _tied_fully(inputs: Sequence[Fingerprinted], made: list[BillingMilestone]) -> Any:
    with patch("billing_milestones.kantata._tie._in_place", return_value=False):
        return _tied(inputs, made)


def test_a_reply_in_request_order_is_taken_as_it_is_and_others_are_matched() -> None:
    inputs = [
        _sent(1, date_to_invoice=dt.date(2027, 1, 1), story_id=5),
        _sent(2, title=" M2 "),
        _sent(3, workspace_id=900),
    ]
    made = [_made(1, date_to_invoice="2027-01-01", story_id="5"), _made(2), _made(3)]
    assert tie_back(inputs, made) is made
    assert [m.id for m in tie_back(inputs, made[::-1])] == ["101", "102", "103"]
    with pytest.raises(errors.ValidationError, match="sent 3 billing milestones, the response holds 2"):
        tie_back(inputs, made[:2])


def test_a_reply_that_swaps_two_instalments_is_tied_back_by_their_dates_and_stories() -> None:
    d1, d2 = dt.date(2027, 1, 1), dt.date(2027, 2, 1)
    by_date = [Sent.of(_sent(1, date_to_invoice=d1)), Sent.of(_sent(1, date_to_invoice=d2))]
    made = [_made(1, id="201", date_to_invoice="2027-02-01"), _made(1, id="202", date_to_invoice="2027-01-01")]
    assert [m.id for m in tie_back(by_date, made)] == ["202", "201"]
    by_story = [Sent.of(_sent(1, story_id="5")), Sent.of(_sent(1))]
    made = [_made(1, id="301"), _made(1, id="302", story_id="5")]
    assert [m.id for m in tie_back(by_story, made)] == ["302", "301"]


def test_a_reply_in_another_workspace_is_refused() -> None:
    with pytest.raises(errors.ValidationError, match="cannot tie"):
        tie_back([Sent.of(_sent(1))], [_made(1, workspace_id="901")])
