"""Server-sent events of the Responses API: typed events, sequence tracking and automatic resume.

Invariants (they are what makes a resumed stream look like an uninterrupted one):

- ``EventStream`` yields each event at most once and in sequence order: an event whose
  ``sequence_number`` is at or below the last one yielded is dropped (and logged under
  ``--debug``), so a server that replays too much never shows text twice.
- When the stream of a *background* response breaks (connection error, truncated body, or a
  body that ends without a terminal event) it reconnects with ``GET /responses/{id}?stream=true
  &starting_after=N``, N being the last sequence number yielded, with backoff. A resumed stream
  may start mid-way (no ``response.created``) or straight with ``response.completed``; both are
  just "the events after N". It gives up after ``max_resumes`` reconnects in a row that bring
  no new event.
- A foreground stream cannot be resumed (the service keeps its events only for background
  responses), so a break there raises ``StreamInterrupted`` naming the response id.
- A reconnect that brings nothing and ends cleanly asks for the response itself: a response
  cancelled or finished meanwhile ends the stream with that final object (``final_response``).
- A reconnect refused because the events are too old to replay (Azure: 400 "can no longer be
  streamed") polls ``GET /responses/{id}`` to the end instead; that object is ``final_response``
  and ``replay_refused`` holds the refusal, so a sink can show what the user has not seen.
- The body is read to its end after the terminal event: a failure's reason may come in a trailing
  ``error`` event. A chat-style ``data: {"error": {...}}`` frame is an ``error`` event too.

Nothing here prints or renders: consumers (``render``, ``journal``) take the events.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from httpx_sse import EventSource, SSEError

from aoai.errors import AoaiError, ServiceError, StreamInterrupted, TransportError
from aoai.responses import TERMINAL_STATUSES

if TYPE_CHECKING:
    from aoai.responses.client import ResponsesClient

log = logging.getLogger(__name__)

TEXT_DELTA = "response.output_text.delta"
TEXT_DONE = "response.output_text.done"
REFUSAL_DELTA = "response.refusal.delta"
COMPLETED = "response.completed"
FAILED = "response.failed"
INCOMPLETE = "response.incomplete"
CANCELLED = "response.cancelled"  # not in the published event list; accepted if a service sends it
ERROR = "error"
TERMINAL_TYPES = frozenset({COMPLETED, FAILED, INCOMPLETE, CANCELLED, ERROR})
# Events that carry the whole response object (``response`` field).
RESPONSE_CARRIERS = frozenset(
    {"response.created", "response.queued", "response.in_progress", COMPLETED, FAILED, INCOMPLETE, CANCELLED}
)


@dataclass(slots=True)
class StreamEvent:
    """One event: its ``type``, ``sequence_number``, parsed ``data`` and the JSON text as received."""

    type: str
    sequence_number: int | None
    data: dict[str, Any]
    raw: str

    @property
    def response(self) -> dict[str, Any] | None:
        value = self.data.get("response")
        return value if isinstance(value, dict) else None

    def json_line(self) -> str:
        """The event's JSON on one line: the text received when it already is one line."""
        return self.raw if "\n" not in self.raw else json.dumps(self.data, ensure_ascii=False)


class MalformedEvent(ValueError):
    pass


def parse_event(event_name: str, data: str) -> StreamEvent | None:
    """An SSE frame as a ``StreamEvent``; None for frames that carry no event (keep-alives, ``[DONE]``)."""
    if not data or data == "[DONE]":
        return None
    try:
        parsed = json.loads(data)
    except ValueError as exc:
        raise MalformedEvent(f"an event that is not JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise MalformedEvent("an event that is not a JSON object")
    kind = parsed.get("type") or event_name or "message"
    if not parsed.get("type") and isinstance(parsed.get("error"), dict):
        # A chat-style error frame (``data: {"error": {...}}``, no type of its own): an error event.
        kind = ERROR
    seq = parsed.get("sequence_number")
    return StreamEvent(str(kind), seq if isinstance(seq, int) and not isinstance(seq, bool) else None, parsed, data)


@dataclass(frozen=True)
class ResumeNotice:
    """A reconnect about to happen, for the caller to show."""

    response_id: str
    after: int | None
    reason: str
    attempt: int
    max_resumes: int
    delay: float

    def describe(self) -> str:
        where = f"after event {self.after}" if self.after is not None else "from the start"
        return (
            f"the stream of {self.response_id} broke ({self.reason}); reconnecting {where} in {self.delay:.2f} s "
            f"(attempt {self.attempt} of {self.max_resumes})"
        )


def replay_refused(error: ServiceError) -> bool:
    """A 400 saying the response's events can no longer be streamed (Azure keeps them some minutes:
    "This response can no longer be streamed because it is more than 5 minutes old.")."""
    return error.status == 400 and "no longer be streamed" in error.message


def _describe_break(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for the next event"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return f"connection lost: {text}" if text else "connection lost"
    return text or type(exc).__name__


class EventStream:
    """Iterate over a response's events, resuming a background stream when it breaks.

    Build one with ``EventStream.create`` (``POST /responses``, ``stream: true``) or
    ``EventStream.follow`` (``GET /responses/{id}?stream=true``). After iteration:
    ``terminal`` is the terminal event (completed / failed / incomplete / error), or
    ``final_response`` the response object fetched when the stream had nothing more to say.
    """

    def __init__(
        self,
        client: ResponsesClient,
        opener: Callable[[], httpx.Response],
        *,
        response_id: str | None = None,
        resumable: bool = False,
        starting_after: int | None = None,
        include: Sequence[str] = (),
        max_resumes: int = 5,
        on_resume: Callable[[ResumeNotice], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        resume_delay: float = 0.2,
        max_resume_delay: float = 8.0,
        notify: Callable[[str], None] | None = None,
        poll_interval: float = 2.0,
        poll_timeout: float = 3600.0,
    ) -> None:
        if max_resumes < 0:
            raise ValueError("max_resumes must be >= 0")
        self._client = client
        self._opener = opener
        self._include = tuple(include)
        self._on_resume = on_resume
        self._sleep = sleep
        self._rand = rand
        self._resume_delay = resume_delay
        self._max_resume_delay = max_resume_delay
        self._notify = notify
        self._poll_interval = poll_interval
        self._poll_timeout = poll_timeout
        self.max_resumes = max_resumes
        self.response_id = response_id
        self.resumable = resumable
        self.started_after = starting_after
        self.last_sequence: int | None = starting_after
        self.response: dict[str, Any] | None = None  # the latest response object an event carried
        self.terminal: StreamEvent | None = None
        self.errors: list[StreamEvent] = []  # every ``error`` event, also one after the terminal event
        self.final_response: dict[str, Any] | None = None
        self.replay_refused: str | None = None  # the service's refusal, when the end came from polling
        self.resumes = 0
        self.dropped = 0
        self.events = 0
        # What the last connection did (set by _drain).
        self._progress = False
        self._break: str | None = None
        self._clean_end = False

    @classmethod
    def create(cls, client: ResponsesClient, body: Mapping[str, Any], **options: Any) -> EventStream:
        """Stream a new response; resumable when the body asks for ``background``."""
        return cls(
            client,
            lambda: client.open_create_stream(body),
            resumable=bool(body.get("background")),
            **options,
        )

    @classmethod
    def follow(
        cls,
        client: ResponsesClient,
        response_id: str,
        *,
        starting_after: int | None = None,
        include: Sequence[str] = (),
        **options: Any,
    ) -> EventStream:
        """Stream an existing (background) response's events after ``starting_after``."""
        return cls(
            client,
            lambda: client.open_retrieve_stream(response_id, starting_after=starting_after, include=include),
            response_id=response_id,
            resumable=True,
            starting_after=starting_after,
            include=include,
            **options,
        )

    @property
    def finished(self) -> bool:
        return self.terminal is not None or self.final_response is not None

    def _note_response(self, response: dict[str, Any]) -> None:
        self.response = response
        if self.response_id is None and isinstance(response.get("id"), str):
            self.response_id = response["id"]
        if response.get("background") is True:
            self.resumable = True

    def _drain(self, conn: httpx.Response) -> Iterator[StreamEvent]:
        """Yield new events from one connection; sets ``_progress`` and ``_break`` for the caller.

        After the terminal event the rest of the body is still read: a service may send the
        reason of a failure in an ``error`` event after ``response.failed``.
        """
        self._progress = False
        self._break = None
        self._clean_end = False
        last = self.last_sequence
        first = self.events
        try:
            for sse in EventSource(conn).iter_sse():
                if sse.data == "[DONE]":
                    break
                event = parse_event(sse.event, sse.data)
                if event is None:
                    continue
                seq = event.sequence_number
                if seq is not None:
                    if last is not None and seq <= last:
                        self.dropped += 1
                        log.debug("dropped event %d (%s): at or below %d, already shown", seq, event.type, last)
                        continue
                    self.last_sequence = last = seq
                self._progress = True
                self.events += 1
                kind = event.type
                if kind in RESPONSE_CARRIERS:
                    response = event.response
                    if response is not None:
                        self._note_response(response)
                if kind == ERROR:
                    self.errors.append(event)
                yield event
                if kind in TERMINAL_TYPES and self.terminal is None:
                    self.terminal = event
            if self.terminal is None:
                self._break = "the stream ended before the response finished"
                self._clean_end = True
        except httpx.TransportError as exc:
            if self.terminal is None:
                self._break = _describe_break(exc)
        except SSEError as exc:
            if self.terminal is None:
                self._break = f"not an event stream: {exc}"
        except MalformedEvent as exc:
            if self.terminal is None:
                self._break = f"the service sent {exc}"
        finally:
            conn.close()
            log.debug(
                "stream of %s: %d new events on this connection, last sequence %s%s",
                self.response_id,
                self.events - first,
                self.last_sequence,
                f", then {self._break}" if self._break else "",
            )

    def __iter__(self) -> Iterator[StreamEvent]:
        try:
            conn: httpx.Response | None = self._opener()
        except ServiceError as exc:
            if not (self.resumable and self.response_id is not None and replay_refused(exc)):
                raise
            self._poll_to_end(exc)
            return
        failures = 0  # reconnects in a row that brought no new event
        reason = "the stream broke"
        while True:
            if conn is not None:
                yield from self._drain(conn)
                conn = None
                if self.terminal is not None:
                    return
                reason = self._break or "the stream broke"
                progressed, clean = self._progress, self._clean_end
            else:
                progressed, clean = False, False
            if not self.resumable or self.response_id is None:
                raise self._not_resumable(reason)
            if progressed:
                failures = 0
            if clean and not progressed and self._ended_meanwhile():
                return
            failures += 1
            if failures > self.max_resumes:
                raise self._gave_up(reason, failures - 1)
            delay = min(self._max_resume_delay, self._resume_delay * 2 ** (failures - 1)) * (1 - 0.25 * self._rand())
            notice = ResumeNotice(self.response_id, self.last_sequence, reason, failures, self.max_resumes, delay)
            if self._on_resume is not None:
                self._on_resume(notice)
            else:
                log.debug("resuming: %s", notice.describe())
            if delay > 0:
                self._sleep(delay)
            self.resumes += 1
            try:
                conn = self._client.open_retrieve_stream(
                    self.response_id, starting_after=self.last_sequence, include=self._include
                )
            except TransportError as exc:
                reason = exc.message
            except ServiceError as exc:
                if not replay_refused(exc):
                    raise
                self._poll_to_end(exc)
                return

    def _poll_to_end(self, refusal: ServiceError) -> None:
        """The service will not replay the events any more: poll ``GET /responses/{id}`` until the
        response ends (every ``poll_interval`` s, at most ``poll_timeout`` s) and keep it as the final one."""
        rid = self.response_id
        assert rid is not None
        self.replay_refused = refusal.message
        where = f"after event {self.last_sequence}" if self.last_sequence is not None else "from the start"
        self._say(
            f"the service no longer replays the events of {rid} {where} ({' '.join(refusal.message.split())}); "
            f"polling GET /responses/{rid} every {self._poll_interval:g} s until it ends"
        )
        started = time.monotonic()
        try:
            while True:
                response = self._client.retrieve(rid, include=self._include)
                if response.get("status") in TERMINAL_STATUSES:
                    break
                if time.monotonic() - started >= self._poll_timeout:
                    raise AoaiError(f"still {response.get('status')} after {self._poll_timeout:g} s of polling")
                self._sleep(self._poll_interval)
        except AoaiError as exc:
            raise StreamInterrupted(
                f"the events of response {rid} can no longer be streamed and polling it failed: {exc.one_line()}",
                response_id=rid,
                last_sequence=self.last_sequence,
                hint=f"`aoai resp retrieve {rid} --wait` shows it when it ends",
            ) from exc
        self.final_response = response
        self.response = response

    def _say(self, text: str) -> None:
        if self._notify is not None:
            self._notify(text)
        else:
            log.debug("%s", text)

    def _ended_meanwhile(self) -> bool:
        """After a connection that ended cleanly with nothing new: is the response over?

        A cancelled response's stream ends without a terminal event, so its status says so. A
        completed one always replays ``response.completed``; an empty replay means we asked for
        what follows its end (``--starting-after`` the last event), unless this stream already
        brought events, in which case the service cut it short and we keep reconnecting.
        """
        assert self.response_id is not None
        response = self._client.retrieve(self.response_id)
        status = response.get("status")
        if status not in TERMINAL_STATUSES or (status == "completed" and self.events):
            return False
        log.debug("response %s is %s; its stream has nothing more", self.response_id, status)
        self.final_response = response
        self.response = response
        return True

    def _not_resumable(self, reason: str) -> StreamInterrupted:
        where = f"after event {self.last_sequence}" if self.last_sequence is not None else "before any event"
        if self.response_id is None:
            return StreamInterrupted(
                f"the stream broke {where}, before the service named the response: {reason}",
                response_id=None,
                last_sequence=self.last_sequence,
                hint="nothing to resume; run the command again",
            )
        return StreamInterrupted(
            f"the stream of response {self.response_id} broke {where}: {reason}",
            response_id=self.response_id,
            last_sequence=self.last_sequence,
            hint="it cannot be resumed: the service keeps the events of background responses only; "
            "run it again, with --background to make the stream resumable",
        )

    def _gave_up(self, reason: str, attempts: int) -> StreamInterrupted:
        rid = self.response_id
        after = f" --starting-after {self.last_sequence}" if self.last_sequence is not None else ""
        return StreamInterrupted(
            f"gave up on the stream of response {rid} after {attempts} reconnects without a new event: {reason}",
            response_id=rid,
            last_sequence=self.last_sequence,
            hint=f"it may still be running: `aoai resp resume-stream {rid}{after}` picks it up, "
            f"`aoai resp cancel {rid}` stops it (--max-resumes sets the attempts)",
        )


class TextTracker:
    """Which output text was shown, per (output index, content index).

    When the stream started at the beginning, the text shown for a part must be a prefix of its
    final text (``response.output_text.done`` / ``response.completed``); if a service skipped
    deltas, ``catch_up`` returns what is missing, so the user still sees the whole text once.
    A stream that starts mid-way (``--starting-after``) never catches up: the user asked for
    the rest only.
    """

    __slots__ = ("_done", "_parts", "catch_up")

    def __init__(self, *, catch_up: bool) -> None:
        self.catch_up = catch_up
        self._parts: dict[tuple[int, int], list[str]] = {}
        self._done: set[tuple[int, int]] = set()

    def add(self, data: Mapping[str, Any], delta: str) -> None:
        key = (data.get("output_index", 0), data.get("content_index", 0))
        part = self._parts.get(key)
        if part is None:
            self._parts[key] = [delta]
        else:
            part.append(delta)

    def _missing(self, key: tuple[int, int], final: str) -> str:
        if key in self._done:
            return ""
        self._done.add(key)
        shown = "".join(self._parts.get(key, ()))
        if final.startswith(shown):
            if len(final) > len(shown):
                log.debug("catching up %d characters the stream skipped in part %s", len(final) - len(shown), key)
            return final[len(shown) :]
        log.debug("text shown for part %s differs from the final text; not catching up", key)
        return ""

    def unseen(self, response: Mapping[str, Any]) -> str:
        """After a refused replay, from the final response: exactly the text not shown yet.

        From the start of the stream that is, per part, what follows the text shown. A stream
        that started mid-way knows only what it showed: what follows its last occurrence (or, when
        it showed nothing, the whole text).
        """
        parts = list(_text_parts(response))
        if self.catch_up:
            return "".join(self._missing(key, text) for key, text in parts)
        final = "".join(text for _, text in parts)
        shown = "".join("".join(self._parts[key]) for key in sorted(self._parts))
        if not shown:
            return final
        at = final.rfind(shown)
        return final[at + len(shown) :] if at >= 0 else ""

    @property
    def shown_any(self) -> bool:
        return bool(self._parts)

    def missing(self, event: StreamEvent) -> str:
        """Text the user has not seen, after a ``done`` or terminal event (empty nearly always)."""
        if not self.catch_up:
            return ""
        if event.type == TEXT_DONE:
            text = event.data.get("text")
            if isinstance(text, str):
                key = (event.data.get("output_index", 0), event.data.get("content_index", 0))
                return self._missing(key, text)
            return ""
        response = event.response
        if response is None:
            return ""
        return "".join(self._missing(key, text) for key, text in _text_parts(response))


def _text_parts(response: Mapping[str, Any]) -> Iterator[tuple[tuple[int, int], str]]:
    """((output index, content index), text) of each ``output_text`` part of the message items."""
    for i, item in enumerate(response.get("output") or []):
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        for j, part in enumerate(item.get("content") or []):
            if isinstance(part, dict) and part.get("type") == "output_text" and isinstance(part.get("text"), str):
                yield (i, j), part["text"]
