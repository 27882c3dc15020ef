"""Every user input is bounded and checked (issue 13, items 1 and 2): the real ``aoai`` as a
subprocess, fed oversized, binary, non-UTF-8, NaN and deeply nested inputs. Each must end with
exit 2 and one ``aoai: error:`` line naming the input, before anything is sent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aoai.emulator import server

from ..conftest import AoaiRunner, Result, control

MODEL = "chat"
WEATHER = json.dumps({"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}})


def run_bytes(aoai: AoaiRunner, *args: str, stdin: bytes) -> Result:
    """``aoai`` with raw bytes on standard input."""
    proc = subprocess.run(
        [sys.executable, "-m", "aoai", *args], input=stdin, capture_output=True, env=aoai.env, cwd=aoai.cwd, timeout=60
    )
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def one_error_line(result: Result, *needles: str) -> str:
    assert result.code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("aoai: error: "), line
    assert "Traceback" not in result.output and "internal error" not in result.output
    for needle in needles:
        assert needle in line, line
    return line


def _posts(emulator: server.RunningEmulator) -> int:
    entries = control(emulator, "GET", "/_emulator/requests")["requests"]
    return sum(1 for e in entries if e["method"] == "POST" and e["path"].startswith("/openai/"))


@pytest.fixture
def nothing_sent(emulator: server.RunningEmulator) -> object:
    control(emulator, "DELETE", "/_emulator/requests")
    yield None
    assert _posts(emulator) == 0


# -- 1. every read is capped ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "source"),
    [
        (("resp", "create", "-m", MODEL, "--input-file", "/dev/zero"), "/dev/zero is larger than 50 MB"),
        (("resp", "create", "hi", "-m", MODEL, "--tool", "@/dev/zero"), "/dev/zero is larger than 50 MB"),
        (
            ("resp", "create", "-m", MODEL, "--tool-output", "call_1=@/dev/zero", "-p", "resp_1"),
            "/dev/zero is larger than 50 MB",
        ),
        (("resp", "create", "hi", "-m", MODEL, "--continue", "/dev/zero"), "--continue /dev/zero: not a regular file"),
        (("resp", "compact", "-m", MODEL, "--input-file", "/dev/zero"), "/dev/zero is larger than 50 MB"),
        (("preflight", "verify", "/dev/zero"), "evidence file /dev/zero is larger than 50 MB"),
    ],
    ids=["input-file", "tool", "tool-output", "continue", "compact", "verify"],
)
def test_an_endless_input_stops_at_the_cap(
    aoai: AoaiRunner, nothing_sent: object, args: tuple[str, ...], source: str
) -> None:
    one_error_line(aoai(*args), source)


def test_standard_input_is_capped_too(aoai: AoaiRunner, nothing_sent: object) -> None:
    big = b"x" * (50 * 1024 * 1024 + 1)
    one_error_line(run_bytes(aoai, "resp", "create", "-m", MODEL, "--input-file", "-", stdin=big), "standard input")


def test_a_regular_file_over_the_cap_is_refused_before_reading(
    aoai: AoaiRunner, nothing_sent: object, tmp_path: Path
) -> None:
    sparse = tmp_path / "huge.txt"
    with open(sparse, "wb") as handle:
        handle.truncate(60 * 1024 * 1024)  # a hole: no disk used
    one_error_line(aoai("resp", "create", "-m", MODEL, "--input-file", str(sparse)), "larger than 50 MB")


def test_a_transcript_over_the_cap_is_refused(aoai: AoaiRunner, nothing_sent: object, tmp_path: Path) -> None:
    sparse = tmp_path / "chat.json"
    with open(sparse, "wb") as handle:
        handle.truncate(60 * 1024 * 1024)
    one_error_line(aoai("resp", "create", "hi", "-m", MODEL, "--continue", str(sparse)), "larger than 50 MB")


def test_a_folder_is_not_a_file(aoai: AoaiRunner, nothing_sent: object, tmp_path: Path) -> None:
    one_error_line(aoai("resp", "create", "-m", MODEL, "--input-file", str(tmp_path)), "is a folder")


# -- 2. input that is not what it claims -----------------------------------------------------------


def test_binary_standard_input_names_the_position(aoai: AoaiRunner, nothing_sent: object) -> None:
    line = one_error_line(
        run_bytes(aoai, "resp", "create", "-m", MODEL, "--input-file", "-", stdin=b"hello\nw\xfforld"),
        "standard input is not UTF-8",
    )
    assert "byte 0xff at line 2, column 2" in line


def test_nul_bytes_are_binary(aoai: AoaiRunner, nothing_sent: object, tmp_path: Path) -> None:
    (tmp_path / "blob.txt").write_bytes(b"text\x00more")
    one_error_line(aoai("resp", "create", "-m", MODEL, "--input-file", "blob.txt"), "blob.txt is binary")


def test_non_utf8_tool_file(aoai: AoaiRunner, nothing_sent: object, tmp_path: Path) -> None:
    (tmp_path / "tool.json").write_bytes(b'{"type": "function", "name": "caf\xe9"}')
    one_error_line(aoai("resp", "create", "hi", "-m", MODEL, "--tool", "@tool.json"), "tool.json is not UTF-8")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", "[1, NaN]"])
def test_param_nan_and_infinity_are_refused(aoai: AoaiRunner, nothing_sent: object, value: str) -> None:
    one_error_line(aoai("resp", "create", "hi", "-m", MODEL, "--param", f"temperature={value}"), "--param temperature")


def test_deeply_nested_json_is_refused(aoai: AoaiRunner, nothing_sent: object, tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    one_error_line(aoai("resp", "create", "-m", MODEL, "--input-file", "deep.json"), "nested deeper than 64")
    one_error_line(aoai("resp", "create", "hi", "-m", MODEL, "--tool", "@deep.json"), "nested deeper than 64")
    one_error_line(aoai("preflight", "verify", "deep.json"), "nested deeper than 64")


def test_nan_in_a_transcript_names_file_and_position(aoai: AoaiRunner, nothing_sent: object, tmp_path: Path) -> None:
    (tmp_path / "chat.json").write_text('[{"role": "user", "content": "hi"},\n {"x": NaN}]')
    line = one_error_line(aoai("resp", "create", "again", "-m", MODEL, "--continue", "chat.json"), "chat.json")
    assert "NaN is not a JSON number at line 2 column 8" in line


def test_lone_surrogate_escape_is_refused(aoai: AoaiRunner, nothing_sent: object, tmp_path: Path) -> None:
    (tmp_path / "in.json").write_text('[{"role": "user", "content": "\\ud800"}]')
    one_error_line(aoai("resp", "create", "-m", MODEL, "--input-file", "in.json"), "surrogate")


# -- --exec-tools output ----------------------------------------------------------------------------

_ASK = "What's the weather in Oslo? Use get_weather."


@pytest.mark.parametrize(
    ("script", "needle"),
    [
        (
            "import sys\nsys.stdout.buffer.write(b'21 degrees \\xff')",
            "is not UTF-8 text: byte 0xff at line 1, column 12",
        ),
        (
            "import sys\nchunk = b'x' * 1048576\nwhile True:\n    sys.stdout.buffer.write(chunk)",
            "larger than 50 MB",
        ),
    ],
    ids=["not-utf8", "endless"],
)
def test_exec_tools_output_is_checked(aoai: AoaiRunner, tmp_path: Path, script: str, needle: str) -> None:
    (tmp_path / "tool.py").write_text(script)
    result = aoai(
        "resp", "create", _ASK, "-m", MODEL, "--tool", WEATHER, "--tool-choice", "required",
        "--exec-tools", f"{sys.executable} tool.py",
    )  # fmt: skip
    assert result.code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("aoai: error:")]
    assert len(errors) == 1 and needle in errors[0], result.stderr
    assert "the output of the tool command for get_weather" in errors[0]
    assert "Traceback" not in result.output
