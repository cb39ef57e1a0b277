"""``ClaudeSDKClient``: the official Python SDK's client, as a thin shim over :class:`Session`.

For migration: the official method names work unchanged. New code should use
:func:`~trio_claude.open_session` directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any

import attrs
import trio

from ._errors import CLIConnectionError
from ._options import ClaudeAgentOptions, check_transport
from ._query import with_budget_gate
from ._session import MessageStream, Prompt, Session, open_session
from ._stream import stream_over
from ._transport._base import Transport
from ._transport._official import OfficialStyleTransport
from ._util import close_prompts
from .types import Message, ResultMessage, ServerInfo

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
            official signature): a :class:`~trio_claude.Transport`, or an object with the
            official SDK's transport methods (``connect``, ``write``, ``read_messages``,
            ``close``, ``end_input``; see ``docs/transports.md``).

    Raises:
        ConfigurationError: ``transport`` is neither.
    """

    def __init__(
        self,
        options: ClaudeAgentOptions | None = None,
        transport: Transport | OfficialStyleTransport | None = None,
    ) -> None:
        options = options or ClaudeAgentOptions()
        if transport is not None:
            check_transport(transport)
            options = attrs.evolve(options, transport=transport)
        self.options = options
        self._stack: AsyncExitStack | None = None
        self._session: Session | None = None
        self._owner: trio.lowlevel.Task | None = None  # the task that connect()ed
        self._connected_in: object = None  # its cancel status then (see disconnect)

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
        self._connected_in = _cancel_status()
        if prompt is not None:
            await self.query(prompt)

    async def query(self, prompt: Prompt | AsyncIterable[Any], session_id: str = "default") -> None:
        """Sends a prompt (text, blocks, a message dict, or an async iterable of message dicts).

        Args:
            prompt: What to send.
            session_id: The ``session_id`` of the ``user`` frames sent for a text prompt, and
                of the message dicts that have none (as the official client writes them).
        """
        session = self.session
        if isinstance(prompt, AsyncIterable):
            feed = aiter(prompt)
            try:
                with session._reading_feed() as reading:
                    async for item in feed:
                        await session.send(_with_session_id(item, session_id))
            finally:
                await close_prompts(feed, session._secrets)
            if reading.cancelled_caught:
                return  # the session closed while the feed waited: nothing more can be sent
        elif isinstance(prompt, str) and session_id != "default":
            frame = {"type": "user", "message": {"role": "user", "content": prompt}}
            await session.send({**frame, "parent_tool_use_id": None, "session_id": session_id})
        else:
            await session.send(_with_session_id(prompt, session_id))
        # As the official client: returns once the prompt is written (a transport's own
        # stream; a pipe's write is immediate).
        await session._until_sent()

    def receive_messages(self) -> AsyncIterator[Message]:
        """Every message until the CLI's output ends.

        As in the official SDK, the client's connection is checked when iteration starts,
        not when this is called: the iterator may be made before ``connect()``.

        Raises (from iteration):
            CLIConnectionError: Not connected.
        """
        return _ClientMessages(self, until_result=False)

    def receive_response(self) -> AsyncIterator[Message]:
        """The messages up to and including the next :class:`ResultMessage`, as official.

        It is ``receive_messages()`` that ends after a result: with no turn running it waits
        for the next one, so a listener may start before ``query()`` sends the prompt (and a
        ``with trio.fail_after(t):`` around it times out when no result comes). A cancellation
        that lands while it waits for a running turn gives that turn up, as a session's
        receiver does: the turn is interrupted and its rest dropped, so nothing of it reaches
        the next ``receive_response()`` (the official SDK leaves it running, and its rest
        arrives with the next query's messages). (:meth:`Session.receive_response
        <trio_claude.Session.receive_response>` follows the turn instead, and ends at once with
        no turn open.)

        Raises (from iteration):
            CLIConnectionError: Not connected.
        """
        return _ClientMessages(self, until_result=True)

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
        """The typed ``initialize`` reply, which reads like the official dict too.

        Raises:
            CLIConnectionError: Not connected (as in the official SDK).
        """
        await trio.lowlevel.checkpoint()
        return self.session.server_info

    async def disconnect(self) -> None:
        """Closes the session and stops the CLI.

        Raises:
            RuntimeError: Called from a task other than the one that called ``connect()``,
                which holds the session's nursery (nothing is closed then); or inside a cancel
                scope opened after ``connect()`` (a deadline around ``disconnect()``): the CLI
                is stopped, and the session's nursery is left for a second ``disconnect()``
                outside that scope to close.
        """
        if self._stack is not None and trio.lowlevel.current_task() is not self._owner:
            raise RuntimeError(
                "disconnect() must be called from the task that called connect(): that task "
                "holds the session's nursery. To share a client between tasks, hold it in one "
                "task for its whole life (async with ClaudeSDKClient(...) as client:, started "
                "with nursery.start) and hand it to the others (docs/migration.md)"
            )
        if self._stack is not None and _cancel_status() is not self._connected_in:
            # The session's nursery was opened in the cancel scope connect() ran in: closing it
            # from inside a newer one (a deadline around disconnect()) corrupts trio's cancel
            # scope stack. The CLI is stopped now (bounded on its own); the nursery is left
            # for a call from the right place.
            if self._session is not None:
                await self._session.aclose()
            raise RuntimeError(
                "disconnect() ran inside a cancel scope opened after connect() (a deadline "
                "such as trio.fail_after around it): the session is closed and its CLI "
                "stopped, but the client's nursery belongs to the scope connect() ran in. "
                "Call disconnect() again outside that scope to finish; it needs no deadline "
                "(close_timeout bounds it). See docs/migration.md"
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


class _ClientMessages:
    """The client's ``receive_messages()`` / ``receive_response()``: the official semantics.

    ``receive_messages()`` of the session, started on the first ``__anext__`` (the official
    methods are async generators: not connected is raised when iteration starts); with
    ``until_result``, it ends after the next :class:`ResultMessage`, whichever turn it ends.
    A plain async iterator, like :class:`MessageStream`: it owns no task and no cancel scope.
    """

    def __init__(self, client: ClaudeSDKClient, *, until_result: bool) -> None:
        self._client = client
        self._until_result = until_result
        self._stream: MessageStream | None = None
        self._session: Session | None = None
        self._finished = False

    def __aiter__(self) -> _ClientMessages:
        return self

    @property
    def finished(self) -> bool:
        """Whether the stream has delivered its last message (the result it waited for)."""
        return self._finished

    async def __anext__(self) -> Message:
        if self._finished:
            await stream_over(self._session)
        stream = self._stream
        if stream is None:
            try:
                self._session = self._client.session
            except CLIConnectionError:
                await trio.lowlevel.checkpoint()
                raise
            stream = self._stream = self._session.receive_messages()
        try:
            message = await stream.__anext__()
        except StopAsyncIteration:
            self._finished = True
            raise
        except trio.Cancelled:
            if self._until_result and self._session is not None:
                # Structured: a receiver given up gives its turn up (a no-op with none open).
                self._session.abandon_turn()
            raise
        if self._until_result and isinstance(message, ResultMessage):
            self._finished = True
        return message


def _cancel_status() -> object:
    """The current task's innermost cancel scope, as an identity (trio has no public name for
    it; ``None`` if a trio version lacks the attribute, which turns the check off)."""
    return getattr(trio.lowlevel.current_task(), "_cancel_status", None)


def _with_session_id(prompt: Any, session_id: str) -> Any:
    """A wire ``user`` frame given without a ``session_id`` gets ``session_id``."""
    if isinstance(prompt, dict) and "session_id" not in prompt and session_id != "default":
        return {**prompt, "session_id": session_id}
    return prompt
