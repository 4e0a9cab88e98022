"""A fourth platform needs its own view and spec, registered with ``add_platform``, and no edit to ``sync/``.

"Ledger" is the smallest platform there is: milestones in a dict (its view) and a spec of its own (fixed
dates only, one write per milestone, sync keys kept, deletes allowed). It syncs both ways with Kantata's
in-process emulator through the unchanged ``plan_sync`` and ``apply_plan`` (docs/architecture.md).
"""

from __future__ import annotations

import builtins
import datetime as dt
import itertools
from collections.abc import Iterator, Sequence

import pytest

from billing_milestones import KantataClient, Milestone, MilestoneKey, Money, Platform
from billing_milestones._platform_spec import PlatformSpec, TriggerRules, WriteMode
from billing_milestones._platforms import add_platform, remove_platform, spec_for
from billing_milestones.errors import ValidationError
from billing_milestones.model import TriggerKind
from billing_milestones.sandbox import KantataSandbox
from billing_milestones.sync import LinkStore, SyncPair, apply_plan, load_sides, plan_sync

BUILT_IN = [Platform.CRMCOM, Platform.AUTOTASK, Platform.KANTATA]


class LedgerView:
    """The Ledger's milestone view: containers are ledgers, each a dict of milestones by native id."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.ledgers: dict[str, dict[str, Milestone]] = {}
        self._ids = itertools.count(1)

    def list(self, container_id: str) -> Iterator[Milestone]:
        yield from self.ledgers.get(container_id, {}).values()

    def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        made = []
        for milestone in milestones:
            key = MilestoneKey(platform=self.platform, id=str(next(self._ids)), container_id=container_id)
            made.append(milestone.model_copy(update={"key": key, "changes": ()}))
            self.ledgers.setdefault(container_id, {})[key.id] = made[-1]
        return made

    def update(self, milestone: Milestone) -> Milestone:
        assert milestone.key is not None
        self.ledgers[milestone.key.container_id][milestone.key.id] = milestone
        return milestone

    def delete(self, key: MilestoneKey) -> None:
        del self.ledgers[key.container_id][key.id]


def _ledger_spec(platform: Platform) -> PlatformSpec:
    return PlatformSpec(
        platform=platform,
        label="Ledger",
        compared_fields=("title", "amount", "due"),
        triggers=TriggerRules(native=frozenset({TriggerKind.FIXED_DATE})),
        write_mode=WriteMode.PER_ITEM,
    )


@pytest.fixture
def ledger() -> Iterator[Platform]:
    platform = add_platform("ledger", _ledger_spec)
    yield platform
    remove_platform(platform)


@pytest.fixture
def kantata() -> Iterator[tuple[KantataSandbox, KantataClient]]:
    sandbox = KantataSandbox()
    with sandbox.http_client() as http:
        yield sandbox, KantataClient("token", http_client=http)


def _usd(text: str) -> Money:
    return Money(text, "USD")


def test_a_ledger_schedule_is_mirrored_into_kantata_then_kept_in_step(
    ledger: Platform, kantata: tuple[KantataSandbox, KantataClient]
) -> None:
    sandbox, client = kantata
    view = LedgerView(ledger)
    view.create("book-1", [Milestone(title="Deposit", amount=_usd("300.00"), due=dt.date(2027, 2, 1))])
    view.create("book-1", [Milestone(title="Delivery", amount=_usd("700.00"), due=dt.date(2027, 5, 1))])
    workspace = sandbox.add_workspace("Ledger mirror", currency="USD")
    clients = {ledger: view, Platform.KANTATA: client}
    pair = SyncPair(ledger, "book-1", Platform.KANTATA, workspace)
    store = LinkStore(":memory:")

    plan = plan_sync(pair, *load_sides(pair, clients), store)
    assert plan.counts()["create"] == 2, plan.to_json_text()
    assert apply_plan(plan, clients, store).ok
    stored = sorted((m["title"], m["amount_in_cents"], m["date_to_invoice"]) for m in sandbox.milestones.values())
    assert stored == [("Delivery", 70000, "2027-05-01"), ("Deposit", 30000, "2027-02-01")]
    assert plan_sync(pair, *load_sides(pair, clients), store).is_noop

    deposit = next(m for m in view.list("book-1") if m.title == "Deposit")
    view.update(deposit.model_copy(update={"amount": _usd("350.00")}))
    plan = plan_sync(pair, *load_sides(pair, clients), store)
    assert plan.counts()["update"] == 1, plan.to_json_text()
    assert apply_plan(plan, clients, store).ok
    assert sorted(m["amount_in_cents"] for m in sandbox.milestones.values()) == [35000, 70000]


def test_kantata_milestones_land_in_the_ledger_with_sync_keys_that_survive_a_lost_link_store(
    ledger: Platform, kantata: tuple[KantataSandbox, KantataClient]
) -> None:
    sandbox, client = kantata
    workspace = sandbox.add_workspace("Source project", currency="USD")
    sandbox.add_milestone(workspace, "Kick-off", 125050, date_to_invoice="2027-03-01")
    sandbox.add_milestone(workspace, "Go-live", 374950, date_to_invoice="2027-06-01")
    view = LedgerView(ledger)
    clients = {ledger: view, Platform.KANTATA: client}
    pair = SyncPair(Platform.KANTATA, workspace, ledger, "book-2")
    store = LinkStore(":memory:")

    plan = plan_sync(pair, *load_sides(pair, clients), store)
    assert plan.counts()["create"] == 2, plan.to_json_text()
    assert apply_plan(plan, clients, store).ok
    written = sorted((m.title, str(m.amount), m.due) for m in view.list("book-2"))
    assert written == [
        ("Go-live", "3749.50 USD", dt.date(2027, 6, 1)),
        ("Kick-off", "1250.50 USD", dt.date(2027, 3, 1)),
    ]
    assert all(m.key is not None and m.key.platform is ledger for m in view.list("book-2"))

    # The spec says the Ledger keeps sync keys: with the link store gone, its milestones are adopted by key.
    again = plan_sync(pair, *load_sides(pair, clients), LinkStore(":memory:"))
    assert again.counts()["create"] == 0, again.to_json_text()


def test_an_added_platform_is_a_platform_value_everywhere_but_the_built_in_list(ledger: Platform) -> None:
    assert Platform("ledger") is ledger
    assert MilestoneKey.parse("ledger:book-1/7").platform is ledger
    assert str(MilestoneKey(platform="ledger", id="7", container_id="book-1")) == "ledger:book-1/7"
    assert spec_for(ledger).label == "Ledger"
    assert list(Platform) == BUILT_IN  # the config's choices and the direction matrix do not grow


def test_a_removed_platform_is_gone_and_a_built_in_one_cannot_be_removed() -> None:
    platform = add_platform("scratch", _ledger_spec)
    remove_platform(platform)
    with pytest.raises(ValueError, match="scratch"):
        Platform("scratch")
    with pytest.raises(KeyError):
        spec_for(platform)
    with pytest.raises(ValidationError, match="not added with add_platform") as caught:
        remove_platform(Platform.KANTATA)
    assert caught.value.field == "platform"
    assert spec_for(Platform.KANTATA).label == "Kantata"


@pytest.mark.parametrize("value", ["Ledger", "ledger:x", "led/ger", "", "9ledger", "kantata", "x" * 33])
def test_a_malformed_or_taken_platform_value_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        add_platform(value, _ledger_spec)
    assert caught.value.field == "platform"
    assert list(Platform) == BUILT_IN


def test_a_spec_built_for_another_platform_is_refused_and_nothing_is_added() -> None:
    def wrong(platform: Platform) -> PlatformSpec:
        return _ledger_spec(Platform.KANTATA)

    with pytest.raises(ValidationError, match="names"):
        add_platform("mislabelled", wrong)
    with pytest.raises(ValueError, match="mislabelled"):
        Platform("mislabelled")
