# ruff: noqa: E501  (official test bodies and names, kept as written)
# mypy: ignore-errors
"""The official SDK's ``tests/test_types.py`` and ``tests/test_task_compat.py``
(anthropics/claude-agent-sdk-python), after the rename ``claude_agent_sdk`` -> ``trio_claude``:
a parity probe (see ``test_official_sdk_tests_after_rename.py``).

This file holds the official tests of those two files that ``test_official_sdk_tests_after_rename.py``
does not port already. The class and test names are the official ones; each test names the
official test it ports (``file::Class::name``) and keeps the official body but for the rename.
A failing test here is a parity gap (``FINDING``); a test changed to a documented difference says
``KNOWN DIFFERENCE``.

The official tests here build a dict literal annotated with an official ``TypedDict``
(``status: McpServerStatus = {...}``): at run time the annotation is not evaluated, so the body
alone would pass whatever ``McpServerStatus`` is. Each test therefore also checks the annotation
in its run-time form, ``_built(Type, value)``: an official ``TypedDict`` called with the literal's
keys returns that very dict, and official code that builds such a value by calling the type (a
fake ``get_mcp_status()`` reply, a hand-made hook input in a test) relies on it.

Already ported in ``test_official_sdk_tests_after_rename.py`` (not repeated here):
``test_types.py::test_effort_level_is_exported``, ``TestPermissionUpdate`` (3),
``TestMessageTypes`` (6), ``TestOptions`` (10), ``TestHookInputTypes::test_notification_hook_input``
(+ ``_with_title``), ``::test_subagent_start_hook_input``, ``::test_permission_request_hook_input``
(+ ``_with_suggestions``), ``TestHookSpecificOutputTypes`` (6),
``TestMcpServerStatusTypes::test_mcp_server_status_importable_from_package`` and
``TestAgentDefinition`` (12).

Omitted, all 16 tests of ``tests/test_task_compat.py`` (``TestSpawnAndWait`` (2), ``TestCancel``
(2), ``TestWaiterCancellation`` (2), ``TestDoneCallback`` (2), ``TestExceptionPropagation`` (3),
``TestContextVarPropagation`` (2), ``TestCrossTaskCancel`` (1)): they test
``claude_agent_sdk._internal._task_compat.spawn_detached``, the official SDK's private helper
that runs its ``Query`` read loop, ``stream_input`` and control-request handlers as detached
tasks (``asyncio.create_task`` or trio's ``spawn_system_task``, picked by sniffio) so they can be
cancelled from any task, an async-generator finaliser included. trio-claude has no ``_internal``
package and no equivalent: by design it spawns no detached task at all; a session's tasks live
in the nursery of its ``async with``, and the iterator form of ``query()`` owns no task between
two iterations (``trio_claude/_query.py``, "Why the iterator form is pull-driven"). The
``*_asyncio`` halves also need an asyncio event loop, which trio-claude does not run on.
"""

from __future__ import annotations

from typing import Any


def _built(tp: Any, value: dict[str, Any]) -> Any:
    """The annotation ``x: tp = value`` in its run-time form: ``tp(**value)``.

    For the official ``TypedDict``s this is ``value`` itself (a plain dict).
    """
    return tp(**value)


class TestHookInputTypes:
    """Test hook input type definitions."""

    def test_pre_tool_use_hook_input_with_agent_id(self):
        # port of test_types.py::TestHookInputTypes::test_pre_tool_use_hook_input_with_agent_id
        """PreToolUseHookInput accepts optional agent_id/agent_type.

        When a tool is called from inside a Task sub-agent, the CLI includes
        the calling agent's id so consumers can correlate the tool call to
        the correct sub-agent — parallel sub-agents interleave their hook
        callbacks over the same control channel and are otherwise
        indistinguishable.
        """
        from trio_claude.types import PreToolUseHookInput

        # Tool called from inside a sub-agent: agent_id present,
        # same value SubagentStart emits.
        hook_input: PreToolUseHookInput = {
            "session_id": "sess-1",
            "transcript_path": "/tmp/transcript",
            "cwd": "/home/user",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "echo hello"},
            "tool_use_id": "toolu_abc123",
            "agent_id": "agent-42",
            "agent_type": "researcher",
        }
        assert hook_input.get("agent_id") == "agent-42"
        assert hook_input.get("agent_type") == "researcher"

        # Tool called on the main thread: agent_id absent. Still type-valid.
        hook_input_main: PreToolUseHookInput = {
            "session_id": "sess-1",
            "transcript_path": "/tmp/transcript",
            "cwd": "/home/user",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "echo hello"},
            "tool_use_id": "toolu_def456",
        }
        assert hook_input_main.get("agent_id") is None

        # The annotations, at run time. KNOWN DIFFERENCE (migration.md, "Sessions on disk, hooks
        # and permissions": a hook's input is a dict of what the CLI sent, with typed attributes;
        # an input built by hand holds its attributes' wire form): a PreToolUseHookInput is a
        # dict subclass, not a TypedDict, so a type checker refuses the bare dict literal; built
        # by calling the type, as an official TypedDict can be, it is that dict.
        built = _built(PreToolUseHookInput, hook_input)
        assert built == hook_input
        assert built.get("agent_id") == "agent-42"
        assert built.get("agent_type") == "researcher"
        built_main = _built(PreToolUseHookInput, hook_input_main)
        assert built_main == hook_input_main
        assert built_main.get("agent_id") is None

    def test_post_tool_use_hook_input_with_agent_id(self):
        # port of test_types.py::TestHookInputTypes::test_post_tool_use_hook_input_with_agent_id
        """PostToolUseHookInput accepts optional agent_id."""
        from trio_claude.types import PostToolUseHookInput

        hook_input: PostToolUseHookInput = {
            "session_id": "sess-1",
            "transcript_path": "/tmp/transcript",
            "cwd": "/home/user",
            "hook_event_name": "PostToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "echo hello"},
            "tool_response": {"content": [{"type": "text", "text": "hello"}]},
            "tool_use_id": "toolu_abc123",
            "agent_id": "agent-42",
        }
        assert hook_input.get("agent_id") == "agent-42"

        # The annotation, at run time (KNOWN DIFFERENCE, as in the PreToolUse test above).
        built = _built(PostToolUseHookInput, hook_input)
        assert built == hook_input
        assert built.get("agent_id") == "agent-42"


class TestMcpServerStatusTypes:
    """Test MCP server status type definitions."""

    def test_mcp_server_status_connected(self):
        # port of test_types.py::TestMcpServerStatusTypes::test_mcp_server_status_connected
        """Test constructing a connected McpServerStatus with full fields."""
        from trio_claude import McpServerStatus

        status: McpServerStatus = {
            "name": "my-server",
            "status": "connected",
            "serverInfo": {"name": "my-server", "version": "1.2.3"},
            "config": {"type": "http", "url": "https://example.com"},
            "scope": "project",
            "tools": [
                {
                    "name": "greet",
                    "description": "Greet a user",
                    "annotations": {
                        "readOnly": True,
                        "destructive": False,
                        "openWorld": False,
                    },
                }
            ],
        }
        assert status["name"] == "my-server"
        assert status["status"] == "connected"
        assert status["serverInfo"]["version"] == "1.2.3"
        assert status["tools"][0]["annotations"]["readOnly"] is True

        # The annotation, at run time: the official McpServerStatus is a TypedDict.
        # FINDING: trio_claude.McpServerStatus is the attrs class of Session.mcp_status() (snake_case __init__: TypeError on serverInfo=), not the official TypedDict.
        assert _built(McpServerStatus, status) == status

    def test_mcp_server_status_minimal(self):
        # port of test_types.py::TestMcpServerStatusTypes::test_mcp_server_status_minimal
        """Test constructing a minimal McpServerStatus (only required fields)."""
        from trio_claude import McpServerStatus

        status: McpServerStatus = {"name": "pending-server", "status": "pending"}
        assert status["name"] == "pending-server"
        assert status["status"] == "pending"
        assert "error" not in status
        assert "config" not in status

        # The annotation, at run time: the official McpServerStatus is a TypedDict.
        # FINDING: McpServerStatus(name=..., status=...) is an attrs object whose dict view (raw) is empty: != the dict, ["name"] raises KeyError.
        built = _built(McpServerStatus, status)
        assert built == status
        assert built["name"] == "pending-server"
        assert built["status"] == "pending"
        assert "error" not in built
        assert "config" not in built

    def test_mcp_server_status_failed_with_error(self):
        # port of test_types.py::TestMcpServerStatusTypes::test_mcp_server_status_failed_with_error
        """Test McpServerStatus for a failed server includes error."""
        from trio_claude import McpServerStatus

        status: McpServerStatus = {
            "name": "broken-server",
            "status": "failed",
            "error": "Connection refused",
        }
        assert status["status"] == "failed"
        assert status["error"] == "Connection refused"

        # The annotation, at run time: the official McpServerStatus is a TypedDict.
        # FINDING: as test_mcp_server_status_minimal (the built object's dict view is empty).
        built = _built(McpServerStatus, status)
        assert built == status
        assert built["status"] == "failed"
        assert built["error"] == "Connection refused"

    def test_mcp_server_status_config_claudeai_proxy(self):
        # port of test_types.py::TestMcpServerStatusTypes::test_mcp_server_status_config_claudeai_proxy
        """Test McpServerStatusConfig accepts claudeai-proxy variant."""
        from trio_claude import McpServerStatus

        status: McpServerStatus = {
            "name": "proxy-server",
            "status": "needs-auth",
            "config": {
                "type": "claudeai-proxy",
                "url": "https://claude.ai/proxy",
                "id": "proxy-abc",
            },
        }
        assert status["config"]["type"] == "claudeai-proxy"
        assert status["config"]["id"] == "proxy-abc"

        # The annotations, at run time: McpServerStatusConfig's claudeai-proxy member declares
        # the literal's keys (trio-claude has it), and the status is a TypedDict.
        from trio_claude import McpServerStatusConfig
        from trio_claude._official_types import McpClaudeAIProxyServerConfig

        assert McpClaudeAIProxyServerConfig in McpServerStatusConfig.__args__
        assert set(status["config"]) <= set(McpClaudeAIProxyServerConfig.__annotations__)
        # FINDING: McpServerStatus has no `config` keyword (an attrs class, not the TypedDict): TypeError.
        assert _built(McpServerStatus, status) == status

    def test_mcp_status_response_wraps_servers(self):
        # port of test_types.py::TestMcpServerStatusTypes::test_mcp_status_response_wraps_servers
        """Test McpStatusResponse wraps mcpServers list."""
        from trio_claude import McpStatusResponse

        response: McpStatusResponse = {
            "mcpServers": [
                {"name": "a", "status": "connected"},
                {"name": "b", "status": "disabled"},
            ]
        }
        assert len(response["mcpServers"]) == 2
        assert response["mcpServers"][0]["status"] == "connected"
        assert response["mcpServers"][1]["status"] == "disabled"

        # The annotation, at run time: McpStatusResponse is a TypedDict here too.
        assert _built(McpStatusResponse, response) == response
