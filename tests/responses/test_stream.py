"""EventStream: sequence tracking, de-duplication and automatic resume, over httpx.MockTransport."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aoai.errors import ExitCode, StreamInterrupted
from aoai.responses.client import ResponsesClient
from aoai.responses.render import PlainTextSink, Terminal
from aoai.responses.stream import EventStream, ResumeNotice, TextTracker, parse_event

from .fake import BASE, Cut, FakeAuth, FakeService, make_events

BODY = {"model": "chat", "input": "hi", "background": True}


def client_for(service: FakeService) -> ResponsesClient:
    return ResponsesClient(BASE, FakeAuth(), transport=service.transport(), sleep=lambda s: None)


def text_of(stream: EventStream) -> str:
    out = io.StringIO()
    sink = PlainTextSink(Terminal(out, io.StringIO(), False, False), TextTracker(catch_up=stream.started_after is None))
    for event in stream:
        sink.on_event(event)
    return out.getvalue()


def full_text(service: FakeService) -> str:
    return "".join(service.pieces)


def run_create(
    service: FakeService, body: dict[str, object] = BODY, **options: object
) -> tuple[str, EventStream, list[ResumeNotice]]:
    notices: list[ResumeNotice] = []
    stream = EventStream.create(client_for(service), body, on_resume=notices.append, sleep=lambda s: None, **options)
    return text_of(stream), stream, notices


def test_an_uninterrupted_stream_yields_every_event_in_order() -> None:
    service = FakeService()
    text, stream, notices = run_create(service)
    assert text == full_text(service)
    assert notices == [] and stream.resumes == 0
    assert stream.terminal is not None and stream.terminal.type == "response.completed"
    assert stream.response_id == "resp_0001"
    assert stream.last_sequence == len(service.logs["resp_0001"]) - 1
    assert service.requests[0].headers["accept"] == "text/event-stream"


@pytest.mark.parametrize("mode", ["abort", "eof"])
def test_every_cut_position_resumes_to_the_same_text(mode: str) -> None:
    total = len(make_events("x", FakeService().pieces, background=True))
    for position in range(1, total):
        service = FakeService(create_cuts=[Cut(position, mode)])
        text, stream, notices = run_create(service)
        assert text == full_text(service), position
        assert len(notices) == 1 and notices[0].after == position - 1
        resume = service.requests[-1]
        assert resume.method == "GET" and resume.url.params["starting_after"] == str(position - 1)
        assert stream.terminal is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    create_cut=st.integers(min_value=1, max_value=20),
    retrieve_cuts=st.lists(
        st.tuples(st.integers(min_value=0, max_value=8), st.sampled_from(["abort", "eof"])), max_size=3
    ),
    overlap=st.integers(min_value=0, max_value=5),
)
def test_nested_cuts_and_over_eager_replays_never_repeat_or_lose_text(
    create_cut: int, retrieve_cuts: list[tuple[int, str]], overlap: int
) -> None:
    service = FakeService(
        create_cuts=[Cut(create_cut)],
        retrieve_cuts=[Cut(after, mode) for after, mode in retrieve_cuts],
        overlap_on_resume=overlap,
    )
    text, stream, _ = run_create(service, max_resumes=10)
    assert text == full_text(service)
    sequences = [int(r.url.params["starting_after"]) for r in service.requests[1:] if r.url.params.get("stream")]
    assert sequences == sorted(sequences)
    assert stream.terminal is not None


def test_replayed_events_are_dropped_not_shown_again() -> None:
    service = FakeService(create_cuts=[Cut(8)], overlap_on_resume=4)
    text, stream, _ = run_create(service)
    assert text == full_text(service)
    assert stream.dropped == 4


def test_a_resumed_stream_may_start_with_response_completed() -> None:
    total = len(make_events("x", FakeService().pieces, background=True))
    service = FakeService(create_cuts=[Cut(total - 3)], resume_starts_with_completed=True)
    text, stream, notices = run_create(service)
    assert text == full_text(service)  # all deltas came before the cut
    assert stream.terminal is not None and stream.terminal.type == "response.completed"
    assert len(notices) == 1


def test_skipped_deltas_are_caught_up_from_the_final_text() -> None:
    service = FakeService(create_cuts=[Cut(7)], resume_starts_with_completed=True)
    text, _, _ = run_create(service)
    assert text == full_text(service)


def test_following_from_a_sequence_number_shows_only_what_follows() -> None:
    service = FakeService()
    client = client_for(service)
    EventStream.create(client, BODY)  # not iterated: nothing sent
    assert service.requests == []
    list(EventStream.create(client, BODY))
    events = service.logs["resp_0001"]
    after = 9
    stream = EventStream.follow(client, "resp_0001", starting_after=after)
    expected = "".join(e["delta"] for e in events[after + 1 :] if e["type"] == "response.output_text.delta")
    assert text_of(stream) == expected
    assert service.requests[-1].url.params["starting_after"] == "9"


def test_a_foreground_break_names_the_response_and_cannot_resume() -> None:
    service = FakeService(create_cuts=[Cut(6)])
    with pytest.raises(StreamInterrupted) as info:
        run_create(service, {"model": "chat", "input": "hi"})
    error = info.value
    assert error.exit_code == ExitCode.INCOMPLETE
    assert error.response_id == "resp_0001" and error.last_sequence == 5
    line = error.one_line()
    assert "resp_0001" in line and "after event 5" in line and "background" in line
    assert len(service.requests) == 1


def test_a_break_before_the_response_id_cannot_resume() -> None:
    service = FakeService(create_cuts=[Cut(0)])
    with pytest.raises(StreamInterrupted, match="before the service named the response"):
        run_create(service)


def test_gives_up_after_max_resumes_without_progress() -> None:
    service = FakeService(create_cuts=[Cut(5)], retrieve_cuts=[Cut(0)] * 10)
    with pytest.raises(StreamInterrupted) as info:
        run_create(service, max_resumes=3)
    line = info.value.one_line()
    assert "after 3 reconnects" in line
    assert "aoai resp resume-stream resp_0001 --starting-after 4" in line and "aoai resp cancel resp_0001" in line
    # 1 create + 3 reconnects; between them a status check after each clean-but-empty one is not needed (aborts)
    assert sum(1 for r in service.requests if r.url.params.get("stream") == "true") == 3


def test_progress_resets_the_resume_budget() -> None:
    service = FakeService(create_cuts=[Cut(3)], retrieve_cuts=[Cut(2), Cut(2), Cut(2), Cut(2)])
    text, stream, _ = run_create(service, max_resumes=1)
    assert text == full_text(service)
    assert stream.resumes == 5


def test_an_empty_clean_reconnect_asks_for_the_status_and_stops_when_it_is_final() -> None:
    service = FakeService(create_cuts=[Cut(6, "eof")], retrieve_cuts=[Cut(0, "eof")], status_override="cancelled")
    text, stream, _ = run_create(service)
    assert stream.final_response is not None and stream.final_response["status"] == "cancelled"
    assert stream.terminal is None
    assert text == "".join(service.pieces[:2])  # the deltas among the first 6 events


def test_an_empty_clean_reconnect_of_a_completed_response_mid_stream_keeps_resuming() -> None:
    service = FakeService(create_cuts=[Cut(6, "eof")], retrieve_cuts=[Cut(0, "eof"), Cut(0, "eof")])
    text, stream, notices = run_create(service)
    assert text == full_text(service)
    assert len(notices) == 3 and stream.terminal is not None


def test_nothing_after_the_last_event_of_a_completed_response_is_not_an_error() -> None:
    service = FakeService()
    client = client_for(service)
    list(EventStream.create(client, BODY))
    last = len(service.logs["resp_0001"]) - 1
    stream = EventStream.follow(client, "resp_0001", starting_after=last)
    assert text_of(stream) == ""
    assert stream.final_response is not None and stream.final_response["status"] == "completed"
    assert stream.resumes == 0


def test_events_without_json_break_the_stream() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        parse_event("x", "{not json")
    assert parse_event("", "[DONE]") is None
    event = parse_event("response.created", '{"sequence_number": 3}')
    assert event is not None and event.type == "response.created" and event.sequence_number == 3


def test_multi_line_data_is_re_serialised_on_one_line() -> None:
    event = parse_event("", '{"type": "x",\n "sequence_number": 1}')
    assert event is not None
    assert "\n" not in event.json_line()
