"""``aoai preflight fleet`` end to end: the real CLI as a subprocess against an emulator serving
the ``fleet:12`` scenario (4 subscriptions, 6 locations, a mix of ready and failing accounts)."""

from __future__ import annotations

import io
import json
import os
import re
import select
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console

from aoai.cli.fleet import ProgressBar
from aoai.emulator import server
from aoai.preflight.evidence import SCHEMA

from ..conftest import FAKE_TOKEN, AoaiRunner, Result, inject_fault

FLEET_N = 12


@pytest.fixture(scope="module")
def fleet_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.RunningEmulator]:
    running = server.start(
        scenario=f"fleet:{FLEET_N}", access_token=FAKE_TOKEN, workdir=tmp_path_factory.mktemp("fleet-emulator")
    )
    yield running
    running.stop()


@pytest.fixture
def run(tmp_path: Path, fleet_emulator: server.RunningEmulator, aoai_bare: AoaiRunner) -> Iterator[AoaiRunner]:
    """``aoai`` pointed at the fleet emulator; faults cleared after each test."""
    yield AoaiRunner({**aoai_bare.env, **fleet_emulator.env}, tmp_path)
    fleet_emulator.state.faults.clear()


def _doc(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _clean(result: Result) -> None:
    assert FAKE_TOKEN not in result.output


def test_table_shows_the_summary_then_the_failing_findings(run: AoaiRunner) -> None:
    result = run("preflight", "fleet", "-o", "table")
    assert result.code == 1, result.output
    _clean(result)
    summary, _, failing = result.stdout.partition("Failing findings")
    header = summary.splitlines()[0].split()
    assert header[0] == "Account" and header[-1] == "Verdict"
    assert {"account", "region", "deployments", "skus", "network", "diagnostics", "identity"} <= set(header)
    for i in range(1, FLEET_N + 1):
        assert f"aoai-fleet-{i:04d}" in summary
    assert f"{FLEET_N} accounts:" in summary and "→  Not ready" in summary
    assert "Azure Resource Graph" in summary  # the discovery note
    assert failing and "Account aoai-fleet-" in failing and " fail " in failing
    statuses = {line.split()[1] for line in failing.splitlines() if re.match(r"^AOAI\d{3}\s", line)}
    assert statuses == {"fail"}  # only what blocks the gate: no pass, warn or skip rows
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_json_evidence_holds_every_account_and_verifies(run: AoaiRunner, tmp_path: Path) -> None:
    evidence_file = tmp_path / "fleet.json"
    result = run("preflight", "fleet", "--evidence", str(evidence_file))  # not a TTY: JSON by default
    assert result.code == 1, result.output
    _clean(result)
    document = _doc(result)
    jsonschema.validate(document, SCHEMA)
    assert len(document["targets"]) == len(document["snapshot"]) == FLEET_N
    verdicts = {t["verdict"] for t in document["targets"]}
    assert verdicts == {"ready", "not-ready"} and document["summary"]["verdict"] == "not-ready"
    assert json.loads(evidence_file.read_text()) == document
    assert FAKE_TOKEN not in evidence_file.read_text()
    verified = run("preflight", "verify", str(evidence_file))
    assert verified.code == 0, verified.output
    assert f"{len(document['findings'])} findings re-evaluated" in verified.stdout
    # Change one account's observed state: the digest and the re-evaluation both catch it.
    document["snapshot"][3]["parts"]["account"]["data"]["properties"]["publicNetworkAccess"] = "Enabled"
    evidence_file.write_text(json.dumps(document))
    refused = run("preflight", "verify", str(evidence_file))
    assert refused.code == 1 and "digest mismatch" in refused.stderr


def test_exit_code_is_the_worst_across_accounts(run: AoaiRunner, fleet_emulator: server.RunningEmulator) -> None:
    document = _doc(run("preflight", "fleet", "-o", "json"))
    ready = sorted(t["account"] for t in document["targets"] if t["verdict"] == "ready")
    assert ready
    names = ", ".join(f"'{name}'" for name in ready)
    all_ready = run("preflight", "fleet", "--where", f"name in ({names})", "-o", "json")
    assert all_ready.code == 0, all_ready.output
    assert sorted(t["account"] for t in _doc(all_ready)["targets"]) == ready
    # One forbidden part on one account: that account is incomplete, so the fleet exits 4.
    inject_fault(fleet_emulator, route="arm.deployments.list", status=403, code="AuthorizationFailed", count=1)
    incomplete = run("preflight", "fleet", "--where", f"name in ({names})", "--concurrency", "1", "-o", "json")
    assert incomplete.code == 4, incomplete.output
    assert sorted(_doc(incomplete)["summary"]["by_target"].values()).count("incomplete") == 1


def test_scopes_and_where_narrow_the_fleet(run: AoaiRunner) -> None:
    sandbox = _doc(run("preflight", "fleet", "--management-group", "mg-ai-sandbox", "-o", "json"))
    assert {t["subscription_id"][-1] for t in sandbox["targets"]} == {"3", "4"}
    two = run(
        "preflight",
        "fleet",
        "--subscription",
        "00000000-0000-0000-0000-0000000f0001",
        "--subscription",
        "00000000-0000-0000-0000-0000000f0002",
        "--where",
        "tags.env == 'prod'",
        "-o",
        "json",
    )
    assert two.code in (0, 1), two.output
    targets = _doc(two)["targets"]
    assert targets and {t["subscription_id"][-1] for t in targets} <= {"1", "2"}
    empty = run("preflight", "fleet", "--subscription", "00000000-0000-0000-0000-00000000dead")
    assert empty.code == 5 and "no Azure OpenAI or AI Services account matched" in empty.stderr


def test_selection_and_policy_flags_apply_to_every_account(run: AoaiRunner) -> None:
    result = run("preflight", "fleet", "--only", "network", "--fail-on", "warn", "-o", "json")
    document = _doc(result)
    assert document["policy"]["resolved"]["fail_on"] == "warn"
    ran = {f["check"] for f in document["findings"] if f["status"] != "skip"}
    assert ran and all(check.startswith("AOAI4") for check in ran)
    assert len({f["target"] for f in document["findings"]}) == FLEET_N


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown"])
def test_other_formats_cover_every_account(run: AoaiRunner, fmt: str) -> None:
    result = run("preflight", "fleet", "-o", fmt)
    assert result.code == 1, result.output
    _clean(result)
    if fmt == "sarif":
        sarif = json.loads(result.stdout)
        uris = {
            loc["logicalLocations"][0]["fullyQualifiedName"]
            for r in sarif["runs"][0]["results"]
            for loc in r.get("locations", [])
            if loc.get("logicalLocations")
        }
        assert len({u.rsplit("/", 1)[-1] for u in uris if "/accounts/" in u}) > 1
    elif fmt == "junit":
        root = ET.fromstring(result.stdout)
        assert len(root.findall(".//testsuite")) == FLEET_N
    else:
        assert result.stdout.startswith("## ") and all(
            f"aoai-fleet-{i:04d}" in result.stdout for i in range(1, FLEET_N + 1)
        )


def test_github_step_summary_gets_markdown(run: AoaiRunner, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = run("preflight", "fleet", "-o", "json", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.code == 1
    text = summary.read_text()
    assert text.startswith("## ") and "aoai-fleet-0001" in text and FAKE_TOKEN not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--where", "tags.env == 'prod' | take 1"), "not a pipeline"),
        (("--where", "tags.env =="), "InvalidQuery"),
        (("--subscription", "not-a-guid"), "not a subscription id"),
        (("--subscription", "00000000-0000-0000-0000-0000000f0001", "--management-group", "mg"), "not both"),
        (("--concurrency", "0"), "--concurrency"),
        (("--only", "AOAI999"), "names no check"),
        (("-o", "yaml"), "not one of"),
    ],
)
def test_usage_errors_exit_2(run: AoaiRunner, args: tuple[str, ...], message: str) -> None:
    result = run("preflight", "fleet", *args)
    assert result.code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rejected_token_exits_3(run: AoaiRunner) -> None:
    result = run("preflight", "fleet", env={"AOAI_ACCESS_TOKEN": "emu-token-wrong"})
    assert result.code == 3, result.output
    assert "emu-token-wrong" not in result.output


def test_progress_bar_counts_accounts() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=80, color_system=None)
    with ProgressBar(console) as bar:
        bar.discovered(3)
        for name in ("a", "b", "c"):
            bar.advance(name)
    output = stream.getvalue()
    assert "Reading accounts" in output and "3/3" in output


def test_progress_bar_on_a_terminal_stderr_only(run: AoaiRunner, tmp_path: Path) -> None:
    """stderr on a pseudo-terminal: the bar is drawn there; stdout (a file) still gets pure JSON."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    env = {**run.env, "TERM": "xterm", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    out_path = tmp_path / "stdout.json"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aoai", "preflight", "fleet", "-o", "json"],
            stdout=out,
            stderr=slave,
            env=env,
            cwd=tmp_path,
        )
        os.close(slave)
        drawn = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                drawn += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=60)
    os.close(master)
    assert proc.returncode == 1
    assert len(json.loads(out_path.read_text())["targets"]) == FLEET_N
    text = drawn.decode("utf-8", "replace")
    assert "Discovering accounts" in text and "Reading accounts" in text
    assert FAKE_TOKEN not in text
