"""``--file`` / ``--image``: type detection by extension and content, size limit, message building."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from aoai.errors import UsageError
from aoai.responses import attachments

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8X" + b"\x00" * 10
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _decoded(url: str) -> tuple[str, bytes]:
    head, _, payload = url.partition(",")
    assert head.startswith("data:") and head.endswith(";base64")
    return head[5:-7], base64.b64decode(payload)


def test_pdf_is_sent_inline_with_its_name(tmp_path: Path) -> None:
    found = attachments.load_file(_write(tmp_path, "Q3 report.PDF", PDF))
    assert found.kind == "file" and found.size == len(PDF) and found.mime == "application/pdf"
    assert found.part["type"] == "input_file" and found.part["filename"] == "Q3 report.PDF"
    assert _decoded(found.part["file_data"]) == ("application/pdf", PDF)


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("notes.md", "# Título\n".encode(), "text/markdown"),
        ("data.csv", b"a,b\n1,2\n", "text/csv"),
        ("main.py", b"print('hi')\n", "text/x-python"),
        ("deck.pptx", b"PK\x03\x04rest", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "application/msword"),
        ("letter.rtf", b"{\\rtf1 hello}", "application/rtf"),
    ],
)
def test_supported_documents(tmp_path: Path, name: str, data: bytes, mime: str) -> None:
    found = attachments.load_file(_write(tmp_path, name, data))
    assert _decoded(found.part["file_data"]) == (mime, data)


def test_text_cut_inside_a_character_at_the_sniff_window_is_still_text(tmp_path: Path) -> None:
    data = b"a" * (attachments.SNIFF_BYTES - 1) + "é".encode() + b"tail"
    assert attachments.load_file(_write(tmp_path, "long.txt", data)).size == len(data)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tool.exe", b"MZ", "unsupported file type ('.exe')"),
        ("README", b"text", "unsupported file type (no extension)"),
        ("fake.pdf", b"hello", "the content is not a PDF file"),
        ("fake.docx", b"hello", "the content is not a DOCX file"),
        ("binary.txt", b"\x00\x01\x02", "must be UTF-8 text"),
        ("latin1.csv", b"caf\xe9,1\n", "must be UTF-8 text"),
        ("photo.png", PNG, "images go with --image"),
    ],
)
def test_files_refused(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        attachments.load_file(_write(tmp_path, name, data))
    assert message in caught.value.message


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        attachments.load_file(str(tmp_path / "nope.pdf"))
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    with pytest.raises(UsageError, match="not a regular file"):
        attachments.load_file(str(folder))


def test_unreadable_file(tmp_path: Path) -> None:
    locked = Path(_write(tmp_path, "locked.pdf", PDF))
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # running as root: permissions are not enforced
            pytest.skip("permissions are not enforced for this user")
        with pytest.raises(UsageError, match="cannot read it"):
            attachments.load_file(str(locked))
    finally:
        locked.chmod(0o600)


def test_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:  # sparse: no 51 MB written to disk
        handle.truncate(attachments.MAX_ATTACHMENT_BYTES + 1)
    with pytest.raises(UsageError) as caught:
        attachments.load_file(str(big))
    assert "over the 50 MB limit" in caught.value.message
    small = _write(tmp_path, "small.pdf", PDF)
    with pytest.raises(UsageError, match="limit"):
        attachments.load_file(small, limit=4)


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("a.png", PNG, "image/png"),
        ("b.JPG", JPEG, "image/jpeg"),
        ("c.webp", WEBP, "image/webp"),
        ("d.jpeg", PNG, "image/png"),
    ],
)
def test_images_take_their_type_from_the_bytes(tmp_path: Path, name: str, data: bytes, mime: str) -> None:
    found = attachments.load_image(_write(tmp_path, name, data))
    assert found.part["type"] == "input_image" and found.part["detail"] == "auto"
    assert _decoded(found.part["image_url"]) == (mime, data)


def test_image_urls_are_passed_through_not_fetched() -> None:
    found = attachments.load_image("https://example.com/cat.png?x=1")
    assert found.part == {"type": "input_image", "image_url": "https://example.com/cat.png?x=1", "detail": "auto"}
    assert found.size is None


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("anim.gif", b"GIF89a", "unsupported image type ('.gif')"),
        ("doc.pdf", PDF, "unsupported image type ('.pdf')"),
        ("fake.png", b"not an image", "not a PNG, JPEG or WebP image"),
        ("gif.png", b"GIF89a" + b"\x00" * 10, "the content is a GIF"),
    ],
)
def test_images_refused(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        attachments.load_image(_write(tmp_path, name, data))
    assert message in caught.value.message


@pytest.mark.parametrize("value", ["ftp://example.com/a.png", "data:image/png;base64,AAAA", "file:///etc/a.png"])
def test_other_schemes_are_refused(value: str) -> None:
    with pytest.raises(UsageError, match="only a local path or an http"):
        attachments.load_image(value)


def test_attach_builds_one_user_message(tmp_path: Path) -> None:
    pdf = attachments.load_file(_write(tmp_path, "r.pdf", PDF))
    png = attachments.load_image(_write(tmp_path, "i.png", PNG))
    assert attachments.attach("hi", []) == "hi"
    message = attachments.attach("Summarize.", [pdf, png])
    assert message == [{"role": "user", "content": [{"type": "input_text", "text": "Summarize."}, pdf.part, png.part]}]
    assert attachments.attach(None, [png]) == [{"role": "user", "content": [png.part]}]
    # a list ending with a user message: the attachments join it
    joined = attachments.attach([{"role": "user", "content": "Look."}], [png])
    assert joined == [{"role": "user", "content": [{"type": "input_text", "text": "Look."}, png.part]}]
    # a list ending with something else: a new user message
    items = [{"type": "function_call_output", "call_id": "c", "output": "x"}]
    assert attachments.attach(items, [png]) == [*items, {"role": "user", "content": [png.part]}]
