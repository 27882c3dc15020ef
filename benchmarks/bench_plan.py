"""Benchmark ``aoai preflight plan`` against the emulator with emulated ARM latency; prints JSON.

A plan of 10 deployments (alternating gpt-4.1 and gpt-5-mini, GlobalStandard) in two shapes, with
``--latency-ms`` (default 100) added to every ARM request:

- ``existing_account``: an ARM What-If result adding the 10 deployments to aoai-ready (the account
  is not in the plan, so its location comes from ARM: account first, then the region data);
- ``new_account``: a Terraform plan creating an account in swedencentral with the 10 deployments
  (the location is in the plan: everything in one round trip);

and, as the baseline, ``aoai preflight run`` on aoai-ready. For each: the whole command as a
subprocess (``-o json``), its ARM requests (counted by the emulator and by the command), and its
startup (the same command against an emulator with no added latency), so ``wall_minus_startup_ms``
is what ARM latency costs; and the gather alone in-process (the reads ``execute_plan`` makes, with
the credential and SDK clients built first), whose wall time over the latency is the round trips —
the subprocess figures are noisy on a busy machine, the gather's are not. Target (issue 14): no
more round trips than ``preflight run``.

    python benchmarks/bench_plan.py [--latency-ms 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_preflight import TARGET, TOKEN, _arm_requests, _control, _subprocess_ms

from aoai.auth import StaticTokenCredential
from aoai.config import ArmSettings
from aoai.emulator import server
from aoai.preflight.arm import ArmReader
from aoai.preflight.engine import Selection, parts_for
from aoai.preflight.plan.run import PlanOptions, _gather, prepare_plan
from aoai.preflight.policy import Policy

SUB = "00000000-0000-0000-0000-000000000001"
RG = "rg-aoai-demo"
ACCOUNTS = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/accounts"
MODELS = (("gpt-4.1", "2025-04-14"), ("gpt-5-mini", "2025-08-07"))
DEPLOYMENTS = 10


def _deployment(account: str, index: int) -> dict[str, Any]:
    model, version = MODELS[index % len(MODELS)]
    name = f"dep-{index:02d}"
    return {
        "id": f"{account}/deployments/{name}",
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts/deployments",
        "sku": {"name": "GlobalStandard", "capacity": 1},
        "properties": {
            "model": {"format": "OpenAI", "name": model, "version": version},
            "raiPolicyName": "Microsoft.DefaultV2",
        },
    }


def whatif_existing_account() -> dict[str, Any]:
    account = f"{ACCOUNTS}/aoai-ready"
    changes = [
        {"resourceId": f"{account}/deployments/dep-{i:02d}", "changeType": "Create", "after": _deployment(account, i)}
        for i in range(DEPLOYMENTS)
    ]
    return {"status": "Succeeded", "properties": {"changes": changes}}


def terraform_new_account() -> dict[str, Any]:
    account = {
        "name": "aoai-bench",
        "resource_group_name": RG,
        "location": "swedencentral",
        "kind": "AIServices",
        "sku_name": "S0",
        "custom_subdomain_name": "aoai-bench",
        "public_network_access_enabled": False,
        "local_auth_enabled": False,
        "identity": [{"type": "SystemAssigned", "identity_ids": []}],
    }
    changes: list[dict[str, Any]] = [
        {
            "address": "azurerm_cognitive_account.main",
            "mode": "managed",
            "type": "azurerm_cognitive_account",
            "name": "main",
            "change": {"actions": ["create"], "before": None, "after": account, "after_unknown": {"id": True}},
        }
    ]
    for i in range(DEPLOYMENTS):
        model, version = MODELS[i % len(MODELS)]
        after = {
            "name": f"dep-{i:02d}",
            "cognitive_account_id": None,
            "model": [{"format": "OpenAI", "name": model, "version": version}],
            "sku": [{"name": "GlobalStandard", "capacity": 1}],
            "rai_policy_name": "Microsoft.DefaultV2",
        }
        changes.append(
            {
                "address": f'azurerm_cognitive_deployment.d["dep-{i:02d}"]',
                "mode": "managed",
                "type": "azurerm_cognitive_deployment",
                "name": "d",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": after,
                    "after_unknown": {"cognitive_account_id": True},
                },
            }
        )
    reference = {"references": ["azurerm_cognitive_account.main.id", "azurerm_cognitive_account.main"]}
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "resource_changes": changes,
        "configuration": {
            "root_module": {
                "resources": [
                    {"address": "azurerm_cognitive_deployment.d", "expressions": {"cognitive_account_id": reference}},
                ]
            }
        },
    }


def _measure(
    args: list[str], env: dict[str, str], slow: server.RunningEmulator, fast: server.RunningEmulator, repeat: int
) -> dict[str, Any]:
    walls, startups, requests = [], [], []
    for _ in range(repeat):
        startups.append(_subprocess_ms(args, {**env, **fast.env, "AOAI_ACCESS_TOKEN": TOKEN})[0])
        _control(slow, "DELETE", "/_emulator/requests")
        wall, code, out = _subprocess_ms(args, {**env, **slow.env, "AOAI_ACCESS_TOKEN": TOKEN})
        if code not in (0, 1):
            raise SystemExit(f"{' '.join(args[2:])} exited {code}")
        walls.append(wall)
        requests.append(_arm_requests(slow))
        assert json.loads(out)["run"]["arm_requests"] == requests[-1]
    wall, startup = statistics.median(walls), statistics.median(startups)
    return {
        "wall_ms": round(wall, 1),
        "startup_ms": round(startup, 1),
        "wall_minus_startup_ms": round(wall - startup, 1),
        "arm_requests": requests[0],
        "runs_ms": [round(w, 1) for w in walls],
    }


def _gather_ms(emu: server.RunningEmulator, read: Callable[[ArmReader], Any], repeat: int) -> dict[str, Any]:
    """The reads alone, in-process, on a reader whose token and SDK clients are ready."""
    settings = ArmSettings(endpoint=emu.url, credential="token", ca_bundle=str(emu.ca_path), subscription=SUB)
    walls, requests = [], 0
    for _ in range(repeat + 1):  # the first is a warm-up (imports, TLS)
        with ArmReader(settings, {}, credential=StaticTokenCredential(TOKEN)) as reader:
            reader.principal()
            reader._cognitive(SUB)
            reader._monitor(SUB)
            _control(emu, "DELETE", "/_emulator/requests")
            started = time.perf_counter()
            read(reader)
            walls.append((time.perf_counter() - started) * 1000)
            requests = _arm_requests(emu)
    wall = statistics.median(walls[1:])
    return {"wall_ms": round(wall, 1), "arm_requests": requests, "runs_ms": [round(w, 1) for w in walls[1:]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    latency = args.latency_ms

    with tempfile.TemporaryDirectory() as workdir:
        plans = Path(workdir)
        (plans / "whatif.json").write_text(json.dumps(whatif_existing_account()), encoding="utf-8")
        (plans / "tfplan.json").write_text(json.dumps(terraform_new_account()), encoding="utf-8")
        slow = server.start(scenario="default", access_token=TOKEN, latency_ms=latency, workdir=plans / "slow")
        fast = server.start(scenario="default", access_token=TOKEN, latency_ms=0, workdir=plans / "fast")
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME", "TMPDIR", "PYTHONPATH")}
        aoai = [sys.executable, "-m", "aoai", "preflight"]
        try:
            parts = parts_for(Selection.build(Policy()))
            gathers = {"run_baseline": _gather_ms(slow, lambda r: r.snapshot(TARGET, parts), args.repeat)}
            for key, name in (("existing_account", "whatif.json"), ("new_account", "tfplan.json")):
                options = PlanOptions(
                    plan_file=str(plans / name), subscription=SUB, arm_endpoint=slow.url, credential="token"
                )
                prepared = prepare_plan(options, {"AOAI_ACCESS_TOKEN": TOKEN}, plans)
                gathers[key] = _gather_ms(slow, lambda r, p=prepared: _gather(p, r), args.repeat)
            results = {
                "run_baseline": _measure(
                    [*aoai, "run", "-g", RG, "--account", "aoai-ready", "-o", "json"], env, slow, fast, args.repeat
                ),
                "existing_account": _measure(
                    [*aoai, "plan", str(plans / "whatif.json"), "-o", "json"], env, slow, fast, args.repeat
                ),
                "new_account": _measure(
                    [*aoai, "plan", str(plans / "tfplan.json"), "--subscription", SUB, "-o", "json"],
                    env,
                    slow,
                    fast,
                    args.repeat,
                ),
            }
        finally:
            slow.stop()
            fast.stop()

    for key, result in results.items():
        result["round_trips"] = round(result["wall_minus_startup_ms"] / latency, 2)
        result["gather"] = {**gathers[key], "round_trips": round(gathers[key]["wall_ms"] / latency, 2)}
    baseline = results["run_baseline"]["gather"]["wall_ms"]
    print(
        json.dumps(
            {
                "benchmark": f"aoai preflight plan, {DEPLOYMENTS} deployments, emulated ARM latency",
                "latency_ms": latency,
                "repeat": args.repeat,
                **results,
                "target": {
                    "rule": "plan gather <= preflight run's + half a latency (no more round trips)",
                    "existing_account_meets": results["existing_account"]["gather"]["wall_ms"]
                    <= baseline + latency / 2,
                    "new_account_meets": results["new_account"]["gather"]["wall_ms"] <= baseline + latency / 2,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
