"""The operations behind ``aoai resp``: each ties the client, a stream, the journal and a sink.

The CLI parses flags and picks a sink (``render``); everything in between lives here, testable
with an ``httpx.MockTransport`` and no terminal. Outcomes that end a command (a response that
failed, a Ctrl-C) leave as ``aoai.errors`` types carrying the message the user needs, including
the commands that pick up where the user left off.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from aoai import auth as auth_mod
from aoai import config
from aoai.errors import AoaiError, Interrupted, ResponseEnded, UsageError
from aoai.responses import TERMINAL_STATUSES, Status
from aoai.responses.client import ResponsesClient, RetryNotice, filter_categories
from aoai.responses.journal import FILE_NAME, Journal, JournalEntry, JournalRecorder, JournalUnusable
from aoai.responses.stream import TEXT_DELTA, EventStream, ResumeNotice, StreamEvent


class Sink(Protocol):
    """Consumes stream events (``render`` implements text, rich, json and jsonl sinks)."""

    def on_event(self, event: StreamEvent) -> None: ...

    def on_replay_refused(self, response: Mapping[str, Any], after: int | None) -> None:
        """The service stopped replaying events; ``response`` (polled to its end) is what remains."""


@dataclass
class Session:
    """One command's connection to the service, and the journal (None with ``--no-journal``)."""

    client: ResponsesClient
    journal: Journal | None
    endpoint_host: str
    notify: Callable[[str], None]

    def recorder(self, *, deployment: str | None = None, response_id: str | None = None) -> JournalRecorder:
        return JournalRecorder(
            self.journal,
            endpoint_host=self.endpoint_host,
            deployment=deployment,
            response_id=response_id,
        )

    def record(self, response: Mapping[str, Any], *, deployment: str | None = None) -> None:
        self.recorder(deployment=deployment).response(response)

    def close(self) -> None:
        self.client.close()
        if self.journal is not None:
            self.journal.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def journal_path(env: Mapping[str, str]) -> Path:
    return config.state_dir(env) / FILE_NAME


def open_journal(env: Mapping[str, str], notify: Callable[[str], None]) -> Journal | None:
    """The journal, or None (after one notice) when it cannot be used: the command still runs."""
    try:
        return Journal.open(journal_path(env), on_error=notify)
    except JournalUnusable as exc:
        notify(str(exc))
        return None


def journal_entries(env: Mapping[str, str], *, limit: int, notify: Callable[[str], None]) -> list[JournalEntry]:
    """``aoai resp log``: the newest entries first; none (and no file created) before the first response."""
    if not journal_path(env).exists():
        return []
    journal = open_journal(env, notify)
    if journal is None:
        return []
    with journal:
        return journal.list(limit=limit)


def open_session(
    env: Mapping[str, str],
    *,
    endpoint: str | None,
    auth: str | None,
    scope: str | None,
    ca_bundle: str | None,
    max_retries: int,
    use_journal: bool,
    notify: Callable[[str], None],
    on_retry: Callable[[RetryNotice], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
    headers: Mapping[str, str] | None = None,
) -> Session:
    """Resolve settings and the credential (usage / auth errors surface here, before any request)."""
    settings = config.data_plane_settings(env, endpoint=endpoint, auth=auth, scope=scope, ca_bundle_flag=ca_bundle)
    credential = auth_mod.data_plane_auth(settings, env)
    client = ResponsesClient(
        settings.base_url,
        credential,
        transport=transport,
        max_retries=max_retries,
        timeout=timeout,
        ca_bundle=settings.ca_bundle,
        on_retry=on_retry,
        headers=headers,
    )
    journal = open_journal(env, notify) if use_journal else None
    return Session(client, journal, config.endpoint_host(settings.base_url), notify)


# -- what a response says ----------------------------------------------------------------------


def output_text(response: Mapping[str, Any]) -> str:
    """All ``output_text`` parts of the message items, in order (the SDKs' ``output_text``)."""
    pieces: list[str] = []
    for item in response.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "message":
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "output_text":
                    text = part.get("text")
                    if isinstance(text, str):
                        pieces.append(text)
    return "".join(pieces)


def function_calls(response: Mapping[str, Any]) -> list[str]:
    """``name(arguments)`` of each function call the model asked for."""
    calls = []
    for item in response.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "function_call":
            calls.append(f"{item.get('name')}({item.get('arguments', '')}) call_id={item.get('call_id')}")
    return calls


@dataclass
class Summary:
    """What the footer / status line says about a response once a command is done with it."""

    response_id: str | None
    status: str | None
    model: str | None = None
    usage: dict[str, Any] | None = None
    elapsed: float | None = None
    first_token: float | None = None
    resumes: int = 0
    background: bool | None = None
    response: dict[str, Any] | None = None
    error: str | None = None  # what went wrong, for failed / incomplete / error events
    calls: list[str] = field(default_factory=list)
    last_sequence: int | None = None
    stream_error: bool = False  # an ``error`` event ended the stream of a response that had not failed


def _reason(error: Mapping[str, Any]) -> tuple[int, str] | None:
    """(how specific, text) of one error object: code, message, and the content-filter categories."""
    code, message = error.get("code"), error.get("message")
    if not code and not message:
        return None
    text = f"{code}: {message}" if code and message else str(code or message)
    categories = filter_categories(error)
    if categories:
        text += f" (content filter: {', '.join(categories)})"
    return (2 if message else 0) + (1 if code else 0) + (2 if categories else 0), text


def failure_reason(response: Mapping[str, Any], error_events: Sequence[StreamEvent] = ()) -> str | None:
    """The most specific reason anywhere: the response's ``error``, any ``error`` event (also one
    after ``response.failed``), ``incomplete_details``; the first of equally specific ones."""
    candidates: list[tuple[int, str]] = []
    error = response.get("error")
    if isinstance(error, dict):
        candidates.append(_reason(error) or (0, ""))
    for event in error_events:
        nested = event.data.get("error")
        found = _reason(nested if isinstance(nested, dict) else event.data)
        if found is not None:
            candidates.append(found)
    details = response.get("incomplete_details")
    if isinstance(details, dict) and details.get("reason"):
        candidates.append((1, f"reason {details['reason']}"))
    best = max(candidates, key=lambda candidate: candidate[0], default=None)
    return best[1] if best is not None and best[1] else None


def summarize(
    response: Mapping[str, Any] | None,
    *,
    response_id: str | None = None,
    elapsed: float | None = None,
    first_token: float | None = None,
    resumes: int = 0,
    error_events: Sequence[StreamEvent] = (),
    last_sequence: int | None = None,
) -> Summary:
    data: Mapping[str, Any] = response or {}
    usage = data.get("usage")
    status = data.get("status") if isinstance(data.get("status"), str) else None
    summary = Summary(
        response_id=data.get("id") if isinstance(data.get("id"), str) else response_id,
        status=status,
        model=data.get("model") if isinstance(data.get("model"), str) else None,
        usage=usage if isinstance(usage, dict) else None,
        elapsed=elapsed,
        first_token=first_token,
        resumes=resumes,
        background=data.get("background") if isinstance(data.get("background"), bool) else None,
        response=dict(response) if response is not None else None,
        error=failure_reason(data, error_events),
        calls=function_calls(data),
        last_sequence=last_sequence,
        stream_error=bool(error_events) and status not in ENDED_BADLY,
    )
    if summary.stream_error and summary.error is None:
        summary.error = "the service reported an error"
    return summary


ENDED_BADLY = frozenset({Status.FAILED, Status.INCOMPLETE, Status.CANCELLED})


def ended_error(summary: Summary) -> AoaiError | None:
    """The error a command ends with: exit 1 for a response that ended failed, incomplete or
    cancelled; exit 4 for a stream an ``error`` event ended while the response itself had not failed."""
    rid = summary.response_id or "(unknown id)"
    status = summary.status
    reason = summary.error or "no reason given"
    filtered = "content_filter" in reason or "content_policy" in reason or "content filter" in reason
    if status == Status.FAILED:
        return ResponseEnded(
            f"response {rid} failed: {reason}", hint="the content filter stopped it" if filtered else None
        )
    if status == Status.INCOMPLETE:
        hint = None
        if "max_output_tokens" in reason:
            hint = "it reached the output token limit: raise --max-output-tokens"
        elif filtered:
            hint = "the content filter stopped it"
        return ResponseEnded(f"response {rid} is incomplete: {reason}", hint=hint)
    if status == Status.CANCELLED:
        return ResponseEnded(f"response {rid} was cancelled")
    if summary.stream_error:
        return AoaiError(
            f"the stream of response {rid} ended with an error: {reason}",
            hint=f"`aoai resp retrieve {rid}` shows where the response stands" if summary.response_id else None,
        )
    return None


def interrupted(
    response_id: str | None, *, background: bool, last_sequence: int | None, waiting: bool = False
) -> Interrupted:
    """Ctrl-C: say how to pick the response up again (background) or that it stopped (foreground)."""
    if background and response_id:
        after = f" --starting-after {last_sequence}" if last_sequence is not None else ""
        follow = (
            f"`aoai resp retrieve {response_id} --wait`"
            if waiting
            else f"`aoai resp resume-stream {response_id}{after}`"
        )
        return Interrupted(
            f"interrupted; response {response_id} keeps running in the background",
            hint=f"resume with {follow}; cancel with `aoai resp cancel {response_id}`",
        )
    if background:
        return Interrupted("interrupted before the service named the response; there is nothing to resume")
    what = f"response {response_id}" if response_id else "the response"
    return Interrupted(f"interrupted; closing the connection stopped the foreground {what}")


# -- operations ----------------------------------------------------------------------------------


_STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


@contextmanager
def _signals_between_events() -> Iterator[None]:
    """Hold Ctrl-C / SIGTERM / SIGHUP while one event is shown and recorded; they land between events.

    Otherwise a signal can fall after the text is written but before its sequence number is
    recorded (a resume repeats it), or inside the redactor's hand-over (bytes are lost): an event
    is either shown and recorded, or neither. The network wait, where a stream spends its time,
    stays interruptible.
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def consume(session: Session, stream: EventStream, sink: Sink, *, deployment: str | None = None) -> Summary:
    """Feed a stream to a sink and the journal; return the summary (a failed response is not raised here)."""
    recorder = session.recorder(deployment=deployment, response_id=stream.response_id)
    started = time.perf_counter()
    first_token: float | None = None
    on_event = sink.on_event
    note = recorder.sequence
    shown = stream.last_sequence  # the last event the sink finished with
    try:
        for event in stream:
            if first_token is None and event.type == TEXT_DELTA:
                first_token = time.perf_counter() - started
            with _signals_between_events():
                on_event(event)
                shown = event.sequence_number
                note(shown, event.response)
    except KeyboardInterrupt:
        if recorder.response_id is None:
            recorder.response_id = stream.response_id
        recorder.sequence(shown, None)
        recorder.flush()
        raise interrupted(stream.response_id, background=stream.resumable, last_sequence=shown) from None
    except BaseException:
        recorder.flush()
        raise
    terminal = stream.terminal
    final = stream.final_response or (terminal.response if terminal is not None else None) or stream.response
    if stream.replay_refused is not None and final is not None:
        sink.on_replay_refused(final, shown)
    if recorder.response_id is None and stream.response_id is not None:
        recorder.response_id = stream.response_id
    recorder.finish(final)
    return summarize(
        final,
        response_id=stream.response_id,
        elapsed=time.perf_counter() - started,
        first_token=first_token,
        resumes=stream.resumes,
        error_events=stream.errors,
        last_sequence=stream.last_sequence,
    )


def stream_create(
    session: Session,
    body: Mapping[str, Any],
    sink: Sink,
    *,
    max_resumes: int,
    on_resume: Callable[[ResumeNotice], None] | None,
) -> Summary:
    stream = EventStream.create(
        session.client, body, max_resumes=max_resumes, on_resume=on_resume, notify=session.notify
    )
    return consume(session, stream, sink, deployment=str(body.get("model")))


def follow_point(
    session: Session, response_id: str | None, *, starting_after: int | None, notify: Callable[[str], None]
) -> tuple[str, int | None]:
    """``aoai resp resume-stream``: the response to follow (None: the journal's latest for this endpoint) and
    the event to continue after (default: the last one the journal saw)."""
    journal = session.journal
    if response_id is None:
        if journal is None:
            raise UsageError("--last reads the journal, which cannot be used here", hint="give the response ID")
        entry = journal.latest(endpoint_host=session.endpoint_host) if journal is not None else None
        if entry is None:
            raise UsageError(f"the journal has no response for {session.endpoint_host} yet")
        response_id = entry.id
        notify(f"following {response_id}, the most recent response in the journal")
    after = starting_after
    if after is None and journal is not None:
        known = journal.get(response_id)
        if known is not None and known.last_sequence is not None:
            after = known.last_sequence
            notify(
                f"continuing after event {after}, the last one this machine saw "
                "(--starting-after 0 replays the whole stream)"
            )
    return response_id, after


def stream_follow(
    session: Session,
    response_id: str,
    sink: Sink,
    *,
    starting_after: int | None,
    include: Sequence[str] = (),
    max_resumes: int,
    on_resume: Callable[[ResumeNotice], None] | None,
) -> Summary:
    stream = EventStream.follow(
        session.client,
        response_id,
        starting_after=starting_after,
        include=include,
        max_resumes=max_resumes,
        on_resume=on_resume,
        notify=session.notify,
    )
    return consume(session, stream, sink)


def create(session: Session, body: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
    """Create without streaming; returns the response and the seconds it took."""
    started = time.perf_counter()
    try:
        response = session.client.create(body)
    except KeyboardInterrupt:
        raise interrupted(None, background=False, last_sequence=None) from None
    session.record(response, deployment=str(body.get("model")))
    return response, time.perf_counter() - started


def retrieve(session: Session, response_id: str, *, include: Sequence[str] = ()) -> dict[str, Any]:
    response = session.client.retrieve(response_id, include=include)
    session.record(response)
    return response


def wait(
    session: Session,
    response_id: str,
    *,
    interval: float,
    timeout: float | None,
    include: Sequence[str] = (),
    on_status: Callable[[Mapping[str, Any], float], None] | None = None,
    first: Mapping[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll until the response reaches a terminal status (or ``timeout`` seconds pass)."""
    started = time.monotonic()
    response: dict[str, Any] | None = dict(first) if first is not None else None
    try:
        while True:
            if response is None:
                response = session.client.retrieve(response_id, include=include)
            elapsed = time.monotonic() - started
            if on_status is not None:
                on_status(response, elapsed)
            if response.get("status") in TERMINAL_STATUSES:
                session.record(response)
                return response
            if timeout is not None and elapsed >= timeout:
                session.record(response)
                raise AoaiError(
                    f"response {response_id} is still {response.get('status')} after {timeout:g} s",
                    hint=f"wait longer with --timeout, or later with `aoai resp retrieve {response_id} --wait`",
                )
            pause = interval if timeout is None else max(0.0, min(interval, timeout - elapsed))
            sleep(pause)
            response = None
    except KeyboardInterrupt:
        raise interrupted(response_id, background=True, last_sequence=None, waiting=True) from None


def cancel(session: Session, response_id: str) -> dict[str, Any]:
    response = session.client.cancel(response_id)
    session.record(response)
    return response


def delete(session: Session, response_id: str) -> dict[str, Any]:
    result = session.client.delete(response_id)
    if session.journal is not None and session.journal.get(response_id) is not None:
        session.recorder().response({"id": response_id, "status": "deleted"})
    return result


def compact(session: Session, body: Mapping[str, Any]) -> dict[str, Any]:
    return session.client.compact(body)


class InputItemPages:
    """The pages of ``GET /responses/{id}/input_items`` (every page with ``follow``), read once.

    After iteration, ``incomplete()`` says why a followed list stopped short: the service said
    ``has_more`` but gave no cursor (``last_id`` null), or gave one it had given before.
    """

    def __init__(
        self,
        session: Session,
        response_id: str,
        *,
        limit: int | None,
        order: str | None,
        after: str | None,
        include: Sequence[str],
        follow: bool,
    ) -> None:
        self._session = session
        self.response_id = response_id
        self._query: dict[str, Any] = {"limit": limit, "order": order, "after": after, "include": include}
        self.follow = follow
        self.last_page: dict[str, Any] | None = None
        self.items = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        client = self._session.client
        if self.follow:
            pages: Iterator[dict[str, Any]] = client.iter_input_item_pages(self.response_id, **self._query)
        else:
            pages = iter([client.list_input_items(self.response_id, **self._query)])
        for page in pages:
            self.last_page = page
            self.items += len(page.get("data") or [])
            yield page

    def incomplete(self) -> AoaiError | None:
        """With ``follow``: the exit-4 error for a list that could not be followed to its end."""
        page = self.last_page
        if not self.follow or page is None or not page.get("has_more"):
            return None
        cursor = page.get("last_id")
        why = (
            f"the service gave the cursor {cursor} twice"
            if isinstance(cursor, str) and cursor
            else "the service said has_more but gave no cursor (last_id is null)"
        )
        return AoaiError(
            f"the input items of {self.response_id} are incomplete: {why}; {self.items} items listed",
            hint=f"`aoai resp retrieve {self.response_id} -o json` shows the response itself",
        )
