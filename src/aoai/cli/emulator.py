"""``aoai emulator`` and ``aoai demo``."""

from __future__ import annotations

import shlex
import threading
from pathlib import Path

import typer

from aoai.cli.common import state
from aoai.errors import UsageError


def emulator(
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address to listen on (loopback only)."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port; 0 picks a free one."),
    scenario: str = typer.Option(
        "default", "--scenario", help="Built-in scenario name (default, fleet:N) or a TOML file."
    ),
    latency_ms: int = typer.Option(0, "--latency-ms", min=0, help="Extra latency for every request."),
    tokens_per_second: float = typer.Option(200.0, "--tokens-per-second", min=1, help="Streaming speed."),
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
    try:
        running = server.start(
            host=host, port=port, scenario=scenario, latency_ms=latency_ms, tokens_per_second=tokens_per_second
        )
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    lines = [f"export {name}={shlex.quote(value)}" for name, value in running.env.items()]
    text = "\n".join(lines) + "\n"
    if env_file is not None:
        tmp = env_file.with_name(env_file.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(env_file)
    typer.echo(text, nl=False)
    state().err.print(
        f"aoai emulator listening on {running.url} (scenario {running.state.scenario.name}); Ctrl-C stops it"
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        state().err.print("aoai emulator stopped")
    finally:
        running.stop()


def register(app: typer.Typer) -> None:
    app.command("emulator")(emulator)
