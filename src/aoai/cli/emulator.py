"""``aoai emulator`` and ``aoai demo``."""

from __future__ import annotations

import os
import shlex
import threading
from pathlib import Path
from typing import Any

import typer

from aoai.cli.common import finite, state
from aoai.errors import UsageError

MAX_REPLAY_WINDOW = 30 * 24 * 3600.0  # a month: longer than any test or tour needs


def emulator(
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address to listen on (loopback only)."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port; 0 picks a free one."),
    scenario: str = typer.Option(
        "default", "--scenario", help="Built-in scenario name (default, fleet:N) or a TOML file."
    ),
    latency_ms: int = typer.Option(0, "--latency-ms", min=0, max=600_000, help="Extra latency for every request."),
    tokens_per_second: float = typer.Option(
        200.0, "--tokens-per-second", min=1, max=1e9, callback=finite, help="Streaming speed."
    ),
    replay_window: float = typer.Option(
        300.0,
        "--replay-window",
        metavar="SECONDS",
        min=0,
        max=MAX_REPLAY_WINDOW,
        callback=finite,
        help="How long after it starts a background response can be streamed again (Azure: 5 minutes).",
    ),
    env_file: Path | None = typer.Option(None, "--env-file", help="Also write the export lines to this file."),
) -> None:
    """Run the local emulator of Azure OpenAI (ARM + Responses API) over HTTPS on loopback.

    Prints `export NAME=VALUE` lines for the environment a client needs, then serves until
    interrupted. In a shell: `eval "$(aoai emulator --env-file .emu.env &)"` or source the env file.
    """
    try:
        from aoai.emulator import server
    except ImportError as exc:
        raise UsageError(
            "the emulator needs its extra dependencies", hint="pip install 'aoai[emulator]'"
        ) from exc
    if env_file is not None:
        _check_env_file(env_file)  # before listening: a bad path must not leave a server behind
    try:
        running = server.start(
            host=host,
            port=port,
            scenario=scenario,
            latency_ms=latency_ms,
            tokens_per_second=tokens_per_second,
            replay_window_s=replay_window,
        )
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    # From here on the server runs: every way out (error, Ctrl-C, SIGTERM, SIGHUP) stops it and
    # removes its temporary folder, which holds the server's private key.
    try:
        lines = [f"export {name}={shlex.quote(value)}" for name, value in running.env.items()]
        text = "\n".join(lines) + "\n"
        if env_file is not None:
            from aoai.atomicfile import write_file

            write_file(env_file, text, what="--env-file", private=True)
        typer.echo(text, nl=False)
        state().err.print(
            f"aoai emulator listening on {running.url} (scenario {running.state.scenario.name}); "
            "Ctrl-C or SIGTERM stops it"
        )
        threading.Event().wait()
    except KeyboardInterrupt:  # Ctrl-C, and SIGTERM / SIGHUP (aoai.cli.process): a normal stop
        state().err.print("aoai emulator stopped")
    finally:
        running.stop()


def _check_env_file(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"--env-file {path}: the folder {folder} does not exist", hint="create it first")
    if path.is_dir():
        raise UsageError(f"--env-file {path} is a folder", hint="give a file name")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--env-file {path}: the folder {folder} is not writable")


def demo(
    tokens_per_second: float = typer.Option(
        400.0, "--tokens-per-second", min=1, max=1e9, callback=finite, help="Streaming speed of the tour."
    ),
) -> None:
    """Tour the whole tool against the built-in emulator: no Azure subscription needed.

    Starts the emulator in-process on a free port, then runs real `aoai` commands: preflight of a
    ready and a failing account, a streamed response, a background stream that breaks and resumes,
    cancel and compaction. Exits 0 when every step behaved as expected.
    """
    import time

    try:
        from aoai.emulator import server
        from aoai.emulator.faults import Fault
    except ImportError as exc:
        raise UsageError("the demo needs the emulator extra", hint="pip install 'aoai[emulator]'") from exc
    from aoai.demo import run_tour

    cli = state()
    started = time.monotonic()
    running = server.start(tokens_per_second=tokens_per_second)
    try:
        cli.err.print(f"aoai demo: emulator running on {running.url} (scenario default: aoai-ready, aoai-legacy)")
        env = {**cli.env, **running.env, "AOAI_STATE_DIR": str(running.ca_path.parent / "state")}
        if not cli.color:
            env["NO_COLOR"] = "1"

        def add_fault(spec: dict[str, Any]) -> None:
            running.state.faults.add(Fault.parse(spec))

        results = run_tour(
            env,
            add_fault=add_fault,
            say=lambda text: cli.err.print(text, markup=False),
        )
    finally:
        running.stop()
    cli.err.print(
        f"\naoai demo: {len(results)} steps as expected in {time.monotonic() - started:.1f}s. "
        "Next: `aoai emulator` to keep it running, then `aoai preflight run --help` and `aoai resp --help`."
    )


def register(app: typer.Typer) -> None:
    app.command("emulator")(emulator)
    app.command("demo")(demo)
