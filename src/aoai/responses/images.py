"""Images the ``image_generation`` tool returned: write them to files, keep base64 off terminals.

An ``image_generation_call`` item carries its picture as base64 in ``result``. ``--save-images DIR``
writes each one to ``DIR/<item id>.<png|jpeg|webp>`` (the extension from the decoded bytes' magic,
not from what the item claims), never overwriting a file: a taken name gets ``-1``, ``-2``… Each
file is written to a temporary name and renamed, so a reader never sees half an image.

``elide_results`` replaces every ``result`` with a short note, for JSON shown on a terminal: a
few hundred kilobytes of base64 help nobody there, while a pipe still gets the full object.
"""

from __future__ import annotations

import base64
import binascii
import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aoai.atomicfile import write_file
from aoai.errors import AoaiError, UsageError

IMAGE_HEADER = "x-ms-oai-image-generation-deployment"


@dataclass(frozen=True)
class GeneratedImage:
    item_id: str
    data: bytes
    extension: str  # png, jpeg or webp (from the bytes)
    revised_prompt: str | None


def image_tool(options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "image_generation", **(options or {})}


def _extension(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "bin"


def image_calls(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        item
        for item in response.get("output") or []
        if isinstance(item, dict) and item.get("type") == "image_generation_call"
    ]


def generated_images(response: Mapping[str, Any]) -> list[GeneratedImage]:
    """Decoded images of a response (calls without a result are skipped)."""
    images: list[GeneratedImage] = []
    for item in image_calls(response):
        result = item.get("result")
        if not isinstance(result, str) or not result:
            continue
        try:
            data = base64.b64decode(result.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise AoaiError(f"image {item.get('id')}: the service sent a result that is not base64") from exc
        revised = item.get("revised_prompt")
        images.append(
            GeneratedImage(str(item.get("id")), data, _extension(data), revised if isinstance(revised, str) else None)
        )
    return images


def check_directory(value: str) -> Path:
    """``--save-images DIR``: an existing folder, or one that can be created (checked before sending)."""
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"--save-images {value}: not a folder")
    parent = path if path.exists() else next((p for p in path.parents if p.exists()), Path("."))
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--save-images {value}: cannot write in {parent}")
    return path


def _free_name(directory: Path, stem: str, extension: str) -> Path:
    candidate = directory / f"{stem}.{extension}"
    counter = 1
    while candidate.exists():
        candidate = directory / f"{stem}-{counter}.{extension}"
        counter += 1
    return candidate


def save_images(response: Mapping[str, Any], directory: Path) -> list[Path]:
    """Write every generated image of ``response`` into ``directory``; returns the paths."""
    images = generated_images(response)
    if not images:
        return []
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AoaiError(f"cannot create {directory}: {exc.strerror or exc}") from exc
    paths = []
    for image in images:
        target = _free_name(directory, image.item_id, image.extension)
        paths.append(write_file(target, image.data, what="image"))
    return paths


def elide_results(value: Any) -> Any:
    """A deep copy of a response (or event) with each image ``result`` replaced by a short note."""
    copied = copy.deepcopy(value)
    _elide(copied)
    return copied


def _elide(value: Any) -> None:
    if isinstance(value, dict):
        if value.get("type") == "image_generation_call" and isinstance(value.get("result"), str):
            size = len(value["result"]) * 3 // 4
            value["result"] = f"<{size} bytes of base64 image data omitted; use --save-images DIR>"
        for child in value.values():
            _elide(child)
    elif isinstance(value, list):
        for child in value:
            _elide(child)
