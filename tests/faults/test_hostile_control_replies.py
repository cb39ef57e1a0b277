"""A hostile CLI answering the SDK->CLI control requests with wrong shapes.

The contract: every public call returns a typed result or raises one typed ``ClaudeSDKError``;
no ``TypeError``/``ValueError``/``RecursionError``... leaking from decoding, the session
survives (the next call works). Each test fails on the code before its fix.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
import trio
import trio.testing

import trio_claude as tc
from trio_claude._control_types import HooksListing

from ._support import ManualChild, ManualTransport

#: Nested deeper than ``str()``/``repr()`` can go (orjson reads up to 1024 levels).
DEEP = "[" * 1012 + "]" * 1012

Reply = Callable[[str], bytes]


def success_line(request_id: str, response_json: str) -> bytes:
    """A ``success`` answer whose ``response`` is the JSON text ``response_json`` as is."""
    head = '{"type":"control_response","response":{"subtype":"success","request_id":'
    return f'{head}{orjson.dumps(request_id).decode()},"response":{response_json}}}}}\n'.encode()


def body_line(request_id: str, body_json: str) -> bytes:
    """A ``control_response`` whose ``response`` body (after the id) is ``body_json`` as is."""
    rid = orjson.dumps(request_id).decode()
    return f'{{"type":"control_response","response":{{"request_id":{rid},{body_json}}}}}\n'.encode()


async def _play(
    child: ManualChild, hostile: Reply, initialize: str = '{"commands":[],"pid":1}'
) -> None:
    """The CLI: answers ``initialize`` with ``initialize``, the first other request with
    ``hostile``, and every later one with ``{}``; exits at stdin's end."""
    answered = False
    try:
        while True:
            frame = await child.read_frame()
            if frame.get("type") != "control_request":
                continue
            rid = frame["request_id"]
            subtype = frame["request"]["subtype"]
            if subtype == "initialize":
                await child.write(success_line(rid, initialize))
            elif subtype == "interrupt" and answered:
                await child.write(success_line(rid, "{}"))
            elif not answered:
                answered = True
                await child.write(hostile(rid))
            else:
                await child.write(success_line(rid, '{"ok":1}'))
    except (EOFError, trio.ClosedResourceError, trio.BrokenResourceError):
        pass
    child.exit(0)


async def _call_against(
    hostile: Reply,
    call: Callable[[tc.Session], Awaitable[Any]],
    initialize: str = '{"commands":[],"pid":1}',
) -> Any:
    """Runs ``call`` against a CLI answering it with ``hostile``; checks the session survives.

    Returns what ``call`` returned, or the ``ClaudeSDKError`` it raised.
    """
    transport = ManualTransport()

    async def cli() -> None:
        await transport.child_ready.wait()
        assert transport.child is not None
        await _play(transport.child, hostile, initialize)

    options = tc.ClaudeAgentOptions(transport=transport, control_timeout=30)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(cli)
        async with tc.open_session(options) as session:
            with trio.fail_after(60):
                try:
                    outcome: Any = await call(session)
                except tc.ClaudeSDKError as exc:
                    outcome = exc
            with trio.fail_after(60):
                assert await session.get_usage() == {"ok": 1}  # the session still works
    return outcome


# ------------------------------------------------------------------- error answers


@pytest.mark.parametrize(
    "body",
    [f'"subtype":"error","error":{DEEP}', f'"subtype":{DEEP}'],
    ids=["deep_error", "deep_subtype"],
)
async def test_a_deeply_nested_error_answer_does_not_break_the_session(
    autojump_clock: trio.testing.MockClock, body: str
) -> None:
    """An ``error`` answer whose ``error`` (or an answer whose ``subtype``) is a deeply nested
    list kills the session's reader: ``ControlTable.match`` formats it with ``str(error)`` /
    ``{kind!r}``, which raises ``RecursionError`` in the reader task, and the session is broken
    (every later call raises ``SessionClosedError``). Expected: one ``ControlRequestError`` for
    this call, and the session goes on."""
    outcome = await _call_against(lambda r: body_line(r, body), lambda s: s.set_model("x"))
    assert isinstance(outcome, tc.ControlRequestError)


# ------------------------------------------------------------------- typed decoders


DEEP_FIELDS: list[tuple[str, str, Callable[[tc.Session], Awaitable[Any]]]] = [
    (
        "set_mcp_servers",
        f'{{"added":[{DEEP}],"removed":[{DEEP}]}}',
        lambda s: s.set_mcp_servers({}),
    ),
    ("mcp_status", f'{{"mcpServers":[{{"name":{DEEP}}}]}}', lambda s: s.mcp_status()),
    (
        "reload_output_styles",
        f'{{"available_output_styles":[{DEEP}]}}',
        lambda s: s.reload_output_styles(),
    ),
    (
        "update_queued_message",
        f'{{"outcome":{DEEP}}}',
        lambda s: s.update_queued_message("u", priority="next"),
    ),
    ("read_file", f'{{"contents":{DEEP}}}', lambda s: s.read_file("/x")),
    ("get_settings", f'{{"sources":[{{"source":{DEEP}}}]}}', lambda s: s.get_settings()),
    (
        "list_permission_rules",
        f'{{"state":{{"workspaceDirectories":[{{"path":{DEEP}}}]}}}}',
        lambda s: s.list_permission_rules(),
    ),
    (
        "file_suggestions",
        f'{{"suggestions":[{{"path":{DEEP}}}]}}',
        lambda s: s.file_suggestions("x"),
    ),
    (
        "mcp_read_resource",
        f'{{"contents":[{{"uri":{DEEP}}}]}}',
        lambda s: s.mcp_read_resource("s", "ui://x"),
    ),
    ("get_hooks_listing", f'{{"events":[{{"name":{DEEP}}}]}}', lambda s: s.get_hooks_listing()),
    ("rewind_files", f'{{"filesChanged":[{DEEP}]}}', lambda s: s.rewind_files("u")),
]


@pytest.mark.parametrize(
    "response,call", [f[1:] for f in DEEP_FIELDS], ids=[f[0] for f in DEEP_FIELDS]
)
async def test_a_deeply_nested_field_is_decoded_without_a_recursion_error(
    autojump_clock: trio.testing.MockClock,
    response: str,
    call: Callable[[tc.Session], Awaitable[Any]],
) -> None:
    """A field decoded with ``str(value)`` (not ``_str``) that holds a deeply nested list
    (valid JSON, within orjson's 1024 levels) raises a bare ``RecursionError`` out of the call:
    ``McpSetServersResult`` (_control_types.py:187-188), ``McpServerStatus.name`` (:156),
    ``RewindFilesResult.files_changed`` (:264), ``ReadFileResult.contents`` (:294),
    ``SettingsSource.source`` (:324), ``FileSuggestion.path`` (:497), ``HookEventSummary.name``
    (:549), ``WorkspaceDirectory.path`` (:687), ``McpResourceContent.uri`` (:789), and
    ``reload_output_styles`` / ``update_queued_message`` (_control_api.py:282, :413).
    Expected: a typed result (the junk as ``""``/left out), never an untyped error."""
    outcome = await _call_against(lambda r: success_line(r, response), call)
    assert not isinstance(outcome, BaseException) or isinstance(outcome, tc.ClaudeSDKError)


@pytest.mark.parametrize("key", ["events", "eventCatalog"])
@pytest.mark.parametrize("number", ["1e400", "-1e400"])
async def test_an_out_of_range_hook_count_does_not_raise_overflow_error(
    autojump_clock: trio.testing.MockClock, key: str, number: str
) -> None:
    """``hookCount: 1e400`` (valid JSON; the stdlib fallback parser reads it as ``inf``) makes
    ``get_hooks_listing()`` raise a bare ``OverflowError``: ``HookEventSummary.from_wire`` does
    ``int(_num(...))`` (_control_types.py:552), and ``_num`` passes ``inf``/``nan`` through.
    Expected: ``hook_count is None``."""
    response = f'{{"{key}":[{{"name":"Stop","hookCount":{number}}}]}}'
    listing = await _call_against(
        lambda r: success_line(r, response), lambda s: s.get_hooks_listing()
    )
    assert isinstance(listing, HooksListing)
    entries = listing.events if key == "events" else listing.event_catalog
    assert entries[0].name == "Stop" and entries[0].hook_count is None


@pytest.mark.parametrize("value", ['"false"', '"no"', '{"x":false}', "[0]"])
async def test_rewind_files_reads_a_non_boolean_can_rewind_as_false(
    autojump_clock: trio.testing.MockClock, value: str
) -> None:
    """``RewindFilesResult.can_rewind`` is ``bool(data.get("canRewind", False))``
    (_control_types.py:262): ``"canRewind": "false"`` says the files *can* be rewound. The
    documented lenient decoding (docs/control.md: a field sent with another type is None or
    empty) and every other decoder (``_bool``, ``is True``) read it as not-true. Expected:
    ``can_rewind is False``."""
    result = await _call_against(
        lambda r: success_line(r, f'{{"canRewind":{value}}}'), lambda s: s.rewind_files("u")
    )
    assert result.can_rewind is False


# ----------------------------------------------------------------------- initialize


async def test_an_initialize_reply_with_a_surrogate_and_a_huge_number_opens_the_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An ``initialize`` reply holding both a lone surrogate (``"\\ud800"``, which Node writes)
    and ``1e400`` (``inf`` for the stdlib parser that reads such a line) makes ``open_session``
    raise a bare ``ValueError`` ("Out of range float values are not JSON compliant"):
    ``_initialize`` stores it with ``dumps_from_cli`` (_session.py:1599), whose stdlib fallback
    (orjson refuses the surrogate) has ``allow_nan=False`` (_protocol/_codec.py:1693).
    Expected: the session opens (the reply is valid JSON), ``server_info`` decodes."""
    init = '{"commands":[],"pid":7,"x":"\\ud800","y":1e400}'

    async def call(s: tc.Session) -> Any:
        return s.server_info.pid if s.server_info else None

    assert await _call_against(lambda r: success_line(r, '{"ok":1}'), call, init) == 7


async def test_one_junk_initialize_field_does_not_drop_the_valid_commands(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An ``initialize`` reply with valid ``commands`` and ``models`` but one junk field
    (``"pid": "junk"``) gives ``server_info`` with no commands, no models and no pid, and
    ``supported_commands()`` / ``supported_models()`` return ``[]``: ``decode_server_info``
    is all-or-nothing, and ``Session.server_info`` (_session.py:1614-1617) falls back to an
    empty ``ServerInfo(raw=reply)``. Expected (docs/control.md: a field sent with another type
    is None or empty, never an error): the junk field alone is dropped."""
    init = (
        '{"commands":[{"name":"c","description":"d","argumentHint":""}],'
        '"models":[{"value":"m","displayName":"M","description":""}],"pid":"junk"}'
    )

    async def call(s: tc.Session) -> Any:
        return [c.name for c in s.supported_commands()], [m.value for m in s.supported_models()]

    commands, models = await _call_against(lambda r: success_line(r, '{"ok":1}'), call, init)
    assert commands == ["c"] and models == ["m"]
