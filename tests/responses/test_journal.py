"""The local journal: file mode, upsert rules, periodic writes, no text and no secrets."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from aoai.responses.journal import Journal, JournalRecorder


def test_created_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.sqlite3"
    with Journal.open(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_existing_loose_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    Journal.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_record_keeps_known_fields_and_moves_the_sequence_forward_only(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        journal.record("resp_1", endpoint_host="h:1", deployment="chat", created_at=100.0, background=True)
        journal.record("resp_1", endpoint_host="h:1", last_sequence=10, status="in_progress")
        journal.record("resp_1", endpoint_host="h:1", last_sequence=4)
        journal.record(
            "resp_1",
            endpoint_host="h:1",
            created_at=999.0,
            usage={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
        )
        entry = journal.get("resp_1")
    assert entry is not None
    assert (entry.deployment, entry.created_at, entry.background) == ("chat", 100.0, True)
    assert entry.last_sequence == 10
    assert entry.status == "in_progress"
    assert (entry.input_tokens, entry.output_tokens, entry.total_tokens) == (1, 2, 3)


def test_list_is_newest_first_and_latest_can_filter_by_host(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        journal.record("resp_old", endpoint_host="a", created_at=1.0)
        journal.record("resp_new", endpoint_host="b", created_at=3.0)
        journal.record("resp_mid", endpoint_host="a", created_at=2.0)
        assert [e.id for e in journal.list()] == ["resp_new", "resp_mid", "resp_old"]
        assert [e.id for e in journal.list(limit=1)] == ["resp_new"]
        latest = journal.latest(endpoint_host="a")
        assert latest is not None and latest.id == "resp_mid"
        assert journal.get("resp_missing") is None


def test_record_response_stores_no_text(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    response = {
        "id": "resp_1",
        "created_at": 1700000000,
        "status": "completed",
        "model": "gpt-4.1",
        "background": False,
        "instructions": "INSTRUCTIONS-TEXT",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "OUTPUT-TEXT"}]}],
        "usage": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
    }
    with Journal.open(path) as journal:
        journal.record_response(response, endpoint_host="h", deployment="chat")
        entry = journal.get("resp_1")
    assert entry is not None and entry.total_tokens == 12 and entry.model == "gpt-4.1"
    raw = path.read_bytes()
    assert b"OUTPUT-TEXT" not in raw and b"INSTRUCTIONS-TEXT" not in raw


def test_recorder_writes_periodically_and_at_the_end(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    recorder = JournalRecorder(journal, endpoint_host="h", deployment="chat", interval=3600.0)
    recorder.sequence(0, {"id": "resp_1", "status": "queued", "background": True})
    assert journal.get("resp_1") is not None
    for seq in range(1, 100):
        recorder.sequence(seq, None)
    stored = journal.get("resp_1")
    assert stored is not None and stored.last_sequence == 0  # not yet: the interval has not passed
    recorder.flush()
    stored = journal.get("resp_1")
    assert stored is not None and stored.last_sequence == 99
    recorder.sequence(120, None)
    recorder.finish({"id": "resp_1", "status": "completed", "usage": {"total_tokens": 9}})
    stored = journal.get("resp_1")
    assert stored is not None and (stored.last_sequence, stored.status, stored.total_tokens) == (120, "completed", 9)
    eager = JournalRecorder(journal, endpoint_host="h", interval=0.0)
    eager.sequence(0, {"id": "resp_2"})
    eager.sequence(5, None)
    stored = journal.get("resp_2")
    assert stored is not None and stored.last_sequence == 5  # due at once with a zero interval


def test_a_failing_journal_is_reported_once_and_then_left_alone(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3")
    journal.close()  # every write now raises sqlite3.ProgrammingError
    errors: list[str] = []
    recorder = JournalRecorder(journal, endpoint_host="h", on_error=errors.append)
    recorder.sequence(0, {"id": "resp_1"})
    recorder.finish({"id": "resp_1", "status": "completed"})
    assert len(errors) == 1 and "continuing without it" in errors[0]


def test_open_fails_cleanly_on_a_directory(tmp_path: Path) -> None:
    target = tmp_path / "dir"
    target.mkdir()
    with pytest.raises((OSError, sqlite3.Error)):
        Journal.open(target)
