"""A job's error says which pair and what failed first, bounded: the platform writes the failure's text (a
validation message can carry a whole payload), and the worker logs the job's error with every failed run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from billing_milestones.model import Platform
from billing_milestones.sandbox.kantata import DEMO_TOKEN
from billing_milestones.sync.config import Settings
from billing_milestones.sync.connect import connect
from billing_milestones.workers._run import PairRunRefused, run_pair

from .conftest import Deployment

#: A validation message echoing the request's token (a server may echo a credential back), then a payload.
_HUGE = f"title is not valid (token {DEMO_TOKEN}): " + "x" * 200_000


class _RefusingCreates(httpx.BaseTransport):
    """Kantata over loopback, refusing every create with a 422 whose message is 200 kB long."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/billing_milestones"):
            body = {"errors": [{"type": "validation", "message": _HUGE, "field": "title"}]}
            return httpx.Response(422, json=body, request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_failed_runs_error_is_bounded(deployment: Deployment) -> None:
    def connector(platform: Platform, settings: Settings) -> Any:
        if platform is Platform.KANTATA:
            return connect(platform, settings, http_client=httpx.Client(transport=_RefusingCreates()))
        return connect(platform, settings)

    with pytest.raises(PairRunRefused) as caught:  # a 422: refused for what it sent, not retried
        run_pair(deployment.settings(), "erp", connector=connector)
    text = str(caught.value)
    assert text.startswith("pair erp: 4 write(s) refused for what they sent (first: ")
    assert "title is not valid (token" in text and DEMO_TOKEN not in text
    assert text.endswith("the API user's rights") and len(text) < 1_000, len(text)
