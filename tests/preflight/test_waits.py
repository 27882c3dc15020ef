"""Every ARM wait is bounded (issue 10, input 3): a Retry-After above --max-wait or past the run's
--timeout is not slept — the read fails at once (exit 4, request id kept); waits taken are shown.
Fake clocks and short caps only: no test sleeps long."""

from __future__ import annotations

import json
import time

import pytest

from aoai.preflight.waits import WaitBudget, WaitRefused
from tests.conftest import AoaiRunner, inject_fault

READY = ["-g", "rg-aoai-demo", "--account", "aoai-ready", "-o", "json"]
THROTTLED = {"status": 429, "code": "ResourceRequestsThrottled", "retry_after": 372, "count": 20}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_wait_over_the_cap_is_refused_not_slept() -> None:
    clock = FakeClock()
    budget = WaitBudget(max_wait=30, timeout=120, clock=clock, sleep=clock.sleep)
    with pytest.raises(WaitRefused) as refused:
        budget.wait(
            372,
            asked=True,
            reason="ARM throttled this read (ResourceRequestsThrottled)",
            what="GET …/usages",
            status=429,
            code="ResourceRequestsThrottled",
            request_id="rid-1",
        )
    assert refused.value.message.startswith(
        "ARM throttled this read (ResourceRequestsThrottled); it asks to retry after 372 s"
    )
    assert refused.value.request_id == "rid-1" and clock.slept == []


def test_a_wait_past_the_deadline_is_refused_and_shorter_ones_are_taken_and_shown() -> None:
    clock = FakeClock()
    shown: list[str] = []
    budget = WaitBudget(max_wait=30, timeout=40, clock=clock, sleep=clock.sleep, notify=shown.append)
    budget.wait(25, asked=True, reason="ARM throttled this read (X)", what="GET …/models")
    assert clock.slept == [25] and "retrying in 25.0 s as Retry-After asks" in shown[0]
    with pytest.raises(WaitRefused, match="past the run's deadline"):
        budget.wait(20, asked=True, reason="ARM throttled this read (X)", what="GET …/models")
    assert clock.slept == [25]


def test_throttled_usages_finish_at_once_with_exit_4_and_the_reason(aoai: AoaiRunner, emulator: object) -> None:
    inject_fault(emulator, route="arm.usages.list", **THROTTLED)  # type: ignore[arg-type]
    started = time.monotonic()
    result = aoai("preflight", "run", *READY)
    assert time.monotonic() - started < 40  # not 372 s per retry
    assert result.code == 4, result.output
    [error] = [f for f in json.loads(result.stdout)["findings"] if f["status"] == "error"]
    assert error["check"] == "AOAI303"
    assert "ARM throttled this read (ResourceRequestsThrottled); it asks to retry after 372 s" in error["message"]
    assert "request id" in error["message"]


def test_fleet_and_capacity_follow_the_same_rule(aoai: AoaiRunner, emulator: object) -> None:
    inject_fault(emulator, route="arm.usages.list", **THROTTLED)  # type: ignore[arg-type]
    fleet = aoai("preflight", "fleet", "-o", "json", "--max-wait", "5")
    assert fleet.code == 4, fleet.output
    assert "it asks to retry after 372 s (more than --max-wait 5 s)" in fleet.stdout
    capacity = aoai(
        "preflight", "capacity", "-m", "gpt-4.1", "--version", "2025-04-14", "--regions", "swedencentral", "-o", "json"
    )
    assert capacity.code == 4, capacity.output
    assert "it asks to retry after 372 s" in capacity.stdout + capacity.stderr


def test_a_wait_taken_is_shown_on_stderr(aoai: AoaiRunner, emulator: object) -> None:
    inject_fault(
        emulator, route="arm.usages.list", status=429, code="ResourceRequestsThrottled", retry_after=1, count=1
    )  # type: ignore[arg-type]
    result = aoai("preflight", "run", *READY)
    assert result.code == 0, result.output
    assert "aoai: waiting: GET" in result.stderr and "retrying in 1.0 s as Retry-After asks" in result.stderr


def test_bad_bounds_are_usage_errors(aoai: AoaiRunner) -> None:
    for flag, value in (("--max-wait", "-1"), ("--timeout", "0"), ("--timeout", "nan")):
        result = aoai("preflight", "run", *READY, flag, value)
        assert result.code == 2 and result.stderr.startswith("aoai: error:"), result.output
