"""Saving generated images, and keeping base64 off terminals."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from aoai.errors import AoaiError, UsageError
from aoai.responses import images

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0rest"


def _response(*results: bytes | str | None) -> dict[str, object]:
    output: list[dict[str, object]] = [{"type": "message", "content": []}]
    for index, result in enumerate(results):
        value = base64.b64encode(result).decode() if isinstance(result, bytes) else result
        output.append({"id": f"ig_{index}", "type": "image_generation_call", "status": "completed", "result": value})
    return {"id": "resp_1", "output": output}


def test_save_writes_each_image_with_the_extension_of_its_bytes(tmp_path: Path) -> None:
    target = tmp_path / "out" / "nested"
    paths = images.save_images(_response(PNG, JPEG, None), target)
    assert [p.name for p in paths] == ["ig_0.png", "ig_1.jpeg"]
    assert paths[0].read_bytes() == PNG and paths[1].read_bytes() == JPEG
    # never overwrites: a second save picks new names
    again = images.save_images(_response(PNG), target)
    assert [p.name for p in again] == ["ig_0-1.png"]
    assert sorted(p.name for p in target.iterdir()) == ["ig_0-1.png", "ig_0.png", "ig_1.jpeg"]


def test_no_images_no_folder(tmp_path: Path) -> None:
    assert images.save_images({"output": []}, tmp_path / "never") == []
    assert not (tmp_path / "never").exists()


def test_a_result_that_is_not_base64_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AoaiError, match="not base64"):
        images.save_images(_response("***"), tmp_path)


def test_check_directory(tmp_path: Path) -> None:
    assert images.check_directory(str(tmp_path / "new")) == tmp_path / "new"
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        images.check_directory(str(file))


def test_elide_results_keeps_everything_but_the_base64() -> None:
    response = _response(PNG)
    elided = images.elide_results({"type": "response.completed", "response": response})
    item = elided["response"]["output"][1]
    assert item["result"].startswith(f"<{len(PNG)} bytes of base64") and "--save-images" in item["result"]
    assert item["id"] == "ig_0"
    assert response["output"][1]["result"] == base64.b64encode(PNG).decode()  # the original is untouched
