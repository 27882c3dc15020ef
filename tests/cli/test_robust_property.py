"""Property test (issue 13): random bytes and random broken JSON fed to every option that reads a
file end with exit 2 and one ``aoai: error:`` line naming the input — never a traceback, never an
``internal error``. Runs ``aoai.cli.main`` in-process (a subprocess per example would take
minutes); the end-to-end tests in test_robust_inputs.py cover the same reader as a subprocess."""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aoai.cli import app, main

Args = Callable[[str], list[str]]

# Every option that reads a file, and what it expects in it.
TEXT_OPTIONS: dict[str, Args] = {
    "--tool-output @FILE": lambda p: ["resp", "create", "-m", "chat", "-p", "resp_1", "--tool-output", f"call_1=@{p}"],
}
JSON_OPTIONS: dict[str, Args] = {
    "--input-file": lambda p: ["resp", "create", "-m", "chat", "--input-file", p],
    "--tool @FILE": lambda p: ["resp", "create", "hi", "-m", "chat", "--tool", f"@{p}"],
    "--continue": lambda p: ["resp", "create", "hi", "-m", "chat", "--continue", p],
    "compact --input-file": lambda p: ["resp", "compact", "-m", "chat", "--input-file", p],
    "preflight verify": lambda p: ["preflight", "verify", p],
}
ALL_OPTIONS = {**TEXT_OPTIONS, **JSON_OPTIONS}

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(_scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=25)


@st.composite
def not_utf8(draw: st.DrawFn) -> bytes:
    """Random bytes with at least one byte that is never UTF-8 (0xff)."""
    data = draw(st.binary(max_size=2000))
    at = draw(st.integers(min_value=0, max_value=len(data)))
    return data[:at] + b"\xff" + data[at:]


@st.composite
def broken_json(draw: st.DrawFn) -> bytes:
    """Random JSON made invalid in one of the ways users (and attackers) do it."""
    value = draw(json_values)
    how = draw(st.sampled_from(["nan", "infinity", "truncated", "deep", "huge-number", "lone-surrogate"]))
    text = {
        "nan": lambda: json.dumps([value, float("nan")]),
        "infinity": lambda: json.dumps([value, float("-inf")]),
        "truncated": lambda: json.dumps([value])[:-1],
        "deep": lambda: "[" * 65 + json.dumps(value) + "]" * 65,
        "huge-number": lambda: json.dumps([value])[:-1] + ", 1e999]",
        "lone-surrogate": lambda: json.dumps([value])[:-1] + ', "\\udc00"]',
    }[how]()
    return text.encode("utf-8")


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ended:
        main(args)
    out, err = capsys.readouterr()
    code = ended.value.code
    return code if isinstance(code, int) else 1, out, err


def _check(option: str, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.json"
        path.write_bytes(content)
        code, out, err = _run(ALL_OPTIONS[option](str(path)), capsys)
    lines = err.splitlines()
    assert code == 2, (option, content[:80], err)
    assert len(lines) == 1 and lines[0].startswith("aoai: error: "), err
    assert str(path) in lines[0]  # it names the input, not some later problem
    assert "Traceback" not in out + err and "internal error" not in out + err


@pytest.fixture(autouse=True)
def _fast_and_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing here may reach a service: no endpoint, no credential.
    for name in list(os.environ):
        if name.startswith(("AZURE_", "AOAI_")) and name != "AOAI_STATE_DIR":
            monkeypatch.delenv(name)
    # Build the click command tree once (typer rebuilds it per call: ~0.3 s each).
    command = _command_tree()
    monkeypatch.setattr(typer.main, "get_command", lambda _app: command)


@functools.cache
def _command_tree() -> Any:
    return typer.main.get_command(app)


_SETTINGS: dict[str, Any] = {
    "max_examples": 30,
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}


@pytest.mark.parametrize("option", sorted(ALL_OPTIONS))
@settings(**_SETTINGS)
@given(content=not_utf8())
def test_random_bytes_are_one_line_exit_2(option: str, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    _check(option, content, capsys)


@pytest.mark.parametrize("option", sorted(JSON_OPTIONS))
@settings(**_SETTINGS)
@given(content=broken_json())
def test_random_broken_json_is_one_line_exit_2(
    option: str, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    _check(option, content, capsys)
