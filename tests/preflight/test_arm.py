"""ArmReader against the emulator, in process: only the needed parts, concurrently, with request
ids; throttling retried after Retry-After; a refused part recorded, never raised; the account's
404 / 401 as NotFoundError / AuthError. Only 127.0.0.1 is contacted (StaticTokenCredential)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from aoai.auth import StaticTokenCredential
from aoai.config import ArmSettings
from aoai.emulator.server import RunningEmulator
from aoai.errors import AuthError, NotFoundError
from aoai.preflight.arm import ArmReader, arm_scope, token_claims
from aoai.preflight.snapshot import Target

from ..conftest import FAKE_TOKEN, control, inject_fault

SUB = "00000000-0000-0000-0000-000000000001"
READY = Target(SUB, "rg-aoai-demo", "aoai-ready")
ALL_PARTS = {"deployments", "location_models", "usages", "private_endpoint_connections", "diagnostic_settings"}


def _reader(emulator: RunningEmulator, token: str = FAKE_TOKEN) -> ArmReader:
    settings = ArmSettings(endpoint=emulator.url, credential="token", ca_bundle=str(emulator.ca_path), subscription=SUB)
    return ArmReader(settings, {}, credential=StaticTokenCredential(token))


def _arm_requests(emulator: RunningEmulator) -> list[dict[str, Any]]:
    items = control(emulator, "GET", "/_emulator/requests")["requests"]
    return [r for r in items if r["path"].startswith(("/subscriptions", "/providers"))]


@pytest.fixture
def fresh(emulator: RunningEmulator) -> RunningEmulator:
    control(emulator, "DELETE", "/_emulator/requests")
    return emulator


def test_full_snapshot(fresh: RunningEmulator) -> None:
    with _reader(fresh) as reader:
        snapshot = reader.snapshot(READY, ALL_PARTS)
        assert reader.request_count == 6
    assert set(snapshot.parts) == ALL_PARTS | {"account"}
    for part in snapshot.parts.values():
        assert part.ok, part.error
        assert part.request_ids and part.api_version
    assert snapshot.location == "swedencentral"
    assert {d["name"] for d in snapshot.parts["deployments"].data} == {"chat", "reasoner"}
    assert snapshot.parts["diagnostic_settings"].api_version == "2021-05-01-preview"
    assert snapshot.parts["usages"].scope.endswith("/locations/swedencentral")
    paths = sorted(r["path"] for r in _arm_requests(fresh))
    assert len(paths) == 6 and any(p.endswith("/locations/swedencentral/models") for p in paths)


def test_only_the_needed_parts_are_fetched(fresh: RunningEmulator) -> None:
    with _reader(fresh) as reader:
        snapshot = reader.snapshot(READY, {"diagnostic_settings"})
    assert set(snapshot.parts) == {"account", "diagnostic_settings"}
    assert len(_arm_requests(fresh)) == 2


def test_location_parts_are_fetched_once_per_location(fresh: RunningEmulator) -> None:
    with _reader(fresh) as reader:
        reader.snapshot(READY, {"location_models", "usages"})
        reader.snapshot(READY, {"location_models", "usages"})
    paths = [r["path"] for r in _arm_requests(fresh)]
    assert sum(p.endswith("/models") for p in paths) == 1
    assert sum(p.endswith("/usages") for p in paths) == 1
    assert sum(p.endswith("/aoai-ready") for p in paths) == 2


def test_throttling_is_retried_after_retry_after(fresh: RunningEmulator) -> None:
    inject_fault(fresh, route="arm.deployments.list", status=429, retry_after=1, count=1)
    started = time.monotonic()
    with _reader(fresh) as reader:
        snapshot = reader.snapshot(READY, {"deployments"})
        assert reader.request_count == 3  # account, 429, retry
    assert time.monotonic() - started >= 0.9
    assert snapshot.parts["deployments"].ok


def test_a_refused_part_is_recorded_with_its_request_id(fresh: RunningEmulator) -> None:
    inject_fault(fresh, route="arm.diagnostic_settings.list", status=403, code="AuthorizationFailed", count=1)
    with _reader(fresh) as reader:
        snapshot = reader.snapshot(READY, {"diagnostic_settings", "deployments"})
    part = snapshot.parts["diagnostic_settings"]
    assert part.error is not None and part.error.status == 403 and part.error.code == "AuthorizationFailed"
    assert part.error.request_id and part.source.request_id == part.error.request_id
    assert snapshot.parts["deployments"].ok


def test_server_errors_after_retries_become_part_errors(fresh: RunningEmulator) -> None:
    inject_fault(fresh, route="arm.usages.list", status=500, count=-1)
    settings = ArmSettings(endpoint=fresh.url, credential="token", ca_bundle=str(fresh.ca_path), subscription=SUB)
    with ArmReader(settings, {}, credential=StaticTokenCredential(FAKE_TOKEN), retry_total=1) as reader:
        snapshot = reader.snapshot(READY, {"usages"})
    assert snapshot.parts["usages"].error is not None and snapshot.parts["usages"].error.status == 500


def test_missing_account_is_not_found(fresh: RunningEmulator) -> None:
    with _reader(fresh) as reader, pytest.raises(NotFoundError, match="ResourceNotFound"):
        reader.snapshot(Target(SUB, "rg-aoai-demo", "nope"), ALL_PARTS)
    with _reader(fresh) as reader, pytest.raises(NotFoundError):
        reader.snapshot(Target("00000000-0000-0000-0000-00000000dead", "rg", "a"), set())


def test_rejected_token_is_an_auth_error(fresh: RunningEmulator) -> None:
    with _reader(fresh, token="not-the-token") as reader, pytest.raises(AuthError, match="401"):
        reader.snapshot(READY, set())


def test_forbidden_account_is_an_auth_error(fresh: RunningEmulator) -> None:
    inject_fault(fresh, route="arm.accounts.get", status=403, code="AuthorizationFailed", count=1)
    with _reader(fresh) as reader, pytest.raises(AuthError, match="403 AuthorizationFailed") as info:
        reader.snapshot(READY, set())
    assert info.value.hint and "Reader" in info.value.hint


def test_principal_from_token_claims() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"tid": "t", "oid": "o", "appid": "a"}).encode()).decode()
    assert token_claims(f"h.{payload.rstrip('=')}.s") == {"tid": "t", "oid": "o", "appid": "a"}
    assert token_claims("opaque") == {} and token_claims("a.!!!.c") == {}


def test_arm_scope() -> None:
    assert arm_scope("https://management.azure.com") == "https://management.azure.com/.default"
    assert arm_scope("https://management.chinacloudapi.cn") == "https://management.chinacloudapi.cn/.default"
    assert arm_scope("https://127.0.0.1:8443") == "https://127.0.0.1:8443/.default"
