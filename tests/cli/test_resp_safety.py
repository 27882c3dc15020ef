"""Secrets never leave, retries honour the service, bad input stops before any request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aoai.emulator import server

from ..conftest import FAKE_KEY, FAKE_TOKEN, AoaiRunner, control, inject_fault

MODEL = "chat"


def request_count(emulator: server.RunningEmulator) -> int:
    return int(control(emulator, "GET", "/_emulator/requests")["count"])


@pytest.mark.parametrize("auth", ["key", "entra"])
def test_no_secret_in_stdout_stderr_debug_or_the_journal(aoai: AoaiRunner, tmp_path: Path, auth: str) -> None:
    outputs: list[str] = []

    def run(*args: str) -> str:
        result = aoai("--debug", "resp", *args, "--auth", auth)
        outputs.append(result.stdout + result.stderr)
        return result.stdout

    run("create", "Hello", "-m", MODEL, "--background", "--no-store")  # refused before sending: needs store
    rid = run("create", "Hello", "-m", MODEL, "--background").strip()
    assert rid.startswith("resp_")
    run("create", "Hello", "-m", MODEL, "--stream", "--background")
    run("get", rid, "--wait", "--interval", "0.1")
    run("stream", rid, "--starting-after", "0", "-o", "jsonl")
    run("items", rid, "--all")
    run("compact", "-p", rid, "-m", MODEL, "-o", "json")
    run("cancel", rid)
    run("create", "Hello", "-m", "no-such-deployment")  # an error path too
    run("delete", rid, "--yes")
    run("log")
    everything = "\n".join(outputs)
    assert "debug aoai.responses.client: POST https://127.0.0.1" in everything  # --debug did log
    assert "request id" in everything
    assert FAKE_KEY not in everything and FAKE_TOKEN not in everything
    journal = (tmp_path / "state" / "journal.sqlite3").read_bytes()
    assert FAKE_KEY.encode() not in journal and FAKE_TOKEN.encode() not in journal


def test_a_refused_credential_names_itself_and_the_scope(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    bad_key = aoai("resp", "get", "resp_x", env={"AZURE_OPENAI_API_KEY": "wrong-key-0123456789"})
    assert bad_key.code == 3
    assert "api-key from AZURE_OPENAI_API_KEY" in bad_key.stderr and "wrong-key" not in bad_key.stderr
    inject_fault(emulator, route="responses.*", expired_token=True)
    entra = aoai("resp", "get", "resp_x", "--auth", "entra", "--scope", "https://ai.azure.com/.default")
    assert entra.code == 3
    line = entra.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "Entra ID token from AOAI_ACCESS_TOKEN (scope https://ai.azure.com/.default)" in line
    assert FAKE_TOKEN not in line


def test_retries_wait_as_retry_after_ms_asks(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="responses.create", status=429, retry_after_ms=150, retry_after=30, count=2)
    result = aoai("resp", "create", "Hello", "-m", MODEL)
    assert result.code == 0, result.stderr
    waits = re.findall(r"POST /responses: 429 Too Many Requests \(request id [\w-]+\); retry (\d) of 3 in ([\d.]+) s "
                       r"as retry-after-ms asks", result.stderr)  # fmt: skip
    assert waits == [("1", "0.15"), ("2", "0.15")]


def test_retry_after_seconds_and_the_give_up_line(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="responses.retrieve", status=503, retry_after=0, count=-1)
    result = aoai("resp", "get", "resp_x", "--max-retries", "2")
    assert result.code == 4
    assert (
        len(
            re.findall(
                r"GET /responses/resp_x: 503 Service Unavailable .*in 0\.00 s as retry-after asks", result.stderr
            )
        )
        == 2
    )
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("aoai: error: 503") and "(request id " in last and "gave up after 2 retries" in last


def test_create_is_not_retried_after_a_500(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="responses.create", status=500, count=1)
    before = request_count(emulator)
    result = aoai("resp", "create", "Hello", "-m", MODEL)
    assert result.code == 4
    assert request_count(emulator) == before + 1
    assert "retry" not in result.stderr.splitlines()[0]


def test_a_model_name_instead_of_a_deployment_name(aoai: AoaiRunner) -> None:
    result = aoai("resp", "create", "Hello", "-m", "gpt-4.1")
    assert result.code == 5
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "DeploymentNotFound" in line and "(request id " in line and "deployment name, not the model name" in line


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["create", "x"], 2, "no deployment given"),
        (["create", "-m", MODEL], 2, "no input"),
        (["create", "x", "-m", MODEL, "--tool", "{not json"], 2, "invalid JSON in --tool"),
        (["create", "x", "-m", MODEL, "--tool", "@missing.json"], 2, "does not exist"),
        (["create", "x", "-m", MODEL, "--param", "temperature=hot"], 2, "invalid JSON in --param temperature"),
        (["create", "x", "-m", MODEL, "--param", "stream=true"], 2, "use --stream/--no-stream"),
        (["create", "--input-file", "bad.json", "-m", MODEL], 2, "invalid JSON in --input-file bad.json"),
        (["create", "x", "-m", MODEL, "--reasoning-effort", "extreme"], 2, "extreme"),
        (["create", "x", "-m", MODEL, "--include", "everything"], 2, "everything"),
        (["create", "x", "-m", MODEL, "-o", "yaml"], 2, "yaml"),
        (["create", "x", "-m", MODEL, "--metadata", "novalue"], 2, "not KEY=VALUE"),
        (["create", "x", "-m", MODEL, "--max-output-tokens", "3"], 2, "--max-output-tokens"),
        (["create", "x", "-m", MODEL, "--tool-choice", "sometimes"], 2, "unknown --tool-choice"),
        (["create", "x", "-m", MODEL, "--background", "--no-store"], 2, "needs the response stored"),
        (["create", "x", "-m", MODEL, "--wait"], 2, "--wait applies to --background"),
        (["create", "x", "-m", MODEL, "--endpoint", "myres.openai.azure.com"], 2, "malformed endpoint"),
        (["create", "x", "-m", MODEL, "--endpoint", "http://myres.openai.azure.com"], 2, "plain http"),
        (["create", "x", "-m", MODEL, "--auth", "password"], 2, "password"),
        (["create", "x", "-m", MODEL, "--ca-bundle", "nope.pem"], 2, "CA bundle"),
        (["get", "resp 1"], 2, "is not a response id"),
        (["stream"], 2, "which response?"),
        (["stream", "resp_1", "--last"], 2, "not both"),
        (["stream", "--last", "--no-journal"], 2, "--last reads the journal"),
        (["stream", "resp_1", "--starting-after", "-3"], 2, "--starting-after"),
        (["items", "resp_1", "--limit", "500"], 2, "--limit"),
        (["compact", "-m", MODEL], 2, "nothing to compact"),
        (["compact", "-p", "resp_1", "-m", MODEL, "--save", "no/such/dir/x.json"], 2, "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_is_sent(
    aoai: AoaiRunner, emulator: server.RunningEmulator, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    (tmp_path / "bad.json").write_text('[{"role": "user", "content": "hi"},]')
    before = request_count(emulator)
    result = aoai("resp", *args)
    assert result.code == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aoai: error:"), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert request_count(emulator) == before


def test_no_credential_is_exit_3_before_any_request(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    before = request_count(emulator)
    result = aoai("resp", "get", "resp_1", "--auth", "key", env={"AZURE_OPENAI_API_KEY": ""})
    assert result.code == 3
    assert result.stderr.strip() == (
        "aoai: error: no API key: AZURE_OPENAI_API_KEY is not set — export AZURE_OPENAI_API_KEY, or use --auth entra"
    )
    assert request_count(emulator) == before


def test_no_endpoint_is_exit_2(aoai_bare: AoaiRunner) -> None:
    result = aoai_bare("resp", "get", "resp_1")
    assert result.code == 2
    assert "no endpoint given" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_help_teaches_with_examples(aoai_bare: AoaiRunner) -> None:
    for command in ("create", "get", "stream", "cancel", "delete", "compact", "items", "log"):
        result = aoai_bare("resp", command, "--help")
        assert result.code == 0
        assert "Examples" in result.stdout and f"aoai resp {command}" in result.stdout, command
