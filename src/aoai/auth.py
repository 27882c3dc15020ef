"""Credentials for ARM (Entra ID only) and the data plane (API key or Entra ID).

Every credential is checked before it is used (``check_credential``) and registered with the
one redactor (:mod:`aoai.redaction`, re-exported here), which hides it wherever text leaves the
process. Azure SDK imports are lazy: ``aoai --help`` must not pay for azure-identity.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aoai.config import ENV_ACCESS_TOKEN, ENV_API_KEY, ENV_TENANT, DataPlaneSettings
from aoai.errors import AuthError, UsageError
from aoai.redaction import REDACTED, RedactingFilter, redact, register_secret

__all__ = ["REDACTED", "RedactingFilter", "check_credential", "redact", "register_secret"]

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo

# Keys and tokens are printable ASCII and go into HTTP headers: whitespace, a control or a
# non-ASCII character is a paste or CRLF accident, refused before anything is sent (httpx would
# print the value in its error).
_BAD_CREDENTIAL_CHARS = re.compile(r"[^\x21-\x7e]")


def check_credential(value: str, variable: str) -> str:
    """``value`` as a header-safe credential, or UsageError naming ``variable`` (never the value)."""
    register_secret(value)
    bad = _BAD_CREDENTIAL_CHARS.search(value)
    if bad:
        where = "ends with" if bad.start() == len(value) - 1 else "contains"
        what = {"\r": "a carriage return (a CRLF file?)", "\n": "a newline", " ": "a space", "\t": "a tab"}.get(
            bad.group(),
            f"a control character (U+{ord(bad.group()):04X})"
            if ord(bad.group()) < 0xA0
            else f"a non-ASCII character (U+{ord(bad.group()):04X})",
        )
        raise UsageError(
            f"{variable} {where} {what}: it cannot be sent in an HTTP header",
            hint=f"set {variable} to the credential alone, e.g. $(tr -d '\\r\\n' < FILE)",
        )
    return value


class TokenCredentialLike(Protocol):
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken: ...


class StaticTokenCredential:
    """A pre-acquired bearer token (``AOAI_ACCESS_TOKEN``): CI jobs that already hold one, and the emulator.

    Implements both azure-core credential protocols (``get_token`` and ``get_token_info``).
    """

    def __init__(self, token: str, *, lifetime_s: int = 3600, variable: str = ENV_ACCESS_TOKEN) -> None:
        self._token = check_credential(token, variable)
        self._expires_on = int(time.time()) + lifetime_s

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, self._expires_on)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self._token, self._expires_on)

    def close(self) -> None:
        return None

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def describe_credential(kind: str, env: Mapping[str, str]) -> str:
    if kind == "auto":
        return f"token from {ENV_ACCESS_TOKEN}" if env.get(ENV_ACCESS_TOKEN) else "DefaultAzureCredential"
    return {
        "token": f"token from {ENV_ACCESS_TOKEN}",
        "cli": "Azure CLI credential",
        "env": "environment credential (AZURE_CLIENT_ID/SECRET)",
        "workload": "workload identity credential",
        "managed-identity": "managed identity",
        "default": "DefaultAzureCredential",
    }.get(kind, kind)


def arm_credential(kind: str, env: Mapping[str, str]) -> Any:
    """A TokenCredential for ARM, chosen explicitly (``--credential``) or by ``auto``."""
    token = env.get(ENV_ACCESS_TOKEN)
    if kind == "token" or (kind == "auto" and token):
        if not token:
            raise AuthError(f"--credential token needs {ENV_ACCESS_TOKEN}", hint="export a bearer token for ARM")
        return StaticTokenCredential(token)
    from azure import identity

    tenant = env.get(ENV_TENANT) or ""
    if kind == "cli":
        return identity.AzureCliCredential(tenant_id=tenant)
    if kind == "env":
        return identity.EnvironmentCredential()
    if kind == "workload":
        return identity.WorkloadIdentityCredential(tenant_id=tenant or None)
    if kind == "managed-identity":
        return identity.ManagedIdentityCredential()
    return identity.DefaultAzureCredential()


@dataclass
class DataPlaneAuth:
    """Produces the auth header for each request. ``description`` is safe to print."""

    mode: str
    description: str
    scope: str | None = None
    _key: str | None = None
    _credential: Any = None
    _cached: tuple[str, float] | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        if self._key is not None:
            return {"api-key": self._key}
        now = time.time()
        if self._cached is None or self._cached[1] - 60 < now:
            try:
                token = self._credential.get_token(self.scope)
            except AuthError:
                raise
            except Exception as exc:  # azure-identity raises several unrelated types
                raise AuthError(
                    f"could not get an Entra ID token for scope {self.scope}: {redact(str(exc).splitlines()[0])}",
                    hint="run `az login`, or use --auth key with AZURE_OPENAI_API_KEY",
                ) from exc
            register_secret(token.token)
            self._cached = (token.token, float(token.expires_on))
        return {"Authorization": f"Bearer {self._cached[0]}"}


def data_plane_auth(settings: DataPlaneSettings, env: Mapping[str, str]) -> DataPlaneAuth:
    if settings.auth == "key":
        key = env.get(ENV_API_KEY)
        if not key:
            raise AuthError(
                f"no API key: {ENV_API_KEY} is not set",
                hint=f"export {ENV_API_KEY}, or use --auth entra",
            )
        check_credential(key, ENV_API_KEY)
        return DataPlaneAuth(mode="key", description=f"api-key from {ENV_API_KEY}", _key=key)
    token = env.get(ENV_ACCESS_TOKEN)
    if token:
        return DataPlaneAuth(
            mode="entra",
            description=f"Entra ID token from {ENV_ACCESS_TOKEN} (scope {settings.scope})",
            scope=settings.scope,
            _credential=StaticTokenCredential(token),
        )
    from azure.identity import DefaultAzureCredential

    return DataPlaneAuth(
        mode="entra",
        description=f"Entra ID via DefaultAzureCredential (scope {settings.scope})",
        scope=settings.scope,
        _credential=DefaultAzureCredential(),
    )
