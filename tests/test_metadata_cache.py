"""MetadataCache on its own: hits, expiry, the size bound, forgetting, and keys that show no secret."""

from __future__ import annotations

import threading

import pytest

from billing_milestones import errors
from billing_milestones._metadata_cache import MetadataCache, tenant_key


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_hit_until_the_ttl_then_a_miss_that_drops_it() -> None:
    clock = Clock()
    cache = MetadataCache(ttl=10, clock=clock)
    cache.put("k", "v")
    clock.now = 109.999
    assert cache.get("k") == "v" and len(cache) == 1
    clock.now = 110.0
    assert cache.get("k") is None and len(cache) == 0


def test_put_again_restarts_the_ttl() -> None:
    clock = Clock()
    cache = MetadataCache(ttl=10, clock=clock)
    cache.put("k", 1)
    clock.now = 105.0
    cache.put("k", 2)
    clock.now = 114.0
    assert cache.get("k") == 2


def test_at_most_max_entries_the_oldest_dropped_first() -> None:
    cache = MetadataCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 3)  # refreshed: now the newest
    cache.put("c", 4)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (3, None, 4)


def test_forget_and_clear() -> None:
    cache = MetadataCache()
    cache.put("a", 1)
    cache.put("b", 2)
    cache.forget("a", "missing")
    assert (cache.get("a"), cache.get("b")) == (None, 2)
    cache.clear()
    assert len(cache) == 0


def test_keys_are_digests_that_separate_every_part() -> None:
    secret = "s3cret-value-123"
    key = tenant_key("autotask.picklist", "https://host", "api@x.test", secret)
    assert secret not in key and "api@x.test" not in key and key.startswith("autotask.picklist:")
    assert key == tenant_key("autotask.picklist", "https://host", "api@x.test", secret)
    assert key != tenant_key("autotask.picklist", "https://host", "api@x.test", secret + "x")
    assert tenant_key("k", "ab", "c") != tenant_key("k", "a", "bc")
    assert tenant_key("zone", "u") != tenant_key("picklist", "u")


def test_repr_shows_no_key_or_value() -> None:
    cache = MetadataCache(ttl=30)
    cache.put(tenant_key("k", "secret-part"), "value-secret")
    assert repr(cache) == "MetadataCache(ttl=30, entries=1, max_entries=1024)"


@pytest.mark.parametrize("bad", [{"ttl": 0}, {"ttl": -1}, {"ttl": True}, {"max_entries": 0}, {"max_entries": 1.5}])
def test_bad_settings_are_refused_by_name(bad: dict[str, object]) -> None:
    with pytest.raises(errors.ValidationError) as info:
        MetadataCache(**bad)  # type: ignore[arg-type]
    assert info.value.field == next(iter(bad))


def test_concurrent_puts_and_gets_stay_consistent() -> None:
    cache = MetadataCache(max_entries=50)

    def work(n: int) -> None:
        for i in range(500):
            cache.put(f"{n}:{i % 60}", i)
            cache.get(f"{n}:{(i * 7) % 60}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50
