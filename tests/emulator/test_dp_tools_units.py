"""Unit tests of the emulator's pure tool and media helpers (no server)."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import jsonschema
import pytest

from aoai.emulator import dp_media, dp_tools
from aoai.emulator.dp_common import ApiError


def test_fill_arguments_fits_the_schema_and_is_deterministic() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "query": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "count": {"type": "integer"},
            "ratio": {"type": "number"},
            "flags": {"type": "array", "items": {"type": "boolean"}},
            "nested": {"type": "object", "properties": {"when": {"type": "string", "format": "date"}}},
            "maybe": {"type": ["null", "string"]},
        },
        "required": ["city", "query", "unit", "count", "ratio", "flags", "nested", "maybe"],
    }
    prompt = "Is it raining in Kyoto today?"
    value = dp_tools.fill_arguments(schema, prompt, "seed")
    jsonschema.validate(value, schema)
    assert value["city"] == "Kyoto" and value["query"] == prompt and value["unit"] == "c"
    assert dp_tools.fill_arguments(schema, prompt, "seed") == value
    assert dp_tools.fill_arguments(None, prompt, "seed") == {}


def test_needs_approval_modes() -> None:
    assert dp_tools.needs_approval({"require_approval": "always"}, "search")
    assert not dp_tools.needs_approval({"require_approval": "never"}, "search")
    mixed = {"require_approval": {"never": {"tool_names": ["fetch"]}}}
    assert dp_tools.needs_approval(mixed, "search") and not dp_tools.needs_approval(mixed, "fetch")


def test_mcp_listing_respects_allowed_tools_and_headers_are_not_echoed() -> None:
    (tool,) = dp_tools.normalize_tools(
        [
            {
                "type": "mcp",
                "server_label": "kb",
                "server_url": "https://kb.example/mcp",
                "allowed_tools": ["fetch"],
                "headers": {"Authorization": "Bearer secret"},
                "authorization": "secret-too",
            }
        ]
    )
    assert tool["headers"] is None and "authorization" not in tool and tool["require_approval"] == "always"
    assert [t["name"] for t in dp_tools.mcp_server_tools(tool)] == ["fetch"]


@pytest.mark.parametrize(
    ("tools", "param"),
    [
        ([{"type": "mcp", "server_label": "a b", "server_url": "https://x"}], "tools[0].server_label"),
        ([{"type": "mcp", "server_label": "a"}], "tools[0].server_url"),
        ([{"type": "mcp", "server_label": "a", "server_url": "https://x", "headers": {"h": 1}}], "tools[0].headers"),
        ([{"type": "image_generation", "partial_images": 4}], "tools[0].partial_images"),
        ([{"type": "image_generation", "size": "10x10"}], "tools[0].size"),
        ([{"type": "image_generation"}, {"type": "image_generation"}], "tools[1]"),
    ],
)
def test_tool_validation(tools: list[dict[str, Any]], param: str) -> None:
    with pytest.raises(ApiError) as caught:
        dp_tools.normalize_tools(tools)
    assert caught.value.body["error"]["param"] == param


def test_mentions_match_whole_names_in_either_spelling() -> None:
    plan = dp_tools.plan(
        dp_tools.normalize_tools([{"type": "function", "name": "get_weather"}]),
        "auto",
        True,
        new_items=[],
        context=[],
        prompt="please GET WEATHER now",
    )
    assert [i["name"] for i in plan.items] == ["get_weather"] and plan.message is False
    none = dp_tools.plan(
        dp_tools.normalize_tools([{"type": "function", "name": "get_weather"}]),
        "auto",
        True,
        new_items=[],
        context=[],
        prompt="forget_weatherman",
    )
    assert none.items == [] and none.message is True


def _jpeg(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", 4) + b"JF" + sof + b"\xff\xd9"


def _webp_vp8x(width: int, height: int) -> bytes:
    body = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(body)) + b"WEBP" + b"VP8X" + struct.pack("<I", len(body)) + body


def test_image_sizes_and_tile_tokens() -> None:
    png = dp_media.make_png("x", 40, 30)
    assert dp_media.image_size(png) == (40, 30)
    assert dp_media.image_size(_jpeg(1600, 900)) == (1600, 900)
    assert dp_media.image_size(_webp_vp8x(512, 256)) == (512, 256)
    assert dp_media.image_size(b"GIF89a" + struct.pack("<HH", 7, 9)) == (7, 9)
    assert dp_media.image_size(b"nothing") is None
    # OpenAI's examples: 1024x1024 high -> 765; 2048x4096 -> 768x1536 -> 6 tiles -> 1105; low -> 85
    assert dp_media.image_tokens_for((1024, 1024), "high") == 765
    assert dp_media.image_tokens_for((2048, 4096), "auto") == 1105
    assert dp_media.image_tokens_for((4096, 4096), "low") == 85


def test_make_png_is_deterministic_and_valid() -> None:
    first = dp_media.make_png("otter", 64, 96)
    assert first == dp_media.make_png("otter", 64, 96) != dp_media.make_png("cat", 64, 96)
    assert first.startswith(b"\x89PNG\r\n\x1a\n") and first.endswith(b"IEND\xaeB`\x82")
    start = first.index(b"IDAT") + 4
    (length,) = struct.unpack(">I", first[start - 8 : start - 4])
    raw = zlib.decompress(first[start : start + length])
    assert len(raw) == 96 * (1 + 64 * 3)
    assert dp_media.sniff_image(first) == "png"


def test_parse_data_url() -> None:
    data = base64.b64encode(b"hello").decode()
    assert dp_media.parse_data_url(f"data:text/plain;charset=utf-8;base64,{data}") == ("text/plain", b"hello")
    assert dp_media.parse_data_url(f"data:text/plain,{data}") is None  # not base64
    assert dp_media.parse_data_url("data:image/png;base64,***") is None
