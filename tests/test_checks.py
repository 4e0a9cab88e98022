"""The shared argument checks (billing_milestones._checks)."""

from __future__ import annotations

import pytest

from billing_milestones import errors
from billing_milestones._checks import positive_int


def test_a_positive_int_is_returned_as_given() -> None:
    assert positive_int(1, "max_threads") == 1
    assert positive_int(10_000, "max_threads") == 10_000


@pytest.mark.parametrize("bad", [0, -1, True, False, 1.0, "1", None])
def test_anything_else_is_refused_naming_the_field_and_the_value(bad: object) -> None:
    with pytest.raises(errors.ValidationError) as info:
        positive_int(bad, "max_entries")
    assert str(info.value) == f"max_entries: expected a positive int, got {bad!r}"
    assert info.value.field == "max_entries" and info.value.value == bad
