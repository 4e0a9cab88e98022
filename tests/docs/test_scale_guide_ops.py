"""docs/scale.md's deployment examples and the operations text around them, beyond what the examples' command
lines are (``test_scale_guide_commands``): the variables the examples set are the ones the SDK and libpq read,
the three supervisors' stop timeouts agree and outlast the waits the page counts, the Kubernetes container keeps
the image's entrypoint (the init the page asks for), and the figures of "When the database goes away" are the
code's."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # PyYAML comes with mkdocs, which these docs tests need

from billing_milestones._http import RetryPolicy
from billing_milestones.autotask import _setup as autotask_setup
from billing_milestones.kantata import _setup as kantata_setup
from billing_milestones.sync import DEFAULT_WRITE_SETTLE
from billing_milestones.sync._config_file import CONFIG_ENV
from billing_milestones.sync._store_config import LINKS_ENV
from billing_milestones.workers import PostgresLimiter, _outage

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scale.md"
TEXT = PAGE.read_text(encoding="utf-8")
LIBPQ = {"PGPASSFILE", "PGPASSWORD"}


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", TEXT, re.S)


def unit() -> dict[str, list[str]]:
    (block,) = blocks("ini")
    settings: dict[str, list[str]] = {}
    for line in block.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def seconds(duration: str | int) -> float:
    """``300``, ``300s`` or ``5m`` as seconds."""
    match = re.fullmatch(r"(\d+)(s|m)?", str(duration))
    assert match, duration
    return float(match[1]) * (60 if match[2] == "m" else 1)


def test_the_examples_set_only_variables_the_sdk_or_libpq_reads() -> None:
    compose, kube = (yaml.safe_load(block) for block in blocks("yaml"))
    worker = compose["services"]["worker"]["environment"]
    assert set(worker) <= {CONFIG_ENV, LINKS_ENV, *LIBPQ}, set(worker)
    ((name, _),) = (value.split("=", 1) for value in unit()["Environment"])
    assert name == CONFIG_ENV
    (container,) = kube["spec"]["template"]["spec"]["containers"]
    assert {env["name"] for env in container["env"]} <= {CONFIG_ENV, LINKS_ENV}
    # The secrets the page tells to put in secrets.env or the platforms' Secret are the clients' variables.
    read = {*autotask_setup.VARIABLES.values(), autotask_setup.BASE_URL_VARIABLE, kantata_setup.TOKEN_VARIABLE}
    read |= {kantata_setup.BASE_URL_VARIABLE}
    for secret in set(re.findall(r"`(AUTOTASK_[A-Z_]+|KANTATA_[A-Z_]+)", TEXT)):
        assert secret in read, f"{secret}: no client reads it"


def test_the_stop_timeouts_agree_and_outlast_a_settle_and_one_slow_call() -> None:
    compose, kube = (yaml.safe_load(block) for block in blocks("yaml"))
    (stop_sec,) = unit()["TimeoutStopSec"]
    timeouts = {
        "TimeoutStopSec": seconds(stop_sec),
        "stop_grace_period": seconds(compose["services"]["worker"]["stop_grace_period"]),
        "terminationGracePeriodSeconds": seconds(kube["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]),
    }
    assert len(set(timeouts.values())) == 1, timeouts
    (timeout,) = set(timeouts.values())
    assert f"the examples' {timeout:.0f} s covers a settle and one slow call" in " ".join(TEXT.split())
    slot_wait = inspect.signature(PostgresLimiter).parameters["max_wait"].default
    total = RetryPolicy().total_budget
    assert f"`write_settle`, {DEFAULT_WRITE_SETTLE:.0f} s by default" in TEXT
    assert f"up to {slot_wait:.0f} s for one of the tenant's slots" in " ".join(TEXT.split())
    assert f"`total_budget` ({total:.0f} s by default)" in " ".join(TEXT.split())
    assert timeout > DEFAULT_WRITE_SETTLE + max(slot_wait, total)
    assert unit()["KillSignal"] == ["SIGTERM"]


def test_the_kubernetes_container_keeps_the_images_entrypoint_and_compose_runs_an_init() -> None:
    """The page asks for an init as the image's entrypoint (a PID 1 ignores a SIGTERM it has no handler for):
    ``command`` would replace it, ``args`` runs under it."""
    compose, kube = (yaml.safe_load(block) for block in blocks("yaml"))
    (container,) = kube["spec"]["template"]["spec"]["containers"]
    assert "command" not in container and container["args"][0] == "milestones"
    assert compose["services"]["worker"]["init"] is True


def test_the_outage_figures_are_the_codes() -> None:
    paragraph = " ".join(TEXT.split("**When the database goes away.**")[1].split("\n\n")[0].split())
    assert _outage.LISTEN_RETRY == 1.0 and "tries again every second" in paragraph
    assert _outage.RECORD_RETRY == 1.0 and "recorded again every second" in paragraph
    assert "up to 30 s (the queue pool's wait) to unregister" in paragraph
    assert "exits 2" in paragraph
