"""The local journal: file mode, upsert rules, periodic writes, no text and no secrets."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from aoai.responses.journal import Journal, JournalRecorder, JournalUnusable


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
    errors: list[str] = []
    journal = Journal.open(tmp_path / "j.sqlite3", on_error=errors.append)
    journal.close()  # every write now raises sqlite3.ProgrammingError
    recorder = JournalRecorder(journal, endpoint_host="h")
    recorder.sequence(0, {"id": "resp_1"})
    recorder.finish({"id": "resp_1", "status": "completed"})
    assert len(errors) == 1 and "continuing without it" in errors[0]


def test_open_fails_cleanly_on_a_directory(tmp_path: Path) -> None:
    target = tmp_path / "dir"
    target.mkdir()
    with pytest.raises(JournalUnusable, match="cannot be used"):
        Journal.open(target)


# -- never a blocker (issue 13, item 5) ---------------------------------------------------------------


def test_a_corrupt_file_is_unusable_with_a_reset_hint(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalUnusable) as caught:
        Journal.open(path)
    assert f"rm {path}" in str(caught.value) and "continuing without it" in str(caught.value)


def test_a_newer_schema_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 9")
    with pytest.raises(JournalUnusable, match="newer aoai"):
        Journal.open(path)


def test_a_table_of_another_shape_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE responses (id TEXT)")
        db.execute("PRAGMA user_version = 1")
    with pytest.raises(JournalUnusable, match="expected shape"):
        Journal.open(path)


def test_rows_of_the_wrong_type_are_skipped_and_reported_once(tmp_path: Path) -> None:
    errors: list[str] = []
    with Journal.open(tmp_path / "j.sqlite3", on_error=errors.append) as journal:
        journal.record("resp_1", endpoint_host="h", last_sequence=3)
        journal._db.execute("UPDATE responses SET last_sequence = 'x'")
        assert journal.list() == [] and journal.get("resp_1") is None
    assert len(errors) == 1 and "cannot be used" in errors[0]


def test_a_lock_held_elsewhere_costs_only_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    errors: list[str] = []
    journal = Journal.open(path, on_error=errors.append)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        journal.record("resp_1", endpoint_host="h")
        assert journal.get("resp_1") is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        journal.close()
    assert len(errors) == 1 and "locked by another program" in errors[0]
