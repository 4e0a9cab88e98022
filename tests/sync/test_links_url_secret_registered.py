"""A PostgreSQL link store URL's password is registered as the clients' secrets are, so the SDK's scrubbing
(every ``billing_milestones`` log line, a worker's stderr, exception text the CLI prints) masks it wherever a
driver or a library quotes it, in any of the forms it may be written in, beside the URL's own redaction."""

from __future__ import annotations

import pytest

from billing_milestones._http._redact import scrub
from billing_milestones.sync.store._url import parse_target


@pytest.mark.parametrize(
    ("url", "forms"),
    [
        ("postgresql://bm:Pw-2x9%40q@db.internal/links", ["Pw-2x9%40q", "Pw-2x9@q"]),
        ("postgres://bm@db.internal/links?password=Zr%2B77+k", ["Zr%2B77+k", "Zr+77+k", "Zr+77 k"]),
        ("postgresql:///links?host=/run/postgresql&password=Sock3t-pw", ["Sock3t-pw"]),
    ],
)
def test_every_form_of_the_password_is_scrubbed_once_the_url_is_read(url: str, forms: list[str]) -> None:
    for form in forms:
        assert scrub(f"libpq said: {form!r}") != "libpq said: ***"  # not known before
    parse_target(url)
    for form in forms:
        assert form not in scrub(f"connection failed: password {form} was refused")


def test_a_sqlite_path_registers_nothing() -> None:
    parse_target("sqlite:///tmp/Pw-2x9-links.db")
    assert scrub("Pw-2x9-links") == "Pw-2x9-links"
