"""Benchmark ``aoai preflight capacity`` on a 25-region scan at 100 ms emulated ARM latency.

Compares three ways of answering "where can gpt-4.1 run at 100K TPM":

- ``aoai``: the library path the command uses (one ModelCapacities_List, then Usages_List and
  Models_List for the 25 candidate regions, all in flight together);
- ``aoai_cli``: the same through the real ``aoai`` command in a subprocess (adds interpreter start-up,
  imports and the credential), i.e. what a user waits for;
- ``sequential_per_region``: the plan of the solution accelerators' ``quota_check_params.sh`` — one
  usages call per region, one after another (through the same SDK client; the scripts also start
  an ``az`` process per call, which this does not count). It reads quota only: no capacity, no
  lifecycle, no Responses API.

The emulator has no built-in 25-region scenario, so this writes one (TOML, format of
``aoai.emulator.scenario``) into a temporary directory. The emulator runs in its own process (as ARM
would: its work must not share the client's GIL), and ARM requests are counted from its request log
(``GET /_emulator/requests``). Prints one JSON document. Run: ``python benchmarks/bench_capacity.py``.
"""

from __future__ import annotations

import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aoai.config import arm_settings
from aoai.preflight.arm import ArmReader, fetch_capacity_inputs
from aoai.preflight.capacity import CapacityOptions, build_query, evaluate, prepare, run
from aoai.preflight.catalog import load as load_catalog
from aoai.preflight.snapshot import PartName

LATENCY_MS = 100
RUNS = 5
MODEL, VERSION, SKU, CAPACITY = "gpt-4.1", "2025-04-14", "GlobalStandard", 100
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000b1"
TARGET_S = 1.0


def scenario_toml(regions: list[str]) -> str:
    """25 regions offering gpt-4.1 GlobalStandard, with a mix of capacity and quota situations."""
    lines = [
        "[scenario]",
        'name = "capacity-bench-25"',
        "[limits]",
        "subscription_reads = 100000",  # the benchmark repeats runs: keep ARM throttling out of the figures
        "subscription_reads_per_second = 10000.0",
        "[[subscriptions]]",
        f'id = "{SUBSCRIPTION}"',
        'display_name = "capacity-bench"',
        "[[location_models]]",
        f"locations = {json.dumps(regions)}",
        f'name = "{MODEL}"',
        f'version = "{VERSION}"',
        'lifecycle_status = "GenerallyAvailable"',
        "inference_in_days = 400",
        "[[location_models.skus]]",
        f'name = "{SKU}"',
        "capacity = { default = 50, maximum = 1000, minimum = 1, step = 1 }",
    ]
    for index, region in enumerate(regions):
        available = (0, 50, 800, 1500, 3000)[index % 5]
        used = (0, 990, 400, 50, 950)[(index // 5) % 5]
        lines += [
            "[[model_capacities]]",
            f'location = "{region}"',
            f'model = "{MODEL}"',
            f'version = "{VERSION}"',
            f'sku = "{SKU}"',
            f"available = {available}",
            "[[usages]]",
            f'location = "{region}"',
            f'name = "OpenAI.{SKU}.{MODEL}"',
            "limit = 1000",
            f"current = {used}",
        ]
    return "\n".join(lines) + "\n"


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


class Emulator:
    def __init__(self, scenario: Path, workdir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(scenario), str(LATENCY_MS), str(workdir)],
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

    def requests(self) -> int:
        url = self.env["AOAI_ARM_ENDPOINT"] + "/_emulator/requests"
        with urllib.request.urlopen(url, context=self._context, timeout=10) as resp:
            count: int = json.loads(resp.read())["count"]
        return count

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=15)


def _timed(emu: Emulator, action: Callable[[], Any]) -> tuple[float, int, Any]:
    before = emu.requests()
    started = time.perf_counter()
    value = action()
    wall = time.perf_counter() - started
    return wall, emu.requests() - before, value


def main() -> None:
    regions = list(load_catalog().regions)[:25]
    assert len(regions) == 25
    with tempfile.TemporaryDirectory(prefix="aoai-bench-capacity-") as tmp:
        path = Path(tmp) / "capacity-25.toml"
        path.write_text(scenario_toml(regions), encoding="utf-8")
        emu = Emulator(path, Path(tmp) / "emulator")
        try:
            env = {**emu.env, "HOME": tmp, "XDG_CONFIG_HOME": tmp}
            options = CapacityOptions(model=MODEL, version=VERSION, sku=SKU, capacity=CAPACITY)
            prepared = prepare(options, env, Path(tmp))
            settings = arm_settings(
                env, arm_endpoint=None, cloud=None, credential=None, ca_bundle_flag=None, subscription=None
            )
            run(prepared, env)  # warm-up: SDK imports, TLS context

            walls: list[float] = []
            counts: list[int] = []
            fits = rows = 0
            for _ in range(RUNS):
                wall, count, result = _timed(emu, lambda: run(prepared, env))
                walls.append(wall)
                counts.append(count)
                fits, rows = len(result.fitting), len(result.rows)

            query = build_query(model=MODEL, version=VERSION, sku=SKU, capacity=CAPACITY)
            catalog = load_catalog()
            pool8: list[float] = []
            for _ in range(3):
                wall, _count, inputs = _timed(
                    emu,
                    lambda: fetch_capacity_inputs(
                        settings, env, query, catalog, subscription=SUBSCRIPTION, max_workers=8
                    ),
                )
                pool8.append(wall)
                evaluate(query, inputs, catalog, datetime.now(UTC))

            cli_walls: list[float] = []
            cli_env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TMPDIR")}
            cli_env.update(env, NO_COLOR="1")
            cli_args = [sys.executable, "-m", "aoai", "preflight", "capacity", "-m", MODEL, "--version", VERSION]
            cli_args += ["--sku", SKU, "--capacity", str(CAPACITY), "-o", "json"]
            cli_count = 0
            for _ in range(3):
                wall, cli_count, proc = _timed(
                    emu,
                    lambda: subprocess.run(cli_args, env=cli_env, capture_output=True, text=True, cwd=tmp, check=False),
                )
                cli_walls.append(wall)
                if proc.returncode not in (0, 1):
                    raise SystemExit(f"aoai exited {proc.returncode}: {proc.stderr.strip()}")

            with ArmReader(settings, env, max_workers=1) as reader:
                reader.principal()

                def sequential() -> list[Any]:
                    return [reader._location_part(PartName.USAGES, SUBSCRIPTION, r) for r in regions]

                sequential()  # warm-up
                seq_wall, seq_count, parts = _timed(emu, sequential)
                assert all(p.ok for p in parts)
        finally:
            emu.stop()

    median = statistics.median(walls)
    report = {
        "benchmark": "aoai preflight capacity, 25-region scan",
        "emulated_latency_ms": LATENCY_MS,
        "query": {"model": MODEL, "version": VERSION, "sku": SKU, "capacity": CAPACITY, "regions": len(regions)},
        "aoai": {
            "wall_s_median": round(median, 3),
            "wall_s_min": round(min(walls), 3),
            "wall_s_max": round(max(walls), 3),
            "runs": RUNS,
            "arm_requests": counts[-1],
            "plan": "1 ModelCapacities_List, then 25 Usages_List + 25 Models_List concurrently",
            "rows": rows,
            "fits": fits,
        },
        "aoai_pool_8_workers": {
            "wall_s_median": round(statistics.median(pool8), 3),
            "note": "the same plan with ArmReader's default pool of 8 threads instead of 64",
        },
        "aoai_cli_subprocess": {
            "wall_s_median": round(statistics.median(cli_walls), 3),
            "wall_s_min": round(min(cli_walls), 3),
            "arm_requests": cli_count,
            "note": "the real command: interpreter start-up, imports and credential included",
        },
        "sequential_per_region": {
            "wall_s": round(seq_wall, 3),
            "arm_requests": seq_count,
            "plan": "accelerator scripts: one usages call per region, one after another (no az start-up counted)",
            "answers": "quota only (no available capacity, lifecycle or Responses API)",
        },
        "speedup_vs_sequential": round(seq_wall / median, 1),
        "target_wall_s": TARGET_S,
        "meets_target": median <= TARGET_S,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
