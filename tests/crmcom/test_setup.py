"""crm.com client options checked where given (issue 12): the valid spellings still build a client."""

from __future__ import annotations

import pytest

from billing_milestones import CrmComClient, errors
from billing_milestones.crmcom.adapter import AmountPreference


@pytest.mark.parametrize("prefer", ["percentage", AmountPreference.PERCENTAGE])
def test_prefer_takes_the_enum_or_its_value(prefer: AmountPreference | str) -> None:
    with CrmComClient("k", prefer=prefer) as client:
        assert client._drafts.prefer is AmountPreference.PERCENTAGE


@pytest.mark.parametrize("prefer", ["PERCENTAGE", "amounts", 1])
def test_any_other_prefer_is_refused_by_name(prefer: object) -> None:
    with pytest.raises(errors.ValidationError, match="'amount', 'percentage'") as bad:
        CrmComClient("k", prefer=prefer)  # type: ignore[arg-type]
    assert bad.value.field == "prefer"


@pytest.mark.parametrize("expires", [0, 1_700_000_000, 1_700_000_000.5])
def test_token_expires_at_is_unix_seconds_past_ones_included(expires: float) -> None:
    with CrmComClient(bearer_token="t", token_expires_at=expires) as client:
        assert client.token_expires_at == float(expires)


@pytest.mark.parametrize("expires", [-1, float("nan"), "1700000000", True])
def test_token_expires_at_that_is_no_time_is_refused_by_name(expires: object) -> None:
    with pytest.raises(errors.ValidationError) as bad:
        CrmComClient(bearer_token="t", token_expires_at=expires)  # type: ignore[arg-type]
    assert bad.value.field == "token_expires_at"
