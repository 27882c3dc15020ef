"""What every ``aoai resp`` command shares: connection settings, the session, the terminal, Ctrl-C.

Core modules (httpx, rich, the Azure SDK behind them) are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aoai.cli.common import state
from aoai.errors import Interrupted, UsageError
from aoai.responses import AuthMode, Include

if TYPE_CHECKING:
    from aoai.responses.render import Terminal
    from aoai.responses.run import Session, Summary


@dataclass(frozen=True)
class Conn:
    endpoint: str | None
    auth: AuthMode | None
    scope: str | None
    ca_bundle: str | None
    max_retries: int
    journal: bool


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C anywhere a core operation did not already explain it: still exit 130 with one line."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted("interrupted") from None


def terminal() -> Terminal:
    from aoai.responses.render import Terminal

    return Terminal.from_std(color=state().color)


def open_session(conn: Conn, headers: dict[str, str] | None = None) -> Session:
    from aoai.responses import render, run

    notices = render.Notices()
    return run.open_session(
        state().env,
        endpoint=conn.endpoint,
        auth=conn.auth.value if conn.auth is not None else None,
        scope=conn.scope,
        ca_bundle=conn.ca_bundle,
        max_retries=conn.max_retries,
        use_journal=conn.journal,
        notify=notices,
        on_retry=notices.retry,
        headers=headers,
    )


def include_values(include: list[Include] | None) -> list[str]:
    return [value.value for value in include or []]


def read_text(path: str) -> str:
    from aoai.responses.inputs import read_text_file

    return read_text_file(path)


def deployment_name(model: str | None) -> str:
    from aoai import config

    env = state().env
    value = config.resolve(model, env, ("AOAI_DEPLOYMENT",), config.load_profile(env), "deployment")
    if not value:
        raise UsageError(
            "no deployment given",
            hint="pass -m/--model DEPLOYMENT (the deployment name, not the model name) or set AOAI_DEPLOYMENT",
        )
    return value


def raise_if_ended(summary: Summary) -> None:
    from aoai.responses.run import ended_error

    error = ended_error(summary)
    if error is not None:
        raise error


def wait_for(
    session: Session,
    term: Terminal,
    response_id: str,
    *,
    interval: float,
    timeout: float | None,
    include: list[str],
    first: dict[str, object] | None = None,
) -> dict[str, object]:
    from aoai.responses import render, run

    status = render.WaitStatus(term, response_id)
    try:
        return run.wait(
            session, response_id, interval=interval, timeout=timeout, include=include, on_status=status, first=first
        )
    finally:
        status.close()
