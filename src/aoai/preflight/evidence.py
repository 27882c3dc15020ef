"""The JSON evidence document: what was checked, by whom, against which policy, with what result,
and the (redacted) ARM data it was decided on — sealed with a sha256 digest.

Invariants:
- ``-o json`` prints exactly this document; ``--evidence FILE`` writes it atomically (a reader
  never sees half a file).
- The digest is sha256 over the canonical JSON (sorted keys, no insignificant whitespace, UTF-8)
  of the document without its ``digest`` member.
- ``verify`` checks the schema and the digest, then re-evaluates the embedded snapshots with the
  embedded policy, selection and catalog, and confirms every finding's status and the verdict.
  Checks evaluate "now" as the snapshot's time, so the same document verifies the same way later.
- No secret is in it: the principal comes from token claims (tenant, object id), and every
  string of the snapshot passes through ``auth.redact``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aoai import __version__
from aoai.preflight.checks import CHECK_RULES, all_checks
from aoai.preflight.engine import RunOutcome, Selection, build_report
from aoai.preflight.report import Area, Severity, Status, Verdict
from aoai.preflight.snapshot import AccountSnapshot, format_time, redact_data, utc_now

if TYPE_CHECKING:
    from aoai.preflight.policy import Policy

SCHEMA_VERSION = "1.0"
DIGEST_ALGORITHM = "sha256"
SCHEMA_ID = "https://aoai.invalid/schemas/preflight-evidence-1.0.json"

_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}
_SHA256: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{64}$"}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "aoai preflight evidence",
    "description": "Result of `aoai preflight` for one or more Azure OpenAI accounts, with the redacted ARM "
    "snapshot it was decided on and a sha256 digest of the canonical document. Generated from "
    "aoai.preflight.evidence.SCHEMA; do not edit by hand.",
    "type": "object",
    "required": [
        "schema_version",
        "tool",
        "generated_at",
        "run",
        "principal",
        "targets",
        "policy",
        "selection",
        "catalog",
        "findings",
        "summary",
        "notes",
        "snapshot",
        "digest",
    ],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "kind": {
            "description": "What was checked: absent or `run` for accounts as ARM has them, `plan` for the end state "
            "of a planned change (`aoai preflight plan`).",
            "enum": ["run", "plan"],
        },
        "plan": {
            "description": "For `kind: plan`: the plan file and which of its resources were evaluated.",
            "type": "object",
            "required": ["file", "sha256", "format", "offline", "resources"],
            "properties": {
                "file": {"type": "string"},
                "sha256": {**_SHA256, "description": "sha256 of the plan file's bytes"},
                "format": {"enum": ["arm-whatif", "terraform"]},
                "format_version": _NULLABLE_STRING,
                "tool_version": _NULLABLE_STRING,
                "offline": {"type": "boolean"},
                "resources": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind", "action", "address", "type", "account"],
                        "properties": {
                            "kind": {"type": "string"},
                            "action": {"type": "string"},
                            "address": {"type": "string"},
                            "type": {"type": "string"},
                            "name": _NULLABLE_STRING,
                            "account": {"type": "string"},
                            "unknown": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "additionalProperties": False,
            "properties": {
                "name": {"const": "aoai"},
                "version": {"type": "string"},
                "rules": {
                    "description": "Revision of the checks' logic the findings were decided under (absent: 1).",
                    "type": "integer",
                    "minimum": 1,
                },
            },
        },
        "generated_at": {"type": "string", "format": "date-time"},
        "run": {
            "type": "object",
            "required": ["started_at", "finished_at", "elapsed_ms", "arm_requests", "arm_endpoint"],
            "additionalProperties": False,
            "properties": {
                "started_at": {"type": "string", "format": "date-time"},
                "finished_at": {"type": "string", "format": "date-time"},
                "elapsed_ms": {"type": "number", "minimum": 0},
                "arm_requests": {"type": "integer", "minimum": 0},
                "arm_endpoint": {"type": "string"},
            },
        },
        "principal": {
            "description": "Who ran the checks, from the token's claims; never the token.",
            "type": ["object", "null"],
            "required": ["auth_method", "credential", "tenant_id", "object_id"],
            "additionalProperties": False,
            "properties": {
                "auth_method": {"type": "string"},
                "credential": {"type": "string"},
                "tenant_id": _NULLABLE_STRING,
                "object_id": _NULLABLE_STRING,
                "app_id": _NULLABLE_STRING,
                "identity_type": _NULLABLE_STRING,
            },
        },
        "targets": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["resource_id", "subscription_id", "resource_group", "account", "location", "verdict"],
                "additionalProperties": False,
                "properties": {
                    "resource_id": {"type": "string"},
                    "subscription_id": {"type": "string"},
                    "resource_group": {"type": "string"},
                    "account": {"type": "string"},
                    "location": _NULLABLE_STRING,
                    "verdict": {"enum": [v.value for v in Verdict]},
                },
            },
        },
        "policy": {
            "type": "object",
            "required": ["sha256", "resolved"],
            "additionalProperties": False,
            "properties": {
                "sha256": {**_SHA256, "description": "sha256 of the canonical JSON of `resolved`"},
                "file": {
                    "description": "The policy file that was applied (absent: no file, defaults and flags only).",
                    "type": "object",
                    "required": ["path", "sha256"],
                    "additionalProperties": False,
                    "properties": {
                        "path": {"type": "string"},
                        "sha256": {**_SHA256, "description": "sha256 of the file's bytes as read"},
                    },
                },
                "resolved": {
                    "type": "object",
                    "required": [
                        "source",
                        "deployments",
                        "retirement_days",
                        "min_quota_headroom",
                        "fail_on",
                        "only",
                        "skip",
                        "require_cmk",
                        "waivers",
                        "catalog_overrides",
                    ],
                    "properties": {
                        "source": _NULLABLE_STRING,
                        "deployments": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "model": _NULLABLE_STRING,
                                    "version": _NULLABLE_STRING,
                                    "sku": _NULLABLE_STRING,
                                    "min_capacity": {"type": ["integer", "null"]},
                                },
                            },
                        },
                        "retirement_days": {"type": "integer", "minimum": 0},
                        "min_quota_headroom": {"type": "number", "minimum": 0, "maximum": 100},
                        "fail_on": {"enum": ["fail", "warn"]},
                        "only": {"type": "array", "items": {"type": "string"}},
                        "skip": {"type": "array", "items": {"type": "string"}},
                        "require_cmk": {"type": "boolean"},
                        "waivers": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["check", "reason"],
                                "properties": {
                                    "check": {"type": "string", "pattern": "^AOAI[0-9]{3}$"},
                                    "deployment": _NULLABLE_STRING,
                                    "reason": {"type": "string"},
                                    "expires": {"type": ["string", "null"], "format": "date"},
                                },
                            },
                        },
                        "catalog_overrides": {"type": "object"},
                    },
                },
            },
        },
        "selection": {
            "type": "object",
            "required": ["selected", "universe", "probe", "why_deselected"],
            "properties": {
                "selected": {"type": "array", "items": {"type": "string"}},
                "universe": {"type": "array", "items": {"type": "string"}},
                "probe": {"type": "boolean"},
                "why_deselected": {"type": "string"},
            },
        },
        "catalog": {
            "description": "The Responses catalog the run used (built-in data plus policy overrides).",
            "type": "object",
            "required": ["sources", "overrides", "regions", "models"],
            "properties": {
                "sources": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind", "version", "title", "url", "read_on"],
                        "properties": {
                            "kind": {"type": "string"},
                            "version": {"type": "string"},
                            "title": {"type": "string"},
                            "url": {"type": "string"},
                            "read_on": {"type": "string", "format": "date"},
                        },
                    },
                },
                "overrides": {"type": "object"},
                "regions": {"type": "array", "items": {"type": "string"}},
                "models": {"type": "array", "items": {"type": "string"}},
            },
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "check",
                    "title",
                    "area",
                    "status",
                    "severity",
                    "target",
                    "resource",
                    "message",
                    "observed",
                    "expected",
                    "remediation",
                    "controls",
                    "source",
                    "waiver",
                ],
                "additionalProperties": False,
                "properties": {
                    "check": {"type": "string", "pattern": "^AOAI[0-9]{3}$"},
                    "title": {"type": "string"},
                    "area": {"enum": [a.value for a in Area]},
                    "status": {"enum": [s.value for s in Status]},
                    "severity": {"enum": [s.value for s in Severity]},
                    "target": {"type": "string"},
                    "resource": _NULLABLE_STRING,
                    "message": {"type": "string"},
                    "observed": {},
                    "expected": {},
                    "remediation": _NULLABLE_STRING,
                    "controls": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["kind", "id"],
                            "properties": {
                                "kind": {"enum": ["azure-policy", "psrule"]},
                                "id": {"type": "string"},
                                "name": _NULLABLE_STRING,
                            },
                        },
                    },
                    "source": {
                        "description": "The ARM operation, api-version and x-ms-request-id the observation came from.",
                        "type": ["object", "null"],
                        "required": ["operation", "api_version", "request_id"],
                        "properties": {
                            "operation": {"type": "string"},
                            "api_version": _NULLABLE_STRING,
                            "request_id": _NULLABLE_STRING,
                        },
                    },
                    "waiver": {"type": ["object", "null"]},
                },
            },
        },
        "summary": {
            "type": "object",
            "required": ["counts", "verdict", "fail_on", "exit_code", "by_target"],
            "additionalProperties": False,
            "properties": {
                "counts": {
                    "type": "object",
                    "required": [s.value for s in Status],
                    "additionalProperties": {"type": "integer", "minimum": 0},
                },
                "verdict": {"enum": [v.value for v in Verdict]},
                "fail_on": {"enum": ["fail", "warn"]},
                "exit_code": {"type": "integer"},
                "by_target": {"type": "object", "additionalProperties": {"enum": [v.value for v in Verdict]}},
                "partial": {
                    "description": "True when checks that need ARM were skipped (`aoai preflight plan --offline`).",
                    "type": "boolean",
                },
            },
        },
        "notes": {"type": "array", "items": {"type": "string"}},
        "snapshot": {
            "description": "What ARM said, per account and part (redacted), with operation, api-version and "
            "request ids.",
            "type": "array",
            "items": {
                "type": "object",
                "required": ["target", "taken_at", "arm_endpoint", "parts"],
                "properties": {
                    "target": {"type": "object"},
                    "taken_at": {"type": "string", "format": "date-time"},
                    "arm_endpoint": {"type": "string"},
                    "parts": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "required": ["name", "operation", "api_version", "request_ids", "data", "error"],
                            "properties": {
                                "name": {"type": "string"},
                                "operation": {"type": "string"},
                                "api_version": _NULLABLE_STRING,
                                "request_ids": {"type": "array", "items": {"type": "string"}},
                                "data": {},
                                "error": {
                                    "type": ["object", "null"],
                                    "required": ["message", "status", "code", "request_id"],
                                },
                            },
                        },
                    },
                },
            },
        },
        "digest": {
            "type": "object",
            "required": ["algorithm", "value"],
            "additionalProperties": False,
            "properties": {"algorithm": {"const": DIGEST_ALGORITHM}, "value": _SHA256},
        },
    },
}


def schema_text() -> str:
    """docs/evidence.schema.json, exactly (a test keeps the file current)."""
    return json.dumps(SCHEMA, indent=2, ensure_ascii=False) + "\n"


def canonical(document: dict[str, Any]) -> bytes:
    """Canonical JSON of the document without its digest: sorted keys, compact, UTF-8."""
    body = {key: value for key, value in document.items() if key != "digest"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def digest_of(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def _finding_dict(finding: Any, checks: dict[str, Any]) -> dict[str, Any]:
    info = checks.get(finding.check)
    data = redact_data(finding.to_dict())
    data["title"] = info.title if info else finding.check
    data["area"] = info.area.value if info else None
    data["controls"] = [{"kind": c.kind, "id": c.id, "name": c.name} for c in info.controls] if info else []
    return dict(data)


def build(outcome: RunOutcome) -> dict[str, Any]:
    """The evidence document of a run, digest included."""
    checks = all_checks()
    report = outcome.report
    by_target = report.verdict_by_target()
    snapshots = {s.resource_id: s for s in outcome.snapshots}
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        **({"kind": outcome.extra["kind"]} if "kind" in outcome.extra else {}),
        **({"plan": outcome.extra["plan"]} if "plan" in outcome.extra else {}),
        "tool": {"name": "aoai", "version": __version__, "rules": CHECK_RULES},
        "generated_at": format_time(utc_now()),
        "run": {
            "started_at": outcome.started_at,
            "finished_at": outcome.finished_at,
            "elapsed_ms": outcome.elapsed_ms,
            "arm_requests": outcome.arm_requests,
            "arm_endpoint": outcome.snapshots[0].arm_endpoint if outcome.snapshots else "",
        },
        "principal": outcome.principal.to_dict() if outcome.principal else None,
        "targets": [
            {
                **snapshots[target].target.to_dict(),
                "location": snapshots[target].location,
                "verdict": by_target[target].value,
            }
            for target in report.targets
        ],
        "policy": _policy_section(outcome.policy),
        "selection": outcome.selection.to_dict(),
        "catalog": outcome.policy.catalog.to_dict(),
        "findings": [_finding_dict(f, checks) for f in report.findings],
        "summary": {
            "counts": report.counts(),
            "verdict": report.verdict.value,
            "fail_on": report.fail_on.value,
            "exit_code": int(report.exit_code),
            "by_target": {target: verdict.value for target, verdict in by_target.items()},
            **({"partial": bool(outcome.extra["partial"])} if "partial" in outcome.extra else {}),
        },
        "notes": list(report.notes),
        "snapshot": [redact_data(s.to_dict()) for s in outcome.snapshots],
    }
    document["digest"] = {"algorithm": DIGEST_ALGORITHM, "value": digest_of(document)}
    return document


def _policy_section(policy: Policy) -> dict[str, Any]:
    section: dict[str, Any] = {"sha256": policy.sha256()}
    if policy.source and policy.source_sha256:
        section["file"] = {"path": os.path.realpath(policy.source), "sha256": policy.source_sha256}
    section["resolved"] = policy.to_dict()
    return section


def dumps(document: dict[str, Any]) -> str:
    """The document as written and printed (indented; the digest does not depend on layout)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    from aoai.atomicfile import write_file

    write_file(path, text, what="evidence")


@dataclass
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    verdict: str | None = None
    recomputed_verdict: str | None = None
    findings: int = 0
    notes: list[str] = field(default_factory=list)  # what changed under newer check rules (not problems)


def schema_errors(document: Any) -> list[str]:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    validator = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(document)'}: {e.message}" for e in errors[:20]]


def verify(document: Any) -> Verification:
    """Schema, digest, policy hash, then re-evaluation of the snapshots (offline)."""
    from aoai.preflight.catalog import Catalog
    from aoai.preflight.policy import Policy

    problems = schema_errors(document)
    if problems:
        return Verification(False, [f"schema: {p}" for p in problems])
    recorded = document["digest"]["value"]
    actual = digest_of(document)
    if recorded != actual:
        problems.append(f"digest mismatch: recorded {recorded}, computed {actual} (the document was changed)")
    try:
        catalog = Catalog.from_dict(document["catalog"])
        policy = Policy.from_dict(document["policy"]["resolved"], catalog)
        selection = Selection.from_dict(document["selection"])
        snapshots = [AccountSnapshot.from_dict(s) for s in document["snapshot"]]
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"cannot rebuild the run from the document: {type(exc).__name__}: {exc}")
        return Verification(False, problems, document["summary"]["verdict"])
    if policy.sha256() != document["policy"]["sha256"]:
        problems.append("policy sha256 does not match the resolved policy")
    unknown = sorted(selection.universe - set(all_checks()))
    if unknown:
        problems.append(f"checks unknown to aoai {__version__}: {', '.join(unknown)}")
        return Verification(False, problems, document["summary"]["verdict"])
    report = build_report(snapshots, policy, selection)
    # A document written under older check rules is verified by its digest (it is intact as written);
    # what today's rules decide differently is reported as notes, not as tampering.
    rules = document["tool"].get("rules", 1)
    older = rules < CHECK_RULES
    differences: list[str] = []
    recorded_findings = Counter((f["check"], f["target"], f["resource"], f["status"]) for f in document["findings"])
    recomputed = Counter((f.check, f.target, f.resource, f.status.value) for f in report.findings)
    for key in sorted(set(recorded_findings) | set(recomputed), key=lambda k: tuple(str(x) for x in k)):
        if recorded_findings[key] != recomputed[key]:
            check, target, resource, status = key
            where = f"{check} on {target.rsplit('/', 1)[-1]}" + (f" ({resource})" if resource else "")
            differences.append(
                f"{where}: status {status} recorded {recorded_findings[key]}x, re-evaluated {recomputed[key]}x"
            )
    if report.verdict.value != document["summary"]["verdict"]:
        differences.append(
            f"verdict mismatch: recorded {document['summary']['verdict']}, re-evaluated {report.verdict.value}"
        )
    listed = Counter(str(f["status"]) for f in document["findings"])
    if {status: listed.get(status, 0) for status in document["summary"]["counts"]} != document["summary"]["counts"]:
        problems.append("summary counts do not match the document's findings")
    elif report.counts() != document["summary"]["counts"]:
        differences.append("summary counts do not match the re-evaluated findings")
    notes: list[str] = []
    if older and differences:
        notes.append(
            f"written under check rules {rules}; today's rules ({CHECK_RULES}) decide differently "
            "(the document is verified as written):"
        )
        notes.extend(differences)
    else:
        problems.extend(differences)
    return Verification(
        ok=not problems,
        problems=problems,
        verdict=document["summary"]["verdict"],
        recomputed_verdict=report.verdict.value,
        findings=len(document["findings"]),
        notes=notes,
    )
