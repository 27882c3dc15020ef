"""Read an account through Azure Resource Manager into an ``AccountSnapshot``.

The only module that imports ``azure.mgmt.*`` (lazily, inside functions: ``aoai --help`` must
not pay for them). Invariants:

- Only the parts the selected checks declare are fetched, concurrently on a thread pool (the
  SDK clients are synchronous). The account is always read (existence, location); parts scoped
  to the location (models, usages) start as soon as it is known, so a full run costs two ARM
  round trips of latency. Location parts are fetched once per subscription and location, even
  when several accounts share them.
- Each part keeps the raw JSON ARM returned (captured per call by a ``raw_response_hook``, so
  fields newer than the SDK's models survive), the operation, api-version and every
  ``x-ms-request-id`` — or the error that stopped it. A failing part never aborts the run:
  checks that need it report ``error``. Only the account itself can stop it: 404 -> NotFoundError
  (exit 5), 401/403 -> AuthError (exit 3).
- Throttling (429 with Retry-After) and transient 5xx are retried by azure-core's RetryPolicy,
  which honours Retry-After; ``retry_total`` bounds it.
- The token is acquired once (cached for the SDK's own calls); its tenant and object id are
  read from its claims for the evidence — the token itself is never stored.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from aoai.auth import arm_credential, describe_credential, redact, register_secret
from aoai.config import CLOUD_ARM_ENDPOINTS, ArmSettings
from aoai.errors import AuthError, NotFoundError
from aoai.preflight.snapshot import (
    LOCATION_PARTS,
    AccountSnapshot,
    Part,
    PartError,
    PartName,
    Target,
    format_time,
    utc_now,
)
from aoai.preflight.waits import WaitBudget, WaitRefused, bounded_retry_policy

log = logging.getLogger(__name__)

# api-versions of the pinned SDKs (azure-mgmt-cognitiveservices 14.x, azure-mgmt-monitor 6.x);
# read from the clients at run time, these are only the documented fallbacks.
COGNITIVE_API_VERSION = "2025-09-01"
MONITOR_DIAGNOSTIC_API_VERSION = "2021-05-01-preview"

OPERATIONS = {
    PartName.ACCOUNT: "Accounts_Get",
    PartName.DEPLOYMENTS: "Deployments_List",
    PartName.LOCATION_MODELS: "Models_List",
    PartName.USAGES: "Usages_List",
    PartName.PRIVATE_ENDPOINT_CONNECTIONS: "PrivateEndpointConnections_List",
    PartName.DIAGNOSTIC_SETTINGS: "DiagnosticSettings_List",
    PartName.DIAGNOSTIC_CATEGORIES: "DiagnosticSettingsCategory_List",
    PartName.RAI_POLICIES: "RaiPolicies_List",
}


# Parts read per account (not the account itself, not location data), all in the first round trip.
ACCOUNT_SCOPED_PARTS = frozenset(
    {
        PartName.DEPLOYMENTS,
        PartName.PRIVATE_ENDPOINT_CONNECTIONS,
        PartName.DIAGNOSTIC_SETTINGS,
        PartName.DIAGNOSTIC_CATEGORIES,
        PartName.RAI_POLICIES,
    }
)
MONITOR_PARTS = frozenset({PartName.DIAGNOSTIC_SETTINGS, PartName.DIAGNOSTIC_CATEGORIES})
# The built-in roles that grant each region-level read (Microsoft.CognitiveServices/locations/*/read).
REGION_DATA_ROLES = {
    PartName.LOCATION_MODELS: "Reader",
    PartName.USAGES: "Reader, or Cognitive Services Usages Reader,",
}


def arm_scope(endpoint: str) -> str:
    """The Entra scope for an ARM endpoint (a custom one, e.g. the emulator, uses its own URL)."""
    for url in CLOUD_ARM_ENDPOINTS.values():
        if endpoint.rstrip("/") == url:
            return f"{url}/.default"
    return f"{endpoint.rstrip('/')}/.default"


@dataclass(frozen=True)
class Principal:
    """Who ran the checks: from the token's claims (no token), and how the credential was chosen."""

    auth_method: str
    credential: str
    tenant_id: str | None = None
    object_id: str | None = None
    app_id: str | None = None
    identity_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "auth_method": self.auth_method,
            "credential": self.credential,
            "tenant_id": self.tenant_id,
            "object_id": self.object_id,
            "app_id": self.app_id,
            "identity_type": self.identity_type,
        }


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (only to name the principal); {} for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


class _CachedCredential:
    """Wraps a TokenCredential so the token fetched up front serves the SDK's calls too
    (AzureCliCredential, for one, spawns ``az`` on every call). Exposes ``get_token`` only, so
    azure-core uses it rather than ``get_token_info``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, ...], Any] = {}

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        cacheable = not kwargs.get("claims")
        with self._lock:
            cached = self._cache.get(scopes) if cacheable else None
            if cached is not None and cached.expires_on - 300 > time.time():
                return cached
            token = self._inner.get_token(*scopes, **kwargs)
            register_secret(token.token)
            if cacheable:
                self._cache[scopes] = token
            return token

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()


def _part_error(exc: Exception) -> PartError:
    """An SDK exception as a PartError (status, ARM code, one-line message, request id)."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    request_id = None
    if response is not None:
        headers = getattr(response, "headers", {}) or {}
        request_id = headers.get("x-ms-request-id") or headers.get("x-ms-correlation-request-id")
    code = None
    message = str(exc)
    if isinstance(exc, HttpResponseError):
        error = getattr(exc, "error", None)
        if error is not None:
            code = getattr(error, "code", None)
            message = getattr(error, "message", None) or message
        elif response is not None:
            try:
                body = json.loads(response.text() or "{}")
                code = (body.get("error") or {}).get("code")
                message = (body.get("error") or {}).get("message") or message
            except (ValueError, AttributeError):
                pass
    if isinstance(exc, ClientAuthenticationError) and status is None:
        code = code or "CredentialUnavailable"
    elif status is None:
        code = code or type(exc).__name__
    first = next((line.strip() for line in str(message).splitlines() if line.strip()), type(exc).__name__)
    return PartError(message=redact(first)[:500], status=status, code=code, request_id=request_id)


class _Capture:
    """The per-call ``raw_response_hook``: raw JSON of every 2xx page and every request id."""

    def __init__(self, counter: Callable[[], None]) -> None:
        self.pages: list[Any] = []
        self.request_ids: list[str] = []
        self._counter = counter

    def __call__(self, pipeline_response: Any) -> None:
        self._counter()
        http = pipeline_response.http_response
        if not 200 <= http.status_code < 300:
            return
        request_id = http.headers.get("x-ms-request-id")
        if request_id:
            self.request_ids.append(request_id)
        text = http.text()
        self.pages.append(json.loads(text) if text else None)


class ArmReader:
    """Reads accounts through ARM. One reader per run: it holds the credential, the SDK clients
    (one per subscription) and the location cache. Thread-safe."""

    def __init__(
        self,
        settings: ArmSettings,
        env: Mapping[str, str],
        *,
        credential: Any = None,
        max_workers: int = 8,
        retry_total: int = 3,
        budget: WaitBudget | None = None,
    ) -> None:
        self.settings = settings
        self.budget = budget if budget is not None else WaitBudget()
        self._env = dict(env)
        self._credential = _CachedCredential(
            credential if credential is not None else arm_credential(settings.credential, env)
        )
        self._scope = arm_scope(settings.endpoint)
        self._max_workers = max_workers
        self._retry_total = retry_total
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}
        self._location_cache: dict[tuple[str, str, str], Future[Part]] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="aoai-arm")
        self.request_count = 0
        self._principal: Principal | None = None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for client in self._clients.values():
            client.close()
        self._credential.close()

    def __enter__(self) -> ArmReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count(self) -> None:
        with self._lock:
            self.request_count += 1

    # -- credential ---------------------------------------------------------------------------

    def principal(self) -> Principal:
        """Acquire the ARM token once (AuthError when no credential works) and name its principal."""
        if self._principal is not None:
            return self._principal
        from azure.core.exceptions import ClientAuthenticationError

        try:
            token = self._credential.get_token(self._scope)
        except AuthError:
            raise
        except ClientAuthenticationError as exc:
            first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
            raise AuthError(
                f"no ARM token ({describe_credential(self.settings.credential, self._env)}): {redact(first)}",
                hint="run `az login`, choose --credential, or export AOAI_ACCESS_TOKEN",
            ) from exc
        claims = token_claims(token.token)
        self._principal = Principal(
            auth_method=describe_credential(self.settings.credential, self._env),
            credential=self.settings.credential,
            tenant_id=claims.get("tid"),
            object_id=claims.get("oid"),
            app_id=claims.get("appid") or claims.get("azp"),
            identity_type=claims.get("idtyp"),
        )
        return self._principal

    # -- clients ------------------------------------------------------------------------------

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "base_url": self.settings.endpoint,
            "credential_scopes": [self._scope],
            # azure-core's retries, with every wait bounded by --max-wait and the run's --timeout.
            "retry_policy": bounded_retry_policy(
                self.budget, retry_total=self._retry_total, retry_backoff_factor=0.5, retry_backoff_max=30
            ),
            "connection_timeout": 15,
            "read_timeout": min(60.0, self.budget.timeout),
            "logging_enable": False,  # True would log bodies; --debug still logs method, URL, status
        }
        if self.settings.ca_bundle:
            kwargs["connection_verify"] = self.settings.ca_bundle
        return kwargs

    def _cognitive(self, subscription: str) -> Any:
        with self._lock:
            client = self._clients.get(("cognitive", subscription))
            if client is None:
                from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

                client = CognitiveServicesManagementClient(self._credential, subscription, **self._client_kwargs())
                self._clients[("cognitive", subscription)] = client
            return client

    def _monitor(self, subscription: str) -> Any:
        with self._lock:
            client = self._clients.get(("monitor", subscription))
            if client is None:
                from azure.mgmt.monitor import MonitorManagementClient

                client = MonitorManagementClient(self._credential, subscription, **self._client_kwargs())
                self._clients[("monitor", subscription)] = client
            return client

    # -- one part -----------------------------------------------------------------------------

    def _fetch(
        self,
        name: str,
        scope: str,
        api_version: str | None,
        call: Callable[[_Capture], Any],
        *,
        pager: bool,
        listing: bool,
    ) -> Part:
        """Run one SDK call with a capture hook. ``pager``: the call returns an ItemPaged to drain;
        ``listing``: the part's data is every page's ``value`` items (else the single body)."""
        from azure.core.exceptions import AzureError

        capture = _Capture(self._count)
        part = Part(name=str(name), operation=OPERATIONS[PartName(name)], api_version=api_version, scope=scope)
        started = time.perf_counter()
        try:
            if self.budget.expired():
                raise WaitRefused(
                    f"not read: {self.budget.deadline_text()} had passed",
                    status=None,
                    code="RunTimeout",
                    request_id=None,
                )
            result = call(capture)
            if pager:
                for _ in result:  # drives the pager; the raw pages land in the capture
                    pass
        except WaitRefused as exc:
            part.error = PartError(message=exc.message, status=exc.status, code=exc.code, request_id=exc.request_id)
        except AzureError as exc:
            part.error = _part_error(exc)
            log.debug("%s (%s) failed: %s", part.operation, scope, part.error.describe())
        except ValueError as exc:  # a body that is not JSON
            part.error = PartError(message=f"unreadable ARM response: {exc}", code="InvalidResponse")
        else:
            if listing:
                part.data = [
                    item for page in capture.pages if isinstance(page, dict) for item in page.get("value") or []
                ]
            else:
                part.data = capture.pages[-1] if capture.pages else None
        part.request_ids = capture.request_ids
        part.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        log.debug("%s (%s): %.0f ms, request ids %s", part.operation, scope, part.elapsed_ms, part.request_ids)
        return part

    def _api_version(self, client: Any) -> str | None:
        config = getattr(client, "_config", None)
        return getattr(config, "api_version", None)

    def read_account(self, target: Target) -> Part:
        client = self._cognitive(target.subscription_id)
        return self._fetch(
            PartName.ACCOUNT,
            target.resource_id,
            self._api_version(client) or COGNITIVE_API_VERSION,
            lambda cap: client.accounts.get(target.resource_group, target.account, raw_response_hook=cap),
            pager=False,
            listing=False,
        )

    def _deployments(self, target: Target) -> Part:
        client = self._cognitive(target.subscription_id)
        return self._fetch(
            PartName.DEPLOYMENTS,
            target.resource_id,
            self._api_version(client) or COGNITIVE_API_VERSION,
            lambda cap: client.deployments.list(target.resource_group, target.account, raw_response_hook=cap),
            pager=True,
            listing=True,
        )

    def _private_endpoints(self, target: Target) -> Part:
        client = self._cognitive(target.subscription_id)
        return self._fetch(
            PartName.PRIVATE_ENDPOINT_CONNECTIONS,
            target.resource_id,
            self._api_version(client) or COGNITIVE_API_VERSION,
            lambda cap: client.private_endpoint_connections.list(
                target.resource_group, target.account, raw_response_hook=cap
            ),
            pager=False,
            listing=True,
        )

    def _rai_policies(self, target: Target) -> Part:
        client = self._cognitive(target.subscription_id)
        return self._fetch(
            PartName.RAI_POLICIES,
            target.resource_id,
            self._api_version(client) or COGNITIVE_API_VERSION,
            lambda cap: client.rai_policies.list(target.resource_group, target.account, raw_response_hook=cap),
            pager=True,
            listing=True,
        )

    def _diagnostic_settings(self, target: Target) -> Part:
        client = self._monitor(target.subscription_id)
        uri = target.resource_id.lstrip("/")
        return self._fetch(
            PartName.DIAGNOSTIC_SETTINGS,
            target.resource_id,
            MONITOR_DIAGNOSTIC_API_VERSION,
            lambda cap: client.diagnostic_settings.list(uri, raw_response_hook=cap),
            pager=True,
            listing=True,
        )

    def _diagnostic_categories(self, target: Target) -> Part:
        """The account type's log categories with their ``categoryGroups`` (which group holds which
        category is Azure's data, not ours)."""
        client = self._monitor(target.subscription_id)
        uri = target.resource_id.lstrip("/")
        return self._fetch(
            PartName.DIAGNOSTIC_CATEGORIES,
            target.resource_id,
            MONITOR_DIAGNOSTIC_API_VERSION,
            lambda cap: client.diagnostic_settings_category.list(uri, raw_response_hook=cap),
            pager=True,
            listing=True,
        )

    def account_part(self, name: str, target: Target) -> Part:
        """One account-scoped part (not the account itself)."""
        fetch: dict[str, Callable[[Target], Part]] = {
            PartName.DEPLOYMENTS: self._deployments,
            PartName.PRIVATE_ENDPOINT_CONNECTIONS: self._private_endpoints,
            PartName.DIAGNOSTIC_SETTINGS: self._diagnostic_settings,
            PartName.DIAGNOSTIC_CATEGORIES: self._diagnostic_categories,
            PartName.RAI_POLICIES: self._rai_policies,
        }
        return fetch[name](target)

    def _location_part(self, name: str, subscription: str, location: str) -> Part:
        part = self._read_location_part(name, subscription, location)
        if part.error is not None and part.error.status == 403:
            # Region data is subscription-level: Reader on a resource group does not reach it.
            roles = REGION_DATA_ROLES.get(PartName(name), "Reader")
            part.error = replace(
                part.error,
                message=f"{part.error.message} — {roles} at subscription scope /subscriptions/{subscription} "
                "would let this read succeed (a role on the resource group does not cover region data)",
            )
        return part

    def _read_location_part(self, name: str, subscription: str, location: str) -> Part:
        client = self._cognitive(subscription)
        scope = f"/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/locations/{location}"
        if name == PartName.LOCATION_MODELS:
            return self._fetch(
                name,
                scope,
                self._api_version(client) or COGNITIVE_API_VERSION,
                lambda cap: client.models.list(location, raw_response_hook=cap),
                pager=True,
                listing=True,
            )
        return self._fetch(
            name,
            scope,
            self._api_version(client) or COGNITIVE_API_VERSION,
            lambda cap: client.usages.list(location, raw_response_hook=cap),
            pager=True,
            listing=True,
        )

    def _location_future(self, name: str, subscription: str, location: str) -> Future[Part]:
        """One fetch per (subscription, location, part), shared by every account there."""
        key = (subscription.lower(), location.lower(), name)
        with self._lock:
            future = self._location_cache.get(key)
            if future is None:
                future = self._pool.submit(self._location_part, name, subscription, location)
                self._location_cache[key] = future
            return future

    # -- a whole snapshot ---------------------------------------------------------------------

    def location_future(self, name: str, subscription: str, location: str) -> Future[Part]:
        """A location part (``location_models`` / ``usages``) on the pool, once per location."""
        return self._location_future(name, subscription, location)

    def model_capacities_future(self, subscription: str, model_format: str, model: str, version: str) -> Future[Part]:
        """ModelCapacities_List for one model version (every location and SKU), on the pool."""
        self._cognitive(subscription)  # the client (SDK import) on this thread, before fanning out
        return self._pool.submit(_model_capacities_part, self, subscription, model_format, model, version)

    def snapshot(self, target: Target, parts: Iterable[str], *, location: str | None = None) -> AccountSnapshot:
        """Fetch ``parts`` (plus the account, always) concurrently into a snapshot. With
        ``location`` (known from a plan), the location parts start at once instead of after the
        account, for that location.

        Raises NotFoundError when the account does not exist, AuthError when ARM refuses the
        credential for it; every other failure is recorded in its part.
        """
        wanted = {PartName(p) for p in parts if p != PartName.PROBE} | {PartName.ACCOUNT}
        taken_at = format_time(utc_now())
        # Build the clients before fanning out: the SDK imports happen once, on this thread.
        self._cognitive(target.subscription_id)
        if wanted & MONITOR_PARTS:
            self._monitor(target.subscription_id)
        account_future = self._pool.submit(self.read_account, target)
        futures: dict[str, Future[Part]] = {}
        for name in sorted(ACCOUNT_SCOPED_PARTS & wanted):
            futures[name] = self._pool.submit(self.account_part, name, target)
        if location:
            for name in sorted(LOCATION_PARTS & wanted):
                futures[name] = self._location_future(name, target.subscription_id, location)
        account = account_future.result()
        if account.error is not None:
            self._raise_for_account(target, account.error)
        location = location or (account.data.get("location") if isinstance(account.data, dict) else None)
        for name in sorted(LOCATION_PARTS & wanted):
            if location and name not in futures:
                futures[name] = self._location_future(name, target.subscription_id, str(location))
        result = AccountSnapshot(target=target, taken_at=taken_at, arm_endpoint=self.settings.endpoint)
        result.parts[str(PartName.ACCOUNT)] = account
        for name in sorted(LOCATION_PARTS & wanted):
            if name not in futures:
                result.parts[str(name)] = Part(
                    name=str(name),
                    operation=OPERATIONS[PartName(name)],
                    error=PartError(message="the account's location is unknown", code="NoLocation"),
                )
        for key, future in futures.items():
            result.parts[str(key)] = future.result()
        return result

    def _raise_for_account(self, target: Target, error: PartError) -> None:
        if error.status == 404:
            raise NotFoundError(
                f"account {target.account} not found in resource group {target.resource_group} of subscription "
                f"{target.subscription_id}: {error.describe()}",
                hint="check --account / -g / --subscription (or --resource-id)",
            )
        if error.status == 401 or error.code == "CredentialUnavailable":
            raise AuthError(
                f"ARM did not accept the credential ({describe_credential(self.settings.credential, self._env)}) "
                f"reading account {target.account}: {error.describe()}",
                hint="the token is missing, expired or for another audience: run `az login`, choose --credential, "
                "or export a fresh AOAI_ACCESS_TOKEN",
            )
        if error.status == 403:
            raise AuthError(
                f"ARM refused to read account {target.account}: {error.describe()}",
                hint="the identity needs Reader on the account (and Monitoring Reader for diagnostic settings)",
            )


# ---------------------------------------------------------------------------------------------
# `aoai preflight capacity`: where can a model run at a capacity (see aoai.preflight.capacity).
# One ModelCapacities_List for the subscription, then Usages_List and Models_List for the
# candidate regions only, all at once on the reader's pool: three round trips of latency at most
# (four when --version is omitted), whatever the number of regions.

CAPACITY_MAX_WORKERS = 64  # two calls per candidate region, all in flight together


def _model_capacities_part(reader: ArmReader, subscription: str, model_format: str, model: str, version: str) -> Part:
    """ModelCapacities_List (subscription level): every location and SKU offering the model version."""
    from azure.core.exceptions import AzureError

    client = reader._cognitive(subscription)
    capture = _Capture(reader._count)
    part = Part(
        name="model_capacities",
        operation="ModelCapacities_List",
        api_version=reader._api_version(client) or COGNITIVE_API_VERSION,
        scope=f"/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/modelCapacities",
    )
    started = time.perf_counter()
    try:
        for _ in client.model_capacities.list(model_format, model, version, raw_response_hook=capture):
            pass
    except WaitRefused as exc:
        part.error = PartError(message=exc.message, status=exc.status, code=exc.code, request_id=exc.request_id)
    except AzureError as exc:
        part.error = _part_error(exc)
    except ValueError as exc:  # a body that is not JSON
        part.error = PartError(message=f"unreadable ARM response: {exc}", code="InvalidResponse")
    else:
        part.data = [item for page in capture.pages if isinstance(page, dict) for item in page.get("value") or []]
    part.request_ids = capture.request_ids
    part.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    log.debug("%s (%s %s): %.0f ms, request ids %s", part.operation, model, version, part.elapsed_ms, part.request_ids)
    return part


def _raise_for_capacity_part(part: Part, subscription: str, settings: ArmSettings, env: Mapping[str, str]) -> None:
    """A failed subscription-level call stops the scan: 401 -> 3, 403 -> 3, 404 -> 5, else 4."""
    from aoai.errors import ServiceError, TransportError

    error = part.error
    if error is None:
        return
    what = f"{part.operation} for subscription {subscription}"
    if error.status == 401 or error.code == "CredentialUnavailable":
        raise AuthError(
            f"ARM did not accept the credential ({describe_credential(settings.credential, env)}) for {what}: "
            f"{error.describe()}",
            hint="run `az login`, choose --credential, or export a fresh AOAI_ACCESS_TOKEN",
        )
    if error.status == 403:
        raise AuthError(
            f"ARM refused {what}: {error.describe()}",
            hint="the identity needs Reader on the subscription (or a role with Microsoft.CognitiveServices/"
            "modelCapacities/read, locations/usages/read and locations/models/read)",
        )
    if error.status == 404:
        raise NotFoundError(f"{what}: {error.describe()}", hint="check --subscription / AZURE_SUBSCRIPTION_ID")
    if error.status is None:
        raise TransportError(
            f"{what} failed after retries: {error.describe()}", hint="check the network or --arm-endpoint"
        )
    raise ServiceError(
        f"{what} failed after retries: {error.message}",
        status=error.status,
        code=error.code,
        request_id=error.request_id,
    )


def fetch_capacity_inputs(
    settings: ArmSettings,
    env: Mapping[str, str],
    query: Any,
    catalog: Any,
    *,
    subscription: str,
    credential: Any = None,
    max_workers: int = CAPACITY_MAX_WORKERS,
    budget: WaitBudget | None = None,
) -> Any:
    """Read what ``aoai.preflight.capacity.evaluate`` needs for ``query`` (a CapacityQuery):
    ModelCapacities_List once, then Usages_List and Models_List for the candidate regions only,
    concurrently. Without ``query.version``, the location model lists of ``query.regions`` (else
    of ``SEED_REGIONS``) name the default version first; those lists are reused for lifecycle.

    Raises AuthError / NotFoundError / ServiceError / TransportError when the subscription-level
    call fails (or, version omitted, when every seed region's model list failed); a failing
    per-region call is recorded in its part instead.
    """
    from aoai.preflight.capacity import SEED_REGIONS, CapacityInputs, candidate_regions, resolve_version

    started = time.perf_counter()
    with ArmReader(settings, env, credential=credential, max_workers=max_workers, budget=budget) as reader:
        reader.principal()  # the token once, up front: a credential problem is exit 3 before any call
        reader._cognitive(subscription)  # build the client (SDK import) on this thread, once
        version: str | None = query.version
        source = "flag"
        if version is None:
            seeds = tuple(query.regions) or SEED_REGIONS
            futures = {r: reader._location_future(PartName.LOCATION_MODELS, subscription, r) for r in seeds}
            lists = {r: f.result() for r, f in futures.items()}
            version = resolve_version(query, {r: p.data for r, p in lists.items() if p.ok})
            if version is None:
                failed = [p for p in lists.values() if not p.ok]
                if failed and len(failed) == len(lists):
                    _raise_for_capacity_part(failed[0], subscription, settings, env)
                raise NotFoundError(
                    f"{query.model} is not in the model list of {', '.join(seeds)}",
                    hint="pass --version (and --regions where the model is offered)",
                )
            source = "default"
        capacities = _model_capacities_part(reader, subscription, query.model_format, query.model, version)
        _raise_for_capacity_part(capacities, subscription, settings, env)
        regions = candidate_regions(query, version, capacities.data or [], catalog)
        usage_futures = {r: reader._location_future(PartName.USAGES, subscription, r) for r in regions}
        model_futures = {r: reader._location_future(PartName.LOCATION_MODELS, subscription, r) for r in regions}
        usages = {r: f.result() for r, f in usage_futures.items()}
        models = {r: f.result() for r, f in model_futures.items()}
        requests = reader.request_count
    return CapacityInputs(
        subscription=subscription,
        version=version,
        version_source=source,
        capacities=list(capacities.data or []),
        usages=usages,
        location_models=models,
        capacities_request_ids=capacities.request_ids,
        requests=requests,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        arm_endpoint=settings.endpoint,
    )


# ---------------------------------------------------------------------------------------------
# `aoai preflight fleet`: one page of an Azure Resource Graph query (see aoai.preflight.fleet).

RESOURCE_GRAPH_API_VERSION = "2021-03-01"  # azure-mgmt-resourcegraph 8.x; objectArray rows by default


@dataclass(frozen=True)
class GraphPage:
    """One page of a Resource Graph answer: its rows (raw JSON objects), the ``$skipToken`` for
    the next page (None on the last), and the ``x-ms-request-id`` it came with."""

    rows: list[dict[str, Any]]
    skip_token: str | None
    total_records: int | None
    truncated: bool
    request_id: str | None
    api_version: str


def _graph_rows(data: Any) -> list[dict[str, Any]]:
    """``objectArray`` rows as they are; ``table`` format (older api-versions) turned into objects."""
    if isinstance(data, list):
        return [row for row in data if isinstance(row, dict)]
    if isinstance(data, dict) and isinstance(data.get("columns"), list) and isinstance(data.get("rows"), list):
        names = [str(c.get("name")) for c in data["columns"] if isinstance(c, dict)]
        return [dict(zip(names, row, strict=False)) for row in data["rows"] if isinstance(row, list)]
    return []


def _graph_exception(error: PartError, settings: ArmSettings, env: Mapping[str, str]) -> Exception:
    """The error to raise for a failed query: 401/403 -> AuthError (exit 3), 400 -> ServiceError
    (exit 2: the query, usually --where), anything else after retries -> exit 4."""
    from aoai.errors import ServiceError, TransportError

    if error.status == 401 or error.code == "CredentialUnavailable":
        return AuthError(
            f"Resource Graph did not accept the credential ({describe_credential(settings.credential, env)}): "
            f"{error.describe()}",
            hint="run `az login`, choose --credential, or export a fresh AOAI_ACCESS_TOKEN",
        )
    if error.status == 403:
        return AuthError(
            f"Resource Graph refused the query: {error.describe()}",
            hint="the identity needs Reader on the subscriptions or management groups queried",
        )
    if error.status is None:
        return TransportError(
            f"Resource Graph query failed after retries: {error.describe()}", hint="check the network or --arm-endpoint"
        )
    hint = "check --where (a KQL predicate over Resources columns)" if error.status == 400 else None
    return ServiceError(
        f"Resource Graph query failed: {error.message}",
        status=error.status,
        code=error.code,
        request_id=error.request_id,
        hint=hint,
    )


def _graph_error(exc: Exception) -> PartError:
    """Like ``_part_error``, but a 400 carries Graph's details (InvalidQuery: what is wrong)."""
    error = _part_error(exc)
    response = getattr(exc, "response", None)
    if error.status != 400 or response is None:
        return error
    try:
        body = json.loads(response.text() or "{}")
    except (ValueError, AttributeError):
        return error
    details = [d for d in (body.get("error") or {}).get("details") or [] if isinstance(d, dict)]
    inner = "; ".join(str(d.get("message")) for d in details if d.get("message"))
    if not inner:
        return error
    # Graph's top-level message is boilerplate ("Please provide below info…"); the details say what is wrong.
    code = next((str(d["code"]) for d in details if d.get("code")), None) or error.code
    return PartError(message=redact(inner)[:500], status=400, code=code, request_id=error.request_id)


def query_resource_graph(
    reader: ArmReader,
    query: str,
    *,
    subscriptions: Iterable[str] = (),
    management_groups: Iterable[str] = (),
    top: int = 1000,
    skip_token: str | None = None,
) -> GraphPage:
    """One page of ``query`` (POST /providers/Microsoft.ResourceGraph/resources, operation
    ``Resources``), scoped to ``subscriptions`` or ``management_groups`` (neither: every
    subscription the credential can read). Retries 429 (Retry-After) and 5xx like every call.

    Raises AuthError (401/403), ServiceError (400 with Graph's reason; 429/5xx after retries) or
    TransportError: without the list of accounts there is nothing to check.
    """
    from azure.core.exceptions import AzureError
    from azure.mgmt.resourcegraph import ResourceGraphClient
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    from aoai.errors import AoaiError

    with reader._lock:
        client = reader._clients.get(("graph", ""))
        if client is None:
            client = ResourceGraphClient(reader._credential, **reader._client_kwargs())
            reader._clients[("graph", "")] = client
    api_version = reader._api_version(client) or RESOURCE_GRAPH_API_VERSION
    options = QueryRequestOptions(top=top, skip_token=skip_token, result_format="objectArray")
    request = QueryRequest(
        query=query,
        subscriptions=list(subscriptions) or None,
        management_groups=list(management_groups) or None,
        options=options,
    )
    capture = _Capture(reader._count)
    try:
        client.resources(request, raw_response_hook=capture)
    except WaitRefused as exc:
        from aoai.errors import ServiceError

        raise ServiceError(
            f"Resource Graph query: {exc.message}", status=exc.status or 429, code=exc.code, request_id=exc.request_id
        ) from exc
    except AzureError as exc:
        raise _graph_exception(_graph_error(exc), reader.settings, reader._env) from exc
    except ValueError as exc:  # a body that is not JSON
        raise AoaiError(f"Resource Graph answered with something that is not JSON: {exc}") from exc
    body = capture.pages[-1] if capture.pages else None
    if not isinstance(body, dict):
        raise AoaiError("Resource Graph answered with an empty or malformed body")
    total = body.get("totalRecords")
    return GraphPage(
        rows=_graph_rows(body.get("data")),
        skip_token=body.get("$skipToken") or None,
        total_records=int(total) if isinstance(total, int | float) else None,
        truncated=str(body.get("resultTruncated", "false")).lower() == "true",
        request_id=capture.request_ids[-1] if capture.request_ids else None,
        api_version=api_version,
    )
