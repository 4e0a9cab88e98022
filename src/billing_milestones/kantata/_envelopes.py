"""Strict reading of Kantata's response envelope: complete and consistent, or a typed error.

A sync plans deletes from what a listing does not contain and creates from what it contains twice, so an
envelope is never read generously. An error body is an error whatever the status; ``count`` and ``results``
must be there with the right types; every ``results`` entry must resolve to an object of the expected map
whose own ``id`` is the entry's id; a side-load that was asked for must be complete (a missing external
reference would hide our sync key and the milestone would be created again); and a listing page must agree
with its own paging facts (page number, page count, item count). Shape problems raise ``ValueError``
subclasses, which the runner turns into ``APIResponseValidationError``; paging problems raise
``PaginationError``.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

import pydantic

from .. import errors
from .._http import APIResponse, Page, RequestSpec
from ..model import _set_private
from ._errors import body_error, is_error_body
from .wire import TYPED_MAPS, BillingMilestone, Envelope, ExternalReference, Invoice

__all__ = [
    "exactly_one",
    "includes_of",
    "listing_page",
    "parse_body",
    "parse_envelope",
    "resolve_milestones",
    "resolve_typed",
    "unique",
]

M = TypeVar("M", bound=pydantic.BaseModel)


def _invalid(message: str) -> errors.ValidationError:
    return errors.ValidationError(message)


def parse_body(response: APIResponse) -> Any:
    """The JSON body, after refusing any Kantata error shape (on a 200 as on any other status)."""
    body = response.json()
    if is_error_body(body):
        raise body_error(response.http, body, response.platform, response.retries_taken)
    return body


def parse_envelope(response: APIResponse) -> Envelope:
    """The envelope, typed and checked: each typed map's keys are its objects' ids.

    The body is validated straight from its bytes (pydantic's own JSON parser, no dict of the whole page
    built first) when that reads it exactly as ``json.loads`` with Decimal numbers would: see
    :func:`_from_bytes`. Anything else (an error body, a non-integer number kept among unknown fields, a
    body that does not validate) takes the reading below, which gives the errors it always gave."""
    envelope = _from_bytes(response.http.content)
    if envelope is None:
        body = parse_body(response)
        if not isinstance(body, dict):
            raise _invalid(f"expected a JSON object envelope, got {type(body).__name__}")
        envelope = Envelope.model_validate(body)
        _check_map_keys(envelope)
    return envelope


def _from_bytes(content: bytes) -> Envelope | None:
    """The envelope validated from the body's bytes and its map keys checked, or None where that reading
    could differ from the Decimal one: a body that fails (the slow reading names the problem), an error body
    (its top-level ``errors`` / ``error_message`` are unknown fields here), or a float anywhere among unknown
    fields (the declared fields take no float: ids, cents, counts and dates refuse one either way). Both
    parsers read every other JSON value alike (strings, integers of any size, booleans, null; the last of
    repeated keys).

    The typed maps are walked once for both checks (floats among an object's extras, the object's id against
    its key); a wrong key is raised only once no float sent the body to the slow reading, which checks the
    keys itself, so either reading raises the same error."""
    if not content:
        return None
    try:
        envelope = Envelope.model_validate_json(content)
    except (ValueError, RecursionError):
        return None
    extra = envelope.__pydantic_extra__
    if extra and (is_error_body(extra) or _has_float(extra)):
        return None
    meta = envelope.meta
    if meta is not None and meta.__pydantic_extra__ and _has_float(meta.__pydantic_extra__):
        return None
    for ref in envelope.results:
        if ref.__pydantic_extra__ and _has_float(ref.__pydantic_extra__):
            return None
    wrong: str | None = None
    for name, mapping in zip(TYPED_MAPS, envelope.typed_maps(), strict=True):
        if not mapping:  # most maps of a response are not sent
            continue
        for key, obj in mapping.items():
            unknown = obj.__pydantic_extra__
            if unknown and _has_float(unknown):
                return None
            if wrong is None and obj.__dict__.get("id") != key:  # every typed map's model declares its id
                wrong = _wrong_key(name, key, obj)
    if wrong is not None:
        raise _invalid(wrong)
    return envelope


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def _wrong_key(name: str, key: str, obj: object) -> str:
    return f"{name}[{key!r}] holds an object whose id is {getattr(obj, 'id', None)!r}"


def _check_map_keys(envelope: Envelope) -> None:
    """Each typed map's keys are its objects' own ids."""
    for name, mapping in zip(TYPED_MAPS, envelope.typed_maps(), strict=True):
        for key, obj in mapping.items():
            if getattr(obj, "id", None) != key:
                raise _invalid(_wrong_key(name, key, obj))


def includes_of(spec: RequestSpec) -> frozenset[str]:
    """The side-loads a request asked for (``include=a,b``)."""
    raw = (spec.params or {}).get("include")
    return frozenset(p.strip() for p in str(raw).split(",") if p.strip()) if raw else frozenset()


def _primary_ids(envelope: Envelope, key: str) -> builtins.list[str]:
    """The ids ``results`` lists, all of which must belong to ``key``: a result of another type would be
    silently dropped otherwise, and the listing would be short without saying so."""
    ids: builtins.list[str] = []
    mapping = envelope.map_for(key)
    for position, ref in enumerate(envelope.results):
        entry = ref.__dict__  # a model's fields read from its dict: each attribute read goes through pydantic's hook
        kind, ident = entry["key"], entry["id"]
        if kind != key:
            raise _invalid(f"results[{position}] is a {kind!r} result in a {key} response")
        if ident not in mapping:
            raise _invalid(f"results[{position}] points at {key}[{ident!r}], which the response does not contain")
        ids.append(ident)
    return ids


def _side_loaded(
    owner: BillingMilestone, name: str, ids: Sequence[str] | None, mapping: dict[str, M], requested: bool, present: bool
) -> builtins.list[M] | None:
    """Resolve ``owner``'s ``<name>_ids``; None when they were not loaded (never a silent empty list)."""
    if ids is None:
        if requested:
            raise _invalid(f"billing_milestones[{owner.id!r}] lacks {name} ids although include={name} was sent")
        return None
    if not ids:
        return []
    if not present and not requested:
        return None  # the ids came without the objects: known to exist, not loaded
    try:
        return [mapping[i] for i in ids]
    except KeyError:
        missing = [i for i in ids if i not in mapping]
        raise _invalid(
            f"billing_milestones[{owner.id!r}] names {name} {missing}, which the response does not contain"
        ) from None


def _check_reference(owner: BillingMilestone, ref: ExternalReference) -> None:
    if ref.subject_id is not None and ref.subject_id != owner.id:
        raise _invalid(f"external_references[{ref.id!r}] belongs to {ref.subject_id}, not milestone {owner.id}")
    if ref.subject_type is not None and ref.subject_type != "BillingMilestone":
        raise _invalid(f"external_references[{ref.id!r}] belongs to a {ref.subject_type}, not a BillingMilestone")


def resolve_milestones(envelope: Envelope, includes: frozenset[str] = frozenset()) -> builtins.list[BillingMilestone]:
    """Walk ``results`` in order, resolve ``billing_milestones[id]`` and attach the side-loads.

    The typed map may hold more than the primary objects, so the map alone is never read as the answer.
    What is the same for every milestone of the envelope (its maps, what was asked for and sent) is looked
    up once, and each milestone gets its side-loads in one step.
    """
    milestones, stories, workspaces = envelope.billing_milestones, envelope.stories, envelope.workspaces
    references, invoice_map = envelope.external_references, envelope.invoices
    want_refs = "external_references" in includes
    have_refs = bool(references) or envelope.has_map("external_references")  # a map with objects was sent
    want_invoices = "invoices" in includes
    have_invoices: bool | None = None  # asked of the envelope only for a milestone with invoices to resolve
    out: builtins.list[BillingMilestone] = []
    load_refs = want_refs or have_refs
    for ident in _primary_ids(envelope, "billing_milestones"):
        milestone = milestones[ident]
        values = milestone.__dict__  # its validated fields, read as _primary_ids reads them
        ref_ids = values["external_reference_ids"]
        refs: builtins.list[ExternalReference] | None = None
        if load_refs:
            if ref_ids:  # the usual case (one reference: our sync key), in one step; a missing one is named below
                try:
                    refs = [references[ref_ids[0]]] if len(ref_ids) == 1 else [references[i] for i in ref_ids]
                except KeyError:
                    refs = None
            if refs is None:
                refs = _side_loaded(milestone, "external_references", ref_ids, references, want_refs, have_refs)
        elif ref_ids is not None and not ref_ids:
            refs = []  # neither asked for nor sent: no ids is no references, known ids stay not loaded (None)
        for ref in refs or ():
            about = ref.__dict__
            subject_id, subject_type = about["subject_id"], about["subject_type"]
            if (subject_id is not None and subject_id != ident) or (
                subject_type is not None and subject_type != "BillingMilestone"
            ):
                _check_reference(milestone, ref)
        invoice_ids = values["invoice_ids"]
        invoices: builtins.list[Invoice] | None = None
        if invoice_ids is not None or want_invoices:
            if have_invoices is None:
                have_invoices = bool(invoice_map) or envelope.has_map("invoices")
            invoices = _side_loaded(milestone, "invoices", invoice_ids, invoice_map, want_invoices, have_invoices)
        # The side-loads go to the milestone's private state in one step (see BillingMilestone.attach: the
        # lists built here for this milestone alone are kept as they are). A story or workspace may be
        # missing from its map (deleted, or not visible to this token): then it is simply not attached, and
        # the milestone keeps its story_id / workspace_id.
        state = milestone.__pydantic_private__
        if state is None:  # as WireModel._state() makes it, without the call (once per milestone of every page)
            state = {}
            _set_private(milestone, state)
        if refs is not None:
            state["external_references"] = refs
        story_id = values["story_id"]
        if story_id and (story := stories.get(story_id)) is not None:
            state["story"] = story
        workspace = workspaces.get(values["workspace_id"])
        if workspace is not None:
            state["workspace"] = workspace
        if invoices is not None:
            state["invoices"] = invoices
        out.append(milestone)
    return out


def resolve_typed(envelope: Envelope, key: str, cls: type[M]) -> builtins.list[M]:
    """The primary objects of a workspace or story response, in ``results`` order."""
    mapping = envelope.map_for(key)
    out: builtins.list[M] = []
    for ident in _primary_ids(envelope, key):
        item = mapping[ident]
        out.append(item if isinstance(item, cls) else cls.model_validate(item))
    return out


def exactly_one(items: builtins.list[M], what: str, ident: str | None = None) -> M:
    """The one object a show, create or update replies with; when we asked for ``ident``, that one."""
    if len(items) != 1:
        raise _invalid(f"expected exactly one {what} in results, got {len(items)}")
    got = getattr(items[0], "id", None)
    if ident is not None and got != ident:
        raise _invalid(f"asked for {what} {ident}, the response is {what} {got}")
    return items[0]


def unique(items: builtins.list[M], what: str) -> builtins.list[M]:
    """Refuse a reply listing one object twice (two inputs tied to one created milestone lose one)."""
    seen: set[str] = set()
    for item in items:
        ident = str(getattr(item, "id", ""))
        if ident in seen:
            raise _invalid(f"the response lists {what} {ident} twice")
        seen.add(ident)
    return items


def listing_page(current: RequestSpec, response: APIResponse, key: str, parse: Any, per_page: int) -> Page[Any]:
    """One page of a listing, checked against its own paging facts, with the next page's request.

    ``parse(envelope)`` resolves the page's items. The page must be the one asked for, its ``page_count``
    must follow from ``count`` and the page size, and it must hold exactly the items its position implies
    (a short page in the middle is a listing that changed or broke while it was read).
    """
    envelope = parse_envelope(response)
    items = parse(envelope)
    meta = envelope.meta
    if meta is None:
        raise _invalid(f"a {key} listing page without meta (page_count, page_number) cannot be walked safely")
    asked = int(str((current.params or {}).get("page", 1)))
    where = f"kantata {key} page {asked}"
    size = meta.page_size or per_page
    if meta.count != envelope.count:
        raise errors.PaginationError(f"{where}: count {envelope.count} but meta.count {meta.count}")
    if meta.page_number != asked:
        raise errors.PaginationError(f"{where}: the server answered page {meta.page_number} instead")
    pages = -(-envelope.count // size)
    if meta.page_count != pages and not (envelope.count == 0 and meta.page_count in (0, 1)):
        raise errors.PaginationError(
            f"{where}: page_count {meta.page_count} does not follow from count {envelope.count} in pages of {size}"
        )
    if asked > max(pages, 1):
        raise errors.PaginationError(
            f"{where}: the server now counts {pages} pages; the listing shrank while it was read, so items "
            "may have moved onto pages already read"
        )
    expected = min(size, envelope.count - (asked - 1) * size)
    if len(items) != expected:
        raise errors.PaginationError(
            f"{where}: {len(items)} items where count {envelope.count} in pages of {size} means {expected}; "
            "the listing changed or broke while it was read"
        )
    nxt = None
    if asked < meta.page_count:
        nxt = dataclasses.replace(current, params={**(current.params or {}), "page": asked + 1})
    ids = tuple([str(item.id) for item in items])  # resolve_milestones and resolve_typed give models with ids
    return Page(items, nxt, response, envelope.count, max(meta.page_count, 1), ids)
