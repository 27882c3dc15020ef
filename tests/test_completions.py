"""The committed completion scripts must match what the app generates, and the bash one must work."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import typer

from aoai.cli import app
from aoai.cli.completion import SCRIPT_FILES, Shell, script_for

COMPLETIONS = Path(__file__).resolve().parents[1] / "completions"


@pytest.mark.parametrize("shell", list(Shell))
def test_completion_scripts_are_current(shell: Shell) -> None:
    expected = script_for(shell, typer.main.get_command(app))
    path = COMPLETIONS / SCRIPT_FILES[shell]
    assert path.is_file(), f"missing {path}: run `python -m aoai completion {shell.value} > {path}`"
    assert path.read_text() == expected, f"{path} is stale: run `python -m aoai completion {shell.value} > {path}`"


def _bash_complete(words: list[str]) -> list[str]:
    script = COMPLETIONS / SCRIPT_FILES[Shell.BASH]
    words_literal = " ".join(f"'{w}'" for w in words)
    program = (
        f"source '{script}'; COMP_WORDS=({words_literal}); COMP_CWORD={len(words) - 1}; "
        '_aoai_completion; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_completion_completes_commands_and_options() -> None:
    assert {"resp", "preflight", "emulator"} <= set(_bash_complete(["aoai", ""]))
    assert _bash_complete(["aoai", "compl"]) == ["completion"]
    assert "powershell" in _bash_complete(["aoai", "completion", ""])
