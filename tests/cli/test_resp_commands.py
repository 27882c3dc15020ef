"""Every ``aoai resp`` command, end to end: the real ``aoai`` subprocess against the emulator."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from aoai.emulator import server

from ..conftest import AoaiRunner, control

MODEL = "chat"


def create_id(aoai: AoaiRunner, *args: str) -> str:
    result = aoai("resp", "create", *args)
    assert result.code == 0, result.stderr
    return result.stdout.strip()


def test_create_prints_the_text_and_the_footer(aoai: AoaiRunner) -> None:
    plain = aoai("resp", "create", "Explain retries", "-m", MODEL)
    assert plain.code == 0, plain.stderr
    assert plain.stdout and not plain.stdout.startswith("aoai:")
    footer = plain.stderr.strip().splitlines()[-1]
    assert footer.startswith("aoai: resp_") and "· completed ·" in footer and "tokens" in footer
    streamed = aoai("resp", "create", "Explain retries", "-m", MODEL, "--stream")
    assert streamed.code == 0, streamed.stderr
    assert streamed.stdout == plain.stdout  # deterministic text, streamed deltas untouched
    assert "first token" in streamed.stderr


def test_create_json_and_jsonl(aoai: AoaiRunner) -> None:
    result = aoai("resp", "create", "Hello", "-m", MODEL, "-o", "json", "--metadata", "team=core")
    assert result.code == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["status"] == "completed" and response["metadata"] == {"team": "core"}
    result = aoai("resp", "create", "Hello", "-m", MODEL, "--stream", "-o", "jsonl")
    assert result.code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[0]["type"] == "response.created" and events[-1]["type"] == "response.completed"
    streamed_json = aoai("resp", "create", "Hello", "-m", MODEL, "--stream", "-o", "json")
    final = json.loads(streamed_json.stdout)
    assert final["status"] == "completed"
    assert final["output"][0]["content"] == events[-1]["response"]["output"][0]["content"]


def test_create_sends_every_option(aoai: AoaiRunner, emulator: server.RunningEmulator, tmp_path: Path) -> None:
    tool = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    (tmp_path / "tool.json").write_text(json.dumps(tool))
    control(emulator, "DELETE", "/_emulator/requests")
    result = aoai(
        "resp", "create", "Weather?", "-m", "reasoner", "-i", "Be brief.", "--tool", "@tool.json",
        "--tool-choice", "auto", "--include", "reasoning.encrypted_content", "--reasoning-effort", "low",
        "--max-output-tokens", "400", "--metadata", "a=1", "--compact-threshold", "5000", "--no-store",
        "--param", "parallel_tool_calls=false", "-o", "json", "--no-journal",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    body = control(emulator, "GET", "/_emulator/requests")["requests"][-1]["body"]
    assert body == {
        "model": "reasoner",
        "input": "Weather?",
        "instructions": "Be brief.",
        "store": False,
        "tools": [tool],
        "tool_choice": "auto",
        "include": ["reasoning.encrypted_content"],
        "reasoning": {"effort": "low"},
        "max_output_tokens": 400,
        "metadata": {"a": "1"},
        "context_management": [{"type": "compaction", "compact_threshold": 5000}],
        "parallel_tool_calls": False,
    }


def test_input_file_forms_and_previous_response(aoai: AoaiRunner, tmp_path: Path) -> None:
    first = json.loads(aoai("resp", "create", "Remember the word kiwi", "-m", MODEL, "-o", "json").stdout)
    (tmp_path / "items.json").write_text(json.dumps([{"role": "user", "content": "What word?"}]))
    result = aoai("resp", "create", "--input-file", "items.json", "-m", MODEL, "-p", first["id"], "-o", "json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["previous_response_id"] == first["id"]
    piped = aoai("resp", "create", "--input-file", "-", "-m", MODEL, input="text from stdin")
    direct = aoai("resp", "create", "text from stdin", "-m", MODEL)
    assert piped.code == 0 and piped.stdout == direct.stdout


def test_retrieve_and_resume_stream_are_the_design_names_get_and_stream_their_aliases(aoai: AoaiRunner) -> None:
    listing = aoai("resp", "--help").stdout
    for name in ("retrieve", "get", "resume-stream", "stream"):
        assert f"\n  {name} " in listing
    assert aoai("resp", "get", "--help").stdout.replace("resp get", "resp retrieve") == aoai(
        "resp", "retrieve", "--help"
    ).stdout
    full = aoai("resp", "create", "Stream me", "-m", MODEL, "--stream", "--background")
    rid = full.stderr.strip().splitlines()[-1].split()[1]
    resumed = aoai("resp", "resume-stream", rid, "--starting-after", "0")
    assert resumed.code == 0 and resumed.stdout == full.stdout
    assert aoai("resp", "stream", rid, "--starting-after", "0").stdout == full.stdout
    retrieved = aoai("resp", "retrieve", rid, "-o", "json")
    assert retrieved.code == 0 and json.loads(retrieved.stdout)["id"] == rid
    assert aoai("resp", "get", rid, "-o", "json").stdout == retrieved.stdout


def test_background_get_wait_and_cancel(aoai: AoaiRunner) -> None:
    rid = create_id(aoai, "A short story", "-m", MODEL, "--background")
    assert rid.startswith("resp_")
    waited = aoai("resp", "retrieve", rid, "--wait", "--interval", "0.1")
    assert waited.code == 0, waited.stderr
    assert f"{rid} · completed" in waited.stderr
    again = aoai("resp", "get", rid)
    assert again.stdout == waited.stdout and again.code == 0
    as_json = json.loads(aoai("resp", "get", rid, "-o", "json").stdout)
    assert as_json["id"] == rid and as_json["background"] is True
    # Cancel is idempotent: a finished response keeps its final status.
    cancelled = aoai("resp", "cancel", rid)
    assert cancelled.code == 0 and cancelled.stdout == "completed\n"


def test_create_wait_and_cancel_a_running_response(aoai: AoaiRunner) -> None:
    waited = aoai("resp", "create", "Short", "-m", MODEL, "--background", "--wait", "--interval", "0.1")
    assert waited.code == 0, waited.stderr
    assert "completed" in waited.stderr and waited.stdout
    long = ["--param", 'metadata={"emulator_output_tokens": "50000"}']
    rid = create_id(aoai, "A very long story", "-m", MODEL, "--background", *long)
    cancelled = aoai("resp", "cancel", rid, "-o", "json")
    assert cancelled.code == 0 and json.loads(cancelled.stdout)["status"] == "cancelled"
    assert aoai("resp", "cancel", rid).stdout == "cancelled\n"
    # Waiting on a cancelled response ends with exit 1 and says so.
    result = aoai("resp", "get", rid, "--wait")
    assert result.code == 1
    assert result.stderr.strip().endswith(f"aoai: error: response {rid} was cancelled")


def test_wait_timeout_exits_4(aoai: AoaiRunner) -> None:
    rid = create_id(
        aoai, "Long", "-m", MODEL, "--background", "--param", 'metadata={"emulator_output_tokens": "50000"}'
    )
    result = aoai("resp", "get", rid, "--wait", "--interval", "0.1", "--timeout", "0.3")
    assert result.code == 4
    assert f"response {rid} is still in_progress after 0.3 s" in result.stderr
    aoai("resp", "cancel", rid)


def test_stream_again_from_the_journal_from_a_number_and_last(aoai: AoaiRunner) -> None:
    full = aoai("resp", "create", "Stream me", "-m", MODEL, "--stream", "--background")
    assert full.code == 0, full.stderr
    rid = full.stderr.strip().splitlines()[-1].split()[1]
    events = [
        json.loads(x) for x in aoai("resp", "stream", rid, "--starting-after", "0", "-o", "jsonl").stdout.splitlines()
    ]
    assert events[0]["sequence_number"] == 1
    # From a number: only what follows.
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    cut = deltas[2]["sequence_number"]
    rest = aoai("resp", "stream", rid, "--starting-after", str(cut))
    assert rest.code == 0
    assert rest.stdout == "".join(d["delta"] for d in deltas[3:])
    # From the journal: this machine saw the whole stream, so nothing follows; the status is shown.
    again = aoai("resp", "stream", rid)
    assert again.code == 0 and again.stdout == ""
    assert "continuing after event" in again.stderr and "completed" in again.stderr
    # --last picks the most recent response of this endpoint.
    last = aoai("resp", "stream", "--last", "--starting-after", "0")
    assert last.code == 0 and f"following {rid}" in last.stderr
    assert last.stdout == full.stdout


def test_stream_of_a_foreground_response_is_refused(aoai: AoaiRunner) -> None:
    rid = json.loads(aoai("resp", "create", "x", "-m", MODEL, "-o", "json").stdout)["id"]
    result = aoai("resp", "stream", rid, "--no-journal")
    assert result.code == 2
    assert result.stderr.startswith("aoai: error: 400") and len(result.stderr.strip().splitlines()) == 1


def test_delete_with_yes_and_get_after_is_not_found(aoai: AoaiRunner) -> None:
    rid = json.loads(aoai("resp", "create", "x", "-m", MODEL, "-o", "json").stdout)["id"]
    deleted = aoai("resp", "delete", rid)  # stdin is not a terminal: no question asked
    assert deleted.code == 0 and deleted.stdout == f"deleted {rid}\n"
    gone = aoai("resp", "get", rid)
    assert gone.code == 5
    assert "not found" in gone.stderr and "(request id " in gone.stderr
    assert aoai("resp", "delete", rid, "--yes").code == 5


def _run_on_tty(aoai: AoaiRunner, args: list[str], answer: bytes) -> tuple[int, str]:
    """Run aoai with stdin and stdout on a pseudo-terminal; answer the first prompt."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aoai", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=aoai.env,
        cwd=aoai.cwd,
    )
    os.close(follower)
    output = b""
    answered = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(leader, answer)
                answered = True
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=30)
    os.close(leader)
    return code, output.decode(errors="replace")


def test_delete_asks_on_a_terminal(aoai: AoaiRunner) -> None:
    rid = json.loads(aoai("resp", "create", "x", "-m", MODEL, "-o", "json").stdout)["id"]
    code, output = _run_on_tty(aoai, ["resp", "delete", rid], b"n\n")
    assert f"Delete response {rid}?" in output and code == 1 and "not deleted" in output
    assert aoai("resp", "get", rid).code == 0
    code, output = _run_on_tty(aoai, ["resp", "delete", rid], b"y\n")
    assert code == 0 and f"deleted {rid}" in output
    assert aoai("resp", "get", rid).code == 5


def test_stream_on_a_terminal_renders_live_then_the_footer(aoai: AoaiRunner) -> None:
    code, output = _run_on_tty(aoai, ["resp", "create", "Explain retries", "-m", MODEL], b"")
    assert code == 0
    plain = aoai("resp", "create", "Explain retries", "-m", MODEL).stdout
    assert plain.split()[0] in output and plain.split()[-1] in output
    assert "· completed ·" in output and "first token" in output  # streamed by default on a TTY


def test_compact_save_and_continue(aoai: AoaiRunner, tmp_path: Path) -> None:
    rid = json.loads(aoai("resp", "create", "Plan a dog cafe website", "-m", MODEL, "-o", "json").stdout)["id"]
    result = aoai("resp", "compact", "-p", rid, "-m", MODEL, "--save", "compacted.json")
    assert result.code == 0, result.stderr
    assert "compaction" in result.stdout  # the items table lists the compaction item
    assert "tokens" in result.stderr and "saved to compacted.json" in result.stderr
    saved = json.loads((tmp_path / "compacted.json").read_text())
    assert any(item.get("type") == "compaction" for item in saved)
    follow = aoai("resp", "create", "--input-file", "compacted.json", "-m", MODEL, "-o", "json")
    assert follow.code == 0, follow.stderr
    as_json = json.loads(aoai("resp", "compact", "--input-file", "compacted.json", "-m", MODEL, "-o", "json").stdout)
    assert as_json["object"] == "response.compaction" and as_json["usage"]["total_tokens"] > 0


def test_items_pages(aoai: AoaiRunner, tmp_path: Path) -> None:
    items = [{"role": "user", "content": f"message {i}"} for i in range(5)]
    (tmp_path / "five.json").write_text(json.dumps(items))
    rid = json.loads(aoai("resp", "create", "--input-file", "five.json", "-m", MODEL, "-o", "json").stdout)["id"]
    page = aoai("resp", "items", rid, "--limit", "2", "--order", "asc")
    assert page.code == 0, page.stderr
    lines = page.stdout.splitlines()
    assert len(lines) == 2 and lines[0].endswith("message 0") and "--after" in page.stderr
    every = aoai("resp", "items", rid, "--limit", "2", "--order", "asc", "--all", "-o", "jsonl")
    texts = [json.loads(line)["content"][0]["text"] for line in every.stdout.splitlines()]
    assert texts == [f"message {i}" for i in range(5)]
    after = json.loads(lines[1].split("\t")[1] and aoai("resp", "items", rid, "--order", "asc", "-o", "json").stdout)
    second_id = after["data"][1]["id"]
    rest = aoai("resp", "items", rid, "--order", "asc", "--after", second_id, "-o", "jsonl")
    assert [json.loads(x)["content"][0]["text"] for x in rest.stdout.splitlines()] == [
        "message 2",
        "message 3",
        "message 4",
    ]


def test_log_lists_newest_first_with_no_text(aoai: AoaiRunner, tmp_path: Path) -> None:
    first = json.loads(aoai("resp", "create", "SECRET-PROMPT-TEXT one", "-m", MODEL, "-o", "json").stdout)
    time.sleep(1.1)  # created_at has one-second resolution
    second = json.loads(aoai("resp", "create", "two", "-m", MODEL, "--background", "-o", "json").stdout)
    log = aoai("resp", "log", "-o", "json")
    assert log.code == 0
    entries = json.loads(log.stdout)
    assert [e["id"] for e in entries][:2] == [second["id"], first["id"]]
    assert entries[0]["deployment"] == MODEL and entries[0]["background"] is True
    text = aoai("resp", "log")
    assert text.stdout.splitlines()[0].startswith(second["id"] + "\t")
    journal = tmp_path / "state" / "journal.sqlite3"
    assert oct(journal.stat().st_mode & 0o777) == "0o600"
    assert b"SECRET-PROMPT-TEXT" not in journal.read_bytes()
    assert first["output"][0]["content"][0]["text"][:20].encode() not in journal.read_bytes()
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == 2


def test_no_journal_writes_nothing(aoai: AoaiRunner, tmp_path: Path) -> None:
    assert aoai("resp", "create", "x", "-m", MODEL, "--no-journal").code == 0
    assert not (tmp_path / "state" / "journal.sqlite3").exists()
    empty = aoai("resp", "log")
    assert empty.code == 0 and empty.stdout == "" and "journal is empty" in empty.stderr


def test_failed_and_incomplete_responses_exit_1(aoai: AoaiRunner) -> None:
    result = aoai("resp", "create", "Write a lot", "-m", MODEL, "--max-output-tokens", "16")
    assert result.code == 1
    assert "is incomplete: reason max_output_tokens" in result.stderr and "--max-output-tokens" in result.stderr
    streamed = aoai("resp", "create", "Write a lot", "-m", MODEL, "--max-output-tokens", "16", "--stream")
    assert streamed.code == 1 and streamed.stdout == result.stdout
