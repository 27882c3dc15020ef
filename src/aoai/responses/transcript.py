"""``aoai resp create --continue FILE``: a conversation kept in a local file instead of on the service.

The file is a JSON list of input items — exactly what ``--input-file`` accepts — holding every turn
so far: the user messages, and every item the model returned (messages, reasoning items with their
``encrypted_content``, function calls and their outputs). Each ``--continue`` run sends the list plus
the new turn with ``store=false``, then writes the list back with the new turn and the response's
output appended. Nothing is kept on the service, and nothing but the conversation is kept here (no
endpoint, no key).

A missing file starts a new conversation. Writes are atomic (a temporary file in the same folder,
flushed, then renamed over the old one) and the file is created readable by its owner only, since a
conversation can be sensitive. A file that is not a JSON list of objects is refused (exit 2) before
anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aoai import userinput
from aoai.atomicfile import write_file
from aoai.errors import UsageError

FILE_MODE = 0o600


def load(path: Path) -> list[dict[str, Any]]:
    """The items saved in ``path`` ([] when it does not exist yet)."""
    where = f"--continue {path}"
    if not path.exists():
        if not path.parent.is_dir():
            raise UsageError(f"{where}: the folder {path.parent} does not exist")
        return []
    raw = userinput.read_text(str(path), where=where)
    if not raw.strip():
        return []
    try:
        value = userinput.parse_json(raw, where)
    except UsageError as exc:
        exc.hint = exc.hint or "the file must hold a JSON list of items, as written by --continue"
        raise
    if not isinstance(value, list):
        raise UsageError(f"--continue {path}: expected a JSON list of items, found a {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise UsageError(f"--continue {path}: item {index} is a {type(item).__name__}, not a JSON object")
    return list(value)


def as_items(value: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A new turn's input as items: text becomes one user message."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return [dict(item) for item in value]


def save(path: Path, items: Sequence[dict[str, Any]]) -> None:
    """Write the items atomically (mode 0600 for a new file; an existing file keeps its mode)."""
    text = json.dumps(list(items), indent=2, ensure_ascii=False) + "\n"
    write_file(path, text, what="the transcript", private=True)
