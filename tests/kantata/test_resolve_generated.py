"""``resolve_milestones`` over generated envelopes reads as a plain reading of the documented rules would:
results in order, each milestone's side-loads (its references in id order, story, workspace) attached exactly
when the response holds them, and a reference that is missing, about another milestone or about another kind
of object still an error naming it. Its loops read fields from each model's ``__dict__`` and take the usual
single reference in one step; this oracle reads attributes, one rule at a time."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_milestones import errors
from billing_milestones.kantata._envelopes import resolve_milestones
from billing_milestones.kantata.wire import BillingMilestone, Envelope

from .test_envelopes import WORKSPACE, _ref, envelope, ms

INCLUDES = frozenset({"external_references", "story", "workspace"})


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 5))
    items, refs = [], {}
    for n in range(1, count + 1):
        ident = str(n)
        ref_ids = [f"{n}{k}" for k in range(draw(st.integers(0, 3)))]
        for ref_id in ref_ids:
            if draw(st.integers(0, 9)) == 0:
                continue  # missing from the map: named
            subject = draw(st.sampled_from([ident, ident, None, str(n + 1)]))
            kind = draw(st.sampled_from(["BillingMilestone", "BillingMilestone", None, "Story"]))
            refs[ref_id] = _ref(ref_id, subject=subject, subject_type=kind)
        story = draw(st.sampled_from([None, "70", "71"]))
        items.append(ms(ident, external_reference_ids=ref_ids, story_id=story))
    body = envelope(items)
    body["external_references"] = refs
    body["stories"] = {"70": {"id": "70", "state": "completed"}}
    if draw(st.booleans()):
        body["workspaces"] = {WORKSPACE: {"id": WORKSPACE, "currency": "USD"}}
    return body


def oracle(env: Envelope) -> list[tuple[BillingMilestone, list[Any], Any, Any]] | str:
    """Each milestone with the references, story and workspace it should carry, or the first error's text."""
    out = []
    for result in env.results:
        milestone = env.billing_milestones[result.id]
        refs = []
        for ref_id in milestone.external_reference_ids or []:
            if ref_id not in env.external_references:
                missing = [i for i in milestone.external_reference_ids or [] if i not in env.external_references]
                return f"names external_references {missing}"
            refs.append(env.external_references[ref_id])
        for ref in refs:
            if ref.subject_id is not None and ref.subject_id != milestone.id:
                return f"belongs to {ref.subject_id}, not milestone {milestone.id}"
            if ref.subject_type is not None and ref.subject_type != "BillingMilestone":
                return f"belongs to a {ref.subject_type}"
        story = env.stories.get(milestone.story_id) if milestone.story_id else None
        out.append((milestone, refs, story, env.workspaces.get(milestone.workspace_id)))
    return out


@settings(max_examples=300, deadline=None)
@given(bodies())
def test_resolving_a_generated_envelope_reads_as_the_rules_read_it(body: dict[str, Any]) -> None:
    expected = oracle(Envelope.model_validate(body))
    env = Envelope.model_validate(body)
    if isinstance(expected, str):
        with pytest.raises(errors.ValidationError) as caught:
            resolve_milestones(env, INCLUDES)
        assert expected in caught.value.message
        return
    got = resolve_milestones(env, INCLUDES)
    assert [m.id for m in got] == [m.id for m, _, _, _ in expected]
    for milestone, (want, refs, story, workspace) in zip(got, expected, strict=True):
        assert milestone.__dict__ == want.__dict__ and milestone.external_references_loaded  # state aside
        assert milestone.loaded_references() == refs
        assert milestone.story == story and milestone.workspace == workspace
        assert milestone.invoices == [] and milestone.response_info is None
