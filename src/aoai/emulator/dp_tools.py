"""Tools: validate the ``tools`` a request offers and decide, deterministically, which ones the
"model" calls. Nothing here contacts anything: MCP servers and the image model are emulated.

Validation (400s in OpenAI's shape): a ``function`` tool needs a ``name``; an ``mcp`` tool needs a
``server_label`` (letters, digits, ``_``, ``-``; unique) and an ``https://`` ``server_url`` (or a
``connector_id``), ``headers`` must map strings to strings, ``require_approval`` is ``always``
(the default), ``never`` or ``{"always"|"never": {"tool_names": [...]}}``; an ``image_generation``
tool needs the ``x-ms-oai-image-generation-deployment`` header (see ``dataplane``) and cannot be
streamed — Azure OpenAI does not support image generation in streaming mode, so ``stream=true``
with that tool is a 400. Echoed tools never carry MCP ``headers`` / ``authorization`` values.

Decisions, for a turn whose new input holds a user message (``prompt``):

- a ``function`` tool is called when the prompt mentions its name (``get_weather`` or
  ``get weather``, any case), or when ``tool_choice`` forces it (``{"type": "function", "name"}``,
  or ``required``: the mentioned ones, else the first tool). Arguments are generated from the
  ``parameters`` schema (strings from the prompt). The response then ends with the
  ``function_call`` items, status ``completed``, and no message.
- an ``mcp`` server is first listed (one ``mcp_list_tools`` item per server not yet listed in the
  conversation: tools ``search`` and ``fetch``, filtered by ``allowed_tools``); a tool of it is called
  when the prompt mentions the server label or the tool name (or ``tool_choice`` forces it). When
  approval is required an ``mcp_approval_request`` item ends the response; else an ``mcp_call`` with
  an emulated output is followed by a message quoting it.
- the ``image_generation`` tool is called when the prompt asks for an image (image, picture,
  photo, draw, illustration, logo…) or ``tool_choice`` forces it: an ``image_generation_call``
  whose ``result`` is a base64 PNG (1/16 of the nominal size: 64×64 for 1024x1024), then a message.
- ``parallel_tool_calls=false`` keeps only the first call; ``tool_choice="none"`` calls nothing.

Follow-ups: every ``function_call_output`` must answer a ``function_call`` of the conversation
(else 400 ``No tool call found for function call output with call_id …``) and every function call
of the conversation must have its output (else 400 ``No tool output found for function call …``).
An ``mcp_approval_response`` must name an ``mcp_approval_request`` of the conversation whose server
is still among the tools; approved, it yields an ``mcp_call`` (with ``approval_request_id``) and a
message quoting its output; denied, no call and a message saying it was not approved. A turn that
carries tool results does not call tools again unless ``tool_choice`` is ``required`` or forced.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from aoai.emulator import textgen
from aoai.emulator.dp_common import ApiError, invalid_request, new_id
from aoai.emulator.dp_media import make_png

IMAGE_DEPLOYMENT_HEADER = "x-ms-oai-image-generation-deployment"
APPROVAL_MODES = ("always", "never")
IMAGE_SIZES = ("auto", "1024x1024", "1024x1536", "1536x1024")
IMAGE_QUALITIES = ("auto", "low", "medium", "high")
IMAGE_BACKGROUNDS = ("auto", "transparent", "opaque")
IMAGE_FORMATS = ("png", "jpeg", "webp")
IMAGE_SCALE = 16
MAX_QUOTED_OUTPUT = 300

_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_IMAGE_WORDS = re.compile(
    r"\b(image|images|picture|pictures|photo|photos|draw|drawing|illustration|illustrate|sketch|logo|icon|"
    r"painting|paint|render)\b",
    re.I,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]{2,})\b")

_IMAGE_DEFAULTS: dict[str, Any] = {
    "type": "image_generation",
    "background": "auto",
    "model": "gpt-image-1",
    "moderation": "auto",
    "output_compression": 100,
    "output_format": "png",
    "partial_images": 0,
    "quality": "auto",
    "size": "auto",
}


def _missing(param: str) -> ApiError:
    return invalid_request(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def _bad_value(param: str, value: Any, allowed: tuple[str, ...]) -> ApiError:
    return invalid_request(
        f"Invalid value: '{value}'. Supported values are: {', '.join(repr(a) for a in allowed)}.",
        param=param,
        code="invalid_value",
    )


# -- validation -----------------------------------------------------------------------------------


def _function_tool(tool: dict[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(tool.get("name"), str) or not tool["name"]:
        raise _missing(f"{where}.name")
    if tool.get("parameters") is not None and not isinstance(tool.get("parameters"), dict):
        raise invalid_request(
            f"Invalid type for '{where}.parameters': expected an object.",
            param=f"{where}.parameters",
            code="invalid_type",
        )
    normalised = {
        "type": "function",
        "name": tool["name"],
        "description": tool.get("description"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict") if isinstance(tool.get("strict"), bool) else True,
    }
    normalised.update({k: v for k, v in tool.items() if k not in normalised})
    return normalised


def _tool_names(value: Any, param: str) -> list[str] | None:
    if value is None:
        return None
    names = value.get("tool_names") if isinstance(value, dict) else value
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise invalid_request(
            f"Invalid type for '{param}': expected an array of tool names.", param=param, code="invalid_type"
        )
    return list(names)


def _mcp_tool(tool: dict[str, Any], where: str) -> dict[str, Any]:
    label = tool.get("server_label")
    if not isinstance(label, str) or not label:
        raise _missing(f"{where}.server_label")
    if not _LABEL.match(label):
        raise invalid_request(
            f"Invalid '{where}.server_label': use 1 to 64 letters, digits, '_' or '-'.",
            param=f"{where}.server_label",
            code="invalid_value",
        )
    url = tool.get("server_url")
    if url is None and tool.get("connector_id") is None:
        raise _missing(f"{where}.server_url")
    if url is not None and (not isinstance(url, str) or not url.lower().startswith("https://") or len(url) < 9):
        raise invalid_request(
            f"Invalid '{where}.server_url': expected an https:// URL (the service connects to MCP servers over TLS).",
            param=f"{where}.server_url",
            code="invalid_value",
        )
    headers = tool.get("headers")
    if headers is not None and not (
        isinstance(headers, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    ):
        raise invalid_request(
            f"Invalid type for '{where}.headers': expected an object of strings.",
            param=f"{where}.headers",
            code="invalid_type",
        )
    approval = tool.get("require_approval", "always")
    if approval is None:
        approval = "always"
    if isinstance(approval, str):
        if approval not in APPROVAL_MODES:
            raise _bad_value(f"{where}.require_approval", approval, APPROVAL_MODES)
    elif isinstance(approval, dict):
        for mode, value in approval.items():
            if mode not in APPROVAL_MODES:
                raise _bad_value(f"{where}.require_approval", mode, APPROVAL_MODES)
            _tool_names(value, f"{where}.require_approval.{mode}")
    else:
        raise invalid_request(
            f"Invalid type for '{where}.require_approval': expected one of a string or object.",
            param=f"{where}.require_approval",
            code="invalid_type",
        )
    _tool_names(tool.get("allowed_tools"), f"{where}.allowed_tools")
    echoed = {
        "type": "mcp",
        "server_label": label,
        "server_url": url,
        "allowed_tools": tool.get("allowed_tools"),
        "headers": None,  # never echoed: header values are usually credentials
        "require_approval": approval,
        "server_description": tool.get("server_description"),
    }
    for key, value in tool.items():
        if key not in echoed and key not in ("authorization",):
            echoed[key] = value
    return echoed


def _image_tool(tool: dict[str, Any], where: str) -> dict[str, Any]:
    echoed = {**_IMAGE_DEFAULTS, **{k: v for k, v in tool.items() if v is not None}}
    for key, allowed in (
        ("size", IMAGE_SIZES),
        ("quality", IMAGE_QUALITIES),
        ("background", IMAGE_BACKGROUNDS),
        ("output_format", IMAGE_FORMATS),
    ):
        if echoed[key] not in allowed:
            raise _bad_value(f"{where}.{key}", echoed[key], allowed)
    partial = echoed["partial_images"]
    if isinstance(partial, bool) or not isinstance(partial, int) or not 0 <= partial <= 3:
        raise invalid_request(
            f"Invalid '{where}.partial_images': expected an integer from 0 to 3, but got {partial!r}.",
            param=f"{where}.partial_images",
            code="invalid_value",
        )
    return echoed


def normalize_tools(value: Any) -> list[dict[str, Any]]:
    """Validate ``tools`` and return them as the response echoes them."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_request("Invalid type for 'tools': expected an array.", param="tools", code="invalid_type")
    tools: list[dict[str, Any]] = []
    labels: set[str] = set()
    for index, tool in enumerate(value):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise invalid_request(f"Invalid type for '{where}': expected an object.", param=where, code="invalid_type")
        kind = tool.get("type")
        if not isinstance(kind, str):
            raise _missing(f"{where}.type")
        if kind == "function":
            tools.append(_function_tool(tool, where))
        elif kind == "mcp":
            echoed = _mcp_tool(tool, where)
            if echoed["server_label"] in labels:
                raise invalid_request(
                    f"Invalid '{where}.server_label': '{echoed['server_label']}' is used by another MCP tool.",
                    param=f"{where}.server_label",
                    code="invalid_value",
                )
            labels.add(echoed["server_label"])
            tools.append(echoed)
        elif kind == "image_generation":
            if any(t["type"] == "image_generation" for t in tools):
                raise invalid_request(
                    f"Invalid '{where}': only one image_generation tool is allowed.", param=where, code="invalid_value"
                )
            tools.append(_image_tool(tool, where))
        else:
            tools.append(dict(tool))
    return tools


def check_tool_choice(choice: Any, tools: list[dict[str, Any]]) -> None:
    """A forced choice must name a tool that is offered."""
    if not isinstance(choice, dict):
        return
    kind = choice.get("type")
    if kind == "function":
        if not any(t["type"] == "function" and t.get("name") == choice.get("name") for t in tools):
            raise invalid_request(
                "Tool choice 'function' not found in 'tools' parameter.", param="tool_choice", code="invalid_value"
            )
    elif kind == "mcp":
        if not any(t["type"] == "mcp" and t.get("server_label") == choice.get("server_label") for t in tools):
            raise invalid_request(
                "Tool choice 'mcp' not found in 'tools' parameter.", param="tool_choice", code="invalid_value"
            )
    elif kind == "image_generation" and not any(t["type"] == "image_generation" for t in tools):
        raise invalid_request(
            "Tool choice 'image_generation' not found in 'tools' parameter.", param="tool_choice", code="invalid_value"
        )


def has_image_tool(tools: list[dict[str, Any]]) -> bool:
    return any(t.get("type") == "image_generation" for t in tools)


# -- emulated MCP servers -------------------------------------------------------------------------


def mcp_server_tools(tool: dict[str, Any]) -> list[dict[str, Any]]:
    """The tools an emulated MCP server lists (``search`` and ``fetch``), filtered by ``allowed_tools``."""
    label = tool["server_label"]
    listed = [
        {
            "name": "search",
            "description": f"Search {label} and return the best matching passages.",
            "input_schema": {
                "type": "object",
                "properties": {"query": {"type": "string", "description": "What to look for."}},
                "required": ["query"],
                "additionalProperties": False,
            },
            "annotations": {"read_only": True},
        },
        {
            "name": "fetch",
            "description": f"Fetch one document from {label} by its id.",
            "input_schema": {
                "type": "object",
                "properties": {"id": {"type": "string", "description": "The document id."}},
                "required": ["id"],
                "additionalProperties": False,
            },
            "annotations": {"read_only": True},
        },
    ]
    allowed = _tool_names(tool.get("allowed_tools"), "allowed_tools")
    if allowed is not None:
        listed = [entry for entry in listed if entry["name"] in allowed]
    return listed


def needs_approval(tool: dict[str, Any], name: str) -> bool:
    mode = tool.get("require_approval") or "always"
    if isinstance(mode, str):
        return mode != "never"
    # ``always`` is the default, so only an explicit ``never`` list lifts the approval.
    return name not in (_tool_names(mode.get("never"), "never") or [])


def _mcp_output(tool: dict[str, Any], name: str, arguments: str) -> str:
    target = tool.get("server_url") or tool.get("connector_id")
    return (
        f"[emulated {tool['server_label']}.{name}; {target} was not contacted] "
        f"3 documents match {arguments}: overview, reference, changelog."
    )


# -- arguments ------------------------------------------------------------------------------------


def _place(prompt: str) -> str | None:
    match = _CAPITALISED.search(prompt)
    return match.group(1) if match else None


def fill_arguments(schema: Any, prompt: str, seed: str) -> dict[str, Any]:
    """Arguments for a call: a JSON object that fits ``schema`` (objects, strings, numbers, enums…)."""
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode("utf-8", "surrogatepass")).digest()[:8], "big"))
    value = _fill(schema if isinstance(schema, dict) else {}, "", prompt, rng, 0)
    return value if isinstance(value, dict) else {}


def _string_for(name: str, prompt: str) -> str:
    lowered = name.lower()
    text = " ".join(prompt.split())
    if any(word in lowered for word in ("city", "location", "place", "country", "region", "town")):
        return _place(prompt) or "Stockholm"
    if any(word in lowered for word in ("query", "question", "prompt", "text", "search", "q")):
        return text[:200] or "latest"
    if lowered in ("id", "document_id", "doc_id"):
        return "doc-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    if "date" in lowered:
        return "2026-11-21"
    if "unit" in lowered:
        return "celsius"
    words = textgen._topic(prompt)
    return words if words != "your question" else "example"


def _fill(schema: dict[str, Any], name: str, prompt: str, rng: random.Random, depth: int) -> Any:
    if depth > 6:
        return None
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "const" in schema:
        return schema["const"]
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list) and options and isinstance(options[0], dict):
        return _fill(options[0], name, prompt, rng, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema) or (kind is None and depth == 0):
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        return {
            key: _fill(sub if isinstance(sub, dict) else {}, key, prompt, rng, depth + 1)
            for key, sub in properties.items()
        }
    if kind == "array":
        items = schema.get("items")
        return [_fill(items if isinstance(items, dict) else {}, name, prompt, rng, depth + 1)]
    if kind == "integer":
        return rng.randint(1, 10)
    if kind == "number":
        return round(rng.uniform(1, 100), 2)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string_for(name, prompt)


# -- planning -------------------------------------------------------------------------------------


@dataclass
class ToolPlan:
    """What the tools contribute to one response."""

    items: list[dict[str, Any]] = field(default_factory=list)  # output items, in order, final state
    prefix: list[str] = field(default_factory=list)  # sentences the message starts with
    message: bool = True  # False when the response ends with calls the client must answer
    tokens: int = 0  # output tokens the items cost (call arguments)


def _mentions(prompt: str, name: str) -> bool:
    if not prompt or not name:
        return False
    spaced = re.sub(r"[_\-]+", " ", name)
    for candidate in {name, spaced}:
        if re.search(r"(?<![\w])" + re.escape(candidate) + r"(?![\w])", prompt, re.I):
            return True
    return False


def _quote(output: Any) -> str:
    if isinstance(output, list):
        output = " ".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
    text = " ".join(str(output).split())
    return text if len(text) <= MAX_QUOTED_OUTPUT else text[: MAX_QUOTED_OUTPUT - 1] + "…"


def _not_found(message: str) -> ApiError:
    return invalid_request(message, param="input", code=None)


def _check_results(
    new_items: list[dict[str, Any]], context: list[dict[str, Any]], mcp: dict[str, dict[str, Any]]
) -> None:
    calls = {item.get("call_id"): item for item in context if item.get("type") == "function_call"}
    outputs = {item.get("call_id") for item in context if item.get("type") == "function_call_output"}
    requests = {item.get("id"): item for item in context if item.get("type") == "mcp_approval_request"}
    for item in new_items:
        if item.get("type") == "function_call_output" and item.get("call_id") not in calls:
            raise _not_found(f"No tool call found for function call output with call_id {item.get('call_id')}.")
        if item.get("type") == "mcp_approval_response":
            request = requests.get(item.get("approval_request_id"))
            if request is None:
                raise _not_found(f"No approval request found with id '{item.get('approval_request_id')}'.")
            if request.get("server_label") not in mcp:
                raise invalid_request(
                    f"The MCP server '{request.get('server_label')}' of approval request "
                    f"'{item.get('approval_request_id')}' is not among this request's tools.",
                    param="tools",
                    code=None,
                )
    for call_id in calls:
        if call_id not in outputs:
            raise _not_found(f"No tool output found for function call {call_id}.")


def _function_call(tool: dict[str, Any], prompt: str) -> dict[str, Any]:
    arguments = json.dumps(fill_arguments(tool.get("parameters"), prompt, tool["name"] + "\x1f" + prompt))
    return {
        "id": new_id("fc"),
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": "call_" + new_id("x")[2:26],
        "name": tool["name"],
    }


def _mcp_arguments(listed: dict[str, Any], prompt: str) -> str:
    return json.dumps(fill_arguments(listed["input_schema"], prompt, listed["name"] + "\x1f" + prompt))


def _mcp_call(
    tool: dict[str, Any], name: str, arguments: str, approval_request_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": new_id("mcp"),
        "type": "mcp_call",
        "approval_request_id": approval_request_id,
        "arguments": arguments,
        "error": None,
        "name": name,
        "output": _mcp_output(tool, name, arguments),
        "server_label": tool["server_label"],
        "status": "completed",
    }


def _image_call(tool: dict[str, Any], prompt: str) -> dict[str, Any]:
    size = tool.get("size") or "auto"
    nominal = "1024x1024" if size == "auto" else size
    width, height = (int(v) // IMAGE_SCALE for v in nominal.split("x"))
    revised = " ".join(prompt.split())[:400] or "An image."
    png = make_png(revised + "\x1f" + nominal, width, height)
    quality = tool.get("quality") or "auto"
    return {
        "id": new_id("ig"),
        "type": "image_generation_call",
        "status": "completed",
        "action": "generate",
        "background": "opaque" if tool.get("background") in (None, "auto") else tool["background"],
        "output_format": "png",
        "quality": "medium" if quality == "auto" else quality,
        "result": base64.b64encode(png).decode("ascii"),
        "revised_prompt": revised,
        "size": nominal,
    }


def plan(
    tools: list[dict[str, Any]],
    tool_choice: Any,
    parallel: bool,
    *,
    new_items: list[dict[str, Any]],
    context: list[dict[str, Any]],
    prompt: str,
    context_prompt: str = "",
) -> ToolPlan:
    """Decide the tool items of one response (see the module docstring for the rules).

    ``prompt`` is the user text of this turn's new input ("" when it has none, e.g. a turn of tool
    results); ``context_prompt`` the latest user text of the whole conversation."""
    functions = {t["name"]: t for t in tools if t.get("type") == "function"}
    mcp = {t["server_label"]: t for t in tools if t.get("type") == "mcp"}
    image = next((t for t in tools if t.get("type") == "image_generation"), None)
    _check_results(new_items, context, mcp)
    result = ToolPlan()

    listed = {item.get("server_label") for item in context if item.get("type") == "mcp_list_tools"}
    for label, tool in mcp.items():
        if label not in listed:
            result.items.append(
                {"id": new_id("mcpl"), "type": "mcp_list_tools", "server_label": label, "tools": mcp_server_tools(tool)}
            )

    calls_by_id = {item.get("call_id"): item for item in context if item.get("type") == "function_call"}
    requests = {item.get("id"): item for item in context if item.get("type") == "mcp_approval_request"}
    answered = False
    for item in new_items:
        if item.get("type") == "function_call_output":
            answered = True
            call = calls_by_id[item.get("call_id")]
            result.prefix.append(f"Based on the result of {call.get('name')}: {_quote(item.get('output'))}.")
        elif item.get("type") == "mcp_approval_response":
            answered = True
            request = requests[item.get("approval_request_id")]
            tool = mcp[request["server_label"]]
            if item.get("approve"):
                call = _mcp_call(tool, request["name"], request["arguments"], request["id"])
                result.items.append(call)
                result.prefix.append(f"According to {tool['server_label']}: {_quote(call['output'])}")
            else:
                result.prefix.append(
                    f"The call to {request['name']} on {tool['server_label']} was not approved, so I did not run it."
                )

    if tool_choice == "none":
        return result
    forced = tool_choice if isinstance(tool_choice, dict) else None
    required = tool_choice == "required"
    asking = bool(prompt) and not answered  # a fresh user turn
    text = prompt or context_prompt
    chosen_functions: list[str] = []
    chosen_mcp: list[tuple[str, dict[str, Any]]] = []
    wants_image = False
    if forced is not None:
        kind = forced.get("type")
        if kind == "function":
            chosen_functions = [str(forced.get("name"))]
        elif kind == "mcp":
            tool = mcp[str(forced.get("server_label"))]
            entries = mcp_server_tools(tool)
            named = [e for e in entries if e["name"] == forced.get("name")] or entries[:1]
            chosen_mcp = [(tool["server_label"], e) for e in named]
        elif kind == "image_generation":
            wants_image = image is not None
    elif asking or required:
        chosen_functions = [name for name in functions if _mentions(text, name)]
        for label, tool in mcp.items():
            entries = mcp_server_tools(tool)
            named = [e for e in entries if _mentions(text, e["name"])]
            if named or _mentions(text, label):
                chosen_mcp.append((label, (named or entries)[0]))
        wants_image = image is not None and bool(_IMAGE_WORDS.search(text))
        if required and not (chosen_functions or chosen_mcp or wants_image):
            if functions:
                chosen_functions = [next(iter(functions))]
            elif mcp:
                first = next(iter(mcp.values()))
                chosen_mcp = [(first["server_label"], mcp_server_tools(first)[0])]
            else:
                wants_image = image is not None

    planned: list[tuple[str, Any]] = (
        [("mcp", entry) for entry in chosen_mcp]
        + [("function", name) for name in chosen_functions]
        + ([("image", image)] if wants_image else [])
    )
    if not parallel:
        planned = planned[:1]
    for kind, target in planned:
        if kind == "function":
            call = _function_call(functions[target], text)
            result.items.append(call)
            result.tokens += len(textgen.tokenize(call["arguments"]))
            result.message = False
        elif kind == "mcp":
            label, entry = target
            tool = mcp[label]
            arguments = _mcp_arguments(entry, text)
            result.tokens += len(textgen.tokenize(arguments))
            if needs_approval(tool, entry["name"]):
                result.items.append(
                    {
                        "id": new_id("mcpr"),
                        "type": "mcp_approval_request",
                        "arguments": arguments,
                        "name": entry["name"],
                        "server_label": label,
                    }
                )
                result.message = False
            else:
                call = _mcp_call(tool, entry["name"], arguments)
                result.items.append(call)
                result.prefix.append(f"According to {label}: {_quote(call['output'])}")
        else:
            call = _image_call(target, text)
            result.items.append(call)
            revised = call["revised_prompt"].rstrip()
            result.prefix.append(f"Here is the image I generated: {revised}" + ("" if revised[-1:] in ".!?" else "."))
    return result
