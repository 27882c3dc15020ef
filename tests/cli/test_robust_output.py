"""Output that cannot be written (issue 13, item 4) and signals during a stream (item 7): the real
``aoai`` with stdout on /dev/full, closed descriptors, a reader that leaves, evidence on a full or
read-only disk, and SIGTERM / SIGHUP in the middle of a background stream."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import AoaiRunner, Result
from .sandbox import read_only, run_in_namespace, tiny_tmpfs

TARGET = ("-g", "rg-aoai-demo")
READY = (*TARGET, "--account", "aoai-ready", "--deployment", "chat=gpt-4.1@2025-04-14")
PROMPT = "Describe a resumable stream"
LONG = ("--param", 'metadata={"emulator_output_tokens": "10000"}')  # ~2 s at the emulator's 5000 tokens/s


def sh(aoai: AoaiRunner, command: str) -> Result:
    """``aoai`` through a shell, for redirections a subprocess call cannot express (``>&-``)."""
    proc = subprocess.run(
        ["sh", "-c", f"exec {sys.executable} -m aoai {command}"],
        capture_output=True,
        env=aoai.env,
        cwd=aoai.cwd,
        timeout=60,
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def _one_line(result: Result, code: int, needle: str) -> None:
    assert result.code == code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("aoai: error: ") and needle in lines[0], result.stderr


# -- stdout, stderr, stdin -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    ["--version", "--help", "preflight checks", "resp create hi -m chat", "preflight run " + " ".join(READY)],
)
def test_stdout_on_dev_full_is_one_line_and_exit_4(aoai: AoaiRunner, command: str) -> None:
    _one_line(sh(aoai, f"{command} >/dev/full"), 4, "cannot write to standard output: No space left on device")


@pytest.mark.parametrize("command", ["--version", "resp create hi -m chat", "preflight checks"])
def test_closed_stdout_is_one_line_and_exit_4(aoai: AoaiRunner, command: str) -> None:
    _one_line(sh(aoai, f"{command} >&-"), 4, "cannot write to standard output: it is closed")


def test_closed_stderr_keeps_the_real_exit_code(aoai: AoaiRunner) -> None:
    assert sh(aoai, "resp get resp_doesnotexist 2>&-").code == 5
    assert sh(aoai, "preflight run " + " ".join(TARGET) + " --account no-such-account 2>&-").code == 5
    assert sh(aoai, "resp get .. 2>&-").code == 2
    ok = sh(aoai, "resp create hi -m chat 2>&-")
    assert ok.code == 0 and ok.stdout.strip()


def test_closed_stdin(aoai: AoaiRunner) -> None:
    _one_line(sh(aoai, "resp create -m chat --input-file - <&-"), 2, "standard input is closed")
    assert sh(aoai, "resp create hi -m chat <&-").code == 0  # a command that does not read it does not care


def test_a_closed_stdout_never_lands_in_a_file_the_command_opens(aoai: AoaiRunner, tmp_path: Path) -> None:
    # With fd 1 closed, the journal would be opened as fd 1 and receive the output.
    sh(aoai, "resp create hi -m chat >&-")
    log = sh(aoai, "resp log -o json")
    assert log.code == 0 and json.loads(log.stdout)[0]["status"] == "completed"


# -- a reader that goes away --------------------------------------------------------------------------


def test_broken_pipe_ends_quietly_with_141(aoai: AoaiRunner) -> None:
    for _ in range(3):
        proc = subprocess.run(
            ["sh", "-c", f"{sys.executable} -m aoai resp create '{PROMPT}' -m chat --stream {' '.join(LONG[:1])} "
             f"'{LONG[1]}' | head -c 10; exit 0"],
            capture_output=True,
            env=aoai.env,
            cwd=aoai.cwd,
            timeout=60,
        )  # fmt: skip
        assert proc.stdout and len(proc.stdout) == 10
        assert proc.stderr == b"", proc.stderr
    status = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m aoai resp create '{PROMPT}' -m chat --stream --param "
         f"'{LONG[1]}' | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"],
        capture_output=True, env=aoai.env, cwd=aoai.cwd, timeout=60, text=True,
    )  # fmt: skip
    assert status.stdout.strip() == "141", status.stderr
    assert status.stderr == ""


# -- evidence on a full or read-only disk ---------------------------------------------------------------


def test_evidence_on_a_full_disk(aoai: AoaiRunner, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    args = ["preflight", "run", *READY, "-o", "table", "--evidence", str(disk / "evidence.json")]
    listing = tmp_path / "listing"
    result = run_in_namespace([tiny_tmpfs(disk)], args, env=aoai.env, cwd=tmp_path, after=f"ls -A {disk} > {listing}")
    assert result.code == 4, result.output
    assert listing.read_text().split() == [".filler"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("aoai:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output


def test_evidence_on_a_read_only_disk(aoai: AoaiRunner, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    args = ["preflight", "run", *READY, "-o", "table", "--evidence", str(disk / "evidence.json")]
    result = run_in_namespace([read_only(disk)], args, env=aoai.env, cwd=tmp_path)
    assert result.code == 4, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("aoai:")]
    assert len(errors) == 1 and "Read-only file system" in errors[0], result.stderr
    assert list(disk.iterdir()) == []


def test_compact_save_on_a_full_disk_leaves_nothing(aoai: AoaiRunner, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    args = ["resp", "compact", "a long conversation " * 200, "-m", "chat", "--save", str(disk / "c.json")]
    listing = tmp_path / "listing"
    result = run_in_namespace(
        [tiny_tmpfs(disk, "4k")], args, env=aoai.env, cwd=tmp_path, after=f"ls -A {disk} > {listing}"
    )
    assert result.code == 4, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("aoai:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert listing.read_text().split() == [".filler"]  # no half-written c.json, no temporary file


# -- SIGTERM / SIGHUP during a background stream --------------------------------------------------------


def _signal_after_output(aoai: AoaiRunner, signum: int) -> tuple[int, bytes, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aoai", "resp", "create", PROMPT, "-m", "chat", "--stream", "--background", *LONG],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=aoai.env,
        cwd=aoai.cwd,
    )
    assert proc.stdout is not None
    first = os.read(proc.stdout.fileno(), 64)
    assert first, "no output before the signal"
    time.sleep(0.2)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, first + out, err.decode()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["TERM", "HUP"])
def test_a_signal_during_a_background_stream_is_handled_like_ctrl_c(
    aoai: AoaiRunner, signum: signal.Signals, code: int
) -> None:
    status, first, err = _signal_after_output(aoai, signum)
    assert status == code, err
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"aoai: error: interrupted by {signum.name}")
    match = re.search(r"resume with `aoai resp resume-stream (resp_\w+) --starting-after (\d+)`", line)
    assert match, line
    rid = match.group(1)
    assert f"cancel with `aoai resp cancel {rid}`" in line
    # The journal's cursor is exactly what was printed: the rest adds up to the whole, byte for byte.
    rest = aoai("resp", "stream", rid)
    assert rest.code == 0, rest.stderr
    whole = aoai("resp", "get", rid, "--wait", "--interval", "0.1")
    assert first.decode() + rest.stdout == whole.stdout
