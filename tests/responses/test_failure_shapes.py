"""Failure shapes real endpoints, gateways and proxies send, replayed byte for byte (issue 11).

Each answer here is what a user met in the wild: a 200 with an empty body from a proxy, a
gateway's HTML 502, a 429 asking for a day's wait, the v1 API's 400 ``model_not_found``, the
400 ``content_filter`` with its ``innererror`` block.
"""

from __future__ import annotations

import io
import json

import pytest

from aoai.errors import AoaiError, ExitCode, ServiceError, StreamInterrupted
from aoai.responses import OutputFormat
from aoai.responses.client import Operation, RetryNotice
from aoai.responses.render import Terminal, show_items, stream_sink
from aoai.responses.run import InputItemPages, Session, Summary, ended_error, stream_create

from .test_client import make_client
from .wire import Script, Wire, json_wire, sequence, sse_wire, transport

EMPTY_200 = Wire(200, b"", (("content-type", "application/json"), ("apim-request-id", "req-42")))
GATEWAY_502 = Wire(
    502,
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>"
    b"\r\n<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n",
    (("content-type", "text/html"), ("x-request-id", "gw-7")),
)


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("POST /responses", lambda c: c.create({"model": "chat", "input": "hi", "background": True})),
        ("GET /responses/resp_1", lambda c: c.retrieve("resp_1")),
        ("POST /responses/resp_1/cancel", lambda c: c.cancel("resp_1")),
        ("POST /responses/compact", lambda c: c.compact({"model": "chat", "input": "hi"})),
        ("GET /responses/resp_1/input_items", lambda c: c.list_input_items("resp_1")),
    ],
)
def test_a_200_with_an_empty_body_is_a_service_failure(operation: str, call: object) -> None:
    client, _, _ = make_client(transport(sequence(EMPTY_200)))
    with pytest.raises(AoaiError) as info:
        call(client)  # type: ignore[operator]
    line = info.value.one_line()
    assert info.value.exit_code == ExitCode.INCOMPLETE
    assert line.startswith(f"{operation} answered 200 OK with an empty body")
    assert "content type application/json" in line and "request id req-42" in line


@pytest.mark.parametrize(
    ("wire", "what"),
    [
        (json_wire(200, "{}"), "a JSON object without a response id"),
        (json_wire(200, '{"id": null, "status": "queued"}'), "a JSON object without a response id"),
        (json_wire(200, "[]"), "a body that is not a JSON object (application/json)"),
        (Wire(200, b"<html><head><title>Sign in</title></head></html>", (("content-type", "text/html"),)),
         "an HTML page, probably from a proxy or gateway (title: Sign in)"),
    ],
)  # fmt: skip
def test_a_2xx_that_is_not_a_response_object_never_yields_an_id(wire: Wire, what: str) -> None:
    client, _, _ = make_client(transport(sequence(wire)))
    with pytest.raises(AoaiError) as info:
        client.create({"model": "chat", "input": "hi", "background": True})
    assert what in info.value.one_line() and info.value.exit_code == ExitCode.INCOMPLETE


def test_delete_may_answer_with_no_body() -> None:
    client, _, _ = make_client(transport(sequence(EMPTY_200)))
    assert client.delete("resp_1")["deleted"] is True


def test_a_gateway_html_page_is_said_in_words_never_markup() -> None:
    client, sleeps, _ = make_client(transport(sequence(GATEWAY_502)), max_retries=1)
    with pytest.raises(ServiceError) as info:
        client.retrieve("resp_1")
    line = info.value.one_line()
    assert line.startswith("502 Bad Gateway — an HTML page, probably from a proxy or gateway (title: 502 Bad Gateway)")
    assert "<" not in line and ">" not in line and "request id gw-7" in line
    assert info.value.exit_code == ExitCode.INCOMPLETE and len(sleeps) == 1


def test_any_html_error_body_is_described_not_printed() -> None:
    page = Wire(
        403, b"<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>", (("content-type", "text/html"),)
    )
    client, _, _ = make_client(transport(sequence(page)))
    with pytest.raises(ServiceError) as info:
        client.retrieve("resp_1")
    line = info.value.one_line()
    assert line.startswith("403 Forbidden — an HTML page, probably from a proxy or gateway") and "<" not in line
    assert info.value.exit_code == ExitCode.AUTH


def test_retry_after_a_day_is_not_slept() -> None:
    throttled = json_wire(
        429,
        '{"error":{"code":"429","message":"Requests to the Responses Operation under Azure OpenAI API version v1 '
        "have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after 86400 "
        'seconds."}}',
        ("retry-after", "86400"),
    )
    client, sleeps, notices = make_client(transport(sequence(throttled)))
    with pytest.raises(ServiceError) as info:
        client.create({"model": "chat", "input": "hi"})
    line = info.value.one_line()
    assert sleeps == [] and notices == []
    assert info.value.exit_code == ExitCode.INCOMPLETE
    assert "Please retry after 86400 seconds" in line
    assert "asks to wait 24.0 h (86400 s) (retry-after)" in line and "not waiting" in line


def test_a_shortened_wait_says_capped() -> None:
    notice = RetryNotice(
        operation=Operation.RETRIEVE,
        method="GET",
        path="/responses/r",
        reason="429 Too Many Requests",
        request_id=None,
        retry=1,
        max_retries=3,
        delay=60.0,
        source="retry-after",
        asked=90.0,
    )
    assert (
        "retry-after asked 90 s, capped at 60 s" in notice.describe() and "as retry-after asks" not in notice.describe()
    )


MODEL_NOT_FOUND = json_wire(
    400,
    '{"error":{"message":"The model `gpt-4.1` does not exist or you do not have access to it.",'
    '"type":"invalid_request_error","param":null,"code":"model_not_found"}}',
)
DEPLOYMENT_NOT_FOUND = json_wire(
    404,
    '{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you '
    'created the deployment within the last 5 minutes, please wait a moment and try again."}}',
)


@pytest.mark.parametrize("wire", [MODEL_NOT_FOUND, DEPLOYMENT_NOT_FOUND])
def test_model_not_found_and_deployment_not_found_get_the_same_guidance(wire: Wire) -> None:
    client, _, _ = make_client(transport(sequence(wire)))
    with pytest.raises(ServiceError) as info:
        client.create({"model": "gpt-4.1", "input": "hi"})
    line = info.value.one_line()
    assert info.value.exit_code == ExitCode.NOT_FOUND
    assert "must be the deployment name, not the model name" in line
    assert "may also not offer the Responses API (`aoai preflight run` checks both)" in line


def test_a_400_content_filter_names_the_category() -> None:
    filtered = json_wire(
        400,
        '{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI\'s content '
        'management policy. Please modify your prompt and retry.","type":null,"param":"prompt","code":'
        '"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":'
        '{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":'
        '{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":'
        '{"filtered":true,"severity":"medium"}}}}}',
    )
    client, _, _ = make_client(transport(sequence(filtered)))
    with pytest.raises(ServiceError) as info:
        client.create({"model": "chat", "input": "hi"})
    line = info.value.one_line()
    assert line.startswith("400 content_filter: The response was filtered")
    assert "the content filter flagged: violence (medium)" in line and "hate" not in line


def test_a_plain_text_error_body_loses_its_tags() -> None:
    text = Wire(
        503, b"<p>upstream connect error or disconnect/reset before headers</p>", (("content-type", "text/plain"),)
    )
    client, _, _ = make_client(transport(sequence(text)), max_retries=0)
    with pytest.raises(ServiceError) as info:
        client.retrieve("r")
    assert "<" not in info.value.one_line() and "upstream connect error" in info.value.one_line()


# -- inside the stream ---------------------------------------------------------------------------

CREATED = (
    'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_f1",'
    '"object":"response","created_at":1760000000,"status":"in_progress","model":"gpt-4o","output":[],'
    '"background":false,"error":null,"incomplete_details":null,"usage":null}}'
)


def delta(seq: int, text_json: str) -> str:
    """A text delta frame; ``text_json`` is the JSON string literal as sent (escapes and all)."""
    return (
        f'event: response.output_text.delta\ndata: {{"type":"response.output_text.delta","sequence_number":{seq},'
        f'"item_id":"msg_1","output_index":0,"content_index":0,"delta":{text_json}}}'
    )


def failed(seq: int, error: str = "null", details: str = "null") -> str:
    return (
        f'event: response.failed\ndata: {{"type":"response.failed","sequence_number":{seq},"response":{{"id":'
        f'"resp_f1","object":"response","created_at":1760000000,"status":"failed","model":"gpt-4o","output":[],'
        f'"background":false,"error":{error},"incomplete_details":{details},"usage":null}}}}'
    )


def completed(seq: int, text_json: str) -> str:
    return (
        f'event: response.completed\ndata: {{"type":"response.completed","sequence_number":{seq},"response":{{"id":'
        f'"resp_f1","object":"response","created_at":1760000000,"status":"completed","model":"gpt-4o","output":'
        f'[{{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[{{"type":"output_text",'
        f'"text":{text_json},"annotations":[]}}]}}],"background":false,"error":null,"incomplete_details":null,'
        f'"usage":{{"input_tokens":5,"output_tokens":3,"total_tokens":8}}}}}}'
    )


TRAILING_ERROR = (
    'event: error\ndata: {"type":"error","sequence_number":3,"code":"content_policy_violation","message":'
    '"Your request was flagged by the content filter.","param":null}'
)
CHAT_ERROR_FRAME = (
    'data: {"error": {"message": "The server had an error processing your request. Sorry about that! You can retry '
    "your request, or contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid="
    '2213926 if you keep seeing this error.", "type": "server_error", "param": null, "code": null}}'
)
FAILED_THEN_ERROR = [CREATED, delta(1, '"Once upon"'), failed(2), TRAILING_ERROR]
CHAT_ERROR = [CREATED, delta(1, '"Once upon"'), CHAT_ERROR_FRAME]
SPLIT_EMOJI = [
    CREATED,
    delta(1, '"Hi \\ud83d"'),
    delta(2, '"\\ude00 there"'),
    completed(3, '"Hi \\ud83d\\ude00 there"'),
]


def stream_through(frames: list[str], fmt: OutputFormat) -> tuple[Summary, str, str]:
    client, _, _ = make_client(transport(sequence(sse_wire(frames))))
    session = Session(client, None, "unit", notify=lambda text: None)
    out, err = io.StringIO(), io.StringIO()
    term = Terminal(out, err, False, False, color=False)
    with stream_sink(fmt, term, catch_up=True) as sink:
        summary = stream_create(session, {"model": "chat", "input": "hi"}, sink, max_resumes=0, on_resume=None)
        sink.finish(summary)
    return summary, out.getvalue(), err.getvalue()


def test_a_trailing_error_event_gives_the_reason_of_a_failure_and_jsonl_keeps_it() -> None:
    summary, _, _ = stream_through(FAILED_THEN_ERROR, OutputFormat.TEXT)
    error = ended_error(summary)
    assert error is not None and error.exit_code == ExitCode.NOT_READY
    assert "resp_f1 failed: content_policy_violation: Your request was flagged by the content filter." in (
        error.one_line()
    )
    assert "no reason given" not in error.one_line() and "content filter stopped it" in error.one_line()
    _, out, _ = stream_through(FAILED_THEN_ERROR, OutputFormat.JSONL)
    assert [json.loads(line)["type"] for line in out.splitlines()][-2:] == ["response.failed", "error"]


def test_the_most_specific_reason_wins_and_names_the_filter_category() -> None:
    with_category = failed(
        2,
        details='{"reason":"content_filter"}',
        error='{"code":"content_filter","message":"The response was filtered.","innererror":{"code":'
        '"ResponsibleAIPolicyViolation","content_filter_result":{"self_harm":{"filtered":true,"severity":"high"},'
        '"hate":{"filtered":false,"severity":"safe"}}}}',
    )
    summary, _, _ = stream_through([CREATED, with_category, TRAILING_ERROR], OutputFormat.TEXT)
    assert summary.error == "content_filter: The response was filtered. (content filter: self_harm (high))"


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_a_chat_style_error_frame_ends_the_stream_with_its_message(fmt: OutputFormat) -> None:
    summary, out, _ = stream_through(CHAT_ERROR, fmt)
    error = ended_error(summary)
    assert error is not None and error.exit_code == ExitCode.INCOMPLETE
    assert "stream of response resp_f1 ended with an error: The server had an error processing your request." in (
        error.one_line()
    )
    if fmt is OutputFormat.JSONL:
        assert json.loads(out.splitlines()[-1])["error"]["type"] == "server_error"


def test_a_chat_style_error_frame_after_a_failed_response_exits_1() -> None:
    summary, _, _ = stream_through([CREATED, failed(1), CHAT_ERROR_FRAME], OutputFormat.TEXT)
    error = ended_error(summary)
    assert error is not None and error.exit_code == ExitCode.NOT_READY
    assert "failed: The server had an error processing your request." in error.one_line()


def test_surrogate_halves_split_across_deltas_are_joined() -> None:
    summary, out, _ = stream_through(SPLIT_EMOJI, OutputFormat.TEXT)
    assert out == "Hi \U0001f600 there" and summary.status == "completed"
    out.encode("utf-8")  # never unencodable


def test_an_unpaired_surrogate_half_is_replaced_never_fatal() -> None:
    frames = [CREATED, delta(1, '"Hi \\ud83d"'), delta(2, '"x"'), completed(3, '"Hi \\ud83dx"')]
    _, out, _ = stream_through(frames, OutputFormat.TEXT)
    assert out == "Hi \ufffdx"
    _, out, _ = stream_through(frames, OutputFormat.JSON)
    assert json.loads(out)["output"][0]["content"][0]["text"] == "Hi \ud83dx"  # kept, as a \\u escape
    out.encode("utf-8")


def test_input_items_without_a_cursor_say_so() -> None:
    page = json_wire(
        200,
        '{"object":"list","data":[{"id":"msg_1","type":"message","role":"user","status":"completed","content":'
        '[{"type":"input_text","text":"hi"}]}],"first_id":"msg_1","last_id":null,"has_more":true}',
    )
    client, _, _ = make_client(transport(sequence(page)))
    session = Session(client, None, "unit", notify=lambda text: None)
    term = Terminal(io.StringIO(), io.StringIO(), False, False, color=False)
    for follow in (False, True):
        pages = InputItemPages(session, "resp_1", limit=None, order=None, after=None, include=(), follow=follow)
        show_items(term, OutputFormat.TEXT, pages, follow=follow)
        error = pages.incomplete()
        if follow:
            assert error is not None and error.exit_code == ExitCode.INCOMPLETE
            assert "incomplete: the service said has_more but gave no cursor (last_id is null)" in error.one_line()
        else:
            assert error is None
    assert isinstance(term.err, io.StringIO)
    assert "gave no cursor" in term.err.getvalue() and "--after None" not in term.err.getvalue()


TOO_OLD = json_wire(
    400,
    '{"error":{"message":"This response can no longer be streamed because it is more than 5 minutes old.",'
    '"type":"invalid_request_error","param":null,"code":null}}',
)


def background_script(after_replay: Wire) -> Script:
    """A background stream that ends after two deltas; the replay is refused; GET answers ``after_replay``."""
    created = CREATED.replace('"background":false', '"background":true')
    cut = sse_wire([created, delta(1, '"Once upon "'), delta(2, '"a time"')])

    def script(method: str, path: str) -> Wire:
        if method == "POST":
            return cut
        return TOO_OLD if "stream=true" in path else after_replay

    return script


def follow_refused(after_replay: Wire) -> tuple[Summary, str, str]:
    client, _, _ = make_client(transport(background_script(after_replay)))
    notes: list[str] = []
    session = Session(client, None, "unit", notify=notes.append)
    out, err = io.StringIO(), io.StringIO()
    term = Terminal(out, err, False, False, color=False)
    with stream_sink(OutputFormat.TEXT, term, catch_up=True) as sink:
        summary = stream_create(
            session, {"model": "chat", "input": "hi", "background": True}, sink, max_resumes=2, on_resume=None
        )
        sink.finish(summary)
    return summary, out.getvalue(), "\n".join(notes)


def test_a_refused_replay_falls_back_to_polling_and_prints_only_the_unseen_text() -> None:
    text = '"Once upon a time there was a stream."'
    final = json.loads(completed(9, text).split("data: ", 1)[1])["response"]
    summary, out, notes = follow_refused(json_wire(200, json.dumps(final)))
    assert out == "Once upon a time there was a stream." and summary.status == "completed"
    assert "no longer replays the events of resp_f1 after event 2" in notes


def test_when_polling_fails_too_it_exits_4_naming_the_id_and_retrieve_wait() -> None:
    with pytest.raises(StreamInterrupted) as info:
        follow_refused(EMPTY_200)
    line = info.value.one_line()
    assert info.value.exit_code == ExitCode.INCOMPLETE
    assert line.startswith("the events of response resp_f1 can no longer be streamed and polling it failed")
    assert "`aoai resp retrieve resp_f1 --wait`" in line
