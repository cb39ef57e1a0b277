"""Secrets in the locals of an error's frames, beyond the session's own start
(``test_secret_redaction.py``): the iterator form of ``query()``, SSH and Ray launches, a store
resume, control requests that carry credentials, copies of the masked dicts; and the oversize
line's head. Each docstring says what leaked before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude._protocol._framing import TAIL_BYTES, LineFramer, OversizeLine
from trio_claude._redact import RedactedDict

from ._support import ManualTransport, script_cli
from .test_secret_redaction import (
    ANT_TEST_KEY,
    MCP_TOKEN,
    TOKEN,
    _options_with_secrets,
    assert_no_fragment,
    local_leaks,
)

SERVER = {"type": "http", "url": "http://127.0.0.1:9/", "headers": {"X-Token": MCP_TOKEN}}


async def _error_of(body: Any) -> BaseException:
    with pytest.raises(BaseException) as info:
        await body()
    return info.value


# ------------------------------------------------------------------------ secrets in locals


async def test_query_iterator_form_cli_dying_at_initialize_leaves_no_secret_in_locals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The iterator form of ``query()`` (``_PullQuery``) has its own ``_initialize`` and
    ``_send_request``: it copies ``build_initialize``'s RedactedDict into a plain dict
    (``fields``) and keeps the wire bytes (``data``) in its frame, so the MCP server's header
    shows in ``_initialize:fields``, ``_request:fields``, ``_send_request:fields/data`` of the
    ProcessError's traceback. The change fixed only ``Session``."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANT_TEST_KEY)
    cli = script_cli(tmp_path, "#!/bin/sh\nread line\necho 'fatal: no' >&2\nexit 3\n")

    async def body() -> None:
        async for _ in tc.query(prompt="hi", options=_options_with_secrets(cli)):
            pass

    error = await _error_of(body)
    assert isinstance(error, tc.ProcessError)
    assert local_leaks(error, ANT_TEST_KEY, TOKEN, MCP_TOKEN) == []


async def test_ssh_transport_that_cannot_start_ssh_leaves_no_secret_in_locals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``SSHTransport.start`` builds ``payload`` (the preamble: the remote environment, i.e.
    ``options.env``'s values and the forwarded ``ANTHROPIC_*`` key) before it starts ssh; when
    ssh cannot be started the CLIConnectionError's frame shows ``start:payload`` whole."""
    from trio_claude._transport._ssh import SSHTransport

    monkeypatch.setenv("ANTHROPIC_API_KEY", ANT_TEST_KEY)
    ssh = script_cli(tmp_path, "#!/nonexistent/interpreter\n", "ssh")
    transport = SSHTransport(host="example.invalid", ssh_command=str(ssh))
    options = tc.ClaudeAgentOptions(
        transport=transport, cli_path="claude", env={"GATEWAY_TOKEN": TOKEN}
    )

    async def body() -> None:
        async with tc.open_session(options) as session:
            await session.run("hi")

    error = await _error_of(body)
    assert isinstance(error, tc.CLIConnectionError)
    assert local_leaks(error, ANT_TEST_KEY, TOKEN) == []


async def test_ray_transport_that_fails_to_place_leaves_no_secret_in_locals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``RayTransport.start`` holds ``launch`` (a plain dict whose ``preamble`` carries the
    remote environment's values) in its frame while it places the actor: any failure there
    (a Ray error, a placement timeout) shows the credentials in ``start:launch``. Ray itself is
    faked: only the actor creation fails."""
    from trio_claude._transport import _ray

    class Relay:
        @staticmethod
        def options(**_: Any) -> Any:
            class Remote:
                def remote(self) -> Any:
                    raise RuntimeError("no node has the resources")

            return Remote()

    monkeypatch.setattr(_ray, "ray_available", lambda: True)
    monkeypatch.setattr(_ray, "_load_ray", lambda address, init_kwargs: (object(), Relay))
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANT_TEST_KEY)
    options = tc.ClaudeAgentOptions(
        transport=_ray.RayTransport(), cli_path="claude", env={"GATEWAY_TOKEN": TOKEN}
    )

    async def body() -> None:
        async with tc.open_session(options) as session:
            await session.run("hi")

    error = await _error_of(body)
    assert local_leaks(error, ANT_TEST_KEY, TOKEN) == []


async def test_resuming_a_missing_session_from_a_store_leaves_no_secret_in_locals(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``_mirror.resume_from_store`` passes ``env=dict(spec.env)`` (the Environment turned back
    into a plain dict) to ``prepare_store_resume``, whose frame is in the traceback of the
    SessionNotFoundError: ``prepare_store_resume:env`` shows every value (also
    ``{**spec.env, ...}`` a few lines below makes the resumed spec's env a plain dict)."""
    from trio_claude.stores import SQLiteSessionStore

    monkeypatch.setenv("ANTHROPIC_API_KEY", ANT_TEST_KEY)
    cli = script_cli(tmp_path, "#!/bin/sh\nexit 3\n")
    async with SQLiteSessionStore(str(tmp_path / "store.db")) as store:
        options = tc.ClaudeAgentOptions(
            cli_path=str(cli),
            env={"GATEWAY_TOKEN": TOKEN},
            session_store=store,
            resume="00000000-0000-4000-8000-000000000000",
        )

        async def body() -> None:
            async with tc.open_session(options) as session:
                await session.run("hi")

        error = await _error_of(body)
    assert isinstance(error, tc.SessionNotFoundError)
    assert local_leaks(error, ANT_TEST_KEY, TOKEN) == []


async def test_set_mcp_servers_to_a_cli_that_dies_leaves_no_secret_in_locals() -> None:
    """Only ``initialize``'s request became a RedactedDict: ``set_mcp_servers`` (and likewise
    ``apply_flag_settings`` / ``update_settings`` with an ``env``) sends a plain ``fields``
    dict, which ``_request``, ``_control_request`` and ``_send_control_request`` hold while the
    CLI's death (or an error reply) is raised through them: the MCP header shows."""
    transport = ManualTransport()
    options = tc.ClaudeAgentOptions(transport=transport)

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()  # mcp_set_servers
        child.exit(1)

    async def body() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(cli)
            async with tc.open_session(options) as session:
                await session.set_mcp_servers({"s": SERVER})

    error = await _error_of(body)
    assert local_leaks(error, MCP_TOKEN) == []


def test_a_redacted_dicts_copy_is_redacted_too() -> None:
    """``Environment.copy()`` keeps its type (and masked repr); ``RedactedDict.copy()`` returns a
    plain dict whose repr shows the MCP headers. Copying the initialize payload is exactly what
    ``_PullQuery._initialize`` does (with a comprehension), so a copy is an easy way to lose the
    masking (``RedactedDict | {...}`` and ``Environment | {...}`` are plain dicts as well)."""
    request = RedactedDict(mcpServers={"s": SERVER})
    assert_no_fragment(repr(request), MCP_TOKEN)
    assert_no_fragment(repr(request.copy()), MCP_TOKEN)


# ------------------------------------------------------------------------------ framer


@pytest.mark.parametrize("step", [1, 7, 64])
def test_oversize_head_is_the_lines_first_200_bytes_whatever_the_chunks(step: int) -> None:
    """With ``max_line_bytes`` below 200, ``OversizeLine.head`` is only what had arrived when
    the line went over the limit (``step`` + a few bytes), not the line's first 200 bytes: once
    discarding, later bytes never reach ``_head``. (Predates the spill change; the spill path
    has the same shape: ``spill.head(200)`` without ``data``, harmless only because a spill
    always holds > SPILL_BYTES.)"""
    line = bytes(range(40, 120)) * 10  # 800 bytes, no newline
    framer = LineFramer(max_line_bytes=5)
    out: list[bytes | OversizeLine] = []
    for i in range(0, len(line), step):
        out += framer.feed(line[i : i + step])
    out += framer.feed(b"\n")
    assert out == [OversizeLine(len(line), line[:200], line[-TAIL_BYTES:])]
