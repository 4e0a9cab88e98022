"""What a link store accepts as a key or a text, the same on every backend, checked before anything is written.

SQLite stores any Python ``str`` (a NUL inside it, a key of any length, even ``bytes`` given by mistake) while
PostgreSQL refuses some, each its own way and only once a batch reaches it: a NUL (``DataError`` from psycopg,
``UntranslatableCharacter`` from the server's JSON reading a batch), a key whose index entry exceeds the
btree's 2704 bytes (``ProgramLimitExceeded``), a ``bytes`` value (``text = bytea``). A link the one backend
keeps and the other refuses after its milestone was created is a link lost there, and a lost link is a
milestone created twice. So both refuse the same values, with one error naming the field:

- a **key** (a pair id, a sync, source or target key, a lease's holder, a remembered name) is a ``str``
  without NUL or surrogate code points (which UTF-8 cannot encode) of at most :data:`MAX_KEY_BYTES` bytes
  as UTF-8; a sync key is checked when its intent is begun, before the write it records is sent;
- a **text** (a fingerprint) is such a ``str`` of any length;
- a **message** (an intent's detail, a run's error: what a platform answered, which may echo a title that
  held a NUL) is never refused, as refusing it would lose the failure it reports: a NUL or a surrogate
  in it is written as U+FFFD on both backends.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from ...errors import ValidationError
from ._model import Link

__all__ = [
    "MAX_KEY_BYTES",
    "checked_count",
    "checked_key",
    "checked_keys",
    "checked_link",
    "checked_text",
    "checked_writes",
    "message",
    "storable",
]

#: The longest key, in UTF-8 bytes. Two of them (the pair id and one key) make one PostgreSQL index entry,
#: which must stay under 2704 bytes; real keys (``autotask:29684/30001``) are a few dozen.
MAX_KEY_BYTES: Final = 1000
_REPLACEMENT: Final = "\ufffd"
#: What no backend stores as it is: NUL, and the surrogate code points (a Python ``str`` may hold them, UTF-8
#: has no form for them, paired or not).
_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


def _refused(field: str, value: object, why: str) -> ValidationError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return ValidationError(f"link store: {field} {why}, got {shown}", field=field, value=value)


def checked_text(field: str, value: object) -> str:
    """``value`` when every backend stores it as it is: a ``str`` without NUL or a surrogate."""
    if not isinstance(value, str):
        raise _refused(field, value, f"must be text (str), not {type(value).__name__}")
    if "\x00" in value:
        raise _refused(field, value, "must not contain a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _refused(field, value, "must not contain a surrogate code point (it has no UTF-8 form)") from None
    return value


def checked_key(field: str, value: object) -> str:
    """``value`` when every backend stores and indexes it: :func:`checked_text`, at most
    :data:`MAX_KEY_BYTES` bytes as UTF-8."""
    text = checked_text(field, value)
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise _refused(field, text, f"must be at most {MAX_KEY_BYTES} bytes as UTF-8 (it is {size})")
    return text


def storable(text: str) -> str:
    """``text`` as every backend stores it (and every log handler writes it): NULs and surrogates as U+FFFD."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNSTORABLE.sub(_REPLACEMENT, text)


def message(value: str | None) -> str | None:
    """A detail or error as every backend stores it (:func:`storable`), None kept."""
    return None if value is None else storable(value)


def checked_link(link: Link) -> Link:
    """``link`` when every backend keeps it as it is: its pair id and keys as keys, its fingerprints as texts."""
    for field in ("pair_id", "sync_key", "source_key", "target_key"):
        checked_key(field, getattr(link, field))
    for field in ("source_fp", "target_fp", "desired_fp"):
        checked_text(field, getattr(link, field))
    return link


def checked_writes(pair_id: str, writes: Sequence[tuple[str, str]]) -> Sequence[tuple[str, str]]:
    """A batch of intents about to be begun (``(sync_key, action)``), checked before any is recorded."""
    checked_key("pair_id", pair_id)
    for sync_key, action in writes:
        checked_key("sync_key", sync_key)
        checked_text("action", action)
    return writes


def checked_keys(**keys: object) -> None:
    """:func:`checked_key` for each ``field=value``."""
    for field, value in keys.items():
        checked_key(field, value)


def checked_count(field: str, value: int, *, least: int) -> int:
    """A page size or a limit: SQLite reads ``LIMIT -1`` as no limit where PostgreSQL refuses it, and a page
    of none would end a pair's links at once (a planner given none re-creates them all)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise _refused(field, value, f"must be a whole number of at least {least}")
    return value
