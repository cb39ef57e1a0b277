"""The SDK->CLI control requests, as typed methods of :class:`~trio_claude.Session`.

One method per request subtype the CLI answers (``interrupt``, ``set_model``, ``mcp_status``,
...), each a thin typed wrapper over :meth:`ControlRequests._request`, which the session
implements (register the request in the core's table, write it, wait for the answer). Kept apart
from the session's machinery so that adding a request is adding a method here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._callbacks import Handler, McpRouter
from ._control_types import (
    ContextUsage,
    InterruptResult,
    McpServerStatus,
    McpSetServersResult,
    ReadFileResult,
    RewindFilesResult,
)
from ._errors import ControlRequestError
from .types import AgentInfo, ModelInfo, ServerInfo, SlashCommand

__all__ = ["ControlRequests"]


class ControlRequests:
    """The typed control requests of a session (mixed into :class:`~trio_claude.Session`)."""

    server_info: ServerInfo | None
    _handlers: dict[str, Handler]

    if TYPE_CHECKING:

        async def _request(
            self, subtype: str, fields: dict[str, Any], *, timeout: float | None = None
        ) -> dict[str, Any]: ...

    async def interrupt(self) -> InterruptResult:
        """Interrupts the running turn; keep receiving to get its remaining messages and result."""
        return InterruptResult.from_wire(await self._request("interrupt", {}))

    async def set_model(self, model: str | None = None) -> None:
        """Switches the model for the following turns (``None``: the default model)."""
        await self._request("set_model", {"model": model})

    async def set_permission_mode(self, mode: str) -> None:
        """Changes the permission mode (``default``, ``acceptEdits``, ``plan``, ...)."""
        await self._request("set_permission_mode", {"mode": mode})

    async def set_max_thinking_tokens(self, max_thinking_tokens: int | None) -> None:
        """Changes the thinking budget (``None`` clears it, ``0`` disables thinking)."""
        await self._request("set_max_thinking_tokens", {"max_thinking_tokens": max_thinking_tokens})

    async def rewind_files(
        self, user_message_id: str, *, dry_run: bool = False
    ) -> RewindFilesResult:
        """Restores files changed since the user message ``user_message_id``.

        Needs ``enable_file_checkpointing=True``; user message ids are the ``uuid`` of
        :class:`UserMessage` frames (``extra_args={"replay-user-messages": None}`` echoes them).

        Args:
            user_message_id: The user message to rewind to.
            dry_run: Only report what would change.
        """
        fields: dict[str, Any] = {"user_message_id": user_message_id}
        if dry_run:
            fields["dry_run"] = True
        return RewindFilesResult.from_wire(await self._request("rewind_files", fields))

    async def mcp_status(self) -> list[McpServerStatus]:
        """The connection state of every MCP server."""
        reply = await self._request("mcp_status", {})
        servers = reply.get("mcpServers")
        entries = servers if isinstance(servers, list) else []
        return [McpServerStatus.from_wire(s) for s in entries if isinstance(s, dict)]

    async def set_mcp_servers(self, servers: Mapping[str, Any]) -> McpSetServersResult:
        """Replaces the session's dynamic MCP servers, in-process ones included.

        Args:
            servers: Server name -> config, as for ``mcp_servers`` (stdio, sse, http, or
                :func:`~trio_claude.create_sdk_mcp_server` results).
        """
        router = self._handlers["mcp_message"]
        assert isinstance(router, McpRouter)
        reply = await self._request("mcp_set_servers", {"servers": router.add(servers)})
        result = McpSetServersResult.from_wire(reply)
        router.remove(result.removed)
        return result

    async def reconnect_mcp_server(self, name: str) -> None:
        """Reconnects the MCP server ``name``."""
        await self._request("mcp_reconnect", {"serverName": name})

    async def toggle_mcp_server(self, name: str, enabled: bool) -> None:
        """Enables or disables the MCP server ``name``."""
        await self._request("mcp_toggle", {"serverName": name, "enabled": enabled})

    async def stop_task(self, task_id: str) -> None:
        """Stops the background task ``task_id`` (see ``TaskStartedMessage``)."""
        await self._request("stop_task", {"task_id": task_id})

    async def get_context_usage(self, *, detail: str | None = None) -> ContextUsage:
        """The context-window breakdown (what ``/context`` shows).

        Args:
            detail: ``"summary"`` or ``"full"`` (newer CLIs).
        """
        fields = {"detail": detail} if detail is not None else {}
        return ContextUsage.from_wire(await self._request("get_context_usage", fields))

    async def get_usage(self) -> dict[str, Any]:
        """The session's usage data (what ``/usage`` shows; the CLI's shape, experimental)."""
        return await self._request("get_usage", {})

    async def reload_plugins(
        self,
        *,
        hold_on_cache_impact: bool | None = None,
        add_plugins: Sequence[str] | None = None,
        refuse_if_busy: bool | None = None,
    ) -> dict[str, Any]:
        """Reloads plugins from disk; returns the CLI's refreshed commands, agents and plugins."""
        fields: dict[str, Any] = {}
        if hold_on_cache_impact is not None:
            fields["hold_on_cache_impact"] = hold_on_cache_impact
        if add_plugins is not None:
            fields["add_plugins"] = list(add_plugins)
        if refuse_if_busy is not None:
            fields["refuse_if_busy"] = refuse_if_busy
        return await self._request("reload_plugins", fields)

    async def reload_skills(self) -> list[dict[str, Any]]:
        """Reloads skills from disk; returns them (``name``, ``description``...)."""
        skills = (await self._request("reload_skills", {})).get("skills")
        return [s for s in skills if isinstance(s, dict)] if isinstance(skills, list) else []

    async def reload_output_styles(self) -> list[str]:
        """Reloads output styles from disk; returns the available ones."""
        styles = (await self._request("reload_output_styles", {})).get("available_output_styles")
        return [str(s) for s in styles] if isinstance(styles, list) else []

    async def apply_flag_settings(self, settings: Mapping[str, Any]) -> None:
        """Merges ``settings`` into the CLI's flag-settings layer (like ``--settings``)."""
        await self._request("apply_flag_settings", {"settings": dict(settings)})

    async def read_file(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int | None = None,
        encoding: str | None = None,
    ) -> ReadFileResult | None:
        """Reads a file through the CLI's permission rules; ``None`` if the CLI refuses or fails."""
        fields: dict[str, Any] = {"path": os.fspath(path)}
        if max_bytes is not None:
            fields["max_bytes"] = max_bytes
        if encoding is not None:
            fields["encoding"] = encoding
        try:
            reply = await self._request("read_file", fields)
        except ControlRequestError:
            return None
        return ReadFileResult.from_wire(reply) if "contents" in reply else None

    async def background_tasks(self, tool_use_id: str | None = None) -> dict[str, Any]:
        """Moves running foreground work (a Bash command, a subagent) to the background."""
        fields = {"tool_use_id": tool_use_id} if tool_use_id is not None else {}
        return await self._request("background_tasks", fields)

    def supported_commands(self) -> list[SlashCommand]:
        """The slash commands and skills the CLI offers (from ``initialize``)."""
        return list(self.server_info.commands) if self.server_info else []

    def supported_models(self) -> list[ModelInfo]:
        """The models the CLI offers (from ``initialize``)."""
        return list(self.server_info.models) if self.server_info else []

    def supported_agents(self) -> list[AgentInfo]:
        """The subagents the CLI knows (from ``initialize``)."""
        return list(self.server_info.agents) if self.server_info else []

    def account_info(self) -> dict[str, Any] | None:
        """The account the CLI runs as (from ``initialize``)."""
        return self.server_info.account if self.server_info else None

    async def request(
        self, subtype: str, fields: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Sends any SDK->CLI control request and returns the CLI's answer.

        Args:
            subtype: The request subtype.
            fields: Its other fields.
            timeout: Seconds to wait for the answer (default ``control_timeout``).

        Raises:
            ControlRequestError: The CLI answered with an error.
            ControlTimeoutError: The CLI did not answer in time.
        """
        return await self._request(subtype, dict(fields or {}), timeout=timeout)
