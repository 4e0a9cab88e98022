"""The Kantata emulator's account state and milestone rules: workspaces, stories, milestones, references, invoices.

The checks here are the API's for a new milestone (a workspace that exists, a title, integer cents, the billing
type, a date, a story in the same workspace for ``upon_completion``, a complete external reference) and the
invoiced lock; the seeding helpers run the same checks, so a seeded milestone is one the API would accept.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from .._emulator import Emulator, Router
from .._faults import FaultPlan
from .._limits import RateLimit
from .._table import IndexedTable

__all__ = ["DEMO_TOKEN", "Record"]

Record = dict[str, Any]

_INCLUDES = frozenset({"external_references", "invoices", "story", "workspace"})
_BILLING_TYPES = ("fixed_date", "upon_completion")
_REF_STATUSES = ("successful", "pending", "failed")
_INT = re.compile(r"^-?\d+$")
_ID = re.compile(r"^\d+$")
_TZ = dt.timezone(dt.timedelta(hours=-7))
_TWO_DIGITS: Final = tuple(f"{n:02d}" for n in range(60))
#: A date's text as a new milestone's check last read it, by the text sent (``_check_date``'s answer to it).
_DATES: dict[str, str] = {}
_DATES_KEPT: Final = 4096
#: How many minutes' texts the clock keeps (a tick is a second: a long run's last few days of ticks).
_MINUTES_KEPT: Final = 10_000
#: The one bearer token a served sandbox (``milestones sandbox serve``) accepts when ``tokens`` is not given.
DEMO_TOKEN: Final = "sandbox-kantata-token"


#: The keys of a milestone as ``_insert`` stores it: ``_seq`` is its one private key.
_MILESTONE_KEYS: Final = frozenset(
    {
        "id",
        "title",
        "amount_in_cents",
        "currency",
        "billing_type",
        "date_to_invoice",
        "story_id",
        "workspace_id",
        "invoice_id",
        "created_at",
        "updated_at",
        "_seq",
    }
)


def _public(record: Record) -> Record:
    """A stored record without the sandbox's private bookkeeping keys. A milestone holding exactly the keys
    ``_insert`` stores (one set comparison in C) is copied without its ``_seq``, not sifted key by key."""
    if record.keys() == _MILESTONE_KEYS:
        public = dict(record)
        del public["_seq"]
        return public
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _clock_parts(epoch: dt.datetime) -> tuple[dt.datetime, int, str] | None:
    """When ``epoch``'s offset is the same at every time (a ``datetime.timezone``, or none): the start of its
    minute without the offset, its second, and what isoformat writes after a time's seconds (``epoch``'s
    fraction, then the offset's text); else None. A tick's text is then its minute's ``YYYY-MM-DDTHH:MM:``,
    its second's two digits and that tail."""
    if epoch.tzinfo is not None and type(epoch.tzinfo) is not dt.timezone:
        return None
    base = epoch.replace(tzinfo=None)
    text = base.isoformat()
    return base.replace(second=0), base.second, text[19:] + epoch.isoformat()[len(text) :]


def _workspace_of(record: Mapping[str, Any]) -> Any:
    """The value the ``workspace_ids`` filter compares (as text) for a record."""
    return record.get("workspace_id")


class _Invalid(Exception):
    """A request the real API would refuse; carries the status and the error items."""

    def __init__(self, status: int, items: list[Record]) -> None:
        super().__init__(items[0].get("message", ""))
        self.status = status
        self.items = items


def _validation(message: str, field: str) -> _Invalid:
    return _Invalid(422, [{"type": "validation", "message": message, "field": field}])


def _bad_request(message: str) -> _Invalid:
    return _Invalid(400, [{"type": "system", "message": message}])


class _Store(Emulator):
    """One account's records, id sequences and clock, and the rules a milestone obeys."""

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
        tokens: Iterable[str] | None = None,
        bulk_limit: int = 100,
        max_per_page: int = 200,
        default_per_page: int = 20,
    ) -> None:
        super().__init__(faults=faults, rate_limit=rate_limit)
        #: Accepted bearer tokens; None: any non-empty token in-process, only DEMO_TOKEN when served on a socket.
        self.tokens = set(tokens) if tokens is not None else None
        self.bulk_limit = bulk_limit
        self.max_per_page = max_per_page
        self.default_per_page = default_per_page
        self.workspaces: dict[str, Record] = {}
        self.stories: dict[str, Record] = {}
        #: By id; an IndexedTable knows each workspace's milestones (a plain dict put here instead is walked).
        self.milestones: dict[str, Record] = IndexedTable(_workspace_of, "workspace_id")
        self.external_references: dict[str, Record] = {}
        self.invoices: dict[str, Record] = {}
        #: Reference ids by the milestone they belong to, so a milestone's references are found without
        #: scanning every reference (a bulk create of N into a store of M was N x M). Kept by
        #: _upsert_reference; rebuilt whenever the table's size says something else changed it.
        self._refs_by_subject: dict[int, list[str]] = {}
        self._indexed_refs = 0
        self._ids = {
            "workspaces": itertools.count(1001),
            "stories": itertools.count(5001),
            "billing_milestones": itertools.count(70001),
            "external_references": itertools.count(90001),
            "invoices": itertools.count(30001),
        }
        self._seq = itertools.count(1)
        self._epoch = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=_TZ)
        #: ``_epoch`` as ``_now`` last read it, and its ``_clock_parts`` (None: its offset changes).
        self._clock_epoch: dt.datetime | None = None
        self._clock: tuple[dt.datetime, int, str] | None = None
        #: Each minute's ``YYYY-MM-DDTHH:MM:`` by its number from the epoch's minute (``_now`` fills it).
        self._clock_minutes: dict[int, str] = {}
        self.router = self._routes()

    @abstractmethod
    def _routes(self) -> Router:
        """The route table (``_routes``), built once the state exists."""

    def _now(self) -> str:
        """The next tick of the account's clock (one second a tick from ``_epoch``), as the API writes times:
        ``(epoch + n seconds).isoformat()``. With a fixed offset that text is its minute's (made once a
        minute), its second's two digits and the epoch's fraction and offset, put together without a
        datetime (a datetime sum and its isoformat were most of a bulk create's clock)."""
        epoch = self._epoch
        if epoch is not self._clock_epoch:
            self._clock_epoch, self._clock = epoch, _clock_parts(epoch)
            self._clock_minutes = {}
        clock = self._clock
        if clock is None:
            return (epoch + dt.timedelta(0, next(self._seq))).isoformat()
        start, second, tail = clock
        minute, second = divmod(second + next(self._seq), 60)
        prefix = self._clock_minutes.get(minute)
        if prefix is None:
            if len(self._clock_minutes) >= _MINUTES_KEPT:
                self._clock_minutes.clear()
            prefix = self._clock_minutes[minute] = (start + dt.timedelta(0, 60 * minute)).isoformat()[:17]
        return prefix + _TWO_DIGITS[second] + tail

    def _next_id(self, kind: str) -> str:
        return str(next(self._ids[kind]))

    def _refs_of(self, milestone_id: str) -> list[Record]:
        """The milestone's references, in the order they were made (each checked against the table itself)."""
        subject = int(milestone_id)
        refs = self.external_references
        if self._indexed_refs != len(refs):
            self._reindex_refs()
        return [
            r
            for ident in self._refs_by_subject.get(subject, ())
            if (r := refs.get(ident)) is not None
            and r["subject_type"] == "BillingMilestone"
            and r["subject_id"] == subject
        ]

    def _reindex_refs(self) -> None:
        index: dict[int, list[str]] = {}
        for ident, ref in self.external_references.items():
            index.setdefault(ref["subject_id"], []).append(ident)
        self._refs_by_subject = index
        self._indexed_refs = len(self.external_references)

    # -- milestone rules ------------------------------------------------------------------------------
    def _validate_new(self, item: Any) -> tuple[Record, Record | None]:
        """A new milestone's fields as the API checks them. The values a client sends (an id, text, integer
        cents, a date's text) are taken as their check would take them without calling it; any other value
        goes to its check, which takes or refuses it."""
        if not isinstance(item, dict):
            raise _bad_request("each billing milestone must be an object")
        get = item.get
        workspace_id = self._check_workspace(get("workspace_id"))
        title = get("title")
        if type(title) is not str or not title.strip():
            title = self._check_title(title)
        cents = get("amount_in_cents")
        if type(cents) is not int:
            cents = self._check_cents(cents)
        billing_type = get("billing_type") or "fixed_date"  # default undocumented [U]
        if type(billing_type) is not str or billing_type not in _BILLING_TYPES:
            billing_type = self._check_billing_type(billing_type)
        date = get("date_to_invoice")
        date = _DATES.get(date) if type(date) is str else None
        if date is None:
            date = self._check_date(get("date_to_invoice"))
        fields: Record = {
            "workspace_id": workspace_id,
            "title": title,
            "amount_in_cents": cents,
            "billing_type": billing_type,
            "date_to_invoice": date,
            "story_id": self._check_story(get("story_id"), workspace_id, billing_type),
        }
        return fields, self._check_reference(get("external_reference"))

    def _check_workspace(self, value: Any) -> str:
        if value is None or value == "":
            raise _validation("Workspace can't be blank", "workspace_id")
        ident = str(value)
        if isinstance(value, bool) or not _ID.match(ident) or ident not in self.workspaces:
            raise _validation(f"Workspace {value!r} does not exist or is not accessible", "workspace_id")
        return ident

    @staticmethod
    def _check_title(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _validation("Title can't be blank", "title")
        return value

    @staticmethod
    def _check_cents(value: Any) -> int:
        if value is None or value == "":
            raise _validation("Amount in cents can't be blank", "amount_in_cents")
        if isinstance(value, bool | Decimal | float):
            raise _validation(f"Amount in cents must be an integer (got {value})", "amount_in_cents")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INT.match(value.strip()):
            return int(value.strip())
        raise _validation(f"Amount in cents is not a number (got {value!r})", "amount_in_cents")

    @staticmethod
    def _check_billing_type(value: Any) -> str:
        if value not in _BILLING_TYPES:
            raise _validation(f"Billing type {value!r} is not one of fixed_date, upon_completion", "billing_type")
        return str(value)

    @staticmethod
    def _check_date(value: Any) -> str | None:
        if value is None or value == "":
            return None
        try:
            date = dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise _validation(f"Date to invoice {value!r} is not a valid date", "date_to_invoice") from None
        if type(value) is str:
            if len(_DATES) >= _DATES_KEPT:
                _DATES.clear()
            _DATES[value] = date
        return date

    def _check_story(self, value: Any, workspace_id: str, billing_type: str) -> str | None:
        if value is None or value == "":
            if billing_type == "upon_completion":
                raise _validation("Story can't be blank when billing type is upon_completion", "story_id")
            return None
        ident = str(value)
        story = self.stories.get(ident)
        if isinstance(value, bool) or story is None or story["workspace_id"] != workspace_id:
            raise _validation(f"Story {value!r} does not exist in workspace {workspace_id}", "story_id")
        return ident

    @staticmethod
    def _check_reference(value: Any) -> Record | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _validation("External reference must be an object", "external_reference")
        for name in ("service_name", "service_model", "service_model_ref"):
            if value.get(name) in (None, ""):
                raise _validation(f"External reference {name} can't be blank", f"external_reference.{name}")
        status = value.get("status")
        if status is not None and status not in _REF_STATUSES:
            raise _validation(f"External reference status {status!r} is not valid", "external_reference.status")
        return dict(value)

    def _insert(self, fields: Record, ref: Record | None) -> Record:
        ident = str(next(self._ids["billing_milestones"]))
        now = self._now()
        record: Record = {
            "id": ident,
            "title": fields["title"],
            "amount_in_cents": fields["amount_in_cents"],
            "currency": self.workspaces[fields["workspace_id"]]["currency"],
            "billing_type": fields["billing_type"],
            "date_to_invoice": fields["date_to_invoice"],
            "story_id": fields["story_id"],
            "workspace_id": fields["workspace_id"],
            "invoice_id": None,
            "created_at": now,
            "updated_at": now,
            "_seq": next(self._seq),
        }
        table = self.milestones
        if isinstance(table, IndexedTable):
            record = table.insert(ident, record)
        else:
            table[ident] = record
        if ref is not None:
            self._upsert_reference(ident, ref)
        return record

    def _upsert_reference(self, milestone_id: str, ref: Record) -> None:
        now = self._now()
        subject = int(milestone_id)
        held = self._refs_by_subject.get(subject)
        # A milestone the index holds no reference for, the index being whole, has none (a new one): no lookup.
        if held is not None or self._indexed_refs != len(self.external_references):
            for existing in self._refs_of(milestone_id):
                if existing["service_name"] == ref["service_name"]:
                    existing.update({k: (str(v) if k == "service_model_ref" else v) for k, v in ref.items()})
                    existing["updated_at"] = now
                    existing["last_synced_at"] = now
                    return
            held = self._refs_by_subject.get(subject)  # _refs_of may have rebuilt the index
        ident = str(next(self._ids["external_references"]))
        get = ref.get
        self.external_references[ident] = {
            "id": ident,
            "service_name": ref["service_name"],
            "service_model": ref["service_model"],
            "service_model_ref": str(ref["service_model_ref"]),
            "status": get("status") or "successful",
            "external_message": get("external_message"),
            "external_link": get("external_link"),
            "external_status": get("external_status"),
            "locked": bool(get("locked", False)),
            "subject_id": subject,  # an integer, as documented (ids elsewhere are strings)
            "subject_type": "BillingMilestone",
            "last_synced_at": now,
            "created_at": now,
            "updated_at": now,
        }
        if held is None:
            self._refs_by_subject[subject] = [ident]
        else:
            held.append(ident)
        self._indexed_refs += 1

    def _refuse_invoiced(self, record: Record, verb: str) -> None:
        if record.get("invoice_id"):
            raise _validation(
                f"Billing milestone has been invoiced (invoice {record['invoice_id']}) and cannot be {verb}",
                "invoice_id",
            )
