"""Request metrics: one structured record per HTTP attempt on ``billing_milestones.metrics`` (issue 14).

Each runner test runs sync and async; the platform tests send through each real client (all three platforms,
both twins) against the in-process sandboxes, with canary secrets that must appear in no record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from billing_milestones import (
    METRICS_LOGGER,
    AsyncAutotaskClient,
    AsyncCrmComClient,
    AsyncKantataClient,
    AutotaskClient,
    CrmComClient,
    KantataClient,
    errors,
)
from billing_milestones._http import (
    AsyncRunner,
    ClientCore,
    RequestSpec,
    RetryPolicy,
    SyncRunner,
    _metrics,
    secret_value,
)
from billing_milestones._http._metrics import path_template
from billing_milestones.sandbox import AutotaskSandbox, CrmComSandbox, KantataSandbox

from ._three_sandboxes import three_sandboxes

TOKEN = "tok-METRICS-CANARY-5e4d3c"
FIELDS = {
    "bm_event",
    "bm_platform",
    "bm_method",
    "bm_path",
    "bm_status",
    "bm_error",
    "bm_duration_s",
    "bm_attempt",
    "bm_retried",
    "bm_request_id",
}
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """The metrics records of the test, the metrics logger on at INFO (and off again after)."""
    caplog.set_level(logging.INFO, logger=METRICS_LOGGER)
    out: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            out.append(record)

    keep = Keep()
    metrics = logging.getLogger(METRICS_LOGGER)
    metrics.addHandler(keep)
    yield out
    metrics.removeHandler(keep)


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in FIELDS}


def core(max_retries: int = 2) -> ClientCore:
    token = secret_value(TOKEN, field="token")
    return ClientCore(
        platform="testplat",
        base_url=httpx.URL("https://api.example.com/v1"),
        credentials=lambda: {"Authorization": f"Bearer {token.get_secret_value()}"},
        retry=RetryPolicy(max_retries=max_retries, jitter=0.0),
    )


def send(mode: str, handler: Handler, spec: RequestSpec, max_retries: int = 2) -> Any:
    """Send ``spec`` through a sync or an async runner over a mock transport (waits recorded, not slept)."""
    transport = httpx.MockTransport(handler)
    if mode == "sync":
        with httpx.Client(transport=transport) as http:
            return SyncRunner(core(max_retries), http, sleep=lambda s: None).request(spec)

    async def run() -> Any:
        async def asleep(seconds: float) -> None:
            return None

        async with httpx.AsyncClient(transport=transport) as ahttp:
            return await AsyncRunner(core(max_retries), ahttp, sleep=asleep).request(spec)

    return asyncio.run(run())


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@MODES
def test_a_success_is_one_record_with_every_field(mode: str, records: list[logging.LogRecord]) -> None:
    def ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True}, headers={"x-request-id": "req-77"})

    send(mode, ok, RequestSpec("GET", "/workspaces/123456/stories.json", params={"page": 2}))
    assert len(records) == 1
    record = records[0]
    assert record.name == METRICS_LOGGER and record.levelno == logging.INFO
    got = fields(record)
    assert isinstance(got.pop("bm_duration_s"), float)
    assert got == {
        "bm_event": "http_request",
        "bm_platform": "testplat",
        "bm_method": "GET",
        "bm_path": "/v1/workspaces/{id}/stories.json",
        "bm_status": 200,
        "bm_error": None,
        "bm_attempt": 0,
        "bm_retried": False,
        "bm_request_id": "req-77",
    }
    assert "page" not in record.getMessage() and "123456" not in record.getMessage()


@MODES
def test_a_retried_503_is_two_records_the_first_retried(mode: str, records: list[logging.LogRecord]) -> None:
    queue = [httpx.Response(503, json={"message": "busy"})]

    def flaky(request: httpx.Request) -> httpx.Response:
        return queue.pop(0) if queue else httpx.Response(201, json={"id": 1})

    send(mode, flaky, RequestSpec("PUT", "/orders/0b7c6f0e-3d2a-4f1e-9c8b-7a6d5e4f3a2b"))
    got = [fields(r) for r in records]
    assert [(g["bm_status"], g["bm_attempt"], g["bm_retried"]) for g in got] == [(503, 0, True), (201, 1, False)]
    assert {g["bm_path"] for g in got} == {"/v1/orders/{id}"}
    assert all(g["bm_request_id"] is None and g["bm_error"] is None for g in got)


@MODES
def test_a_final_failure_is_not_marked_retried(mode: str, records: list[logging.LogRecord]) -> None:
    with pytest.raises(errors.InternalServerError):
        send(mode, lambda r: httpx.Response(503, json={}), RequestSpec("GET", "/things"), max_retries=1)
    assert [(r.bm_status, r.bm_retried) for r in records] == [(503, True), (503, False)]  # type: ignore[attr-defined]


@MODES
def test_a_connection_error_records_its_class_and_no_status(mode: str, records: list[logging.LogRecord]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused (token {TOKEN})", request=request)

    with pytest.raises(errors.APIConnectionError):
        send(mode, refuse, RequestSpec("GET", "/things"), max_retries=1)
    got = [fields(r) for r in records]
    assert [(g["bm_error"], g["bm_status"], g["bm_attempt"], g["bm_retried"]) for g in got] == [
        ("ConnectError", None, 0, True),
        ("ConnectError", None, 1, False),
    ]
    assert "ConnectError" in records[0].getMessage()


@MODES
def test_a_request_refused_before_sending_leaves_no_record(mode: str, records: list[logging.LogRecord]) -> None:
    with pytest.raises(errors.UntrustedHostError):
        send(mode, lambda r: httpx.Response(200), RequestSpec("GET", "https://evil.example.net/v1/x"))
    assert records == []


@MODES
def test_off_the_logger_costs_one_level_check_and_no_meter(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    metrics = logging.getLogger(METRICS_LOGGER)
    before = metrics.level
    metrics.setLevel(logging.WARNING)  # off even if BILLING_MILESTONES_LOG turned the package's logger on
    checks: list[int] = []
    real = _metrics.logger.isEnabledFor

    def counted(level: int) -> bool:
        checks.append(level)
        return real(level)

    def no_meter(platform: str) -> None:
        raise AssertionError("a meter was made for a disabled logger")

    monkeypatch.setattr(_metrics.logger, "isEnabledFor", counted)
    monkeypatch.setattr(_metrics, "Meter", no_meter)
    queue = [httpx.Response(503, json={})]
    try:
        send(mode, lambda r: queue.pop(0) if queue else httpx.Response(200, json={}), RequestSpec("GET", "/x"))
    finally:
        metrics.setLevel(before)
    assert checks == [logging.INFO]  # once per call, not per attempt
    assert not queue  # the retry really ran


def test_path_templates_drop_ids_but_keep_versions_and_words() -> None:
    secret_value(TOKEN, field="token")  # registered, as every client registers its credentials
    assert path_template("/ATServicesRest/V1.0/Contracts/29683001/Milestones") == (
        "/ATServicesRest/V1.0/Contracts/{id}/Milestones"
    )
    assert path_template("/api/v1/workspaces/42.json") == "/api/v1/workspaces/{id}.json"
    assert path_template("/backoffice/v2/orders/0b7c6f0e-3d2a-4f1e-9c8b-7a6d5e4f3a2b") == "/backoffice/v2/orders/{id}"
    assert path_template("/ATServicesRest/V1.0/ContractMilestones/query/next") == (
        "/ATServicesRest/V1.0/ContractMilestones/query/next"
    )
    assert path_template("/v1/deadbeefdeadbeefcafe") == "/v1/deadbeefdeadbeefcafe"  # no digit: a word
    assert path_template(f"/v1/echo/{TOKEN}") == "/v1/echo/<redacted>"


# -- the three platforms, both twins ------------------------------------------------------------------------

KANTATA_TOKEN = "kt-METRICS-CANARY-91ab"
AUTOTASK_SECRET = "at-METRICS-CANARY-secret"
AUTOTASK_CODE = "ATMETRICSCANARY77"


def _sandboxes() -> tuple[KantataSandbox, str, AutotaskSandbox, int, CrmComSandbox, str]:
    w = three_sandboxes(
        "Metrics", kantata_token=KANTATA_TOKEN, autotask_secret=AUTOTASK_SECRET, autotask_code=AUTOTASK_CODE
    )
    return w.kantata, w.workspace, w.autotask, w.contract, w.crmcom, w.crmcom_key


def _check_platform_records(records: list[logging.LogRecord], canaries: tuple[str, ...]) -> None:
    by_platform = {r.bm_platform for r in records}  # type: ignore[attr-defined]
    assert by_platform == {"kantata", "autotask", "crmcom"}
    for record in records:
        got = fields(record)
        assert got["bm_event"] == "http_request" and got["bm_duration_s"] >= 0
        assert "?" not in got["bm_path"]
        text = " ".join([record.getMessage(), *(str(v) for v in got.values()), repr(record.__dict__)])
        for canary in canaries:
            assert canary not in text, canary
    # Autotask: zone discovery (unauthenticated) and the listing; crm.com: a 401 (an order needs a contact token).
    assert any(r.bm_platform == "crmcom" and r.bm_status == 401 for r in records)  # type: ignore[attr-defined]
    assert any("/Contracts/{id}" in r.bm_path or "ContractMilestones" in r.bm_path for r in records)  # type: ignore[attr-defined]


UNKNOWN_ORDER = "0b7c6f0e-3d2a-4f1e-9c8b-7a6d5e4f3a2b"


def test_every_platform_records_its_requests_and_no_secret(records: list[logging.LogRecord]) -> None:
    kantata, workspace, autotask, contract, crmcom, key = _sandboxes()
    with KantataClient(KANTATA_TOKEN, http_client=kantata.http_client()) as k:
        assert len(list(k.milestones.list(workspace))) == 1
    with AutotaskClient(
        AutotaskSandbox.USERNAME, AUTOTASK_SECRET, AUTOTASK_CODE, currency="USD", http_client=autotask.http_client()
    ) as a:
        assert list(a.milestones.list(str(contract))) == []
    with CrmComClient(key, http_client=crmcom.http_client()) as c, pytest.raises(errors.APIStatusError):
        c.orders.get(UNKNOWN_ORDER)
    _check_platform_records(records, (KANTATA_TOKEN, AUTOTASK_SECRET, AUTOTASK_CODE, key))


async def test_every_async_platform_records_its_requests_and_no_secret(records: list[logging.LogRecord]) -> None:
    kantata, workspace, autotask, contract, crmcom, key = _sandboxes()
    async with AsyncKantataClient(KANTATA_TOKEN, http_client=kantata.async_http_client()) as k:
        assert len([m async for m in k.milestones.list(workspace)]) == 1
    async with AsyncAutotaskClient(
        AutotaskSandbox.USERNAME,
        AUTOTASK_SECRET,
        AUTOTASK_CODE,
        currency="USD",
        http_client=autotask.async_http_client(),
    ) as a:
        assert [m async for m in a.milestones.list(str(contract))] == []
    async with AsyncCrmComClient(key, http_client=crmcom.async_http_client()) as c:
        with pytest.raises(errors.APIStatusError):
            await c.orders.get(UNKNOWN_ORDER)
    _check_platform_records(records, (KANTATA_TOKEN, AUTOTASK_SECRET, AUTOTASK_CODE, key))


@MODES
def test_a_query_secret_never_reaches_a_record(mode: str, records: list[logging.LogRecord]) -> None:
    """A secret in the query string (a login by URL) stays out: the record keeps the path alone."""
    secret = "qs-METRICS-CANARY-0042"
    spec = RequestSpec("GET", "/login", params={"password": secret, "api_key": secret})
    send(mode, lambda r: httpx.Response(200, json={}, headers={"x-request-id": "r-1"}), spec)
    assert len(records) == 1
    assert secret not in repr(records[0].__dict__) and secret not in records[0].getMessage()
    assert records[0].bm_path == "/v1/login"  # type: ignore[attr-defined]
