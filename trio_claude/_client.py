"""``ClaudeSDKClient``: the official Python SDK's client, as a thin shim over :class:`Session`.

For migration: the official method names work unchanged. New code should use
:func:`~trio_claude.open_session` directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any

import attrs
import trio

from ._errors import CLIConnectionError, ConfigurationError
from ._options import ClaudeAgentOptions
from ._query import with_budget_gate
from ._session import MessageStream, Prompt, Session, open_session
from ._transport._base import Transport
from .types import ServerInfo

__all__ = ["ClaudeSDKClient"]


class ClaudeSDKClient:
    """The official SDK's bidirectional client, backed by a trio-claude :class:`Session`.

    Use it as ``async with ClaudeSDKClient(options) as client:``. ``connect()`` and
    ``disconnect()`` also work, from one task: the session's nursery lives between them, in
    that task, so the task must call ``disconnect()`` before it ends (trio forbids a nursery
    outliving its task; the official SDK's "connect at start-up, disconnect at shut-down"
    from two tasks becomes one task that holds the client, see ``docs/migration.md``). Any
    task may use the client in between.

    With ``max_budget_usd`` set, a tool the CLI would start after the spend has reached the
    budget is denied (the budget gate, see ``trio_claude/_query.py``).

    Args:
        options: Session options.
        transport: How to start the CLI (the same as ``options.transport``; here for the
            official signature). Must be a :class:`~trio_claude.Transport`: the official SDK's
            ``Transport`` interface is different (``docs/migration.md``).

    Raises:
        ConfigurationError: ``transport`` is not a :class:`~trio_claude.Transport`.
    """

    def __init__(
        self, options: ClaudeAgentOptions | None = None, transport: Transport | None = None
    ) -> None:
        options = options or ClaudeAgentOptions()
        if transport is not None:
            if not isinstance(transport, Transport):
                raise ConfigurationError(
                    "transport must be a trio_claude.Transport (the official SDK's Transport "
                    "interface is different; see docs/migration.md)"
                )
            options = attrs.evolve(options, transport=transport)
        self.options = options
        self._stack: AsyncExitStack | None = None
        self._session: Session | None = None
        self._owner: trio.lowlevel.Task | None = None  # the task that connect()ed

    @property
    def session(self) -> Session:
        """The underlying session.

        Raises:
            CLIConnectionError: Not connected.
        """
        if self._session is None:
            raise CLIConnectionError("Not connected. Call connect() first.")
        return self._session

    async def connect(self, prompt: Prompt | AsyncIterable[Any] | None = None) -> None:
        """Starts the CLI and, if given, sends a first prompt."""
        if self._session is not None:
            return
        stack = AsyncExitStack()
        options, gate = with_budget_gate(self.options)
        try:
            self._session = await stack.enter_async_context(open_session(options))
        except BaseException:
            await stack.aclose()
            raise
        if gate is not None:
            gate.bind(self._session.get_usage)
        self._stack = stack
        self._owner = trio.lowlevel.current_task()
        if prompt is not None:
            await self.query(prompt)

    async def query(self, prompt: Prompt | AsyncIterable[Any], session_id: str = "default") -> None:
        """Sends a prompt (text, blocks, a message dict, or an async iterable of message dicts)."""
        session = self.session
        if isinstance(prompt, AsyncIterable):
            async for item in prompt:
                await session.send(item)
        else:
            await session.send(prompt)

    def receive_messages(self) -> MessageStream:
        """Every message until the CLI's output ends."""
        return self.session.receive_messages()

    def receive_response(self) -> MessageStream:
        """The current turn's messages up to and including its result."""
        return self.session.receive_response()

    async def interrupt(self) -> None:
        """Interrupts the running turn."""
        await self.session.interrupt()

    async def set_permission_mode(self, mode: str) -> None:
        """Changes the permission mode."""
        await self.session.set_permission_mode(mode)

    async def set_model(self, model: str | None = None) -> None:
        """Changes the model."""
        await self.session.set_model(model)

    async def rewind_files(self, user_message_id: str) -> None:
        """Restores files checkpointed since ``user_message_id``."""
        await self.session.rewind_files(user_message_id)

    async def reconnect_mcp_server(self, server_name: str) -> None:
        """Reconnects an MCP server."""
        await self.session.reconnect_mcp_server(server_name)

    async def toggle_mcp_server(self, server_name: str, enabled: bool) -> None:
        """Enables or disables an MCP server."""
        await self.session.toggle_mcp_server(server_name, enabled)

    async def stop_task(self, task_id: str) -> None:
        """Stops a background task."""
        await self.session.stop_task(task_id)

    async def get_mcp_status(self) -> dict[str, Any]:
        """MCP server statuses, as the official SDK returns them (``{"mcpServers": [...]}``)."""
        return {"mcpServers": [s.raw for s in await self.session.mcp_status()]}

    async def get_context_usage(self) -> dict[str, Any]:
        """The context-window breakdown as the CLI's dict."""
        return (await self.session.get_context_usage()).raw

    async def get_server_info(self) -> ServerInfo | None:
        """The typed ``initialize`` reply (``None`` before connecting)."""
        return self._session.server_info if self._session is not None else None

    async def disconnect(self) -> None:
        """Closes the session and stops the CLI.

        Raises:
            RuntimeError: Called from a task other than the one that called ``connect()``,
                which holds the session's nursery (nothing is closed then).
        """
        if self._stack is not None and trio.lowlevel.current_task() is not self._owner:
            raise RuntimeError(
                "disconnect() must be called from the task that called connect(): that task "
                "holds the session's nursery. To share a client between tasks, hold it in one "
                "task for its whole life (async with ClaudeSDKClient(...) as client:, started "
                "with nursery.start) and hand it to the others (docs/migration.md)"
            )
        stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> ClaudeSDKClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            return await stack.__aexit__(exc_type, exc, tb)
        return None
