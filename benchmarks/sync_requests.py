"""Requests a first sync of n new Autotask milestones into an empty Kantata workspace sends, against the
minimum: the listing pages (500 a page on Autotask, 200 on Kantata) and the creates (100 per POST).
Everything else is metadata (zone, picklists, the contract, the workspace), which a client should fetch
once and share across pairs."""

from __future__ import annotations

import collections
import re

from billing_milestones import AutotaskClient, KantataClient, Platform
from billing_milestones.sandbox import AutotaskSandbox, KantataSandbox
from billing_milestones.sync import LinkStore, SyncPair, apply_plan, load_sides, plan_sync


def bench_sync_requests(n: int) -> str:
    autotask = AutotaskSandbox()
    contract = autotask.add_contract(name="Bench", currency="USD")
    for i in range(n):
        autotask.add_milestone(contract, title=f"M{i}", amount=f"{i}.50")
    kantata = KantataSandbox()
    workspace = kantata.add_workspace("Bench", currency="USD")
    with (
        AutotaskClient(
            AutotaskSandbox.USERNAME,
            AutotaskSandbox.SECRET,
            AutotaskSandbox.INTEGRATION_CODE,
            currency="USD",
            http_client=autotask.http_client(),
        ) as source,
        KantataClient("t", http_client=kantata.http_client()) as target,
    ):
        clients = {Platform.AUTOTASK: source, Platform.KANTATA: target}
        pair = SyncPair(Platform.AUTOTASK, str(contract), Platform.KANTATA, str(workspace), allow_drop=True)
        plan = plan_sync(pair, *load_sides(pair, clients))
        apply_plan(plan, clients, LinkStore(":memory:"))
    assert plan.counts()["create"] == n, plan.counts()
    minimum = -(-n // 500) + 1 + -(-n // 100)
    log = [(e.method, re.sub(r"\d+", "N", e.path)) for sb in (autotask, kantata) for e in sb.request_log]
    extra = collections.Counter(
        f"{method} {path}"
        for method, path in log
        if not path.endswith(("/query", "/query/next")) and path != "/billing_milestones"
    )
    return (
        f"requests for a sync of {n:,} new milestones into Kantata: ours {len(log)}, minimum {minimum} "
        f"-> ratio {len(log) / minimum:.3f} (metadata: {dict(extra)})"
    )


if __name__ == "__main__":
    print(bench_sync_requests(10_000))
