"""The one redactor: every secret this process learns is registered here, and every byte that
leaves the process passes through it.

- ``register_secret`` records a secret (API key, Entra token, MCP header value) together with
  the forms it takes when printed by someone else: JSON-escaped, ``repr``-escaped, inside a
  bytes ``repr`` (``Illegal header value b'...\\r'``), URL-encoded.
- ``redact`` / ``redact_bytes`` replace each form by ``***`` (plus header-shaped secrets we may
  never have been told about: ``Bearer ...``, ``api-key: ...``).
- ``install_std_streams`` (called first thing by ``aoai.cli.main``) puts a redacting layer under
  ``sys.stdout`` and ``sys.stderr``: text and binary writes, rich consoles, logging handlers,
  tracebacks all go through it. A write that ends in what could be the start of a secret keeps
  that tail back until the next write (or exit), so a secret split across two stream deltas is
  still caught. Files are written by ``aoai.atomicfile``, which redacts too.
"""

from __future__ import annotations

import atexit
import io
import json
import logging
import re
import sys
import threading
from typing import Any, cast
from urllib.parse import quote

REDACTED = "***"
_REDACTED_BYTES = REDACTED.encode()
# Longest first, so a form that contains another is replaced whole. Replaced (never mutated)
# under the lock, so readers need no lock: evidence redaction calls ``redact`` ~10^5 times.
_forms: tuple[str, ...] = ()
_byte_forms: tuple[bytes, ...] = ()
_first_bytes: frozenset[int] = frozenset()
_longest = 0
_lock = threading.Lock()

# Header-shaped secrets we may not have registered (a token the SDK fetched itself).
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-_.~+/=]{8,}"),
    re.compile(r"(?i)(['\"]?(?:api-key|authorization|ocp-apim-subscription-key)['\"]?\s*[:=]\s*['\"]?)[^'\",\s}]+"),
)
_BYTE_PATTERNS = tuple(re.compile(p.pattern.encode()) for p in _PATTERNS)
# Cheap pre-check: the patterns above can only match where one of these words appears.
_PATTERN_HINT = re.compile(r"(?i)bearer|api-key|authorization|ocp-apim")
_BYTE_PATTERN_HINT = re.compile(_PATTERN_HINT.pattern.encode())


def _printed_forms(secret: str) -> set[str]:
    """The secret as others may print it: as is, JSON- and repr-escaped, in a bytes repr, URL-encoded."""
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], repr(secret.encode())[2:-1], quote(secret, safe="")}
    # The secret without surrounding whitespace: what is left when a message strips a trailing "\r".
    forms.add(secret.strip())
    return {form for form in forms if len(form) >= 4}


def register_secret(value: str | None) -> None:
    """Remember a secret so that every output hides it from now on."""
    global _forms, _byte_forms, _first_bytes, _longest
    if not value or len(value) < 4 or value in _forms:
        return
    with _lock:
        forms = sorted({*_forms, *_printed_forms(value)}, key=len, reverse=True)
        byte_forms = tuple(form.encode("utf-8", "surrogatepass") for form in forms)
        _byte_forms = byte_forms
        _first_bytes = frozenset(form[0] for form in byte_forms)
        _longest = max(len(form) for form in byte_forms)
        _forms = tuple(forms)


def redact(text: str) -> str:
    for form in _forms:
        if form in text:
            text = text.replace(form, REDACTED)
    if _PATTERN_HINT.search(text):
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def redact_bytes(data: bytes) -> bytes:
    for form in _byte_forms:
        if form in data:
            data = data.replace(form, _REDACTED_BYTES)
    if _BYTE_PATTERN_HINT.search(data):
        for pattern in _BYTE_PATTERNS:
            data = pattern.sub(lambda m: m.group(1) + _REDACTED_BYTES, data)
    return data


def redact_data(value: Any) -> Any:
    """A copy of JSON-like data with every string (keys too) passed through :func:`redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_data(v) for v in value]
    if isinstance(value, dict):
        return {redact(str(k)): redact_data(v) for k, v in value.items()}
    return value


def _secret_prefix_start(data: bytes) -> int:
    """Where a tail of ``data`` that could be the start of a secret begins; ``len(data)`` if none."""
    start = max(0, len(data) - _longest + 1)
    for index in range(start, len(data)):
        if data[index] in _first_bytes:
            tail = data[index:]
            if any(form.startswith(tail) for form in _byte_forms):
                return index
    return len(data)


class RedactingWriter(io.RawIOBase):
    """A binary stream that redacts what it is given and passes it on to ``target``."""

    def __init__(self, target: Any) -> None:
        super().__init__()
        self._target = target
        self._held = b""
        self._write_lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(data)
        chunk = bytes(data)
        with self._write_lock:
            if not _byte_forms and not self._held:
                out = redact_bytes(chunk) if _BYTE_PATTERN_HINT.search(chunk) else chunk
            else:
                combined = redact_bytes(self._held + chunk)
                cut = _secret_prefix_start(combined)
                out, self._held = combined[:cut], combined[cut:]
            if out:
                self._target.write(out)
        return size

    def release(self) -> None:
        """Write what was held back (the process is ending, or the stream is being closed)."""
        with self._write_lock:
            held, self._held = self._held, b""
            if held:
                self._target.write(redact_bytes(held))
        self._target.flush()

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return bool(self._target.isatty())

    def fileno(self) -> int:
        return int(self._target.fileno())

    def close(self) -> None:
        if not self.closed:
            try:
                self.release()
            finally:
                super().close()


def _wrap(stream: Any) -> Any:
    buffer = getattr(stream, "buffer", None)
    if buffer is None or isinstance(buffer, RedactingWriter):
        return stream
    writer = RedactingWriter(buffer)
    wrapped = io.TextIOWrapper(
        cast(Any, writer),
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=stream.line_buffering,
        write_through=True,
    )
    atexit.register(_release, wrapped)
    return wrapped


def _release(stream: Any) -> None:
    try:
        stream.flush()
        stream.buffer.release()
    except (OSError, ValueError):
        pass


def install_std_streams() -> None:
    """Put the redactor under ``sys.stdout`` and ``sys.stderr`` (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            continue
        setattr(sys, name, _wrap(stream))


def release_std_streams() -> None:
    """Flush what the std streams held back (end of ``main``)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and isinstance(getattr(stream, "buffer", None), RedactingWriter):
            _release(stream)


class RedactingFilter(logging.Filter):
    """Formats each record early and redacts the result, so no handler ever sees a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
