"""Concurrent ``--continue`` writers keep every turn (issue 13, item 6): ten ``aoai`` processes on
one transcript queue up on its lock instead of overwriting each other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ..conftest import AoaiRunner

WRITERS = 10


def test_ten_parallel_writers_keep_every_turn(aoai: AoaiRunner, tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "aoai", "resp", "create", f"turn {n}", "-m", "chat", "--continue", "chat.json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=aoai.env,
            cwd=tmp_path,
        )
        for n in range(WRITERS)
    ]
    results = [(proc.wait(timeout=120), proc.stderr.read().decode() if proc.stderr else "") for proc in procs]
    for proc in procs:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    assert all(code == 0 for code, _ in results), results
    items = json.loads((tmp_path / "chat.json").read_text())
    said = sorted(item["content"] for item in items if item.get("role") == "user")
    assert said == sorted(f"turn {n}" for n in range(WRITERS))
    answers = [item for item in items if item.get("type") == "message" and item.get("role") == "assistant"]
    assert len(answers) == WRITERS
    # Each turn saw every turn saved before it: the user messages alternate with answers.
    roles = [item.get("role") for item in items if item.get("role") in ("user", "assistant")]
    assert roles == ["user", "assistant"] * WRITERS
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".chat.json")] == []  # nothing left over
