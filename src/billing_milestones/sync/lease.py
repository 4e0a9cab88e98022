"""One writer per pair: a lease (owner, heartbeat, expiry) held in the link store while a run writes.

Two runs of one pair at once (a cron job overlapping the previous run, two terminals) would both plan
"create" for the same source milestones and both write them: every invoice sent twice. A run therefore takes
the pair's lease before it plans a write and keeps it until the last write is recorded. A second run waits up
to ``wait`` seconds, then raises :class:`PairBusyError` having written nothing. A crashed run stops its
heartbeat, so its lease expires after ``ttl`` seconds and the next run proceeds (its intents and the sync keys
on the target make that rerun safe).

The lease itself is stored by the link store's backend (:class:`LeaseBackend`), which decides atomically who
holds it; this module only drives it: acquiring with a deadline, renewing on a heartbeat thread, and refusing
the next write once the lease is no longer ours. A holder that was killed on this same machine (its
process is gone, or only a zombie its parent has not reaped, in this PID namespace of this booted machine) is
not waited for: its lease is freed at once. On PostgreSQL the backend also takes over, in its take, a lease
whose holder's store session the server has ended, wherever that holder ran (``store._pg_statements``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NoReturn, Protocol, Self

from ..errors import LeaseLostError, PairBusyError, ValidationError

__all__ = ["DEFAULT_LEASE_TTL", "DEFAULT_LEASE_WAIT", "Lease", "LeaseBackend", "LeaseHolder", "new_owner"]

#: Seconds a lease lives without a heartbeat; the heartbeat renews it every third of that.
DEFAULT_LEASE_TTL: Final = 60.0
#: Seconds a second run waits for the pair before giving up.
DEFAULT_LEASE_WAIT: Final = 0.0
_POLL: Final = 0.2


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a pair's lease and until when (seconds since the epoch, and as ISO text for messages)."""

    pair_id: str
    owner: str
    expires_at: float

    @property
    def expires_text(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_at))


class LeaseBackend(Protocol):
    """What a link store offers so a :class:`Lease` can be driven on it; each call is atomic."""

    def try_lease(self, pair_id: str, owner: str, ttl: float) -> LeaseHolder:
        """Take the lease if it is free, expired or already ours; return whoever holds it afterwards."""
        ...

    def renew_lease(self, pair_id: str, owner: str, ttl: float) -> bool:
        """Extend our lease; False when it is no longer ours (expired and taken, or released)."""
        ...

    def release_lease(self, pair_id: str, owner: str) -> None:
        """Give the lease up if it is ours."""
        ...


def _pid_namespace() -> str:
    """This process's PID namespace (Linux: the inode of ``/proc/self/ns/pid``); "" where it cannot be read.

    Containers on one host can share its host name (Docker's ``network_mode: host``, Kubernetes'
    ``hostNetwork``) while each has PID numbers of its own: a process id only means something beside the
    namespace it was read in."""
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return ""
    return "".join(ch for ch in link if ch.isdigit())


def _boot_id() -> str:
    """This machine's boot (Linux: ``/proc/sys/kernel/random/boot_id``, 16 of its hex digits); "" where it
    cannot be read. A namespace's number only means something on the machine it was read on: every Linux
    host's initial namespace has the same one (4026531836), and containers' come from a small range too, so
    two machines of one host name (cloned VMs, replicas given one ``hostname:``) can show the same namespace.
    The boot id is the same for every container of a host and differs between hosts (and reboots)."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as booted:
            text = booted.read()
    except (OSError, ValueError):
        return ""
    return "".join(ch for ch in text.lower() if ch in "0123456789abcdef")[:16]


_NAMESPACE: Final = _pid_namespace()
_BOOT: Final = _boot_id()
#: Where this process's id means something (``namespace.boot``; "" when either is unknown), written into every
#: owner name, so :func:`_died_here` only judges owners whose process ids it can see.
_PLACE: Final = f"{_NAMESPACE}.{_BOOT}" if _NAMESPACE and _BOOT else ""


def new_owner() -> str:
    """An owner name that says where a run is (host and process) and is unique per run: ``host:pid:run``,
    the run part ending with ``-`` and the PID namespace and boot id (``namespace.boot``) where known."""
    run = uuid.uuid4().hex[:8]
    if _PLACE:
        run = f"{run}-{_PLACE}"
    return f"{socket.gethostname()}:{os.getpid()}:{run}"


def _died_here(owner: str) -> bool:
    """True when ``owner`` names a process on this host, in this PID namespace and boot of this machine, that
    no longer exists. An owner from another namespace or machine, or one that does not say (older versions
    wrote no boot id, or nothing), is never judged: its lease is waited out (its process id may be alive
    where this process cannot see it)."""
    rest = owner.split(":")
    if len(rest) != 3 or rest[0] != socket.gethostname() or not rest[1].isdigit():
        return False
    if not _PLACE or rest[2].rpartition("-")[2] != _PLACE:
        return False
    pid = int(rest[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return _exited(pid)  # someone else's: alive unless it only waits to be reaped
    return _exited(pid)


def _exited(pid: int) -> bool:
    """True when process ``pid`` has exited and only waits for its parent to reap it (a zombie), which
    ``os.kill(pid, 0)`` cannot tell from a live process. A zombie holds nothing: its code no longer runs and
    its sockets were closed when it exited. Linux shows each thread's state in ``/proc/PID/task/TID/stat``;
    the process has exited when every thread left is a zombie (``Z``) or dead (``X``). Every thread, not
    only the first: a main thread that ended while other threads run shows ``Z`` for the process's own
    id, and those threads may be writing. False (alive, today's signal check) where ``/proc`` is not this
    process's PID namespace's (another system, a foreign mount) or a state cannot be read (a process reaped
    meanwhile is found gone by the next look)."""
    try:
        if os.readlink("/proc/self") != str(os.getpid()):
            return False
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:  # no /proc, or the process hidden from us (``hidepid``): alive, as far as we can tell
        return False
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat", encoding="ascii", errors="replace") as stat:
                text = stat.read()
        except FileNotFoundError:
            continue  # that thread ended meanwhile
        except OSError:
            return False
        fields = text.rpartition(")")[2].split()  # after "pid (comm)", where comm may hold ")" or spaces
        if not fields or fields[0] not in ("Z", "X", "x"):
            return False
    return True


class Lease:
    """A held lease: a context manager that renews itself and tells a writer whether it may still write."""

    def __init__(
        self,
        backend: LeaseBackend,
        pair_id: str,
        *,
        owner: str | None = None,
        ttl: float = DEFAULT_LEASE_TTL,
        wait: float = DEFAULT_LEASE_WAIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise ValidationError(f"lease ttl must be a positive number of seconds, got {ttl!r}", field="lease_ttl")
        if isinstance(wait, bool) or not isinstance(wait, int | float) or not wait >= 0:
            raise ValidationError(f"lease wait must be zero or more seconds, got {wait!r}", field="lease_wait")
        self.backend = backend
        self.pair_id = pair_id
        self.owner = owner or new_owner()
        self.ttl = float(ttl)
        self.wait = float(wait)
        self._clock = clock
        self._sleep = sleep
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._held = False
        self._heart: threading.Thread | None = None

    # -- acquiring ----------------------------------------------------------------------------------
    def acquire(self) -> Self:
        """Take the lease, waiting up to ``wait`` seconds for another holder; PairBusyError after that."""
        deadline = self._clock() + self.wait
        while True:
            holder = self.backend.try_lease(self.pair_id, self.owner, self.ttl)
            if holder.owner == self.owner:
                break
            if _died_here(holder.owner):
                # Killed on this machine (SIGKILL, OOM): no need to wait out its ttl. Free its lease, retry.
                self.backend.release_lease(self.pair_id, holder.owner)
                continue
            if self._clock() >= deadline:
                raise PairBusyError(
                    f"pair {self.pair_id} is being synced by another run ({holder.owner}, lease until "
                    f"{holder.expires_text}); nothing was written. Wait for it, or rerun with a longer wait",
                    pair_id=self.pair_id,
                    owner=holder.owner,
                    expires_at=holder.expires_text,
                )
            self._sleep(min(_POLL, max(0.0, deadline - self._clock())))
        self._held = True
        self._heart = threading.Thread(target=self._beat, name=f"bm-lease-{self.pair_id}", daemon=True)
        self._heart.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3) and not self._lost.is_set():
            try:
                still_ours = self.backend.renew_lease(self.pair_id, self.owner, self.ttl)
            except Exception:  # a store that cannot be reached cannot vouch for the lease
                still_ours = False
            if not still_ours:
                self._lost.set()
                return

    # -- using --------------------------------------------------------------------------------------
    @property
    def held(self) -> bool:
        return self._held and not self._lost.is_set()

    def ensure(self) -> None:
        """Raise LeaseLostError unless the lease is still ours: called before every write."""
        if not self._held:
            raise LeaseLostError(f"pair {self.pair_id}: no lease is held by this run", pair_id=self.pair_id)
        if self._lost.is_set() or not self.backend.renew_lease(self.pair_id, self.owner, self.ttl):
            self.lose()

    def lose(self, why: str | None = None) -> NoReturn:
        """Raise LeaseLostError (``why``, else the lease expired or was taken over), the lease recorded as
        lost: a store call found it no longer ours (or the heartbeat could not renew it, or the store could not
        vouch for it in time). From then on the heartbeat renews nothing and every write of the run is refused
        without asking the store, whatever its row says (``held`` is False)."""
        self._lost.set()
        raise LeaseLostError(
            why
            or f"pair {self.pair_id}: this run's lease expired or was taken over; stopped before the next "
            "write. Rerun the sync: what was written is linked or found by its sync key",
            pair_id=self.pair_id,
        )

    # -- releasing ----------------------------------------------------------------------------------
    def release(self) -> None:
        self._stop.set()
        if self._heart is not None:
            self._heart.join()
            self._heart = None
        if self._held:
            self._held = False
            self.backend.release_lease(self.pair_id, self.owner)

    def __enter__(self) -> Self:
        return self if self._held else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"Lease(pair_id={self.pair_id!r}, owner={self.owner!r}, held={self.held})"
