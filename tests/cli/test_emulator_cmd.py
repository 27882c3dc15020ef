"""``aoai emulator`` as a user runs it: exports on stdout, an env file, serving until Ctrl-C."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from pathlib import Path

from ..conftest import AoaiRunner

EXPECTED = {
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AOAI_ARM_ENDPOINT",
    "AOAI_ACCESS_TOKEN",
    "AZURE_SUBSCRIPTION_ID",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
}


def _parse_exports(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        assert line.startswith("export "), line
        name, _, value = line[len("export ") :].partition("=")
        env[name] = shlex.split(value)[0]
    return env


def test_emulator_prints_env_serves_and_stops_on_ctrl_c(aoai_bare: AoaiRunner, tmp_path: Path) -> None:
    env_file = tmp_path / "emu.env"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aoai", "emulator", "--port", "0", "--env-file", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=aoai_bare.env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in EXPECTED]
        exports = _parse_exports("".join(lines))
        assert set(exports) == EXPECTED
        assert exports["AZURE_OPENAI_ENDPOINT"].startswith("https://127.0.0.1:")
        assert _parse_exports(env_file.read_text()) == exports
        assert env_file.stat().st_mode & 0o077 == 0

        # The printed environment is all a client needs: the gate passes on the ready account.
        result = aoai_bare(
            "preflight", "run", "-g", "rg-aoai-demo", "--account", "aoai-ready",
            "--deployment", "chat=gpt-4.1@2025-04-14", "-o", "json",
            env=exports,
        )
        assert result.code == 0, result.stderr
        assert "Verdict" not in result.stdout  # json on a pipe
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "stopped" in stderr


def test_emulator_refuses_a_non_loopback_host(aoai_bare: AoaiRunner) -> None:
    result = aoai_bare("emulator", "--host", "0.0.0.0")
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "loopback" in result.stderr


def test_emulator_unknown_scenario_is_a_usage_error(aoai_bare: AoaiRunner) -> None:
    result = aoai_bare("emulator", "--scenario", "no-such-scenario")
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
