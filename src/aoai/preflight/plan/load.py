"""Read a plan file (or stdin), check it is whole JSON, detect its format, parse it.

Every problem is a UsageError (exit 2, one line) raised before anything is sent to Azure: a
missing or unreadable file, more than ``MAX_PLAN_BYTES``, bytes that are not UTF-8 JSON (a
truncated file ends mid-value), ``NaN``/``Infinity``, nesting deeper than any plan has, a
``terraform plan -json`` log stream instead of ``terraform show -json``, or a document that is
neither format.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

from aoai.errors import UsageError
from aoai.preflight.plan import terraform, whatif
from aoai.preflight.plan.model import Plan

MAX_PLAN_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 200
FORMATS = ("auto", "whatif", "terraform")


def read_bytes(path: str, stdin: BinaryIO | None = None) -> bytes:
    """The plan's bytes: ``-`` reads stdin. Capped at MAX_PLAN_BYTES (exit 2 as soon as exceeded)."""
    if path == "-":
        if stdin is None and sys.stdin.isatty():
            raise UsageError("PLAN_FILE - reads the plan from stdin, which is a terminal", hint="pipe the JSON in")
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read(MAX_PLAN_BYTES + 1)
    else:
        file = Path(path).expanduser()
        if file.is_dir():
            raise UsageError(f"plan file {path} is a directory", hint="pass the JSON file (or - for stdin)")
        try:
            with file.open("rb") as handle:
                data = handle.read(MAX_PLAN_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"cannot read plan file {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_PLAN_BYTES:
        raise UsageError(f"plan file {path} is larger than {MAX_PLAN_BYTES // (1024 * 1024)} MB", hint="is it a plan?")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return depth
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(item.values())
            elif isinstance(item, list):
                nxt.extend(item)
        level = nxt
    return depth


def parse_json(data: bytes, source: str) -> Any:
    if not data.strip():
        raise UsageError(f"plan file {source} is empty", hint="pass the JSON of a What-If result or a Terraform plan")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"plan file {source} is not UTF-8 text (byte {exc.start})", hint="pass the JSON file"
        ) from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise UsageError(f"plan file {source} is nested too deeply to be a plan") from None
    except ValueError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1 and all(line.lstrip().startswith('{"@level"') for line in lines[:2]):
            raise UsageError(
                f"{source} is the log stream of `terraform plan -json`, not a plan document",
                hint="write the plan with `terraform plan -out tfplan`, then `terraform show -json tfplan > plan.json`",
            ) from None
        truncated = " (truncated?)" if "Expecting" in str(exc) and getattr(exc, "pos", 0) >= len(text.rstrip()) else ""
        raise UsageError(
            f"plan file {source} is not valid JSON{truncated}: {exc}", hint="pass the whole file"
        ) from None
    if _depth(document) > MAX_DEPTH:
        raise UsageError(f"plan file {source} is nested more than {MAX_DEPTH} levels deep", hint="is it a plan?")
    return document


def parse_plan(data: bytes, source: str, fmt: str = "auto") -> Plan:
    """The plan in ``data``; ``fmt`` forces the format (``whatif`` / ``terraform``) or detects it."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    document = parse_json(data, source)
    digest = hashlib.sha256(data).hexdigest()
    if fmt == "auto":
        if terraform.is_plan(document):
            fmt = "terraform"
        elif whatif.is_envelope(document):
            fmt = "whatif"
        else:
            raise UsageError(
                f"{source} is neither an ARM What-If result (`changes`) nor a Terraform plan (`resource_changes`)",
                hint="pass what `az deployment group what-if --no-pretty-print` or `terraform show -json tfplan` wrote",
            )
    if fmt == "terraform":
        return terraform.parse(document, source=source, sha256=digest)
    return whatif.parse(document, source=source, sha256=digest)


def load(path: str, fmt: str = "auto", stdin: BinaryIO | None = None) -> Plan:
    return parse_plan(read_bytes(path, stdin), path, fmt)
