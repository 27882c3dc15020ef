"""Benchmark ``aoai preflight fleet`` on the emulator's ``fleet:N`` scenarios at 100 ms ARM latency.

For N = 10, 50 and 200 accounts (4 subscriptions, 6 locations), every check, it prints one JSON
document with, per N:

- ``fleet``: the library path the command uses (``aoai.preflight.fleet.run_fleet``, default
  ``--concurrency 8``): wall time (median of ``--repeat`` runs), ARM requests by kind counted by
  the emulator (``/_emulator/requests``), and the distinct (subscription, location) pairs, to
  show location data is read once per pair and only per-account parts grow with N;
- ``fleet_cli``: the real ``aoai preflight fleet -o json`` in a subprocess (interpreter start-up,
  imports and rendering included), once;
- ``naive``: the plan the issue describes — list subscriptions, list accounts per subscription
  (following nextLink), then every call per account (account GET, deployments, private endpoint
  connections, diagnostic settings, location models, usages), one after another. Run for real for
  N = 10 and 50 (plain HTTP for the two lists, ``ArmReader`` with one worker and no shared cache
  for the rest, evaluated by the same engine, so the findings can be compared); for N = 200 it is
  extrapolated from the measured seconds per call and says so.

For N = 200 a concurrency sweep (8, 16, 32) shows where the time goes. The emulator runs in its
own process (its work must not share the client's GIL), ``--latency-ms`` added to every ARM
request. Run: ``python benchmarks/bench_fleet.py [--latency-ms 100] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from aoai.preflight.arm import ArmReader
from aoai.preflight.engine import build_report, parts_for
from aoai.preflight.fleet import FleetOptions, prepare, run_fleet
from aoai.preflight.snapshot import Target

SIZES = (10, 50, 200)
NAIVE_RUN_UP_TO = 50  # above this the naive plan is extrapolated
TARGET_S = 8.0  # 200 accounts
SUBSCRIPTIONS_API = "2022-12-01"
ACCOUNTS_API = "2025-06-01"

# The emulator in a child process: prints its client environment as JSON, serves until stdin closes.
_SERVE = """
import json, sys
from pathlib import Path
from aoai.emulator import server
running = server.start(scenario=sys.argv[1], latency_ms=int(sys.argv[2]), workdir=Path(sys.argv[3]))
print(json.dumps(running.env), flush=True)
sys.stdin.read()
running.stop()
"""

# Request kinds, by path (the emulator's route table, docs/emulator.md).
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("resource_graph", r"^/providers/Microsoft\.ResourceGraph/resources$"),
        ("subscriptions_list", r"^/subscriptions/?$"),
        ("accounts_list", r"^/subscriptions/[^/]+/providers/Microsoft\.CognitiveServices/accounts/?$"),
        ("location_models", r"/locations/[^/]+/models$"),
        ("usages", r"/locations/[^/]+/usages$"),
        ("deployments", r"/accounts/[^/]+/deployments$"),
        ("private_endpoint_connections", r"/accounts/[^/]+/privateEndpointConnections$"),
        ("diagnostic_settings", r"/providers/Microsoft\.Insights/diagnosticSettings$"),
        ("account_get", r"/accounts/[^/]+$"),
    )
)


def kind_of(path: str) -> str:
    for name, pattern in _KINDS:
        if pattern.search(path):
            return name
    return "other"


class Emulator:
    def __init__(self, scenario: str, latency_ms: int, workdir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVE, scenario, str(latency_ms), str(workdir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the emulator did not start")
        self.env: dict[str, str] = json.loads(line)
        self._context = ssl.create_default_context(cafile=self.env["SSL_CERT_FILE"])

    def _call(self, method: str) -> Any:
        request = urllib.request.Request(self.env["AOAI_ARM_ENDPOINT"] + "/_emulator/requests", method=method)
        with urllib.request.urlopen(request, context=self._context, timeout=30) as resp:
            return json.loads(resp.read())

    def clear(self) -> None:
        self._call("DELETE")

    def counts(self) -> Counter[str]:
        return Counter(kind_of(r["path"]) for r in self._call("GET")["requests"])

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=15)


def timed(emu: Emulator, action: Callable[[], Any]) -> tuple[float, Counter[str], Any]:
    emu.clear()
    started = time.perf_counter()
    value = action()
    wall = time.perf_counter() - started
    return wall, emu.counts(), value


def naive_plan(env: dict[str, str], prepared: Any) -> Any:
    """List subscriptions, list accounts per subscription, then every call per account, one at a time."""
    settings = prepared.settings
    headers = {"authorization": f"Bearer {env['AOAI_ACCESS_TOKEN']}"}
    base = settings.endpoint.rstrip("/")
    targets: list[Target] = []
    with httpx.Client(verify=ssl.create_default_context(cafile=env["SSL_CERT_FILE"]), timeout=60) as http:
        subs = http.get(f"{base}/subscriptions", params={"api-version": SUBSCRIPTIONS_API}, headers=headers)
        subs.raise_for_status()
        for sub in subs.json()["value"]:
            url: str | None = (
                f"{base}/subscriptions/{sub['subscriptionId']}/providers/Microsoft.CognitiveServices/accounts"
                f"?api-version={ACCOUNTS_API}"
            )
            while url:
                page = http.get(url, headers=headers)
                page.raise_for_status()
                body = page.json()
                targets += [Target.parse(a["id"]) for a in body["value"] if a.get("kind") in ("OpenAI", "AIServices")]
                url = body.get("nextLink")
    parts = parts_for(prepared.selection)
    snapshots = []
    for target in targets:
        # A reader per account: no location cache shared between accounts; one worker: sequential.
        with ArmReader(settings, env, max_workers=1) as reader:
            snapshots.append(reader.snapshot(target, parts))
    return build_report(snapshots, prepared.policy, prepared.selection)


def findings_key(report: Any) -> list[tuple[str, str, str, str | None]]:
    return sorted((f.target.lower(), f.check, f.status.value, f.resource) for f in report.findings)


def bench_size(n: int, latency_ms: int, repeat: int, tmp: Path) -> dict[str, Any]:
    emu = Emulator(f"fleet:{n}", latency_ms, tmp / f"emulator-{n}")
    try:
        env = {**emu.env, "HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp)}
        prepared = prepare(FleetOptions(), env, tmp)
        run_fleet(prepared, env)  # warm-up: SDK imports, TLS, connection pools
        time.sleep(max(1.0, 250 / 25 * 0.5))  # let the emulator's read buckets refill between measured runs
        walls: list[float] = []
        counts: Counter[str] = Counter()
        outcome: Any = None
        for _ in range(repeat):
            wall, counts, outcome = timed(emu, lambda: run_fleet(prepared, env))
            walls.append(wall)
            time.sleep(2.0)
        stats = outcome.extra["fleet"]
        pairs = {(s.target.subscription_id.lower(), (s.location or "").lower()) for s in outcome.snapshots}
        total = sum(counts.values())
        result: dict[str, Any] = {
            "accounts": len(outcome.snapshots),
            "subscription_location_pairs": len(pairs),
            "fleet": {
                "concurrency": prepared.concurrency,
                "wall_s_median": round(statistics.median(walls), 3),
                "wall_s_min": round(min(walls), 3),
                "runs": repeat,
                "arm_requests": total,
                "requests_by_kind": dict(sorted(counts.items())),
                "per_account_requests": counts["deployments"] + counts["diagnostic_settings"],
                "location_level_requests": counts["location_models"] + counts["usages"],
                "location_data_once_per_pair": counts["location_models"] == len(pairs) == counts["usages"],
                "graph_pages": stats.graph_pages,
                "pacing_pauses": stats.pauses,
                "lowest_remaining_subscription_reads": min(stats.lowest_remaining_reads.values(), default=None),
                "verdicts": dict(Counter(v.value for v in outcome.report.verdict_by_target().values())),
            },
        }

        cli_env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")}
        cli_env.update(env, NO_COLOR="1")
        args = [sys.executable, "-m", "aoai", "preflight", "fleet", "-o", "json"]
        wall, cli_counts, proc = timed(
            emu, lambda: subprocess.run(args, env=cli_env, capture_output=True, text=True, cwd=tmp, check=False)
        )
        if proc.returncode not in (0, 1, 4):
            raise SystemExit(f"aoai exited {proc.returncode}: {proc.stderr.strip()}")
        result["fleet_cli"] = {
            "wall_s": round(wall, 3),
            "arm_requests": sum(cli_counts.values()),
            "exit_code": proc.returncode,
            "note": "the real command in a subprocess: start-up, imports, credential, evaluation and JSON included",
        }

        if n <= NAIVE_RUN_UP_TO:
            time.sleep(3.0)
            wall, naive_counts, naive_report = timed(emu, lambda: naive_plan(env, prepared))
            calls = sum(naive_counts.values())
            result["naive"] = {
                "measured": True,
                "wall_s": round(wall, 3),
                "arm_requests": calls,
                "requests_by_kind": dict(sorted(naive_counts.items())),
                "seconds_per_call": round(wall / calls, 4),
                "same_findings_as_fleet": findings_key(naive_report) == findings_key(outcome.report),
            }
        else:
            result["naive"] = {"measured": False}
        if n == max(SIZES):
            sweep: dict[str, float] = {}
            for concurrency in (8, 16, 32):
                time.sleep(3.0)
                swept = prepare(FleetOptions(concurrency=concurrency), env, tmp)
                wall, _counts, _outcome = timed(emu, lambda swept=swept: run_fleet(swept, env))
                sweep[str(concurrency)] = round(wall, 3)
            result["fleet"]["wall_s_by_concurrency"] = sweep
        return result
    finally:
        emu.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aoai-bench-fleet-") as name:
        tmp = Path(name)
        results = {str(n): bench_size(n, options.latency_ms, options.repeat, tmp) for n in SIZES}

    # Naive plan for sizes not run: its calls are 1 + subscriptions (+ pages) + 6 per account, each
    # taking the mean seconds per call measured on the largest size that was run.
    measured = [r["naive"] for r in results.values() if r["naive"].get("measured")]
    per_call = measured[-1]["seconds_per_call"] if measured else None
    for n, result in results.items():
        naive = result["naive"]
        if not naive.get("measured") and per_call is not None:
            calls = 1 + 4 + 6 * int(n)  # fleet:N has 4 subscriptions; accounts pages: 1 per subscription here
            naive.update(
                wall_s=round(calls * per_call, 1),
                arm_requests=calls,
                extrapolated=True,
                note=f"not run: {calls} calls x {per_call} s per call (measured at N={NAIVE_RUN_UP_TO})",
            )
        naive_wall = naive.get("wall_s")
        fleet_wall = result["fleet"]["wall_s_median"]
        result["speedup_vs_naive"] = round(naive_wall / fleet_wall, 1) if naive_wall else None

    biggest = results[str(max(SIZES))]["fleet"]["wall_s_median"]
    report = {
        "benchmark": "aoai preflight fleet on the emulator's fleet:N scenarios (4 subscriptions, 6 locations)",
        "emulated_latency_ms": options.latency_ms,
        "checks": "every check, default policy",
        "plan": "1 Resource Graph query (paged) -> account + private endpoint connections from the rows; "
        "deployments + diagnostic settings per account; location models + usages once per (subscription, "
        "location); one pool of --concurrency workers",
        "naive_plan": "list subscriptions, list accounts per subscription, then 6 calls per account "
        "(account, deployments, private endpoint connections, diagnostic settings, location models, usages), "
        "sequentially",
        "sizes": results,
        "target": {"accounts": max(SIZES), "wall_s": TARGET_S, "met": biggest <= TARGET_S},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
