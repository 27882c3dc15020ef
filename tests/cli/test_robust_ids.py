"""Ids, names and numbers are checked before anything is sent (issue 13, item 3): ``.``/``..`` would
address another endpoint, a 100,000-character id is no URL, and ``1e308`` seconds overflows."""

from __future__ import annotations

import pytest

from aoai.emulator import server

from ..conftest import AoaiRunner, control
from .test_robust_inputs import one_error_line

BAD_IDS = [".", "..", "x" * 100_000, "resp/../x", "resp 1", "%2e%2e"]


def _requests(emulator: server.RunningEmulator) -> list[dict[str, object]]:
    return [e for e in control(emulator, "GET", "/_emulator/requests")["requests"] if e["path"] != "/_emulator"]


@pytest.mark.parametrize("bad", BAD_IDS, ids=["dot", "dotdot", "long", "slash", "space", "escaped"])
@pytest.mark.parametrize(
    "command",
    [("delete", "--yes"), ("get",), ("cancel",), ("stream",), ("items",)],
    ids=lambda c: c[0],
)
def test_a_bad_response_id_is_never_sent(
    aoai: AoaiRunner, emulator: server.RunningEmulator, command: tuple[str, ...], bad: str
) -> None:
    control(emulator, "DELETE", "/_emulator/requests")
    one_error_line(aoai("resp", command[0], bad, *command[1:]), "is not a response id")
    assert not [e for e in _requests(emulator) if str(e["path"]).startswith("/openai")]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("-g", "rg", "--account", ".."), "--account: '..' is not an Azure OpenAI account name"),
        (("-g", "rg/../x", "--account", "acc"), "-g/--resource-group: 'rg/../x' is not a resource group name"),
        (("-g", "rg.", "--account", "acc"), "is not a resource group name"),
        (("-g", "rg", "--account", "a" * 100_000), "is not an Azure OpenAI account name"),
    ],
)
def test_bad_arm_names_are_refused_before_arm_is_asked(aoai: AoaiRunner, args: tuple[str, ...], needle: str) -> None:
    sub = ("--subscription", "00000000-0000-0000-0000-000000000001")
    one_error_line(aoai("preflight", "run", *sub, *args), needle)


def test_a_resource_id_with_a_bad_segment_is_refused(aoai: AoaiRunner) -> None:
    rid = "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acc"
    one_error_line(aoai("preflight", "run", "--resource-id", rid), "--resource-id: subscription")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("resp", "create", "hi", "-m", "chat", "-p", ".."), "-p/--previous-response-id: '..' is not a response id"),
        (("resp", "compact", "-m", "chat", "-p", "a/b"), "-p/--previous-response-id"),
        (("resp", "items", "resp_1", "--after", ".."), "--after: '..' is not an item id"),
        (("resp", "approve", "resp_1", ".."), "REQUEST_ID: '..' is not an approval request id"),
    ],
)
def test_ids_in_bodies_and_queries_are_checked_too(aoai: AoaiRunner, args: tuple[str, ...], needle: str) -> None:
    one_error_line(aoai(*args), needle)


@pytest.mark.parametrize(
    "args",
    [
        ("resp", "retrieve", "resp_1", "--wait", "--interval", "1e308"),
        ("resp", "retrieve", "resp_1", "--wait", "--interval", "nan"),
        ("resp", "retrieve", "resp_1", "--wait", "--timeout", "inf"),
        ("resp", "retrieve", "resp_1", "--wait", "--timeout", "nan"),
        ("resp", "create", "hi", "-m", "chat", "--exec-tools", "true", "--tool-timeout", "nan"),
        ("resp", "create", "hi", "-m", "chat", "--max-output-tokens", "1" + "0" * 30),
        ("resp", "resume-stream", "resp_1", "--starting-after", "9" * 40),
        ("resp", "log", "-n", "9" * 40),
    ],
    ids=lambda a: " ".join(a[-2:])[:30],
)
def test_numbers_out_of_range_are_refused(aoai: AoaiRunner, args: tuple[str, ...]) -> None:
    one_error_line(aoai(*args))
