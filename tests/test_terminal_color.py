"""TERM=dumb and NO_COLOR: no colour codes in tables and footers, even on a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest

from .conftest import AoaiRunner

READY = ("-g", "rg-aoai-demo", "--account", "aoai-ready", "--deployment", "chat=gpt-4.1@2025-04-14")
CSI = b"\x1b["


def _on_a_terminal(aoai: AoaiRunner, *args: str, env: dict[str, str]) -> tuple[int, bytes]:
    """Run ``aoai`` with stdout and stderr on a pseudo-terminal; returns exit code and everything shown."""
    leader, follower = pty.openpty()
    full_env = {k: v for k, v in {**aoai.env, **env}.items() if v is not None}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aoai", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=full_env,
        cwd=aoai.cwd,
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return proc.wait(timeout=60), shown


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"TERM": "xterm-256color", "NO_COLOR": "1"}])
def test_no_colour_codes_in_the_preflight_table(aoai: AoaiRunner, env: dict[str, str]) -> None:
    base = {k: v for k, v in aoai.env.items() if k != "NO_COLOR"}
    runner = AoaiRunner(base, aoai.cwd)
    code, shown = _on_a_terminal(runner, "preflight", "run", *READY, env=env)
    assert code == 0, shown.decode(errors="replace")
    assert b"Ready" in shown
    assert CSI not in shown, shown[:400]


def test_colour_on_a_capable_terminal(aoai: AoaiRunner) -> None:
    """The control case: without TERM=dumb/NO_COLOR the same table is coloured."""
    base = {k: v for k, v in aoai.env.items() if k != "NO_COLOR"}
    code, shown = _on_a_terminal(AoaiRunner(base, aoai.cwd), "preflight", "run", *READY, env={"TERM": "xterm"})
    assert code == 0 and CSI in shown


def test_no_colour_codes_in_the_resp_footer_with_term_dumb(aoai: AoaiRunner) -> None:
    base = {k: v for k, v in aoai.env.items() if k != "NO_COLOR"}
    code, shown = _on_a_terminal(
        AoaiRunner(base, aoai.cwd), "resp", "create", "hello", "-m", "chat", env={"TERM": "dumb"}
    )
    assert code == 0, shown.decode(errors="replace")
    assert b"resp_" in shown
    assert b"\x1b[2m" not in shown and b"\x1b[3" not in shown, shown[-400:]
