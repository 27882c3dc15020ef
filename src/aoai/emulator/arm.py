"""The ARM subset the preflight, capacity and fleet commands read, served from a scenario.

Shapes follow the official examples of the Azure REST API specs (Microsoft.CognitiveServices,
Microsoft.Insights 2021-05-01-preview) plus the properties the swagger defines and the checks
read; docs/emulator.md lists every route, its fault name and every deliberate difference.

What a client sees, as with ARM:

- ``Authorization: Bearer <token>`` is required (401 ``AuthenticationFailed`` /
  ``InvalidAuthenticationToken``), then ``api-version`` (400 ``MissingApiVersionParameter``).
- Errors use ARM's envelope ``{"error": {"code", "message"}}`` and its codes and statuses:
  ``SubscriptionNotFound``, ``ResourceGroupNotFound``, ``ResourceNotFound``,
  ``DeploymentNotFound`` (404), ``AuthorizationFailed`` (403, where the scenario forbids a part).
- Every response carries ``x-ms-request-id``, ``x-ms-correlation-request-id`` (the client's, when
  it sent one) and ``x-ms-ratelimit-remaining-subscription-reads`` (``…-tenant-reads`` for tenant
  routes): a token bucket per subscription (250, refilled at 25/s by default), 429
  ``SubscriptionRequestsThrottled`` with ``Retry-After`` when empty — never a silent zero.
- Lists are ``{"value": [...]}``; accounts and deployments page with ``nextLink`` (``$skipToken``).
- Resource Graph (``POST /providers/Microsoft.ResourceGraph/resources``) interprets a useful
  subset of KQL (``where``, ``order by``, ``limit``/``take``/``top``; ``arm_kql``); ``project`` and ``extend``
  are accepted and ignored (whole resource rows come back). Pages with ``$top``/``$skip``/``$skipToken``.

Fault injection (``aoai.emulator.faults``) runs first in every route, under the route's name
(``arm.accounts.get``, ``graph.resources``…).

The pieces live next door, one concern each: ``arm_payloads`` (scenario -> ARM JSON),
``arm_errors`` (error envelopes), ``arm_throttle`` (token buckets, Graph quota), ``arm_kql``
(the KQL subset). This module is the routes and the pipeline every request goes through.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aoai.emulator.arm_errors import CLIENT_OBJECT_ID, REQUIRED_ACTIONS, ArmError, forbidden, graph_bad_request
from aoai.emulator.arm_kql import KqlError, Row, parse_kql
from aoai.emulator.arm_payloads import (
    ACCOUNT_DIAGNOSTIC_CATEGORIES,
    account_json,
    account_model_json,
    deployment_json,
    diagnostic_category_json,
    diagnostic_setting_json,
    graph_account_row,
    graph_container_rows,
    graph_table_format,
    iso,
    location_model_json,
    model_capacity_json,
    private_endpoint_connection_json,
    rai_policies_json,
    subscription_json,
    usage_json,
)
from aoai.emulator.arm_throttle import GraphQuota, TokenBuckets, hms
from aoai.emulator.faults import http_fault_response
from aoai.emulator.scenario import ACCOUNT_TYPE, Account, Scenario, Subscription, Usage, usage_name

if TYPE_CHECKING:
    from aoai.emulator.server import EmulatorState

# --- api-versions ------------------------------------------------------------------------------

_API_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview|-privatepreview|-alpha|-beta)?$")
INSIGHTS_API_VERSIONS = ("2017-05-01-preview", "2021-05-01-preview")
GRAPH_API_VERSIONS = (
    "2019-04-01",
    "2020-04-01-preview",
    "2021-03-01",
    "2021-06-01-preview",
    "2022-10-01",
    "2024-04-01",
)
COGNITIVE_MIN_API_VERSION = "2017-04-18"
RESOURCES_MIN_API_VERSION = "2014-04-01"

# --- paging -------------------------------------------------------------------------------------


def _encode_token(offset: int, size: int) -> str:
    raw = json.dumps({"o": offset, "s": size}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, size = data["o"], data["s"]
        if isinstance(offset, int) and isinstance(size, int) and offset >= 0 and size > 0:
            return offset, size
    except (ValueError, KeyError, TypeError):
        pass
    raise ArmError(400, "InvalidSkipToken", f"The skip token '{token[:40]}' is invalid.")


# --- routing ------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    request: Request
    params: dict[str, str]
    api_version: str
    body: Any = None


Handler = Callable[[_Ctx], Response]

_SEG = r"(?P<{}>[^/]+)"
_SUB = "/subscriptions/" + _SEG.format("sub")
_RG = _SUB + "/resourcegroups/" + _SEG.format("rg")
_CS = "/providers/microsoft.cognitiveservices"
_ACC = _RG + _CS + "/accounts/" + _SEG.format("account")
_LOC = _SUB + _CS + "/locations/" + _SEG.format("location")
_INSIGHTS = _ACC + "/providers/microsoft.insights"


@dataclass
class _Spec:
    name: str
    pattern: re.Pattern[str]
    namespace: str  # cognitive | insights | graph | resources
    method: str
    handler: Handler


class ArmApi:
    """The ARM routes over one ``EmulatorState`` (its scenario, faults, token and throttling)."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        limits = state.scenario.limits
        self.reads = TokenBuckets(limits.subscription_reads, limits.subscription_reads_per_second)
        self.graph_quota = GraphQuota(limits.graph_queries, limits.graph_window_seconds)
        table: list[tuple[str, str, str, str, Handler]] = [
            ("arm.subscriptions.list", "/subscriptions", "resources", "GET", self.subscriptions_list),
            ("arm.subscriptions.get", _SUB, "resources", "GET", self.subscriptions_get),
            ("arm.accounts.list", _SUB + _CS + "/accounts", "cognitive", "GET", self.accounts_list),
            ("arm.accounts.list_by_resource_group", _RG + _CS + "/accounts", "cognitive", "GET", self.accounts_list),
            ("arm.accounts.get", _ACC, "cognitive", "GET", self.accounts_get),
            ("arm.deployments.list", _ACC + "/deployments", "cognitive", "GET", self.deployments_list),
            (
                "arm.deployments.get",
                _ACC + "/deployments/" + _SEG.format("deployment"),
                "cognitive",
                "GET",
                self.deployments_get,
            ),
            ("arm.models.list", _ACC + "/models", "cognitive", "GET", self.account_models_list),
            ("arm.rai_policies.list", _ACC + "/raipolicies", "cognitive", "GET", self.rai_policies_list),
            ("arm.account_usages.list", _ACC + "/usages", "cognitive", "GET", self.account_usages_list),
            ("arm.skus.list", _ACC + "/skus", "cognitive", "GET", self.skus_list),
            (
                "arm.private_endpoint_connections.list",
                _ACC + "/privateendpointconnections",
                "cognitive",
                "GET",
                self.pec_list,
            ),
            (
                "arm.private_endpoint_connections.get",
                _ACC + "/privateendpointconnections/" + _SEG.format("pec"),
                "cognitive",
                "GET",
                self.pec_get,
            ),
            (
                "arm.diagnostic_settings.list",
                _INSIGHTS + "/diagnosticsettings",
                "insights",
                "GET",
                self.diagnostic_settings_list,
            ),
            (
                "arm.diagnostic_settings.get",
                _INSIGHTS + "/diagnosticsettings/" + _SEG.format("setting"),
                "insights",
                "GET",
                self.diagnostic_settings_get,
            ),
            (
                "arm.diagnostic_categories.list",
                _INSIGHTS + "/diagnosticsettingscategories",
                "insights",
                "GET",
                self.diagnostic_categories_list,
            ),
            ("arm.location_models.list", _LOC + "/models", "cognitive", "GET", self.location_models_list),
            ("arm.usages.list", _LOC + "/usages", "cognitive", "GET", self.location_usages_list),
            ("arm.model_capacities.list", _SUB + _CS + "/modelcapacities", "cognitive", "GET", self.capacities_list),
            (
                "arm.location_model_capacities.list",
                _LOC + "/modelcapacities",
                "cognitive",
                "GET",
                self.capacities_list,
            ),
            ("graph.resources", "/providers/microsoft.resourcegraph/resources", "graph", "POST", self.graph_resources),
        ]
        self.specs = [_Spec(n, re.compile(p, re.I), ns, m, h) for n, p, ns, m, h in table]

    def routes(self) -> list[BaseRoute]:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return [
            Route("/subscriptions{rest:path}", self.dispatch, methods=methods),
            Route("/providers{rest:path}", self.dispatch, methods=methods),
        ]

    # --- the pipeline every request goes through ------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        path = re.sub("/{2,}", "/", request.url.path).rstrip("/") or "/"
        spec = match = None
        for candidate in self.specs:
            if (m := candidate.pattern.fullmatch(path)) is not None:
                spec, match = candidate, m
                break
        throttle_key = "tenant"
        if (sub_match := re.match(r"/subscriptions/([^/]+)", path, re.I)) is not None:
            throttle_key = sub_match.group(1).lower()
        if spec is None or match is None:
            response = self._unknown_route(request, path)
            return self._finish(request, response, throttle_key)
        hits = self.state.faults.take(spec.name)
        if (fault := await http_fault_response(hits, spec.name)) is not None:
            return self._finish(request, fault, throttle_key)
        extra_headers: dict[str, str] = {}
        try:
            if request.method != spec.method and not (request.method == "HEAD" and spec.method == "GET"):
                raise ArmError(
                    405,
                    "MethodNotAllowed",
                    f"The aoai emulator serves a read-only subset of ARM; {request.method} {path} is not supported.",
                )
            self._authenticate(request)
            version = self._api_version(request, spec.namespace, path)
            body: Any = None
            if spec.namespace == "graph":
                extra_headers = self._graph_throttle()
                raw = await request.body()
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    raise graph_bad_request("The request content is not valid JSON.") from None
            else:
                self._throttle(throttle_key)
            params = {k: v for k, v in match.groupdict().items() if v is not None}
            response = spec.handler(_Ctx(request, params, version, body))
        except ArmError as exc:
            response = exc.response()
        for key, value in extra_headers.items():
            response.headers.setdefault(key, value)
        return self._finish(request, response, throttle_key)

    def _finish(self, request: Request, response: Response, throttle_key: str) -> Response:
        headers = response.headers
        if "x-ms-request-id" not in headers:
            headers["x-ms-request-id"] = str(uuid.uuid4())
        correlation = request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        headers["x-ms-correlation-request-id"] = correlation
        if (client_id := request.headers.get("x-ms-client-request-id")) is not None:
            headers["x-ms-client-request-id"] = client_id
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        headers["x-ms-routing-request-id"] = f"SWEDENCENTRAL:{stamp}:{headers['x-ms-request-id']}"
        name = "tenant" if throttle_key == "tenant" else "subscription"
        header = f"x-ms-ratelimit-remaining-{name}-reads"
        if header not in headers:
            headers[header] = str(self.reads.peek(throttle_key))
        headers.setdefault("cache-control", "no-cache")
        return response

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization")
        challenge = (
            f'Bearer authorization_uri="https://login.microsoftonline.com/{self.scenario.tenant_id}", '
            'error="invalid_token", error_description="{}"'
        )
        if header is None:
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers={
                    "www-authenticate": challenge.format(
                        "The authentication failed because of missing 'Authorization' header."
                    )
                },
            )
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                headers={"www-authenticate": challenge.format("The access token is missing or malformed.")},
            )
        if not hmac.compare_digest(value.strip().encode(), self.state.access_token.encode()):
            raise ArmError(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                headers={"www-authenticate": challenge.format("The access token is invalid.")},
            )

    def _api_version(self, request: Request, namespace: str, path: str) -> str:
        version = request.query_params.get("api-version")
        if version is None or version == "":
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        known = {"insights": INSIGHTS_API_VERSIONS, "graph": GRAPH_API_VERSIONS}.get(namespace)
        m = _API_VERSION.match(version)
        if m is None:
            listed = ", ".join(known) if known else "a date such as 2025-06-01"
            raise ArmError(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{version}' is invalid. The supported versions are '{listed}'.",
            )
        minimum = {"cognitive": COGNITIVE_MIN_API_VERSION, "resources": RESOURCES_MIN_API_VERSION}.get(namespace)
        if (known is not None and version not in known) or (minimum is not None and m.group(1) < minimum):
            kind = {
                "insights": "diagnosticSettings",
                "graph": "resources",
                "resources": "subscriptions",
            }.get(namespace, "accounts")
            listed = ", ".join(known) if known else f"{minimum} and later"
            raise ArmError(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for location 'global' and API version '{version}' for "
                f"type '{kind}'. The supported api-versions are '{listed}'.",
            )
        return version

    def _throttle(self, key: str) -> None:
        allowed, _remaining, wait = self.reads.take(key)
        header = f"x-ms-ratelimit-remaining-{'tenant' if key == 'tenant' else 'subscription'}-reads"
        if not allowed:
            scope = "tenant" if key == "tenant" else f"subscription '{key}'"
            raise ArmError(
                429,
                "SubscriptionRequestsThrottled" if key != "tenant" else "TenantRequestsThrottled",
                f"Number of 'read' requests for {scope} actor '{CLIENT_OBJECT_ID}' exceeded. Please try again "
                f"after '{wait}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling",
                headers={"retry-after": str(wait), header: "0"},
            )

    def _graph_throttle(self) -> dict[str, str]:
        allowed, remaining, resets = self.graph_quota.take()
        if not allowed:
            raise ArmError(
                429,
                "RateLimiting",
                "Please provide below info when asking for support: timestamp = "
                f"{iso(dt.datetime.now(dt.UTC))}, correlationId = {uuid.uuid4()}.",
                headers={
                    "retry-after": str(max(1, math.ceil(resets))),
                    "x-ms-user-quota-remaining": "0",
                    "x-ms-user-quota-resets-after": hms(resets),
                },
                details=[
                    {
                        "code": "RateLimiting",
                        "message": "Client application has been throttled and should not attempt to repeat the "
                        "request until an amount of time has elapsed. Please see "
                        "https://aka.ms/resourcegraph-throttling for help.",
                    }
                ],
            )
        return {"x-ms-user-quota-remaining": str(remaining), "x-ms-user-quota-resets-after": hms(resets)}

    def _unknown_route(self, request: Request, path: str) -> Response:
        return ArmError(
            404,
            "InvalidResourceType",
            f"The resource type for '{request.method} {path}' could not be found: the aoai emulator serves only the "
            "ARM subset listed in docs/emulator.md.",
        ).response()

    # --- lookups ---------------------------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        return self.state.scenario

    def _subscription(self, ctx: _Ctx) -> Subscription:
        sub = self.scenario.subscription(ctx.params["sub"])
        if sub is None:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{ctx.params['sub']}' could not be found.")
        return sub

    def _resource_group(self, ctx: _Ctx) -> str:
        sub = self._subscription(ctx)
        rg = ctx.params["rg"]
        if not self.scenario.has_resource_group(sub.id, rg):
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        return rg

    def _account(self, ctx: _Ctx, part: str) -> Account:
        sub = self._subscription(ctx)
        rg = self._resource_group(ctx)
        account = self.scenario.account(sub.id, rg, ctx.params["account"])
        if account is None:
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource '{ACCOUNT_TYPE}/{ctx.params['account']}' under resource group '{rg}' was not found. "
                "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        if part in account.forbidden or "account" in account.forbidden:
            denied = part if part in account.forbidden else "account"
            raise forbidden(REQUIRED_ACTIONS[denied], account.id)
        return account

    def _forbid_subscription_part(self, sub: Subscription, part: str, action_key: str | None = None) -> None:
        if part in sub.forbidden:
            raise forbidden(REQUIRED_ACTIONS[action_key or part], f"/subscriptions/{sub.id}")

    def _page(self, ctx: _Ctx, items: list[Any], size: int) -> dict[str, Any]:
        token = ctx.request.query_params.get("$skipToken")
        offset = _decode_token(token)[0] if token else 0
        body: dict[str, Any] = {"value": items[offset : offset + size]}
        if offset + size < len(items):
            query = [
                f"{quote(k, safe='$-')}={quote(v, safe='')}"
                for k, v in ctx.request.query_params.multi_items()
                if k != "$skipToken"
            ]
            query.append(f"$skipToken={_encode_token(offset + size, size)}")
            base = str(ctx.request.base_url).rstrip("/")
            body["nextLink"] = f"{base}{ctx.request.url.path}?{'&'.join(query)}"
        return body

    # --- handlers --------------------------------------------------------------------------------

    def subscriptions_list(self, ctx: _Ctx) -> Response:
        return JSONResponse({"value": [subscription_json(s) for s in self.scenario.subscriptions]})

    def subscriptions_get(self, ctx: _Ctx) -> Response:
        return JSONResponse(subscription_json(self._subscription(ctx)))

    def accounts_list(self, ctx: _Ctx) -> Response:
        sub = self._subscription(ctx)
        rg = self._resource_group(ctx) if "rg" in ctx.params else None
        self._forbid_subscription_part(sub, "accounts")
        accounts = self.scenario.accounts_in(sub.id, rg)
        items = [account_json(a, self.scenario) for a in accounts if "account" not in a.forbidden]
        return JSONResponse(self._page(ctx, items, self.scenario.limits.accounts_page_size))

    def accounts_get(self, ctx: _Ctx) -> Response:
        return JSONResponse(account_json(self._account(ctx, "account"), self.scenario))

    def deployments_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "deployments")
        items = [deployment_json(account, d) for d in account.deployments]
        return JSONResponse(self._page(ctx, items, self.scenario.limits.deployments_page_size))

    def deployments_get(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "deployments")
        wanted = ctx.params["deployment"].lower()
        for d in account.deployments:
            if d.name.lower() == wanted:
                return JSONResponse(deployment_json(account, d))
        name = ctx.params["deployment"]
        raise ArmError(404, "DeploymentNotFound", f"The specified deployment '{name}' does not exist.")

    def rai_policies_list(self, ctx: _Ctx) -> Response:
        return JSONResponse({"value": rai_policies_json(self._account(ctx, "rai_policies"))})

    def account_models_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "models")
        models = [
            account_model_json(m)
            for m in self.scenario.models_in(account.location)
            if account.kind == "AIServices" or m.kind == account.kind
        ]
        return JSONResponse({"value": models})

    def account_usages_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "usages")
        limits = {u.name: u.limit for u in self.scenario.usages_in(account.subscription_id, account.location)}
        used: dict[str, int] = {}
        for d in account.deployments:
            key = usage_name(d.model_format, d.sku_name, d.model_name)
            used[key] = used.get(key, 0) + d.capacity
        items = [
            usage_json(
                Usage(account.subscription_id, account.location, key, limits.get(key, 0), current),
                account_level=True,
            )
            for key, current in used.items()
        ]
        return JSONResponse({"value": items})

    def skus_list(self, ctx: _Ctx) -> Response:
        self._account(ctx, "skus")
        return JSONResponse({"value": [{"resourceType": ACCOUNT_TYPE, "sku": {"name": "S0", "tier": "Standard"}}]})

    def pec_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "private_endpoint_connections")
        return JSONResponse(
            {"value": [private_endpoint_connection_json(account, p) for p in account.private_endpoint_connections]}
        )

    def pec_get(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "private_endpoint_connections")
        for p in account.private_endpoint_connections:
            if p.name.lower() == ctx.params["pec"].lower():
                return JSONResponse(private_endpoint_connection_json(account, p))
        raise ArmError(
            404,
            "PrivateEndpointConnectionNotFound",
            f"Private endpoint connection '{ctx.params['pec']}' was not found on account '{account.name}'.",
        )

    def diagnostic_settings_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "diagnostic_settings")
        return JSONResponse({"value": [diagnostic_setting_json(account, s) for s in account.diagnostic_settings]})

    def diagnostic_settings_get(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "diagnostic_settings")
        for s in account.diagnostic_settings:
            if s.name.lower() == ctx.params["setting"].lower():
                return JSONResponse(diagnostic_setting_json(account, s))
        raise ArmError(404, "ResourceNotFound", f"The diagnostic setting '{ctx.params['setting']}' doesn't exist.")

    def diagnostic_categories_list(self, ctx: _Ctx) -> Response:
        account = self._account(ctx, "diagnostic_categories")
        return JSONResponse(
            {"value": [diagnostic_category_json(account, *category) for category in ACCOUNT_DIAGNOSTIC_CATEGORIES]}
        )

    def location_models_list(self, ctx: _Ctx) -> Response:
        sub = self._subscription(ctx)
        self._forbid_subscription_part(sub, "location_models")
        models = self.scenario.models_in(ctx.params["location"])
        return JSONResponse({"value": [location_model_json(m) for m in models]})

    def location_usages_list(self, ctx: _Ctx) -> Response:
        sub = self._subscription(ctx)
        self._forbid_subscription_part(sub, "usages", "location_usages")
        usages = self.scenario.usages_in(sub.id, ctx.params["location"])
        return JSONResponse({"value": [usage_json(u) for u in usages]})

    def capacities_list(self, ctx: _Ctx) -> Response:
        sub = self._subscription(ctx)
        self._forbid_subscription_part(sub, "model_capacities")
        query = ctx.request.query_params
        missing = [k for k in ("modelFormat", "modelName", "modelVersion") if not query.get(k)]
        if missing:
            raise ArmError(400, "BadRequest", f"The query parameter '{missing[0]}' is required.")
        location = ctx.params.get("location")
        capacities = self.scenario.capacities_for(
            query["modelFormat"], query["modelName"], query["modelVersion"], location
        )
        return JSONResponse({"value": [model_capacity_json(sub.id, c) for c in capacities]})

    def graph_resources(self, ctx: _Ctx) -> Response:
        body = ctx.body
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
            raise graph_bad_request("The request body must be a JSON object with a non-empty 'query' string.")
        subscriptions = body.get("subscriptions")
        groups = body.get("managementGroups")
        for key, value in (("subscriptions", subscriptions), ("managementGroups", groups)):
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
                raise graph_bad_request(f"'{key}' must be a list of strings.")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise graph_bad_request("'options' must be an object.")
        top, skip, token = options.get("$top"), options.get("$skip"), options.get("$skipToken")
        if top is not None and (not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= 1000):
            raise graph_bad_request("'$top' must be a whole number from 1 to 1000.")
        if skip is not None and (not isinstance(skip, int) or isinstance(skip, bool) or skip < 0):
            raise graph_bad_request("'$skip' must be a whole number, 0 or more.")
        if token is not None and not isinstance(token, str):
            raise graph_bad_request("'$skipToken' must be a string.")
        default_format = "objectArray" if ctx.api_version >= "2021-03-01" else "table"
        result_format = options.get("resultFormat") or default_format
        if result_format not in ("objectArray", "table"):
            raise graph_bad_request("'resultFormat' must be 'objectArray' or 'table'.")
        try:
            plan = parse_kql(body["query"])
        except KqlError as exc:
            raise graph_bad_request(f"Query is invalid: {exc}.", invalid_query=True) from None

        rows = self._graph_rows(plan.table, subscriptions, groups)
        matched = plan.run(rows)
        if token:
            offset, size = _decode_token(token)
            size = top or size
        else:
            offset, size = skip or 0, top or 100
        page = matched[offset : offset + size]
        result: dict[str, Any] = {
            "totalRecords": len(matched),
            "count": len(page),
            "resultTruncated": "false",
        }
        if offset + size < len(matched):
            result["$skipToken"] = _encode_token(offset + size, size)
        result["data"] = graph_table_format(page) if result_format == "table" else page
        result["facets"] = []
        return JSONResponse(result)

    def _graph_rows(self, table: str, subscriptions: list[str] | None, groups: list[str] | None) -> list[Row]:
        scope = [s for s in self.scenario.subscriptions if "resource_graph" not in s.forbidden]
        if subscriptions:
            wanted = {s.lower() for s in subscriptions}
            scope = [s for s in scope if s.id.lower() in wanted]
        if groups:
            wanted_groups = {g.lower() for g in groups}
            scope = [
                s
                for s in scope
                if s.tenant_id.lower() in wanted_groups or wanted_groups & {g.lower() for g in s.management_groups}
            ]
        if table == "resources":
            return [
                graph_account_row(a, self.scenario)
                for sub in scope
                for a in self.scenario.accounts_in(sub.id)
                if "account" not in a.forbidden
            ]
        if table == "resourcecontainers":
            return [row for sub in scope for row in graph_container_rows(self.scenario, sub)]
        return []  # a real Resource Graph table the emulator holds nothing for


def routes(state: EmulatorState) -> list[BaseRoute]:
    return ArmApi(state).routes()


__all__ = ["ArmApi", "ArmError", "KqlError", "parse_kql", "routes"]
