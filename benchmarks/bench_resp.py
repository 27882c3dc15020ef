"""Benchmark of ``aoai resp``: start-up time and stream throughput. Prints one JSON object.

- ``startup``: median wall time of ``aoai --version`` and ``aoai resp --help`` as
  subprocesses (target: at most 150 ms each), and their median CPU time (user + system), which
  other work on a shared machine does not inflate; ``load_average_1m`` says how busy it was.
- ``stream``: a 20,000-delta response (emulator metadata ``emulator_output_tokens``) from an
  in-process emulator started with ``tokens_per_second=1e9``, rendered as text to a pipe by a
  real ``aoai resp create --stream`` subprocess. ``events_per_s`` counts every event the client
  rendered over the time the client itself reports (request to last event: the footer's
  elapsed time); ``events_per_s_wall`` divides by the whole process lifetime, start-up included.
  Target: at least 20,000 events/s.
- ``client_only``: the same events replayed from memory through ``httpx.MockTransport``, the
  SSE parser, sequence tracking, the text sink and the journal recorder into a pipe: what the
  client can do when the server is not the bottleneck.

Run: ``python benchmarks/bench_resp.py [--runs 10] [--deltas 20000]``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def aoai_command() -> list[str]:
    script = Path(sys.executable).with_name("aoai")
    if script.exists():
        return [str(script)]
    found = shutil.which("aoai")
    return [found] if found else [sys.executable, "-m", "aoai"]


def startup(args: list[str], runs: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall time, and median CPU time (user + system: what a busy shared machine cannot inflate)."""
    walls, cpus = [], []
    for _ in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        walls.append((time.perf_counter() - started) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    # The first run warms the file cache.
    return {"wall_ms": round(statistics.median(walls[1:]), 1), "cpu_ms": round(statistics.median(cpus[1:]), 1)}


def drain(fd: int, sink: list[int]) -> None:
    total = 0
    while chunk := os.read(fd, 1 << 16):
        total += len(chunk)
    sink.append(total)


def stream_benchmark(deltas: int, env: dict[str, str]) -> dict[str, Any]:
    from aoai.emulator import server

    with tempfile.TemporaryDirectory(prefix="aoai-bench-") as workdir:
        emulator = server.start(tokens_per_second=1e9, workdir=Path(workdir))
        try:
            run_env = {**env, **emulator.env, "AOAI_STATE_DIR": str(Path(workdir) / "state")}
            metadata = json.dumps({"emulator_output_tokens": str(deltas)})
            base = [
                *aoai_command(),
                "resp",
                "create",
                "Benchmark the stream",
                "-m",
                "chat",
                "--param",
                f"metadata={metadata}",
            ]
            # How many events does the stream have? (jsonl: one line per event)
            counted = subprocess.run([*base, "--stream", "-o", "jsonl"], env=run_env, capture_output=True, check=True)
            events = counted.stdout.count(b"\n")
            results = []
            for _ in range(3):
                started = time.perf_counter()
                proc = subprocess.Popen(
                    [*base, "--stream"], env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
                )
                assert proc.stdout is not None and proc.stderr is not None
                sizes: list[int] = []
                reader = threading.Thread(target=drain, args=(proc.stdout.fileno(), sizes))
                reader.start()
                err = proc.stderr.read().decode()
                proc.wait()
                reader.join()
                wall = time.perf_counter() - started
                if proc.returncode != 0:
                    raise RuntimeError(f"aoai failed: {err}")
                footer = err.strip().splitlines()[-1]
                match = re.search(r" · ([\d.]+) s · first token", footer)
                elapsed = float(match.group(1)) if match else wall
                results.append((elapsed, wall, sizes[0]))
            elapsed, wall, size = sorted(results)[1]
            return {
                "deltas": deltas,
                "events": events,
                "stdout_bytes": size,
                "client_elapsed_s": elapsed,
                "wall_s": round(wall, 3),
                "events_per_s": round(events / elapsed),
                "events_per_s_wall": round(events / wall),
            }
        finally:
            emulator.stop()


def client_only_benchmark(deltas: int) -> dict[str, Any]:
    """Replay a recorded stream from memory: the client's own cost per event."""
    import httpx

    from aoai.responses.client import ResponsesClient
    from aoai.responses.journal import Journal
    from aoai.responses.render import PlainTextSink, Terminal
    from aoai.responses.run import Session, consume
    from aoai.responses.stream import EventStream, TextTracker

    rid = "resp_bench"
    item = {"id": "msg_1", "type": "message"}
    response = {"id": rid, "object": "response", "status": "in_progress", "background": True, "model": "m"}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
    ]
    events += [
        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
         "delta": f" word{i % 97}", "logprobs": []}
        for i in range(deltas)
    ]  # fmt: skip
    events.append({"type": "response.completed", "response": {**response, "status": "completed", "output": []}})
    body = "".join(
        f"event: {e['type']}\ndata: {json.dumps({**e, 'sequence_number': n}, separators=(',', ':'))}\n\n"
        for n, e in enumerate(events)
    ).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    class Auth:
        mode, description, scope = "key", "bench key", None

        def headers(self) -> dict[str, str]:
            return {"api-key": "bench"}

    read_fd, write_fd = os.pipe()
    sizes: list[int] = []
    reader = threading.Thread(target=drain, args=(read_fd, sizes))
    reader.start()
    out = io.TextIOWrapper(io.FileIO(write_fd, "w"), encoding="utf-8", write_through=False)
    with tempfile.TemporaryDirectory() as workdir:
        client = ResponsesClient(
            "https://bench.openai.azure.com/openai/v1", Auth(), transport=httpx.MockTransport(handler)
        )
        session = Session(client, Journal.open(Path(workdir) / "j.sqlite3"), "bench", lambda s: None)
        sink = PlainTextSink(Terminal(out, io.StringIO(), False, False), TextTracker(catch_up=True))
        started = time.perf_counter()
        consume(session, EventStream.create(client, {"model": "m", "input": "x", "background": True}), sink)
        elapsed = time.perf_counter() - started
        session.close()
    out.close()
    reader.join()
    os.close(read_fd)
    return {"events": len(events), "elapsed_s": round(elapsed, 3), "events_per_s": round(len(events) / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--deltas", type=int, default=20000)
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AOAI_"))}
    env["NO_COLOR"] = "1"
    result = {
        "startup": {
            "aoai --version": startup([*aoai_command(), "--version"], options.runs, env),
            "aoai resp --help": startup([*aoai_command(), "resp", "--help"], options.runs, env),
        },
        "stream": stream_benchmark(options.deltas, env),
        "client_only": client_only_benchmark(options.deltas),
        "targets": {"startup_ms": 150, "events_per_s": 20000},
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
