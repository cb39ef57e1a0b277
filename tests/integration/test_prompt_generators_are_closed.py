"""An async generator of prompts that the SDK stops reading before its end is closed by the
SDK, in the task that read it, before the call returns: its ``finally`` runs then, as
``contextlib.aclosing`` would run it, not later in trio's finalizer (a system task), or never
while the application still holds the generator. Other async iterables (a memory channel) stay
open: they are the application's. In all three places prompts are read: ``stream_input`` (the
session form of ``query()``), the iterator form of ``query()``, ``ClaudeSDKClient.query()``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from tests.fuzz.test_exit_after_error_result_properties import SID, CannedCLI
from trio_claude.testing.fake_cli import Exit, FakeScript, FakeTurn, Result, Text


class Feed:
    """A generator of prompts that records how far it got and whether it was closed."""

    def __init__(
        self, count: int = 3, *, gap: float = 0, then: str = "wait", cleanup: str = "quick"
    ) -> None:
        self.count = count
        self.gap = gap  # seconds between prompts
        self.then = then  # after the prompts: "wait" forever, or "end"
        self.cleanup = cleanup  # its finally: "quick", "slow" (sleeps 100 s) or "fails"
        self.yielded = 0
        self.closed = False

    async def prompts(self) -> AsyncIterator[dict[str, Any]]:
        try:
            for n in range(self.count):
                if n and self.gap:
                    await trio.sleep(self.gap)
                self.yielded += 1
                yield {"type": "user", "message": {"role": "user", "content": f"p{n}"}}
            if self.then == "wait":
                await trio.sleep_forever()
        finally:
            if self.cleanup == "slow":
                await trio.sleep(100)
            self.closed = True
            if self.cleanup == "fails":
                raise RuntimeError("cleanup failed")


def _answers(n: int) -> FakeScript:
    return FakeScript(turns=[FakeTurn((Text(f"a{k}"), Result(text=f"a{k}"))) for k in range(n)])


def _dies_after_one_turn() -> FakeScript:
    return FakeScript(turns=[FakeTurn((Text("a"), Result(text="a"), Exit(1)))])


async def test_leaving_the_session_form_early_does_not_wait_for_the_feed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The block is left after the first result while the feed still waits for its next
    prompt: the feed is cancelled (the block waited for it for ever)."""
    feed = Feed()
    options, _ = options_for(_answers(3))
    with trio.fail_after(60):
        async with tc.query(prompt=feed.prompts(), options=options) as messages:
            async for message in messages:
                if isinstance(message, tc.ResultMessage):
                    break
    assert feed.closed


async def test_the_session_form_closes_the_generator_it_left(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The block is left after the first result while the feed is still sending (a thousand
    prompts): the generator, held at a ``yield``, is closed before the block returns."""
    feed = Feed(count=1000, then="end")
    gen = feed.prompts()
    options, _ = options_for(_answers(1000))
    async with tc.query(prompt=gen, options=options) as messages:
        async for message in messages:
            if isinstance(message, tc.ResultMessage):
                break
    assert 1 <= feed.yielded < 1000
    assert feed.closed  # with `gen` still referenced here: nothing else would close it


async def test_the_iterator_form_closes_it_on_aclose(
    autojump_clock: trio.testing.MockClock,
) -> None:
    feed = Feed()
    gen = feed.prompts()
    result = {"type": "result", "subtype": "success", "is_error": False, "session_id": SID}
    options = tc.ClaudeAgentOptions(transport=CannedCLI([result], 0, split=False))
    async with contextlib.aclosing(tc.query(prompt=gen, options=options)) as messages:
        async for _ in messages:
            break
    assert feed.yielded == 1
    assert feed.closed


async def test_the_client_closes_it_when_a_send_fails(
    autojump_clock: trio.testing.MockClock,
) -> None:
    feed = Feed(gap=10)
    gen = feed.prompts()
    options, _ = options_for(_dies_after_one_turn())
    async with tc.ClaudeSDKClient(options) as client:
        with pytest.raises(tc.ClaudeSDKError):
            await client.query(gen)
        assert feed.yielded == 2
        assert feed.closed


async def test_a_memory_channel_is_left_open(autojump_clock: trio.testing.MockClock) -> None:
    send, receive = trio.open_memory_channel[dict[str, Any]](10)
    options, _ = options_for(_answers(2))
    async with send, receive, tc.ClaudeSDKClient(options) as client:
        send.send_nowait({"type": "user", "message": {"role": "user", "content": "one"}})
        with trio.move_on_after(5):
            await client.query(receive)
        send.send_nowait({"type": "user", "message": {"role": "user", "content": "two"}})
        assert receive.receive_nowait()["message"]["content"] == "two"


async def test_a_slow_cleanup_is_bounded(autojump_clock: trio.testing.MockClock) -> None:
    """The generator's ``finally`` sleeps 100 s; the close gives it 5 (virtual) seconds."""
    feed = Feed(gap=10, cleanup="slow")
    options, _ = options_for(_dies_after_one_turn())
    async with tc.ClaudeSDKClient(options) as client:
        started = trio.current_time()
        with pytest.raises(tc.ClaudeSDKError):
            await client.query(feed.prompts())
        assert trio.current_time() - started == pytest.approx(15)  # the gap, then 5 s
    assert not feed.closed  # its sleep was cut short: the line after it never ran


async def test_a_failing_cleanup_is_logged_and_the_first_error_kept(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    feed = Feed(gap=10, cleanup="fails")
    options, _ = options_for(_dies_after_one_turn())
    caplog.set_level(logging.WARNING, logger="trio_claude")
    async with tc.ClaudeSDKClient(options) as client:
        with pytest.raises(tc.ClaudeSDKError):
            await client.query(feed.prompts())
    assert feed.closed
    assert any("prompt generator failed while closing" in r.getMessage() for r in caplog.records)
