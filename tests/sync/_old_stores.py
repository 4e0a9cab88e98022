"""A store as the first SDK version made it (schema version 1: meta and links, no desired fingerprint), for
the tests of what opening or migrating such a store upgrades."""

from __future__ import annotations

from typing import Final

#: Its meta and links tables, the version recorded; a test adds its own rows (executescript).
VERSION_1_SCHEMA: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE links (pair_id TEXT NOT NULL, sync_key TEXT NOT NULL, source_key TEXT NOT NULL,
    target_key TEXT NOT NULL, source_fp TEXT NOT NULL, target_fp TEXT NOT NULL,
    updated_at TEXT NOT NULL, PRIMARY KEY (pair_id, sync_key));
"""
