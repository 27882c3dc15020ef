"""Benchmark ``aoai preflight run`` against the emulator with emulated ARM latency; prints JSON.

For one account (aoai-ready, every check) with ``--latency-ms`` (default 100) added to every
ARM request, it measures:

- ``concurrent``: the snapshot gather as ``aoai preflight`` does it (ArmReader, thread pool),
  wall time and ARM requests (counted by the emulator, /_emulator/requests);
- ``sequential``: the same calls one after another (the same reader with one worker);
- ``cli``: the whole command as a subprocess (``aoai preflight run -o json``), and its startup:
  the same command against a second emulator with no added latency (interpreter, imports, SDK
  clients, TLS, evaluation, rendering), so ``wall_minus_startup_ms`` is what ARM latency costs.

Target (issue 4): wall time no more than 3 latency round trips plus startup. The concurrent
gather needs 2 round trips (the account, then the location-scoped parts beside the rest).

    python benchmarks/bench_preflight.py [--latency-ms 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from aoai.auth import StaticTokenCredential
from aoai.config import ArmSettings
from aoai.emulator import server
from aoai.preflight.arm import ArmReader
from aoai.preflight.engine import Selection, parts_for
from aoai.preflight.policy import Policy
from aoai.preflight.snapshot import Target

TOKEN = "bench-token-not-a-secret-0001"
SUB = "00000000-0000-0000-0000-000000000001"
TARGET = Target(SUB, "rg-aoai-demo", "aoai-ready")


def _control(emu: server.RunningEmulator, method: str, path: str) -> Any:
    context = ssl.create_default_context(cafile=str(emu.ca_path))
    request = urllib.request.Request(emu.url + path, method=method)
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.loads(response.read())


def _arm_requests(emu: server.RunningEmulator) -> int:
    items = _control(emu, "GET", "/_emulator/requests")["requests"]
    return sum(1 for r in items if r["path"].startswith(("/subscriptions", "/providers")))


def _gather(emu: server.RunningEmulator, workers: int) -> tuple[float, int]:
    settings = ArmSettings(endpoint=emu.url, credential="token", ca_bundle=str(emu.ca_path), subscription=SUB)
    parts = parts_for(Selection.build(Policy()))
    _control(emu, "DELETE", "/_emulator/requests")
    with ArmReader(settings, {}, credential=StaticTokenCredential(TOKEN), max_workers=workers) as reader:
        reader.principal()
        reader._cognitive(SUB)  # client construction (SDK import) is startup, not latency
        reader._monitor(SUB)
        started = time.perf_counter()
        snapshot = reader.snapshot(TARGET, parts)
        wall = (time.perf_counter() - started) * 1000
    assert all(part.ok for part in snapshot.parts.values()), "a part failed"
    return wall, _arm_requests(emu)


def _subprocess_ms(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    return (time.perf_counter() - started) * 1000, proc.returncode, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    latency = args.latency_ms

    with tempfile.TemporaryDirectory() as workdir:
        emu = server.start(scenario="default", access_token=TOKEN, latency_ms=latency, workdir=Path(workdir) / "slow")
        # "Startup" is the same command against an emulator with no added latency: interpreter,
        # imports, option parsing, SDK client construction, TLS, evaluation and rendering — all
        # the command's own work, so wall - startup is what the emulated ARM latency costs.
        fast = server.start(scenario="default", access_token=TOKEN, latency_ms=0, workdir=Path(workdir) / "fast")
        try:
            _gather(emu, 8)  # warm-up (imports, first TLS handshakes)
            concurrent = [_gather(emu, 8) for _ in range(args.repeat)]
            sequential = [_gather(emu, 1) for _ in range(args.repeat)]

            env = {
                **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME", "TMPDIR", "PYTHONPATH")},
                **emu.env,
                "AOAI_ACCESS_TOKEN": TOKEN,
            }
            cli_args = [sys.executable, "-m", "aoai", "preflight", "run", "-g", "rg-aoai-demo", "--account"]
            cli_args += ["aoai-ready", "--deployment", "chat", "--deployment", "reasoner", "-o", "json"]
            cli_runs, startup_runs, cli_requests = [], [], []
            for _ in range(args.repeat):
                startup_runs.append(_subprocess_ms(cli_args, {**env, **fast.env, "AOAI_ACCESS_TOKEN": TOKEN})[0])
                _control(emu, "DELETE", "/_emulator/requests")
                wall, code, out = _subprocess_ms(cli_args, env)
                if code != 0:
                    raise SystemExit(f"aoai preflight run exited {code}")
                cli_runs.append(wall)
                cli_requests.append(_arm_requests(emu))
                assert json.loads(out)["run"]["arm_requests"] == cli_requests[-1]
        finally:
            emu.stop()
            fast.stop()

    conc_ms = statistics.median(w for w, _ in concurrent)
    seq_ms = statistics.median(w for w, _ in sequential)
    cli_ms = statistics.median(cli_runs)
    startup_ms = statistics.median(startup_runs)
    result = {
        "benchmark": "aoai preflight run (aoai-ready, every check), emulated ARM latency",
        "latency_ms": latency,
        "repeat": args.repeat,
        "concurrent": {
            "wall_ms": round(conc_ms, 1),
            "round_trips": round(conc_ms / latency, 2),
            "arm_requests": concurrent[0][1],
            "runs_ms": [round(w, 1) for w, _ in concurrent],
        },
        "sequential_baseline": {
            "wall_ms": round(seq_ms, 1),
            "round_trips": round(seq_ms / latency, 2),
            "arm_requests": sequential[0][1],
            "runs_ms": [round(w, 1) for w, _ in sequential],
        },
        "speedup": round(seq_ms / conc_ms, 2),
        "cli": {
            "wall_ms": round(cli_ms, 1),
            "startup_ms": round(startup_ms, 1),
            "wall_minus_startup_ms": round(cli_ms - startup_ms, 1),
            "arm_requests": cli_requests[0],
        },
        "target": {
            "rule": "wall <= 3 latency round trips + startup",
            "gather_limit_ms": 3 * latency,
            "gather_meets": conc_ms <= 3 * latency,
            "cli_limit_ms": round(3 * latency + startup_ms, 1),
            "cli_meets": cli_ms <= 3 * latency + startup_ms,
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
