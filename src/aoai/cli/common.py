"""What every command shares: the global state built once by the root callback, and consoles.

Commands read the environment through ``state().env`` (never ``os.environ`` directly), so a
test or the demo can hand the CLI an environment of its own.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class CliState:
    debug: bool = False
    color: bool = True
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    _out: Console | None = None
    _err: Console | None = None

    @property
    def out(self) -> Console:
        """Console on stdout (data)."""
        if self._out is None:
            from rich.console import Console

            self._out = Console(no_color=not self.color, highlight=False, soft_wrap=True)
        return self._out

    @property
    def err(self) -> Console:
        """Console on stderr (status, progress, messages)."""
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, no_color=not self.color, highlight=False, soft_wrap=True)
        return self._err

    @property
    def stdout_is_tty(self) -> bool:
        return sys.stdout.isatty()

    @property
    def stdin_is_tty(self) -> bool:
        return sys.stdin.isatty()


_state = CliState()


def state() -> CliState:
    return _state


def configure(*, debug: bool, no_color: bool) -> CliState:
    _state.debug = debug
    # NO_COLOR (no-color.org: set and not empty) and TERM=dumb both mean: no colour codes at all.
    _state.color = not no_color and not _state.env.get("NO_COLOR") and _state.env.get("TERM") != "dumb"
    _state._out = _state._err = None
    if debug:
        from aoai.auth import RedactingFilter

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("debug %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(logging.WARNING)
        logging.getLogger("aoai").setLevel(logging.DEBUG)
        # azure-core logs each request/response at INFO (headers already redacted by its policy).
        logging.getLogger("azure").setLevel(logging.INFO)
    return _state


def finite(value: float | None) -> float | None:
    """Option callback: click's ranges let NaN through (every comparison with it is false)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a number")
    return value


def fail_usage(message: str) -> typer.BadParameter:
    return typer.BadParameter(message)


def defer_unset_coercion() -> None:
    """Start-up: let typer coerce only values that were given.

    typer (0.2x) builds a pydantic ``TypeAdapter`` for each option it processes, even one left
    unset such as the root's ``--help``, and importing pydantic costs ~70 ms of every start-up
    (``aoai resp --help`` included). Coercing ``None`` never needs the adapter (typer's own
    ``RuntimeParam.coerce`` returns None or () for it first), so build it on the first real value.
    A no-op if typer's internals differ from what this expects.
    """
    import typer.core as typer_core

    build: Any = getattr(typer_core, "build_runtime_param", None)
    if build is None or getattr(build, "aoai_deferred", False):
        return

    class _Deferred:
        __slots__ = ("_descriptor", "_real")

        def __init__(self, descriptor: object) -> None:
            self._descriptor = descriptor
            self._real: Any = None

        def coerce(self, value: object, param: typer.core.TyperOption, ctx: typer.Context) -> object:
            if value is None:
                return () if (param.multiple or param.nargs == -1) else None
            if self._real is None:
                self._real = build(self._descriptor)
            return self._real.coerce(value, param=param, ctx=ctx)

    def deferred(descriptor: object) -> object:
        return _Deferred(descriptor)

    deferred.aoai_deferred = True  # type: ignore[attr-defined]
    setattr(typer_core, "build_runtime_param", deferred)  # noqa: B010 - not a public name of typer
