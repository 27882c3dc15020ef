"""The Responses API data plane: client, streams with resume, journal, rendering.

This package's ``__init__`` holds only the choice sets the CLI offers (``str`` Enums), so that
``aoai resp --help`` can build its options without importing httpx or rich. The work happens in
the submodules: ``client`` (HTTP with retries), ``stream`` (SSE, sequence tracking, resume),
``journal`` (local SQLite state), ``render`` (rich on a TTY, plain text / JSON when piped),
``inputs`` (turning flags and files into request bodies) and ``run`` (the operations the
commands call, tying those together).
"""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    """``-o/--output``: ``text`` for people, ``json`` for the final object, ``jsonl`` for events."""

    TEXT = "text"
    JSON = "json"
    JSONL = "jsonl"


class ReasoningEffort(StrEnum):
    """``reasoning.effort`` values of the Responses API (OpenAPI ``ReasoningEffort``)."""

    NONE = "none"
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    XHIGH = "xhigh"
    MAX = "max"


class Include(StrEnum):
    """``include`` values of the Responses API (OpenAPI ``IncludeEnum``)."""

    FILE_SEARCH_RESULTS = "file_search_call.results"
    WEB_SEARCH_RESULTS = "web_search_call.results"
    WEB_SEARCH_SOURCES = "web_search_call.action.sources"
    INPUT_IMAGE_URL = "message.input_image.image_url"
    COMPUTER_OUTPUT_IMAGE_URL = "computer_call_output.output.image_url"
    CODE_INTERPRETER_OUTPUTS = "code_interpreter_call.outputs"
    REASONING_ENCRYPTED = "reasoning.encrypted_content"
    OUTPUT_LOGPROBS = "message.output_text.logprobs"


class Order(StrEnum):
    """Order of ``input_items`` pages."""

    ASC = "asc"
    DESC = "desc"


class Status(StrEnum):
    """Response status values; the last four are terminal."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    INCOMPLETE = "incomplete"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.INCOMPLETE, Status.CANCELLED})
# Statuses that make a waited-on command exit 1 (DESIGN.md, exit codes).
UNSUCCESSFUL_STATUSES = frozenset({Status.FAILED, Status.INCOMPLETE, Status.CANCELLED})


class McpApproval(StrEnum):
    """``--mcp-approval``: the ``require_approval`` of every ``--mcp`` server."""

    ALWAYS = "always"
    NEVER = "never"


class AuthMode(StrEnum):
    """``--auth``: the ``api-key`` header, or an Entra ID bearer token."""

    KEY = "key"
    ENTRA = "entra"
