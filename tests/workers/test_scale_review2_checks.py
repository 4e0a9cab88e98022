"""The scale run's checks detect what they claim (benchmarks/scale_sandbox.py, scale_history.py, scale.py).

- "0 lost, 0 duplicated": a workspace missing a milestone, holding one twice, or holding one whose amount
  or due date is not its contract's is caught (titles alone were compared: a wrong amount passed);
- "never a fourth concurrent Autotask request": measured by the emulator's own refusals, which a 4th request
  in flight on one endpoint always draws (3 do not), as the scale run's ``sandbox serve`` is started;
- the report is not OK on any of those, nor on a kill that caught no run, a killed run not closed as lost,
  or an Autotask request sent uncharged to the shared hourly budget.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import threading
from typing import Any

import httpx
import pytest

from billing_milestones import AutotaskClient, KantataClient, Milestone, Money
from billing_milestones.demo import KANTATA_TOKEN

from .test_scale import _scale

_SCALE = _scale()  # puts benchmarks/ on the path, as scale.py runs
_CHECKS = importlib.import_module("scale_sandbox")
check_pair, check_pairs = _CHECKS.check_pair, _CHECKS.check_pairs
serve_scaled, served, stop_if_running = _CHECKS.serve_scaled, _CHECKS.served, _CHECKS.stop_if_running

D = dt.date(2027, 1, 1)


def _m(title: str, amount: str = "100.25", due: dt.date | None = D) -> Milestone:
    return Milestone(title=title, amount=Money(amount, "USD"), due=due)


def test_a_lost_a_duplicated_and_a_wrong_milestone_are_each_counted() -> None:
    source = [_m("P0 M0"), _m("P0 M1", "101.25"), _m("P0 M2", "102.25")]
    assert check_pair(source, list(source)) == (0, 0, 0)
    assert check_pair(source, source[:2]) == (1, 0, 0)
    assert check_pair(source, [*source, source[1]]) == (0, 1, 0)
    assert check_pair(source, [*source, _m("P9 M0")]) == (0, 1, 0)  # another pair's milestone
    assert check_pair(source, [source[0], _m("P0 M1", "999.00"), source[2]]) == (0, 0, 1)
    assert check_pair(source, [source[0], source[1], _m("P0 M2", "102.25", D.replace(day=9))]) == (0, 0, 1)
    assert check_pair(source, [source[0], source[1], _m("P0 M2", "102.25", None)]) == (0, 0, 1)  # undated


def test_check_pairs_reads_both_sides_over_http_and_counts_what_each_workspace_gets_wrong() -> None:
    sandbox, started = serve_scaled(3, 4, 0.0, 0.0)
    try:
        env: dict[str, str] = started["environment"]
        seeded: list[list[Any]] = started["seeded"]["scale"]["pairs"]
        with (
            AutotaskClient(
                env["AUTOTASK_USERNAME"],
                env["AUTOTASK_SECRET"],
                env["AUTOTASK_INTEGRATION_CODE"],
                base_url=env["AUTOTASK_BASE_URL"],
                currency="USD",
            ) as autotask,
            KantataClient(KANTATA_TOKEN, base_url=env["KANTATA_BASE_URL"]) as kantata,
        ):
            for p, (contract, workspace) in enumerate(seeded):
                made = [m.model_copy(update={"key": None}) for m in autotask.milestones.list(str(contract))]
                if p == 1:  # one duplicated, one lost
                    made = [*made[:-1], made[0]]
                if p == 2:  # one with another amount
                    made[1] = made[1].model_copy(update={"amount": Money("1.00", "USD")})
                kantata.milestones.create(str(workspace), made, allow_drop=True)
        found = check_pairs(env, seeded, 4)
        assert (found.synced, found.lost, found.duplicated, found.wrong) == (1, 1, 1, 1)
        assert found.kantata_requests > 0 and found.autotask_requests > 0
        assert check_pairs(env, seeded, 5).synced == 0  # each contract short of the milestones it should hold
    finally:
        stop_if_running(sandbox)


@pytest.mark.parametrize(("in_flight", "refused"), [(3, 0), (4, 1)])
def test_a_fourth_concurrent_autotask_request_is_refused_and_counted(in_flight: int, refused: int) -> None:
    sandbox, started = serve_scaled(1, 1, 0.5, 0.0)  # each request held 0.5 s: all of them in flight at once
    try:
        env: dict[str, str] = started["environment"]
        ((contract, _),) = started["seeded"]["scale"]["pairs"]
        headers = {k: env[f"AUTOTASK_{v}"] for k, v in (("UserName", "USERNAME"), ("Secret", "SECRET"))}
        headers["ApiIntegrationCode"] = env["AUTOTASK_INTEGRATION_CODE"]
        url = f"{env['AUTOTASK_BASE_URL']}/Contracts/{contract}/Milestones"
        start = threading.Barrier(in_flight)
        statuses: list[int] = []

        def send() -> None:
            with httpx.Client(headers=headers, timeout=30) as http:
                start.wait()
                statuses.append(http.get(url).status_code)

        threads = [threading.Thread(target=send) for _ in range(in_flight)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200] * (in_flight - refused) + [429] * refused
        assert served(sandbox)["autotask"]["refused_by_limits"] == refused
    finally:
        stop_if_running(sandbox)


def test_the_report_is_not_ok_on_any_failure_it_claims_to_detect() -> None:
    good = _SCALE.ScaleReport(
        pairs=8,
        milestones=6,
        workers=2,
        killed=True,
        synced_pairs=8,
        lost=0,
        duplicated=0,
        wrong=0,
        failed_jobs=0,
        run_rows=10,
        open_runs=0,
        killed_runs=2,
        killed_runs_lost=2,
        autotask_requests=20,
        autotask_charged=20,
        autotask_throttled=0,
        autotask_hourly_threshold=10_000,
        kantata_requests=40,
        wall_seconds=5.0,
        floor_seconds=1.0,
        kill_asked=True,
    )
    assert good.ok and dataclasses.replace(good, killed=False, kill_asked=False, killed_runs=0, killed_runs_lost=0).ok
    for change in (
        {"synced_pairs": 7},
        {"lost": 1},
        {"duplicated": 1},
        {"wrong": 1},
        {"failed_jobs": 1},  # a job that ended failed, its pair synced or not
        {"killed": False, "kill_asked": True, "killed_runs": 0, "killed_runs_lost": 0},  # never caught in a run
        {"open_runs": 1},
        {"run_rows": 9},  # the killed runs' rows are beside the pairs' own
        {"killed_runs": 0, "killed_runs_lost": 0},  # killed between runs: nothing was recovered
        {"killed_runs_lost": 1},  # a killed run's row closed otherwise than as lost
        {"autotask_throttled": 1},
        {"autotask_charged": 19},  # a request the shared budget never counted
        {"autotask_requests": 10_001, "autotask_charged": 10_001},
    ):
        assert not dataclasses.replace(good, **change).ok, change
