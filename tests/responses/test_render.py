"""Rendering: untouched text when piped, JSON lines as received, rich on a terminal (fixed width)."""

from __future__ import annotations

import io
import json

from aoai.responses import OutputFormat
from aoai.responses.journal import JournalEntry
from aoai.responses.render import (
    JsonlSink,
    JsonSink,
    LiveTextSink,
    PlainTextSink,
    Terminal,
    show_items,
    show_log,
    show_response,
    show_started,
    stream_sink,
    summary_line,
)
from aoai.responses.run import Summary, summarize
from aoai.responses.stream import StreamEvent, TextTracker, parse_event

from .fake import make_events

PIECES = ["Hello", ", ", "world", "!\n", "Second line."]


def events(background: bool = False) -> list[StreamEvent]:
    parsed = [parse_event(e["type"], json.dumps(e)) for e in make_events("resp_1", PIECES, background=background)]
    return [e for e in parsed if e is not None]


def piped() -> tuple[Terminal, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Terminal(out, err, False, False, color=False), out, err


def tty(width: int = 60) -> tuple[Terminal, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Terminal(out, err, True, True, color=False, width=width), out, err


def final_summary(evts: list[StreamEvent]) -> Summary:
    return summarize(evts[-1].response, elapsed=1.5, first_token=0.25, resumes=1)


def test_piped_text_is_the_deltas_untouched_and_the_footer_goes_to_stderr() -> None:
    term, out, err = piped()
    evts = events()
    sink = stream_sink(OutputFormat.TEXT, term, catch_up=True)
    assert isinstance(sink, PlainTextSink)
    for event in evts:
        sink.on_event(event)
    sink.finish(final_summary(evts))
    assert out.getvalue() == "".join(PIECES)
    assert err.getvalue() == (
        "aoai: resp_1 · completed · gpt-4.1 · tokens 3 in / 5 out (8 total) · 1.50 s · first token 0.25 s"
        " · 1 reconnect\n"
    )


def test_jsonl_is_every_event_as_received() -> None:
    term, out, _ = piped()
    evts = events()
    sink = stream_sink(OutputFormat.JSONL, term, catch_up=True)
    assert isinstance(sink, JsonlSink)
    for event in evts:
        sink.on_event(event)
    lines = out.getvalue().splitlines()
    assert lines == [e.raw for e in evts]
    assert [json.loads(line)["sequence_number"] for line in lines] == list(range(len(evts)))


def test_json_is_the_final_object() -> None:
    term, out, _ = piped()
    evts = events()
    sink = stream_sink(OutputFormat.JSON, term, catch_up=True)
    assert isinstance(sink, JsonSink)
    for event in evts:
        sink.on_event(event)
    sink.finish(final_summary(evts))
    assert json.loads(out.getvalue()) == evts[-1].response


def test_tty_text_renders_live_then_the_whole_text_and_a_footer() -> None:
    term, out, err = tty()
    evts = events()
    sink = stream_sink(OutputFormat.TEXT, term, catch_up=True)
    assert isinstance(sink, LiveTextSink)
    with sink:
        for event in evts:
            sink.on_event(event)
        sink.finish(final_summary(evts))
    shown = out.getvalue()
    assert "Hello, world!" in shown and "Second line." in shown
    assert "resp_1 · completed · gpt-4.1" in err.getvalue()
    assert "first token 0.25 s" in err.getvalue()


def test_tty_interrupted_keeps_the_text_shown_so_far() -> None:
    term, out, err = tty()
    sink = stream_sink(OutputFormat.TEXT, term, catch_up=True)
    try:
        with sink:
            for event in events()[:6]:
                sink.on_event(event)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert "Hello, " in out.getvalue()
    assert err.getvalue() == ""


def test_catch_up_off_for_mid_way_streams() -> None:
    term, out, _ = piped()
    sink = PlainTextSink(term, TextTracker(catch_up=False))
    for event in events()[6:]:
        sink.on_event(event)
    assert out.getvalue() == "".join(PIECES[2:])


def test_footer_names_failures_and_function_calls() -> None:
    response = {
        "id": "resp_9",
        "status": "incomplete",
        "model": "m",
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [{"type": "function_call", "name": "get_weather", "arguments": '{"city":"Paris"}', "call_id": "c1"}],
    }
    term, out, err = piped()
    show_response(term, OutputFormat.TEXT, response, summarize(response))
    assert out.getvalue() == ""
    assert err.getvalue().splitlines() == [
        "aoai: resp_9 · incomplete · m",
        'aoai: function call get_weather({"city":"Paris"}) call_id=c1',
        "aoai: incomplete: reason max_output_tokens",
    ]


def test_summary_line_minimal() -> None:
    assert summary_line(Summary(response_id=None, status=None)) == "(no id) · unknown status"


def test_started_prints_the_id_for_scripts() -> None:
    term, out, err = piped()
    show_started(term, OutputFormat.TEXT, {"id": "resp_7", "status": "queued"})
    assert out.getvalue() == "resp_7\n"
    assert "aoai resp resume-stream resp_7" in err.getvalue() and "aoai resp cancel resp_7" in err.getvalue()


def test_items_piped_and_as_json() -> None:
    page = {
        "object": "list",
        "data": [
            {"id": "msg_1", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi\nthere"}]}
        ],
        "first_id": "msg_1",
        "last_id": "msg_1",
        "has_more": True,
    }
    term, out, err = piped()
    assert show_items(term, OutputFormat.TEXT, [page], follow=False) == 1
    assert out.getvalue() == "0\tmsg_1\tmessage\tuser\thi there\n"
    assert "--after msg_1" in err.getvalue()
    term, out, _ = piped()
    show_items(term, OutputFormat.JSON, [page, {**page, "has_more": False}], follow=True)
    combined = json.loads(out.getvalue())
    assert len(combined["data"]) == 2 and combined["has_more"] is False


def test_log_table_piped() -> None:
    entry = JournalEntry("resp_1", "h:1", "chat", None, 0.0, True, 12, "completed", 1, 2, 3, 0.0)
    term, out, _ = piped()
    show_log(term, OutputFormat.TEXT, [entry])
    assert out.getvalue() == "resp_1\t1970-01-01 00:00:00\th:1\tchat\tyes\tcompleted\t12\t3\n"
    term, out, _ = piped()
    show_log(term, OutputFormat.JSONL, [entry])
    assert json.loads(out.getvalue())["last_sequence"] == 12
