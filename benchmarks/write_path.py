"""Write-path benchmark: the common view's create of one 50-milestone bulk POST against raw httpx posting the
same body and ``json.loads`` of the same answer, on the loopback server of the read rows
(benchmarks/static_server.py, its own process, answering a canned bulk create). Figures are this process's
CPU time, the median of interleaved rounds (see ``read_path.paired``)."""

from __future__ import annotations

import datetime as dt
import json

import httpx
from read_path import WORKSPACE, paired, static_server
from static_server import CREATED, milestone, reference

from billing_milestones import KantataClient, Milestone, Money
from billing_milestones.kantata._flows import VIEW_INCLUDES


def common(i: int) -> Milestone:
    """The common milestone whose create the static server's canned answer holds at position ``i``."""
    wire, ref = milestone(i), reference(i)
    cents = wire["amount_in_cents"]
    return Milestone(
        title=wire["title"],
        amount=Money.from_minor(cents, "USD"),
        due=dt.date.fromisoformat(wire["date_to_invoice"]),
    ).with_sync_key(ref["service_model_ref"])


def wire_body(i: int) -> dict[str, object]:
    """What the SDK sends for :func:`common` ``(i)``: the baseline posts these, encoded per call."""
    wire, ref = milestone(i), reference(i)
    return {
        "title": wire["title"],
        "amount_in_cents": wire["amount_in_cents"],
        "workspace_id": int(WORKSPACE),
        "date_to_invoice": wire["date_to_invoice"],
        "billing_type": "fixed_date",
        "external_reference": {
            "service_name": ref["service_name"],
            "service_model": ref["service_model"],
            "service_model_ref": ref["service_model_ref"],
            "status": "successful",
        },
    }


def bench_create(rounds: int = 11, calls: int = 5) -> list[str]:
    milestones = [common(i) for i in range(CREATED)]
    bodies = [wire_body(i) for i in range(CREATED)]
    with static_server(1) as url, httpx.Client() as raw, KantataClient("t", base_url=url) as client:
        params = {"include": ",".join(VIEW_INCLUDES)}
        headers = {"Content-Type": "application/json"}

        def raw_create() -> object:
            content = json.dumps({"billing_milestones": bodies}).encode()
            answer = raw.post(f"{url}/billing_milestones", params=params, content=content, headers=headers)
            return json.loads(answer.content)

        def sdk_create() -> object:
            return client.milestones.create(WORKSPACE, milestones)

        made = client.milestones.create(WORKSPACE, milestones)  # also reads the workspace, once, before timing
        assert [m.sync_key for m in made] == [m.sync_key for m in milestones]
        ours, base = paired(sdk_create, raw_create, rounds, calls)
    return [
        f"common view create of one {CREATED}-milestone bulk POST: ours {ours * 1e3:.2f} ms, raw httpx POST of the "
        f"same body + json.loads {base * 1e3:.2f} ms -> ratio {ours / base:.2f}, extra {(ours - base) * 1e3:.2f} ms"
    ]


if __name__ == "__main__":
    print("\n".join(bench_create()))
