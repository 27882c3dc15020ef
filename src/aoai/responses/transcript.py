"""``aoai resp create --continue FILE``: a conversation kept in a local file instead of on the service.

The file is a JSON list of input items — exactly what ``--input-file`` accepts — holding every turn
so far: the user messages, and every item the model returned (messages, reasoning items with their
``encrypted_content``, function calls and their outputs). Each ``--continue`` run sends the list plus
the new turn with ``store=false``, then writes the list back with the new turn and the response's
output appended. Nothing is kept on the service, and nothing but the conversation is kept here (no
endpoint, no key).

A missing file starts a new conversation. The file is locked from the moment it is read until the
new turn is written back, so concurrent runs on one file queue up and every turn is kept.
Writes are atomic (a temporary file in the same folder,
flushed, then renamed over the old one) and the file is created readable by its owner only, since a
conversation can be sensitive. A file that is not a JSON list of objects is refused (exit 2) before
anything is sent.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aoai import userinput
from aoai.atomicfile import WriteError, write_file
from aoai.errors import AoaiError, UsageError

FILE_MODE = 0o600


LOCK_WAIT_SECONDS = 600.0  # a turn can take minutes; after this, another aoai is surely stuck
_locks: dict[Path, int] = {}  # transcript -> the open descriptor holding its lock


def _lock(path: Path, notify: Callable[[str], None] | None, wait: float) -> None:
    """Hold an exclusive lock on ``path`` from load to save, so concurrent ``--continue`` runs queue
    up instead of overwriting each other's turns. The lock is on the file itself (no lock file left
    behind); a writer replaces the file, so after waiting we check we hold the current one.
    Released by ``save`` or when the process ends, whatever ends it."""
    where = f"--continue {path}"
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise WriteError(f"{where}: cannot write it ({exc.strerror or exc}); nothing sent") from None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise AoaiError(
                        f"{where}: another aoai has been using it for {wait:g} s; nothing sent",
                        hint="try again once it has finished",
                    ) from None
                if not announced and notify is not None:
                    notify(f"waiting for another aoai to finish its turn in {path} (up to {wait:g} s)")
                    announced = True
                time.sleep(0.05)
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            _locks[path] = fd
            return
        os.close(fd)  # the other writer replaced the file: lock the new one


def _unlock(path: Path) -> None:
    fd = _locks.pop(path, None)
    if fd is not None:
        os.close(fd)


def load(
    path: Path, *, notify: Callable[[str], None] | None = None, wait: float = LOCK_WAIT_SECONDS
) -> list[dict[str, Any]]:
    """The items saved in ``path`` ([] when it does not exist yet), with ``path`` locked until ``save``."""
    where = f"--continue {path}"
    if not path.parent.is_dir():
        raise UsageError(f"{where}: the folder {path.parent} does not exist")
    if path.exists() and not path.is_file():
        raise UsageError(f"{where}: not a regular file")
    if path not in _locks:
        _lock(path, notify, wait)
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
    try:
        write_file(path, text, what="the transcript", private=True)
    finally:
        _unlock(path)
