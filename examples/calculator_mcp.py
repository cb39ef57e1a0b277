"""A typed calculator as an in-process MCP server: tools that run inside this trio program.

- ``add`` takes an attrs class: the arguments are validated against its JSON Schema, then
  structured by cattrs, so the handler receives an ``Operands`` instance;
- ``divide`` reports division by zero as an error result (``is_error``) the model can read;
- ``sqrt`` uses a dict of Python types and JSON Schema fragments (``minimum``; ``digits`` is
  optional since its type is ``int | None``): invalid arguments never reach the handler, the
  model gets ``Input validation error: ...`` instead.

The CLI defers MCP tools: the model first selects them with ``ToolSearch``.

Runs offline: the real ``claude`` CLI against the built-in fake model
(``python examples/calculator_mcp.py``).
"""

from __future__ import annotations

import math
import tempfile
from typing import Any

import attrs
import trio

import trio_claude as tc
from trio_claude.testing import ToolUse, Turn, open_claude_test_env


@attrs.frozen
class Operands:
    """Two numbers."""

    a: float = attrs.field(metadata={"description": "the first number"})
    b: float = attrs.field(metadata={"description": "the second number"})


@tc.tool("add", "Add two numbers", Operands, annotations=tc.ToolAnnotations(read_only_hint=True))
async def add(args: Operands) -> tc.ToolResult:
    return tc.ToolResult(content=[tc.TextContent(text=f"{args.a + args.b:g}")])


@tc.tool("divide", "Divide a by b", Operands, annotations={"readOnlyHint": True})
async def divide(args: Operands) -> tc.ToolResult:
    if args.b == 0:
        return tc.ToolResult(content=["cannot divide by zero"], is_error=True)
    return tc.ToolResult(content=[f"{args.a / args.b:g}"])


# A value may be a Python type or a JSON Schema fragment (here: a constraint types cannot say).
@tc.tool("sqrt", "Square root", {"x": {"type": "number", "minimum": 0}, "digits": int | None})
def sqrt(args: dict[str, Any]) -> str:  # plain functions and plain strings work too
    return str(round(math.sqrt(args["x"]), args.get("digits") or 3))


calculator = tc.create_sdk_mcp_server("calc", version="1.0.0", tools=[add, divide, sqrt])


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with open_claude_test_env(tmp) as env:
            find = "select:mcp__calc__add,mcp__calc__divide,mcp__calc__sqrt"
            script = [
                Turn([ToolUse("ToolSearch", {"query": find, "max_results": 5})]),
                Turn([ToolUse("mcp__calc__add", {"a": 2, "b": 3})]),
                Turn([ToolUse("mcp__calc__divide", {"a": 1, "b": 0})]),
                Turn([ToolUse("mcp__calc__sqrt", {"x": -4})]),
                Turn([ToolUse("mcp__calc__sqrt", {"x": 16})]),
                Turn("sqrt(16) = {last_tool_result}"),
            ]
            options = env.options(
                script,
                mcp_servers={"calc": calculator},
                allowed_tools=["mcp__calc__add", "mcp__calc__divide", "mcp__calc__sqrt"],
            )
            async with tc.query("Do some maths", options=options) as messages:
                async for message in messages:
                    if isinstance(message, tc.AssistantMessage):
                        for block in message.content:
                            if isinstance(block, tc.ToolUseBlock):
                                print(f"model calls {block.name}({block.input})")
                            elif isinstance(block, tc.TextBlock):
                                print(f"model says: {block.text}")
                    elif isinstance(message, tc.UserMessage) and not isinstance(
                        message.content, str
                    ):
                        for result in message.content:
                            if isinstance(result, tc.ToolResultBlock):
                                flag = "error" if result.is_error else "ok"
                                print(f"  -> [{flag}] {result.content}")
                    elif isinstance(message, tc.ResultMessage):
                        print("result:", message.subtype)


if __name__ == "__main__":
    trio.run(main)
