"""Registered secrets scrubbed from every record a command's own log handler writes, whoever logged it.

The package's loggers scrub their messages (``_http._redact``), but a filter on a logger sees only what is
logged on that logger: ``milestones worker``'s log on stderr is mostly other libraries' (procrastinate logs
every failed job with its traceback, on a logger named after the worker; psycopg's pool, httpx), and a
traceback is not the message at all. A filter on the handler sees every record it writes, and this one scrubs
the message and the exception's text: a job's error that its history row shows masked was printed in the
clear beside it. A traceback holding a secret is kept as scrubbed text (the record's ``exc_text``) in place
of the exception itself, which any formatter would print whole.
"""

from __future__ import annotations

import logging

from .._http._redact import scrub

__all__ = ["ScrubRecords", "scrub_handlers"]

_FORMATTER = logging.Formatter()


class ScrubRecords(logging.Filter):
    """A handler's filter: the record's message, traceback and stack with every registered secret masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a library's malformed call: the handler reports it as logging does, not its caller
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = record.exc_text or _FORMATTER.formatException(record.exc_info)
            cleaned = scrub(text)
            if cleaned != text:
                record.exc_info, record.exc_text = None, cleaned
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def scrub_handlers(target: logging.Logger) -> None:
    """Put :class:`ScrubRecords` on each of ``target``'s handlers (once, however often asked)."""
    for handler in target.handlers:
        if not any(isinstance(f, ScrubRecords) for f in handler.filters):
            handler.addFilter(ScrubRecords())
