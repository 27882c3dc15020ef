"""The ``--continue FILE`` transcript: load, turn into items, save atomically with a private mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aoai.errors import UsageError
from aoai.responses import transcript


def test_missing_file_starts_a_conversation_and_save_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    assert transcript.load(path) == []
    items = [{"role": "user", "content": "héllo"}, {"type": "reasoning", "summary": [], "encrypted_content": "gA"}]
    transcript.save(path, items)
    assert transcript.load(path) == items
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["chat.json"]  # no temporary file left behind


def test_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text("[]")
    os.chmod(path, 0o640)
    transcript.save(path, [{"role": "user", "content": "x"}])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"role": "user"}', "expected a JSON list of items, found a dict"),
        ('[{"role": "user"}, 3]', "item 1 is a int"),
    ],
)
def test_bad_transcripts_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "chat.json"
    path.write_text(content)
    with pytest.raises(UsageError) as caught:
        transcript.load(path)
    assert message in caught.value.message


def test_empty_file_and_missing_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("\n")
    assert transcript.load(empty) == []
    with pytest.raises(UsageError, match="does not exist"):
        transcript.load(tmp_path / "no" / "chat.json")


def test_as_items() -> None:
    assert transcript.as_items(None) == []
    assert transcript.as_items("hi") == [{"role": "user", "content": "hi"}]
    items = [{"type": "function_call_output", "call_id": "c", "output": "1"}]
    assert transcript.as_items(items) == items and transcript.as_items(items) is not items


def test_a_second_loader_waits_for_the_lock_and_says_so(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "chat.json"
    transcript.load(path)
    holder = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from aoai.responses import transcript\n"
            "try:\n    transcript.load(Path(sys.argv[1]), notify=print, wait=0.3)\n"
            "except Exception as e:\n    print(type(e).__name__, e)",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "waiting for another aoai" in holder.stdout
    assert "AoaiError" in holder.stdout and "nothing sent" in holder.stdout
    transcript.save(path, [{"role": "user", "content": "x"}])  # releases
    assert path not in transcript._locks
