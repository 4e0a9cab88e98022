"""The link-store tier of the tenant metadata on its own, over SQLite and a real PostgreSQL: stable keys that
show no part, expiry by the writer's wall clock, values never trusted, and drops."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from billing_milestones._metadata_cache import MetadataCache, tenant_key
from billing_milestones._metadata_store import CLOCK_SKEW, KIND, Loaded, PersistedMetadata, stable_key
from billing_milestones.sync import LinkStore


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


KEY = stable_key("autotask.zone", "https://webservices.autotask.net", "api@tenant.test")


def test_stable_keys_are_the_same_in_another_process_and_show_no_part() -> None:
    code = (
        "from billing_milestones._metadata_store import stable_key;"
        "from billing_milestones._metadata_cache import tenant_key;"
        "print(stable_key('autotask.zone', 'https://webservices.autotask.net', 'api@tenant.test'));"
        "print(tenant_key('autotask.zone', 'https://webservices.autotask.net', 'api@tenant.test'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    theirs_stable, theirs_process = done.stdout.split()
    assert theirs_stable == KEY  # another process finds the entry
    assert theirs_process != tenant_key("autotask.zone", "https://webservices.autotask.net", "api@tenant.test")
    assert "api@tenant.test" not in KEY and "autotask.net" not in KEY and KEY.startswith("autotask.zone:")
    assert stable_key("k", "ab", "c") != stable_key("k", "a", "bc")
    assert stable_key("zone", "u") != stable_key("picklist", "u")


def test_an_entry_reads_back_from_another_store_on_the_same_target(store_url: str) -> None:
    clock = Clock()
    with LinkStore(store_url) as store:
        PersistedMetadata(store, ttl=600, clock=clock).save(KEY, {"url": "https://x", "n": [1, 2]})
    clock.now += 100
    with LinkStore(store_url) as other:  # as another process opens it
        found = PersistedMetadata(other, ttl=600, clock=clock).load(KEY)
    assert found is not None and found.data == {"url": "https://x", "n": [1, 2]}
    assert found.remaining == pytest.approx(500)


def test_an_entry_expires_ttl_seconds_after_it_was_written(store_url: str) -> None:
    clock = Clock()
    with LinkStore(store_url) as store:
        tier = PersistedMetadata(store, ttl=60, clock=clock)
        tier.save(KEY, 1)
        clock.now += 59.999
        assert tier.load(KEY) is not None
        clock.now += 0.001
        assert tier.load(KEY) is None
        tier.save(KEY, 2)  # written again: a new life
        assert tier.load(KEY) == Loaded(2, 60.0)


def test_a_stamp_from_the_future_is_taken_within_the_skew_only(store_url: str) -> None:
    writer, reader = Clock(), Clock()
    with LinkStore(store_url) as store:
        PersistedMetadata(store, ttl=60, clock=writer).save(KEY, "v")
        reader.now = writer.now - CLOCK_SKEW  # the writer's clock was ahead by the whole allowance
        found = PersistedMetadata(store, ttl=60, clock=reader).load(KEY)
        assert found is not None and found.remaining == 60.0  # never more than one TTL from now
        reader.now = writer.now - CLOCK_SKEW - 1
        assert PersistedMetadata(store, ttl=60, clock=reader).load(KEY) is None


@pytest.mark.parametrize(
    "value",
    [
        "not json {",
        "[]",
        '"text"',
        json.dumps({"format": 1, "key": KEY, "at": 1_000_000.0}),  # no data
        json.dumps({"format": 2, "key": KEY, "at": 1_000_000.0, "data": 1}),  # a later format
        json.dumps({"format": 1, "key": "autotask.zone:other", "at": 1_000_000.0, "data": 1}),  # copied here
        json.dumps({"format": 1, "key": KEY, "at": True, "data": 1}),
        json.dumps({"format": 1, "key": KEY, "at": "1000000", "data": 1}),
        json.dumps({"format": 1, "key": KEY, "at": float("nan"), "data": 1}),  # NaN, which json writes
        json.dumps({"format": 1, "key": KEY, "at": 1_000_000.0, "data": 1, "extra": 1}),
    ],
)
def test_a_corrupt_or_foreign_value_reads_as_a_miss(store_url: str, value: str) -> None:
    with LinkStore(store_url) as store:
        store.remember(KIND, KEY, value)
        assert PersistedMetadata(store, ttl=60, clock=Clock()).load(KEY) is None


def test_drop_forgets_those_entries_only(store_url: str) -> None:
    other = stable_key("autotask.picklist", "x")
    with LinkStore(store_url) as store:
        tier = PersistedMetadata(store, ttl=60, clock=Clock())
        tier.save(KEY, 1)
        tier.save(other, 2)
        store.remember("crmcom-draft", KEY, "kept")  # another kind under the same name
        tier.drop(KEY, "never-written")
        assert tier.load(KEY) is None and store.recall(KIND, KEY) is None
        assert tier.load(other) is not None and store.recall("crmcom-draft", KEY) == "kept"


def test_the_repr_shows_no_key_or_value(store_url: str) -> None:
    with LinkStore(store_url) as store:
        assert repr(PersistedMetadata(store, ttl=30)) == "PersistedMetadata(ttl=30)"


def test_a_put_for_less_than_the_ttl_expires_sooner_and_never_later() -> None:
    clock = Clock(0.0)
    cache = MetadataCache(ttl=60, clock=clock)
    cache.put("short", 1, ttl=10)
    cache.put("capped", 2, ttl=600)
    clock.now = 10.0
    assert (cache.get("short"), cache.get("capped")) == (None, 2)
    clock.now = 60.0
    assert cache.get("capped") is None
