"""Operations: the journal follows a stream, Ctrl-C says how to resume, waits end, failures exit 1."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from aoai.errors import AoaiError, ExitCode, Interrupted
from aoai.responses.client import ResponsesClient
from aoai.responses.journal import Journal
from aoai.responses.render import PlainTextSink, Terminal
from aoai.responses.run import Session, consume, ended_error, open_session, stream_create, summarize, wait
from aoai.responses.stream import EventStream, StreamEvent, TextTracker

from .fake import BASE, Cut, FakeAuth, FakeService


def session_for(service: FakeService, tmp_path: Path) -> tuple[Session, list[str]]:
    notes: list[str] = []
    client = ResponsesClient(BASE, FakeAuth(), transport=service.transport(), sleep=lambda s: None)
    return Session(client, Journal.open(tmp_path / "journal.sqlite3"), "unit.openai.azure.com", notes.append), notes


class StopAfter(PlainTextSink):
    """A text sink whose user presses Ctrl-C after ``n`` events."""

    def __init__(self, n: int) -> None:
        self.out = io.StringIO()
        super().__init__(Terminal(self.out, io.StringIO(), False, False), TextTracker(catch_up=True))
        self.left = n

    def on_event(self, event: StreamEvent) -> None:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        super().on_event(event)


def test_a_stream_is_journaled(tmp_path: Path) -> None:
    service = FakeService(create_cuts=[Cut(9)])
    session, _ = session_for(service, tmp_path)
    sink = StopAfter(-1)
    summary = stream_create(
        session, {"model": "chat", "input": "x", "background": True}, sink, max_resumes=5, on_resume=None
    )
    assert summary.status == "completed" and summary.resumes == 1 and summary.first_token is not None
    assert session.journal is not None
    entry = session.journal.get("resp_0001")
    assert entry is not None
    assert (entry.deployment, entry.background, entry.status) == ("chat", True, "completed")
    assert entry.last_sequence == len(service.logs["resp_0001"]) - 1
    assert entry.total_tokens == summary.usage["total_tokens"]  # type: ignore[index]


def test_ctrl_c_on_a_background_stream_says_how_to_resume_and_cancel(tmp_path: Path) -> None:
    service = FakeService()
    session, _ = session_for(service, tmp_path)
    sink = StopAfter(7)
    with pytest.raises(Interrupted) as info:
        stream_create(session, {"model": "chat", "input": "x", "background": True}, sink, max_resumes=5, on_resume=None)
    line = info.value.one_line()
    assert info.value.exit_code == ExitCode.INTERRUPTED
    assert "aoai resp resume-stream resp_0001 --starting-after 6" in line
    assert "aoai resp cancel resp_0001" in line
    assert session.journal is not None
    entry = session.journal.get("resp_0001")
    assert entry is not None and entry.last_sequence == 6
    # Resuming from the journal's number shows exactly the rest.
    rest = io.StringIO()
    follow_sink = PlainTextSink(Terminal(rest, io.StringIO(), False, False), TextTracker(catch_up=False))
    consume(session, EventStream.follow(session.client, "resp_0001", starting_after=entry.last_sequence), follow_sink)
    assert sink.out.getvalue() + rest.getvalue() == "".join(service.pieces)


def test_ctrl_c_on_a_foreground_stream_says_closing_stops_it(tmp_path: Path) -> None:
    session, _ = session_for(FakeService(), tmp_path)
    with pytest.raises(Interrupted, match="closing the connection stopped the foreground response resp_0001"):
        stream_create(session, {"model": "chat", "input": "x"}, StopAfter(5), max_resumes=5, on_resume=None)


def test_wait_polls_to_a_final_status(tmp_path: Path) -> None:
    service = FakeService()
    session, _ = session_for(service, tmp_path)
    queued = session.client.create({"model": "chat", "input": "x", "background": True})
    seen: list[str] = []
    final = wait(
        session,
        queued["id"],
        interval=0.01,
        timeout=None,
        on_status=lambda r, t: seen.append(r["status"]),
        first=queued,
    )
    assert final["status"] == "completed"
    assert seen == ["queued", "completed"]


def test_wait_times_out_with_exit_4(tmp_path: Path) -> None:
    service = FakeService(status_override="in_progress")
    session, _ = session_for(service, tmp_path)
    session.client.create({"model": "chat", "input": "x", "background": True})
    with pytest.raises(AoaiError, match=r"still in_progress after 0\.05 s") as info:
        wait(session, "resp_0001", interval=0.01, timeout=0.05)
    assert info.value.exit_code == ExitCode.INCOMPLETE


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            {"id": "r", "status": "failed", "error": {"code": "server_error", "message": "boom"}},
            "r failed: server_error: boom",
        ),
        (
            {"id": "r", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}},
            "--max-output-tokens",
        ),
        ({"id": "r", "status": "cancelled"}, "r was cancelled"),
    ],
)
def test_unsuccessful_endings_exit_1(response: dict[str, object], message: str) -> None:
    error = ended_error(summarize(response))
    assert error is not None and error.exit_code == ExitCode.NOT_READY
    assert message in error.one_line()
    assert ended_error(summarize({"id": "r", "status": "completed"})) is None


def test_an_error_event_ends_the_stream_with_its_message_exit_4() -> None:
    event = StreamEvent("error", 5, {"type": "error", "code": "rate_limit_exceeded", "message": "slow down"}, "{}")
    summary = summarize({"id": "resp_1", "status": "in_progress"}, error_events=[event])
    error = ended_error(summary)
    assert error is not None and error.exit_code == ExitCode.INCOMPLETE
    assert "stream of response resp_1 ended with an error: rate_limit_exceeded: slow down" in error.one_line()


def test_open_session_checks_settings_before_any_request(tmp_path: Path) -> None:
    env = {"AOAI_STATE_DIR": str(tmp_path)}
    with pytest.raises(AoaiError) as info:
        open_session(
            env, endpoint=None, auth=None, scope=None, ca_bundle=None, max_retries=3, use_journal=True, notify=print
        )
    assert info.value.exit_code == ExitCode.USAGE
    with pytest.raises(AoaiError) as info:
        open_session(
            env,
            endpoint="https://x.openai.azure.com",
            auth="key",
            scope=None,
            ca_bundle=None,
            max_retries=3,
            use_journal=True,
            notify=print,
        )
    assert info.value.exit_code == ExitCode.AUTH
    env["AZURE_OPENAI_API_KEY"] = "k" * 32
    with open_session(
        env,
        endpoint="https://x.openai.azure.com/openai/v1/",
        auth=None,
        scope=None,
        ca_bundle=None,
        max_retries=3,
        use_journal=False,
        notify=print,
    ) as session:
        assert session.client.base_url == "https://x.openai.azure.com/openai/v1"
        assert session.journal is None and session.endpoint_host == "x.openai.azure.com"


def test_an_unwritable_state_dir_only_costs_the_journal(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    notes: list[str] = []
    env = {"AOAI_STATE_DIR": str(blocker / "sub"), "AZURE_OPENAI_API_KEY": "k" * 32}
    with open_session(
        env,
        endpoint="https://x.openai.azure.com",
        auth=None,
        scope=None,
        ca_bundle=None,
        max_retries=3,
        use_journal=True,
        notify=notes.append,
    ) as session:
        assert session.journal is None
    assert len(notes) == 1 and "continuing without it" in notes[0]
