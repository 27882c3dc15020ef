"""``--file`` and ``--image``: local files (and image URLs) as ``input_file`` / ``input_image`` parts.

Everything is checked before a request is built, so a bad attachment stops the command with exit 2
and nothing is sent:

- the path must be a readable regular file no larger than ``MAX_ATTACHMENT_BYTES`` (50 MB, checked
  with ``stat`` before reading; OpenAI documents 50 MB as the request payload limit for file and
  image input, and Azure counts attached content against the model's context as well);
- the extension decides the type and the content must agree with it: ``--image`` takes PNG, JPEG
  and WebP (the formats Azure OpenAI lists for vision input), recognised by their magic bytes;
  ``--file`` takes PDF (``%PDF-``), Office documents (OOXML zip or OLE2 containers), RTF, and text,
  data and code files (valid UTF-8, no NUL byte) — the types the Responses API extracts text from;
- anything else is refused with a one-line reason and the list of supported types.

Files are sent inline: ``input_file`` with ``filename`` and ``file_data`` as a base64 data URL (the
form Azure's docs show; file ids need an upload with ``purpose=assistants`` first), and
``input_image`` with a base64 data URL — or, for ``--image https://…``, the URL itself, which the
service fetches (the tool never does).
"""

from __future__ import annotations

import base64
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aoai.errors import UsageError

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
SNIFF_BYTES = 8192

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
_OOXML = "application/vnd.openxmlformats-officedocument"
DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": f"{_OOXML}.wordprocessingml.document",
    ".pptx": f"{_OOXML}.presentationml.presentation",
    ".xlsx": f"{_OOXML}.spreadsheetml.sheet",
    ".doc": "application/msword",
    ".ppt": "application/vnd.ms-powerpoint",
    ".xls": "application/vnd.ms-excel",
    ".rtf": "application/rtf",
    ".odt": "application/vnd.oasis.opendocument.text",
}
TEXT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".rst": "text/x-rst",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".xml": "application/xml",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".log": "text/plain",
    ".tex": "application/x-tex",
    ".py": "text/x-python",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".ts": "application/typescript",
    ".java": "text/x-java",
    ".c": "text/x-c",
    ".h": "text/x-c",
    ".cpp": "text/x-c++",
    ".hpp": "text/x-c++",
    ".cs": "text/x-csharp",
    ".go": "text/x-golang",
    ".rs": "text/x-rust",
    ".rb": "text/x-ruby",
    ".php": "text/x-php",
    ".sh": "application/x-sh",
    ".ps1": "text/plain",
    ".sql": "application/sql",
    ".kt": "text/x-kotlin",
    ".swift": "text/x-swift",
    ".scala": "text/x-scala",
}
FILE_TYPES = {**DOCUMENT_TYPES, **TEXT_TYPES}

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_MAGIC_ZIP = b"PK\x03\x04"
_MAGIC_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _sniff_image(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def _document_matches(extension: str, head: bytes) -> bool:
    if extension == ".pdf":
        return head.startswith(b"%PDF-")
    if extension in (".docx", ".pptx", ".xlsx", ".odt"):
        return head.startswith(_MAGIC_ZIP)
    if extension in (".doc", ".ppt", ".xls"):
        return head.startswith(_MAGIC_OLE)
    if extension == ".rtf":
        return head.startswith(b"{\\rtf")
    return False


def _is_text(head: bytes, complete: bool) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed window is not an error.
        return not complete and exc.start >= len(head) - 3
    return True


def _listed(types: dict[str, str]) -> str:
    return " ".join(sorted(types))


@dataclass(frozen=True)
class Attachment:
    """One attachment, ready to be sent."""

    kind: str  # "file" or "image"
    name: str  # the file name, or the URL
    mime: str
    size: int | None  # bytes (None for an image URL)
    part: dict[str, Any]  # the content part


def _read(path_text: str, option: str, limit: int) -> tuple[Path, bytes]:
    path = Path(path_text).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageError(f"{option} {path_text}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{option} {path_text}: cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{option} {path_text}: not a regular file")
    if info.st_size > limit:
        raise UsageError(
            f"{option} {path_text}: {info.st_size / 1024 / 1024:.1f} MB is over the {limit / 1024 / 1024:g} MB limit "
            "per attachment",
            hint="send a smaller file, or split it",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{option} {path_text}: cannot read it ({exc.strerror or exc})") from None
    return path, data


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def load_file(path_text: str, *, limit: int = MAX_ATTACHMENT_BYTES) -> Attachment:
    """``--file PATH``: an ``input_file`` part (inline base64), after checking type and size."""
    extension = Path(path_text).suffix.lower()
    if extension in IMAGE_TYPES:
        raise UsageError(f"--file {path_text}: images go with --image", hint=f"aoai resp create … --image {path_text}")
    if extension not in FILE_TYPES:
        got = f"'{extension}'" if extension else "no extension"
        raise UsageError(f"--file {path_text}: unsupported file type ({got})", hint=f"supported: {_listed(FILE_TYPES)}")
    path, data = _read(path_text, "--file", limit)
    head = data[:SNIFF_BYTES]
    if extension in TEXT_TYPES:
        if not _is_text(head, complete=len(data) <= SNIFF_BYTES):
            raise UsageError(f"--file {path_text}: a {extension} file must be UTF-8 text, and this one is not")
    elif not _document_matches(extension, head):
        raise UsageError(f"--file {path_text}: the content is not a {extension[1:].upper()} file")
    mime = FILE_TYPES[extension]
    part = {"type": "input_file", "filename": path.name, "file_data": _data_url(mime, data)}
    return Attachment("file", path.name, mime, len(data), part)


def load_image(value: str, *, limit: int = MAX_ATTACHMENT_BYTES) -> Attachment:
    """``--image PATH|URL``: an ``input_image`` part (a data URL, or the https URL as given)."""
    lowered = value.lower()
    if lowered.startswith(("https://", "http://")):
        if any(ch.isspace() for ch in value):
            raise UsageError(f"--image {value!r}: a URL cannot contain spaces")
        return Attachment("image", value, "", None, {"type": "input_image", "image_url": value, "detail": "auto"})
    if _SCHEME.match(value) or lowered.startswith("data:"):
        raise UsageError(f"--image {value}: only a local path or an http(s) URL is accepted")
    extension = Path(value).suffix.lower()
    if extension not in IMAGE_TYPES:
        hint = "PDF and other documents go with --file" if extension in FILE_TYPES else None
        got = f"'{extension}'" if extension else "no extension"
        raise UsageError(
            f"--image {value}: unsupported image type ({got}); Azure OpenAI accepts {_listed(IMAGE_TYPES)}",
            hint=hint,
        )
    path, data = _read(value, "--image", limit)
    mime = _sniff_image(data[:16])
    if mime is None or mime not in IMAGE_TYPES.values():
        what = "a GIF" if mime == "image/gif" else "not a PNG, JPEG or WebP image"
        raise UsageError(f"--image {value}: the content is {what}")
    part = {"type": "input_image", "image_url": _data_url(mime, data), "detail": "auto"}
    return Attachment("image", path.name, mime, len(data), part)


def load_all(files: Sequence[str], images: Sequence[str], *, limit: int = MAX_ATTACHMENT_BYTES) -> list[Attachment]:
    """Every ``--file`` then every ``--image``, in the order given."""
    return [load_file(f, limit=limit) for f in files] + [load_image(i, limit=limit) for i in images]


def attach(
    input_value: str | list[dict[str, Any]] | None, attachments: Sequence[Attachment]
) -> str | list[dict[str, Any]] | None:
    """Put the attachments in the user's message.

    Text input becomes one user message holding the text then the attachments. A list of items
    gets the attachments in its last user message when that message is the last item (its string
    content becomes an ``input_text`` part), else in a new user message at the end."""
    if not attachments:
        return input_value
    parts = [dict(a.part) for a in attachments]
    if input_value is None:
        return [{"role": "user", "content": parts}]
    if isinstance(input_value, str):
        return [{"role": "user", "content": [{"type": "input_text", "text": input_value}, *parts]}]
    items = [dict(item) for item in input_value]
    last = items[-1] if items else None
    if last is not None and last.get("role") == "user" and last.get("type", "message") == "message":
        content = last.get("content")
        if isinstance(content, str):
            last["content"] = [{"type": "input_text", "text": content}, *parts]
            return items
        if isinstance(content, list):
            last["content"] = [*content, *parts]
            return items
    return [*items, {"role": "user", "content": parts}]
