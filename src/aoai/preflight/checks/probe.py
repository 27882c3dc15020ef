"""Live probe (AOAI7xx): the data plane answers under each required deployment name.

The probe itself (one tiny Responses API call per required deployment) runs in
``aoai.preflight.probe`` only with ``--probe``; its results are recorded in the snapshot's
``probe`` part, so this check stays a pure function and ``verify`` can re-evaluate it.
"""

from __future__ import annotations

from aoai.preflight.checks import check
from aoai.preflight.checks.common import LEARN, finding, need
from aoai.preflight.policy import Policy
from aoai.preflight.report import Area, Finding, Severity, Status
from aoai.preflight.snapshot import AccountSnapshot


@check(
    "AOAI701",
    title="Each required deployment answers a Responses API call",
    area=Area.PROBE,
    severity=Severity.HIGH,
    parts=("account",),
    what="With `--probe` only: sends one tiny Responses API request per required deployment (`store=false`, "
    "`max_output_tokens=16`) to the data plane and records status and latency.",
    why="ARM can say a deployment exists while the application still cannot reach it: private DNS, firewall "
    "rules, a missing role assignment, a key that was rotated. One real call proves the path end to end.",
    pass_fail="Pass: the call succeeded (latency shown). Warn: throttled (429). Fail: refused (401/403), not found "
    "(404) or rejected. Error: the network or service failed. Skip: `--probe` not given, or no required deployments.",
    remediation="Read the failure: 404 means the deployment name is wrong (see AOAI201); 401/403 means the "
    "identity lacks the 'Cognitive Services OpenAI User' role or key auth is disabled: `az role assignment create "
    '--assignee PRINCIPAL --role "Cognitive Services OpenAI User" --scope <resource-id>`; a timeout usually '
    "means DNS or network rules (private endpoint, firewall).",
    references=(
        f"{LEARN}/ai-foundry/openai/how-to/responses",
        f"{LEARN}/ai-foundry/openai/how-to/role-based-access-control",
    ),
)
def live_probe(snapshot: AccountSnapshot, policy: Policy) -> list[Finding]:
    if snapshot.part("probe") is None:
        return [finding("AOAI701", snapshot, Status.SKIP, "Live probe not requested (--probe)")]
    part = need(snapshot, "probe")
    results = part.data if isinstance(part.data, list) else []
    if not results:
        return [finding("AOAI701", snapshot, Status.SKIP, "No required deployments to probe")]
    findings = []
    for result in results:
        name = str(result.get("deployment"))
        status_code = result.get("status")
        latency = result.get("latency_ms")
        observed = {k: result.get(k) for k in ("status", "latency_ms", "code", "request_id", "response_status")}
        if result.get("ok"):
            status, text = Status.PASS, f"Deployment '{name}' answered in {latency:.0f} ms"
        elif status_code == 429:
            status, text = Status.WARN, f"Deployment '{name}' is throttled (429): {result.get('message')}"
        elif isinstance(status_code, int) and 400 <= status_code < 500:
            status, text = (
                Status.FAIL,
                f"Deployment '{name}' refused the call ({status_code} {result.get('code') or ''}): "
                f"{result.get('message')}",
            )
        else:
            status, text = Status.ERROR, f"Deployment '{name}' could not be probed: {result.get('message')}"
        findings.append(
            finding("AOAI701", snapshot, status, " ".join(text.split()), part="probe", resource=name, observed=observed)
        )
    return findings
