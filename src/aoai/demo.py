"""``aoai demo``: a narrated tour of the tool against the built-in emulator.

Each step runs the real ``aoai`` as a child process, exactly as a user would type it, with the
emulator's environment; the tour checks every exit code, so the demo doubles as a smoke test.
Steps that need a value from an earlier one (a response id) read it from that step's JSON output.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aoai.errors import AoaiError

READY = ["--resource-group", "rg-aoai-demo", "--account", "aoai-ready"]
LEGACY = ["--resource-group", "rg-aoai-demo", "--account", "aoai-legacy"]


@dataclass
class Step:
    title: str
    explain: str
    args: list[str] | Callable[[dict[str, Any]], list[str]]
    expect: int = 0
    capture: str | None = None  # keep the parsed JSON stdout under this name
    fault: dict[str, Any] | None = None  # armed on the emulator just before the step
    show_json: Callable[[Any], str] | None = None  # how to show a captured JSON result
    stdin: Callable[[Mapping[str, str]], str] | None = None  # what the step reads on stdin (from the env)


@dataclass
class StepResult:
    step: Step
    command: list[str]
    code: int
    seconds: float
    captured: Any = None


def tour() -> list[Step]:
    return [
        Step(
            "Preflight: the ready account",
            "Reads aoai-ready through ARM (account, deployments, models, usages, network, logs) and gates the release.",
            ["preflight", "run", *READY, "--deployment", "chat=gpt-4.1@2025-04-14",
             "--deployment", "reasoner=gpt-5-mini", "-o", "table"],
        ),
        Step(
            "Preflight: an account that is not ready",
            "aoai-legacy fails every area for a realistic reason; exit code 1 blocks a CI pipeline.",
            ["preflight", "run", *LEGACY, "--deployment", "gpt-4o=gpt-4o@2024-05-13", "-o", "table"],
            expect=1,
        ),
        Step(
            "Preflight: a planned change, before it is provisioned",
            "An ARM What-If result (piped on stdin) adds a deployment of a retired model version to aoai-legacy "
            "and raises prod-chat to 120, more than its quota can hold: the gate stops it before `az deployment`.",
            ["preflight", "plan", "-", "--only", "AOAI205", "--only", "AOAI303", "--only", "AOAI304", "-o", "table"],
            expect=1,
            stdin=lambda env: planned_change(env.get("AZURE_SUBSCRIPTION_ID", "")),
        ),
        Step(
            "A streamed response",
            "Text arrives as it is generated; the footer shows id, status, usage and time to first token.",
            ["resp", "create", "Name three checks to run before a release.", "-m", "chat", "--stream"],
        ),
        Step(
            "A background response whose stream breaks",
            "The emulator drops the connection after 12 events; aoai resumes from the last sequence "
            "number it saw, so the text is neither duplicated nor lost.",
            ["resp", "create", "Explain why background responses can be resumed.", "-m", "chat",
             "--background", "--stream"],
            fault={"route": "responses.create", "cut_after_events": 12},
        ),
        Step(
            "Start a background response without waiting",
            "Returns at once with the response id (JSON for scripts). The metadata asks the emulator "
            "for a long answer (4,000 tokens), so there is time to cancel it.",
            ["resp", "create", "Write a long essay about release gates.", "-m", "chat", "--background",
             "--no-stream", "-o", "json", "--metadata", "emulator_output_tokens=4000"],
            capture="background",
            show_json=lambda r: f"id {r['id']} status {r['status']}",
        ),
        Step(
            "Cancel it",
            "Cancel is idempotent and prints the final status.",
            lambda seen: ["resp", "cancel", seen["background"]["id"]],
        ),
        Step(
            "A stored response to compact",
            "A plain (non-streamed) response, kept server-side.",
            ["resp", "create", "Summarise our release checklist.", "-m", "chat", "--no-stream", "-o", "json"],
            capture="stored",
            show_json=lambda r: f"id {r['id']} status {r['status']}",
        ),
        Step(
            "Compact the conversation",
            "POST /responses/compact turns the history into an opaque compaction item plus kept items.",
            lambda seen: ["resp", "compact", "-p", seen["stored"]["id"], "-m", "chat"],
        ),
    ]


def planned_change(subscription: str) -> str:
    """The What-If result (REST envelope) of a template that changes aoai-legacy's deployments."""
    account = (
        f"/subscriptions/{subscription}/resourceGroups/rg-aoai-demo/providers/Microsoft.CognitiveServices"
        "/accounts/aoai-legacy"
    )

    def deployment(name: str, model: str, version: str, capacity: int) -> dict[str, Any]:
        return {
            "id": f"{account}/deployments/{name}",
            "name": name,
            "type": "Microsoft.CognitiveServices/accounts/deployments",
            "apiVersion": "2024-10-01",
            "sku": {"name": "Standard", "capacity": capacity},
            "properties": {
                "model": {"format": "OpenAI", "name": model, "version": version},
                "raiPolicyName": "Microsoft.DefaultV2",
                "versionUpgradeOption": "OnceNewDefaultVersionAvailable",
            },
        }

    changes = [
        {
            "resourceId": f"{account}/deployments/chat-35",
            "changeType": "Create",
            "after": deployment("chat-35", "gpt-35-turbo", "0613", 10),
        },
        {
            "resourceId": f"{account}/deployments/prod-chat",
            "changeType": "Modify",
            "before": deployment("prod-chat", "gpt-4o", "2024-05-13", 80),
            "after": deployment("prod-chat", "gpt-4o", "2024-05-13", 120),
            "delta": [{"path": "sku.capacity", "propertyChangeType": "Modify", "before": 80, "after": 120}],
        },
    ]
    return json.dumps({"status": "Succeeded", "properties": {"changes": changes}})


class DemoFailed(AoaiError):
    """A tour step ended with an unexpected exit code."""


def run_tour(
    env: Mapping[str, str],
    *,
    add_fault: Callable[[dict[str, Any]], None],
    say: Callable[[str], None],
) -> list[StepResult]:
    """Run every step as a child ``aoai`` process; raise DemoFailed on an unexpected exit code."""
    seen: dict[str, Any] = {}
    results: list[StepResult] = []
    steps = tour()
    for number, step in enumerate(steps, start=1):
        args = step.args(seen) if callable(step.args) else step.args
        say(f"\n[{number}/{len(steps)}] {step.title}\n    {step.explain}\n$ aoai {shlex.join(args)}")
        if step.fault is not None:
            add_fault(step.fault)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "aoai", *args],
            env=dict(env),
            input=step.stdin(env) if step.stdin is not None else None,
            stdout=subprocess.PIPE if step.capture else None,
            text=True,
            timeout=60,
        )
        result = StepResult(step, args, proc.returncode, time.monotonic() - started)
        if step.capture:
            try:
                result.captured = seen[step.capture] = json.loads(proc.stdout)
            except ValueError as exc:
                raise DemoFailed(f"step {number} ({step.title}) printed no JSON") from exc
            if step.show_json is not None:
                say(step.show_json(result.captured))
        results.append(result)
        if proc.returncode != step.expect:
            raise DemoFailed(
                f"step {number} ({step.title}) exited {proc.returncode}, expected {step.expect}",
                hint=f"rerun `aoai {shlex.join(args)}` against `aoai emulator` with --debug",
            )
        say(f"    exit {proc.returncode} (expected) in {result.seconds:.1f}s")
    return results
