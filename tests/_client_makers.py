"""Each client, blocking and asyncio, made with placeholder credentials and the options a test gives: the
tests of what every client refuses before any request share one table of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billing_milestones import (
    AsyncAutotaskClient,
    AsyncCrmComClient,
    AsyncKantataClient,
    AutotaskClient,
    CrmComClient,
    KantataClient,
)

CLIENTS: dict[str, Callable[..., Any]] = {
    "kantata": lambda **kw: KantataClient("tok-123456", **kw),
    "async-kantata": lambda **kw: AsyncKantataClient("tok-123456", **kw),
    "autotask": lambda **kw: AutotaskClient("u@example.com", "s3cret!!", "CODE1234", **kw),
    "async-autotask": lambda **kw: AsyncAutotaskClient("u@example.com", "s3cret!!", "CODE1234", **kw),
    "crmcom": lambda **kw: CrmComClient("sk-123456", **kw),
    "async-crmcom": lambda **kw: AsyncCrmComClient("sk-123456", **kw),
}
