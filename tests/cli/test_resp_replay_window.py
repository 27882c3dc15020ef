"""Resume refused because the response is too old (issue 11, item 2), end to end.

Azure replays a background response's events for some minutes only; after that a reconnect gets
a 400 ("can no longer be streamed because it is more than 5 minutes old") while a plain GET still
answers. The emulator has the same window (``--replay-window``; a fault shortens it), so the whole
path runs here: the stream is cut, the reconnect is refused, ``aoai`` polls the response to its
end and prints exactly the text the user had not seen.
"""

from __future__ import annotations

import json
import re

from aoai.emulator import server

from ..conftest import FAKE_KEY, AoaiRunner, Result, inject_fault

PROMPT = "Tell a story that outlives its replay window"
LONG = ["--param", 'metadata={"emulator_output_tokens": "60"}']
ARGS = ("resp", "create", PROMPT, "-m", "chat", "--stream", "--background", *LONG)


def clean(result: Result) -> None:
    assert "Traceback" not in result.output and FAKE_KEY not in result.output


def whole_text(aoai: AoaiRunner, rid: str) -> str:
    fetched = aoai("resp", "retrieve", rid, "--wait", "--interval", "0.1")
    assert fetched.code == 0, fetched.stderr
    return fetched.stdout


def test_a_refused_reconnect_polls_and_prints_the_full_text_exactly_once(
    aoai: AoaiRunner, emulator: server.RunningEmulator
) -> None:
    inject_fault(emulator, route="responses.create", cut_after_events=25)
    inject_fault(emulator, route="responses.retrieve", replay_window_ms=0)
    result = aoai(*ARGS)
    clean(result)
    assert result.code == 0, result.stderr
    assert re.search(r"reconnecting after event 24", result.stderr)
    assert "no longer replays the events of resp_" in result.stderr
    assert "can no longer be streamed because it is more than 0 seconds old" in result.stderr
    footer = result.stderr.strip().splitlines()[-1]
    assert "· completed ·" in footer
    rid = footer.split()[1]
    assert result.stdout == whole_text(aoai, rid)  # no duplicate, no gap


def test_jsonl_says_which_events_were_not_replayed(aoai: AoaiRunner, emulator: server.RunningEmulator) -> None:
    inject_fault(emulator, route="responses.create", cut_after_events=10)
    inject_fault(emulator, route="responses.retrieve", replay_window_ms=0)
    result = aoai(*ARGS, "-o", "jsonl")
    clean(result)
    assert result.code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["sequence_number"] == 9  # 10 events: 0 to 9
    assert re.search(r"events after 9 were not replayed: the service no longer streams resp_\w+", result.stderr)


def test_resume_stream_of_a_too_old_response_prints_what_polling_gives(
    aoai: AoaiRunner, emulator: server.RunningEmulator
) -> None:
    started = aoai("resp", "create", PROMPT, "-m", "chat", "--background", "--stream", *LONG, "-o", "json")
    rid = json.loads(started.stdout)["id"]
    inject_fault(emulator, route="responses.retrieve", replay_window_ms=0)
    result = aoai("resp", "resume-stream", rid, "--starting-after", "0", "--no-journal")
    clean(result)
    assert result.code == 0, result.stderr
    assert "no longer replays the events" in result.stderr
    assert "including what came before event 0" in result.stderr
    assert result.stdout == whole_text(aoai, rid)


def test_the_emulator_refuses_a_replay_past_its_window_with_azures_400(
    aoai: AoaiRunner, emulator: server.RunningEmulator
) -> None:
    started = aoai("resp", "create", PROMPT, "-m", "chat", "--background", "--stream", "-o", "json")
    rid = json.loads(started.stdout)["id"]
    inject_fault(emulator, route="responses.retrieve", replay_window_ms=0, count=2)
    jsonl = aoai("resp", "resume-stream", rid, "--starting-after", "0", "-o", "jsonl", "--max-retries", "0")
    assert jsonl.code == 0 and jsonl.stdout == ""
    assert "events after 0 were not replayed" in jsonl.stderr
    # A plain GET still answers.
    assert aoai("resp", "retrieve", rid).code == 0
