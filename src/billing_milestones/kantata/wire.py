"""Kantata OX (Mavenlink) wire models, with the exact field names the API uses.

Kantata returns every id as a string (map keys, ``id``, ``*_id``, ``*_ids``) but takes ints in request
bodies, so response models hold ``str`` ids and the request bodies turn digit strings back into ints.
Response types are strict, because a sync acts on them: an id is a digit string or a JSON integer, never a
boolean (``true`` is not milestone 1); ``amount_in_cents`` is a JSON integer (``true`` is not 1 cent, ``"100"``
and ``1.5`` are refused); counts, booleans, dates and timestamps are what the docs say, not whatever
pydantic could coerce. Unknown fields survive (:class:`~billing_milestones._wire.WireModel` keeps extras).
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StrictStr, field_serializer
from pydantic_core import core_schema

from .._wire import MAX_EXACT_INT, JsonFirst, WireCents, WireModel, WireStrId

__all__ = [
    "BillingMilestone",
    "BillingMilestoneCreate",
    "BillingMilestoneUpdate",
    "BillingType",
    "Envelope",
    "ExternalReference",
    "ExternalReferenceInput",
    "Invoice",
    "Meta",
    "ResultRef",
    "Story",
    "Workspace",
]


def _ref_text(value: object) -> object:
    """An external system's record id: text, or a JSON integer spelled as digits; never a boolean."""
    if isinstance(value, bool):
        raise ValueError(f"expected a reference (text), got the boolean {value!r}")
    return str(value) if isinstance(value, int) else value


def _iso_date(value: object) -> object:
    """Kantata sends dates as ``YYYY-MM-DD`` text; a number is not a date (pydantic would read it as epoch)."""
    if isinstance(value, str) and not _DATE.fullmatch(value):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
    if value is not None and not isinstance(value, str | dt.date):
        raise ValueError(f"expected a date as YYYY-MM-DD text, got {type(value).__name__} {value!r}")
    return value


def _iso_datetime(value: object) -> object:
    """Timestamps are ISO 8601 text with an offset; a bare number (an epoch guess) is refused."""
    if value is not None and not isinstance(value, str | dt.datetime):
        raise ValueError(f"expected an ISO 8601 timestamp, got {type(value).__name__} {value!r}")
    return value


def _request_id(value: object) -> object:
    """An id a request names is a positive integer, as an int or digits: ``True``, ``0``, ``-1`` or ``a/b``
    name no record (and would be sent as they are)."""
    text = value if isinstance(value, str) else str(value) if type(value) is int else None
    if text is None or not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ValueError(f"expected a Kantata id (a positive integer, as int or digits), got {value!r}")
    return value


def _title(value: object) -> object:
    """A blank title is refused here: Kantata answers 422 only after the write was sent."""
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"a title cannot be blank, got {value!r}")
    return value


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: An id as Kantata returns it: a digit string (a JSON integer is spelled as digits); never a boolean.
WireId = WireStrId
WireIds = list[WireStrId]
# Read from JSON, text in the documented form is taken by pydantic-core alone (see ``JsonFirst``).
WireRef = Annotated[str, BeforeValidator(_ref_text), JsonFirst(core_schema.str_schema(strict=True))]
WireDate = Annotated[
    dt.date,
    BeforeValidator(_iso_date),
    JsonFirst(
        core_schema.chain_schema(
            [core_schema.str_schema(strict=True, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), core_schema.date_schema()]
        )
    ),
]
WireTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime), JsonFirst(core_schema.datetime_schema(strict=True))]
#: A count or page number: a JSON integer, never a boolean, float or text.
WireCount = Annotated[StrictInt, Field(ge=0)]
#: Request fields, checked before sending: an id (digits or an int, >= 1), a non-blank title, and cents as a
#: JSON integer a double carries exactly (``1e40`` is refused, not sent; negative amounts are credits).
RequestId = Annotated[str | int, BeforeValidator(_request_id)]
RequestTitle = Annotated[str, BeforeValidator(_title)]
RequestCents = Annotated[StrictInt, Field(ge=-MAX_EXACT_INT, le=MAX_EXACT_INT)]


def _id_out(value: str | int | None) -> str | int | None:
    """Requests document integer ids; send digit strings as ints and anything else unchanged."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


class BillingType(StrEnum):
    """The two documented ``billing_type`` values."""

    FIXED_DATE = "fixed_date"
    UPON_COMPLETION = "upon_completion"


class ExternalReference(WireModel):
    """A link from a Kantata object to a record elsewhere; our sync keys travel as one of these."""

    id: WireId | None = None
    service_name: str
    service_model: str | None = None
    service_model_ref: WireRef | None = None
    status: str | None = None
    external_message: str | None = None
    external_link: str | None = None
    external_status: str | None = None
    locked: StrictBool | None = None
    subject_id: WireId | None = None
    subject_type: str | None = None
    last_synced_at: WireTime | None = None
    created_at: WireTime | None = None
    updated_at: WireTime | None = None


class ExternalReferenceInput(WireModel):
    """The ``external_reference`` object accepted on create and update."""

    service_name: str = Field(min_length=1)
    service_model: str = Field(min_length=1)
    service_model_ref: str = Field(min_length=1)
    status: str | None = None
    external_message: str | None = None
    external_link: str | None = None
    external_status: str | None = None
    locked: StrictBool | None = None


class Workspace(WireModel):
    """A Kantata project. ``currency`` needs financial access; ``currency_base_unit`` is subunits per unit."""

    id: WireId
    title: str | None = None
    currency: str | None = None
    currency_base_unit: StrictInt | None = None
    currency_symbol: str | None = None
    #: Present only with ``include=billing_milestones`` (then every milestone of the workspace is side-loaded).
    billing_milestone_ids: WireIds | None = None
    created_at: WireTime | None = None
    updated_at: WireTime | None = None


class Story(WireModel):
    """A task; an ``upon_completion`` milestone becomes billable when its story's ``state`` is ``completed``."""

    id: WireId
    title: str | None = None
    state: str | None = None
    story_type: str | None = None
    workspace_id: WireId | None = None
    parent_id: WireId | None = None
    created_at: WireTime | None = None
    updated_at: WireTime | None = None

    @property
    def completed(self) -> bool:
        return self.state == "completed"


class Invoice(WireModel):
    """An invoice, side-loaded with ``include=invoices``."""

    id: WireId
    status: str | None = None
    draft: StrictBool | None = None
    currency: str | None = None
    currency_base_unit: StrictInt | None = None
    currency_symbol: str | None = None
    balance_in_cents: WireCents | None = None
    billing_milestone_ids: WireIds | None = None
    created_at: WireTime | None = None
    updated_at: WireTime | None = None


class BillingMilestone(WireModel):
    """One entry of the ``billing_milestones`` map. Side-loads (``include=``) are attached by the client and read
    through :attr:`external_references`, :attr:`story`, :attr:`workspace` and :attr:`invoices`."""

    id: WireId
    title: str
    amount_in_cents: WireCents
    currency: str | None = None
    billing_type: str | None = None
    date_to_invoice: WireDate | None = None
    story_id: WireId | None = None
    workspace_id: WireId
    invoice_id: WireId | None = None
    invoice_ids: WireIds | None = None
    external_reference_ids: WireIds | None = None
    created_at: WireTime | None = None
    updated_at: WireTime | None = None

    @property
    def invoiced(self) -> bool:
        """The only "invoiced" signal Kantata gives: ``invoice_id`` is set. Invoiced milestones are locked."""
        return self.invoice_id is not None

    @property
    def external_references(self) -> builtins.list[ExternalReference]:
        """Side-loaded references (``include=external_references``); empty when not requested."""
        return list(self._get_state("external_references") or [])

    def loaded_references(self) -> builtins.list[ExternalReference] | None:
        """The side-loaded references themselves (not a copy: read, never change them); None when not loaded."""
        refs: builtins.list[ExternalReference] | None = self._get_state("external_references")
        return refs

    @property
    def external_references_loaded(self) -> bool:
        """True when the references were side-loaded, so an empty list really means "none"."""
        return self._get_state("external_references") is not None

    @property
    def story(self) -> Story | None:
        story: Story | None = self._get_state("story")
        return story

    @property
    def workspace(self) -> Workspace | None:
        workspace: Workspace | None = self._get_state("workspace")
        return workspace

    @property
    def invoices(self) -> builtins.list[Invoice]:
        return list(self._get_state("invoices") or [])

    def attach(
        self,
        *,
        external_references: builtins.list[ExternalReference] | None = None,
        story: Story | None = None,
        workspace: Workspace | None = None,
        invoices: builtins.list[Invoice] | None = None,
    ) -> BillingMilestone:
        """Attach side-loaded objects (used by the client's envelope parser and by tests)."""
        if external_references is not None:
            self._state()["external_references"] = list(external_references)
        if story is not None:
            self._state()["story"] = story
        if workspace is not None:
            self._state()["workspace"] = workspace
        if invoices is not None:
            self._state()["invoices"] = list(invoices)
        return self


class _Body(WireModel):
    """Request bodies: ids go out as ints, and only the fields the caller set are sent."""

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class BillingMilestoneCreate(_Body):
    """One item of a create: ``{"billing_milestone": {...}}`` or an element of ``{"billing_milestones": [...]}``."""

    title: RequestTitle
    amount_in_cents: RequestCents
    workspace_id: RequestId
    date_to_invoice: WireDate | None = None
    billing_type: BillingType | None = None
    story_id: RequestId | None = None
    external_reference: ExternalReferenceInput | None = None

    @field_serializer("workspace_id", "story_id")
    def _ids_as_ints(self, value: str | int | None) -> str | int | None:
        return _id_out(value)

    def to_wire(self) -> dict[str, Any]:
        """Unset and null optional fields are left out (Kantata applies its own defaults). The usual body is
        written directly (:func:`_create_wire`), a bulk create's every item, as the dump writes it."""
        wire = _create_wire(self)
        return self.model_dump(mode="json", exclude_none=True) if wire is None else wire


def _create_wire(body: BillingMilestoneCreate) -> dict[str, Any] | None:
    """``body.model_dump(mode="json", exclude_none=True)`` for a body without unknown fields whose every value
    has its usual type (digit ids of at most 15 digits); None for any other, which the dump writes."""
    if type(body) is not BillingMilestoneCreate or body.__pydantic_extra__:
        return None
    values = body.__dict__
    title, cents, due, kind = (
        values["title"],
        values["amount_in_cents"],
        values["date_to_invoice"],
        values["billing_type"],
    )
    workspace_id, story_id, ref = _int_id(values["workspace_id"]), values["story_id"], values["external_reference"]
    if type(title) is not str or type(cents) is not int or workspace_id is None:
        return None
    out: dict[str, Any] = {"title": title, "amount_in_cents": cents, "workspace_id": workspace_id}
    if due is not None:
        if type(due) is not dt.date:
            return None
        out["date_to_invoice"] = due.isoformat()
    if kind is not None:
        if type(kind) is not BillingType:
            return None
        out["billing_type"] = kind.value
    if story_id is not None:
        if (story_id := _int_id(story_id)) is None:
            return None
        out["story_id"] = story_id
    if ref is not None:
        if type(ref) is not ExternalReferenceInput or ref.__pydantic_extra__:
            return None
        out["external_reference"] = wire_ref = {}
        for name, value in ref.__dict__.items():
            if value is not None:
                if type(value) is not str and (name != "locked" or type(value) is not bool):
                    return None
                wire_ref[name] = value
    return out


def _int_id(value: object) -> int | None:
    """What :func:`_id_out` sends for an id of the usual types (an int, or at most 15 ASCII digits); else None."""
    if type(value) is int:
        return value
    if type(value) is str and len(value) <= 15 and value.isascii() and value.isdigit():
        return int(value)
    return None


class BillingMilestoneUpdate(_Body):
    """A PUT body: only the fields set here are sent, so an explicit ``None`` clears a field.

    ``workspace_id`` is not updatable on Kantata, so it is not a field.
    """

    title: RequestTitle | None = None
    amount_in_cents: RequestCents | None = None
    date_to_invoice: WireDate | None = None
    billing_type: BillingType | None = None
    story_id: RequestId | None = None
    external_reference: ExternalReferenceInput | None = None

    @field_serializer("story_id")
    def _ids_as_ints(self, value: str | int | None) -> str | int | None:
        return _id_out(value)

    @property
    def is_empty(self) -> bool:
        return not self.model_fields_set and not self.model_extra


class Meta(WireModel):
    """Paging facts: ``count`` is the whole query's total, ``page_count`` says when to stop.

    All four are documented and a listing cannot be judged complete without them, so the first three are
    required (``page_size`` is checked when present).
    """

    count: WireCount
    page_count: WireCount
    page_number: WireCount
    page_size: Annotated[StrictInt, Field(ge=1)] | None = None


class ResultRef(WireModel):
    """One entry of ``results``: which typed map, and which id in it."""

    key: StrictStr = Field(min_length=1)
    id: WireId


#: The maps an envelope types, each keyed by its objects' own ids.
TYPED_MAPS: Final = ("billing_milestones", "external_references", "stories", "workspaces", "invoices")


class Envelope(WireModel):
    """Every Kantata response: ``results`` orders the primary objects; the typed maps hold them and side-loads.

    ``count`` and ``results`` are required: an envelope without them (an error body, a proxy's page) says
    nothing about what exists, and reading it as "no milestones" would let a sync delete real ones.
    """

    count: WireCount
    meta: Meta | None = None
    results: builtins.list[ResultRef]
    billing_milestones: dict[str, BillingMilestone] = Field(default_factory=dict)
    external_references: dict[str, ExternalReference] = Field(default_factory=dict)
    stories: dict[str, Story] = Field(default_factory=dict)
    workspaces: dict[str, Workspace] = Field(default_factory=dict)
    invoices: dict[str, Invoice] = Field(default_factory=dict)

    def map_for(self, key: str) -> dict[str, Any]:
        """The typed map named ``key`` (a dict of raw payloads for maps this SDK does not model)."""
        if key in TYPED_MAPS:
            typed: dict[str, Any] = getattr(self, key)
            return typed
        extra = (self.model_extra or {}).get(key)
        return extra if isinstance(extra, dict) else {}

    def typed_maps(self) -> tuple[Mapping[str, WireModel], ...]:
        """The five typed maps, in :data:`TYPED_MAPS` order."""
        return (self.billing_milestones, self.external_references, self.stories, self.workspaces, self.invoices)

    def has_map(self, key: str) -> bool:
        """Whether the response carried the map at all (a side-load was honoured)."""
        return key in self.model_fields_set or key in (self.model_extra or {})
