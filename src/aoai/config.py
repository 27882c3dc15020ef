"""Settings: a flag beats the environment, which beats the profile file, which beats the default.

Nothing here reads ``os.environ`` directly: callers pass the environment mapping in, so tests
and the emulator can hand over their own. Endpoints are normalised once, here.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aoai.errors import UsageError
from aoai.redaction import register_secret

ENV_ENDPOINT = "AZURE_OPENAI_ENDPOINT"
ENV_API_KEY = "AZURE_OPENAI_API_KEY"
ENV_SUBSCRIPTION = "AZURE_SUBSCRIPTION_ID"
ENV_TENANT = "AZURE_TENANT_ID"
ENV_ARM_ENDPOINT = "AOAI_ARM_ENDPOINT"
ENV_ACCESS_TOKEN = "AOAI_ACCESS_TOKEN"
ENV_CREDENTIAL = "AOAI_CREDENTIAL"
ENV_CONFIG = "AOAI_CONFIG"
ENV_STATE_DIR = "AOAI_STATE_DIR"
ENV_CA_BUNDLES = ("AOAI_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")

DATA_PLANE_SCOPE = "https://ai.azure.com/.default"

CLOUD_ARM_ENDPOINTS = {
    "public": "https://management.azure.com",
    "usgov": "https://management.usgovcloudapi.net",
    "china": "https://management.chinacloudapi.cn",
}

# Host suffixes of Azure OpenAI / Foundry data-plane endpoints (public, US Gov, China clouds).
_KNOWN_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
    ".openai.azure.us",
    ".cognitiveservices.azure.us",
    ".openai.azure.cn",
    ".cognitiveservices.azure.cn",
)


# What the profile file may set (top-level string keys); anything else is refused, not ignored.
PROFILE_KEYS = frozenset({"endpoint", "auth", "scope", "deployment", "arm_endpoint", "credential", "subscription"})


def unknown_key_message(key: str, known: Iterable[str]) -> str:
    """"unknown key (did you mean 'x'? known: ...)" for a key a file may not hold."""
    known = sorted(known)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key ({guess}known: {', '.join(known)})"


def check_regular_file(path: Path, what: str) -> None:
    """Refuse a path that exists (or is a link) but is not a readable regular file."""
    if path.is_symlink() and not path.exists():
        raise UsageError(f"{what} {path} is a dangling link (to {os.readlink(path)})", hint="fix or remove the link")
    if path.is_dir():
        raise UsageError(f"{what} {path} is a directory, not a file", hint="give the path of a TOML file")
    if not path.is_file():
        raise UsageError(f"{what} {path} is not a regular file", hint="give the path of a TOML file")


def read_toml(path: Path, what: str) -> tuple[bytes, str, dict[str, Any]]:
    """A TOML file's bytes, text and document; UsageError naming the file and position otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UsageError(
            f"{path}:{line}:{column}: {what} is not UTF-8 (byte 0x{data[exc.start]:02x})",
            hint="save the file as UTF-8",
        ) from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}", hint=f"fix the {what}") from exc
    return data, text, document


def _key_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def load_profile(env: Mapping[str, str]) -> dict[str, Any]:
    """The user's profile file (``$AOAI_CONFIG`` or ``$XDG_CONFIG_HOME/aoai/config.toml``), or {}.

    A file that exists is understood completely or refused: unknown keys, non-string values, a
    directory or a dangling link are usage errors naming the file (and line), never ignored.
    """
    explicit = env.get(ENV_CONFIG)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"profile file {path} ({ENV_CONFIG}) does not exist", hint="fix the path or unset it")
    else:
        base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
        path = Path(base) / "aoai" / "config.toml"
        if not path.exists() and not path.is_symlink():
            return {}
    check_regular_file(path, "profile file")
    _, text, document = read_toml(path, "profile file")
    for key, value in document.items():
        line = _key_line(text, key)
        location = f"{path}:{line}" if line else str(path)
        if key not in PROFILE_KEYS:
            message = unknown_key_message(key, PROFILE_KEYS)
            raise UsageError(f"{location}: {key}: {message}", hint="fix the profile file")
        if not isinstance(value, str):
            raise UsageError(f"{location}: {key}: must be a string, not {value!r}", hint="fix the profile file")
    return document


def resolve(
    flag: str | None,
    env: Mapping[str, str],
    env_names: tuple[str, ...],
    profile: Mapping[str, Any],
    profile_key: str,
    default: str | None = None,
) -> str | None:
    """One setting by precedence: flag > first set environment variable > profile > default."""
    if flag not in (None, ""):
        return flag
    for name in env_names:
        value = env.get(name)
        if value:
            return value
    value = profile.get(profile_key)
    if isinstance(value, str) and value:
        return value
    return default


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_scheme(url: str, what: str) -> tuple[str, str, str]:
    parts = urlsplit(url.strip())
    if "@" in parts.netloc:
        # Never echo the URL: the part before "@" is a password (now known to the redactor).
        register_secret(parts.netloc.rpartition("@")[0])
        register_secret(parts.password)
        raise UsageError(
            f"the {what} contains credentials (user:password@); refused",
            hint="remove them from the URL: authenticate with an API key or Entra ID",
        )
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(
            f"malformed {what} {url!r}",
            hint="give a full URL such as https://NAME.openai.azure.com",
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise UsageError(
            f"{what} {url!r} uses plain http",
            hint="use https (plain http is accepted only for loopback addresses)",
        )
    return parts.scheme, parts.netloc, parts.path


def normalize_endpoint(url: str) -> str:
    """Return the data-plane base URL ``https://HOST[:PORT]/openai/v1``.

    Accepts ``https://NAME.openai.azure.com``, ``…/openai``, ``…/openai/v1/``, and the
    ``cognitiveservices.azure.com`` and ``services.ai.azure.com`` forms (with or without a
    Foundry ``/api/projects/...`` path, which the Responses API does not use).
    """
    scheme, netloc, path = _check_scheme(url, "endpoint")
    path = path.rstrip("/")
    for suffix in ("/openai/v1", "/openai"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    if path.startswith("/api/projects"):
        path = ""
    if path:
        raise UsageError(
            f"unexpected path {path!r} in endpoint {url!r}",
            hint="use the resource endpoint, e.g. https://NAME.openai.azure.com",
        )
    return f"{scheme}://{netloc}/openai/v1"


def endpoint_host(base_url: str) -> str:
    return urlsplit(base_url).netloc


def looks_like_azure_host(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    return host.endswith(_KNOWN_HOST_SUFFIXES)


def normalize_arm_endpoint(url: str) -> str:
    scheme, netloc, path = _check_scheme(url, "ARM endpoint")
    if path.strip("/"):
        raise UsageError(f"ARM endpoint {url!r} must not have a path", hint="e.g. https://management.azure.com")
    return f"{scheme}://{netloc}"


def ca_bundle(flag: str | None, env: Mapping[str, str]) -> str | None:
    """Custom CA bundle path (flag, then AOAI_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE)."""
    value = resolve(flag, env, ENV_CA_BUNDLES, {}, "")
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise UsageError(f"CA bundle {value!r} does not exist", hint="fix --ca-bundle or the *_CA_BUNDLE variable")
    _check_ca_bundle(path, value)
    return str(path)


def _check_ca_bundle(path: Path, shown: str) -> None:
    """Load the bundle once now: garbage would otherwise surface as an SSLError at the first request."""
    import ssl

    from aoai.userinput import MAX_INPUT_BYTES

    hint = "give a PEM file of CA certificates (--ca-bundle or the *_CA_BUNDLE variable)"
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise UsageError(f"CA bundle {shown!r} is larger than 50 MB", hint=hint)
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"CA bundle {shown!r} holds no usable certificate ({reason})", hint=hint) from None


def state_dir(env: Mapping[str, str]) -> Path:
    """Where local state (the journal) lives: $AOAI_STATE_DIR, $XDG_STATE_HOME/aoai, ~/.local/state/aoai."""
    if env.get(ENV_STATE_DIR):
        return Path(env[ENV_STATE_DIR]).expanduser()
    if env.get("XDG_STATE_HOME"):
        return Path(env["XDG_STATE_HOME"]).expanduser() / "aoai"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".local" / "state" / "aoai"


@dataclass(frozen=True)
class DataPlaneSettings:
    """What a ``resp`` command needs to reach the data plane (no secret values here)."""

    base_url: str
    auth: str  # "key" or "entra"
    scope: str
    ca_bundle: str | None


def data_plane_settings(
    env: Mapping[str, str],
    *,
    endpoint: str | None,
    auth: str | None,
    scope: str | None,
    ca_bundle_flag: str | None,
) -> DataPlaneSettings:
    profile = load_profile(env)
    raw = resolve(endpoint, env, (ENV_ENDPOINT,), profile, "endpoint")
    if not raw:
        raise UsageError(
            "no endpoint given",
            hint=f"pass --endpoint https://NAME.openai.azure.com or set {ENV_ENDPOINT}",
        )
    mode = resolve(auth, env, ("AOAI_AUTH",), profile, "auth")
    if mode is None:
        mode = "key" if env.get(ENV_API_KEY) else "entra"
    if mode not in ("key", "entra"):
        raise UsageError(f"unknown auth mode {mode!r}", hint="use --auth key or --auth entra")
    return DataPlaneSettings(
        base_url=normalize_endpoint(raw),
        auth=mode,
        scope=resolve(scope, env, ("AOAI_SCOPE",), profile, "scope", DATA_PLANE_SCOPE) or DATA_PLANE_SCOPE,
        ca_bundle=ca_bundle(ca_bundle_flag, env),
    )


@dataclass(frozen=True)
class ArmSettings:
    endpoint: str
    credential: str  # auto|cli|env|workload|managed-identity|default|token
    ca_bundle: str | None
    subscription: str | None


CREDENTIAL_KINDS = ("auto", "cli", "env", "workload", "managed-identity", "default", "token")


def arm_settings(
    env: Mapping[str, str],
    *,
    arm_endpoint: str | None,
    cloud: str | None,
    credential: str | None,
    ca_bundle_flag: str | None,
    subscription: str | None,
) -> ArmSettings:
    profile = load_profile(env)
    cloud_name = cloud or "public"
    if cloud_name not in CLOUD_ARM_ENDPOINTS:
        raise UsageError(f"unknown cloud {cloud_name!r}", hint=f"use one of {', '.join(CLOUD_ARM_ENDPOINTS)}")
    raw = resolve(arm_endpoint, env, (ENV_ARM_ENDPOINT,), profile, "arm_endpoint")
    endpoint = normalize_arm_endpoint(raw) if raw else CLOUD_ARM_ENDPOINTS[cloud_name]
    kind = resolve(credential, env, (ENV_CREDENTIAL,), profile, "credential", "auto") or "auto"
    if kind not in CREDENTIAL_KINDS:
        raise UsageError(f"unknown credential {kind!r}", hint=f"use one of {', '.join(CREDENTIAL_KINDS)}")
    return ArmSettings(
        endpoint=endpoint,
        credential=kind,
        ca_bundle=ca_bundle(ca_bundle_flag, env),
        subscription=resolve(subscription, env, (ENV_SUBSCRIPTION,), profile, "subscription"),
    )
