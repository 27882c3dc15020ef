"""Input items: validate and normalise what a client sends, extract the text a model would read,
count tokens, and make and read the opaque ``compaction`` / encrypted reasoning payloads.

Normalised items have the shapes the service lists under ``/responses/{id}/input_items``: a user,
system or developer message is ``{"id", "type": "message", "status", "role", "content": [input_text…]}``,
an assistant message carries ``output_text`` parts, and every other item type is kept as sent with an
id added when it had none.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from typing import Any

from aoai.emulator.dp_common import invalid_request, new_id
from aoai.emulator.dp_media import LOW_DETAIL_TOKENS, normalize_file_part, normalize_image_part, part_tokens
from aoai.emulator.textgen import count_tokens

ITEM_OVERHEAD_TOKENS = 4
AUDIO_TOKENS = 256

_MESSAGE_ROLES = ("user", "assistant", "system", "developer")
_INPUT_PARTS = ("input_text", "input_image", "input_file", "input_audio")
_OUTPUT_PARTS = ("output_text", "refusal")
# Item types the service accepts in ``input`` besides messages (and the id prefix it gives them).
_ITEM_PREFIXES = {
    "function_call": "fc",
    "function_call_output": "fco",
    "custom_tool_call": "ctc",
    "custom_tool_call_output": "ctco",
    "reasoning": "rs",
    "compaction": "cmp",
    "computer_call": "cu",
    "computer_call_output": "cuo",
    "web_search_call": "ws",
    "file_search_call": "fs",
    "image_generation_call": "ig",
    "code_interpreter_call": "ci",
    "local_shell_call": "lsh",
    "local_shell_call_output": "lsho",
    "shell_call": "sh",
    "shell_call_output": "sho",
    "apply_patch_call": "apc",
    "apply_patch_call_output": "apco",
    "mcp_list_tools": "mcpl",
    "mcp_approval_request": "mcpr",
    "mcp_approval_response": "mcpa",
    "mcp_call": "mcp",
}
_MAGIC = b"aoai-emulator/1"

ItemResolver = Callable[[str], dict[str, Any] | None]


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def user_message(text: str) -> dict[str, Any]:
    return {
        "id": new_id("msg"),
        "type": "message",
        "status": "completed",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }


def _content(role: str, content: Any, param: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        if role == "assistant":
            return [{"type": "output_text", "text": content, "annotations": [], "logprobs": []}]
        return [{"type": "input_text", "text": content}]
    if not isinstance(content, list):
        raise invalid_request(
            f"Invalid type for '{param}': expected one of a string or array of content parts, "
            f"but got {_type_name(content)} instead.",
            param=param,
            code="invalid_type",
        )
    allowed = _OUTPUT_PARTS if role == "assistant" else _INPUT_PARTS
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        where = f"{param}[{index}]"
        if not isinstance(part, dict):
            raise invalid_request(
                f"Invalid type for '{where}': expected an object, but got {_type_name(part)} instead.",
                param=where,
                code="invalid_type",
            )
        kind = part.get("type")
        if kind not in allowed:
            raise invalid_request(
                f"Invalid value: '{kind}'. Supported values are: {', '.join(repr(a) for a in allowed)}.",
                param=f"{where}.type",
                code="invalid_value",
            )
        if kind in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            raise invalid_request(
                f"Missing required parameter: '{where}.text'.", param=f"{where}.text", code="missing_required_parameter"
            )
        if kind == "input_image":
            parts.append(normalize_image_part(part, where))
            continue
        if kind == "input_file":
            parts.append(normalize_file_part(part, where))
            continue
        copied = dict(part)
        if kind == "output_text":
            copied.setdefault("annotations", [])
            copied.setdefault("logprobs", [])
        parts.append(copied)
    return parts


def _require(raw: dict[str, Any], where: str, key: str, kind: type | tuple[type, ...], expected: str) -> None:
    value = raw.get(key)
    if value is None:
        raise invalid_request(
            f"Missing required parameter: '{where}.{key}'.", param=f"{where}.{key}", code="missing_required_parameter"
        )
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise invalid_request(
            f"Invalid type for '{where}.{key}': expected {expected}, but got {_type_name(value)} instead.",
            param=f"{where}.{key}",
            code="invalid_type",
        )


_NOT_PERSISTED = (
    "Item with id '{id}' not found. Items are not persisted when `store` is set to false. "
    "Try again with `store` set to true, or remove this item from your input."
)


def _tool_item(kind: str, raw: dict[str, Any], where: str, resolve: ItemResolver) -> dict[str, Any]:
    """Validate one non-message input item and return it normalised (with an id and a status)."""
    if kind == "compaction":
        _require(raw, where, "encrypted_content", str, "a string")
    elif kind == "reasoning":
        _require(raw, where, "summary", list, "an array")
        blob = raw.get("encrypted_content")
        if blob is not None:
            if read_opaque(blob) is None:
                raise invalid_request(
                    f"The encrypted content for item {raw.get('id') or where} could not be verified.",
                    param=f"{where}.encrypted_content",
                    code="invalid_encrypted_content",
                )
        elif isinstance(raw.get("id"), str) and resolve(raw["id"]) is None:
            # Without its encrypted content a reasoning item is only a reference to a stored one.
            raise invalid_request(_NOT_PERSISTED.format(id=raw["id"]), param=f"{where}.id", status=404)
    elif kind == "function_call":
        _require(raw, where, "call_id", str, "a string")
        _require(raw, where, "name", str, "a string")
        _require(raw, where, "arguments", str, "a string")
    elif kind == "function_call_output":
        _require(raw, where, "call_id", str, "a string")
        _require(raw, where, "output", (str, list), "one of a string or array of content parts")
    elif kind == "mcp_approval_response":
        _require(raw, where, "approval_request_id", str, "a string")
        _require(raw, where, "approve", bool, "a boolean")
    elif kind == "mcp_approval_request":
        for key in ("server_label", "name", "arguments"):
            _require(raw, where, key, str, "a string")
    copied = dict(raw)
    if not isinstance(copied.get("id"), str):
        copied["id"] = new_id(_ITEM_PREFIXES[kind])
    if kind in ("function_call", "function_call_output") and copied.get("status") is None:
        copied["status"] = "completed"
    if kind == "mcp_approval_response":
        copied.setdefault("reason", None)
    return copied


def normalize_input(value: Any, resolve: ItemResolver, *, param: str = "input") -> list[dict[str, Any]]:
    """Validate ``input`` (a string or a list of items) and return normalised items with ids."""
    if value is None:
        return []
    if isinstance(value, str):
        return [user_message(value)]
    if not isinstance(value, list):
        raise invalid_request(
            f"Invalid type for '{param}': expected one of a string or array of input items, "
            f"but got {_type_name(value)} instead.",
            param=param,
            code="invalid_type",
        )
    items: list[dict[str, Any]] = []
    for index, raw in enumerate(value):
        where = f"{param}[{index}]"
        if not isinstance(raw, dict):
            raise invalid_request(
                f"Invalid type for '{where}': expected an input item, but got {_type_name(raw)} instead.",
                param=where,
                code="invalid_type",
            )
        kind = raw.get("type")
        if kind in (None, "message"):
            role = raw.get("role")
            if role is None:
                raise invalid_request(
                    f"Missing required parameter: '{where}.role'.",
                    param=f"{where}.role",
                    code="missing_required_parameter",
                )
            if role not in _MESSAGE_ROLES:
                raise invalid_request(
                    f"Invalid value: '{role}'. Supported values are: 'user', 'assistant', 'system', and 'developer'.",
                    param=f"{where}.role",
                    code="invalid_value",
                )
            if "content" not in raw:
                raise invalid_request(
                    f"Missing required parameter: '{where}.content'.",
                    param=f"{where}.content",
                    code="missing_required_parameter",
                )
            item_id = raw.get("id") if isinstance(raw.get("id"), str) else new_id("msg")
            status = raw.get("status") if raw.get("status") in ("in_progress", "completed", "incomplete") else None
            items.append(
                {
                    "id": item_id,
                    "type": "message",
                    "status": status or "completed",
                    "role": role,
                    "content": _content(role, raw["content"], f"{where}.content"),
                }
            )
        elif kind == "item_reference":
            ref = raw.get("id")
            found = resolve(ref) if isinstance(ref, str) else None
            if found is None:
                raise invalid_request(f"Item with id '{ref}' not found.", param=f"{where}.id", code=None, status=404)
            items.append(found)
        elif isinstance(kind, str) and kind in _ITEM_PREFIXES:
            items.append(_tool_item(kind, raw, where, resolve))
        else:
            raise invalid_request(
                f"Invalid value: '{kind}'. Supported values are: 'message', 'item_reference', "
                + ", ".join(f"'{k}'" for k in _ITEM_PREFIXES)
                + ".",
                param=f"{where}.type",
                code="invalid_value",
            )
    return items


def _parts_text(content: Any) -> tuple[str, int]:
    """(text, extra tokens for images/files) of a message's content."""
    if isinstance(content, str):
        return content, 0
    texts: list[str] = []
    extra = 0
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        elif part.get("type") in ("input_image", "input_file"):
            extra += part_tokens(part)
        elif part.get("type") == "input_audio":
            extra += AUDIO_TOKENS
    return "\n".join(texts), extra


def attachment_names(item: dict[str, Any]) -> list[str]:
    """What a message attaches, for the answer to acknowledge: file names, then "an image" per image."""
    names: list[str] = []
    images = 0
    content = item.get("content")
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "input_file":
            names.append(str(part.get("filename") or "a file"))
        elif part.get("type") == "input_image":
            images += 1
    if images == 1:
        names.append("an image")
    elif images > 1:
        names.append(f"{images} images")
    return names


def item_text(item: dict[str, Any]) -> str:
    """The readable text of an item (what the deterministic 'model' reads)."""
    kind = item.get("type")
    if kind == "message":
        return _parts_text(item.get("content"))[0]
    if kind in ("compaction",):
        return ""
    if kind == "reasoning":
        return " ".join(s.get("text", "") for s in item.get("summary", []) if isinstance(s, dict))
    if kind in ("function_call", "mcp_approval_request"):
        return f"{item.get('name', '')}({item.get('arguments', '')})"
    if kind == "mcp_call":
        return f"{item.get('name', '')}({item.get('arguments', '')}) -> {item.get('output') or ''}"
    if kind == "image_generation_call":
        return str(item.get("revised_prompt") or "")
    if kind == "mcp_list_tools":
        return json.dumps(item.get("tools", []), sort_keys=True)
    output = item.get("output")
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return _parts_text(output)[0]
    return json.dumps({k: v for k, v in item.items() if k != "id"}, sort_keys=True)


def item_tokens(item: dict[str, Any]) -> int:
    kind = item.get("type")
    if kind == "compaction":
        payload = read_opaque(item.get("encrypted_content"))
        tokens = payload.get("t") if payload else None
        if not isinstance(tokens, int):
            tokens = len(str(item.get("encrypted_content"))) // 8
        return ITEM_OVERHEAD_TOKENS + tokens
    if kind == "reasoning":
        payload = read_opaque(item.get("encrypted_content"))
        tokens = payload.get("t") if payload else None
        if isinstance(tokens, int):
            return tokens
    if kind == "message":
        text, extra = _parts_text(item.get("content"))
        return ITEM_OVERHEAD_TOKENS + count_tokens(text) + extra
    if kind == "function_call_output" and isinstance(item.get("output"), list):
        text, extra = _parts_text(item.get("output"))
        return ITEM_OVERHEAD_TOKENS + count_tokens(text) + extra
    if kind == "image_generation_call":
        return ITEM_OVERHEAD_TOKENS + LOW_DETAIL_TOKENS + count_tokens(item_text(item))
    return ITEM_OVERHEAD_TOKENS + count_tokens(item_text(item))


def context_tokens(items: list[dict[str, Any]], instructions: str) -> int:
    total = sum(item_tokens(item) for item in items)
    if instructions:
        total += ITEM_OVERHEAD_TOKENS + count_tokens(instructions)
    return total + 3  # priming of the assistant turn


def is_user_message(item: dict[str, Any]) -> bool:
    return item.get("type") == "message" and item.get("role") == "user"


def prune(context: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the model sees: the latest compaction item carries everything before it except the user
    messages, which compaction keeps verbatim (as ``/responses/compact`` returns them)."""
    for index in range(len(context) - 1, -1, -1):
        if context[index].get("type") == "compaction":
            return [item for item in context[:index] if is_user_message(item)] + context[index:]
    return context


def last_user_text(items: list[dict[str, Any]]) -> str:
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            return item_text(item)
    return ""


def make_opaque(payload: dict[str, Any]) -> str:
    """An opaque, non-human-readable blob (Fernet-looking) that the emulator can read back."""
    raw = zlib.compress(_MAGIC + json.dumps(payload, sort_keys=True).encode(), 9)
    return "gAAAAAB" + base64.urlsafe_b64encode(raw).decode("ascii")


def read_opaque(blob: Any) -> dict[str, Any] | None:
    if not isinstance(blob, str) or not blob.startswith("gAAAAAB"):
        return None
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(blob[7:].encode("ascii")))
    except (ValueError, zlib.error):
        return None
    if not raw.startswith(_MAGIC):
        return None
    try:
        payload = json.loads(raw[len(_MAGIC) :])
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def compaction_item(summarised_tokens: int, digest: str) -> dict[str, Any]:
    """A compaction item standing for ``summarised_tokens`` of earlier context (about a tenth of it)."""
    tokens = max(32, summarised_tokens // 10)
    return {
        "id": new_id("cmp"),
        "type": "compaction",
        "encrypted_content": make_opaque({"kind": "compaction", "t": tokens, "of": summarised_tokens, "d": digest}),
    }
