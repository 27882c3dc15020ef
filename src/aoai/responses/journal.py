"""The local journal: which responses this machine created or followed, and how far it saw them.

A SQLite file at ``config.state_dir(env) / "journal.sqlite3"``, created with mode 0600 in a 0700
directory. One row per response id: endpoint host, deployment, model, created time, background
flag, last sequence number seen, status and token usage. By design it holds no prompt text, no
output text and no secret, so it is safe to keep and to show (``aoai resp log``).

``aoai resp stream ID`` without ``--starting-after`` continues after the last sequence number
recorded here. Stream consumers write that number periodically (``JournalRecorder``), not per
event: one SQLite write per event would cap throughput far below what a stream delivers.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "journal.sqlite3"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id            TEXT PRIMARY KEY,
    endpoint_host TEXT NOT NULL,
    deployment    TEXT,
    model         TEXT,
    created_at    REAL,
    background    INTEGER,
    last_sequence INTEGER,
    status        TEXT,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    total_tokens  INTEGER,
    updated_at    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_by_time ON responses (created_at DESC, updated_at DESC);
"""
_COLUMNS = (
    "id",
    "endpoint_host",
    "deployment",
    "model",
    "created_at",
    "background",
    "last_sequence",
    "status",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "updated_at",
)
# On conflict keep what we knew unless the new row says more; the sequence only moves forward.
_UPSERT = f"""
INSERT INTO responses ({", ".join(_COLUMNS)}) VALUES ({", ".join("?" for _ in _COLUMNS)})
ON CONFLICT(id) DO UPDATE SET
    endpoint_host = excluded.endpoint_host,
    deployment    = COALESCE(excluded.deployment, deployment),
    model         = COALESCE(excluded.model, model),
    created_at    = COALESCE(created_at, excluded.created_at),
    background    = COALESCE(excluded.background, background),
    last_sequence = COALESCE(MAX(last_sequence, excluded.last_sequence), excluded.last_sequence, last_sequence),
    status        = COALESCE(excluded.status, status),
    input_tokens  = COALESCE(excluded.input_tokens, input_tokens),
    output_tokens = COALESCE(excluded.output_tokens, output_tokens),
    total_tokens  = COALESCE(excluded.total_tokens, total_tokens),
    updated_at    = excluded.updated_at
"""


@dataclass(frozen=True)
class JournalEntry:
    id: str
    endpoint_host: str
    deployment: str | None
    model: str | None
    created_at: float | None
    background: bool | None
    last_sequence: int | None
    status: str | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _row(row: tuple[Any, ...]) -> JournalEntry:
    values = dict(zip(_COLUMNS, row, strict=True))
    if values["background"] is not None:
        values["background"] = bool(values["background"])
    return JournalEntry(**values)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Journal:
    """The journal file. Every write is one autocommitted statement."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Open (creating with mode 0600) the journal at ``path``. Raises OSError / sqlite3.Error."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        connection = sqlite3.connect(path, timeout=5.0, isolation_level=None)
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                connection.executescript(_SCHEMA)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error:
            connection.close()
            raise
        log.debug("journal %s", path)
        return cls(connection, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(
        self,
        response_id: str,
        *,
        endpoint_host: str,
        deployment: str | None = None,
        model: str | None = None,
        created_at: float | None = None,
        background: bool | None = None,
        last_sequence: int | None = None,
        status: str | None = None,
        usage: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert or update one response; unknown (None) fields keep their stored value."""
        usage = usage or {}
        self._db.execute(
            _UPSERT,
            (
                response_id,
                endpoint_host,
                deployment,
                model,
                created_at,
                None if background is None else int(background),
                last_sequence,
                status,
                _int(usage.get("input_tokens")),
                _int(usage.get("output_tokens")),
                _int(usage.get("total_tokens")),
                time.time(),
            ),
        )

    def record_response(
        self,
        response: Mapping[str, Any],
        *,
        endpoint_host: str,
        deployment: str | None = None,
        last_sequence: int | None = None,
    ) -> None:
        """Record what a response object says about itself (id, model, times, status, usage)."""
        response_id = response.get("id")
        if not isinstance(response_id, str):
            return
        created = response.get("created_at")
        usage = response.get("usage")
        background = response.get("background")
        status = response.get("status")
        model = response.get("model")
        self.record(
            response_id,
            endpoint_host=endpoint_host,
            deployment=deployment,
            model=model if isinstance(model, str) else None,
            created_at=float(created) if isinstance(created, int | float) else None,
            background=background if isinstance(background, bool) else None,
            last_sequence=last_sequence,
            status=status if isinstance(status, str) else None,
            usage=usage if isinstance(usage, Mapping) else None,
        )

    def get(self, response_id: str) -> JournalEntry | None:
        row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM responses WHERE id = ?", (response_id,)).fetchone()
        return _row(row) if row else None

    def list(self, *, limit: int | None = None, endpoint_host: str | None = None) -> list[JournalEntry]:
        """Newest first (by created time, then last update)."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM responses"
        params: list[Any] = []
        if endpoint_host is not None:
            sql += " WHERE endpoint_host = ?"
            params.append(endpoint_host)
        sql += " ORDER BY COALESCE(created_at, updated_at) DESC, updated_at DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_row(row) for row in self._db.execute(sql, params).fetchall()]

    def latest(self, *, endpoint_host: str | None = None) -> JournalEntry | None:
        entries = self.list(limit=1, endpoint_host=endpoint_host)
        return entries[0] if entries else None


class JournalRecorder:
    """Feeds one stream's progress into the journal: the response when it first appears, the last
    sequence number at most every ``interval`` seconds, and everything at the end.

    A journal that fails (disk full, locked) is reported once through ``on_error`` and then left
    alone: losing the journal must never lose the stream.
    """

    __slots__ = (
        "_deployment",
        "_host",
        "_interval",
        "_journal",
        "_next_write",
        "_on_error",
        "_recorded",
        "_sequence",
        "_written_sequence",
        "response_id",
    )

    def __init__(
        self,
        journal: Journal | None,
        *,
        endpoint_host: str,
        deployment: str | None = None,
        response_id: str | None = None,
        interval: float = 0.5,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._journal = journal
        self._host = endpoint_host
        self._deployment = deployment
        self._interval = interval
        self._on_error = on_error
        self._recorded = False
        self._sequence: int | None = None
        self._written_sequence: int | None = None
        self._next_write = time.monotonic() + interval
        self.response_id = response_id

    def _safely(self, write: Callable[[Journal], None]) -> None:
        if self._journal is None:
            return
        try:
            write(self._journal)
        except sqlite3.Error as exc:
            self._journal = None
            log.debug("journal write failed: %s", exc)
            if self._on_error is not None:
                self._on_error(f"the journal stopped working ({exc}); continuing without it")

    def response(self, response: Mapping[str, Any], *, sequence: int | None = None) -> None:
        """A response object (from an event or an API call): record it."""
        if isinstance(response.get("id"), str):
            self.response_id = response["id"]
        self._recorded = True
        if sequence is not None:
            self._sequence = sequence
        self._safely(
            lambda j: j.record_response(
                response, endpoint_host=self._host, deployment=self._deployment, last_sequence=sequence
            )
        )
        self._written_sequence = sequence

    def sequence(self, sequence: int | None, response: Mapping[str, Any] | None) -> None:
        """Called per event: cheap unless a write is due."""
        if sequence is not None:
            self._sequence = sequence
        if not self._recorded:
            if response is not None:
                self.response(response, sequence=sequence)
            return
        now = time.monotonic()
        if now >= self._next_write:
            self._next_write = now + self._interval
            self.flush()

    def flush(self) -> None:
        """Write the last sequence number seen, if it moved."""
        if self.response_id is None or self._sequence is None or self._sequence == self._written_sequence:
            return
        seq, rid = self._sequence, self.response_id
        self._safely(lambda j: j.record(rid, endpoint_host=self._host, last_sequence=seq))
        self._written_sequence = seq

    def finish(self, response: Mapping[str, Any] | None) -> None:
        """At the end of a stream: the final object (status, usage) and the last sequence."""
        if response is not None:
            self.response(response, sequence=self._sequence)
        self.flush()
