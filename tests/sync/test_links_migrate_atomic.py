"""``links migrate`` writes its destination all at once or not at all, from one consistent reading of its
source: an error on a row (or the process killed: the database rolls back its open transaction) leaves an
empty store that a second run fills; a sync writing the source between two tables is never copied half; a
sync running (its lease live) is refused."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from billing_milestones.errors import PairBusyError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.store import RunRecord
from billing_milestones.sync.store._backend import Row
from billing_milestones.sync.store._model import TABLES
from billing_milestones.sync.store.migrate import copy_store

from .test_links_migrate import every_row


def filled(url: str) -> dict[str, list[dict[str, object]]]:
    """A store with a row in every table (its lease expired: no sync is running); its rows."""
    with LinkStore(url) as store:
        store.put(Link("p", "k1", "s1", "t1", "sfp", "tfp", desired_fp="d"))
        store.finish(store.begin("p", "k9", "create"), error="refused")
        store.begin("p", "k8", "update")
        store.remember("crmcom.draft", "main", "est-42")
        store.try_lease("q", "host:1:run", ttl=-1.0)
        store.record_run(RunRecord("p", "w:1:a", "2026-12-01T10:00:00Z", "2026-12-01T10:00:02Z", created=1))
    rows = every_row(url)
    assert all(rows[t] for t in TABLES)
    return rows


def test_an_error_on_a_row_leaves_the_destination_empty_and_a_second_run_completes(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = f"sqlite:///{tmp_path / 'a.db'}"
    original = filled(source)
    load = LinkStore.load

    def failing(self: LinkStore, table: str, rows: Sequence[Row]) -> None:
        load(self, table, rows)
        if table == "runs":  # the last table: every other one was written before
            raise OSError("disk full")

    monkeypatch.setattr(LinkStore, "load", failing)
    with pytest.raises(OSError, match="disk full"):
        copy_store(source, store_url)
    assert every_row(store_url) == {t: [] for t in TABLES}  # nothing half-written
    monkeypatch.setattr(LinkStore, "load", load)
    copy_store(source, store_url)
    assert every_row(store_url) == original


def test_a_sync_writing_the_source_during_the_copy_is_never_copied_half(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run links what it created and closes its intent (one transaction) between the copy's reading of
    links and of intents: a copy of the link missing but the intent done would create it again. PostgreSQL's
    snapshot copies the store as it was before the write; a SQLite file no connection had open is read
    without a lock (immutable, so the source is never written), and a read that a write landed under is
    read again: the store as it was after the write (or before it, read under SQLite's read lock while the
    writer still had it open)."""
    destination = str(tmp_path / "b.db")
    with LinkStore(store_url) as store:
        opened = store.begin("p", "k1", "create")
    before = every_row(store_url)
    dump = LinkStore.dump
    started, wrote = threading.Event(), threading.Event()

    def write() -> None:
        with LinkStore(store_url) as writer:
            writer.put(Link("p", "k1", "s1", "t1", "a", "b"), intent_id=opened)
        wrote.set()

    def dump_then_write(self: LinkStore, table: str) -> list[Row]:
        rows = dump(self, table)
        if table == "links" and self.path != destination and not started.is_set():
            started.set()
            thread = threading.Thread(target=write)
            thread.start()
            wrote.wait(0.3)  # at once without a lock (PostgreSQL's snapshot, SQLite's immutable read)
        return rows

    monkeypatch.setattr(LinkStore, "dump", dump_then_write)
    copy_store(store_url, destination)
    assert wrote.wait(30)
    copied, after = every_row(destination), every_row(store_url)
    if store_url.startswith("postgresql"):
        assert copied == before  # the source as it was before the run's write: the intent pending, no link
        with LinkStore(destination) as store:
            assert [i.id for i in store.pending("p")] == [opened]
    else:
        assert copied in (before, after) and after != before  # never the intent done without its link


def test_a_source_whose_sync_holds_a_live_lease_is_refused(tmp_path: Path, store_url: str) -> None:
    destination = tmp_path / "b.db"
    with LinkStore(store_url) as store:
        store.put(Link("p", "k1", "s1", "t1", "a", "b"))
        store.try_lease("p", "host:7:run", ttl=600)
    with pytest.raises(PairBusyError, match="host:7:run") as info:  # the CLI: exit 3, nothing was written
        copy_store(store_url, destination)
    assert (info.value.pair_id, info.value.owner) == ("p", "host:7:run") and "Stop the syncs" in str(info.value)
    assert every_row(str(destination)) == {t: [] for t in TABLES}
    with LinkStore(store_url) as store:
        store.release_lease("p", "host:7:run")
    copy_store(store_url, destination)
    with LinkStore(destination) as store:
        assert [ln.sync_key for ln in store.links("p")] == ["k1"]
