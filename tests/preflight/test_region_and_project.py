"""403 on region data names the role and scope that would let the read succeed (issue 10, input 6);
a Foundry project's resource id checks its account and says so (input 7)."""

from __future__ import annotations

import json

import pytest

from aoai.errors import UsageError
from aoai.preflight.snapshot import Target
from tests.conftest import AoaiRunner, inject_fault

SUB = "00000000-0000-0000-0000-000000000001"
ACCOUNT_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-aoai-demo/providers/Microsoft.CognitiveServices/accounts/aoai-ready"
)


def _errors(result_stdout: str) -> dict[str, str]:
    return {f["check"]: f["message"] for f in json.loads(result_stdout)["findings"] if f["status"] == "error"}


@pytest.mark.parametrize(
    ("route", "check", "role"),
    [
        ("arm.location_models.list", "AOAI205", "Reader at subscription scope"),
        ("arm.usages.list", "AOAI303", "Reader, or Cognitive Services Usages Reader, at subscription scope"),
    ],
)
def test_403_on_region_data_names_role_and_scope(
    aoai: AoaiRunner, emulator: object, route: str, check: str, role: str
) -> None:
    inject_fault(emulator, route=route, status=403, code="AuthorizationFailed", count=1)  # type: ignore[arg-type]
    result = aoai("preflight", "run", "--resource-id", ACCOUNT_ID, "-o", "json")
    assert result.code == 4, result.output
    message = _errors(result.stdout)[check]
    assert f"{role} /subscriptions/{SUB} would let this read succeed" in message
    assert "403 AuthorizationFailed" in message and "request id" in message


def test_a_foundry_project_id_checks_its_account_and_says_so(aoai: AoaiRunner) -> None:
    result = aoai("preflight", "run", "--resource-id", f"{ACCOUNT_ID}/projects/support-bot", "-o", "json")
    assert result.code == 0, result.output
    document = json.loads(result.stdout)
    assert document["targets"][0]["account"] == "aoai-ready"
    assert any("Foundry project support-bot, which belongs to account aoai-ready" in n for n in document["notes"])


def test_project_ids_parse_to_their_account() -> None:
    target, project = Target.parse_with_project(f"{ACCOUNT_ID}/projects/p1/")
    assert (target.account, project) == ("aoai-ready", "p1")
    assert Target.parse(ACCOUNT_ID).account == "aoai-ready"
    with pytest.raises(UsageError):
        Target.parse(f"{ACCOUNT_ID}/projects/p1/connections/c")
