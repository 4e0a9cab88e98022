"""What a planned action says about itself, and the plan a script or a person reads (sync/actions.py).

Built from actions made by hand, not by the planner, so every rule here is pinned on its own: which action
writes (the count apply sends and the JSON's ``writes``), which title and amount a person is shown, the
plan's counts, findings and no-op verdict, the JSON's keys and the table's rows. These are the rules the
mutation run (mutation/targets.py) found nobody checked.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from billing_milestones import Milestone, MilestoneKey, MilestoneStatus, Money, Platform
from billing_milestones.model import ChangeKind, FieldChange
from billing_milestones.sync import ActionKind, ConflictPolicy, Link, SyncPair
from billing_milestones.sync.actions import KEEPS_SYNC_KEY, PLAN_SCHEMA_VERSION, WRITES, PlannedAction, SyncPlan
from billing_milestones.sync.translate import FieldDiff

D = dt.date(2026, 12, 1)
PAIR = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")
KEY = "sk-1"


def ms(
    title: str = "M",
    *,
    platform: Platform | None = Platform.KANTATA,
    id: str = "5",
    amount: str | None = "100.00",
    due: dt.date | None = D,
    sync_key: str | None = None,
    **kw: object,
) -> Milestone:
    key = None if platform is None else MilestoneKey(platform=platform, id=id, container_id="900")
    m = Milestone(
        key=key,
        title=title,
        amount=None if amount is None else Money(amount, "USD"),
        percentage=Decimal(10) if amount is None else None,
        due=due,
        **kw,
    )
    return m.with_sync_key(sync_key) if sync_key else m


def act(kind: ActionKind, **kw: object) -> PlannedAction:
    return PlannedAction(kind, KEY, "why", **kw)  # type: ignore[arg-type]


def plan_of(*actions: PlannedAction, **kw: object) -> SyncPlan:
    return SyncPlan(PAIR, actions, **kw)  # type: ignore[arg-type]


DIFF = (FieldDiff("amount", Money("1.00", "USD"), Money("2.00", "USD")),)


# -- the vocabulary a script reads ------------------------------------------------------------------------
def test_the_action_names_and_the_schema_version_are_what_the_plan_json_documents() -> None:
    assert [k.value for k in ActionKind] == [
        "create",
        "update",
        "delete",
        "adopt",
        "skip-locked",
        "conflict",
        "duplicate",
        "unchanged",
    ]
    assert PLAN_SCHEMA_VERSION == 1
    assert {ActionKind.CREATE, ActionKind.UPDATE, ActionKind.DELETE, ActionKind.ADOPT} == WRITES
    # Kantata keeps an external reference, Autotask a description marker; crm.com identifies by stage.
    assert {Platform.KANTATA, Platform.AUTOTASK} == KEEPS_SYNC_KEY


# -- which actions write ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "writes"),
    [
        (ActionKind.CREATE, True),
        (ActionKind.UPDATE, True),
        (ActionKind.SKIP_LOCKED, False),
        (ActionKind.CONFLICT, False),
        (ActionKind.UNCHANGED, False),
    ],
)
def test_create_and_update_write_and_findings_never_do(kind: ActionKind, writes: bool) -> None:
    assert act(kind, source=ms(), target=ms(), desired=ms()).writes is writes


def test_a_delete_writes_only_when_there_is_a_target_left_to_delete() -> None:
    assert act(ActionKind.DELETE, target=ms()).writes
    assert not act(ActionKind.DELETE).writes  # gone on both sides: only the link is forgotten


def test_a_duplicate_writes_only_when_it_is_being_fixed() -> None:
    assert act(ActionKind.DUPLICATE, target=ms(), fix=True).writes
    assert not act(ActionKind.DUPLICATE, target=ms()).writes


def test_an_adoption_writes_its_diff_but_never_to_a_billed_target() -> None:
    ours = ms(sync_key=KEY)
    assert act(ActionKind.ADOPT, target=ours, diff=DIFF).writes
    assert not act(ActionKind.ADOPT, target=ours).writes  # already ours, nothing differs: link only
    billed = ms(sync_key="someone-else", status=MilestoneStatus.BILLED, locked=True)
    assert not act(ActionKind.ADOPT, target=billed, diff=DIFF).writes
    assert not act(ActionKind.ADOPT, diff=DIFF).writes


def test_an_adoption_marks_a_target_with_our_sync_key_only_where_the_platform_keeps_one() -> None:
    assert act(ActionKind.ADOPT, target=ms()).writes  # Kantata, no key yet: mark it
    assert act(ActionKind.ADOPT, target=ms(sync_key="an-older-key")).writes  # another key: mark it ours
    assert act(ActionKind.ADOPT, target=ms(platform=Platform.AUTOTASK)).writes
    assert not act(ActionKind.ADOPT, target=ms(platform=Platform.CRMCOM)).writes  # nowhere to keep it
    assert not act(ActionKind.ADOPT, target=ms(platform=None)).writes  # no key: nothing to write to


# -- what a person is shown -------------------------------------------------------------------------------
def test_the_title_and_milestone_shown_are_the_desired_else_the_source_else_the_target() -> None:
    d, s, t = ms("desired"), ms("source"), ms("target")
    assert act(ActionKind.UPDATE, source=s, target=t, desired=d).title == "desired"
    assert act(ActionKind.UPDATE, source=s, target=t).title == "source"
    assert act(ActionKind.DELETE, target=t).title == "target"
    assert act(ActionKind.DELETE).title == "?"
    assert act(ActionKind.UPDATE, source=s, target=t, desired=d).shown is d
    assert act(ActionKind.UPDATE, source=s, target=t).shown is s
    assert act(ActionKind.DELETE, target=t).shown is t
    assert act(ActionKind.DELETE).shown is None


# -- one action as JSON -----------------------------------------------------------------------------------
def test_an_action_as_json_names_both_sides_the_amount_shown_and_every_change() -> None:
    change = FieldChange(field="title", kind=ChangeKind.TRUNCATED, before="a long one", after="a", reason="limit")
    desired = ms("D", platform=None, amount="120.50", changes=(change,))
    source = ms("S", platform=Platform.AUTOTASK, id="1")
    action = PlannedAction(ActionKind.UPDATE, KEY, "changed", source, ms(), desired, DIFF)
    assert action.to_json() == {
        "action": "update",
        "sync_key": KEY,
        "title": "D",
        "amount": "120.50",
        "currency": "USD",
        "due": "2026-12-01",
        "writes": True,
        "reason": "changed",
        "source": "autotask:900/1",
        "target": "kantata:900/5",
        "diff": [
            {
                "field": "amount",
                "current": {"amount": "1", "currency": "USD"},
                "desired": {"amount": "2", "currency": "USD"},
            }
        ],
        "changes": [str(change)],
    }


def test_an_action_with_nothing_to_show_has_null_amount_due_and_sides() -> None:
    data = act(ActionKind.DELETE).to_json()
    assert data["title"] == "?"
    assert data["amount"] is None and data["currency"] is None and data["due"] is None
    assert data["source"] is None and data["target"] is None
    assert data["diff"] == [] and data["changes"] == [] and data["writes"] is False


def test_a_percentage_milestone_without_a_due_date_shows_no_amount_and_no_due() -> None:
    data = act(ActionKind.CREATE, desired=ms(platform=None, amount=None, due=None)).to_json()
    assert (data["amount"], data["currency"], data["due"], data["target"]) == (None, None, None, None)


def test_the_changes_listed_are_the_desired_milestones_not_the_sources() -> None:
    change = FieldChange(field="description", kind=ChangeKind.DROPPED, before="x", reason="none there")
    source = ms("S", changes=(change,))
    assert act(ActionKind.CONFLICT, source=source).to_json()["changes"] == []
    assert act(ActionKind.CREATE, source=source, desired=ms(changes=(change,))).to_json()["changes"] == [str(change)]


# -- the plan ---------------------------------------------------------------------------------------------
def test_counts_name_every_kind_in_order_and_the_summary_only_those_present() -> None:
    plan = plan_of(act(ActionKind.CREATE), act(ActionKind.CREATE), act(ActionKind.CONFLICT))
    assert list(plan.counts().items()) == [
        ("create", 2),
        ("update", 0),
        ("delete", 0),
        ("adopt", 0),
        ("skip-locked", 0),
        ("conflict", 1),
        ("duplicate", 0),
        ("unchanged", 0),
    ]
    assert plan.summary() == "2 create, 1 conflict"
    assert plan_of().summary() == ""


def test_findings_are_the_conflicts_then_the_duplicates_left_in_place() -> None:
    conflict = act(ActionKind.CONFLICT)
    fixed = act(ActionKind.DUPLICATE, target=ms(id="6"), fix=True)
    kept = act(ActionKind.DUPLICATE, target=ms(id="7"))
    plan = plan_of(kept, act(ActionKind.CREATE), fixed, conflict)
    assert plan.conflicts == [conflict]
    assert plan.duplicates == [kept, fixed]
    assert plan.findings == [conflict, kept]


def test_a_plan_has_changes_when_an_action_writes_or_a_link_is_made() -> None:
    assert plan_of(act(ActionKind.CREATE)).has_changes
    # An adoption of a crm.com stage writes nothing but records a link: still a change.
    assert plan_of(act(ActionKind.ADOPT, target=ms(platform=Platform.CRMCOM))).has_changes
    assert not plan_of(act(ActionKind.UNCHANGED), act(ActionKind.CONFLICT), act(ActionKind.DELETE)).has_changes
    assert not plan_of().has_changes


@pytest.mark.parametrize(
    ("kinds", "noop"),
    [
        ((), True),
        ((ActionKind.UNCHANGED, ActionKind.SKIP_LOCKED), True),
        ((ActionKind.UNCHANGED, ActionKind.CONFLICT), False),  # a conflict needs a person
        ((ActionKind.DUPLICATE,), False),
        ((ActionKind.DELETE,), False),
        ((ActionKind.ADOPT,), False),
    ],
)
def test_a_plan_is_a_noop_only_when_everything_is_unchanged_or_locked(
    kinds: tuple[ActionKind, ...], noop: bool
) -> None:
    assert plan_of(*(act(k) for k in kinds)).is_noop is noop


def test_a_plan_is_stamped_in_utc_to_the_second_when_made() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = dt.datetime.fromisoformat(plan_of().created_at)
    assert stamp.utcoffset() == dt.timedelta(0) and stamp.microsecond == 0
    assert before <= stamp <= dt.datetime.now(dt.UTC)
    assert plan_of().policy is ConflictPolicy.REPORT and plan_of().links_version is None


def test_the_plan_json_carries_the_pair_policy_notes_and_every_action_in_order() -> None:
    first, second = act(ActionKind.CREATE, desired=ms("a")), act(ActionKind.DELETE)
    plan = plan_of(first, second, policy=ConflictPolicy.SOURCE_WINS, created_at="T", notes=("guard", "two"))
    text = plan.to_json_text()
    assert text == json.dumps(plan.to_json(), indent=2)
    assert json.loads(text) == {
        "schema_version": 1,
        "pair": "autotask:77->kantata:900",
        "policy": "source-wins",
        "created_at": "T",
        "counts": plan.counts(),
        "notes": ["guard", "two"],
        "actions": [first.to_json(), second.to_json()],
    }


# -- the table --------------------------------------------------------------------------------------------
def _rows(plan: SyncPlan) -> list[list[str]]:
    table = plan.table()
    columns = [[str(c) for c in col.cells] for col in table.columns]
    return [list(row) for row in zip(*columns, strict=True)]


def test_the_table_has_one_styled_row_per_action_under_its_pair() -> None:
    kinds = list(ActionKind)
    plan = plan_of(*(act(k, desired=ms(f"t{i}")) for i, k in enumerate(kinds)))
    table = plan.table()
    assert str(table.title) == "Sync plan autotask:77->kantata:900"
    assert [str(c.header) for c in table.columns] == ["action", "title", "amount", "due", "detail"]
    assert [r.style for r in table.rows] == [
        "green",
        "yellow",
        "red",
        "cyan",
        "magenta",
        "bold red",
        "bold red",
        "dim",
    ]
    assert _rows(plan)[0] == ["create", "t0", "100.00 USD", "2026-12-01", "why"]


def test_a_table_row_shows_the_diff_instead_of_the_reason_and_the_translations_notes() -> None:
    long = "x" * 41
    diff = (*DIFF, FieldDiff("title", long, "x" * 40))
    change = FieldChange(field="title", kind=ChangeKind.TRUNCATED, reason="limit")
    plan = plan_of(act(ActionKind.UPDATE, desired=ms(changes=(change,)), diff=diff))
    (row,) = _rows(plan)
    assert row[4] == f"amount: 1.00 USD -> 2.00 USD; title: {'x' * 37}... -> {'x' * 40} (title truncated)"


def test_an_unchanged_row_keeps_its_reason_without_the_translations_notes() -> None:
    change = FieldChange(field="description", kind=ChangeKind.DROPPED, reason="none there")
    plan = plan_of(act(ActionKind.UNCHANGED, desired=ms(changes=(change,))))
    assert _rows(plan)[0][4] == "why"


def test_a_table_row_with_nothing_shown_leaves_amount_and_due_blank_and_escapes_markup() -> None:
    plan = plan_of(
        act(ActionKind.DELETE),
        act(ActionKind.CREATE, desired=ms("[b]bold[/b]", platform=None, amount=None, due=None)),
        PlannedAction(ActionKind.CONFLICT, KEY, "[red]not markup[/red]"),
    )
    rows = _rows(plan)
    assert rows[0] == ["delete", "?", "", "", "why"]
    assert rows[1] == ["create", r"\[b]bold\[/b]", "", "", "why"]
    assert rows[2][4] == r"\[red]not markup\[/red]"


def test_a_link_is_carried_on_the_action_for_apply() -> None:
    link = Link(PAIR.id, KEY, "autotask:77/1", "kantata:900/5", "s", "t")
    assert act(ActionKind.UPDATE, link=link).link is link and act(ActionKind.UPDATE).link is None


def test_a_row_lists_every_translation_note_and_rows_are_not_ruled_apart() -> None:
    notes = (
        FieldChange(field="title", kind=ChangeKind.TRUNCATED, reason="limit"),
        FieldChange(field="description", kind=ChangeKind.DROPPED, reason="none there"),
    )
    plan = plan_of(act(ActionKind.CREATE, desired=ms(changes=notes)), act(ActionKind.DELETE))
    assert _rows(plan)[0][4] == "why (title truncated, description dropped)"
    table = plan.table()
    assert not table.show_lines  # one line per action: a long plan stays readable in a terminal
