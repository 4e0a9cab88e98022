"""dumps writes a body the C encoder can write exactly (plain JSON values, plus Decimals and dates through its
hook) without the Python walk, and every body, whichever way it goes, gives the walk's text or the walk's
refusal (same type, message and named place)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NoReturn

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_milestones import errors
from billing_milestones._http import _json
from billing_milestones._http._json import dumps


def boom(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("the walk should not run for this body")


KANTATA = {
    "billing_milestone": {
        "title": "Milestone ü 12",
        "amount_in_cents": 12025,
        "workspace_id": 900,
        "date_to_invoice": "2027-01-13",
        "story_id": None,
        "external_reference": {"service_name": "billing-milestones", "service_model_ref": "bm00ab", "locked": False},
    }
}
AUTOTASK = {
    "contractID": 123,
    "amount": Decimal("120.25"),
    "dateDue": dt.datetime(2027, 1, 13, 4, 5, tzinfo=dt.UTC),
    "on": dt.date(2027, 1, 13),
    "parts": [Decimal("0.10"), Decimal("1E+2"), {"n": Decimal("-3.000")}],
    "note": '"@x:0@" stays text',
}


@pytest.mark.parametrize("body", [KANTATA, {"billing_milestones": [KANTATA["billing_milestone"]] * 3}, AUTOTASK])
def test_a_body_the_encoder_writes_exactly_takes_no_walk(body: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _json._walked(body, True)
    monkeypatch.setattr(_json, "_walked", boom)
    assert dumps(body, exact=True) == expected


def test_the_encoder_s_decimals_keep_their_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json, "_walked", boom)
    assert dumps(AUTOTASK) == (
        '{"contractID":123,"amount":120.25,"dateDue":"2027-01-13T04:05:00+00:00","on":"2027-01-13",'
        '"parts":[0.10,100,{"n":-3.000}],"note":"\\"@x:0@\\" stays text"}'
    )


def test_a_marker_of_another_call_is_left_as_text() -> None:
    token = "0" * 32
    text = dumps({"a": Decimal("1.5"), "b": f"@{token}:0@"})
    assert text == f'{{"a":1.5,"b":"@{token}:0@"}}'


@pytest.mark.parametrize(
    "body",
    [
        (1, 2),  # a tuple is written as a list by the walk
        {3: "an int key", True: "a bool key"},  # keys as str() writes them
        {"a": [0.5]},
        {"a": Decimal("NaN")},
        {"deep": [{"n": 2**53 + 1}]},
        {"x": Decimal("0.1000000000000000055511151231257827")},
    ],
)
def test_what_the_encoder_would_write_otherwise_takes_the_walk(body: Any) -> None:
    assert _json._kinds(body, True) & _json._OTHER


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text(max_size=5)
    | st.decimals(allow_nan=True, allow_infinity=True, places=None)
    | st.dates()
    | st.datetimes()
    | st.floats(allow_nan=False, width=16)
)
BODIES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3) | st.integers(0, 3), inner, max_size=3)
    ),
    max_leaves=8,
)


def outcome(write: Any, body: Any, exact: bool) -> tuple[str, str, str | None]:
    try:
        return ("text", write(body, exact), None)
    except errors.ValidationError as exc:
        return (type(exc).__name__, str(exc), exc.field)
    except (TypeError, ValueError) as exc:
        return (type(exc).__name__, str(exc), None)


@given(BODIES, st.booleans())
def test_every_body_reads_as_the_walk_writes_it(body: Any, exact: bool) -> None:
    ours = outcome(lambda b, e: dumps(b, exact=e), body, exact)
    assert ours == outcome(_json._walked, body, exact)
