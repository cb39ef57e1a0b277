"""Legitimate input that the checks of commit 9157118 ("Wrong input refused early...") refuse.

Each test is an input that the official SDKs accept and that works end to end with the pinned
CLI, but that trio-claude now refuses. They fail until the check is relaxed.

In-process MCP tool names. ``SdkMcpTool.__attrs_post_init__`` (trio_claude/_mcp.py) now allows
only ``[A-Za-z0-9_.-]{1,128}``. Its comment says "the model's API refuses others, and every turn
would fail". That is not what happens: the CLI never sends an MCP tool's own name to the
Messages API. It sends ``mcp__<server>__<tool>`` after a normalisation step. In the pinned CLI
(2.1.332) ``ur(server, tool)`` returns ``mcp__${Hn(server)}__${Hn(tool)}``, where
``Hn(t) = t.replace(/[^a-zA-Z0-9_-]/g, "_")``. A ``.`` is not API-safe either, and the new check
lets it through only because of that same rewriting. ``tools/call`` keeps the original name
(``mcpInfo.toolName``). Tried with the real pinned CLI and the fake Messages API, with the check
turned off in that process only: tools named ``"user-profile/update"`` and ``"get weather"`` were
offered to the model as ``mcp__srv__user-profile_update`` / ``mcp__srv__get_weather``, the
model's call reached the handler with its arguments, and the turn ended without an error.

The official Python SDK (``claude_agent_sdk.tool`` / ``SdkMcpTool``, 0.2.190) and the TypeScript
SDK (``tool(name, ...)``) do not check the name. In MCP the rule is a SHOULD: SEP-986 (final)
gives ``user-profile/update`` as an example of a valid tool name, and the 2025-11-25 spec says
tool names "SHOULD" use A-Z a-z 0-9 _ - . only.
"""

from __future__ import annotations

from typing import Any

import pytest

import trio_claude as tc


async def _handler(args: Any) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": "ok"}]}


# A tool name that the CLI rewrites into an API-safe name, and the name the model gets.
LEGIT_TOOL_NAMES = [
    # SEP-986's own example of a valid (namespaced) MCP tool name.
    pytest.param("user-profile/update", id="sep-986-slash"),
    # Spaces and colons: discouraged by MCP ("SHOULD NOT"), accepted by both official SDKs,
    # and rewritten by the CLI (mcp__srv__get_weather, mcp__srv__files_read).
    pytest.param("get weather", id="space"),
    pytest.param("files:read", id="colon"),
]


@pytest.mark.parametrize("name", LEGIT_TOOL_NAMES)
def test_tool_decorator_accepts_a_name_the_cli_normalises(name: str) -> None:
    # Today: ValueError("tool name '...' must be 1 to 128 ASCII letters, digits, '_', '-' or
    # '.'") from SdkMcpTool.__attrs_post_init__ (trio_claude/_mcp.py, _TOOL_NAME).
    made = tc.tool(name, "A tool", {"text": str})(_handler)
    assert made.name == name


@pytest.mark.parametrize("name", LEGIT_TOOL_NAMES)
def test_sdk_mcp_tool_built_by_hand_accepts_a_name_the_cli_normalises(name: str) -> None:
    # The official SDK's own tests build tools this way too (SdkMcpTool(name=..., description=
    # ..., input_schema=..., handler=...), tests/test_sdk_mcp_integration.py). The same check
    # refuses it today.
    made = tc.SdkMcpTool(name=name, description="A tool", input_schema={}, handler=_handler)
    assert made.name == name


@pytest.mark.parametrize("name", LEGIT_TOOL_NAMES)
def test_a_server_with_such_a_tool_can_be_created_and_configured(name: str) -> None:
    # What official code does with such a tool: put it in a server and the server in the
    # options (allowed_tools names the tool by the name the CLI gives it).
    from trio_claude._options import validate_options

    made = tc.tool(name, "A tool", {"text": str})(_handler)
    server = tc.create_sdk_mcp_server("srv", tools=[made])
    api_name = "mcp__srv__" + "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
    validate_options(tc.ClaudeAgentOptions(mcp_servers={"srv": server}, allowed_tools=[api_name]))


def test_a_streamable_http_server_config_is_accepted() -> None:
    # The CLI takes "streamable-http" as another name of "http"; it was refused as an unknown
    # type, and its url and headers are checked as an http server's.
    from trio_claude._options import validate_options

    good = {"type": "streamable-http", "url": "https://h/mcp", "headers": {"A": "b"}}
    validate_options(tc.ClaudeAgentOptions(mcp_servers={"s": good}))
    with pytest.raises(tc.ConfigurationError, match="url"):
        validate_options(tc.ClaudeAgentOptions(mcp_servers={"s": {**good, "url": ""}}))
