"""autotask/_core: a success's body is parsed once, by the core's error-body check, and that parse is what the
operation reads (``parsed_body``), so a page is neither parsed twice nor lower-cased whole to look for the word
"errors" first (error bodies on a 200 stay refused: test_casing, test_envelopes)."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from billing_milestones._http import _request

from .scripted import CID, Scripted, chain, record


def test_a_listing_page_is_parsed_once() -> None:
    parses: list[Any] = []
    real = _request.loads  # type: ignore[attr-defined]

    def counted(data: Any) -> Any:
        parses.append(data)
        return real(data)

    server = Scripted(pages=chain([record(1), record(2, status=2)], [record(3, title="Last")]))
    with server.client() as client, patch.object(_request, "loads", counted):
        assert len(list(client.milestones.list(str(CID)))) == 3
        assert len(list(client.contract_milestones.query())) == 3
    assert parses == []  # every body read was the core's parse, handed over (APIResponse.json never ran)
