"""Hostile official-style transports (``connect``/``write``/``read_messages``/``close``/
``end_input``): what each of them raises, yields, or hangs on, at every point of a session, in
both forms of ``query()``, ``ClaudeSDKClient`` and ``open_session``.

Every test: a typed trio-claude error (never an exception group), bounded time, ``close()``
called once, no task left (the fault suite's conftest checks tasks, processes and fds), no
credential in an error, its chain, a log record or a repr.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import traceback
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
import trio
import trio.testing

import trio_claude as tc

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

KEY = "sk-ant-api03-" + "Hq4" * 14  # shaped like a real Anthropic key (42 body characters)
SID = "00000000-0000-4000-8000-0000000face5"


# ---------------------------------------------------------------------------- frames


def _init() -> dict[str, Any]:
    return {"type": "system", "subtype": "init", "session_id": SID}


def _assistant(text: str) -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": text}],
        },
        "parent_tool_use_id": None,
        "session_id": SID,
    }


def _result(text: str = "done") -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": 1,
        "duration_api_ms": 1,
        "num_turns": 1,
        "session_id": SID,
        "total_cost_usd": 0.0,
        "result": text,
    }


def _ask(request_id: str = "perm-1") -> dict[str, Any]:
    return {
        "type": "control_request",
        "request_id": request_id,
        "request": {"subtype": "can_use_tool", "tool_name": "Bash", "input": {"command": "ls"}},
    }


def _sleep(seconds: float) -> dict[str, Any]:
    """Not a frame: makes ``read_messages()`` sleep (a slow remote end)."""
    return {"__sleep": seconds}


# ------------------------------------------------------------------------ the transport


class Remote(tc.Transport):
    """A remote CLI as official tests fake one: each frame written is answered with canned
    dicts, which ``read_messages()`` yields. Subclasses break one method."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.frames: list[dict[str, Any]] = []
        self.finalized = False  # read_messages()'s generator has run its finally
        self.shut = False
        self._send, self._recv = trio.open_memory_channel[dict[str, Any]](math.inf)

    def emit(self, *frames: dict[str, Any]) -> None:
        if self.shut:
            return
        for frame in frames:
            self._send.send_nowait(frame)

    def shut_down(self) -> None:
        self.shut = True
        self._send.close()

    def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """What the CLI says to a user frame."""
        return [_init(), _assistant("canned"), _result("canned")]

    async def connect(self) -> None:
        self.calls.append("connect")
        await trio.lowlevel.checkpoint()

    async def write(self, data: str) -> None:
        self.calls.append("write")
        frame = json.loads(data)
        self.frames.append(frame)
        await trio.lowlevel.checkpoint()
        if frame["type"] == "control_request":
            reply = {"subtype": "success", "request_id": frame["request_id"], "response": {}}
            self.emit({"type": "control_response", "response": reply})
        elif frame["type"] == "user":
            self.emit(*self.turn(frame))

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        try:
            async for message in self._recv:
                if "__sleep" in message:
                    await trio.sleep(message["__sleep"])
                    continue
                yield message
        finally:
            self.finalized = True

    async def close(self) -> None:
        self.calls.append("close")
        await trio.lowlevel.checkpoint()
        self.shut_down()

    def is_ready(self) -> bool:
        return True

    async def end_input(self) -> None:
        self.calls.append("end_input")
        await trio.lowlevel.checkpoint()
        self.shut_down()


def _shown(error: BaseException) -> str:
    """What an error shows: its text, repr and whole traceback (causes and contexts)."""
    return str(error) + "\n" + repr(error) + "\n" + "".join(traceback.format_exception(error))


def _assert_no_key(text: str) -> None:
    body = KEY.removeprefix("sk-ant-api03-")
    for piece in (KEY, body[:12], body[-12:]):
        assert piece not in text, (
            f"the key leaked: ...{text[max(0, text.find(piece) - 120) :][:240]}"
        )


def _not_a_group(error: BaseException) -> None:
    assert not isinstance(error, BaseExceptionGroup), repr(error)


async def _drain_iterator(
    transport: Any, options: tc.ClaudeAgentOptions | None = None
) -> list[Any]:
    return [m async for m in tc.query(prompt="hi", transport=transport, options=options)]


class _Prompts:
    """One streamed prompt (a plain async iterator: nothing to finalize if left unfinished)."""

    def __init__(self) -> None:
        self.left = [{"type": "user", "message": {"role": "user", "content": "go"}}]

    def __aiter__(self) -> _Prompts:
        return self

    async def __anext__(self) -> dict[str, Any]:
        await trio.lowlevel.checkpoint()
        if not self.left:
            raise StopAsyncIteration
        return self.left.pop()


def _prompts() -> _Prompts:
    return _Prompts()


class KeyError401(RuntimeError):
    pass


def _key_error() -> KeyError401:
    return KeyError401(f"upstream refused the request: 401, x-api-key: {KEY}")


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise ValueError("no text for you")


# =========================================================================== secrets


async def test_write_raising_with_a_key_iterator_form_masks_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")

    class Refused(Remote):
        async def write(self, data: str) -> None:
            if json.loads(data)["type"] == "user":
                raise _key_error()
            await super().write(data)

    transport = Refused()
    with trio.fail_after(10), pytest.raises(tc.ClaudeSDKError) as info:
        await _drain_iterator(transport, tc.ClaudeAgentOptions(close_timeout=1))
    _not_a_group(info.value)
    _assert_no_key(_shown(info.value))
    _assert_no_key(caplog.text)
    assert transport.calls.count("close") == 1


async def test_write_raising_with_a_key_session_form_is_not_logged_raw(
    caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")

    class Refused(Remote):
        async def write(self, data: str) -> None:
            if json.loads(data)["type"] == "user":
                raise _key_error()
            await super().write(data)

    transport = Refused()
    with trio.move_on_after(30):
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
            with pytest.raises(tc.ClaudeSDKError):
                await session.run("hi")
    _assert_no_key(caplog.text)
    assert transport.calls.count("close") == 1


async def test_read_messages_raising_with_a_key_masks_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")

    class Dropping(Remote):
        def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
            return [_init(), {"__raise": True}]

        async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
            async for message in self._recv:
                if "__raise" in message:
                    raise _key_error()
                yield message

    transport = Dropping()
    with trio.fail_after(10), pytest.raises(tc.ClaudeSDKError) as info:
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
            try:
                await session.run("hi")
            finally:
                tail = session.stderr_tail
    _not_a_group(info.value)
    _assert_no_key(_shown(info.value))
    _assert_no_key(tail)
    _assert_no_key(caplog.text)
    assert transport.calls.count("close") == 1


@pytest.mark.parametrize("method", ["close", "end_input"])
async def test_close_or_end_input_raising_with_a_key_is_logged_masked(
    method: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_claude")

    class Failing(Remote):
        async def close(self) -> None:
            await super().close()
            if method == "close":
                raise _key_error()

        async def end_input(self) -> None:
            await super().end_input()
            if method == "end_input":
                raise _key_error()

    transport = Failing()
    with trio.fail_after(10):
        messages = await _drain_iterator(transport)
    assert isinstance(messages[-1], tc.ResultMessage)
    assert f"{method}() failed" in caplog.text
    _assert_no_key(caplog.text)


# =========================================================================== write()


class RefusesUser(Remote):
    """write() raises on the prompt (the channel to the remote CLI broke)."""

    async def write(self, data: str) -> None:
        if json.loads(data)["type"] == "user":
            raise ConnectionResetError("the channel to the remote CLI broke")
        await super().write(data)


async def test_write_raising_in_the_session_form_is_a_typed_error_not_a_hang(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A subprocess whose stdin breaks has exited (its stdout ends, the reader says why); a
    # transport whose write() raises has not: read_messages() goes on waiting, so nothing
    # ends the turn the prompt never reached.
    transport = RefusesUser()
    start = trio.current_time()
    error: BaseException | None = None
    with trio.move_on_after(300):
        try:
            async with tc.ClaudeSDKClient(transport=transport) as client:
                await client.query("hi")
                async for _ in client.receive_response():
                    pass
        except Exception as exc:
            error = exc
    assert error is not None, f"no error after {trio.current_time() - start:g} s: hung"
    assert isinstance(error, tc.ClaudeSDKError), repr(error)
    assert "the channel to the remote CLI broke" in _shown(error)
    assert transport.calls.count("close") == 1


async def test_write_raising_during_initialize_says_so_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    class RefusesAll(Remote):
        async def write(self, data: str) -> None:
            raise ConnectionResetError("the channel to the remote CLI broke")

    transport = RefusesAll()
    start = trio.current_time()
    with trio.fail_after(300), pytest.raises(tc.ClaudeSDKError) as info:
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)):
            pass
    _not_a_group(info.value)
    elapsed = trio.current_time() - start
    # Not initialize_timeout (60 s) of waiting for an answer to a request never sent, and
    # the reason is not lost behind "initialize timed out".
    assert "the channel to the remote CLI broke" in _shown(info.value), _shown(info.value)
    assert elapsed < 30, elapsed
    assert transport.calls.count("close") == 1


async def test_write_raising_in_the_iterator_form_names_the_write_failure() -> None:
    transport = RefusesUser()
    with trio.fail_after(10), pytest.raises(tc.ClaudeSDKError) as info:
        await _drain_iterator(transport, tc.ClaudeAgentOptions(close_timeout=1))
    _not_a_group(info.value)
    # The CLI did not exit (status 0): writing to it failed.
    assert "exit code: 0" not in str(info.value)
    assert "the channel to the remote CLI broke" in str(info.value)
    assert transport.calls.count("close") == 1


async def test_a_hanging_write_in_the_iterator_form_is_bounded(
    autojump_clock: trio.testing.MockClock,
) -> None:
    class Stuck(Remote):
        async def write(self, data: str) -> None:
            if json.loads(data)["type"] == "user":
                await trio.sleep_forever()
            await super().write(data)

    transport = Stuck()
    with trio.fail_after(60), pytest.raises(tc.ClaudeSDKError) as info:
        await _drain_iterator(transport, tc.ClaudeAgentOptions(close_timeout=2))
    _not_a_group(info.value)
    assert transport.calls.count("close") == 1


# ===================================================================== read_messages()


class Yields(Remote):
    """read_messages() yields ``self.odd`` as the turn's second item."""

    def __init__(self, odd: Any) -> None:
        super().__init__()
        self.odd = odd

    def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        return [_init(), {"__odd": True}, _result()]

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        async for message in self._recv:
            yield self.odd if "__odd" in message else message


class _Opaque:
    pass


def _deep(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return {"type": "assistant", "deep": value}


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param("a string", id="str"),
        pytest.param(["a", "list"], id="list"),
        pytest.param(None, id="none"),
        pytest.param(b'{"type": "result"}', id="bytes"),
        pytest.param({"type": "assistant", "tags": {1, 2}}, id="set-value"),
        pytest.param({"type": "assistant", "obj": _Opaque()}, id="object-value"),
        pytest.param({1: "int key"}, id="int-key"),
        pytest.param(_deep(10_000), id="nested-10000"),
    ],
)
async def test_an_odd_item_from_read_messages_is_a_typed_error(odd: Any) -> None:
    transport = Yields(odd)
    with trio.fail_after(10), pytest.raises(tc.ClaudeSDKError) as info:
        await _drain_iterator(transport)
    _not_a_group(info.value)
    assert "read_messages()" in str(info.value)
    assert transport.calls.count("close") == 1


async def test_a_nan_in_a_message_does_not_end_the_session() -> None:
    message = _assistant("x")
    message["score"] = float("nan")
    transport = Yields(message)
    with trio.fail_after(10):
        messages = await _drain_iterator(transport)
    assert isinstance(messages[-1], tc.ResultMessage)


async def test_a_50_mb_message_goes_through() -> None:
    transport = Yields(_assistant("x" * (50 * 1024 * 1024)))
    with trio.fail_after(10):
        messages = await _drain_iterator(transport)
    texts = [m for m in messages if isinstance(m, tc.AssistantMessage)]
    assert len(texts) == 1 and isinstance(messages[-1], tc.ResultMessage)


@pytest.mark.parametrize("kind", ["list", "sync-generator"])
async def test_read_messages_that_is_no_async_iterator_is_a_typed_error(kind: str) -> None:
    class Wrong(Remote):
        def read_messages(self) -> Any:
            if kind == "list":
                return [_init(), _result()]
            return (m for m in [_init(), _result()])

    transport = Wrong()
    with trio.fail_after(10), pytest.raises(tc.ClaudeSDKError) as info:
        await _drain_iterator(transport)
    _not_a_group(info.value)
    assert transport.calls.count("close") == 1


async def test_stop_async_iteration_inside_read_messages_is_a_typed_error() -> None:
    class Stops(Remote):
        def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
            return [_init(), {"__stop": True}]

        async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
            async for message in self._recv:
                if "__stop" in message:
                    raise StopAsyncIteration
                yield message

    transport = Stops()
    with trio.fail_after(10), pytest.raises(tc.ClaudeSDKError) as info:
        await _drain_iterator(transport)
    _not_a_group(info.value)
    assert transport.calls.count("close") == 1


@pytest.mark.parametrize("form", ["iterator", "session"])
async def test_keyboard_interrupt_from_read_messages_comes_out_bare_and_promptly(
    form: str, caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    class Interrupted(Remote):
        def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
            return [_init(), {"__kbi": True}]

        async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
            async for message in self._recv:
                if "__kbi" in message:
                    raise KeyboardInterrupt
                yield message

    transport = Interrupted()
    start = trio.current_time()
    with trio.fail_after(60), pytest.raises(KeyboardInterrupt):
        if form == "iterator":
            await _drain_iterator(transport)
        else:
            async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
                await session.run("hi")
    assert transport.calls.count("close") == 1
    # read_messages() is over: nothing to wait for (not close_timeout, then SIGTERM's and
    # SIGKILL's waits for an "exit" that never comes), and no "could not be reaped" error.
    assert trio.current_time() - start < 5, trio.current_time() - start
    assert "could not be reaped" not in caplog.text


@pytest.mark.parametrize("where", ["read_messages", "write"])
async def test_an_exception_whose_str_raises_is_still_a_typed_error(
    where: str, autojump_clock: trio.testing.MockClock
) -> None:
    class Broken(Remote):
        def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
            return (
                [_init(), {"__broken": True}] if where == "read_messages" else super().turn(frame)
            )

        async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
            async for message in self._recv:
                if "__broken" in message:
                    raise BrokenStr
                yield message

        async def write(self, data: str) -> None:
            if where == "write" and json.loads(data)["type"] == "user":
                raise BrokenStr
            await super().write(data)

        async def close(self) -> None:
            await super().close()
            if where == "close":
                raise BrokenStr

        async def end_input(self) -> None:
            await super().end_input()
            if where == "end_input":
                raise BrokenStr

    transport = Broken()
    with trio.fail_after(10):
        try:
            messages = await _drain_iterator(transport, tc.ClaudeAgentOptions(close_timeout=1))
        except Exception as exc:
            assert isinstance(exc, tc.ClaudeSDKError), repr(exc)
            assert where in ("read_messages", "write")
        else:
            assert where in ("close", "end_input")
            assert isinstance(messages[-1], tc.ResultMessage)
    assert transport.calls.count("close") == 1


# ============================================================ the iterator form's gating


class LateAnswer(Remote):
    """The CLI asks can_use_tool but does not wait for the answer (it gave up on it: a hook
    or permission timeout on its side) and finishes the turn; the late answer gets no reply.
    Then it waits for its next input, as a CLI with open stdin does."""

    def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        return [_init(), _ask(), _assistant("went on without it"), _result("done")]

    async def write(self, data: str) -> None:
        frame = json.loads(data)
        if frame["type"] == "control_response":
            self.calls.append("write")
            self.frames.append(frame)
            await trio.lowlevel.checkpoint()
            return  # too late: ignored
        await super().write(data)


async def test_a_pull_started_while_a_callback_runs_does_not_hold_back_the_result(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # While can_use_tool runs, the pump keeps reading (wanted() is true while busy): the
    # assistant message and the result arrive, then a pull starts that nothing will answer.
    # When the callback is done the pump has what it wants, but its nursery waits for that
    # shielded pull (abandoned at the pump's deadline only: none in a turn without
    # stall_timeout): the result already read is never handed out.
    transport = LateAnswer()

    async def slow_policy(tool: str, input: dict[str, Any], context: Any) -> Any:
        await trio.sleep(2)
        return tc.PermissionResultAllow()

    options = tc.ClaudeAgentOptions(can_use_tool=slow_policy)
    seen: list[tuple[float, Any]] = []

    async def consume() -> None:
        async for message in tc.query(prompt=_prompts(), options=options, transport=transport):
            seen.append((trio.current_time(), message))

    async def the_remote_end_gives_up() -> None:
        # Far later, the channel drops (read_messages() ends): only that unblocks a hang.
        await trio.sleep(1000)
        transport.shut_down()

    start = trio.current_time()
    with trio.fail_after(5000):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(the_remote_end_gives_up)
            await consume()
            nursery.cancel_scope.cancel()
    results = [at - start for at, m in seen if isinstance(m, tc.ResultMessage)]
    assert results, [m for _, m in seen]
    assert results[0] < 30, f"the result came {results[0]:g} s after the start (held back)"
    assert transport.calls.count("close") == 1


async def test_control_requests_in_the_iterator_form_answer_with_a_slow_remote(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The remote end answers the permission, then is slow (a sleep inside read_messages()):
    # the answer must be written while a pull is pending, and the turn completes.
    class Slow(Remote):
        def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
            return [_init(), _ask()]

        async def write(self, data: str) -> None:
            frame = json.loads(data)
            if frame["type"] == "control_response":
                self.frames.append(frame)
                self.emit(_sleep(3), _assistant("allowed"), _sleep(3), _result())
                await trio.lowlevel.checkpoint()
                return
            await super().write(data)

    asked: list[str] = []

    async def policy(tool: str, input: dict[str, Any], context: Any) -> Any:
        asked.append(tool)
        await trio.sleep(1)
        return tc.PermissionResultAllow()

    transport = Slow()
    options = tc.ClaudeAgentOptions(can_use_tool=policy)
    with trio.fail_after(60):
        messages = [
            m async for m in tc.query(prompt=_prompts(), options=options, transport=transport)
        ]
    assert asked == ["Bash"] and isinstance(messages[-1], tc.ResultMessage)
    answers = [f for f in transport.frames if f["type"] == "control_response"]
    assert answers and answers[0]["response"]["response"]["behavior"] == "allow"
    assert transport.calls.count("close") == 1


# ================================================================ connect() and close()


async def test_hanging_end_input_and_close_keep_the_shutdown_bound(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # shutdown_process promises about close_timeout + term_timeout + 5 s whatever the
    # process does; end_input() and close() are bounded at 5 s each, on top of it.
    class Stuck(Remote):
        async def end_input(self) -> None:
            self.calls.append("end_input")
            await trio.sleep_forever()

        async def close(self) -> None:
            self.calls.append("close")
            await trio.sleep_forever()

    for form in ("iterator", "session"):
        transport = Stuck()
        options = tc.ClaudeAgentOptions(close_timeout=1, interrupt_timeout=1)
        start = trio.current_time()
        with trio.fail_after(120):
            if form == "iterator":
                async with tc.query(prompt="hi", transport=transport, options=options) as q:
                    async for _ in q:
                        pass
            else:
                async with tc.open_session(attrs.evolve(options, transport=transport)) as s:
                    await s.run("hi")
        elapsed = trio.current_time() - start
        assert elapsed <= 1 + 1 + 5 + 1, (form, elapsed)
        assert transport.calls.count("close") == 1, form


async def test_a_transport_used_again_is_refused_or_works(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Official transports are single-use; a second session on the same object connects a
    # closed transport. Either a typed error or a working session, never a hang or a raw
    # error from inside the transport.
    transport = Remote()
    with trio.fail_after(60):
        first = await _drain_iterator(transport)
        assert isinstance(first[-1], tc.ResultMessage)
        try:
            await _drain_iterator(transport)
        except Exception as exc:
            assert isinstance(exc, tc.ClaudeSDKError), repr(exc)


async def test_a_transport_shared_by_two_sessions_at_once_is_refused_or_works(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = Remote()
    errors: list[BaseException] = []

    async def one() -> None:
        try:
            await _drain_iterator(transport)
        except Exception as exc:
            errors.append(exc)

    with trio.fail_after(200):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(one)
            nursery.start_soon(one)
    for error in errors:
        assert isinstance(error, tc.ClaudeSDKError), repr(error)


async def test_query_after_the_remote_cli_exited_is_a_typed_error_not_a_hang(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The remote CLI ends its output after one turn (read_messages() ends: close() is
    # called). The next client.query() must fail (the CLI has exited), not wait for ever:
    # write() is refused (the transport is closed), the session's writer stops, and
    # Session.send() waits in _until_written for a wake-up only a successful write gives.
    class OneTurn(Remote):
        async def write(self, data: str) -> None:
            if "close" in self.calls:
                self.calls.append("write after close")
            await super().write(data)
            if json.loads(data)["type"] == "user":
                self.shut_down()  # the remote CLI exits after its turn

    transport = OneTurn()
    outcome: list[BaseException] = []
    with trio.fail_after(120):
        async with tc.ClaudeSDKClient(transport=transport) as client:
            await client.query("one")
            [m async for m in client.receive_response()]
            with trio.move_on_after(30):
                try:
                    await client.query("two")
                    async for _ in client.receive_response():
                        pass
                except Exception as exc:
                    outcome.append(exc)
    assert outcome, "client.query() after the CLI exited hung"
    assert isinstance(outcome[0], tc.ClaudeSDKError), repr(outcome[0])
    assert "write after close" not in transport.calls
    assert transport.calls.count("close") == 1


# ============================================================== cancellation, seeded


@pytest.mark.parametrize("form", ["iterator", "session", "client"])
async def test_a_deadline_at_any_point_leaves_nothing_behind(
    form: str, autojump_clock: trio.testing.MockClock
) -> None:
    class Paced(Remote):
        async def connect(self) -> None:
            self.calls.append("connect")
            await trio.sleep(0.5)
            self.calls.append("connected")

        def turn(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                _sleep(0.5),
                _init(),
                _ask(),
            ]

        async def write(self, data: str) -> None:
            frame = json.loads(data)
            await trio.sleep(0.1)
            if frame["type"] == "control_response":
                self.frames.append(frame)
                self.emit(_sleep(0.5), _assistant("a"), _sleep(0.5), _result())
                return
            await super().write(data)

    async def policy(tool: str, input: dict[str, Any], context: Any) -> Any:
        await trio.sleep(0.7)
        return tc.PermissionResultAllow()

    for tenth in range(0, 60, 3):
        transport = Paced()
        options = tc.ClaudeAgentOptions(
            can_use_tool=policy, close_timeout=1, interrupt_timeout=1, transport=transport
        )
        start = trio.current_time()
        with trio.fail_after(60):
            with trio.move_on_after(tenth / 10):
                if form == "iterator":
                    async for _ in tc.query(prompt=_prompts(), options=options):
                        pass
                elif form == "session":
                    async with tc.open_session(options) as session:
                        await session.run("go")
                else:
                    async with tc.ClaudeSDKClient(options) as client:
                        await client.query("go")
                        async for _ in client.receive_response():
                            pass
        elapsed = trio.current_time() - start
        assert elapsed < tenth / 10 + 12, (tenth, elapsed)
        if "connected" in transport.calls:
            assert transport.calls.count("close") == 1, (tenth, transport.calls)
            assert transport.finalized, tenth  # read_messages()'s generator was not left open
        assert transport.calls.count("close") <= 1, (tenth, transport.calls)
