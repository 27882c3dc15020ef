"""Reading what users give us: files, standard input and ``@FILE`` values, bounded and checked.

Every input the tool reads from a user goes through here, so each one gets the same guarantees:

- a size cap (``MAX_INPUT_BYTES``, 50 MB — the same limit as attachments): reading stops as soon
  as it is exceeded, so ``--input-file /dev/zero`` ends with exit 2 instead of eating the machine;
- text must be UTF-8: the error names the source and the line, column and byte offset of the
  first bad byte (binary data on standard input included);
- JSON is parsed strictly: ``NaN`` / ``Infinity`` are refused (they are not JSON, and a request
  carrying them is rejected by the service or crashes on the way) and nesting is limited to
  ``MAX_JSON_DEPTH`` levels.

Each failure is a ``UsageError`` (exit 2) with one line that says which input and where.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from aoai.errors import UsageError

MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_JSON_DEPTH = 64
STDIN = "-"
_CHUNK = 1024 * 1024
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _megabytes(limit: int) -> str:
    return f"{limit / 1024 / 1024:g} MB"


def too_large(where: str, limit: int = MAX_INPUT_BYTES) -> UsageError:
    return UsageError(
        f"{where} is larger than {_megabytes(limit)}, the limit for any input",
        hint="give a smaller input, or split it",
    )


def read_stream(stream: IO[bytes], where: str, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """Read ``stream`` to its end, stopping with exit 2 as soon as more than ``limit`` bytes arrive."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise too_large(where, limit)
        chunks.append(chunk)


def _stdin_bytes() -> IO[bytes]:
    stdin = sys.stdin
    if stdin is None:  # fd 0 was closed before Python started
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    return stdin.buffer


def read_bytes(
    path: str,
    *,
    where: str,
    limit: int = MAX_INPUT_BYTES,
    stdin: Callable[[], IO[bytes]] = _stdin_bytes,
) -> bytes:
    """The bytes of ``path`` (``-``: standard input), at most ``limit`` of them."""
    if path == STDIN:
        try:
            return read_stream(stdin(), where, limit=limit)
        except OSError as exc:
            prefix = "" if where == "standard input" else f"{where}: "
            if exc.errno == errno.EBADF:
                raise UsageError(f"{prefix}standard input is closed", hint="give a file instead of -") from None
            raise UsageError(f"{prefix}cannot read standard input ({exc.strerror or exc})") from None
    file = Path(path).expanduser()
    try:
        with open(file, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise UsageError(f"{where}: {path} is a folder, not a file")
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise too_large(where, limit)
            return read_stream(handle, where, limit=limit)
    except FileNotFoundError:
        raise UsageError(f"{where}: {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{where}: {path} is a folder, not a file") from None
    except OSError as exc:
        raise UsageError(f"{where}: cannot read {path} ({exc.strerror or exc})") from None


def decode(data: bytes, where: str) -> str:
    """UTF-8 text (a leading byte-order mark is dropped); the error gives the first bad byte's position."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        raise UsageError(
            f"{where} is not UTF-8 text: byte 0x{data[offset]:02x} at line {line}, column {column} "
            f"(byte offset {offset})",
            hint="save it as UTF-8",
        ) from None
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise UsageError(
            f"{where} is binary, not text: a NUL character at line {line}, column {column}",
            hint="attach binary files with --file or --image",
        )
    return text


def read_text(
    path: str, *, where: str, limit: int = MAX_INPUT_BYTES, stdin: Callable[[], IO[bytes]] = _stdin_bytes
) -> str:
    """``read_bytes`` then ``decode``."""
    return decode(read_bytes(path, where=where, limit=limit, stdin=stdin), where)


class _Refused(ValueError):
    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.token = token


def _no_constant(token: str) -> Any:
    raise _Refused(f"{token} is not a JSON number", token)


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _Refused(f"{token} is too large for a number", token)
    return value


def _int(token: str) -> int:
    try:
        return int(token)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise _Refused(f"a {len(token)}-digit number is too large", token) from None


def _depth_exceeded(value: Any, max_depth: int) -> bool:
    """True when arrays/objects nest deeper than ``max_depth`` (iterative: no recursion limit)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _check_surrogates(value: Any, text: str, where: str) -> None:
    """A ``\\ud800`` escape without its pair decodes to a string no UTF-8 request can carry."""
    stack = [value]
    while stack:
        node = stack.pop()
        strings = [node] if isinstance(node, str) else list(node) if isinstance(node, dict) else []
        for string in strings:
            try:
                string.encode("utf-8")
            except UnicodeEncodeError as exc:
                escape = f"\\u{ord(string[exc.start]):04x}"
                found = text.lower().find(escape)
                raise UsageError(
                    f"invalid JSON in {where}: {escape} is half of a surrogate pair at {_position(text, max(0, found))}"
                ) from None
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line} column {column}"


def parse_json(text: str, where: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Strict JSON: no NaN / Infinity, at most ``max_depth`` levels of arrays and objects."""
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise UsageError(f"invalid JSON in {where}: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except _Refused as exc:
        raise UsageError(
            f"invalid JSON in {where}: {exc} at {_position(text, max(0, text.find(exc.token)))}",
            hint="give a finite number (JSON has no NaN or Infinity)",
        ) from None
    except RecursionError:
        value, deep = None, True
    else:
        deep = _depth_exceeded(value, max_depth)
    if deep:
        raise UsageError(f"invalid JSON in {where}: nested deeper than {max_depth} levels")
    if _SURROGATE_ESCAPE.search(text):
        _check_surrogates(value, text, where)
    return value


def read_json(path: str, *, where: str, limit: int = MAX_INPUT_BYTES) -> Any:
    """``read_text`` then ``parse_json``."""
    return parse_json(read_text(path, where=where, limit=limit), where)
