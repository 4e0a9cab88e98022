"""Sans-IO Kantata operations: each method builds a request and says how to parse its response.

The sync and async resources in :mod:`.client` only hand these to a runner, so both share every line of
request building, envelope walking, pagination and bulk chunking.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict, TypeVar

import pydantic

from .. import errors
from .._http import APIResponse, Operation, Page, PagedOperation, RequestSpec
from ._envelopes import (
    exactly_one,
    includes_of,
    listing_page,
    parse_body,
    parse_envelope,
    resolve_milestones,
    resolve_typed,
    unique,
)
from ._errors import refuse_invoiced
from ._tie import Sent, tie_back
from .wire import (
    BillingMilestone,
    BillingMilestoneCreate,
    BillingMilestoneUpdate,
    BillingType,
    ExternalReferenceInput,
    Story,
    Workspace,
)

__all__ = [
    "BULK_LIMIT",
    "MAX_PER_PAGE",
    "IncludeArg",
    "KantataOperations",
    "MilestoneCreateFields",
    "MilestoneFilters",
    "MilestoneUpdateFields",
    "StoryFilters",
    "parse_envelope",
    "resolve_milestones",
    "tie_back",
]

#: Kantata accepts at most 100 milestones per create request.
BULK_LIMIT = 100
#: ``per_page`` can be at most 200.
MAX_PER_PAGE = 200

M = TypeVar("M", bound=pydantic.BaseModel)

Include = Literal["external_references", "invoices", "story", "workspace"]
#: What ``include=`` takes: one name, several, or None.
IncludeArg = Sequence[str] | str | None
IdLike = str | int
IdList = Sequence[IdLike] | IdLike


class MilestoneFilters(TypedDict, total=False):
    """The documented ``GET /billing_milestones`` filters (lists go out as CSV)."""

    workspace_ids: IdList
    story_ids: IdList
    #: ``(start, end)`` inclusive on ``date_to_invoice``, or the wire form ``"YYYY-MM-DD:YYYY-MM-DD"``.
    date_between: tuple[dt.date, dt.date] | str
    only: IdList
    order: Literal["created_at:asc", "created_at:desc"]
    include: Sequence[Include] | str
    has_external_references: bool
    external_reference_service_name: str
    external_reference_service_model: str
    external_reference_service_model_ref: IdLike
    external_reference_service_model_refs: IdList
    external_reference_status: Literal["successful", "pending", "failed"]
    external_reference_external_status: str
    external_reference_external_message: str
    without_external_reference_service_name: str
    #: Page size, 1..200; the SDK defaults to 200 (Kantata's own default is 20).
    per_page: int


class StoryFilters(TypedDict, total=False):
    """A useful subset of the ``GET /stories`` filters (``workspace_id`` is singular there)."""

    workspace_id: IdLike
    only: IdList
    story_types: Sequence[str] | str
    completed: bool
    uncompleted: bool
    show_archived: bool
    include: Sequence[str] | str
    per_page: int


class MilestoneCreateFields(TypedDict):
    """The create body's fields (``title``, ``amount_in_cents`` and ``workspace_id`` are required)."""

    workspace_id: IdLike
    title: str
    amount_in_cents: int
    date_to_invoice: NotRequired[dt.date | None]
    billing_type: NotRequired[BillingType | Literal["fixed_date", "upon_completion"] | None]
    story_id: NotRequired[IdLike | None]
    external_reference: NotRequired[ExternalReferenceInput | Mapping[str, Any] | None]


class MilestoneUpdateFields(TypedDict, total=False):
    """The fields a PUT may change; only those passed are sent (``None`` clears a field)."""

    title: str
    amount_in_cents: int
    date_to_invoice: dt.date | None
    billing_type: BillingType | Literal["fixed_date", "upon_completion"]
    story_id: IdLike | None
    external_reference: ExternalReferenceInput | Mapping[str, Any]


def build_model(cls: type[M], data: Mapping[str, Any]) -> M:
    """Validate caller input into a body model, raising our ValidationError naming the field."""
    try:
        return cls.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise errors.ValidationError(
            f"{cls.__name__}.{field}: {first['msg']} (got {first.get('input')!r})",
            field=field,
            value=first.get("input"),
        ) from None


def _csv(value: IdList | Sequence[str] | str) -> str:
    if isinstance(value, str | int):
        return str(value)
    return ",".join(str(v) for v in value)


def _check_id(value: object, *, field: str) -> str:
    """Kantata ids are positive integers (sent as digits): ``a/b``, ``-1`` or ``../1001`` never reach a path."""
    if type(value) is str and value.isascii() and value.isdigit() and value[0] != "0":
        return value  # already the canonical digits of a positive integer (the usual case: an id Kantata sent)
    try:
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    except ValueError:  # an int too long to spell as text (Python's digit limit): no id of Kantata's
        text = ""
    # The digits without leading zeros (what int() would give, at any length: int() refuses past 4300 digits).
    canonical = text.lstrip("0") if text.isascii() and text.isdigit() else ""
    if not canonical:
        raise errors.ValidationError(
            f"{field}: expected a Kantata id (a positive integer, as int or digits), got {_shown(value)}", field=field
        )
    return canonical


def _shown(value: object) -> str:
    """``repr(value)``, or its type for an int too long to spell."""
    try:
        return repr(value)
    except ValueError:
        return f"an int of more than {sys.get_int_max_str_digits()} digits"


def _check_per_page(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PER_PAGE:
        raise errors.ValidationError(f"per_page: expected an int 1..{MAX_PER_PAGE}, got {value!r}", field="per_page")
    return value


def _milestone_params(filters: MilestoneFilters) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in filters.items():
        if value is None or name == "per_page":
            continue
        if name == "date_between" and isinstance(value, tuple):
            start, end = value
            params[name] = f"{start.isoformat()}:{end.isoformat()}"
        elif isinstance(value, bool):
            params[name] = value
        elif isinstance(value, str | int):
            params[name] = str(value)
        else:
            params[name] = _csv(value)  # type: ignore[arg-type]
    return params


@dataclasses.dataclass(frozen=True)
class KantataOperations:
    """Request builders and parsers for one client configuration (the ``.json`` suffix choice)."""

    json_suffix: bool = False

    def path(self, collection: str, ident: object | None = None) -> str:
        suffix = ".json" if self.json_suffix else ""
        if ident is None:
            return f"{collection}{suffix}"
        return self._member_path(collection, _check_id(ident, field="id"))

    def _member_path(self, collection: str, checked_id: str) -> str:
        """The path of one member, from an id :func:`_check_id` has already returned (digits only)."""
        return f"{collection}/{checked_id}{'.json' if self.json_suffix else ''}"

    @staticmethod
    def _include(include: Sequence[str] | str | None) -> dict[str, Any]:
        return {} if not include else {"include": _csv(include)}

    # -- billing milestones -----------------------------------------------------------------------
    def list_billing_milestones(self, **filters: Any) -> PagedOperation[BillingMilestone]:
        typed: MilestoneFilters = filters  # type: ignore[assignment]
        unknown = set(filters) - set(MilestoneFilters.__annotations__)
        if unknown:
            raise errors.ValidationError(f"unknown billing milestone filter(s): {sorted(unknown)}", field="filters")
        per_page = _check_per_page(typed.get("per_page", MAX_PER_PAGE))
        params = {**_milestone_params(typed), "page": 1, "per_page": per_page}
        spec = RequestSpec("GET", self.path("billing_milestones"), params=params)

        def parse(current: RequestSpec, response: APIResponse) -> Page[BillingMilestone]:
            includes = includes_of(current)
            return listing_page(
                current, response, "billing_milestones", lambda e: resolve_milestones(e, includes), per_page
            )

        return PagedOperation(spec, parse)

    def get_billing_milestone(
        self, milestone_id: IdLike, *, include: Sequence[str] | str | None = None
    ) -> Operation[BillingMilestone]:
        ident = _check_id(milestone_id, field="id")  # checked once: the path and the answer's check share it
        spec = RequestSpec("GET", self._member_path("billing_milestones", ident), params=self._include(include))
        return Operation(spec, _one_milestone(spec, ident))

    def create_billing_milestone(
        self, *, include: Sequence[str] | str | None = None, **fields: Any
    ) -> Operation[BillingMilestone]:
        body = build_model(BillingMilestoneCreate, fields)
        spec = RequestSpec(
            "POST",
            self.path("billing_milestones"),
            params=self._include(include),
            json={"billing_milestone": body.to_wire()},
        )
        return Operation(spec, _one_milestone(spec))

    def create_billing_milestones(
        self,
        items: Sequence[BillingMilestoneCreate | Mapping[str, Any]],
        *,
        include: Sequence[str] | str | None = None,
    ) -> builtins.list[Operation[builtins.list[BillingMilestone]]]:
        """One POST per 100 items, in order; each parse ties the created milestones back to their inputs."""
        bodies = [i if isinstance(i, BillingMilestoneCreate) else build_model(BillingMilestoneCreate, i) for i in items]
        return self.create_sent([Sent.of(b) for b in bodies], include=include)

    def create_sent(
        self, sent: Sequence[Sent], *, include: Sequence[str] | str | None = None
    ) -> builtins.list[Operation[builtins.list[BillingMilestone]]]:
        """:meth:`create_billing_milestones` of bodies already written (the common view writes them)."""
        ops: builtins.list[Operation[builtins.list[BillingMilestone]]] = []
        for start in range(0, len(sent), BULK_LIMIT):
            chunk = sent[start : start + BULK_LIMIT]
            spec = RequestSpec(
                "POST",
                self.path("billing_milestones"),
                params=self._include(include),
                json={"billing_milestones": [s.wire for s in chunk]},
            )
            ops.append(Operation(spec, _bulk_parser(spec, chunk)))
        return ops

    def update_billing_milestone(
        self,
        milestone: IdLike | BillingMilestone,
        *,
        include: Sequence[str] | str | None = None,
        **changes: Any,
    ) -> Operation[BillingMilestone]:
        """A PUT of the given fields only; refused before sending when ``milestone`` is known to be invoiced."""
        return self.put_billing_milestone(milestone, build_model(BillingMilestoneUpdate, changes), include=include)

    def put_billing_milestone(
        self,
        milestone: IdLike | BillingMilestone,
        update: BillingMilestoneUpdate,
        *,
        include: Sequence[str] | str | None = None,
    ) -> Operation[BillingMilestone]:
        """A PUT of a ready-made update body (the common view builds one from a diff)."""
        if update.is_empty:
            raise errors.ValidationError("update: no fields to change were given", field="billing_milestone")
        path = self._guarded_path(milestone, "PUT")
        spec = RequestSpec("PUT", path, params=self._include(include), json={"billing_milestone": update.to_wire()})
        ident = milestone.id if isinstance(milestone, BillingMilestone) else _check_id(milestone, field="id")
        return Operation(spec, _one_milestone(spec, ident))

    def delete_billing_milestone(self, milestone: IdLike | BillingMilestone) -> Operation[None]:
        """DELETE answers 204 with no body (an error body, even on a 200, raises); refused before sending when
        known to be invoiced."""
        spec = RequestSpec("DELETE", self._guarded_path(milestone, "DELETE"))
        return Operation(spec, _no_content)

    def _guarded_path(self, milestone: IdLike | BillingMilestone, method: str) -> str:
        if isinstance(milestone, BillingMilestone):
            path = self.path("billing_milestones", milestone.id)
            if milestone.invoiced:
                raise refuse_invoiced(milestone.id, milestone.invoice_id, method=method, path=path)
            return path
        return self.path("billing_milestones", milestone)

    # -- workspaces and stories ---------------------------------------------------------------------
    def get_workspace(
        self, workspace_id: IdLike, *, include: Sequence[str] | str | None = None
    ) -> Operation[Workspace]:
        spec = RequestSpec("GET", self.path("workspaces", workspace_id), params=self._include(include))
        ident = _check_id(workspace_id, field="workspace_id")
        return Operation(
            spec, lambda r: exactly_one(resolve_typed(parse_envelope(r), "workspaces", Workspace), "workspace", ident)
        )

    def list_stories(self, **filters: Any) -> PagedOperation[Story]:
        unknown = set(filters) - set(StoryFilters.__annotations__)
        if unknown:
            raise errors.ValidationError(f"unknown story filter(s): {sorted(unknown)}", field="filters")
        per_page = _check_per_page(filters.pop("per_page", MAX_PER_PAGE))
        params = {**_milestone_params(filters), "page": 1, "per_page": per_page}  # type: ignore[arg-type]
        spec = RequestSpec("GET", self.path("stories"), params=params)

        def parse(current: RequestSpec, response: APIResponse) -> Page[Story]:
            return listing_page(current, response, "stories", lambda e: resolve_typed(e, "stories", Story), per_page)

        return PagedOperation(spec, parse)

    def get_story(self, story_id: IdLike) -> Operation[Story]:
        spec = RequestSpec("GET", self.path("stories", story_id))
        ident = _check_id(story_id, field="story_id")
        return Operation(
            spec, lambda r: exactly_one(resolve_typed(parse_envelope(r), "stories", Story), "story", ident)
        )


def _one_milestone(spec: RequestSpec, ident: str | None = None) -> Callable[[APIResponse], BillingMilestone]:
    includes = includes_of(spec)
    return lambda r: exactly_one(resolve_milestones(parse_envelope(r), includes), "billing milestone", ident)


def _no_content(response: APIResponse) -> None:
    parse_body(response)


def _bulk_parser(spec: RequestSpec, chunk: Sequence[Sent]) -> Callable[[APIResponse], builtins.list[BillingMilestone]]:
    includes = includes_of(spec)

    def parse(response: APIResponse) -> builtins.list[BillingMilestone]:
        created = unique(resolve_milestones(parse_envelope(response), includes), "billing milestone")
        return tie_back(chunk, created)

    return parse
