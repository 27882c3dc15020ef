"""Attachments and images: validate ``input_image`` / ``input_file`` content parts as the service does,
count the tokens they cost, and draw the small deterministic PNG the image generation tool returns.

What is accepted (and why):

- ``input_image``: ``image_url`` is an ``https://`` / ``http://`` URL (never fetched: the emulator makes
  no outbound connection) or a base64 data URL of a PNG, JPEG or WebP image — the formats Azure
  OpenAI lists for vision input; the bytes must really be one of them (magic bytes), else 400
  ``invalid_image_format``. ``detail`` is ``auto`` (default), ``low``, ``high`` or ``original``.
  ``file_id`` is refused: Azure cannot reference uploaded images, and the emulator has no Files API.
- ``input_file``: ``file_data`` is a base64 data URL and needs ``filename``, whose extension must be
  one of the document, text and code types the service extracts text from (``SUPPORTED_FILE_EXTENSIONS``);
  a ``.pdf`` must start with ``%PDF-``. ``file_url`` is accepted (not fetched); ``file_id`` is refused.
- Each decoded attachment may be at most ``MAX_ATTACHMENT_BYTES`` (50 MB), the payload limit OpenAI
  documents for image input.

Token costs follow OpenAI's published rules where there is one: an image at ``low`` detail costs 85
tokens; otherwise it is fitted in 2048×2048, its short side scaled to 768, and costs 85 + 170 per
512-pixel tile (an image known only by URL is assumed to be 1024×1024). A PDF costs, per page
(counted from its page objects), 85 tokens for the page image plus ``PDF_PAGE_TEXT_TOKENS`` for its
text; a text file costs the tokens of its text; another document one token per 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import math
import re
import struct
import zlib
from typing import Any

from aoai.emulator.dp_common import ApiError, invalid_request
from aoai.emulator.textgen import count_tokens

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/webp": "webp"}
IMAGE_DETAILS = ("auto", "low", "high", "original")
LOW_DETAIL_TOKENS = 85
TILE_TOKENS = 170
URL_IMAGE_SIZE = (1024, 1024)
PDF_PAGE_TEXT_TOKENS = 200
BINARY_BYTES_PER_TOKEN = 32

TEXT_FILE_EXTENSIONS = frozenset(
    {
        *("bat", "c", "cc", "cls", "cpp", "cs", "css", "csv", "diff", "go", "h", "hpp", "hs", "htm", "html"),
        *("ics", "java", "js", "json", "jsonl", "kt", "ksh", "log", "ltx", "markdown", "md", "mjs", "patch"),
        *("php", "pl", "pm", "ps1", "py", "rb", "rs", "rst", "scala", "sh", "sql", "srt", "sty", "svg"),
        *("swift", "tex", "text", "toml", "ts", "tsv", "txt", "vcf", "vtt", "xml", "yaml", "yml"),
    }
)
DOCUMENT_FILE_EXTENSIONS = frozenset(
    {"doc", "docx", "dot", "eml", "mht", "mhtml", "odt", "pdf", "pot", "pps", "ppt", "pptx", "rtf", "xls", "xlsx"}
)
SUPPORTED_FILE_EXTENSIONS = TEXT_FILE_EXTENSIONS | DOCUMENT_FILE_EXTENSIONS

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,", re.I)
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")


def parse_data_url(value: str) -> tuple[str, bytes] | None:
    """(MIME type, decoded bytes) of a base64 ``data:`` URL, or None when it is not one."""
    match = _DATA_URL.match(value)
    if match is None or not match.group("b64"):
        return None
    payload = value[match.end() :]
    try:
        data = base64.b64decode(payload.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return (match.group("mime") or "").lower(), data


def sniff_image(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``webp`` or ``gif`` from the magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG, JPEG, WebP or GIF header, or None when it cannot be read."""
    kind = sniff_image(data)
    try:
        if kind == "png" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return int(width), int(height)
        if kind == "gif":
            width, height = struct.unpack("<HH", data[6:10])
            return int(width), int(height)
        if kind == "webp":
            return _webp_size(data)
        if kind == "jpeg":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return width, height
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + int(length)
    return None


def image_tokens_for(size: tuple[int, int] | None, detail: str) -> int:
    """Input tokens of one image (OpenAI's tile rule for gpt-4o / gpt-4.1 class models)."""
    if detail == "low":
        return LOW_DETAIL_TOKENS
    pixels_w, pixels_h = size or URL_IMAGE_SIZE
    if pixels_w <= 0 or pixels_h <= 0:
        return LOW_DETAIL_TOKENS
    scale = min(1.0, 2048 / max(pixels_w, pixels_h))
    width, height = pixels_w * scale, pixels_h * scale
    scale = min(1.0, 768 / min(width, height))
    width, height = width * scale, height * scale
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    return LOW_DETAIL_TOKENS + TILE_TOKENS * tiles


def _attachment_too_large(where: str, size: int) -> ApiError:
    return invalid_request(
        f"Invalid '{where}': the decoded content is {size} bytes; the maximum is {MAX_ATTACHMENT_BYTES} bytes "
        f"({MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB).",
        param=where,
        code="file_too_large",
    )


def _no_files_api(where: str) -> ApiError:
    return invalid_request(
        f"Invalid '{where}': the aoai emulator has no Files API, so file ids cannot be resolved; "
        "send the content inline (a base64 data URL) or as a URL.",
        param=where,
        code="invalid_value",
    )


def _unsupported_image(where: str) -> ApiError:
    formats = sorted(set(IMAGE_FORMATS.values()))
    return invalid_request(
        f"You uploaded an unsupported image. Please make sure your image has one of the following formats: {formats}.",
        param=where,
        code="invalid_image_format",
    )


def normalize_image_part(part: dict[str, Any], where: str) -> dict[str, Any]:
    """A validated ``input_image`` part in the shape the service lists it (``detail`` always set)."""
    detail = part.get("detail", "auto")
    if detail is None:
        detail = "auto"
    if detail not in IMAGE_DETAILS:
        raise invalid_request(
            f"Invalid value: '{detail}'. Supported values are: {', '.join(repr(d) for d in IMAGE_DETAILS)}.",
            param=f"{where}.detail",
            code="invalid_value",
        )
    if part.get("file_id") is not None:
        raise _no_files_api(f"{where}.file_id")
    url = part.get("image_url")
    if not isinstance(url, str) or not url:
        raise invalid_request(
            f"Missing required parameter: '{where}.image_url'.",
            param=f"{where}.image_url",
            code="missing_required_parameter",
        )
    if url.startswith("data:"):
        parsed = parse_data_url(url)
        if parsed is None:
            raise invalid_request(
                f"Invalid '{where}.image_url'. Expected a base64-encoded data URL with an image MIME type "
                "(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got an invalid value.",
                param=f"{where}.image_url",
                code="invalid_value",
            )
        mime, data = parsed
        if mime not in IMAGE_FORMATS:
            raise invalid_request(
                f"Invalid '{where}.image_url'. Expected a base64-encoded data URL with an image MIME type "
                f"(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got unsupported MIME type '{mime}'.",
                param=f"{where}.image_url",
                code="invalid_value",
            )
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise _attachment_too_large(f"{where}.image_url", len(data))
        if sniff_image(data) not in IMAGE_FORMATS.values():
            raise _unsupported_image(f"{where}.image_url")
    elif not url.lower().startswith(("https://", "http://")):
        raise invalid_request(
            f"Invalid '{where}.image_url'. Expected a valid URL or a base64-encoded data URL, "
            "but got an invalid value.",
            param=f"{where}.image_url",
            code="invalid_value",
        )
    normalized: dict[str, Any] = {"type": "input_image", "detail": detail, "file_id": None, "image_url": url}
    return normalized


def _extension(filename: str) -> str:
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


def normalize_file_part(part: dict[str, Any], where: str) -> dict[str, Any]:
    """A validated ``input_file`` part (``file_data`` with ``filename``, or ``file_url``)."""
    if part.get("file_id") is not None:
        raise _no_files_api(f"{where}.file_id")
    file_data = part.get("file_data")
    file_url = part.get("file_url")
    filename = part.get("filename")
    if file_data is None and file_url is None:
        raise invalid_request(
            f"Missing required parameter: '{where}.file_data' (or 'file_url').",
            param=f"{where}.file_data",
            code="missing_required_parameter",
        )
    if filename is not None and not isinstance(filename, str):
        raise invalid_request(
            f"Invalid type for '{where}.filename': expected a string.", param=f"{where}.filename", code="invalid_type"
        )
    if file_data is not None:
        if not isinstance(file_data, str):
            raise invalid_request(
                f"Invalid type for '{where}.file_data': expected a string.",
                param=f"{where}.file_data",
                code="invalid_type",
            )
        if not filename:
            raise invalid_request(
                f"Missing required parameter: '{where}.filename'.",
                param=f"{where}.filename",
                code="missing_required_parameter",
            )
        parsed = parse_data_url(file_data)
        if parsed is None:
            raise invalid_request(
                f"Invalid '{where}.file_data'. Expected a base64-encoded data URL "
                "(e.g. 'data:application/pdf;base64,JVBERi0xLjQK...'), but got an invalid value.",
                param=f"{where}.file_data",
                code="invalid_value",
            )
        data = parsed[1]
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise _attachment_too_large(f"{where}.file_data", len(data))
        _check_file_type(filename, data, where)
    else:
        if not isinstance(file_url, str) or not file_url.lower().startswith(("https://", "http://")):
            raise invalid_request(
                f"Invalid '{where}.file_url'. Expected a valid URL, but got an invalid value.",
                param=f"{where}.file_url",
                code="invalid_value",
            )
        if filename:
            _check_file_type(filename, None, where)
    detail = part.get("detail")
    if detail is not None and detail not in ("auto", "low", "high"):
        raise invalid_request(
            f"Invalid value: '{detail}'. Supported values are: 'auto', 'low', and 'high'.",
            param=f"{where}.detail",
            code="invalid_value",
        )
    normalized = {"type": "input_file", "filename": filename}
    for key in ("file_data", "file_url", "detail"):
        if part.get(key) is not None:
            normalized[key] = part[key]
    return normalized


def _check_file_type(filename: str, data: bytes | None, where: str) -> None:
    extension = _extension(filename)
    if extension not in SUPPORTED_FILE_EXTENSIONS:
        listed = ", ".join(f".{e}" for e in sorted(SUPPORTED_FILE_EXTENSIONS))
        got = f".{extension}" if extension else "no extension"
        raise invalid_request(
            f"Invalid input: Expected context stuffing file type to be a supported format: {listed} but got {got}.",
            param=f"{where}.filename",
            code="unsupported_file",
        )
    if data is None:
        return
    if extension == "pdf" and not data.startswith(b"%PDF-"):
        raise invalid_request(
            f"Invalid '{where}.file_data': the data of '{filename}' is not a valid PDF file.",
            param=f"{where}.file_data",
            code="invalid_value",
        )
    if extension in TEXT_FILE_EXTENSIONS:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid_request(
                f"Invalid '{where}.file_data': '{filename}' is not UTF-8 text.",
                param=f"{where}.file_data",
                code="invalid_value",
            ) from None


# -- token costs (cached: a chain re-counts the same parts on every turn) --------------------------


@functools.lru_cache(maxsize=256)
def _data_url_image_tokens(url: str, detail: str) -> int:
    parsed = parse_data_url(url)
    return image_tokens_for(image_size(parsed[1]) if parsed else None, detail)


@functools.lru_cache(maxsize=256)
def _file_data_tokens(file_data: str, filename: str) -> int:
    parsed = parse_data_url(file_data)
    if parsed is None:
        return LOW_DETAIL_TOKENS
    data = parsed[1]
    extension = _extension(filename)
    if extension == "pdf":
        pages = max(1, len(_PDF_PAGE.findall(data)))
        return pages * (LOW_DETAIL_TOKENS + PDF_PAGE_TEXT_TOKENS)
    if extension in TEXT_FILE_EXTENSIONS:
        return count_tokens(data.decode("utf-8", "replace"))
    return max(1, len(data) // BINARY_BYTES_PER_TOKEN)


def part_tokens(part: dict[str, Any]) -> int:
    """Input tokens of an ``input_image`` or ``input_file`` part (0 for anything else)."""
    kind = part.get("type")
    if kind == "input_image":
        url = part.get("image_url")
        detail = str(part.get("detail") or "auto")
        if isinstance(url, str) and url.startswith("data:"):
            return _data_url_image_tokens(url, detail)
        return image_tokens_for(None, detail)
    if kind == "input_file":
        data = part.get("file_data")
        if isinstance(data, str):
            return _file_data_tokens(data, str(part.get("filename") or ""))
        return LOW_DETAIL_TOKENS + PDF_PAGE_TEXT_TOKENS
    return 0


# -- the image generation tool's picture -----------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def make_png(seed: str, width: int = 64, height: int = 64) -> bytes:
    """A small RGB PNG drawn deterministically from ``seed``: a vertical gradient between two colours
    with a centred square of a third (same seed, same bytes)."""
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).digest()
    top, bottom, square = digest[0:3], digest[3:6], digest[6:9]
    rows = []
    x0, x1 = width // 4, width - width // 4
    y0, y1 = height // 4, height - height // 4
    for y in range(height):
        t = y / max(1, height - 1)
        colour = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        inside = y0 <= y < y1
        row = colour * x0 + square * (x1 - x0) + colour * (width - x1) if inside else colour * width
        rows.append(b"\x00" + row)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
