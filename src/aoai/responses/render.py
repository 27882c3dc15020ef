"""Showing responses: rich on a terminal; untouched text, JSON or JSON lines when piped.

The output path is chosen once per command (``Terminal`` + ``OutputFormat``):

- ``text`` on a TTY: a rich live view of the streaming text (the last screenful, refreshed ten
  times a second from a buffer, never re-rendered per event), then the whole text and a footer
  (id, status, model, token usage, elapsed time, time to first token) on stderr.
- ``text`` piped: each text delta is written to stdout as it arrives, untouched, and flushed;
  status lines go to stderr. Rich never touches a pipe.
- ``json``: the final response object, indented. ``jsonl``: every stream event's JSON, one per
  line, in sequence order (for non-streaming commands: the object on one line).

This is the only module of ``aoai.responses`` that imports rich, and only inside the
functions that draw, so piped output does not pay for it.
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from aoai.responses import OutputFormat
from aoai.responses.run import Summary, output_text
from aoai.responses.stream import (
    REFUSAL_DELTA,
    TERMINAL_TYPES,
    TEXT_DELTA,
    TEXT_DONE,
    StreamEvent,
    TextTracker,
)

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live

    from aoai.responses.client import RetryNotice
    from aoai.responses.journal import JournalEntry
    from aoai.responses.stream import ResumeNotice


@dataclass
class Terminal:
    """Where output goes and what kind of place that is. Built once by the CLI."""

    out: TextIO
    err: TextIO
    out_tty: bool
    err_tty: bool
    color: bool = True
    width: int | None = None
    _out_console: Console | None = field(default=None, repr=False)
    _err_console: Console | None = field(default=None, repr=False)

    @classmethod
    def from_std(cls, *, color: bool) -> Terminal:
        for stream in (sys.stdout, sys.stderr):
            # A terminal that cannot show a character gets a replacement, never a crash.
            if isinstance(stream, io.TextIOWrapper) and stream.encoding.lower().replace("-", "") != "utf8":
                stream.reconfigure(errors="replace")
        return cls(sys.stdout, sys.stderr, sys.stdout.isatty(), sys.stderr.isatty(), color)

    def _console(self, file: TextIO, tty: bool) -> Console:
        from rich.console import Console

        return Console(
            file=file,
            force_terminal=tty or None,
            no_color=not self.color,
            color_system="auto" if self.color else None,
            highlight=False,
            soft_wrap=True,
            width=self.width,
        )

    @property
    def out_console(self) -> Console:
        if self._out_console is None:
            self._out_console = self._console(self.out, self.out_tty)
        return self._out_console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            self._err_console = self._console(self.err, self.err_tty)
        return self._err_console


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """Surrogate halves paired into one character; a lone half becomes U+FFFD (never unencodable)."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


class DeltaText:
    """Text deltas made printable: a character split across two deltas as surrogate halves
    (``"Hi \\ud83d"`` then ``"\\ude00 …"``) is held back one delta and joined."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = ""

    def feed(self, delta: str) -> str:
        text = self._held + delta
        self._held = ""
        if text and "\ud800" <= text[-1] <= "\udbff":  # a high half: its low half may come next
            self._held, text = text[-1], text[:-1]
        return printable(text)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return printable(held)


class Notices:
    """One-line messages on stderr (retries, reconnects, warnings), prefixed ``aoai:``.

    Written to whatever ``sys.stderr`` is at the time when ``err`` is None, so a rich live view
    (which redirects stderr) shows them above itself instead of tearing.
    """

    def __init__(self, err: TextIO | None = None) -> None:
        self._err = err

    def __call__(self, text: str) -> None:
        stream = self._err or sys.stderr
        stream.write(f"aoai: {text}\n")
        stream.flush()

    def retry(self, notice: RetryNotice) -> None:
        self(notice.describe())

    def resume(self, notice: ResumeNotice) -> None:
        self(notice.describe())


# -- the footer ----------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 60 else f"{int(value // 60)} min {value % 60:.0f} s"


def usage_text(usage: Mapping[str, Any] | None) -> str | None:
    if not usage:
        return None
    parts = [f"{usage.get('input_tokens', '?')} in", f"{usage.get('output_tokens', '?')} out"]
    details = usage.get("output_tokens_details")
    if isinstance(details, dict) and details.get("reasoning_tokens"):
        parts.append(f"{details['reasoning_tokens']} reasoning")
    return "tokens " + " / ".join(parts) + f" ({usage.get('total_tokens', '?')} total)"


def summary_line(summary: Summary) -> str:
    """``resp_… · completed · gpt-4.1 · tokens 12 in / 30 out (42 total) · 1.20 s · first token 0.31 s``."""
    parts = [summary.response_id or "(no id)", summary.status or "unknown status"]
    if summary.model:
        parts.append(summary.model)
    usage = usage_text(summary.usage)
    if usage:
        parts.append(usage)
    if summary.elapsed is not None:
        parts.append(_seconds(summary.elapsed))
    if summary.first_token is not None:
        parts.append(f"first token {_seconds(summary.first_token)}")
    if summary.resumes:
        parts.append(f"{summary.resumes} reconnect{'s' if summary.resumes != 1 else ''}")
    return " · ".join(parts)


def _detail_lines(summary: Summary) -> list[str]:
    lines = [f"function call {call}" for call in summary.calls]
    if summary.error and (summary.stream_error or summary.status not in (None, "completed")):
        lines.append(f"{'error' if summary.stream_error else summary.status}: {summary.error}")
    return lines


def print_footer(term: Terminal, summary: Summary) -> None:
    if term.err_tty:
        from rich.text import Text

        console = term.err_console
        console.print(Text(summary_line(summary), style="dim"))
        for line in _detail_lines(summary):
            console.print(Text(line, style="yellow"))
        return
    for line in [summary_line(summary), *_detail_lines(summary)]:
        term.err.write(f"aoai: {line}\n")
    term.err.flush()


# -- stream sinks -------------------------------------------------------------------------------


class StreamSink:
    """Base sink: consume events, then ``finish`` (summary known) or ``abort`` (error / Ctrl-C)."""

    def __enter__(self) -> StreamSink:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()

    def on_event(self, event: StreamEvent) -> None:
        raise NotImplementedError

    def on_replay_refused(self, response: Mapping[str, Any], after: int | None) -> None:
        """The service stopped replaying events: ``response`` came from polling (text sinks show the rest)."""

    def finish(self, summary: Summary) -> None:
        """Called once the stream ended normally (the response may still have failed)."""

    def abort(self) -> None:
        """Called when the stream stopped with an exception; leave the screen tidy."""


class PlainTextSink(StreamSink):
    """Piped text: deltas to ``out`` as they come, flushed; the footer to stderr."""

    def __init__(self, term: Terminal, tracker: TextTracker) -> None:
        self._term = term
        self._write = term.out.write
        self._flush = term.out.flush
        self._tracker = tracker
        self._text = DeltaText()

    def on_event(self, event: StreamEvent) -> None:
        kind = event.type
        if kind == TEXT_DELTA:
            data = event.data
            delta = data.get("delta")
            if delta:
                text = self._text.feed(delta)
                self._tracker.add(data, text)
                self._write(text)
                self._flush()
        elif kind == REFUSAL_DELTA:
            delta = event.data.get("delta")
            if delta:
                self._write(self._text.feed(delta))
                self._flush()
        elif kind == TEXT_DONE or kind in TERMINAL_TYPES:
            missing = self._text.flush() + printable(self._tracker.missing(event))
            if missing:
                self._write(missing)
                self._flush()

    def on_replay_refused(self, response: Mapping[str, Any], after: int | None) -> None:
        self._write(self._text.flush() + _rest_of(self._tracker, response, after, self._term))
        self._flush()

    def finish(self, summary: Summary) -> None:
        self._write(self._text.flush())
        self._flush()
        print_footer(self._term, summary)

    def abort(self) -> None:
        self._write(self._text.flush())
        self._flush()


class JsonlSink(StreamSink):
    """Every event's JSON on its own line, as received."""

    def __init__(self, term: Terminal) -> None:
        self._term = term
        self._write = term.out.write
        self._flush = term.out.flush

    def on_event(self, event: StreamEvent) -> None:
        line = event.json_line()
        if _SURROGATE.search(line) is not None:
            line = json.dumps(event.data)
        self._write(line + "\n")
        self._flush()

    def on_replay_refused(self, response: Mapping[str, Any], after: int | None) -> None:
        where = f" after {after}" if after is not None else ""
        Notices(self._term.err)(
            f"events{where} were not replayed: the service no longer streams {response.get('id')}; "
            f"its final state came from GET /responses/{response.get('id')} (`-o json` prints that object)"
        )

    def finish(self, summary: Summary) -> None:
        self._flush()
        print_footer(self._term, summary)


class JsonSink(StreamSink):
    """Only the final response object (or, after an ``error`` event, that event)."""

    def __init__(self, term: Terminal) -> None:
        self._term = term
        self._last_error: dict[str, Any] | None = None

    def on_event(self, event: StreamEvent) -> None:
        if event.type == "error":
            self._last_error = event.data

    def finish(self, summary: Summary) -> None:
        obj = summary.response if summary.response is not None else self._last_error
        write_json(self._term.out, obj if obj is not None else {})


class _Tail:
    """Renderable: the last screenful of the streamed text plus a one-line status."""

    def __init__(self, sink: LiveTextSink) -> None:
        self._sink = sink

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        sink = self._sink
        width = max(20, options.max_width)
        keep = max(1, (options.height or console.height) - 2)
        text = "".join(sink.chunks[-4000:]) if len(sink.chunks) > 4000 else "".join(sink.chunks)
        window = text[-(keep * width * 2) :]
        lines = Text(window).wrap(console, width)
        yield from list(lines)[-keep:]
        yield Text(sink.status(), style="dim")


class LiveTextSink(StreamSink):
    """TTY text: a rich live view (refreshed on its own clock), then the whole text and a footer."""

    def __init__(self, term: Terminal, tracker: TextTracker, *, clock: Callable[[], float] = time.monotonic) -> None:
        from rich.live import Live

        self._term = term
        self._tracker = tracker
        self._clock = clock
        self._started = clock()
        self.chunks: list[str] = []
        self._text = DeltaText()
        self._events = 0
        self._response_id: str | None = None
        self._live: Live = Live(
            _Tail(self),
            console=term.out_console,
            refresh_per_second=10,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=True,
        )

    def status(self) -> str:
        rid = self._response_id or "waiting for the response id"
        return f"{self._events} events · {_seconds(self._clock() - self._started)} · Ctrl-C stops · {rid}"

    def __enter__(self) -> LiveTextSink:
        self._live.start()
        return self

    def on_event(self, event: StreamEvent) -> None:
        self._events += 1
        kind = event.type
        if kind == TEXT_DELTA:
            delta = event.data.get("delta")
            if delta:
                text = self._text.feed(delta)
                self._tracker.add(event.data, text)
                self.chunks.append(text)
        elif kind == REFUSAL_DELTA:
            delta = event.data.get("delta")
            if delta:
                self.chunks.append(self._text.feed(delta))
        else:
            if self._response_id is None and event.response is not None:
                self._response_id = event.response.get("id")
            if kind == TEXT_DONE or kind in TERMINAL_TYPES:
                missing = self._text.flush() + printable(self._tracker.missing(event))
                if missing:
                    self.chunks.append(missing)

    def on_replay_refused(self, response: Mapping[str, Any], after: int | None) -> None:
        self.chunks.append(self._text.flush() + _rest_of(self._tracker, response, after, self._term))

    def _settle(self) -> None:
        from rich.text import Text

        self._live.stop()
        self.chunks.append(self._text.flush())
        text = "".join(self.chunks)
        if text:
            self._term.out_console.print(Text(text))

    def finish(self, summary: Summary) -> None:
        self._settle()
        print_footer(self._term, summary)

    def abort(self) -> None:
        self._settle()


def _rest_of(tracker: TextTracker, response: Mapping[str, Any], after: int | None, term: Terminal) -> str:
    """The text of a polled response the user has not seen; says so when that cannot be exact."""
    if not tracker.catch_up and not tracker.shown_any and after is not None:
        Notices(term.err)(f"the text below is the whole output, including what came before event {after}")
    return printable(tracker.unseen(response))


def stream_sink(fmt: OutputFormat, term: Terminal, *, catch_up: bool) -> StreamSink:
    """The sink for a streaming command: chosen once, by format and by whether stdout is a terminal."""
    if fmt is OutputFormat.JSONL:
        return JsonlSink(term)
    if fmt is OutputFormat.JSON:
        return JsonSink(term)
    tracker = TextTracker(catch_up=catch_up)
    if term.out_tty:
        return LiveTextSink(term, tracker)
    return PlainTextSink(term, tracker)


# -- whole objects ------------------------------------------------------------------------------


def write_json(out: TextIO, obj: Any, *, indent: int | None = 2) -> None:
    text = json.dumps(obj, indent=indent, ensure_ascii=False)
    if _SURROGATE.search(text) is not None:  # a lone surrogate half: keep it, as a \\u escape
        text = json.dumps(obj, indent=indent)
    out.write(text + "\n")
    out.flush()


def show_object(term: Terminal, fmt: OutputFormat, obj: Any) -> bool:
    """Print ``obj`` for json / jsonl; return False for text (the caller renders it)."""
    if fmt is OutputFormat.JSON:
        write_json(term.out, obj)
        return True
    if fmt is OutputFormat.JSONL:
        write_json(term.out, obj, indent=None)
        return True
    return False


def show_response(term: Terminal, fmt: OutputFormat, response: Mapping[str, Any], summary: Summary) -> None:
    """A response fetched whole (create without streaming, get, cancel): its text, then the footer."""
    if show_object(term, fmt, response):
        return
    text = printable(output_text(response))
    if text:
        if term.out_tty:
            from rich.text import Text

            term.out_console.print(Text(text))
        else:
            term.out.write(text)
            term.out.flush()
    print_footer(term, summary)


def show_started(term: Terminal, fmt: OutputFormat, response: Mapping[str, Any]) -> None:
    """A background response just queued: its id on stdout (for scripts), what to do next on stderr."""
    if show_object(term, fmt, response):
        return
    rid = response.get("id", "")
    term.out.write(f"{rid}\n")
    term.out.flush()
    Notices(term.err)(
        f"{rid} is {response.get('status', 'queued')} in the background; "
        f"follow it with `aoai resp resume-stream {rid}`, wait with `aoai resp retrieve {rid} --wait`, "
        f"stop it with `aoai resp cancel {rid}`"
    )


class WaitStatus:
    """The live status line while ``--wait`` polls: a spinner on a terminal, one line per change otherwise."""

    def __init__(self, term: Terminal, response_id: str) -> None:
        self._term = term
        self._id = response_id
        self._last: str | None = None
        self._status: Any = None
        if term.err_tty:
            self._status = term.err_console.status(f"{response_id}: waiting")
            self._status.start()

    def __call__(self, response: Mapping[str, Any], elapsed: float) -> None:
        status = str(response.get("status"))
        if self._status is not None:
            self._status.update(f"{self._id}: {status} · {_seconds(elapsed)}")
        elif status != self._last:
            Notices(self._term.err)(f"{self._id} is {status} ({_seconds(elapsed)})")
        self._last = status

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _preview(item: Mapping[str, Any], limit: int = 70) -> str:
    text = ""
    content = item.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                value = part.get("text") or part.get("refusal")
                if isinstance(value, str):
                    text = value
                    break
                if part.get("type"):
                    text = f"[{part['type']}]"
    elif item.get("type") == "function_call":
        text = f"{item.get('name')}({item.get('arguments', '')})"
    elif item.get("type") == "function_call_output":
        text = str(item.get("output", ""))
    elif item.get("type") in ("compaction", "reasoning") and item.get("encrypted_content"):
        text = "[encrypted]"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _item_row(index: int, item: Mapping[str, Any]) -> list[str]:
    return [
        str(index),
        str(item.get("id") or "-"),
        str(item.get("type") or "-"),
        str(item.get("role") or "-"),
        _preview(item),
    ]


_ITEM_HEADERS = ["#", "id", "type", "role", "content"]


def _fitting_columns(
    headers: Sequence[str], rows: Sequence[Sequence[str]], width: int, priority: Sequence[int] | None
) -> list[int]:
    """The columns shown at ``width``: the least important (last in ``priority``, default the
    rightmost) are dropped until the rest fit; the first (the identifier) always stays, and is
    folded rather than cut when even it alone is too wide."""
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)]
    order = list(priority) if priority is not None else list(range(len(headers)))
    # rich draws each column with one space of padding either side and a rule between columns.
    while len(order) > 1 and sum(widths[i] + 3 for i in order) - 1 > width:
        order.pop()
    return sorted(order)


def _table(
    term: Terminal,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    title: str | None = None,
    priority: Sequence[int] | None = None,
) -> None:
    rows = list(rows)
    if term.out_tty:
        from rich.table import Table

        keep = _fitting_columns(headers, rows, term.out_console.width, priority)
        table = Table(*(headers[i] for i in keep), title=title, show_edge=False, header_style="bold")
        for column in table.columns:
            column.overflow = "fold"  # never "…": an identifier cut short cannot be used
        for row in rows:
            table.add_row(*(row[i] for i in keep))
        term.out_console.print(table)
        return
    for row in rows:
        term.out.write("\t".join(row) + "\n")
    term.out.flush()


def show_items(term: Terminal, fmt: OutputFormat, pages: Iterable[Mapping[str, Any]], *, follow: bool) -> int:
    """Input items: tab-separated lines piped, a table on a terminal; json is the list, jsonl one item a line."""
    if fmt is OutputFormat.JSONL:
        count = 0
        for page in pages:
            for item in page.get("data") or []:
                write_json(term.out, item, indent=None)
                count += 1
        return count
    collected = list(pages)
    items = [item for page in collected for item in (page.get("data") or [])]
    if fmt is OutputFormat.JSON:
        if len(collected) == 1 and not follow:
            write_json(term.out, collected[0])
        else:
            write_json(
                term.out,
                {
                    "object": "list",
                    "data": items,
                    "first_id": items[0].get("id") if items else None,
                    "last_id": items[-1].get("id") if items else None,
                    "has_more": bool(collected and collected[-1].get("has_more")),
                },
            )
        return len(items)
    _table(term, _ITEM_HEADERS, (_item_row(i, item) for i, item in enumerate(items)))
    if collected and collected[-1].get("has_more") and not follow:
        last = collected[-1].get("last_id")
        if isinstance(last, str) and last:
            Notices(term.err)(f"more items: --after {last} shows the next page, --all shows every page")
        else:
            Notices(term.err)(
                "the service says there are more items but gave no cursor (last_id is null): "
                "the next page cannot be asked for"
            )
    return len(items)


def show_compaction(term: Terminal, fmt: OutputFormat, result: Mapping[str, Any], saved: str | None) -> None:
    """The compacted items (table / lines) on stdout; id, usage and where they were saved on stderr."""
    if show_object(term, fmt, result):
        return
    items = [item for item in result.get("output") or [] if isinstance(item, dict)]
    _table(term, _ITEM_HEADERS, (_item_row(i, item) for i, item in enumerate(items)))
    usage = usage_text(result.get("usage") if isinstance(result.get("usage"), dict) else None)
    line = f"{result.get('id', '(no id)')} · {len(items)} items"
    if usage:
        line += f" · {usage}"
    if saved:
        line += f" · saved to {saved} (use it with `aoai resp create --input-file {saved} …`)"
    Notices(term.err)(line)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


def show_log(term: Terminal, fmt: OutputFormat, entries: Sequence[JournalEntry]) -> None:
    if fmt is OutputFormat.JSON:
        write_json(term.out, [entry.to_json() for entry in entries])
        return
    if fmt is OutputFormat.JSONL:
        for entry in entries:
            write_json(term.out, entry.to_json(), indent=None)
        return
    if not entries:
        Notices(term.err)("the journal is empty: responses you create or follow appear here")
        return
    headers = ["id", "created (UTC)", "endpoint", "deployment", "bg", "status", "last seq", "tokens"]
    important = [0, 5, 3, 6, 1, 7, 2, 4]  # on a narrow terminal: id, status, deployment, last seq …
    rows = [
        [
            e.id,
            _when(e.created_at),
            e.endpoint_host,
            e.deployment or e.model or "-",
            "yes" if e.background else "no",
            e.status or "-",
            "-" if e.last_sequence is None else str(e.last_sequence),
            "-" if e.total_tokens is None else str(e.total_tokens),
        ]
        for e in entries
    ]
    _table(term, headers, rows, priority=important)


def show_status_word(term: Terminal, fmt: OutputFormat, response: Mapping[str, Any]) -> None:
    """Cancel: the final status on stdout (json: the object)."""
    if show_object(term, fmt, response):
        return
    term.out.write(f"{response.get('status', 'unknown')}\n")
    term.out.flush()


def show_deleted(term: Terminal, fmt: OutputFormat, result: Mapping[str, Any], response_id: str) -> None:
    if show_object(term, fmt, result):
        return
    term.out.write(f"deleted {result.get('id', response_id)}\n")
    term.out.flush()


# -- tool calls, approvals, images, transcripts (create / approve) -----------------------------------


def _block(term: Terminal, title: str, body: str) -> None:
    """A titled block on stdout: bold on a terminal, plain when piped."""
    if term.out_tty:
        from rich.text import Text

        console = term.out_console
        console.print(Text(title, style="bold"))
        console.print(Text(body))
        return
    term.out.write(f"{title}\n{body}\n")
    term.out.flush()


def show_turn_end(
    term: Terminal,
    fmt: OutputFormat,
    response: Mapping[str, Any],
    *,
    hints: Sequence[str],
    image_paths: Sequence[str] = (),
    unsaved_images: int = 0,
    transcript: str | None = None,
) -> None:
    """What a turn left to do or wrote: the function calls and MCP approval requests it ends with
    (text: on stdout, arguments pretty-printed; json: already in the object), the exact follow-up
    commands, the image files written (never base64), the transcript saved."""
    from aoai.responses.tools import approval_requests, function_calls

    notice = Notices(term.err)
    text = fmt is OutputFormat.TEXT
    calls, requests = function_calls(response), approval_requests(response)
    if (
        text
        and (calls or requests or image_paths)
        and not term.out_tty
        and output_text(response)[-1:] not in ("", "\n")
    ):
        term.out.write("\n")  # piped text is written as is, without a final newline
    if text:
        for call in calls:
            _block(term, f"function call {call.name}  call_id={call.call_id}", call.pretty_arguments())
        for request in requests:
            try:
                arguments = json.dumps(json.loads(str(request.get("arguments") or "{}")), indent=2)
            except ValueError:
                arguments = str(request.get("arguments"))
            title = f"MCP approval request {request.get('id')}  {request.get('server_label')}.{request.get('name')}"
            _block(term, title, arguments)
        for path in image_paths:
            term.out.write(f"{path}\n")
        term.out.flush()
    elif image_paths:
        notice("saved " + ", ".join(image_paths))
    for command in hints:
        verb = "approve with" if " approve " in command else "answer with"
        suffix = " (add --deny to refuse)" if verb == "approve with" else ""
        notice(f"{verb}: {command}{suffix}")
    if unsaved_images:
        noun = "image" if unsaved_images == 1 else "images"
        notice(f"{unsaved_images} {noun} generated; add --save-images DIR to write them (base64 is never printed)")
    if transcript is not None:
        notice(f"conversation saved to {transcript}")


def tool_round_notice(term: Terminal) -> Callable[[int, Any], None]:
    """``--exec-tools`` progress on stderr: one line per call run."""
    notice = Notices(term.err)

    def on_call(round_number: int, call: Any) -> None:
        notice(f"tool round {round_number}: running {call.name} ({call.call_id})")

    return on_call


def for_display(term: Terminal, fmt: OutputFormat, response: Mapping[str, Any]) -> Mapping[str, Any]:
    """The response as JSON shows it: on a terminal, image base64 is replaced by a short note."""
    if fmt is not OutputFormat.TEXT and term.out_tty:
        from aoai.responses.images import elide_results

        elided: Mapping[str, Any] = elide_results(response)
        return elided
    return response
