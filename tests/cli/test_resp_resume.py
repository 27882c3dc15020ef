"""A background stream cut anywhere shows exactly the text of an uninterrupted one.

The emulator's fault injection cuts the stream (``cut_after_events``); ``aoai`` reconnects with
``starting_after`` and the output must match the uninterrupted run byte for byte, with each
reconnect named on stderr. Ctrl-C, then ``aoai resp resume-stream ID``, must also add up to the whole.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from aoai.emulator import server

from ..conftest import AoaiRunner, Result, control, inject_fault

PROMPT = "Describe a resumable stream"
LONG = ["--param", 'metadata={"emulator_output_tokens": "60"}']
ARGS = ("resp", "create", PROMPT, "-m", "chat", "--stream", "--background", *LONG)
RECONNECT = re.compile(r"broke \((.*?)\); reconnecting after event (\d+)")


def uninterrupted(aoai: AoaiRunner) -> tuple[Result, int]:
    """The reference run, and how many events its stream has."""
    reference = aoai(*ARGS)
    assert reference.code == 0, reference.stderr
    assert "reconnect" not in reference.stderr
    events = aoai(*ARGS[:-4], "--no-stream", *LONG, "-o", "json")  # same input, fetched whole
    assert events.code == 0
    jsonl = aoai(*ARGS, "-o", "jsonl", "--no-journal")
    count = len(jsonl.stdout.splitlines())
    assert count > 60
    return reference, count


def test_twenty_cut_positions_resume_to_identical_output(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    reference, count = uninterrupted(aoai)
    # Twenty positions spread over the whole stream: the very start (only response.created seen),
    # inside the text, and just before response.completed (the resumed stream starts with it).
    positions = sorted(
        {1, 2, 3, 4, 5, count - 1, count - 2, count - 3} | {6 + i * (count - 10) // 12 for i in range(12)}
    )
    assert len(positions) == 20
    inject_fault(emulator, route="responses.create", cut_after_events=positions[0])
    for position in positions[1:]:
        inject_fault(emulator, route="responses.create", cut_after_events=position)
    # The faults are consumed one per create, oldest first: run the twenty creates concurrently.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: aoai(*ARGS), range(len(positions))))
    seen_after: list[int] = []
    for result in results:
        assert result.code == 0, result.stderr
        assert result.stdout == reference.stdout  # byte for byte
        reconnects = RECONNECT.findall(result.stderr)
        assert len(reconnects) == 1, result.stderr
        seen_after.append(int(reconnects[0][1]))
        assert "1 reconnect" in result.stderr.strip().splitlines()[-1]
    assert sorted(seen_after) == [p - 1 for p in positions]
    assert control(emulator, "GET", "/_emulator/faults")["faults"] == []


@pytest.mark.parametrize("mode", ["abort", "eof"])
def test_nested_cuts_on_create_and_on_the_resumed_streams(
    aoai: AoaiRunner, emulator: server.RunningEmulator, mode: str
) -> None:
    reference, _ = uninterrupted(aoai)
    inject_fault(emulator, route="responses.create", cut_after_events=9, cut_mode=mode)
    inject_fault(emulator, route="responses.retrieve", cut_after_events=5, cut_mode=mode)
    inject_fault(emulator, route="responses.retrieve", cut_after_events=17, cut_mode="abort")
    result = aoai(*ARGS)
    assert result.code == 0, result.stderr
    assert result.stdout == reference.stdout
    assert [int(after) for _, after in RECONNECT.findall(result.stderr)] == [8, 13, 30]


def test_a_cut_foreground_stream_exits_4_naming_the_response(
    aoai: AoaiRunner, emulator: server.RunningEmulator
) -> None:
    inject_fault(emulator, route="responses.create", cut_after_events=8)
    result = aoai("resp", "create", PROMPT, "-m", "chat", "--stream", *LONG)
    assert result.code == 4
    line = result.stderr.strip().splitlines()[-1]
    assert re.match(r"aoai: error: the stream of response resp_\w+ broke after event 7: ", line)
    assert "--background" in line
    assert result.stdout  # what was shown stays shown


def test_resume_gives_up_after_max_resumes(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="responses.create", cut_after_events=6)
    inject_fault(emulator, route="responses.retrieve", cut_after_events=0, count=2)
    result = aoai(*ARGS, "--max-resumes", "2")
    assert result.code == 4
    assert [int(after) for _, after in RECONNECT.findall(result.stderr)] == [5, 5]
    last = result.stderr.strip().splitlines()[-1]
    assert "gave up on the stream of response resp_" in last and "after 2 reconnects" in last
    rid = re.search(r"resp_\w+", last)
    assert rid is not None
    assert f"aoai resp resume-stream {rid.group(0)} --starting-after 5" in last
    # The journal knows where we were: a plain `stream ID` shows the rest.
    rest = aoai("resp", "stream", rid.group(0))
    assert rest.code == 0
    assert result.stdout + rest.stdout == aoai(*ARGS).stdout


def _interrupt_after_output(aoai: AoaiRunner, args: tuple[str, ...]) -> tuple[int, str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aoai", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=aoai.env,
        cwd=aoai.cwd,
    )
    assert proc.stdout is not None
    first = os.read(proc.stdout.fileno(), 64)
    assert first, "no output before the interrupt"
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, (first + out).decode(), err.decode()


def test_ctrl_c_then_stream_again_adds_up_to_the_whole(aoai: AoaiRunner) -> None:
    long = ["--param", 'metadata={"emulator_output_tokens": "10000"}']  # ~2 s at the emulator's 5000 tokens/s
    args = ("resp", "create", PROMPT, "-m", "chat", "--stream", "--background", *long)
    code, first, err = _interrupt_after_output(aoai, args)
    assert code == 130, err
    line = err.strip().splitlines()[-1]
    match = re.search(r"resume with `aoai resp resume-stream (resp_\w+) --starting-after (\d+)`", line)
    assert match, line
    rid = match.group(1)
    assert f"cancel with `aoai resp cancel {rid}`" in line
    rest = aoai("resp", "stream", rid)  # continues after the last event this machine saw
    assert rest.code == 0, rest.stderr
    whole = aoai("resp", "get", rid, "--wait", "--interval", "0.1")
    assert first + rest.stdout == whole.stdout
    assert json.loads(aoai("resp", "log", "-o", "json").stdout)[0]["status"] == "completed"


def test_ctrl_c_on_a_foreground_stream_says_closing_stops_it(aoai: AoaiRunner) -> None:
    long = ["--param", 'metadata={"emulator_output_tokens": "10000"}']
    code, _, err = _interrupt_after_output(aoai, ("resp", "create", PROMPT, "-m", "chat", "--stream", *long))
    assert code == 130
    assert re.search(r"closing the connection stopped the foreground response resp_\w+$", err.strip())
