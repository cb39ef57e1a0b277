"""The SDK->CLI control requests, as typed methods of :class:`~trio_claude.Session`.

One method per request subtype the CLI answers (``interrupt``, ``set_model``, ``mcp_status``,
...), each a thin typed wrapper over :meth:`ControlRequests._request`, which the session
implements (register the request in the core's table, write it, wait for the answer). Kept apart
from the session's machinery so that adding a request is adding a method here.

Wire fields and answers are those of Claude Code 2.1.329 (its control schemas); docs/control.md
lists each method with its request. A request a CLI does not know is answered with an error
(``Unsupported control request subtype: ...``), which raises
:class:`~trio_claude.ControlRequestError` like any refusal.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import trio

from ._callbacks import Handler, McpRouter
from ._errors import ControlRequestError, MessageParseError
from ._option_spec import integer
from ._protocol._codec import decode_server_info
from ._redact import RedactedDict
from .types import AgentInfo, ModelInfo, ServerInfo, SlashCommand

if TYPE_CHECKING:
    from ._control_types import (
        BinaryVersion,
        CancelAsyncMessageResult,
        ContextUsage,
        FileSuggestions,
        HooksListing,
        InterruptResult,
        McpCallResult,
        McpReadResourceResult,
        McpServerStatus,
        McpSetServersResult,
        PermissionRules,
        ReadFileResult,
        RewindFilesResult,
        SettingsSnapshot,
        TaskOutput,
    )
    from ._inbox import Inbox
    from ._options import ClaudeAgentOptions
    from ._protocol._lifecycle import Lifecycle

__all__ = ["ControlRequests"]

#: Seconds each of a replacing ``set_mcp_servers``'s shielded requests waits for the CLI when
#: ``control_timeout`` is infinite: a shielded wait must end.
_SHIELDED_LIMIT = 60.0


def _model_info(data: dict[str, Any]) -> ModelInfo:
    """One ``list_models`` entry, decoded as ``initialize``'s models are; leniently."""
    try:
        models = decode_server_info({"models": [data]}).models
    except MessageParseError:
        models = []
    if models:
        return models[0]
    value = data.get("value")
    return ModelInfo(value=value if isinstance(value, str) else "", raw=data)


class ControlRequests:
    """The typed control requests of a session (mixed into :class:`~trio_claude.Session`)."""

    @property
    def server_info(self) -> ServerInfo | None:
        """The typed ``initialize`` reply (the session implements it)."""
        raise NotImplementedError

    if TYPE_CHECKING:

        def _request_handlers(self) -> dict[str, Handler]: ...

        _lifecycle: Lifecycle
        _inbox: Inbox
        _options: ClaudeAgentOptions

        async def _request(
            self, subtype: str, fields: dict[str, Any], *, timeout: float | None = None
        ) -> dict[str, Any]: ...

        def _notify_turns(self) -> None: ...

    def _prompts_withdrawn(self, uuids: Iterable[Any]) -> None:
        """The CLI dropped these queued prompts: their turns end (no result will come)."""
        if self._lifecycle.withdrawn(u for u in uuids if isinstance(u, str)):
            self._inbox.wake()
            self._notify_turns()

    async def interrupt(
        self,
        *,
        cancel_queued: bool = False,
        send_now: bool = False,
        message_uuid: str | None = None,
    ) -> InterruptResult:
        """Interrupts the running turn; keep receiving to get its remaining messages and result.

        Prompts sent while the turn ran stay queued and run next (``still_queued`` lists them),
        unless ``cancel_queued``.

        Args:
            cancel_queued: Also cancel every queued prompt (a "stop everything"): they are
                listed in ``cancelled`` and their turns end without a result. Older CLIs ignore
                it.
            send_now: Not a stop: ask the CLI to take the waiting prompts in now (the
                terminal's send-now key); ``InterruptResult.send_now`` says what it did. A CLI
                without ``interrupt_send_now_v1`` (``InitMessage`` capabilities) handles it as
                a plain interrupt.
            message_uuid: With ``send_now``: only this waiting prompt counts.

        Returns:
            The CLI's receipt: ``still_queued``, ``cancelled``, ``send_now``.

        Raises:
            ValueError: ``send_now`` with ``cancel_queued``, or ``message_uuid`` without
                ``send_now``.
        """
        if send_now and cancel_queued:
            raise ValueError("send_now and cancel_queued exclude each other")
        if message_uuid is not None and not send_now:
            raise ValueError("message_uuid needs send_now=True")
        fields: dict[str, Any] = {}
        if cancel_queued:
            fields["cancel_queued"] = True
        if send_now:
            fields["send_now"] = True
            if message_uuid is not None:
                fields["message_uuid"] = message_uuid
        from ._control_types import InterruptResult

        result = InterruptResult.from_wire(await self._request("interrupt", fields))
        if result.cancelled:
            self._prompts_withdrawn(result.cancelled)
        return result

    async def set_model(self, model: str | None = None) -> None:
        """Switches the model for the following turns (``None``: the default model)."""
        await self._request("set_model", {"model": model})

    async def set_permission_mode(self, mode: str) -> str | None:
        """Changes the permission mode (``default``, ``acceptEdits``, ``plan``, ...).

        Args:
            mode: The mode asked for.

        Returns:
            The mode now in effect, which is not always the one asked for: record this, not
            ``mode``. ``None`` when the CLI's answer names none.

        Raises:
            ControlRequestError: The CLI refused the mode (``error_code`` ``invalid_mode``).
        """
        reply = await self._request("set_permission_mode", {"mode": mode})
        in_effect = reply.get("mode")
        return in_effect if isinstance(in_effect, str) else None

    async def set_max_thinking_tokens(self, max_thinking_tokens: int | None) -> None:
        """Changes the thinking budget (``None`` clears it, ``0`` disables thinking).

        Raises:
            ConfigurationError: ``max_thinking_tokens`` is not ``None`` or an integer >= 0 (as
                for the option of that name), before anything is sent.
        """
        integer(minimum=0)("max_thinking_tokens", max_thinking_tokens)
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
        from ._control_types import RewindFilesResult

        return RewindFilesResult.from_wire(await self._request("rewind_files", fields))

    async def mcp_status(self) -> list[McpServerStatus]:
        """The connection state of every MCP server."""
        reply = await self._request("mcp_status", {})
        servers = reply.get("mcpServers")
        entries = servers if isinstance(servers, list) else []
        from ._control_types import McpServerStatus

        return [McpServerStatus.from_wire(s) for s in entries if isinstance(s, dict)]

    async def set_mcp_servers(self, servers: Mapping[str, Any]) -> McpSetServersResult:
        """Replaces the session's dynamic MCP servers, in-process ones included.

        In-process servers are routed before the request goes out. A set given up (a
        deadline, a cancellation, a timeout) leaves its routes, and those it would have
        dropped, until a later set lands; that set's answer then drops every route outside
        it. A replacement (a new in-process server under a key the session has) is sent as
        two requests, shielded together, each bounded by ``control_timeout`` (60 s when that
        is infinite).

        Args:
            servers: Server name -> config, as for ``mcp_servers`` (stdio, sse, http, or
                :func:`~trio_claude.create_sdk_mcp_server` results).
        """
        router = self._request_handlers()["mcp_message"]
        assert isinstance(router, McpRouter)
        # Headers and env: masked in this frame, which a failure is raised through.
        servers = RedactedDict(servers)
        async with router.changing:
            replaced = router.replaced(servers)
            if not replaced:
                return await self._set_mcp_servers_once(router, servers)
            # A new in-process server under a key the CLI knows: the same config to the CLI,
            # which would keep the old one's tools. Drop it first, then add the new one. Both
            # or neither: a deadline landing once the drop is sent (the CLI may have applied
            # it) must not leave the CLI with no server under the key. Shielded, and bounded
            # by control_timeout per request (failed at once if the CLI dies); by
            # _SHIELDED_LIMIT when that is infinite, or a hung CLI would make the caller
            # uncancellable.
            limit = self._options.control_timeout
            limit = limit if math.isfinite(limit) else _SHIELDED_LIMIT
            with trio.CancelScope(shield=True):
                first = await self._set_mcp_servers_once(
                    router,
                    RedactedDict((k, v) for k, v in servers.items() if k not in replaced),
                    limit,
                )
                result = await self._set_mcp_servers_once(router, servers, limit)
        added = set(result.added)
        return attrs.evolve(
            result,
            removed=[k for k in first.removed if k not in added] + result.removed,
            errors={**first.errors, **result.errors},
        )

    async def _set_mcp_servers_once(
        self, router: McpRouter, servers: Mapping[str, Any], timeout: float | None = None
    ) -> McpSetServersResult:
        # Routed before the request (the CLI may call a server while it is in flight), and
        # forgotten again if the CLI never took it: the call failed, or it refused the server.
        before = set(router.connections)
        fields = RedactedDict(servers=router.add(servers))
        del servers  # headers and env: not a local of the frame a failure is raised through
        added = [key for key in router.connections if key not in before]
        try:
            reply = await self._request("mcp_set_servers", fields, timeout=timeout)
        except ControlRequestError:
            # Refused: the CLI holds none of them.
            router.remove(added)
            raise
        except BaseException:
            # A cancellation or a timeout says nothing of what the CLI did with the set: the
            # routes stay (one too few loses the server's calls) until a set that lands, those
            # it added and those it would have dropped alike.
            sent = frozenset(fields["servers"])  # (the names only: the configs hold credentials)
            router.unconfirmed.update(added)
            router.unconfirmed.update(
                key for key in before if key not in sent and key not in router.static
            )
            raise
        from ._control_types import McpSetServersResult

        result = McpSetServersResult.from_wire(reply)
        # The CLI's dynamic set is now the one sent: a route a given-up call left outside it
        # is gone too (kept, it held its server and tools for the session's life).
        sent = frozenset(fields["servers"])
        stale = [key for key in router.unconfirmed if key not in sent]
        router.unconfirmed.clear()
        router.remove([*result.removed, *(key for key in result.errors if key in added), *stale])
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
        from ._control_types import ContextUsage

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
        return [s for s in styles if isinstance(s, str)] if isinstance(styles, list) else []

    async def apply_flag_settings(self, settings: Mapping[str, Any]) -> None:
        """Merges ``settings`` into the CLI's flag-settings layer (like ``--settings``)."""
        fields = RedactedDict(settings=dict(settings))
        del settings  # (an env block): not a local of the frame a failure is raised through
        await self._request("apply_flag_settings", fields)

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
        from ._control_types import ReadFileResult

        return ReadFileResult.from_wire(reply) if "contents" in reply else None

    async def background_tasks(self, tool_use_id: str | None = None) -> dict[str, Any]:
        """Moves running foreground work (a Bash command, a subagent) to the background."""
        fields = {"tool_use_id": tool_use_id} if tool_use_id is not None else {}
        return await self._request("background_tasks", fields)

    # -------------------------------------------------------------- settings

    async def get_settings(self) -> SettingsSnapshot:
        """The CLI's settings: the merged result, each layer, and what the session applies.

        Returns:
            ``effective`` (merged), ``sources`` (each layer, lowest priority first) and
            ``applied`` (model, effort...).
        """
        from ._control_types import SettingsSnapshot

        return SettingsSnapshot.from_wire(await self._request("get_settings", {}))

    async def update_settings(
        self, source: Literal["localSettings", "userSettings"], settings: Mapping[str, Any]
    ) -> None:
        """Writes settings to a settings file through the CLI's own writer (as ``/config``).

        Unlike :meth:`apply_flag_settings` (the session-only flag layer), this persists. The
        CLI accepts few keys, each with a string value: ``localSettings`` (the project's
        ``.claude/settings.local.json``) takes ``outputStyle``; ``userSettings`` takes
        ``effortLevel``, saved for the session's current model.

        Args:
            source: Which file to write.
            settings: The keys to merge in.

        Raises:
            ControlRequestError: The CLI refused a key, a value or the source.
        """
        fields = RedactedDict(source=source, settings=dict(settings))
        del settings  # (an env block): not a local of the frame a failure is raised through
        await self._request("update_settings", fields)

    # ------------------------------------------------------------ the queue

    async def cancel_async_message(self, message_uuid: str) -> CancelAsyncMessageResult:
        """Drops a prompt still waiting in the CLI's queue (sent while a turn ran).

        When it was dropped its turn ends here: nothing will answer it, and receivers stop
        waiting for it.

        Args:
            message_uuid: The prompt's uuid (``send(..., uuid=...)``).

        Returns:
            Whether it was dropped (``False``: a turn already took it in, or it never reached
            the queue).
        """
        from ._control_types import CancelAsyncMessageResult

        result = CancelAsyncMessageResult.from_wire(
            await self._request("cancel_async_message", {"message_uuid": message_uuid})
        )
        if result.cancelled:
            self._prompts_withdrawn([result.message_uuid or message_uuid])
        return result

    async def update_queued_message(
        self,
        message_uuid: str,
        *,
        priority: Literal["now", "next", "later"] | None = None,
        before_message_uuid: str | None = None,
        move_to_end: bool = False,
    ) -> str:
        """Changes the priority or the place of a prompt waiting in the CLI's queue.

        Needs a newer CLI than 2.1.329, which answers ``Unsupported control request subtype:
        update_queued_message`` (``error_code`` ``unsupported_request``): a
        :class:`~trio_claude.ControlRequestError`.

        Args:
            message_uuid: The queued prompt's uuid.
            priority: Its new priority (``"now"`` runs it at once, ending the current turn's
                wait as the terminal's send-now key does). Needed when ``before_message_uuid``
                is not given.
            before_message_uuid: Move it in front of this queued prompt. Not with
                ``priority="now"``.
            move_to_end: Move it behind the other queued prompts (wire
                ``before_message_uuid: null``). Not with ``priority="now"``.

        Returns:
            The CLI's outcome: ``"applied"``, ``"already"`` (nothing to change), ``"too_late"``
            (a turn took it in) or ``"unsupported"``.

        Raises:
            ValueError: Both ``before_message_uuid`` and ``move_to_end``.
        """
        if before_message_uuid is not None and move_to_end:
            raise ValueError("before_message_uuid and move_to_end exclude each other")
        fields: dict[str, Any] = {"message_uuid": message_uuid}
        if priority is not None:
            fields["priority"] = priority
        if before_message_uuid is not None or move_to_end:
            fields["before_message_uuid"] = before_message_uuid
        outcome = (await self._request("update_queued_message", fields)).get("outcome")
        return outcome if isinstance(outcome, str) else ""

    async def get_task_output(self, task_id: str) -> TaskOutput:
        """The output so far of a shell or Monitor task of this session, running or ended.

        Args:
            task_id: The task's id (``TaskStartedMessage.task_id``).

        Raises:
            ControlRequestError: No such task in this session.
        """
        from ._control_types import TaskOutput

        return TaskOutput.from_wire(await self._request("get_task_output", {"task_id": task_id}))

    async def end_session(self, *, reason: str | None = None) -> None:
        """Ends the session on the CLI's side: the CLI aborts the running turn, discards the
        queued prompts and exits.

        The session then ends by itself: the discarded prompts' turns end here, the running
        turn ends with its aborted result (``error_during_execution``), receivers see the end
        of the output without an error, and leaving the ``async with`` (or ``aclose()``)
        returns promptly. An idle CLI exits with status 0 (``lifecycle`` ``closed``); one
        that aborted a turn with status 1 (``lifecycle`` ``failed``, as after any error
        result).

        Args:
            reason: Why, for the CLI's log (the official SDK sends ``"host_closing"``).
        """
        await self._request("end_session", {"reason": reason} if reason is not None else {})
        # Every open turn after the oldest is a prompt still queued at the CLI: discarded.
        self._prompts_withdrawn(self._lifecycle.open_turns[1:])

    # -------------------------------------------------------------- session

    async def rename_session(
        self,
        title: str,
        *,
        source: Literal["remote", "host"] | None = None,
        session_id: str | None = None,
    ) -> None:
        """Sets the session's title (the CLI then sends ``session_title_changed``).

        Args:
            title: The new title.
            source: Who chose it: ``"host"`` (counted as the user's rename) or ``"remote"``
                (the CLI's default).
            session_id: Refuse if the CLI has since moved to another session.
        """
        fields: dict[str, Any] = {"title": title}
        if source is not None:
            fields["source"] = source
        if session_id is not None:
            fields["session_id"] = session_id
        await self._request("rename_session", fields)

    async def set_mcp_permission_mode_override(
        self, server_name: str, mode: Literal["default", "auto"] | None
    ) -> str | None:
        """Overrides the permission mode for one MCP server's tools.

        Args:
            server_name: The server's name as registered.
            mode: ``"default"`` (ask for every action), ``"auto"`` (the auto-mode classifier
                decides), or ``None`` to clear the override.

        Returns:
            The CLI's warning when no known server has that name (the override is stored
            anyway and applies once such a server connects), else ``None``.
        """
        reply = await self._request(
            "set_mcp_permission_mode_override", {"serverName": server_name, "mode": mode}
        )
        warning = reply.get("warning")
        return warning if isinstance(warning, str) else None

    async def set_color(self, color: str) -> None:
        """Sets the session's accent color: an agent color name, or ``"default"`` to reset."""
        await self._request("set_color", {"color": color})

    async def set_has_subscribers(self, has_subscribers: bool | None) -> None:
        """Tells the CLI whether anybody watches the output the program passes on.

        It only matters for a CLI started with ``CLAUDE_CODE_STREAM_EVENT_HOLD_MS`` (which
        holds stream deltas to join them): after ``False`` the hold lasts
        ``CLAUDE_CODE_STREAM_EVENT_NO_SUBSCRIBER_HOLD_MS``. ``None``: not known (counts as
        ``True``). No line is dropped; send it when the answer changes, not per message.
        """
        await self._request("set_has_subscribers", {"has_subscribers": has_subscribers})

    async def get_session_cost(self) -> str:
        """The session's cost summary, as text (what ``/cost`` prints; ANSI stripped)."""
        text = (await self._request("get_session_cost", {})).get("text")
        return text if isinstance(text, str) else ""

    async def list_models(self) -> list[ModelInfo]:
        """The models the CLI offers now (disabled ones included), asked of the CLI.

        :meth:`supported_models` is the same list as ``initialize`` reported it.
        """
        models = (await self._request("list_models", {})).get("models")
        entries = models if isinstance(models, list) else []
        return [_model_info(m) for m in entries if isinstance(m, dict)]

    async def get_binary_version(self) -> BinaryVersion:
        """The CLI binary's version (and build time)."""
        from ._control_types import BinaryVersion

        return BinaryVersion.from_wire(await self._request("get_binary_version", {}))

    async def file_suggestions(self, query: str) -> FileSuggestions:
        """The ``@``-mention file completions for a partial path (as the terminal shows).

        Args:
            query: The partial path.
        """
        from ._control_types import FileSuggestions

        return FileSuggestions.from_wire(await self._request("file_suggestions", {"query": query}))

    async def register_repo_root(
        self,
        directory: str | os.PathLike[str],
        *,
        reload_claude_md: bool | None = None,
        reload_plugins: bool | None = None,
        reload_skills: bool | None = None,
    ) -> str:
        """Adds a working-directory root, optionally reloading CLAUDE.md, plugins and skills.

        Args:
            directory: A strict subdirectory of ``cwd`` or of an ``add_dirs`` directory
                (relative paths are resolved against ``cwd``).
            reload_claude_md: Reload CLAUDE.md files.
            reload_plugins: Reload plugins.
            reload_skills: Reload skills.

        Returns:
            The registered root (an absolute path).

        Raises:
            ControlRequestError: The directory is outside, missing, or already registered.
        """
        fields: dict[str, Any] = {"directory": os.fspath(directory)}
        for key, value in (
            ("reload_claude_md", reload_claude_md),
            ("reload_plugins", reload_plugins),
            ("reload_skills", reload_skills),
        ):
            if value is not None:
                fields[key] = value
        root = (await self._request("register_repo_root", fields)).get("directory")
        return root if isinstance(root, str) else fields["directory"]

    async def seed_read_state(self, path: str | os.PathLike[str], mtime: float) -> None:
        """Tells the CLI a file was read at ``mtime``, so that ``Edit`` accepts it again.

        For a Read that was removed from the context: if the file changed since ``mtime``, the
        seed is skipped and ``Edit`` still asks for a fresh Read.

        Args:
            path: The file.
            mtime: Its modification time when read, in milliseconds since the epoch, floored
                (``math.floor(os.stat(path).st_mtime * 1000)``).
        """
        await self._request("seed_read_state", {"path": os.fspath(path), "mtime": mtime})

    async def get_hooks_listing(self) -> HooksListing:
        """The hooks in force, as the ``/hooks`` menu lists them (settings, session, plugins)."""
        from ._control_types import HooksListing

        return HooksListing.from_wire(await self._request("get_hooks_listing", {}))

    async def list_permission_rules(self) -> PermissionRules:
        """The live permission rules and working directories (what ``/permissions`` lists)."""
        from ._control_types import PermissionRules

        return PermissionRules.from_wire(await self._request("list_permission_rules", {}))

    # ------------------------------------------------------------------ MCP

    async def mcp_call(
        self,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        result_not_for_model: bool | None = None,
        check_permissions: bool | None = None,
        timeout: float | None = None,
    ) -> McpCallResult:
        """Calls a tool of an MCP server the CLI runs, without a model turn.

        In-process servers (:func:`~trio_claude.create_sdk_mcp_server`) are refused by the CLI:
        call their functions directly. Cancelling the call (or its ``timeout``) withdraws it
        from the CLI (``control_cancel_request``), which aborts the tool call.

        Args:
            tool: The fully-qualified tool name, ``mcp__<server>__<tool>``.
            arguments: The tool's arguments.
            result_not_for_model: Return the tool's content as it sent it, not as the CLI
                would prepare it for the model.
            check_permissions: Apply the session's permission rules and hooks first.
            timeout: Seconds to wait (default ``control_timeout``).

        Raises:
            ControlRequestError: The server is not connected, the tool failed (its error
                text), or the CLI refused.
        """
        fields: dict[str, Any] = {"tool": tool}
        if arguments is not None:
            fields["arguments"] = dict(arguments)
        if result_not_for_model is not None:
            fields["result_not_for_model"] = result_not_for_model
        if check_permissions is not None:
            fields["check_permissions"] = check_permissions
        from ._control_types import McpCallResult

        return McpCallResult.from_wire(await self._request("mcp_call", fields, timeout=timeout))

    async def mcp_read_resource(self, server_name: str, uri: str) -> McpReadResourceResult:
        """Reads an MCP Apps UI resource (a ``ui://`` URI) from an MCP server the CLI runs.

        The contents are untrusted third-party HTML: render them sandboxed. In-process servers
        are refused by the CLI (read them directly).

        Args:
            server_name: The server's name, as :meth:`mcp_status` reports it.
            uri: A ``ui://`` URI (typically a tool's ``_meta.ui.resourceUri``).

        Raises:
            ControlRequestError: Not a ``ui://`` URI, an unknown or disconnected server, or
                the server's own error.
        """
        from ._control_types import McpReadResourceResult

        return McpReadResourceResult.from_wire(
            await self._request("mcp_read_resource", {"serverName": server_name, "uri": uri})
        )

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
