"""The refusal verdict (``PairRunRefused``: the job fails at once) on the two write paths
``test_run_refused`` leaves out: the removal of a duplicate (``fix_duplicates``) and crm.com's whole-set
write. Each path's failed write must keep its exception (``ActionResult.cause``), which alone tells a
refusal (not retried) from a platform that was down (retried)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import pytest

from billing_milestones import Platform, errors
from billing_milestones.crmcom.client import CrmComMilestones
from billing_milestones.kantata.client import KantataMilestones
from billing_milestones.sandbox import FaultPlan
from billing_milestones.sync.store import LinkStore
from billing_milestones.workers import (
    TRANSIENT,
    PairRunIncomplete,
    PairRunRefused,
    WorkerApp,
    enqueue_pairs,
    run_pair,
)

from .conftest import Deployment
from .test_worker import burst, jobs

#: Refused for what was sent (400, 422) or for who sent it (403): a rerun would send it again.
REFUSALS = [400, 403, 422]


def _error(status: int, platform: str, method: str) -> errors.APIStatusError:
    cls = errors.status_error_class(status)
    return cls(f"answered {status}", platform=platform, method=method, path="/x", status_code=status)


# -- a duplicate's removal (Kantata, fix_duplicates) ------------------------------------------------------
def _with_a_duplicate(deployment: Deployment) -> None:
    """The erp pair fixing duplicates, linked, and one of its Kantata milestones copied, sync key and all."""
    deployment.config.write_text(
        deployment.config.read_text().replace("[pairs.erp]\n", "[pairs.erp]\nfix_duplicates = true\n", 1)
    )
    run_pair(deployment.settings(), "erp")
    world = deployment.world
    with ExitStack() as stack:
        view = world.clients(stack)[Platform.KANTATA].milestones
        first = next(iter(view.list(world.erp_workspace)))
        assert first.sync_key is not None
        view.create(world.erp_workspace, [first.model_copy(update={"key": None, "raw": {}})])


def _deletes_answer(monkeypatch: pytest.MonkeyPatch, status: int) -> list[Any]:
    sent: list[Any] = []

    def delete(self: KantataMilestones, key: Any) -> None:
        sent.append(key)
        raise _error(status, "kantata", "DELETE")

    monkeypatch.setattr(KantataMilestones, "delete", delete)
    return sent


@pytest.mark.parametrize("status", REFUSALS)
def test_a_duplicate_removal_refused_fails_the_run_as_refused(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    _with_a_duplicate(deployment)
    sent = _deletes_answer(monkeypatch, status)
    with pytest.raises(PairRunRefused, match=r"pair erp: 1 write\(s\) refused .*not retried"):
        run_pair(deployment.settings(), "erp")
    assert len(sent) == 1  # the copy's removal, the run's only write


def test_a_duplicate_removal_whose_platform_is_down_is_retried(deployment: Deployment) -> None:
    _with_a_duplicate(deployment)
    deployment.world.kantata.faults = FaultPlan().status(503, method="DELETE", times=60)
    with pytest.raises(PairRunIncomplete, match=r"pair erp: 1 write\(s\) failed") as info:
        run_pair(deployment.settings(), "erp")
    assert isinstance(info.value, TRANSIENT)


def test_a_worker_fails_a_refused_duplicate_removal_after_one_attempt(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_a_duplicate(deployment)
    _deletes_answer(monkeypatch, 403)
    settings = deployment.settings()
    enqueue_pairs(settings, ["erp"])
    burst(WorkerApp(settings))  # retries = 3 in the deployment's config
    (job,) = jobs(deployment.links)
    assert (job["status"], job["attempts"]) == ("failed", 1)


# -- crm.com's whole-set write --------------------------------------------------------------------------
def _with_a_crmcom_target(deployment: Deployment) -> None:
    """A pair ``bill``: a new Autotask contract's three milestones to crm.com's draft, one per stage."""
    world = deployment.world
    (queue,) = world.crmcom.queues.values()
    contract = world.autotask.add_contract(name="Website billing", currency="USD")
    due = {}
    for day, stage in enumerate(queue.stages, start=1):
        world.autotask.add_milestone(contract, title=f"Stage {day}", amount="100.00", date_due=dt.date(2027, 1, day))
        due[stage.id] = f"2027-01-{day:02}"  # a TOML date
    dates = ", ".join(f'"{stage}" = {day}' for stage, day in due.items())
    deployment.config.write_text(
        deployment.config.read_text()
        + f'\n[pairs.bill]\nsource = "autotask:{contract}"\ntarget = "crmcom:website"\n'
        + f"[pairs.bill.triggers]\ndue_dates = {{ {dates} }}\n"
    )


def _replaces_answer(monkeypatch: pytest.MonkeyPatch, status: int) -> list[int]:
    sent: list[int] = []

    def replace(self: CrmComMilestones, container_id: str, milestones: Sequence[Any]) -> list[Any]:
        sent.append(len(milestones))
        raise _error(status, "crmcom", "POST")

    monkeypatch.setattr(CrmComMilestones, "replace", replace)
    return sent


@pytest.mark.parametrize("status", REFUSALS)
def test_a_whole_set_write_refused_fails_the_run_as_refused(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    _with_a_crmcom_target(deployment)
    sent = _replaces_answer(monkeypatch, status)
    with pytest.raises(PairRunRefused, match=r"pair bill: 3 write\(s\) refused .*not retried"):
        run_pair(deployment.settings(), "bill")
    assert sent == [3]  # the whole set, once
    with LinkStore(deployment.links) as store:
        assert [run.ok for run in store.runs()] == [False]


def test_a_whole_set_write_whose_platform_is_down_is_retried(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_a_crmcom_target(deployment)
    _replaces_answer(monkeypatch, 503)
    with pytest.raises(PairRunIncomplete, match=r"pair bill: 3 write\(s\) failed") as info:
        run_pair(deployment.settings(), "bill")
    assert isinstance(info.value, TRANSIENT)


def test_the_whole_set_pair_syncs_when_nothing_fails(deployment: Deployment) -> None:
    """The pair the tests above refuse is one crm.com takes as it is: their refusal is the patched one."""
    _with_a_crmcom_target(deployment)
    assert run_pair(deployment.settings(), "bill")["writes"] == 3


def test_a_worker_fails_a_refused_whole_set_write_after_one_attempt(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_a_crmcom_target(deployment)
    _replaces_answer(monkeypatch, 422)
    settings = deployment.settings()
    enqueue_pairs(settings, ["bill"])
    burst(WorkerApp(settings))
    (job,) = jobs(deployment.links)
    assert (job["status"], job["attempts"]) == ("failed", 1)
