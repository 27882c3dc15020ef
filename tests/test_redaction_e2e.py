"""No secret in any output: every command x output format against an ECHOING server.

A loopback HTTPS proxy in front of the emulator hands back whatever credential it was sent (the
API key or the bearer token) in the request-id headers, in a field added to every JSON object and
SSE event, split across two text deltas of every stream, in the error message of a 500 (so retry
notices and the final error line see it) and in a ``response.failed`` event. The test then greps
stdout, stderr, --debug logs, every file written and the GitHub step summary for both secrets and
their escaped forms.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aoai.emulator import server

from .conftest import FAKE_KEY, FAKE_TOKEN, AoaiRunner, Result, _base_env

SECRETS = (FAKE_KEY, FAKE_TOKEN)
FAIL_MARKER = "ECHO-FAIL"
STREAM_FAIL_MARKER = "ECHO-STREAM-FAIL"


def _credential(headers: Any) -> str:
    auth = headers.get("Authorization") or ""
    return headers.get("api-key") or auth.removeprefix("Bearer ").strip() or "none"


def _echo_into(value: Any, credential: str) -> Any:
    if isinstance(value, dict):
        value = {**value, "x_echo": f"you sent {credential}"}
        if value.get("type") == "response.output_text.delta" and isinstance(value.get("delta"), str):
            value["delta"] = credential[:9] + "|" + value["delta"]
    return value


def _echo_sse(body: bytes, credential: str) -> bytes:
    out = []
    half = len(credential) // 2
    deltas = 0
    for line in body.decode().split("\n"):
        if line.startswith("data:") and line[5:].strip().startswith("{"):
            event = json.loads(line[5:])
            event = {**event, "x_echo": credential}
            if event.get("type") == "response.output_text.delta" and deltas < 2:
                # The credential split across two deltas: a redactor per write must not miss it.
                event["delta"] = (credential[:half] if deltas == 0 else credential[half:]) + event["delta"]
                deltas += 1
            line = "data: " + json.dumps(event)
        out.append(line)
    return "\n".join(out).encode()


class EchoProxy:
    def __init__(self, upstream: str, ca_path: Path, cert: Any) -> None:
        self.upstream = upstream.rstrip("/")
        self.context = ssl.create_default_context(cafile=str(ca_path))
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def _send(self, status: int, body: bytes, headers: dict[str, str], credential: str) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "x-request-id",
                        "x-ms-request-id",
                        "apim-request-id",
                        "x-ms-correlation-request-id",
                    ):
                        self.send_header(name, value)
                for name in ("x-request-id", "x-ms-request-id", "apim-request-id", "x-ms-correlation-request-id"):
                    self.send_header(name, f"req-{credential}")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                credential = _credential(self.headers)
                text = body.decode("utf-8", "replace")
                if self.path.endswith("/responses") and STREAM_FAIL_MARKER in text:
                    failed = {
                        "id": "resp_echo1",
                        "object": "response",
                        "status": "failed",
                        "model": "chat",
                        "output": [],
                        "error": {"code": "server_error", "message": f"upstream saw {credential}"},
                    }
                    events = [
                        {
                            "type": "response.created",
                            "sequence_number": 0,
                            "response": {**failed, "status": "in_progress", "error": None},
                        },
                        {"type": "response.failed", "sequence_number": 1, "response": failed},
                    ]
                    if '"stream": true' in text or '"stream":true' in text:
                        sse = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()
                        self._send(200, sse, {"content-type": "text/event-stream"}, credential)
                    else:
                        self._send(200, json.dumps(failed).encode(), {"content-type": "application/json"}, credential)
                    return
                if self.path.endswith("/responses") and FAIL_MARKER in text:
                    error = {"error": {"code": "server_error", "message": f"bad credential {credential!r}"}}
                    self._send(
                        500,
                        json.dumps(error).encode(),
                        {"content-type": "application/json", "retry-after-ms": "5"},
                        credential,
                    )
                    return
                request = urllib.request.Request(
                    proxy.upstream + self.path,
                    data=body or None,
                    method=self.command,
                    headers={k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")},
                )
                try:
                    with urllib.request.urlopen(request, context=proxy.context, timeout=30) as upstream:
                        status, headers, payload = upstream.status, dict(upstream.headers), upstream.read()
                except urllib.error.HTTPError as error:
                    status, headers, payload = error.code, dict(error.headers), error.read()
                kind = headers.get("content-type") or headers.get("Content-Type") or ""
                if "event-stream" in kind:
                    payload = _echo_sse(payload, credential)
                elif "json" in kind and payload:
                    with contextlib.suppress(ValueError):
                        payload = json.dumps(_echo_into(json.loads(payload), credential)).encode()
                self._send(status, payload, headers, credential)

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(server_context)
        self.httpd.socket = server_context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def echoing(tmp_path: Path, emulator: server.RunningEmulator) -> Iterator[AoaiRunner]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca_file = tmp_path / "echo-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    proxy = EchoProxy(emulator.url, emulator.ca_path, ca.issue_cert("127.0.0.1"))
    env = {
        **_base_env(tmp_path),
        **emulator.env,
        "AZURE_OPENAI_ENDPOINT": proxy.url,
        "AOAI_ARM_ENDPOINT": proxy.url,
        "SSL_CERT_FILE": str(ca_file),
        "REQUESTS_CA_BUNDLE": str(ca_file),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
    }
    yield AoaiRunner(env, tmp_path)
    proxy.stop()


def _forms(secret: str) -> list[str]:
    return [
        secret,
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
        secret[: len(secret) // 2] + secret[len(secret) // 2 :],
    ]


def _assert_clean(label: str, text: str) -> None:
    for secret in SECRETS:
        for form in _forms(secret):
            assert form not in text, f"{label} shows a secret: {text[max(0, text.find(form) - 200) :][:400]!r}"


def _run(aoai: AoaiRunner, *args: str, expect: tuple[int, ...] = (0,)) -> Result:
    result = aoai(*args, timeout=120)
    assert result.code in expect, f"{args}: exit {result.code}\n{result.stderr[-2000:]}"
    _assert_clean(f"{' '.join(args)} stdout", result.stdout)
    _assert_clean(f"{' '.join(args)} stderr", result.stderr)
    return result


RESP_FORMATS = ("text", "json", "jsonl")
READY = ("-g", "rg-aoai-demo", "--account", "aoai-ready", "--deployment", "chat=gpt-4.1@2025-04-14")


def test_every_command_and_format_hides_both_secrets(echoing: AoaiRunner, tmp_path: Path) -> None:
    aoai = echoing
    entra = {"AZURE_OPENAI_API_KEY": ""}  # the data plane then uses the token
    ids = []
    for auth_env in ({}, entra):
        for fmt in RESP_FORMATS:
            for mode in ((), ("--stream",)):
                result = aoai("resp", "create", "Say hello", "-m", "chat", "-o", fmt, *mode, env=auth_env)
                _assert_clean(f"create {fmt} {mode}", result.output)
                assert result.code == 0, result.stderr
                failed = aoai(
                    "--debug",
                    "resp",
                    "create",
                    f"{STREAM_FAIL_MARKER} please",
                    "-m",
                    "chat",
                    "-o",
                    fmt,
                    *mode,
                    env=auth_env,
                )
                assert failed.code != 0
                _assert_clean(f"failed event {fmt} {mode}", failed.output)
            retried = aoai("--debug", "resp", "create", f"{FAIL_MARKER} please", "-m", "chat", "-o", fmt, env=auth_env)
            assert retried.code == 4, retried.output
            assert "req-***" in retried.stderr  # the request id is shown, the credential in it is not
            _assert_clean(f"retries {fmt}", retried.output)
    background = _run(aoai, "resp", "create", "Write a story", "-m", "chat", "--background", "--stream", "-o", "json")
    rid = json.loads(background.stdout)["id"]
    ids.append(rid)
    for fmt in RESP_FORMATS:
        _run(aoai, "resp", "retrieve", rid, "--wait", "--interval", "0.1", "-o", fmt)
        _run(aoai, "--debug", "resp", "resume-stream", rid, "--starting-after", "0", "-o", fmt)
    _run(aoai, "resp", "items", rid, "-o", "json")
    _run(aoai, "resp", "items", rid)
    _run(aoai, "resp", "log")
    _run(aoai, "resp", "log", "-o", "json")
    _run(aoai, "resp", "cancel", rid, expect=(0, 1, 2, 4))
    saved = tmp_path / "compacted.json"
    _run(aoai, "resp", "compact", "a long conversation", "-m", "chat", "--save", str(saved))
    chat = tmp_path / "chat.json"
    _run(aoai, "resp", "create", "Remember this", "-m", "chat", "--continue", str(chat))
    _run(aoai, "--debug", "resp", "delete", rid, "--yes")

    evidence = tmp_path / "evidence.json"
    for fmt in ("table", "json", "sarif", "junit", "markdown"):
        _run(aoai, "--debug", "preflight", "run", *READY, "-o", fmt, "--evidence", str(evidence), expect=(0, 1, 4))
    _run(aoai, "preflight", "verify", str(evidence), expect=(0, 1))
    for fmt in ("table", "json"):
        _run(aoai, "preflight", "fleet", "-o", fmt, expect=(0, 1, 4))
        _run(aoai, "preflight", "capacity", "-m", "gpt-4.1", "--version", "2025-04-14", "-o", fmt, expect=(0, 1, 4))

    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".pem"]
    assert evidence in written and (tmp_path / "step-summary.md") in written and chat in written
    for path in written:
        _assert_clean(str(path), path.read_bytes().decode("utf-8", "replace"))


@pytest.mark.parametrize(
    ("variable", "value", "command"),
    [
        ("AZURE_OPENAI_API_KEY", FAKE_KEY + "\r", ("resp", "create", "hi", "-m", "chat")),
        ("AZURE_OPENAI_API_KEY", FAKE_KEY[:8] + " " + FAKE_KEY[8:], ("resp", "retrieve", "resp_abc")),
        ("AOAI_ACCESS_TOKEN", FAKE_TOKEN + "\n", ("preflight", "run", *READY)),
        ("AOAI_ACCESS_TOKEN", FAKE_TOKEN + "\x1b", ("resp", "create", "hi", "-m", "chat", "--auth", "entra")),
    ],
)
def test_a_credential_with_whitespace_or_control_chars_is_refused_by_name(
    aoai: AoaiRunner, variable: str, value: str, command: tuple[str, ...]
) -> None:
    """Before: a CRLF key went into the header and came back inside ``Illegal header value b'...\\r'``."""
    result = aoai("--debug", *command, env={variable: value})
    assert result.code == 2, result.output
    assert result.stderr.startswith("aoai: error: " + variable), result.stderr
    assert "HTTP header" in result.stderr
    _assert_clean("refused credential", result.output)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "command"),
    [
        ("AZURE_OPENAI_ENDPOINT", ("resp", "create", "hi", "-m", "chat")),
        ("AOAI_ARM_ENDPOINT", ("preflight", "run", *READY)),
    ],
)
def test_credentials_in_an_endpoint_url_are_refused_unprinted(
    aoai: AoaiRunner, variable: str, command: tuple[str, ...]
) -> None:
    """Before: ``--debug`` printed the endpoint's ``user:password@`` part in every request line."""
    result = aoai("--debug", *command, env={variable: "https://admin:hunter2-pass-77@127.0.0.1:9/"})
    assert result.code == 2, result.output
    assert "contains credentials (user:password@)" in result.stderr
    assert "hunter2-pass-77" not in result.output and "admin:" not in result.output


def test_redactor_knows_escaped_forms_and_secrets_split_across_writes() -> None:
    import io

    from aoai import redaction

    secret = 'k3y"with\\odd\r'
    redaction.register_secret(secret)
    for form in (secret, json.dumps(secret), repr(secret), repr(secret.encode()), secret.strip()):
        assert "odd" not in redaction.redact(f"x {form} y"), form
    sink = io.BytesIO()
    writer = redaction.RedactingWriter(sink)
    plain = "token-SPLIT-secret-0042"
    redaction.register_secret(plain)
    for piece in ("text tok", "en-SPL", "IT-secret-0042 tail ", "t"):
        writer.write(piece.encode())
    writer.release()
    assert sink.getvalue() == b"text *** tail t"
