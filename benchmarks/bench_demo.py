"""Benchmark ``aoai demo`` (the README's first command); prints JSON.

The demo must finish in under 20 s (issue 3). This runs it as a user would, a few times, and
reports the wall time of each run and the median.

    python benchmarks/bench_demo.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AOAI_"))}
    env["NO_COLOR"] = "1"
    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "aoai", "demo"], env=env, capture_output=True, text=True, timeout=120
        )
        runs.append(round(time.perf_counter() - started, 2))
        if proc.returncode != 0:
            print(json.dumps({"error": f"demo exited {proc.returncode}", "stderr": proc.stderr[-2000:]}))
            sys.exit(1)
    print(
        json.dumps(
            {
                "benchmark": "aoai demo",
                "runs_s": runs,
                "median_s": statistics.median(runs),
                "target_s": 20,
                "meets_target": statistics.median(runs) < 20,
                "load_average_1m": os.getloadavg()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
