"""ResponsesClient over httpx.MockTransport: paths, headers, retries, errors."""

from __future__ import annotations

import json
import logging
import ssl
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from aoai.errors import ExitCode, ServiceError, TransportError
from aoai.responses.client import Operation, ResponsesClient, RetryNotice, RetryPolicy, retry_after

from .fake import BASE, FakeAuth, FakeService


def make_client(
    handler: httpx.MockTransport, *, max_retries: int = 3, auth: FakeAuth | None = None
) -> tuple[ResponsesClient, list[float], list[RetryNotice]]:
    sleeps: list[float] = []
    notices: list[RetryNotice] = []
    client = ResponsesClient(
        BASE,
        auth or FakeAuth(),
        transport=handler,
        max_retries=max_retries,
        on_retry=notices.append,
        sleep=sleeps.append,
        rand=lambda: 0.0,
    )
    return client, sleeps, notices


def test_create_posts_to_the_v1_path_with_the_key_header() -> None:
    service = FakeService()
    client, _, _ = make_client(service.transport())
    response = client.create({"model": "chat", "input": "hi"})
    assert response["status"] == "completed"
    request = service.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/responses"
    assert "api-version" not in str(request.url)
    assert request.headers["api-key"] == FakeAuth().secret
    assert json.loads(request.content) == {"model": "chat", "input": "hi"}
    assert request.headers["x-ms-client-request-id"]


def test_entra_sends_a_bearer_token() -> None:
    service = FakeService()
    client, _, _ = make_client(service.transport(), auth=FakeAuth(mode="entra", scope="https://ai.azure.com/.default"))
    client.create({"model": "chat", "input": "hi"})
    assert service.requests[0].headers["authorization"] == f"Bearer {FakeAuth().secret}"
    assert "api-key" not in service.requests[0].headers


def test_response_ids_cannot_change_the_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"id": "x", "status": "completed"})

    client, _, _ = make_client(httpx.MockTransport(handler))
    client.retrieve("resp_1/../cancel")
    assert seen == ["/openai/v1/responses/resp_1%2F..%2Fcancel"]


def test_429_waits_as_retry_after_ms_asks_and_keeps_the_client_request_id() -> None:
    service = FakeService(
        fail_next=[(429, {"retry-after-ms": "50", "retry-after": "7"}), (429, {"retry-after-ms": "20"})]
    )
    client, sleeps, notices = make_client(service.transport())
    client.create({"model": "chat", "input": "hi"})
    assert sleeps == [0.05, 0.02]
    assert [n.source for n in notices] == ["retry-after-ms", "retry-after-ms"]
    assert notices[0].request_id == "req-429"
    assert "retry 1 of 3 in 0.05 s as retry-after-ms asks" in notices[0].describe()
    ids = {r.headers["x-ms-client-request-id"] for r in service.requests}
    assert len(service.requests) == 3 and len(ids) == 1


def test_retry_after_in_seconds_and_as_a_date() -> None:
    now = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
    assert retry_after({"retry-after": "3"}) == (3.0, "retry-after")
    later = format_datetime(now + timedelta(seconds=5), usegmt=True)
    assert retry_after({"retry-after": later}, now=now) == (5.0, "retry-after")
    assert retry_after({"retry-after": format_datetime(now - timedelta(seconds=5), usegmt=True)}, now=now) == (
        0.0,
        "retry-after",
    )
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == (0.25, "retry-after-ms")
    assert retry_after({"retry-after-ms": "bogus", "retry-after": "2"}) == (2.0, "retry-after")
    assert retry_after({"retry-after": "not a date"}) is None
    assert retry_after({}) is None


def test_a_server_wait_beyond_the_cap_is_reported_not_slept() -> None:
    service = FakeService()
    client, sleeps, _ = make_client(service.transport())
    client.create({"model": "chat", "input": "hi"})
    service.fail_next = [(503, {"retry-after": "3600"})]
    with pytest.raises(ServiceError) as info:
        client.retrieve("resp_0001")
    assert sleeps == [] and info.value.exit_code == ExitCode.INCOMPLETE
    assert "asks to wait 60 min (3600 s)" in info.value.one_line()


def test_backoff_is_exponential_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0, jitter=0.25)
    assert [policy.backoff(n, 0.0) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.backoff(1, 1.0) == pytest.approx(0.375)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_create_is_not_retried_when_the_service_may_have_processed_it(status: int) -> None:
    service = FakeService(fail_next=[(status, {})])
    client, sleeps, _ = make_client(service.transport())
    with pytest.raises(ServiceError) as info:
        client.create({"model": "chat", "input": "hi"})
    assert len(service.requests) == 1 and sleeps == []
    assert info.value.exit_code == ExitCode.INCOMPLETE


@pytest.mark.parametrize("status", [429, 503])
def test_create_and_compact_are_retried_when_surely_unprocessed(status: int) -> None:
    service = FakeService(fail_next=[(status, {}), (status, {})])
    client, sleeps, notices = make_client(service.transport())
    client.compact({"model": "chat", "input": "hi"})
    assert len(service.requests) == 3
    assert sleeps == [0.5, 1.0]  # backoff without a retry-after header (jitter 0)
    assert all(n.operation is Operation.COMPACT for n in notices)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_reads_are_retried_on_every_transient_status(status: int) -> None:
    service = FakeService()
    client, sleeps, _ = make_client(service.transport())
    client.create({"model": "chat", "input": "hi"})
    service.fail_next = [(status, {}), (status, {})]
    assert client.retrieve("resp_0001")["status"] == "completed"
    assert len(sleeps) == 2
    service.fail_next = [(status, {})]
    assert client.cancel("resp_0001")["status"] == "cancelled"  # cancel is idempotent: retried too
    assert len(sleeps) == 3


def test_connect_failures_are_retried_even_for_create_but_read_failures_are_not() -> None:
    calls = {"n": 0}

    def refuse_once(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"id": "resp_1", "status": "completed"})

    client, sleeps, notices = make_client(httpx.MockTransport(refuse_once))
    assert client.create({"model": "chat", "input": "hi"})["id"] == "resp_1"
    assert len(sleeps) == 1 and "could not connect" in notices[0].reason

    def read_breaks(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client, sleeps, _ = make_client(httpx.MockTransport(read_breaks))
    with pytest.raises(TransportError) as info:
        client.create({"model": "chat", "input": "hi"})
    assert sleeps == []
    assert info.value.exit_code == ExitCode.INCOMPLETE
    with pytest.raises(TransportError, match="after 3 retries"):
        client.retrieve("resp_1")  # a read may be retried


def test_exhausted_retries_give_one_line_with_the_request_id() -> None:
    service = FakeService(fail_next=[(429, {"retry-after-ms": "1"})] * 4)
    client, sleeps, _ = make_client(service.transport())
    with pytest.raises(ServiceError) as info:
        client.create({"model": "chat", "input": "hi"})
    assert len(sleeps) == 3
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith("429: failure 429 (request id req-429)")
    assert "gave up after 3 retries" in line


def test_404_on_create_says_model_is_the_deployment_name() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "error": {"code": "DeploymentNotFound", "message": "The API deployment for this resource does not exist."}
        }
        return httpx.Response(404, json=body, headers={"x-ms-request-id": "ms-1"})

    client, _, _ = make_client(httpx.MockTransport(handler))
    with pytest.raises(ServiceError) as info:
        client.create({"model": "gpt-4.1", "input": "hi"})
    assert info.value.exit_code == ExitCode.NOT_FOUND
    line = info.value.one_line()
    assert "(request id ms-1)" in line and "deployment name, not the model name" in line
    with pytest.raises(ServiceError) as info:
        client.retrieve("resp_missing")
    assert "deployment name" not in info.value.one_line()


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_name_the_credential_and_the_scope(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"statusCode": status, "message": "Access denied"})

    entra = FakeAuth(
        mode="entra",
        description="Entra ID token from AOAI_ACCESS_TOKEN (scope https://ai.azure.com/.default)",
        scope="https://ai.azure.com/.default",
    )
    client, _, _ = make_client(httpx.MockTransport(handler), auth=entra)
    with pytest.raises(ServiceError) as info:
        client.retrieve("resp_1")
    line = info.value.one_line()
    assert info.value.exit_code == ExitCode.AUTH
    assert "Access denied" in line and "Entra ID token from AOAI_ACCESS_TOKEN" in line
    assert "scope https://ai.azure.com/.default" in line
    client, _, _ = make_client(httpx.MockTransport(handler))
    with pytest.raises(ServiceError) as info:
        client.retrieve("resp_1")
    assert "api-key from AZURE_OPENAI_API_KEY" in info.value.one_line()
    assert FakeAuth().secret not in info.value.one_line()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"apim-request-id": "a", "x-request-id": "b", "x-ms-request-id": "c"}, "a"),
        ({"x-request-id": "b", "x-ms-request-id": "c"}, "b"),
        ({"x-ms-request-id": "c"}, "c"),
    ],
)
def test_request_id_header_precedence(headers: dict[str, str], expected: str) -> None:
    client, _, _ = make_client(httpx.MockTransport(lambda r: httpx.Response(400, json={"error": {}}, headers=headers)))
    with pytest.raises(ServiceError) as info:
        client.retrieve("resp_1")
    assert info.value.request_id == expected
    assert info.value.exit_code == ExitCode.USAGE


def test_non_json_error_bodies_still_give_a_message() -> None:
    client, _, _ = make_client(
        httpx.MockTransport(lambda r: httpx.Response(400, text="<html>Bad gateway thing</html>"))
    )
    with pytest.raises(ServiceError, match="Bad gateway thing") as info:
        client.retrieve("resp_1")
    assert "<" not in info.value.one_line()


def test_tls_failures_point_to_the_ca_bundle_and_are_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed: self-signed certificate")
        except ssl.SSLError as exc:
            raise httpx.ConnectError("TLS", request=request) from exc

    client, sleeps, _ = make_client(httpx.MockTransport(handler))
    with pytest.raises(TransportError) as info:
        client.retrieve("resp_1")
    assert sleeps == []
    assert "--ca-bundle" in info.value.one_line()


def test_input_item_pages_follow_has_more() -> None:
    service = FakeService()
    client, _, _ = make_client(service.transport())
    client.create({"model": "chat", "input": "hi"})
    pages = list(client.iter_input_item_pages("resp_0001", limit=2, order="asc"))
    assert [len(p["data"]) for p in pages] == [2, 2, 1]
    afters = [r.url.params.get("after") for r in service.requests[1:]]
    assert afters == [None, "msg_1", "msg_3"]
    assert service.requests[1].url.params["order"] == "asc"


def test_input_item_pages_stop_when_the_service_repeats_itself() -> None:
    page = {"object": "list", "data": [{"id": "a"}], "first_id": "a", "last_id": "a", "has_more": True}
    client, _, _ = make_client(httpx.MockTransport(lambda r: httpx.Response(200, json=page)))
    assert len(list(client.iter_input_item_pages("resp_1"))) == 2


def test_include_goes_in_the_query() -> None:
    service = FakeService()
    client, _, _ = make_client(service.transport())
    client.create({"model": "chat", "input": "hi"})
    client.retrieve("resp_0001", include=["reasoning.encrypted_content"])
    assert service.requests[-1].url.params.get_list("include[]") == ["reasoning.encrypted_content"]


def test_delete_cancel_and_compact() -> None:
    service = FakeService()
    client, _, _ = make_client(service.transport())
    client.create({"model": "chat", "input": "hi"})
    assert client.cancel("resp_0001")["status"] == "cancelled"
    assert client.delete("resp_0001")["deleted"] is True
    assert client.compact({"model": "chat", "previous_response_id": "resp_0001"})["object"] == "response.compaction"
    assert [(r.method, r.url.path) for r in service.requests[1:]] == [
        ("POST", "/openai/v1/responses/resp_0001/cancel"),
        ("DELETE", "/openai/v1/responses/resp_0001"),
        ("POST", "/openai/v1/responses/compact"),
    ]


def test_debug_log_has_method_url_status_and_request_ids_but_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    service = FakeService(fail_next=[(429, {"retry-after-ms": "1"})])
    client = ResponsesClient(BASE, FakeAuth(), transport=service.transport(), sleep=lambda s: None)
    with caplog.at_level(logging.DEBUG, logger="aoai"):
        client.create({"model": "chat", "input": "hi"})
    text = caplog.text
    assert f"POST {BASE}/responses -> 429" in text and "-> 200" in text
    assert "request id req-429" in text and "client request id" in text
    assert "retrying" in text
    assert FakeAuth().secret not in text
