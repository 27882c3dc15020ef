"""The evidence document: schema-valid, digest over the canonical form, atomic write, and verify
(re-evaluation of the embedded snapshot) passing on the original and failing on any tampering."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aoai.auth import register_secret
from aoai.preflight import evidence
from aoai.preflight.arm import Principal
from aoai.preflight.engine import RunOutcome, Selection, build_report
from aoai.preflight.policy import Policy, Waiver
from aoai.preflight.snapshot import AccountSnapshot

from .snapshots import LEGACY_POLICY, READY_POLICY, legacy, ready

SECRET = "evidence-test-SECRET-token-9d1c"
DOCS_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "evidence.schema.json"


def _outcome(snapshot: AccountSnapshot, policy: Policy) -> RunOutcome:
    selection = Selection.build(policy)
    return RunOutcome(
        report=build_report([snapshot], policy, selection),
        snapshots=[snapshot],
        policy=policy,
        selection=selection,
        principal=Principal("token from AOAI_ACCESS_TOKEN", "token", "tenant-1", "object-1"),
        started_at="2026-11-21T21:18:44Z",
        finished_at="2026-11-21T21:18:45Z",
        elapsed_ms=812.5,
        arm_requests=6,
    )


@pytest.fixture
def legacy_doc() -> dict[str, Any]:
    policy = replace(LEGACY_POLICY, waivers=(Waiver("AOAI403", "egress via proxy", None, None),))
    return evidence.build(_outcome(legacy(), policy))


def test_document_shape(legacy_doc: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(json.loads(DOCS_SCHEMA.read_text())).validate(legacy_doc)
    assert list(legacy_doc)[:3] == ["schema_version", "tool", "generated_at"]
    assert legacy_doc["summary"]["verdict"] == "not-ready" and legacy_doc["summary"]["exit_code"] == 1
    assert legacy_doc["targets"][0]["location"] == "westeurope"
    assert legacy_doc["principal"]["object_id"] == "object-1"
    assert (
        legacy_doc["policy"]["sha256"]
        == replace(LEGACY_POLICY, waivers=(Waiver("AOAI403", "egress via proxy", None, None),)).sha256()
    )
    first = next(f for f in legacy_doc["findings"] if f["check"] == "AOAI401")
    assert first["source"]["operation"] == "Accounts_Get" and first["source"]["api_version"] == "2025-09-01"
    assert first["source"]["request_id"]
    assert {c["id"] for c in first["controls"]} >= {"037eea7a-bd0a-46c5-9a66-03aea78705d3", "Azure.AI.PublicAccess"}
    waived = next(f for f in legacy_doc["findings"] if f["check"] == "AOAI403")
    assert waived["status"] == "waived" and waived["waiver"]["reason"] == "egress via proxy"
    assert legacy_doc["catalog"]["sources"][0]["url"].startswith("https://learn.microsoft.com/")
    assert legacy_doc["snapshot"][0]["parts"]["deployments"]["data"][0]["name"] == "prod-chat"


def test_digest_is_over_the_canonical_form(legacy_doc: dict[str, Any]) -> None:
    assert legacy_doc["digest"] == {"algorithm": "sha256", "value": evidence.digest_of(legacy_doc)}
    reparsed = json.loads(evidence.dumps(legacy_doc))
    assert evidence.digest_of(reparsed) == legacy_doc["digest"]["value"]
    reordered = dict(reversed(list(reparsed.items())))
    assert evidence.digest_of(reordered) == legacy_doc["digest"]["value"]


def test_verify_passes_on_the_original(legacy_doc: dict[str, Any]) -> None:
    result = evidence.verify(json.loads(evidence.dumps(legacy_doc)))
    assert result.ok, result.problems
    assert result.verdict == result.recomputed_verdict == "not-ready"
    ready_doc = evidence.build(_outcome(ready(), READY_POLICY))
    assert evidence.verify(ready_doc).ok


def _tampered(doc: dict[str, Any], edit: Any, *, reseal: bool) -> dict[str, Any]:
    copied = copy.deepcopy(doc)
    edit(copied)
    if reseal:
        copied["digest"]["value"] = evidence.digest_of(copied)
    return copied


def _set_status(doc: dict[str, Any], check: str, status: str) -> None:
    for finding in doc["findings"]:
        if finding["check"] == check:
            finding["status"] = status


def _open_network(doc: dict[str, Any]) -> None:
    doc["snapshot"][0]["parts"]["account"]["data"]["properties"]["publicNetworkAccess"] = "Disabled"


@pytest.mark.parametrize("reseal", [False, True])
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: _set_status(d, "AOAI401", "pass"), "AOAI401"),
        (_open_network, "AOAI401"),
        (lambda d: d["summary"].update(verdict="ready"), "verdict"),
        (lambda d: d["policy"]["resolved"].update(min_quota_headroom=1), "policy sha256"),
        (lambda d: d["findings"].pop(), "AOAI701"),
    ],
)
def test_verify_fails_on_tampering(legacy_doc: dict[str, Any], edit: Any, expected: str, reseal: bool) -> None:
    result = evidence.verify(_tampered(legacy_doc, edit, reseal=reseal))
    assert not result.ok
    assert any(expected in problem for problem in result.problems), result.problems
    assert any("digest mismatch" in p for p in result.problems) is not reseal


def test_resealed_edit_of_snapshot_and_findings_together_still_fails_on_policy(legacy_doc: dict[str, Any]) -> None:
    # Changing the policy and its hash consistently is detectable only through the re-evaluation.
    def edit(doc: dict[str, Any]) -> None:
        doc["policy"]["resolved"]["min_quota_headroom"] = 1
        doc["policy"]["sha256"] = Policy.from_dict(doc["policy"]["resolved"], LEGACY_POLICY.catalog).sha256()

    result = evidence.verify(_tampered(legacy_doc, edit, reseal=True))
    assert not result.ok and any("AOAI303" in p for p in result.problems)


def test_verify_rejects_a_schema_violation(legacy_doc: dict[str, Any]) -> None:
    broken = copy.deepcopy(legacy_doc)
    del broken["digest"]
    result = evidence.verify(broken)
    assert not result.ok and result.problems[0].startswith("schema:")


def test_no_secret_in_the_document() -> None:
    register_secret(SECRET)
    snapshot = legacy()
    snapshot.parts["account"].data["tags"]["leak"] = f"Bearer {SECRET}"
    text = evidence.dumps(evidence.build(_outcome(snapshot, LEGACY_POLICY)))
    assert SECRET not in text


def test_write_atomic(tmp_path: Path, legacy_doc: dict[str, Any]) -> None:
    target = tmp_path / "evidence.json"
    target.write_text("old", encoding="utf-8")
    evidence.write_atomic(target, evidence.dumps(legacy_doc))
    assert json.loads(target.read_text(encoding="utf-8")) == legacy_doc
    assert [p.name for p in tmp_path.iterdir()] == ["evidence.json"]  # no temporary file left behind
