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

import errno
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

FILE_NAME = "journal.sqlite3"
_BUSY_TIMEOUT = 2.0  # seconds to wait for another aoai's write; longer means the lock is stuck
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


def _entry(row: tuple[Any, ...]) -> JournalEntry | None:
    """A row as an entry; None when a value has a type the schema does not allow (a hand-edited file)."""
    values = dict(zip(_COLUMNS, row, strict=True))
    if not isinstance(values["id"], str) or not isinstance(values["endpoint_host"], str):
        return None
    for name in ("last_sequence", "input_tokens", "output_tokens", "total_tokens", "background"):
        if values[name] is not None and not isinstance(values[name], int):
            return None
    for name in ("created_at", "updated_at"):
        if values[name] is not None and not isinstance(values[name], int | float):
            return None
    if values["background"] is not None:
        values["background"] = bool(values["background"])
    return JournalEntry(**values)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class JournalUnusable(Exception):
    """The journal cannot be opened; the message says why and how to reset it."""


def _reset_hint(path: Path) -> str:
    return f"to start a new journal, delete it (rm {path}); --no-journal hides this"


def _problem(path: Path, exc: Exception) -> str:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return f"the journal {path} is locked by another program; continuing without it this time"
    return f"the journal {path} cannot be used ({exc}); continuing without it — {_reset_hint(path)}"


_T = TypeVar("_T")


class Journal:
    """The journal file. Every write is one autocommitted statement.

    A convenience, never a blocker: once opened, any SQLite failure (corrupt file, lock held too
    long, read-only disk, a table of another shape) is reported once through ``on_error`` and the
    journal then acts empty, so the command carries on.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        *,
        writable: bool = True,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._db = connection
        self.path = path
        self.writable = writable
        self.on_error = on_error
        self._broken = False

    @classmethod
    def open(cls, path: Path, *, on_error: Callable[[str], None] | None = None) -> Journal:
        """Open (creating with mode 0600) the journal at ``path``.

        A journal on a read-only disk is opened read-only (``writable`` False). Raises
        ``JournalUnusable`` with a one-line reason when it cannot be used at all."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            writable = True
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                os.close(fd)
                if path.stat().st_mode & 0o077:
                    path.chmod(0o600)
            except OSError as exc:
                if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM) or not path.is_file():
                    raise
                writable = False
            uri = path.resolve().as_uri() + ("" if writable else "?mode=ro")
            connection = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise JournalUnusable(_problem(path, exc)) from exc
        try:
            cls._check_schema(connection, path, writable=writable)
        except (sqlite3.Error, JournalUnusable) as exc:
            connection.close()
            if isinstance(exc, JournalUnusable):
                raise
            raise JournalUnusable(_problem(path, exc)) from exc
        log.debug("journal %s%s", path, "" if writable else " (read-only)")
        journal = cls(connection, path, writable=writable, on_error=on_error)
        if not writable and on_error is not None:
            on_error(f"the journal {path} is read-only; reading it, recording nothing")
        return journal

    @staticmethod
    def _check_schema(connection: sqlite3.Connection, path: Path, *, writable: bool) -> None:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalUnusable(
                f"the journal {path} was written by a newer aoai (schema {version}, this one reads "
                f"{SCHEMA_VERSION}); continuing without it — {_reset_hint(path)}"
            )
        if version < SCHEMA_VERSION and writable:
            connection.executescript(_SCHEMA)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        columns = {row[1] for row in connection.execute("PRAGMA table_info(responses)")}
        if not set(_COLUMNS) <= columns:
            raise JournalUnusable(
                f"the journal {path} is not an aoai journal (no responses table of the expected shape); "
                f"continuing without it — {_reset_hint(path)}"
            )

    def _guard(self, action: Callable[[], _T], default: _T) -> _T:
        if self._broken:
            return default
        try:
            return action()
        except sqlite3.Error as exc:
            self._fail(exc)
            return default

    def _fail(self, exc: Exception) -> None:
        self._broken = True
        log.debug("journal failed: %s", exc)
        if self.on_error is not None:
            self.on_error(_problem(self.path, exc))

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
        if not self.writable:
            return
        usage = usage or {}
        values = (
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
        )
        self._guard(lambda: self._db.execute(_UPSERT, values), None)

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
        sql = f"SELECT {', '.join(_COLUMNS)} FROM responses WHERE id = ?"
        row = self._guard(lambda: self._db.execute(sql, (response_id,)).fetchone(), None)
        return _entry(row) if row else None

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
        rows: list[tuple[Any, ...]] = self._guard(lambda: self._db.execute(sql, params).fetchall(), [])
        entries = [entry for entry in map(_entry, rows) if entry is not None]
        if len(entries) < len(rows):
            self._fail(sqlite3.DatabaseError("rows of an unexpected shape"))
        return entries

    def latest(self, *, endpoint_host: str | None = None) -> JournalEntry | None:
        entries = self.list(limit=1, endpoint_host=endpoint_host)
        return entries[0] if entries else None


class JournalRecorder:
    """Feeds one stream's progress into the journal: the response when it first appears, the last
    sequence number at most every ``interval`` seconds, and everything at the end.

    A journal that fails (disk full, locked) reports it once and then acts empty: losing the
    journal must never lose the stream.
    """

    __slots__ = (
        "_deployment",
        "_host",
        "_interval",
        "_journal",
        "_next_write",
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
    ) -> None:
        self._journal = journal
        self._host = endpoint_host
        self._deployment = deployment
        self._interval = interval
        self._recorded = False
        self._sequence: int | None = None
        self._written_sequence: int | None = None
        self._next_write = time.monotonic() + interval
        self.response_id = response_id

    def _safely(self, write: Callable[[Journal], None]) -> None:
        if self._journal is not None:
            write(self._journal)  # the journal reports its own failures (once) and carries on

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
