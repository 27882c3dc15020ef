"""``aoai emulator`` under the CI recipe (``kill $PID``) and with a bad ``--env-file`` (issue 13,
item 9): the temporary folder with the server key is removed on SIGTERM / SIGHUP, and a bad env
file path is refused before anything listens."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import AoaiRunner
from .sandbox import read_only, run_in_namespace
from .test_robust_inputs import one_error_line


def _emulator_temp_dirs(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("aoai-emulator-*"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_stops_the_emulator_and_removes_its_key(
    aoai_bare: AoaiRunner, tmp_path: Path, signum: signal.Signals
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aoai", "emulator"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**aoai_bare.env, "TMPDIR": str(tmp)},
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # the first export line: it is listening
    (folder,) = _emulator_temp_dirs(tmp)
    assert any(folder.glob("*.pem"))  # the server's private key is in there
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "aoai emulator stopped" in stderr and "Traceback" not in stderr
    assert _emulator_temp_dirs(tmp) == []


def test_env_file_in_a_missing_folder_is_refused_before_listening(aoai_bare: AoaiRunner, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = aoai_bare("emulator", "--env-file", str(tmp_path / "nope" / "emu.env"), env={"TMPDIR": str(tmp)})
    one_error_line(result, "the folder", "does not exist")
    assert _emulator_temp_dirs(tmp) == []  # it never started: no key was written


def test_env_file_that_is_a_folder_is_refused(aoai_bare: AoaiRunner, tmp_path: Path) -> None:
    one_error_line(aoai_bare("emulator", "--env-file", str(tmp_path)), "is a folder")


def test_env_file_in_a_read_only_folder_is_refused_before_listening(aoai_bare: AoaiRunner, tmp_path: Path) -> None:
    target = tmp_path / "ro"
    target.mkdir()
    result = run_in_namespace(
        [read_only(target)], ["emulator", "--env-file", str(target / "emu.env")], env=aoai_bare.env, cwd=tmp_path
    )
    one_error_line(result, "is not writable")
