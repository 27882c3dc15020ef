"""Ids, names and numbers checked against what Azure accepts, before anything is sent.

An id goes into a URL path: ``.`` or ``..`` would address another endpoint (``DELETE
/openai/v1/responses/..`` is ``DELETE /openai/v1``), and a 100,000-character id is not a URL at
all. Names follow the ARM rules of their resource type (Microsoft.CognitiveServices account
names, resource group names, subscription ids). Numbers must be finite and within the range the
option documents. Every failure is a ``UsageError`` (exit 2) naming the option.
"""

from __future__ import annotations

import math
import re

from aoai.errors import UsageError

MAX_ID_LENGTH = 256
# Service-issued ids (resp_…, msg_…, call_…, mcpr_…): letters, digits, "_", "-" and ".", never
# starting with "." (so never "." or "..").
_OPAQUE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
# ARM: Microsoft.CognitiveServices/accounts name, 2-64 characters.
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,63}")
# ARM: resource group names, 1-90 characters of letters, digits, "_", "-", ".", "(", ")", not ending in ".".
_RESOURCE_GROUP = re.compile(r"[-\w.()]{0,89}[-\w()]")
_SUBSCRIPTION = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def opaque_id(value: str, what: str | None, *, kind: str = "id", example: str = "resp_0123abcd…") -> str:
    """A service-issued id (response, item, call, approval request); ``what`` names the option."""
    prefix = f"{what}: " if what else ""
    a_kind = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    if len(value) > MAX_ID_LENGTH:
        raise UsageError(f"{prefix}{_shown(value)} is not {a_kind} ({len(value)} characters, at most {MAX_ID_LENGTH})")
    if not _OPAQUE_ID.fullmatch(value):
        raise UsageError(f"{prefix}{_shown(value)} is not {a_kind}", hint=f"{kind}s look like {example}")
    return value


def response_id(value: str, what: str | None = None) -> str:
    return opaque_id(value, what, kind="response id", example="resp_0123abcd…")


def account_name(value: str, what: str = "--account") -> str:
    if not _ACCOUNT.fullmatch(value):
        raise UsageError(
            f"{what}: {_shown(value)} is not an Azure OpenAI account name",
            hint="2-64 letters, digits, '_', '-' or '.', starting with a letter or digit",
        )
    return value


def resource_group(value: str, what: str = "-g/--resource-group") -> str:
    if not _RESOURCE_GROUP.fullmatch(value):
        raise UsageError(
            f"{what}: {_shown(value)} is not a resource group name",
            hint="1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'",
        )
    return value


def subscription_id(value: str, what: str = "--subscription") -> str:
    if not _SUBSCRIPTION.fullmatch(value):
        raise UsageError(f"{what}: {_shown(value)} is not a subscription id", hint="a GUID, e.g. 00000000-0000-…")
    return value


def seconds(value: float | None, what: str, *, low: float, high: float) -> float | None:
    """A finite number of seconds in ``[low, high]`` (None passes: the option was not given)."""
    if value is None:
        return None
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(f"{what}: {value:g} is not a number of seconds from {low:g} to {high:g}")
    return value
