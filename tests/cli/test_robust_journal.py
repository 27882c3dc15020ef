"""The journal is a convenience, never a blocker (issue 13, item 5): with a corrupt, locked,
read-only or foreign-schema journal every command that touches it warns once, says how to reset
it, and does its job."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from ..conftest import AoaiRunner, Result
from .sandbox import read_only, run_in_namespace

MODEL = "chat"


def _journal(tmp_path: Path) -> Path:
    return tmp_path / "state" / "journal.sqlite3"


def _corrupt(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + b"\xde\xad" * 4096)


def _foreign_schema(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE responses (id TEXT PRIMARY KEY, note TEXT)")
        db.execute("PRAGMA user_version = 1")


def _newer_schema(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")


def _background(aoai: AoaiRunner) -> str:
    created = aoai("resp", "create", "Say hi", "-m", MODEL, "--background", "--stream", "-o", "text")
    assert created.code == 0, created.stderr
    rid = aoai("resp", "log", "-o", "json")
    assert rid.code == 0
    import json

    return str(json.loads(rid.stdout)[0]["id"])


def _warned_once(result: Result, needle: str) -> None:
    warnings = [line for line in result.stderr.splitlines() if "journal" in line and needle in line]
    assert len(warnings) == 1, result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output


@pytest.mark.parametrize(
    ("damage", "needle"),
    [(_corrupt, "cannot be used"), (_foreign_schema, "not an aoai journal"), (_newer_schema, "newer aoai")],
    ids=["corrupt", "foreign-schema", "newer-schema"],
)
def test_every_journal_command_carries_on(
    aoai: AoaiRunner, tmp_path: Path, damage: Callable[[Path], None], needle: str
) -> None:
    rid = _background(aoai)
    damage(_journal(tmp_path))
    log = aoai("resp", "log")
    assert log.code == 0
    _warned_once(log, needle)
    if needle != "newer aoai":
        assert f"rm {_journal(tmp_path)}" in log.stderr  # how to reset it
    stream = aoai("resp", "stream", rid)
    assert stream.code == 0 and stream.stdout.strip(), stream.stderr
    _warned_once(stream, needle)
    last = aoai("resp", "stream", "--last")
    assert last.code == 2
    assert last.stderr.strip().splitlines()[-1].startswith("aoai: error: --last reads the journal")
    deleted = aoai("resp", "delete", rid, "--yes")
    assert deleted.code == 0 and f"deleted {rid}" in deleted.stdout
    _warned_once(deleted, needle)
    fresh = aoai("resp", "create", "again", "-m", MODEL)
    assert fresh.code == 0
    _warned_once(fresh, needle)


def test_a_locked_journal_costs_only_the_journal(aoai: AoaiRunner, tmp_path: Path) -> None:
    rid = _background(aoai)
    holder = sqlite3.connect(_journal(tmp_path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        for args in (("resp", "log"), ("resp", "stream", rid), ("resp", "get", rid)):
            result = aoai(*args)
            assert result.code == 0, result.stderr
            _warned_once(result, "locked by another program")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_read_only_journal_is_read_and_not_written(aoai: AoaiRunner, tmp_path: Path) -> None:
    rid = _background(aoai)
    state = tmp_path / "state"
    log = run_in_namespace([read_only(state)], ["resp", "log"], env=aoai.env, cwd=tmp_path)
    assert log.code == 0, log.stderr
    assert rid in log.stdout
    _warned_once(log, "read-only")
    fresh = run_in_namespace([read_only(state)], ["resp", "create", "hi", "-m", MODEL], env=aoai.env, cwd=tmp_path)
    assert fresh.code == 0, fresh.stderr
    _warned_once(fresh, "read-only")
