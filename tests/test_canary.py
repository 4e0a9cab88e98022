"""Canary secrets never surface: a failing and a succeeding sync with DEBUG logging on every logger, then a
search of every log line, error text and repr, the plan and result JSON and the link store file (issue 12)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from contextlib import ExitStack
from pathlib import Path

import pytest

from billing_milestones import AutotaskClient, KantataClient, Platform, errors
from billing_milestones.sandbox import AutotaskSandbox, KantataSandbox
from billing_milestones.sync import LinkStore, SyncPair, apply_plan, load_sides, plan_sync

TOKEN = "kt-CANARY-7f3a9e1b"
SECRET = "at-CANARY-secret-42"
CODE = "ATCANARYCODE0042"
CANARIES = (TOKEN, SECRET, CODE)


def test_no_secret_in_logs_errors_reprs_json_or_the_store(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kantata = KantataSandbox(tokens=[TOKEN])
    autotask = AutotaskSandbox()
    autotask.users = {AutotaskSandbox.USERNAME: SECRET}
    autotask.integration_codes = {CODE}
    workspace = kantata.add_workspace("Canary", currency="USD")
    kantata.add_milestone(workspace, "Kick-off", 400_000, date_to_invoice=dt.date(2027, 1, 15))
    contract = autotask.add_contract(name="Canary", currency="USD")
    seen: list[str] = []
    caplog.set_level(logging.DEBUG)  # every logger, ours and httpx's
    with ExitStack() as stack, LinkStore(tmp_path / "links.sqlite3") as store:
        clients: dict[Platform, KantataClient | AutotaskClient] = {
            Platform.KANTATA: stack.enter_context(KantataClient(TOKEN, http_client=kantata.http_client())),
            Platform.AUTOTASK: stack.enter_context(
                AutotaskClient(
                    AutotaskSandbox.USERNAME, SECRET, CODE, currency="USD", http_client=autotask.http_client()
                )
            ),
        }
        seen += [repr(c) for c in clients.values()] + [str(c.milestones) for c in clients.values()]
        # A failing run: a contract that does not exist.
        bad = SyncPair(Platform.KANTATA, workspace, Platform.AUTOTASK, "999999")
        with pytest.raises(errors.NotFoundError) as failure:
            load_sides(bad, clients)
        seen += [str(failure.value), repr(failure.value), repr(failure.value.body), repr(failure.value.__dict__)]
        # A failing request with the wrong credentials, and its error.
        with (
            pytest.raises(errors.AuthenticationError) as denied,
            KantataClient("kt-wrong-0000", http_client=kantata.http_client()) as wrong,
        ):
            list(wrong.milestones.list(workspace))
        seen += [str(denied.value), repr(denied.value.__dict__)]
        # A succeeding run.
        pair = SyncPair(Platform.KANTATA, workspace, Platform.AUTOTASK, str(contract))
        plan = plan_sync(pair, *load_sides(pair, clients), store)
        result = apply_plan(plan, clients, store)
        assert result.ok and result.writes == 1
        seen += [plan.to_json_text(), json.dumps(result.to_json()), repr(plan), repr(result), repr(store)]
    seen += [record.getMessage() for record in caplog.records] + [caplog.text]
    assert len(caplog.records) > 5  # DEBUG logging really ran
    store_bytes = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for canary in CANARIES:
        assert all(canary not in text for text in seen), canary
        assert canary.encode() not in store_bytes, canary
