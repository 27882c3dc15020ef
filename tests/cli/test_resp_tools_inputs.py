"""``aoai resp`` attachments, stateless conversations and bad input, end to end: the real ``aoai``
subprocess against the emulator, checking what was (or was not) sent through its request log.
(Split from ``test_resp_tools.py`` so the two files run on different xdist workers.)"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from aoai.emulator import server

from ..conftest import AoaiRunner
from .test_resp_tools import ASK, MODEL, _clear, _no_secret, _posts, _requests, weather

__all__ = ["weather"]  # the fixture, re-used


# -- files and images as input --------------------------------------------------------------------------------


def test_file_and_image_are_sent_in_one_user_message(
    aoai: AoaiRunner, emulator: server.RunningEmulator, tmp_path: Path
) -> None:
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<</Type /Page>>endobj\n%%EOF\n")
    png = b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    (tmp_path / "chart.png").write_bytes(png + b"\x00" * 4)
    _clear(emulator)
    result = aoai("resp", "create", "Summarise these.", "-m", MODEL, "--file", "report.pdf", "--image", "chart.png")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("I looked at report.pdf and an image.")
    ((message,),) = [body["input"] for body in _posts(emulator)]
    assert message["role"] == "user"
    text, pdf, image = message["content"]
    assert text == {"type": "input_text", "text": "Summarise these."}
    assert pdf["type"] == "input_file" and pdf["filename"] == "report.pdf"
    assert pdf["file_data"].startswith("data:application/pdf;base64,JVBERi0x")
    assert image["type"] == "input_image" and image["image_url"].startswith("data:image/png;base64,")
    url = aoai("resp", "create", "What is this?", "-m", MODEL, "--image", "https://example.com/cat.png")
    assert url.code == 0, url.stderr


def test_compact_accepts_attachments(aoai: AoaiRunner, emulator: server.RunningEmulator, tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\nShip on Friday.\n")
    _clear(emulator)
    result = aoai("resp", "compact", "Keep this.", "-m", MODEL, "--file", "notes.md", "-o", "json")
    assert result.code == 0, result.stderr
    (entry,) = [e for e in _requests(emulator) if e["path"].endswith("/compact")]
    assert entry["body"]["input"][0]["content"][1]["filename"] == "notes.md"


# -- stateless chaining ------------------------------------------------------------------------------------------


def test_three_turn_stateless_conversation_never_stores(
    aoai: AoaiRunner, emulator: server.RunningEmulator, tmp_path: Path
) -> None:
    _clear(emulator)
    ids = []
    for turn in ("What is the size of France?", "And its capital?", "And its population?"):
        result = aoai("resp", "create", turn, "-m", "reasoner", "--continue", "chat.json", "-o", "json")
        assert result.code == 0, result.stderr
        assert "conversation saved to chat.json" in result.stderr
        ids.append(json.loads(result.stdout)["id"])
    bodies = _posts(emulator)
    assert len(bodies) == 3
    for body in bodies:
        assert body["store"] is False and "previous_response_id" not in body
        assert body["include"] == ["reasoning.encrypted_content"]
    assert [len(body["input"]) for body in bodies] == [1, 4, 7]  # each turn: user + reasoning + message
    second_turn_reasoning = bodies[1]["input"][1]
    assert second_turn_reasoning["type"] == "reasoning" and second_turn_reasoning["encrypted_content"]
    saved = json.loads((tmp_path / "chat.json").read_text())
    assert [i.get("role") or i["type"] for i in saved] == ["user", "reasoning", "assistant"] * 3
    assert oct((tmp_path / "chat.json").stat().st_mode & 0o777) == "0o600"
    for response_id in ids:  # nothing was kept on the service
        assert aoai("resp", "get", response_id).code == 5
    _no_secret((tmp_path / "chat.json").read_text())


def test_input_file_of_previous_items_continues_without_store(
    aoai: AoaiRunner, emulator: server.RunningEmulator, tmp_path: Path
) -> None:
    first = aoai(
        "resp", "create", "What is the size of France?", "-m", "reasoner", "--no-store",
        "--include", "reasoning.encrypted_content", "-o", "json",
    )  # fmt: skip
    assert first.code == 0, first.stderr
    items = [{"role": "user", "content": "What is the size of France?"}, *json.loads(first.stdout)["output"]]
    items.append({"role": "user", "content": "And its capital?"})
    (tmp_path / "items.json").write_text(json.dumps(items))
    _clear(emulator)
    second = aoai("resp", "create", "-m", "reasoner", "--no-store", "--input-file", "items.json")
    assert second.code == 0, second.stderr
    (body,) = _posts(emulator)
    assert body["store"] is False and body["input"] == items


def test_function_calls_in_a_transcript(aoai: AoaiRunner, weather: str, tmp_path: Path) -> None:
    first = aoai("resp", "create", ASK, "-m", MODEL, "--tool", weather, "--continue", "chat.json")
    assert first.code == 0, first.stderr
    hint = next(line for line in first.stderr.splitlines() if "answer with:" in line)
    assert "--continue chat.json --tool-output call_" in hint
    call_id = hint.split("--tool-output ")[1].split("=")[0]
    second = aoai("resp", "create", "-m", MODEL, "--continue", "chat.json", "--tool-output", f'{call_id}="sunny"')
    assert second.code == 0, second.stderr
    assert second.stdout.startswith("Based on the result of get_weather: sunny.")
    saved = json.loads((tmp_path / "chat.json").read_text())
    assert [i.get("role") or i["type"] for i in saved] == ["user", "function_call", "function_call_output", "assistant"]


# -- bad input: one line, exit 2, nothing sent ---------------------------------------------------------


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    (tmp_path / "program.exe").write_bytes(b"MZ\x90\x00")
    (tmp_path / "fake.pdf").write_text("not a pdf")
    (tmp_path / "anim.gif").write_bytes(b"GIF89a")
    with (tmp_path / "huge.pdf").open("wb") as handle:  # sparse: 51 MB on paper, nothing on disk
        handle.truncate(51 * 1024 * 1024)
    (tmp_path / "broken.json").write_text("{oops")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "missing.pdf"], "--file missing.pdf: no such file"),
        (["--file", "program.exe"], "unsupported file type ('.exe')"),
        (["--file", "fake.pdf"], "the content is not a PDF file"),
        (["--file", "huge.pdf"], "51.0 MB is over the 50 MB limit"),
        (["--image", "anim.gif"], "unsupported image type ('.gif')"),
        (["--image", "missing.png"], "--image missing.png: no such file"),
        (["-p", "resp_1", "--tool-output", "call_1={not json"], "invalid JSON in --tool-output call_1"),
        (["-p", "resp_1", "--tool-output", "call_1"], "is not CALL_ID=JSON"),
        (["--mcp", "docs=http://insecure.example"], "is not an https:// URL"),
        (["--mcp", "docs=https://d.example", "--mcp-header", "docs:Authorization=Bearer x"], "takes the NAME"),
        (["--mcp", "docs=https://d.example", "--mcp-header", "docs:Authorization=UNSET_X"], "UNSET_X is not set"),
        (["--continue", "broken.json"], "invalid JSON in --continue broken.json"),
        (["--continue", "chat.json", "-p", "resp_1"], "--continue and -p/--previous-response-id"),
        (["--exec-tools", "no-such-command-xyz"], "not found on PATH"),
        (["--image-deployment", "gpt-image-1", "--stream"], "cannot be streamed"),
        (["--max-tool-rounds", "3"], "--max-tool-rounds applies to --exec-tools"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_sent(
    aoai: AoaiRunner, emulator: server.RunningEmulator, inputs: Path, args: list[str], message: str
) -> None:
    before = len(_requests(emulator))
    result = aoai("resp", "create", "Hello", "-m", MODEL, *args)
    assert result.code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert len(_requests(emulator)) == before


def test_unreadable_file(aoai: AoaiRunner, emulator: server.RunningEmulator, tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(b"%PDF-1.4\n")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("file permissions are not enforced for this user")
        before = len(_requests(emulator))
        result = aoai("resp", "create", "Hello", "-m", MODEL, "--file", "locked.pdf")
        assert result.code == 2 and "cannot read it" in result.stderr
        assert len(_requests(emulator)) == before
    finally:
        locked.chmod(0o600)
