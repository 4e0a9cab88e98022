"""One check shared by the adapters' read tests: a common model built from trusted values is the one the
validating constructors build, in every respect a caller can observe."""

from __future__ import annotations

from billing_milestones.model import CommonModel, Milestone, _SharedFields
from billing_milestones.money import Money


def assert_same_model(got: CommonModel, expected: CommonModel) -> None:
    """Equal as pydantic models are compared, and in every other respect a caller can observe."""
    assert type(got) is type(expected)
    assert got == expected and repr(got) == repr(expected)
    assert got.model_fields_set == expected.model_fields_set
    # A plain set, or the read-only one the trusted reads share between instances of one shape.
    assert type(expected.model_fields_set) is set and type(got.model_fields_set) in (set, _SharedFields)
    assert got.model_extra is None and expected.model_extra is None
    assert got.__pydantic_private__ == expected.__pydantic_private__
    assert list(got.__dict__) == list(expected.__dict__)  # declared order (repr and iteration)
    for name, value in expected.__dict__.items():
        mine = got.__dict__[name]
        if name == "raw" and type(value) is dict:  # read lazily (LazyRaw), the validating constructor's a dict
            assert mine == value and dict(mine) == value
            continue
        assert type(mine) is type(value), name
        if isinstance(value, CommonModel):
            assert isinstance(mine, CommonModel)
            assert_same_model(mine, value)
        elif isinstance(value, tuple):
            assert len(mine) == len(value)
            for a, b in zip(mine, value, strict=True):
                assert isinstance(a, CommonModel) and isinstance(b, CommonModel)
                assert_same_model(a, b)
        elif isinstance(value, Money):
            assert mine == value and str(mine) == str(value) and hash(mine) == hash(value)
            assert mine.amount.as_tuple() == value.amount.as_tuple()  # the same digits and exponent
    assert got.model_dump() == expected.model_dump()
    assert got.model_dump_json() == expected.model_dump_json()
    if not isinstance(got, Milestone):  # a milestone's raw payload is a mapping: not hashable, on both
        assert hash(got) == hash(expected)
