"""reconcile(): the pair's two containers read as a report (match, differ, one-sided, untranslatable, and why),
against the in-process sandboxes, writing nothing."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from billing_milestones import Milestone, Money, Platform
from billing_milestones.demo import DemoWorld, build_demo_world
from billing_milestones.sync import (
    ConflictPolicy,
    Difference,
    Link,
    LinkStore,
    ReconcileStatus,
    SyncPair,
    apply_plan,
    load_sides,
    plan_sync,
    reconcile,
)


class World:
    def __init__(self, stack: ExitStack) -> None:
        self.demo: DemoWorld = build_demo_world()
        self.clients: dict[Platform, Any] = self.demo.clients(stack)
        self.store = stack.enter_context(LinkStore(":memory:"))
        self.pair = SyncPair(
            Platform.AUTOTASK, str(self.demo.contract_id), Platform.KANTATA, self.demo.erp_workspace, allow_drop=True
        )

    @property
    def kantata(self) -> Any:
        return self.clients[Platform.KANTATA]

    def sync(self, policy: ConflictPolicy = ConflictPolicy.REPORT) -> None:
        plan = plan_sync(self.pair, *load_sides(self.pair, self.clients), self.store, policy=policy)
        assert apply_plan(plan, self.clients, self.store).ok

    def kantata_by_title(self) -> dict[str, Milestone]:
        return {m.title: m for m in self.kantata.milestones.list(self.demo.erp_workspace)}


@pytest.fixture
def world() -> Iterator[World]:
    with ExitStack() as stack:
        yield World(stack)


def test_before_any_sync_every_source_milestone_is_source_only(world: World) -> None:
    report = reconcile(world.pair, world.clients, world.store)
    assert [e.status for e in report] == [ReconcileStatus.SOURCE_ONLY] * 4
    assert {e.reason for e in report} == {"only in the source: new in source"}
    assert not report.in_step and report.summary() == "4 source-only"


def test_after_a_sync_everything_matches(world: World) -> None:
    world.sync()
    report = reconcile(world.pair, world.clients, world.store)
    assert report.in_step and len(report) == 4
    assert {e.reason for e in report} == {"in step"}
    assert report.counts() == {"match": 4, "differ": 0, "source-only": 0, "target-only": 0, "untranslatable": 0}


def test_drift_is_reported_field_by_field_with_both_values_and_why(world: World) -> None:
    world.sync()
    kantata = world.kantata_by_title()
    world.kantata.milestones.update(kantata["User training"].model_copy(update={"amount": Money("3400.00", "USD")}))
    world.kantata.milestones.update(kantata["Data migration"].model_copy(update={"due": dt.date(2027, 4, 15)}))
    go_live = kantata["Go-live"].key
    assert go_live is not None
    world.kantata.milestones.delete(go_live)
    extra = Milestone(title="Change request 7", amount=Money("1200.00", "USD"), due=dt.date(2027, 4, 30))
    world.kantata.milestones.create(world.demo.erp_workspace, [extra])

    report = reconcile(world.pair, world.clients, world.store)
    by_title = {e.title: e for e in report}
    assert {t: e.status.value for t, e in by_title.items()} == {
        "Kick-off": "match",
        "Data migration": "differ",
        "User training": "differ",
        "Go-live": "source-only",
        "Change request 7": "target-only",
    }
    training = by_title["User training"]
    assert training.differences == (Difference("amount", Money("3250.00", "USD"), Money("3400.00", "USD")),)
    assert str(training.differences[0]) == "amount: source 3250.00 USD, target 3400.00 USD"
    assert training.reason == "amount differs: target edited outside the sync; restoring the source"
    migration = by_title["Data migration"].differences
    assert migration == (Difference("due", dt.date(2027, 3, 31), dt.date(2027, 4, 15)),)
    assert by_title["Go-live"].reason == "only in the source: deleted on the target since the last sync"
    assert by_title["Change request 7"].reason == (
        "only on the target: no source milestone, link or sync key points at it"
    )
    assert by_title["Change request 7"].planned is None and by_title["Go-live"].target is None


def test_a_difference_the_plan_accepted_still_shows(world: World) -> None:
    """Target-wins leaves the plan without a diff; the report still names the field and both values."""
    world.sync()
    training = world.kantata_by_title()["User training"]
    world.kantata.milestones.update(training.model_copy(update={"amount": Money("3400.00", "USD")}))
    world.sync(ConflictPolicy.TARGET_WINS)
    entry = {e.title: e for e in reconcile(world.pair, world.clients, world.store)}["User training"]
    assert entry.status is ReconcileStatus.DIFFER
    assert entry.differences == (Difference("amount", Money("3250.00", "USD"), Money("3400.00", "USD")),)
    assert "target-wins" in entry.reason


def test_a_source_that_cannot_be_carried_is_untranslatable_with_the_translators_reason(world: World) -> None:
    strict = SyncPair(Platform.AUTOTASK, str(world.demo.contract_id), Platform.KANTATA, world.demo.erp_workspace)
    report = reconcile(strict, world.clients)
    untranslatable = report.with_status(ReconcileStatus.UNTRANSLATABLE)
    assert sorted(e.title for e in untranslatable) == ["Kick-off", "User training"]  # the two with descriptions
    assert all("kantata milestones have no description" in e.reason for e in untranslatable)
    assert all(e.desired is None and e.source is not None for e in untranslatable)


def test_links_whose_source_is_gone_are_target_only_and_a_link_gone_on_both_sides_is_left_out(world: World) -> None:
    extra = Milestone(title="Change request 7", amount=Money("1200.00", "USD"), due=dt.date(2027, 4, 30))
    (created,) = world.kantata.milestones.create(world.demo.erp_workspace, [extra])
    pair_id = world.pair.id

    def link(n: int, target_key: str) -> Link:
        return Link(pair_id, f"bm{n:016x}", f"autotask:{world.demo.contract_id}/999{n}", target_key, "fp", "fp")

    links = [link(1, str(created.key)), link(2, f"kantata:{world.demo.erp_workspace}/404404")]
    report = reconcile(world.pair, world.clients, links)
    target_only = report.with_status(ReconcileStatus.TARGET_ONLY)
    assert [(e.title, e.reason) for e in target_only] == [("Change request 7", "only on the target: deleted in source")]
    assert len(report) == 5  # four source-only milestones and the orphan; nothing for the vanished link


def test_nothing_is_written_to_either_system_or_the_link_store(world: World) -> None:
    world.sync()
    world.kantata.milestones.update(
        world.kantata_by_title()["User training"].model_copy(update={"amount": Money("3400.00", "USD")})
    )
    before = (load_sides(world.pair, world.clients), world.store.links(world.pair.id))
    version = world.store.version(world.pair.id)
    seen = len(world.demo.kantata.request_log)
    report = reconcile(world.pair, world.clients, world.store)
    assert not report.in_step
    assert {e.method for e in world.demo.kantata.request_log[seen:]} == {"GET"}
    assert (load_sides(world.pair, world.clients), world.store.links(world.pair.id)) == before
    assert world.store.version(world.pair.id) == version


def test_json_has_counts_entries_and_both_values(world: World) -> None:
    world.sync()
    training = world.kantata_by_title()["User training"]
    world.kantata.milestones.update(training.model_copy(update={"amount": Money("3400.00", "USD")}))
    data = json.loads(reconcile(world.pair, world.clients, world.store).to_json_text())
    assert data["pair"] == world.pair.id and data["in_step"] is False
    assert data["counts"]["differ"] == 1 and data["counts"]["match"] == 3
    (entry,) = [e for e in data["entries"] if e["status"] == "differ"]
    assert entry["differences"] == [
        {
            "field": "amount",
            "source": {"amount": "3250", "currency": "USD"},
            "target": {"amount": "3400", "currency": "USD"},
        }
    ]
    assert (entry["source_amount"], entry["target_amount"], entry["planned"]) == (
        "3250.00 USD",
        "3400.00 USD",
        "update",
    )
    assert entry["target"] == str(training.key)


def test_frames_use_none_for_absent_values_never_nan(world: World) -> None:
    world.sync()
    extra = Milestone(title="Change request 7", amount=Money("1200.00", "USD"), due=dt.date(2027, 4, 30))
    world.kantata.milestones.create(world.demo.erp_workspace, [extra])
    training = world.kantata_by_title()["User training"]
    world.kantata.milestones.update(training.model_copy(update={"amount": Money("3400.00", "USD")}))
    report = reconcile(world.pair, world.clients, world.store)
    frame = report.to_frame()
    assert list(frame.columns) == [
        "status",
        "title",
        "source_amount",
        "target_amount",
        "currency",
        "source_due",
        "target_due",
        "fields",
        "reason",
    ]
    assert all(str(dtype) == "object" for dtype in frame.dtypes)
    row = frame[frame["title"] == "Change request 7"].iloc[0]
    assert row["source_amount"] is None and row["source_due"] is None and row["fields"] is None
    assert str(row["target_amount"]) == "1200.00" and row["currency"] == "USD"
    assert frame[frame["title"] == "User training"].iloc[0]["fields"] == "amount"
    diffs = report.differences_frame()
    assert diffs.to_dict("records") == [
        {"title": "User training", "field": "amount", "source": "3250.00 USD", "target": "3400.00 USD"}
    ]


def test_a_frame_without_pandas_says_which_extra_to_install(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    report = reconcile(world.pair, world.clients, world.store)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"billing-milestones\[notebooks\]"):
        report.to_frame()


def test_pandas_is_imported_only_when_a_frame_is_asked_for() -> None:
    code = "import sys, billing_milestones.sync as s; print('pandas' in sys.modules, callable(s.reconcile))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
