"""The Responses API data plane of the emulator (``/openai/v1/responses…``), written from the
Azure OpenAI v1 contract and the OpenAI OpenAPI spec, not from any client code.

Routes (fault route name in brackets; every handler first applies HTTP faults for its route):

- ``POST /openai/v1/responses`` [responses.create] — plain JSON, ``stream=true`` (SSE),
  ``background=true`` (answers ``queued`` at once; generation continues on a task and writes the
  event log), ``background`` + ``stream`` (streams that log live).
- ``GET /openai/v1/responses/{id}`` [responses.retrieve] — the response object (``include[]``), or
  with ``stream=true&starting_after=N`` the stored events after N, then live ones while it runs.
  Only responses created with ``background=true`` and ``stream=true`` can be streamed again.
- ``POST /openai/v1/responses/{id}/cancel`` [responses.cancel] — background responses only;
  idempotent (a finished or cancelled one is returned as is). A non-background response answers
  400 ``Cannot cancel a synchronous response.`` (close the connection to stop one).
- ``DELETE /openai/v1/responses/{id}`` [responses.delete] — ``{"id", "object": "response.deleted",
  "deleted": true}``.
- ``POST /openai/v1/responses/compact`` [responses.compact] — a ``response.compaction`` object:
  the user messages of the context followed by one opaque ``compaction`` item, plus usage. Its id
  can be used as ``previous_response_id``; it is not retrievable with GET.
- ``GET /openai/v1/responses/{id}/input_items`` [responses.input_items] — the items the model saw
  (the chain's items when ``previous_response_id`` was used), newest first by default;
  ``limit`` (1-100, default 20), ``order`` (asc|desc), ``after``, ``before``.

Authentication: ``api-key: <key>``, or ``Authorization: Bearer <token or key>``; anything else is
a 401 with Azure's body. An unknown ``model`` (deployment name) is a 404 ``DeploymentNotFound``.
``api-version`` is optional and ignored.

Behaviour worth knowing on the client side (the exact stream event order is in ``dp_engine``):

- Output text is deterministic (a hash of the instructions and input seeds it, see ``textgen``);
  each ``response.output_text.delta`` carries one token-sized piece, and for a non-reasoning
  deployment ``usage.output_tokens`` equals the number of deltas.
- Reasoning deployments (gpt-5*, o-series; not ``*-chat``) put a ``reasoning`` item (empty
  summary) before the message and count its tokens in ``output_tokens_details.reasoning_tokens``;
  with ``include=["reasoning.encrypted_content"]`` the item carries ``encrypted_content``.
- ``store=false``: nothing is kept; GET gives 404 and using the id as ``previous_response_id``
  gives 400 ``previous_response_not_found``. ``background=true`` requires ``store=true``.
- ``max_output_tokens`` (>= 16) truncates: status ``incomplete``, ``incomplete_details.reason``
  ``max_output_tokens``, the message item ``incomplete``, final event ``response.incomplete``.
- ``context_management=[{"type": "compaction", "compact_threshold": N}]`` (N >= 1000, default
  200000): when the input tokens exceed N, a ``compaction`` item is emitted first in ``output``
  (``output_item.added``/``done``); chaining from that response then drops everything but the user
  messages before the compaction item.
- Cancelling a running background response stops it with status ``cancelled`` and the output so
  far; streams of it end cleanly without a terminal event (the API has no ``response.cancelled``
  event), so a client that sees EOF without ``response.completed`` should GET the response.
  Closing a foreground stream cancels that response the same way.

- Attachments (``dp_media``): ``input_image`` (PNG/JPEG/WebP data URLs, or http(s) URLs, never
  fetched) and ``input_file`` (base64 ``file_data`` data URL + ``filename`` of a supported type, or
  ``file_url``) are validated like the service (400 ``invalid_image_format``, ``unsupported_file``…)
  and cost input tokens (OpenAI's image tile rule, PDF pages, text of text files); the answer opens
  with "I looked at report.pdf and an image.". ``input_items`` lists ``image_url`` only with
  ``include[]=message.input_image.image_url``.
- Tools (``dp_tools``, rules in its docstring): a function tool is called when the user text names
  it or ``tool_choice`` forces it (the response ends with ``function_call`` items); a follow-up
  with ``function_call_output`` items gets an answer quoting them. MCP tools give ``mcp_list_tools``,
  then an ``mcp_approval_request`` (``require_approval`` defaults to ``always``) or an emulated
  ``mcp_call``; an ``mcp_approval_response`` follow-up runs the call (approved) or says it was not
  approved. MCP servers are never contacted and their headers are never echoed. The
  ``image_generation`` tool needs the ``x-ms-oai-image-generation-deployment`` header, refuses
  ``stream=true`` (as Azure does) and returns a small deterministic base64 PNG.
- Stateless chaining: items of a ``store=false`` response can be sent back as ``input``; a reasoning
  item must then carry its ``encrypted_content`` (else 404 "Items are not persisted when `store` is
  set to false…"), and content the emulator did not produce is a 400 "could not be verified".

Emulator-only escape hatches (not part of the real API; ordinary metadata, so echoed back):

- ``metadata={"emulator_output_tokens": "20000"}`` forces exactly that many text deltas (0 to
  1,000,000; before ``max_output_tokens`` truncation). With ``--tokens-per-second`` very high
  (e.g. 1e9) they are emitted without sleeping.
- ``metadata={"emulator_fail_after_tokens": "N"}`` makes generation fail after N text deltas:
  status ``failed``, ``error.code`` ``server_error``, final event ``response.failed``; add
  ``"emulator_fail_event": "error"`` to end the stream with a bare ``error`` event instead (as the
  service does for some mid-stream errors).
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from aoai.emulator import dp_engine, dp_tools, textgen
from aoai.emulator.dp_common import (
    ApiError,
    check_auth,
    deployment_not_found,
    invalid_request,
    json_response,
    new_id,
    response_not_found,
)
from aoai.emulator.dp_items import (
    ITEM_OVERHEAD_TOKENS,
    attachment_names,
    context_tokens,
    is_user_message,
    item_text,
    item_tokens,
    last_user_text,
    normalize_input,
    prune,
)
from aoai.emulator.dp_sse import EventStream, install_abort_filter
from aoai.emulator.dp_store import TERMINAL, ResponseRecord, ResponseStore
from aoai.emulator.faults import Fault, http_fault_response

if TYPE_CHECKING:
    from aoai.emulator.server import EmulatorState

Answer = Response | EventStream

ROUTE_CREATE = "responses.create"
ROUTE_RETRIEVE = "responses.retrieve"
ROUTE_CANCEL = "responses.cancel"
ROUTE_DELETE = "responses.delete"
ROUTE_COMPACT = "responses.compact"
ROUTE_INPUT_ITEMS = "responses.input_items"

STORE_KEY = "dataplane.responses"
OUTPUT_TOKENS_KEY = "emulator_output_tokens"
FAIL_AFTER_KEY = "emulator_fail_after_tokens"
FAIL_EVENT_KEY = "emulator_fail_event"
MAX_FORCED_TOKENS = 1_000_000
DEFAULT_COMPACT_THRESHOLD = 200_000

CREATE_PARAMS = frozenset(
    {
        "background",
        "context_management",
        "conversation",
        "image",
        "include",
        "input",
        "instructions",
        "max_output_tokens",
        "max_tool_calls",
        "metadata",
        "model",
        "moderation",
        "parallel_tool_calls",
        "previous_response_id",
        "prompt",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning",
        "safety_identifier",
        "service_tier",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "text",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "truncation",
        "user",
    }
)
COMPACT_PARAMS = frozenset(
    {
        "input",
        "instructions",
        "model",
        "previous_response_id",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "service_tier",
    }
)
INCLUDABLE = (
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
)
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority")


# -- small validators ---------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _wrong_type(param: str, expected: str, value: Any) -> ApiError:
    return invalid_request(
        f"Invalid type for '{param}': expected {expected}, but got {_kind(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _bool(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _wrong_type(key, "a boolean", value)
    return value


def _opt_str(body: dict[str, Any], key: str, max_length: int | None = None) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong_type(key, "a string", value)
    if max_length is not None and len(value) > max_length:
        raise invalid_request(
            f"Invalid '{key}': string too long. Expected a string with maximum length {max_length}, "
            f"but got a string with length {len(value)} instead.",
            param=key,
            code="string_above_max_length",
        )
    return value


def _opt_int(
    body: dict[str, Any],
    key: str,
    minimum: int | None = None,
    maximum: int | None = None,
    *,
    param: str | None = None,
) -> int | None:
    value = body.get(key)
    param = param or key
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(param, "an integer", value)
    if minimum is not None and value < minimum:
        raise invalid_request(
            f"Invalid '{param}': integer below minimum value. Expected a value >= {minimum}, but got {value} instead.",
            param=param,
            code="integer_below_min_value",
        )
    if maximum is not None and value > maximum:
        raise invalid_request(
            f"Invalid '{param}': integer above maximum value. Expected a value <= {maximum}, but got {value} instead.",
            param=param,
            code="integer_above_max_value",
        )
    return value


def _opt_number(body: dict[str, Any], key: str, minimum: float, maximum: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type(key, "a decimal", value)
    if value < minimum:
        raise invalid_request(
            f"Invalid '{key}': decimal below minimum value. Expected a value >= {minimum:g}, "
            f"but got {value:g} instead.",
            param=key,
            code="decimal_below_min_value",
        )
    if value > maximum:
        raise invalid_request(
            f"Invalid '{key}': decimal above maximum value. Expected a value <= {maximum:g}, "
            f"but got {value:g} instead.",
            param=key,
            code="decimal_above_max_value",
        )
    return float(value)


def _choice(body: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise invalid_request(
            f"Invalid value: '{value}'. Supported values are: {', '.join(repr(a) for a in allowed)}.",
            param=key,
            code="invalid_value",
        )
    return value


def _reject_unknown(body: dict[str, Any], allowed: frozenset[str]) -> None:
    for key in body:
        if key not in allowed:
            raise invalid_request(f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")


def _unsupported(param: str) -> ApiError:
    return invalid_request(
        f"Unsupported parameter: '{param}' is not supported with this model.", param=param, code="unsupported_parameter"
    )


def _metadata(body: dict[str, Any]) -> dict[str, str]:
    value = body.get("metadata")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _wrong_type("metadata", "an object", value)
    if len(value) > 16:
        raise invalid_request(
            "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, "
            f"but got an object with {len(value)} properties instead.",
            param="metadata",
            code="object_above_max_properties",
        )
    for key, item in value.items():
        if len(key) > 64:
            raise invalid_request(
                f"Invalid 'metadata': property name too long. Expected a name with maximum length 64, "
                f"but got a name with length {len(key)} instead.",
                param="metadata",
                code="string_above_max_length",
            )
        if not isinstance(item, str):
            raise _wrong_type(f"metadata.{key}", "a string", item)
        if len(item) > 512:
            raise invalid_request(
                f"Invalid 'metadata.{key}': string too long. Expected a string with maximum length 512, "
                f"but got a string with length {len(item)} instead.",
                param=f"metadata.{key}",
                code="string_above_max_length",
            )
    return dict(value)


def _metadata_count(metadata: dict[str, str], key: str) -> int | None:
    """An emulator-only integer setting carried in metadata (see the module docstring)."""
    raw = metadata.get(key)
    if raw is None:
        return None
    if not raw.strip().isdigit() or int(raw) > MAX_FORCED_TOKENS:
        raise invalid_request(
            f"Invalid 'metadata.{key}': expected an integer from 0 to {MAX_FORCED_TOKENS} "
            f"as a string (emulator-only setting), but got {raw!r}.",
            param=f"metadata.{key}",
            code="invalid_value",
        )
    return int(raw)


def _fail_event(metadata: dict[str, str]) -> str:
    value = metadata.get(FAIL_EVENT_KEY, "response.failed")
    if value not in ("response.failed", "error"):
        raise invalid_request(
            f"Invalid 'metadata.{FAIL_EVENT_KEY}': expected 'response.failed' or 'error' (emulator-only setting), "
            f"but got {value!r}.",
            param=f"metadata.{FAIL_EVENT_KEY}",
            code="invalid_value",
        )
    return value


def _include(value: Any, param: str = "include") -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _wrong_type(param, "an array", value)
    for index, entry in enumerate(value):
        if entry not in INCLUDABLE:
            raise invalid_request(
                f"Invalid value: '{entry}'. Supported values are: {', '.join(repr(a) for a in INCLUDABLE)}.",
                param=f"{param}[{index}]",
                code="invalid_value",
            )
    return list(value)


def _tool_choice(value: Any) -> Any:
    if value is None:
        return "auto"
    if isinstance(value, str):
        if value not in ("none", "auto", "required"):
            raise invalid_request(
                f"Invalid value: '{value}'. Supported values are: 'none', 'auto', and 'required'.",
                param="tool_choice",
                code="invalid_value",
            )
        return value
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return dict(value)
    raise _wrong_type("tool_choice", "one of a string or object", value)


def _text_config(value: Any) -> tuple[dict[str, Any], dict[str, Any] | None, bool]:
    """(echoed text config, JSON schema to fill or None, json mode)."""
    if value is None:
        return {"format": {"type": "text"}, "verbosity": "medium"}, None, False
    if not isinstance(value, dict):
        raise _wrong_type("text", "an object", value)
    fmt = value.get("format") or {"type": "text"}
    if not isinstance(fmt, dict):
        raise _wrong_type("text.format", "an object", fmt)
    kind = fmt.get("type")
    schema: dict[str, Any] | None = None
    json_mode = False
    if kind == "json_schema":
        if not isinstance(fmt.get("name"), str):
            raise invalid_request(
                "Missing required parameter: 'text.format.name'.",
                param="text.format.name",
                code="missing_required_parameter",
            )
        if not isinstance(fmt.get("schema"), dict):
            raise invalid_request(
                "Missing required parameter: 'text.format.schema'.",
                param="text.format.schema",
                code="missing_required_parameter",
            )
        schema = fmt["schema"]
        fmt = {
            "type": "json_schema",
            "description": fmt.get("description"),
            "name": fmt["name"],
            "schema": fmt["schema"],
            "strict": fmt.get("strict") if isinstance(fmt.get("strict"), bool) else False,
        }
    elif kind == "json_object":
        json_mode = True
        fmt = {"type": "json_object"}
    elif kind == "text":
        fmt = {"type": "text"}
    else:
        raise invalid_request(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
            param="text.format.type",
            code="invalid_value",
        )
    verbosity = value.get("verbosity") or "medium"
    if verbosity not in ("low", "medium", "high"):
        raise invalid_request(
            f"Invalid value: '{verbosity}'. Supported values are: 'low', 'medium', and 'high'.",
            param="text.verbosity",
            code="invalid_value",
        )
    return {"format": fmt, "verbosity": verbosity}, schema, json_mode


def _compact_threshold(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _wrong_type("context_management", "an array", value)
    if not value:
        raise invalid_request(
            "Invalid 'context_management': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            param="context_management",
            code="empty_array",
        )
    threshold: int | None = None
    for index, entry in enumerate(value):
        where = f"context_management[{index}]"
        if not isinstance(entry, dict):
            raise _wrong_type(where, "an object", entry)
        if entry.get("type") != "compaction":
            raise invalid_request(
                f"Invalid value: '{entry.get('type')}'. Supported values are: 'compaction'.",
                param=f"{where}.type",
                code="invalid_value",
            )
        given = _opt_int(entry, "compact_threshold", minimum=1000, param=f"{where}.compact_threshold")
        threshold = given if given is not None else DEFAULT_COMPACT_THRESHOLD
    return threshold


def _instructions(value: Any, store: ResponseStore) -> tuple[Any, str]:
    """(echoed instructions, their text)."""
    if value is None:
        return None, ""
    if isinstance(value, str):
        return value, value
    if isinstance(value, list):
        items = normalize_input(value, store.find_item, param="instructions")
        return items, "\n".join(item_text(item) for item in items)
    raise _wrong_type("instructions", "one of a string or array of input items", value)


def _answer_prefix(new_items: list[dict[str, Any]], tool_sentences: list[str]) -> str:
    """Sentences the answer opens with: what was attached to this turn, then what the tools gave."""
    sentences: list[str] = []
    for item in new_items:
        if item.get("type") == "message" and item.get("role") == "user":
            names = attachment_names(item)
            if names:
                listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
                sentences.append(f"I looked at {listed}.")
    return " ".join(sentences + tool_sentences)


def _with_prefix(prefix: str, text: list[str]) -> list[str]:
    if not prefix:
        return text
    return textgen.tokenize(prefix + (" " if text and not text[0].startswith(" ") else "")) + text


def _strip_image_urls(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Input images as listed without ``include=message.input_image.image_url``: no URL."""
    for item in items:
        content = item.get("content")
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type") == "input_image":
                part["image_url"] = None
    return items


# -- the data plane ------------------------------------------------------------------------------


class _Deployment(Protocol):
    """What the data plane reads from ``scenario.data_plane_deployment(name)``."""

    @property
    def name(self) -> str: ...
    @property
    def model_name(self) -> str: ...
    @property
    def model_version(self) -> str | None: ...


@dataclass
class _Chain:
    items: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0


class DataPlane:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        with state.lock:
            existing = state.stores.get(STORE_KEY)
            if not isinstance(existing, ResponseStore):
                existing = ResponseStore(state.lock)
                state.stores[STORE_KEY] = existing
        self.store: ResponseStore = existing
        # Strong references to running generations (the event loop only keeps weak ones).
        self._tasks: set[asyncio.Task[None]] = set()

    # -- plumbing --------------------------------------------------------------------------------
    async def _guard(self, route: str, request: Request, handler: Callable[[Request], Awaitable[Answer]]) -> Answer:
        hits = self.state.faults.take(route, stream=False)
        faulted = await http_fault_response(hits, route)
        if faulted is not None:
            return faulted
        try:
            check_auth(request, self.state.api_key, self.state.access_token)
            return await handler(request)
        except ApiError as error:
            return error.response()

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise invalid_request(
                "We could not parse the JSON body of your request. The API expects a JSON payload, "
                "but what was sent was not valid JSON."
            ) from None
        if not isinstance(body, dict):
            raise invalid_request("Invalid body: expected a JSON object.", code="invalid_type")
        return body

    def _deployment(self, body: dict[str, Any]) -> _Deployment:
        model = body.get("model")
        if model is None:
            raise invalid_request(
                "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
            )
        if not isinstance(model, str):
            raise _wrong_type("model", "a string", model)
        deployment = self.state.scenario.data_plane_deployment(model)
        if deployment is None:
            raise deployment_not_found()
        return deployment

    def _record(self, response_id: str) -> ResponseRecord:
        record = self.store.get(response_id)
        if record is None or record.kind != "response":
            raise response_not_found(response_id)
        return record

    def _chain(self, previous_id: str | None) -> _Chain:
        if previous_id is None:
            return _Chain()
        record = self.store.get(previous_id)
        if record is None:
            raise invalid_request(
                f"Previous response with id '{previous_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        if record.status not in TERMINAL:
            raise invalid_request(
                f"Previous response with id '{previous_id}' is still {record.status}; wait until it finishes.",
                param="previous_response_id",
                code=None,
            )
        items = prune(record.context + record.output)
        return _Chain(items, sum(item_tokens(item) for item in items))

    def _check_image_deployment(self, request: Request) -> None:
        """The image generation tool runs on the deployment named by Azure's header.

        A deployment of a non-image model is refused. A name the scenario does not know is accepted
        only when the scenario has no image-model deployment at all (the built-in ``default`` has
        none), so image generation can be tried on it; otherwise it is a 404 like any unknown
        deployment."""
        name = request.headers.get(dp_tools.IMAGE_DEPLOYMENT_HEADER, "").strip()
        if not name:
            raise invalid_request(
                f"The image_generation tool needs the '{dp_tools.IMAGE_DEPLOYMENT_HEADER}' header naming "
                "a gpt-image-1 series deployment.",
                param="tools",
                code="missing_required_header",
            )
        deployment = self.state.scenario.data_plane_deployment(name)
        if deployment is not None:
            if not deployment.model_name.lower().startswith(("gpt-image", "dall-e")):
                raise invalid_request(
                    f"Deployment '{name}' runs {deployment.model_name}, which cannot generate images; name a "
                    f"gpt-image-1 series deployment in '{dp_tools.IMAGE_DEPLOYMENT_HEADER}'.",
                    param="tools",
                    code="invalid_value",
                )
            return
        accounts = getattr(self.state.scenario, "accounts", [])
        if any(
            str(getattr(d, "model_name", "")).lower().startswith("gpt-image")
            for account in accounts
            for d in getattr(account, "deployments", [])
        ):
            raise deployment_not_found()

    def _check_replay_window(self, record: ResponseRecord, faults: list[Fault]) -> None:
        """Azure replays a background response's events for some minutes after it started; later a
        stream request is refused with a 400 while a plain GET still answers."""
        window = self.state.replay_window_s
        for fault in faults:
            if fault.replay_window_ms is not None:
                window = min(window, fault.replay_window_ms / 1000)
        if time.time() - record.created_at < window:
            return
        age = f"{window / 60:g} minutes" if window >= 60 else f"{window:g} seconds"
        raise invalid_request(f"This response can no longer be streamed because it is more than {age} old.")

    @staticmethod
    def _stream_fault(faults: list[Fault]) -> tuple[int | None, str, float]:
        if not faults:
            return None, "abort", 0.0
        fault = faults[0]
        return fault.cut_after_events, fault.cut_mode, (fault.first_token_delay_ms or 0) / 1000

    # -- create ----------------------------------------------------------------------------------
    async def create(self, request: Request) -> Answer:
        return await self._guard(ROUTE_CREATE, request, self._create)

    async def _create(self, request: Request) -> Answer:
        body = await self._body(request)
        deployment = self._deployment(body)
        _reject_unknown(body, CREATE_PARAMS)
        reasoning_model = dp_engine.is_reasoning_model(deployment.model_name)

        store = _bool(body, "store", True)
        stream = _bool(body, "stream", False)
        background = _bool(body, "background", False)
        if background and not store:
            raise invalid_request(
                "Background mode requires store=true: a background response must be stored to be polled, "
                "streamed or cancelled.",
                param="background",
                code="invalid_value",
            )
        if body.get("conversation") is not None:
            raise invalid_request(
                "The 'conversation' parameter is not supported by the aoai emulator; use previous_response_id.",
                param="conversation",
                code="unsupported_parameter",
            )
        if body.get("stream_options") is not None and not isinstance(body.get("stream_options"), dict):
            raise _wrong_type("stream_options", "an object", body.get("stream_options"))
        max_output_tokens = _opt_int(body, "max_output_tokens", minimum=16)
        max_tool_calls = _opt_int(body, "max_tool_calls", minimum=1)
        top_logprobs = _opt_int(body, "top_logprobs", minimum=0, maximum=20)
        temperature = _opt_number(body, "temperature", 0, 2)
        top_p = _opt_number(body, "top_p", 0, 1)
        if reasoning_model and temperature is not None:
            raise _unsupported("temperature")
        if reasoning_model and top_p is not None:
            raise _unsupported("top_p")
        metadata = _metadata(body)
        forced = _metadata_count(metadata, OUTPUT_TOKENS_KEY)
        fail_after = _metadata_count(metadata, FAIL_AFTER_KEY)
        fail_event = _fail_event(metadata)
        include = _include(body.get("include"))
        tools = dp_tools.normalize_tools(body.get("tools"))
        tool_choice = _tool_choice(body.get("tool_choice"))
        dp_tools.check_tool_choice(tool_choice, tools)
        if dp_tools.has_image_tool(tools):
            self._check_image_deployment(request)
            if stream:
                raise invalid_request(
                    "The image_generation tool does not support streaming on Azure OpenAI; "
                    "send the request with stream=false (or poll a background response).",
                    param="stream",
                    code="unsupported_parameter",
                )
        text_config, json_schema, json_mode = _text_config(body.get("text"))
        truncation = _choice(body, "truncation", ("auto", "disabled")) or "disabled"
        service_tier = _choice(body, "service_tier", SERVICE_TIERS)
        prompt_cache_retention = _choice(body, "prompt_cache_retention", ("in_memory", "24h"))
        parallel_tool_calls = _bool(body, "parallel_tool_calls", True)
        user = _opt_str(body, "user")
        safety_identifier = _opt_str(body, "safety_identifier", 64)
        prompt_cache_key = _opt_str(body, "prompt_cache_key", 64)
        compact_threshold = _compact_threshold(body.get("context_management"))
        reasoning = body.get("reasoning")
        if reasoning is not None and not isinstance(reasoning, dict):
            raise _wrong_type("reasoning", "an object", reasoning)
        effort = _choice(reasoning or {}, "effort", EFFORTS)
        summary = _choice(reasoning or {}, "summary", ("auto", "concise", "detailed"))
        if not reasoning_model and effort is not None:
            raise _unsupported("reasoning.effort")
        prompt = body.get("prompt")
        if prompt is not None and not (isinstance(prompt, dict) and isinstance(prompt.get("id"), str)):
            raise _wrong_type("prompt", "an object with a string 'id'", prompt)
        instructions, instructions_text = _instructions(body.get("instructions"), self.store)
        previous_id = _opt_str(body, "previous_response_id")
        new_items = normalize_input(body.get("input"), self.store.find_item)
        chain = self._chain(previous_id)

        context = chain.items + new_items
        input_tokens = context_tokens(context, instructions_text)
        cached = (chain.tokens // 128) * 128 if chain.tokens >= 1024 else 0
        prompt_text = last_user_text(new_items) or last_user_text(context)
        tool_plan = dp_tools.plan(
            tools,
            tool_choice,
            parallel_tool_calls,
            new_items=new_items,
            context=context,
            prompt=last_user_text(new_items),
            context_prompt=last_user_text(context),
        )
        seed_context = "\n".join([deployment.model_name, *(item_text(item) for item in context[:-1])])
        text = textgen.generate(
            prompt_text,
            instructions=instructions_text,
            context=seed_context,
            exact_tokens=forced,
            json_schema=json_schema,
            json_mode=json_mode,
        )
        if forced is None and json_schema is None and not json_mode:
            text = _with_prefix(_answer_prefix(new_items, tool_plan.prefix), text)
        reasoning_tokens = (
            dp_engine.reasoning_tokens(effort or "medium", prompt_text + seed_context) if reasoning_model else None
        )
        plan = dp_engine.make_plan(
            context=context,
            input_tokens=input_tokens,
            cached_tokens=cached,
            text=text,
            reasoning=reasoning_tokens,
            max_output_tokens=max_output_tokens,
            compact_threshold=compact_threshold,
            tool_items=tool_plan.items,
            tool_tokens=tool_plan.tokens,
            message=tool_plan.message,
        )
        plan.fail_after, plan.fail_event = fail_after, fail_event

        echo: dict[str, Any] = {
            "instructions": instructions,
            "max_output_tokens": max_output_tokens,
            "max_tool_calls": max_tool_calls,
            "parallel_tool_calls": parallel_tool_calls,
            "previous_response_id": previous_id,
            "prompt_cache_key": prompt_cache_key,
            "prompt_cache_retention": prompt_cache_retention,
            "reasoning": {"effort": effort or "medium", "summary": summary}
            if reasoning_model
            else {"effort": None, "summary": None},
            "safety_identifier": safety_identifier,
            "service_tier": "default" if service_tier in (None, "auto") else service_tier,
            "temperature": 1.0 if temperature is None else temperature,
            "text": text_config,
            "tool_choice": tool_choice,
            "tools": tools,
            "top_logprobs": top_logprobs or 0,
            "top_p": 1.0 if top_p is None else top_p,
            "truncation": truncation,
            "user": user,
            "metadata": metadata,
        }
        if prompt is not None:
            echo["prompt"] = {
                "id": prompt["id"],
                "variables": prompt.get("variables"),
                "version": prompt.get("version"),
            }
        model = deployment.model_name + (f"-{deployment.model_version}" if deployment.model_version else "")
        record = ResponseRecord(
            id=new_id("resp"),
            created_at=int(time.time()),
            deployment=deployment.name,
            model=model,
            echo=echo,
            background=background,
            stream=stream,
            store=store,
            include=include,
            context=context,
            status="queued" if background else "in_progress",
            keep_events=stream,
        )
        if store:
            self.store.put(record)

        cut_after, cut_mode, first_token_delay = None, "abort", 0.0
        if stream:
            cut_after, cut_mode, first_token_delay = self._stream_fault(
                self.state.faults.take(ROUTE_CREATE, stream=True)
            )
        record.task = asyncio.create_task(
            dp_engine.run(
                record, plan, tokens_per_second=self.state.tokens_per_second, first_token_delay_s=first_token_delay
            )
        )
        self._tasks.add(record.task)
        record.task.add_done_callback(self._tasks.discard)
        if stream:
            on_disconnect = None if background else record.cancel
            return EventStream(
                record,
                cut_after_events=cut_after,
                cut_mode=cut_mode,
                on_disconnect=on_disconnect,
                release_log=not background,  # only background streams can be streamed again
            )
        if background:
            return json_response(record.render())
        await asyncio.wait([record.task])  # never raises, even if the task was cancelled before it ran
        return json_response(record.render())

    # -- retrieve --------------------------------------------------------------------------------
    async def retrieve(self, request: Request) -> Answer:
        return await self._guard(ROUTE_RETRIEVE, request, self._retrieve)

    async def _retrieve(self, request: Request) -> Answer:
        record = self._record(request.path_params["response_id"])
        query = request.query_params
        include = _include(query.getlist("include[]") + query.getlist("include"), "include[]")
        stream = query.get("stream", "false").lower()
        if stream not in ("true", "false", "1", "0"):
            raise _wrong_type("stream", "a boolean", stream)
        if stream in ("false", "0"):
            return json_response(record.render(include))
        if not (record.background and record.stream):
            raise invalid_request(
                "This response cannot be streamed: only responses created with background=true and stream=true "
                "can be streamed again.",
                param="stream",
                code="invalid_value",
            )
        starting_after = -1
        raw = query.get("starting_after")
        if raw is not None:
            try:
                starting_after = int(raw)
            except ValueError:
                raise _wrong_type("starting_after", "an integer", raw) from None
            if starting_after < 0:
                raise invalid_request(
                    f"Invalid 'starting_after': integer below minimum value. Expected a value >= 0, "
                    f"but got {starting_after} instead.",
                    param="starting_after",
                    code="integer_below_min_value",
                )
        faults = self.state.faults.take(ROUTE_RETRIEVE, stream=True)
        self._check_replay_window(record, faults)
        cut_after, cut_mode, first_token_delay = self._stream_fault(faults)
        return EventStream(
            record,
            starting_after=starting_after,
            cut_after_events=cut_after,
            cut_mode=cut_mode,
            first_token_delay_s=first_token_delay,
        )

    # -- cancel / delete -------------------------------------------------------------------------
    async def cancel(self, request: Request) -> Answer:
        return await self._guard(ROUTE_CANCEL, request, self._cancel)

    async def _cancel(self, request: Request) -> Answer:
        record = self._record(request.path_params["response_id"])
        if not record.background:
            raise invalid_request("Cannot cancel a synchronous response.")
        record.cancel()
        return json_response(record.render())

    async def delete(self, request: Request) -> Answer:
        return await self._guard(ROUTE_DELETE, request, self._delete)

    async def _delete(self, request: Request) -> Answer:
        response_id = request.path_params["response_id"]
        record = self.store.delete(response_id)
        if record is None:
            raise response_not_found(response_id)
        record.cancel()
        return json_response({"id": response_id, "object": "response.deleted", "deleted": True})

    # -- input items -----------------------------------------------------------------------------
    async def input_items(self, request: Request) -> Answer:
        return await self._guard(ROUTE_INPUT_ITEMS, request, self._input_items)

    async def _input_items(self, request: Request) -> Answer:
        record = self._record(request.path_params["response_id"])
        query = request.query_params
        listed_include = _include(query.getlist("include[]") + query.getlist("include"), "include[]")
        limit = 20
        if "limit" in query:
            try:
                limit = int(query["limit"])
            except ValueError:
                raise _wrong_type("limit", "an integer", query["limit"]) from None
            if not 1 <= limit <= 100:
                raise invalid_request(
                    f"Invalid 'limit': expected a value between 1 and 100, but got {limit} instead.",
                    param="limit",
                    code="invalid_value",
                )
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid_request(
                f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
                param="order",
                code="invalid_value",
            )
        items = list(record.context) if order == "asc" else list(reversed(record.context))
        ids = [item.get("id") for item in items]
        for param in ("after", "before"):
            cursor = query.get(param)
            if cursor is None:
                continue
            if cursor not in ids:
                raise invalid_request(
                    f"Invalid '{param}': no input item with id '{cursor}' in response '{record.id}'.",
                    param=param,
                    code="invalid_value",
                )
            position = ids.index(cursor)
            if param == "after":
                items, ids = items[position + 1 :], ids[position + 1 :]
            else:
                items, ids = items[:position], ids[:position]
        page = copy.deepcopy(items[:limit])
        if "message.input_image.image_url" not in listed_include:
            _strip_image_urls(page)
        return json_response(
            {
                "object": "list",
                "data": page,
                "first_id": page[0].get("id") if page else None,
                "last_id": page[-1].get("id") if page else None,
                "has_more": len(items) > limit,
            }
        )

    # -- compact ---------------------------------------------------------------------------------
    async def compact(self, request: Request) -> Answer:
        return await self._guard(ROUTE_COMPACT, request, self._compact)

    async def _compact(self, request: Request) -> Answer:
        body = await self._body(request)
        deployment = self._deployment(body)
        _reject_unknown(body, COMPACT_PARAMS)
        _choice(body, "service_tier", SERVICE_TIERS)
        _choice(body, "prompt_cache_retention", ("in_memory", "24h"))
        _opt_str(body, "prompt_cache_key", 64)
        instructions_value = body.get("instructions")
        if instructions_value is not None and not isinstance(instructions_value, str):
            raise _wrong_type("instructions", "a string", instructions_value)
        previous_id = _opt_str(body, "previous_response_id")
        new_items = normalize_input(body.get("input"), self.store.find_item)
        if previous_id is None and not new_items:
            raise invalid_request(
                "Missing required parameter: 'input' (or 'previous_response_id').",
                param="input",
                code="missing_required_parameter",
            )
        chain = self._chain(previous_id)
        context = chain.items + new_items
        input_tokens = context_tokens(context, instructions_value or "")
        compaction = dp_engine.compaction_for(context, input_tokens)
        kept = [dict(item) for item in context if is_user_message(item)]
        compaction_tokens = item_tokens(compaction) - ITEM_OVERHEAD_TOKENS
        reasoning = (
            dp_engine.reasoning_tokens("low", compaction["id"]) or 0
            if dp_engine.is_reasoning_model(deployment.model_name)
            else 0
        )
        output_tokens = compaction_tokens + reasoning
        rate = self.state.tokens_per_second
        if rate > 0 and math.isfinite(rate) and output_tokens / rate >= dp_engine.MIN_SLEEP_S:
            await asyncio.sleep(output_tokens / rate)
        output = [*kept, compaction]
        usage = {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": input_tokens + output_tokens,
        }
        created_at = int(time.time())
        record = ResponseRecord(
            id=new_id("resp"),
            created_at=created_at,
            deployment=deployment.name,
            model=deployment.model_name,
            echo={},
            background=False,
            stream=False,
            store=True,
            include=[],
            context=[],
            kind="compaction",
            status="completed",
            output=output,
            usage=usage,
            completed_at=created_at,
            done=True,
        )
        self.store.put(record)
        return json_response(
            {
                "id": record.id,
                "object": "response.compaction",
                "created_at": created_at,
                "output": output,
                "usage": usage,
            }
        )


def routes(state: EmulatorState) -> list[BaseRoute]:
    install_abort_filter()
    plane = DataPlane(state)
    base = "/openai/v1/responses"
    return [
        Route(base, plane.create, methods=["POST"]),
        Route(f"{base}/compact", plane.compact, methods=["POST"]),
        Route(base + "/{response_id}", plane.retrieve, methods=["GET"]),
        Route(base + "/{response_id}", plane.delete, methods=["DELETE"]),
        Route(base + "/{response_id}/cancel", plane.cancel, methods=["POST"]),
        Route(base + "/{response_id}/input_items", plane.input_items, methods=["GET"]),
    ]
