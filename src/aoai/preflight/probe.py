"""The live probe of ``--probe`` (AOAI701): one tiny Responses API call per required deployment.

Each call is ``POST /openai/v1/responses`` with ``store=false`` and ``max_output_tokens=16``
(nothing is kept, almost nothing is billed), through ``ResponsesClient`` with at most one retry.
The result — status, latency, error code, request or response id, never the answer text — is
recorded as the snapshot's ``probe`` part, so the AOAI701 check stays a pure function and
``aoai preflight verify`` re-evaluates it like any ARM part.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aoai.errors import AoaiError, ServiceError
from aoai.preflight.policy import Policy
from aoai.preflight.snapshot import AccountSnapshot, Part, PartError, PartName

PROBE_INPUT = "Reply with OK."
PROBE_OPERATION = "responses.create (probe)"


def probe_endpoint(snapshot: AccountSnapshot, endpoint: str | None) -> str | None:
    """The data-plane endpoint: an explicit one (``--endpoint`` / ``AZURE_OPENAI_ENDPOINT``),
    else the account's own endpoint from ARM."""
    if endpoint:
        return endpoint
    account = snapshot.account or {}
    properties = account.get("properties") or {}
    endpoints = properties.get("endpoints") or {}
    for key in ("OpenAI Language Model Instance API", "Responses"):
        if isinstance(endpoints.get(key), str):
            return str(endpoints[key])
    value = properties.get("endpoint")
    return str(value) if isinstance(value, str) and value else None


def _probe_one(client: Any, deployment: str) -> dict[str, Any]:
    started = time.perf_counter()
    body = {"model": deployment, "input": PROBE_INPUT, "store": False, "max_output_tokens": 16}
    result: dict[str, Any] = {"deployment": deployment}
    try:
        response = client.create(body)
    except ServiceError as exc:
        result.update(ok=False, status=exc.status, code=exc.code, message=exc.message, request_id=exc.request_id)
    except AoaiError as exc:
        result.update(ok=False, status=None, code=type(exc).__name__, message=exc.message, request_id=None)
    else:
        result.update(
            ok=True,
            status=200,
            code=None,
            message=None,
            request_id=response.get("id"),
            response_status=response.get("status"),
        )
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def run_probe(
    snapshot: AccountSnapshot,
    policy: Policy,
    env: Mapping[str, str],
    *,
    endpoint: str | None = None,
    ca_bundle: str | None = None,
    transport: Any = None,
) -> Part:
    """Probe every required deployment concurrently; the outcome as the ``probe`` part."""
    from aoai.auth import data_plane_auth
    from aoai.config import data_plane_settings
    from aoai.responses.client import ResponsesClient

    part = Part(name=str(PartName.PROBE), operation=PROBE_OPERATION, api_version="v1")
    base = probe_endpoint(snapshot, endpoint)
    if base is None:
        part.error = PartError(message="the account has no data-plane endpoint; pass --endpoint", code="NoEndpoint")
        return part
    try:
        settings = data_plane_settings(env, endpoint=base, auth=None, scope=None, ca_bundle_flag=ca_bundle)
        auth = data_plane_auth(settings, env)
    except AoaiError as exc:
        part.error = PartError(message=exc.one_line(), code=type(exc).__name__)
        return part
    part.scope = settings.base_url
    names = [d.name for d in policy.deployments]
    started = time.perf_counter()
    with ResponsesClient(
        settings.base_url, auth, max_retries=1, timeout=30.0, ca_bundle=settings.ca_bundle, transport=transport
    ) as client:
        if names:
            with ThreadPoolExecutor(max_workers=min(8, len(names)), thread_name_prefix="aoai-probe") as pool:
                part.data = list(pool.map(lambda name: _probe_one(client, name), names))
        else:
            part.data = []
    part.request_ids = [str(r["request_id"]) for r in part.data if r.get("request_id")]
    part.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return part
