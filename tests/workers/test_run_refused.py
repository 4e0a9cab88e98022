"""A run whose every failed write the platform refused for what it sent fails its job at once
(``PairRunRefused``, not retried); one failure a rerun may mend keeps the retries (``PairRunIncomplete``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest

from billing_milestones import errors
from billing_milestones.kantata.client import KantataMilestones
from billing_milestones.sandbox import FaultPlan
from billing_milestones.sync import ActionResult
from billing_milestones.sync.store import LinkStore
from billing_milestones.workers import (
    REFUSED,
    TRANSIENT,
    PairRunIncomplete,
    PairRunRefused,
    WorkerApp,
    enqueue_pairs,
    run_pair,
    run_worker,
)
from billing_milestones.workers._run import failed_run

from .conftest import Deployment
from .test_worker import jobs

_SENT: list[int] = []


def _refused(status: int) -> errors.APIStatusError:
    cls = {400: errors.BadRequestError, 403: errors.PermissionDeniedError, 404: errors.NotFoundError}.get(status)
    if cls is None:
        return errors.UnprocessableEntityError(
            "Title can't be blank", platform="kantata", method="POST", path="/billing_milestones", status_code=status
        )
    return cls("refused", platform="kantata", method="POST", path="/billing_milestones", status_code=status)


def _creates_refused(monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    def create(self: KantataMilestones, container_id: str, milestones: Sequence[Any], **_: Any) -> list[Any]:
        _SENT.append(len(milestones))
        raise _refused(status)

    monkeypatch.setattr(KantataMilestones, "create", create)


@pytest.mark.parametrize("status", [400, 403, 422])
def test_writes_refused_for_what_they_sent_fail_the_run_without_a_retry(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    _creates_refused(monkeypatch, status)
    with pytest.raises(PairRunRefused, match=r"pair erp: \d+ write\(s\) refused .*not retried") as info:
        run_pair(deployment.settings(), "erp")
    assert not isinstance(info.value, TRANSIENT) and isinstance(info.value, errors.SyncError)
    assert _SENT and info.value.pair_id == "erp"
    with LinkStore(deployment.links) as store:
        (run,) = store.runs()
    assert run.ok is False and run.finished_at  # the history says the run failed


def test_a_target_that_changed_under_the_run_is_retried(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    _creates_refused(monkeypatch, 404)  # the rerun lists the target again and plans anew
    with pytest.raises(PairRunIncomplete):
        run_pair(deployment.settings(), "erp")


def test_one_failure_a_rerun_may_mend_keeps_the_retries(deployment: Deployment) -> None:
    # Kantata down for every create: a 5xx is first of all a platform that is down.
    deployment.world.kantata.faults = FaultPlan().status(503, method="POST", times=60)
    with pytest.raises(PairRunIncomplete) as info:
        run_pair(deployment.settings(), "erp")
    assert isinstance(info.value, TRANSIENT)


def test_refused_names_no_outage() -> None:
    outages = (errors.InternalServerError, errors.RateLimitError, errors.APIConnectionError, errors.NotFoundError)
    assert not any(issubclass(cls, REFUSED) for cls in outages)


def _kantata(cls: type[errors.APIStatusError], status: int) -> errors.APIStatusError:
    return cls("refused", platform="kantata", method="PUT", path="/billing_milestones/{id}", status_code=status)


def test_a_target_changed_under_the_run_or_our_own_checks_keep_the_retries() -> None:
    """An invoice made after the listing (the next run lists the milestone as locked and leaves it), and our
    own checks, which the write's call also raises reading the reply of a write that landed (the rerun finds
    it by its sync key): retried, never failed as refused."""
    invoiced = _kantata(errors.MilestoneInvoicedError, 422)
    known = errors.InvoicedMilestoneRefusedError(
        "invoiced", platform="kantata", method="PUT", path="/billing_milestones/{id}"
    )
    ours = [errors.ValidationError("amount: not a number", field="amount"), errors.TranslationError("currency")]
    for cause in (invoiced, known, *ours):
        assert type(failed_run("erp", [_failure(cause)])) is PairRunIncomplete, type(cause).__name__
    for cause in (_kantata(errors.BadRequestError, 400), _kantata(errors.AuthenticationError, 401)):
        assert isinstance(failed_run("erp", [_failure(cause)]), PairRunRefused)


def test_a_worker_fails_a_refused_pair_after_one_attempt(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    _creates_refused(monkeypatch, 422)
    settings = deployment.settings()
    worker = WorkerApp(settings)  # retries = 3 in the deployment's config
    enqueue_pairs(settings, ["erp"])
    run_worker(worker, burst=True, install_signal_handlers=False, heartbeat=1.0)
    (job,) = jobs(deployment.links)
    assert (job["status"], job["attempts"]) == ("failed", 1)


def _failure(cause: errors.BillingMilestonesError | None) -> ActionResult:
    return ActionResult(cast(Any, None), ok=False, error=str(cause or "crm.com did not return it"), cause=cause)


def test_one_failure_not_refused_among_refused_ones_keeps_the_retries() -> None:
    refused, down = (
        _refused(422),
        errors.InternalServerError(
            "down", platform="kantata", method="POST", path="/billing_milestones", status_code=503
        ),
    )
    assert isinstance(failed_run("erp", [_failure(refused), _failure(refused)]), PairRunRefused)
    for mixed in ([_failure(refused), _failure(down)], [_failure(down), _failure(refused)], [_failure(None)]):
        assert type(failed_run("erp", mixed)) is PairRunIncomplete
    assert "(first: Title can't be blank" in str(failed_run("erp", [_failure(refused)]))


def test_an_update_refused_for_what_it_sent_fails_the_run_too(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_pair(deployment.settings(), "erp")  # linked
    world = deployment.world
    source = next(m for m in world.autotask.milestones.values() if m["contractID"] == world.contract_id)
    source["amount"] = "12345.00"

    def update(self: KantataMilestones, milestone: Any, **_: Any) -> Any:
        raise _refused(422)

    monkeypatch.setattr(KantataMilestones, "update", update)
    with pytest.raises(PairRunRefused, match=r"pair erp: 1 write\(s\) refused"):
        run_pair(deployment.settings(), "erp")


def test_a_delete_refused_for_who_sent_it_fails_the_run_too(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_pair(deployment.settings(), "erp")  # linked
    world = deployment.world
    gone = next(i for i, m in world.autotask.milestones.items() if m["contractID"] == world.contract_id)
    del world.autotask.milestones[gone]  # deleted in the source: the plan deletes its Kantata copy

    def delete(self: KantataMilestones, key: Any) -> None:
        raise _refused(403)

    monkeypatch.setattr(KantataMilestones, "delete", delete)
    with pytest.raises(PairRunRefused, match=r"pair erp: 1 write\(s\) refused"):
        run_pair(deployment.settings(), "erp")
