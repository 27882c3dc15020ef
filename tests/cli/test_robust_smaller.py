"""The smaller ones of issue 13, item 9 that are ``aoai resp``'s: a garbage ``--ca-bundle`` (exit 2
naming the file), ``resp log`` at 40 columns (never a truncated id), ``resp items --all`` (the
largest page the API allows)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from aoai.emulator import server

from ..conftest import AoaiRunner, control
from .test_robust_inputs import one_error_line


@pytest.mark.parametrize("content", [b"", b"\x00\xffgarbage", b"-----BEGIN CERTIFICATE-----\nnot base64\n"])
@pytest.mark.parametrize(
    "command",
    [("resp", "retrieve", "resp_1"), ("preflight", "run", "-g", "rg-aoai-demo", "--account", "aoai-ready")],
    ids=["resp", "preflight"],
)
def test_a_garbage_ca_bundle_is_exit_2_naming_the_file(
    aoai: AoaiRunner, tmp_path: Path, content: bytes, command: tuple[str, ...]
) -> None:
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_bytes(content)
    one_error_line(aoai(*command, "--ca-bundle", str(bundle)), f"CA bundle '{bundle}' holds no usable certificate")
    one_error_line(aoai(*command, env={"SSL_CERT_FILE": str(bundle), "REQUESTS_CA_BUNDLE": str(bundle)}), "corp-ca")


def _on_a_terminal(aoai: AoaiRunner, *args: str, columns: int) -> str:
    """``aoai ARGS`` with stdout on a pseudo-terminal ``columns`` wide: what a person sees."""
    leader, follower = pty.openpty()
    env = {**aoai.env, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aoai", *args], stdout=follower, stderr=subprocess.PIPE, env=env, cwd=aoai.cwd
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    proc.wait(timeout=30)
    assert proc.returncode == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_resp_log_at_40_columns_never_cuts_an_id(aoai: AoaiRunner) -> None:
    for text in ("one", "two"):
        assert aoai("resp", "create", text, "-m", "chat").code == 0
    ids = [entry["id"] for entry in json.loads(aoai("resp", "log", "-o", "json").stdout)]
    screen = _on_a_terminal(aoai, "resp", "log", columns=40)
    assert "…" not in screen
    joined = "".join(line.strip(" │|\r") for line in screen.splitlines())
    for rid in ids:
        assert rid in joined, screen  # whole, if folded over lines
    wide = _on_a_terminal(aoai, "resp", "log", columns=200)
    assert all(rid in wide for rid in ids) and "deployment" in wide  # nothing dropped when it fits


def test_items_all_asks_for_the_largest_pages(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    items = [{"role": "user", "content": f"message {n}"} for n in range(150)]
    created = aoai("resp", "create", "-m", "chat", "--input-file", "-", "-o", "json", input=json.dumps(items))
    rid = json.loads(created.stdout)["id"]
    control(emulator, "DELETE", "/_emulator/requests")
    listed = aoai("resp", "items", rid, "--all", "-o", "jsonl")
    assert listed.code == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 150
    queries = [
        e["query"] for e in control(emulator, "GET", "/_emulator/requests")["requests"] if "input_items" in e["path"]
    ]
    assert len(queries) == 2 and all("limit=100" in q for q in queries), queries
    explicit = aoai("resp", "items", rid, "--all", "--limit", "50", "-o", "jsonl")
    assert len(explicit.stdout.splitlines()) == 150
