"""Images and documents in a prompt reach the model; streamed input through the real CLI."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Turn

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def test_image_and_text_blocks_reach_the_model(claude_env: ClaudeTestEnv) -> None:
    opts = claude_env.options([Turn("I see a pixel")])
    prompt = [tc.TextBlock(text="What is in this image?"), tc.ImageBlock.from_bytes(PNG)]
    turn = await tc.ask(prompt, options=opts)
    assert turn.text == "I see a pixel"
    (request,) = claude_env.model.turn_requests("t1")
    blocks = [
        b
        for m in request.body["messages"]
        if m["role"] == "user" and isinstance(m["content"], list)
        for b in m["content"]
    ]
    images = [b for b in blocks if b.get("type") == "image"]
    assert images and images[0]["source"]["data"] == base64.b64encode(PNG).decode()
    assert any(b.get("text") == "What is in this image?" for b in blocks)


async def test_streamed_input_through_the_real_cli(claude_env: ClaudeTestEnv) -> None:
    async def prompts() -> AsyncIterator[str]:
        yield "first"
        yield "second"

    opts = claude_env.options([Turn("answer one"), Turn("answer two")])
    async with tc.query(prompts(), options=opts) as messages:
        results = [m.result async for m in messages if isinstance(m, tc.ResultMessage)]
    assert results == ["answer one", "answer two"]
