"""Shared fixtures: an emulator per test session (per xdist worker), a way to run the real ``aoai``
as a subprocess against it, and isolation of user state.

Every test talks only to 127.0.0.1. No test may let a credential chain reach the
managed-identity endpoint: subprocesses get a clean environment with only what we put in it.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aoai.emulator import server

FAKE_KEY = "emu-key-SECRET-do-not-print-7f3a9c"
FAKE_TOKEN = "emu-token-SECRET-do-not-print-b81e44"
# ../shared/reference beside the checkout (for a git worktree, beside any parent directory).
REFERENCE = next(
    (p / "shared" / "reference" for p in Path(__file__).resolve().parents[1:] if (p / "shared" / "reference").is_dir()),
    Path(__file__).resolve().parents[2] / "shared" / "reference",
)
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "SYSTEMROOT", "TMPDIR")


# -- no "internal error" anywhere (issue 13) ----------------------------------------------------------
# ``aoai``'s catch-all prints "aoai: internal error: …" for an exception nobody expected. No test may
# produce one, whatever it asserts: every subprocess's output and every test's captured output is
# checked, so an unexpected crash fails the test that caused it even if it only looked at the exit code.
INTERNAL_ERROR = "aoai: internal error"
_communicate = subprocess.Popen.communicate


def _no_internal_error(where: str, *outputs: object) -> None:
    for output in outputs:
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
        if isinstance(text, str) and INTERNAL_ERROR in text:
            line = next(line for line in text.splitlines() if INTERNAL_ERROR in line)
            raise AssertionError(f"{where} printed an internal error: {line}")


def _checked_communicate(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    out, err = _communicate(self, *args, **kwargs)
    _no_internal_error(f"subprocess {self.args!r}", out, err)
    return out, err


subprocess.Popen.communicate = _checked_communicate  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.passed and INTERNAL_ERROR in report.capstdout + report.capstderr:
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} printed '{INTERNAL_ERROR}' (captured output)"


@pytest.fixture(autouse=True)
def _isolate_user_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("AZURE_", "AOAI_", "IDENTITY_", "MSI_", "GITHUB_STEP_SUMMARY")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AOAI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.RunningEmulator]:
    """One emulator (default scenario) for the session, with recognisable fake secrets."""
    running = server.start(
        scenario="default",
        api_key=FAKE_KEY,
        access_token=FAKE_TOKEN,
        tokens_per_second=5000,
        workdir=tmp_path_factory.mktemp("emulator"),
    )
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _clear_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emulator" in request.fixturenames:
        emu: server.RunningEmulator = request.getfixturevalue("emulator")
        emu.state.faults.clear()


def control(emu: server.RunningEmulator, method: str, path: str, body: Any = None) -> Any:
    """Call the emulator's control API (``/_emulator/...``) with the standard library."""
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        emu.url + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, context=context, timeout=10) as resp:
        return json.loads(resp.read())


def inject_fault(emu: server.RunningEmulator, **fault: Any) -> None:
    control(emu, "POST", "/_emulator/faults", fault)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class AoaiRunner:
    """Runs the real ``aoai`` in a subprocess with a controlled environment."""

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.env = dict(env)
        self.cwd = cwd

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
    ) -> Result:
        full_env = {**self.env, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "aoai", *args],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=self.cwd,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV}
    env.update(
        HOME=str(tmp_path / "home"),
        AOAI_STATE_DIR=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        NO_COLOR="1",
        COLUMNS="120",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def aoai(tmp_path: Path, emulator: server.RunningEmulator) -> AoaiRunner:
    """``aoai`` pointed at the session emulator (endpoint, key, ARM, token, CA)."""
    return AoaiRunner({**_base_env(tmp_path), **emulator.env}, tmp_path)


@pytest.fixture
def aoai_bare(tmp_path: Path) -> AoaiRunner:
    """``aoai`` with no Azure settings at all (for usage-error tests)."""
    return AoaiRunner(_base_env(tmp_path), tmp_path)
