"""Client options and the common model refuse bad values by name, before any request (issue 12)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from billing_milestones import AutotaskClient, KantataClient, Milestone, Money, errors

from ._client_makers import CLIENTS


@pytest.mark.parametrize("make", CLIENTS.values(), ids=CLIENTS.keys())
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", -1),
        ("timeout", 0),
        ("timeout", True),
        ("timeout", "5"),
        ("timeout", float("nan")),
        ("max_retries", "a"),
        ("max_retries", -1),
        ("max_retries", True),
        ("max_retries", 1.5),
        ("base_url", "not a url"),
        ("base_url", "ftp://example.com/api"),
    ],
)
def test_bad_client_options_are_refused_by_name(make: Callable[..., Any], option: str, value: object) -> None:
    # Autotask treats a base URL as configuration (ConfigError, with .key): both name the option.
    with pytest.raises((errors.ValidationError, errors.ConfigError)) as info:
        make(**{option: value})
    assert getattr(info.value, "field", None) == option or getattr(info.value, "key", None) == option


@pytest.mark.parametrize("due", [0, 86400, 1.5, True])
def test_an_integer_is_not_a_due_date(due: object) -> None:
    with pytest.raises(errors.ValidationError) as info:
        Milestone(title="Kick-off", amount=Money("1.00", "USD"), due=due)
    assert info.value.field == "due"


def test_a_due_date_as_a_date_or_iso_text_is_fine() -> None:
    assert Milestone(title="A", amount=Money("1.00", "USD"), due="2027-01-31").due == dt.date(2027, 1, 31)
    assert Milestone(title="A", amount=Money("1.00", "USD"), due=dt.date(2027, 1, 31)).due == dt.date(2027, 1, 31)


@pytest.mark.parametrize("amount", ["12345678901234567.89", "1E+40"])
def test_an_amount_the_target_cannot_hold_exactly_is_refused_before_sending(amount: str) -> None:
    """Exact or not at all, at the wire too: no rounded or absurd amount reaches Autotask or Kantata."""
    from billing_milestones.sandbox import AutotaskSandbox, KantataSandbox

    autotask, kantata = AutotaskSandbox(), KantataSandbox()
    contract = autotask.add_contract(name="C", currency="USD")
    workspace = kantata.add_workspace("W", currency="USD")
    milestone = Milestone(title="Huge", amount=Money(amount, "USD"), due=dt.date(2027, 1, 1))
    with (
        AutotaskClient(
            AutotaskSandbox.USERNAME,
            AutotaskSandbox.SECRET,
            AutotaskSandbox.INTEGRATION_CODE,
            currency="USD",
            http_client=autotask.http_client(),
        ) as at,
        KantataClient("tok-123456", http_client=kantata.http_client()) as ko,
    ):
        for view, container, box in ((at.milestones, str(contract), autotask), (ko.milestones, workspace, kantata)):
            before = [e.method for e in box.request_log]
            with pytest.raises((errors.ValidationError, errors.TranslationError)) as info:
                view.create(container, [milestone])
            assert "amount" in str(info.value)
            assert [e.method for e in box.request_log if e.method == "POST"] == [m for m in before if m == "POST"]


@pytest.mark.parametrize("title", [" ", "\t\n"])
def test_a_blank_kantata_title_is_refused_by_name_before_sending(title: str) -> None:
    from billing_milestones.sandbox import KantataSandbox

    kantata = KantataSandbox()
    workspace = kantata.add_workspace("W", currency="USD")
    with (
        KantataClient("tok-123456", http_client=kantata.http_client()) as client,
        pytest.raises(errors.ValidationError) as info,
    ):  # the common model refuses it first now; the adapter's own check stays for model_construct'ed ones
        client.milestones.create(
            workspace, [Milestone(title=title, amount=Money("1.00", "USD"), due=dt.date(2027, 1, 1))]
        )
    assert info.value.field == "title"
    assert not [e for e in kantata.request_log if e.method == "POST"]
