"""ARM What-If results (``az deployment group|sub what-if --no-pretty-print``, or the body of the
Deployments What-If REST API) -> ``PlannedResource`` items.

Both envelopes are read: the REST one (``{"status", "properties": {"changes", …}, "error"}``) and
the CLI's flattened one (``changes``, ``potentialChanges``, ``diagnostics``, ``error``, ``status``
at the top). Bicep and ARM templates give the same result. What matters to the checks:

- ``changes[]`` and ``potentialChanges[]`` (the same item type; the latter are kept, flagged);
- ``changeType``: Create / Modify / Delete / NoChange as such; ``Deploy`` (ResourceIdOnly format:
  redeployed, properties not known), ``Unsupported`` and a missing ``after`` make the whole body
  unknown until apply; ``Ignore`` leaves the resource as ARM has it (noted: it can also mean
  what-if stopped expanding);
- ``after``: the predicted resource body. Strings that are still template expressions
  (``[reference(…)]``) and masked values (``*******``) are unknown until apply;
- diagnostic settings are extension resources: their parent is the id before the last
  ``/providers/``; private endpoints name their account in ``privateLinkServiceId``.
"""

from __future__ import annotations

import re
from typing import Any

from aoai.errors import UsageError
from aoai.preflight.plan.model import (
    ACCOUNT_TYPE,
    DEPLOYMENT_TYPE,
    DIAGNOSTIC_TYPE,
    OPENAI_KINDS,
    PRIVATE_ENDPOINT_TYPE,
    WHOLE_BODY,
    AccountRef,
    Action,
    Kind,
    Plan,
    PlannedResource,
    drop_path,
)

_ACTIONS = {
    "create": Action.CREATE,
    "modify": Action.UPDATE,
    "delete": Action.DELETE,
    "nochange": Action.NO_OP,
    "deploy": Action.UPDATE,
    "ignore": Action.IGNORE,
    "unsupported": Action.UNSUPPORTED,
}
_ACCOUNT_ID = re.compile(
    r"^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.CognitiveServices/accounts/[^/]+)", re.I
)
_MASK = re.compile(r"^\*{3,}$")


def is_envelope(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    inner = document.get("properties") if isinstance(document.get("properties"), dict) else document
    return isinstance(inner, dict) and ("changes" in inner or "potentialChanges" in inner)


def is_expression(value: str) -> bool:
    """An ARM template expression still unevaluated: ``[…]`` (``[[`` escapes a literal bracket)."""
    return value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def _unresolved_paths(value: Any, prefix: str = "") -> list[str]:
    """Paths of strings the deployment resolves only at apply time (expressions, masked values)."""
    if isinstance(value, str):
        return [prefix] if prefix and (is_expression(value) or _MASK.match(value)) else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _unresolved_paths(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(value, list):
        # A list with an unknown element is unknown as a whole (checks read lists whole).
        return [prefix] if prefix and any(_unresolved_paths(v, "x") for v in value) else []
    return []


def _type_of(change: dict[str, Any], resource_id: str) -> str:
    for body in (change.get("after"), change.get("before")):
        if isinstance(body, dict) and isinstance(body.get("type"), str):
            return str(body["type"])
    # ResourceIdOnly results carry no body: the type is in the id.
    if "/providers/microsoft.insights/diagnosticsettings/" in resource_id.lower():
        return DIAGNOSTIC_TYPE
    if re.search(r"/providers/Microsoft\.CognitiveServices/accounts/[^/]+/deployments/[^/]+/?$", resource_id, re.I):
        return DEPLOYMENT_TYPE
    if re.search(r"/providers/Microsoft\.CognitiveServices/accounts/[^/]+/?$", resource_id, re.I):
        return ACCOUNT_TYPE
    if re.search(r"/providers/Microsoft\.Network/privateEndpoints/[^/]+/?$", resource_id, re.I):
        return PRIVATE_ENDPOINT_TYPE
    return ""


def _account_of(resource_id: str) -> str | None:
    match = _ACCOUNT_ID.match(resource_id)
    return match.group(1) if match else None


def private_link_targets(body: dict[str, Any]) -> list[tuple[str, bool, list[str]]]:
    """(privateLinkServiceId, manual, groupIds) of a private endpoint body's connections."""
    found = []
    properties = body.get("properties")
    if not isinstance(properties, dict):
        return []
    for key, manual in (("privateLinkServiceConnections", False), ("manualPrivateLinkServiceConnections", True)):
        for connection in properties.get(key) or []:
            inner = connection.get("properties") if isinstance(connection, dict) else None
            if isinstance(inner, dict) and isinstance(inner.get("privateLinkServiceId"), str):
                groups = [str(g) for g in inner.get("groupIds") or []]
                found.append((str(inner["privateLinkServiceId"]), manual, groups))
    return found


def _change(change: dict[str, Any], potential: bool, notes: list[str]) -> list[PlannedResource]:
    resource_id = str(change.get("resourceId") or "")
    raw_type = str(change.get("changeType") or "")
    action = _ACTIONS.get(raw_type.lower())
    if action is None:
        raise UsageError(f"What-If change {resource_id or '?'} has an unknown changeType {raw_type!r}")
    rtype = _type_of(change, resource_id)
    after = change.get("after") if isinstance(change.get("after"), dict) else None
    before = change.get("before") if isinstance(change.get("before"), dict) else None
    if is_expression(resource_id):
        if rtype.lower() in {t.lower() for t in (ACCOUNT_TYPE, DEPLOYMENT_TYPE, DIAGNOSTIC_TYPE)}:
            notes.append(f"What-If could not resolve the id of a {rtype} ({resource_id[:80]}…): not checked")
        return []
    kind = {
        ACCOUNT_TYPE.lower(): Kind.ACCOUNT,
        DEPLOYMENT_TYPE.lower(): Kind.DEPLOYMENT,
        DIAGNOSTIC_TYPE.lower(): Kind.DIAGNOSTIC_SETTING,
        PRIVATE_ENDPOINT_TYPE.lower(): Kind.PRIVATE_ENDPOINT,
    }.get(rtype.lower())
    if kind is None:
        return []
    body = dict(after) if after is not None and action is not Action.DELETE else None
    unknown: list[str] = []
    if action in (Action.UNSUPPORTED,) or (action is Action.UPDATE and raw_type.lower() == "deploy"):
        body, unknown = None, [WHOLE_BODY]
    elif action.writes and body is None:
        unknown = [WHOLE_BODY]  # ResourceIdOnly: the body is not in the result
    if body is not None:
        unknown = _unresolved_paths(body)
        for path in unknown:
            drop_path(body, path)
    label = f"{rtype} {resource_id}"
    if action is Action.IGNORE:
        notes.append(
            f"What-If reports Ignore for {resource_id}: not analysed (outside the template, or beyond what-if's "
            "limits); checked as ARM has it now"
        )
    if action is Action.UNSUPPORTED:
        notes.append(f"What-If could not analyse {label}: {change.get('unsupportedReason') or 'no reason given'}")
    if potential:
        notes.append(f"What-If lists {resource_id} as a potential change (not certain); checked as planned")
    name = resource_id.rstrip("/").rsplit("/", 1)[-1]
    if kind is Kind.DIAGNOSTIC_SETTING:
        parent = resource_id[: resource_id.lower().rfind("/providers/microsoft.insights/")]
        if _account_of(parent) != parent:
            return []  # a setting on another resource (Key Vault, storage…)
        return [
            PlannedResource(
                kind, action, resource_id, rtype, AccountRef(parent), name, body, before, unknown, potential
            )
        ]
    if kind is Kind.PRIVATE_ENDPOINT:
        results = []
        for target, manual, groups in private_link_targets(after or before or {}):
            if _account_of(target) is None:
                continue
            pe_body = {"manual": manual, "groupIds": groups, "name": name, "id": resource_id}
            results.append(
                PlannedResource(
                    kind,
                    action,
                    resource_id,
                    rtype,
                    AccountRef(_account_of(target)),
                    name,
                    pe_body,
                    None,
                    unknown,
                    potential,
                )
            )
        return results
    account_id = _account_of(resource_id)
    if account_id is None:
        return []
    if kind is Kind.ACCOUNT:
        resolved_kind = (after or before or {}).get("kind")
        if isinstance(resolved_kind, str) and resolved_kind not in OPENAI_KINDS:
            return []  # Speech, Vision, … accounts: not Azure OpenAI
    return [
        PlannedResource(
            kind, action, resource_id, rtype, AccountRef(account_id), name, body, before, unknown, potential
        )
    ]


def parse(document: Any, *, source: str, sha256: str) -> Plan:
    """A What-If result -> Plan. UsageError (exit 2) when it is not one, or what-if itself failed."""
    if not is_envelope(document):
        raise UsageError(
            f"{source} is not an ARM What-If result: no `changes`",
            hint="produce it with `az deployment group what-if … --no-pretty-print > whatif.json`",
        )
    assert isinstance(document, dict)
    inner = document["properties"] if isinstance(document.get("properties"), dict) else document
    error = document.get("error") or inner.get("error")
    status = document.get("status") or inner.get("status")
    if isinstance(error, dict) and error:
        raise UsageError(
            f"{source}: the What-If operation failed ({error.get('code') or 'no code'}: "
            f"{' '.join(str(error.get('message') or '').split())[:300]})",
            hint="fix the template or parameters and run what-if again",
        )
    if isinstance(status, str) and status.lower() not in ("succeeded", ""):
        raise UsageError(f"{source}: the What-If operation ended {status}, not Succeeded", hint="run what-if again")
    plan = Plan(format="arm-whatif", source=source, sha256=sha256)
    for key, potential in (("changes", False), ("potentialChanges", True)):
        items = inner.get(key)
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(c, dict) for c in items):
            raise UsageError(f"{source}: `{key}` must be a list of change objects", hint="is the file complete?")
        for change in items:
            plan.resources.extend(_change(change, potential, plan.notes))
    for diagnostic in inner.get("diagnostics") or []:
        if isinstance(diagnostic, dict) and str(diagnostic.get("level", "")).lower() in ("warning", "error"):
            text = f"{diagnostic.get('code') or ''} {diagnostic.get('message') or ''}".strip()
            plan.notes.append(f"What-If {diagnostic.get('level')}: {text}")
    return plan
