"""``aoai.preflight.fleet`` against the emulator's ``fleet:12`` scenario (4 subscriptions, 6 locations).

The fleet must find exactly what ``aoai preflight run`` finds account by account, read location
data once per (subscription, location), narrow with ``--where`` / scopes, follow Graph's
``$skipToken``, survive a 429 burst, and pace itself when ARM's read budget runs low.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aoai.emulator import server
from aoai.errors import AuthError, NotFoundError, ServiceError
from aoai.preflight import RunOptions, evidence, execute_run, fleet, prepare
from aoai.preflight.engine import RunOutcome
from aoai.preflight.report import Report, Status

from ..conftest import FAKE_TOKEN, inject_fault

FLEET_N = 12
FINDING_KEYS = ("check", "status", "target", "resource", "message")


@pytest.fixture(scope="module")
def fleet_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.RunningEmulator]:
    running = server.start(
        scenario=f"fleet:{FLEET_N}", access_token=FAKE_TOKEN, workdir=tmp_path_factory.mktemp("fleet-emulator")
    )
    yield running
    running.stop()


@pytest.fixture
def emu(fleet_emulator: server.RunningEmulator) -> Iterator[server.RunningEmulator]:
    """The module's emulator with an empty request log, faults cleared afterwards."""
    with fleet_emulator.state.lock:
        fleet_emulator.state.requests.clear()
    yield fleet_emulator
    fleet_emulator.state.faults.clear()


def _env(emu: server.RunningEmulator, tmp_path: Path) -> dict[str, str]:
    return {**emu.env, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def _fleet(
    emu: server.RunningEmulator, tmp_path: Path, *, page_size: int = fleet.GRAPH_PAGE_SIZE, **options: Any
) -> RunOutcome:
    env = _env(emu, tmp_path)
    prepared = fleet.prepare(fleet.FleetOptions(**options), env, tmp_path)
    return fleet.run_fleet(prepared, env, page_size=page_size)


def _by_target(report: Report) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for f in report.findings:
        rows.setdefault(f.target, []).append((f.check, f.status.value, f.target, f.resource, f.message))
    return {target: sorted(items) for target, items in rows.items()}


def _paths(emu: server.RunningEmulator) -> list[str]:
    with emu.state.lock:
        return [r.path for r in emu.state.requests]


def test_fleet_equals_preflight_run_per_account(emu: server.RunningEmulator, tmp_path: Path) -> None:
    outcome = _fleet(emu, tmp_path)
    fleet_rows = _by_target(outcome.report)
    fleet_verdicts = outcome.report.verdict_by_target()
    expected_ids = sorted(a.id.lower() for a in emu.state.scenario.accounts)
    assert sorted(t.lower() for t in outcome.report.targets) == expected_ids
    env = _env(emu, tmp_path)
    for target in outcome.report.targets:
        single, _document = execute_run(prepare(RunOptions(resource_id=target), env, tmp_path), env)
        assert _by_target(single.report)[target] == fleet_rows[target], target
        assert single.report.verdict is fleet_verdicts[target], target
        # Same observations, not only the same statuses.
        run_observed = sorted(
            (f.check, f.resource, json.dumps(f.observed, sort_keys=True)) for f in single.report.findings
        )
        fleet_observed = sorted(
            (f.check, f.resource, json.dumps(f.observed, sort_keys=True))
            for f in outcome.report.findings
            if f.target == target
        )
        assert run_observed == fleet_observed, target
    # A realistic fleet: some ready, some not, nothing incomplete.
    verdicts = Counter(v.value for v in fleet_verdicts.values())
    assert verdicts["ready"] >= 1 and verdicts["not-ready"] >= 1 and verdicts["incomplete"] == 0
    assert outcome.report.exit_code == 1


def _cli_env(emu: server.RunningEmulator, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "TMPDIR")}
    env.update(emu.env, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"), NO_COLOR="1")
    return env


def test_fleet_cli_equals_preflight_run_cli_per_account(emu: server.RunningEmulator, tmp_path: Path) -> None:
    """The real commands: one ``aoai preflight fleet`` against one ``aoai preflight run`` per account."""
    env = _cli_env(emu, tmp_path)
    command = [sys.executable, "-m", "aoai", "preflight"]
    fleet_proc = subprocess.run(
        [*command, "fleet", "-o", "json"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert fleet_proc.returncode == 1, fleet_proc.stderr
    fleet_doc = json.loads(fleet_proc.stdout)
    assert len(fleet_doc["targets"]) == FLEET_N
    runs = {
        target["resource_id"]: subprocess.Popen(
            [*command, "run", "--resource-id", target["resource_id"], "-o", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for target in fleet_doc["targets"]
    }
    worst = 0
    for resource_id, proc in runs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode in (0, 1), stderr
        worst = max(worst, proc.returncode)
        run_doc = json.loads(stdout)

        def rows(document: dict[str, Any], target: str = resource_id) -> list[tuple[Any, ...]]:
            return sorted(tuple(f[k] for k in FINDING_KEYS) for f in document["findings"] if f["target"] == target)

        assert rows(run_doc) == rows(fleet_doc), resource_id
        assert run_doc["summary"]["verdict"] == fleet_doc["summary"]["by_target"][resource_id]
        assert proc.returncode == run_doc["summary"]["exit_code"]
    assert fleet_proc.returncode == worst  # the worst across accounts
    assert FAKE_TOKEN not in fleet_proc.stdout + fleet_proc.stderr


def test_location_data_is_read_once_per_subscription_and_location(emu: server.RunningEmulator, tmp_path: Path) -> None:
    outcome = _fleet(emu, tmp_path)
    paths = _paths(emu)
    pairs = {(a.subscription_id.lower(), a.location.lower()) for a in emu.state.scenario.accounts}
    location = re.compile(
        r"^/subscriptions/([^/]+)/providers/Microsoft\.CognitiveServices/locations/([^/]+)/(\w+)$", re.I
    )
    calls = Counter(
        (m.group(1).lower(), m.group(2).lower(), m.group(3).lower()) for p in paths if (m := location.match(p))
    )
    assert {(s, loc) for s, loc, _ in calls} == pairs
    assert all(count == 1 for count in calls.values()), calls
    assert {kind for _, _, kind in calls} == {"models", "usages"}
    assert len(calls) == 2 * len(pairs) < 2 * FLEET_N  # shared by the accounts of a location
    # Per account: deployments, diagnostic settings and RAI policies only; the account and its
    # private endpoint connections come from the Resource Graph rows.
    accounts = Counter(
        "deployments"
        if p.lower().endswith("/deployments")
        else "rai_policies"
        if p.lower().endswith("/raipolicies")
        else "diagnostics"
        if "diagnosticsettings" in p.lower()  # settings and categories
        else p
        for p in paths
        if "/accounts/" in p.lower() and "/locations/" not in p.lower()
    )
    assert accounts == {"deployments": FLEET_N, "diagnostics": 2 * FLEET_N, "rai_policies": FLEET_N}
    assert sum(1 for p in paths if p.lower() == "/providers/microsoft.resourcegraph/resources") == 1
    assert len(paths) == 1 + 4 * FLEET_N + 2 * len(pairs)
    stats = outcome.extra["fleet"]
    assert stats.location_fetches == {"location_models": len(pairs), "usages": len(pairs)}
    assert stats.arm_requests == len(paths)
    # The account part names its source: Graph's operation and the page's request id.
    account = outcome.snapshots[0].parts["account"]
    assert account.operation == "Resources" and account.request_ids == stats.graph_request_ids


def test_graph_pages_are_followed_with_the_skip_token(emu: server.RunningEmulator, tmp_path: Path) -> None:
    outcome = _fleet(emu, tmp_path, page_size=5)
    graph = [r for r in emu.state.requests if r.path.lower() == "/providers/microsoft.resourcegraph/resources"]
    assert len(graph) == 3  # 5 + 5 + 2
    assert "$skipToken" not in graph[0].body["options"] or not graph[0].body["options"]["$skipToken"]
    assert graph[1].body["options"]["$skipToken"] and graph[2].body["options"]["$skipToken"]
    assert {r.body["query"] for r in graph} == {graph[0].body["query"]}  # same query on every page
    assert len(outcome.snapshots) == FLEET_N
    assert outcome.extra["fleet"].graph_pages == 3


def test_where_and_scopes_narrow_the_fleet(emu: server.RunningEmulator, tmp_path: Path) -> None:
    accounts = emu.state.scenario.accounts
    prod = sorted(a.id.lower() for a in accounts if a.tags.get("env") == "prod")
    assert 0 < len(prod) < FLEET_N
    outcome = _fleet(emu, tmp_path, where=("tags.env == 'prod'",))
    assert sorted(t.lower() for t in outcome.report.targets) == prod
    graph = [r for r in emu.state.requests if r.path.lower().endswith("/resources")]
    assert "| where (tags.env == 'prod')" in graph[-1].body["query"]

    both = _fleet(emu, tmp_path, where=("tags.env == 'prod'", "location =~ 'swedencentral'"))
    assert sorted(t.lower() for t in both.report.targets) == sorted(
        a.id.lower() for a in accounts if a.tags.get("env") == "prod" and a.location == "swedencentral"
    )

    sub = "00000000-0000-0000-0000-0000000f0002"
    by_sub = _fleet(emu, tmp_path, subscriptions=(sub,))
    assert {t.split("/")[2] for t in by_sub.report.targets} == {sub}
    assert graph[-1].body.get("subscriptions") is None  # the unscoped run asked for every subscription
    by_group = _fleet(emu, tmp_path, management_groups=("mg-ai-sandbox",))
    assert {t.split("/")[2][-1] for t in by_group.report.targets} == {"3", "4"}

    with pytest.raises(NotFoundError, match="no Azure OpenAI or AI Services account matched"):
        _fleet(emu, tmp_path, where=("tags.env == 'no-such-env'",))


def test_a_429_burst_is_retried_and_changes_nothing(emu: server.RunningEmulator, tmp_path: Path) -> None:
    baseline = _by_target(_fleet(emu, tmp_path).report)
    with emu.state.lock:
        emu.state.requests.clear()
    inject_fault(emu, route="graph.resources", status=429, retry_after=1, count=1)
    inject_fault(emu, route="arm.deployments.list", status=429, retry_after=1, count=4)
    inject_fault(emu, route="arm.usages.list", status=429, retry_after_ms=200, count=2)
    outcome = _fleet(emu, tmp_path)
    assert _by_target(outcome.report) == baseline
    assert not [f for f in outcome.report.findings if f.status is Status.ERROR]
    paths = [p.lower() for p in _paths(emu)]
    assert sum(p.endswith("/resources") for p in paths) == 2  # one throttled, one retried
    assert sum(p.endswith("/deployments") for p in paths) == FLEET_N + 4
    assert sum(p.endswith("/usages") for p in paths) == outcome.extra["fleet"].location_fetches["usages"] + 2


def test_a_forbidden_part_makes_only_that_account_incomplete(emu: server.RunningEmulator, tmp_path: Path) -> None:
    inject_fault(emu, route="arm.diagnostic_settings.list", status=403, code="AuthorizationFailed", count=1)
    outcome = _fleet(emu, tmp_path, concurrency=1)
    verdicts = outcome.report.verdict_by_target()
    incomplete = [t for t, v in verdicts.items() if v.value == "incomplete"]
    assert len(incomplete) == 1
    errors = [f for f in outcome.report.findings if f.status is Status.ERROR]
    assert {f.check for f in errors} == {"AOAI501", "AOAI502"} and {f.target for f in errors} == set(incomplete)
    assert "AuthorizationFailed" in errors[0].message
    assert outcome.report.exit_code == 4


def test_graph_errors_stop_the_run_with_the_right_code(emu: server.RunningEmulator, tmp_path: Path) -> None:
    inject_fault(emu, route="graph.resources", status=403, code="AuthorizationFailed", count=1)
    with pytest.raises(AuthError) as refused:
        _fleet(emu, tmp_path)
    assert "Reader" in refused.value.one_line() and "403 AuthorizationFailed" in refused.value.one_line()
    inject_fault(emu, route="graph.resources", expired_token=True, count=1)
    with pytest.raises(AuthError):
        _fleet(emu, tmp_path)
    with pytest.raises(ServiceError) as bad_query:
        _fleet(emu, tmp_path, where=("tags.env ==",))
    assert bad_query.value.exit_code == 2 and "InvalidQuery" in bad_query.value.one_line()


def test_fleet_evidence_holds_every_account_and_verifies(emu: server.RunningEmulator, tmp_path: Path) -> None:
    env = _env(emu, tmp_path)
    outcome, document = fleet.execute(fleet.prepare(fleet.FleetOptions(), env, tmp_path), env)
    assert len(document["targets"]) == len(document["snapshot"]) == FLEET_N
    assert set(document["summary"]["by_target"]) == set(outcome.report.targets)
    assert any("Azure Resource Graph" in note and "kind in~" in note for note in document["notes"])
    assert FAKE_TOKEN not in json.dumps(document)
    result = evidence.verify(document)
    assert result.ok, result.problems
    tampered = json.loads(json.dumps(document))
    tampered["snapshot"][0]["parts"]["account"]["data"]["properties"]["disableLocalAuth"] = True
    assert not evidence.verify(tampered).ok


def test_pacing_keeps_a_small_read_budget_from_running_out(tmp_path: Path) -> None:
    """ARM allows 10 reads per subscription, refilled at 5/s; 16 reads are needed. Paced on
    ``x-ms-ratelimit-remaining-subscription-reads``, the fleet gets through without one 429."""
    sub = "00000000-0000-0000-0000-00000000c001"
    lines = [
        "[limits]",
        "subscription_reads = 10",
        "subscription_reads_per_second = 5.0",
        "[[subscriptions]]",
        f'id = "{sub}"',
    ]
    for i in range(7):
        lines += [
            "[[accounts]]",
            f'name = "paced-{i}"',
            f'subscription = "{sub}"',
            'resource_group = "rg-paced"',
            'location = "swedencentral"',
        ]
    path = tmp_path / "paced.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    running = server.start(scenario=str(path), access_token=FAKE_TOKEN, workdir=tmp_path / "emu")
    try:
        env = _env(running, tmp_path)
        prepared = fleet.prepare(fleet.FleetOptions(concurrency=2), env, tmp_path)
        governor = fleet.ReadGovernor(2 * prepared.concurrency)
        outcome = fleet.run_fleet(prepared, env, governor=governor)
        reads = [r for r in running.state.requests if r.path.lower().startswith(f"/subscriptions/{sub}")]
    finally:
        running.stop()
    assert len(outcome.snapshots) == 7
    assert not [f for f in outcome.report.findings if f.status is Status.ERROR]
    assert governor.pauses > 0
    assert len(reads) == 7 * 4 + 2  # every read answered the first time: no 429, no retry
    assert min(governor.lowest.values()) >= 0
