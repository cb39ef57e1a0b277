"""Hostile or buggy CLI frames on the *eager* paths of the reader: sessions with a ``budget``
(every message decoded and charged as it is read), with ``telemetry`` (every message observed by
the trace), and with a ``session_store`` (``transcript_mirror`` frames queued by the reader).

Each test fails on the code it was written against; what was checked and found fine is listed
in the review report, not tested here again.
"""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import trio_claude as tc
from tests._helpers import options_for
from trio_claude.testing.fake_cli import Emit, FakeScript, FakeTurn, Raw, Result, Sleep, Step

from ._support import ManualTransport
from ._support import metered_assistant_frame as assistant

SID = "11111111-1111-4111-8111-111111111111"


# ------------------------------------------------------------------------ the mirror


def _store_options(
    tmp_path: Path, script: FakeScript, store: tc.InMemorySessionStore
) -> tc.ClaudeAgentOptions:
    options, _ = options_for(
        script,
        session_store=store,
        env={"CLAUDE_CONFIG_DIR": str(tmp_path / "config")},
        budget=tc.Budget(max_usd=100.0),
        stall_timeout=60,
    )
    return options


async def test_a_deeply_nested_transcript_entry_does_not_stop_the_session(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A ``transcript_mirror`` entry nested ~1000 deep is valid JSON that ``parse_line`` reads
    (orjson's limit is 1024), but ``TranscriptMirror.add`` sizes each entry with
    ``dumps_from_cli``: orjson refuses anything deeper than 254, the stdlib fallback then hits
    Python's recursion limit, and the ``RecursionError`` escapes the reader, which ends the whole
    session with ``SessionClosedError("... handling the CLI's output failed (RecursionError
    ...)")``. One odd transcript line must not kill the session: the entry should be reported
    (a ``mirror_error``/warning) and the turn go on."""
    file_path = str(tmp_path / "config" / "projects" / "p" / f"{SID}.jsonl")
    depth = 1000
    entry = "[" * depth + '{"uuid":"u1"}' + "]" * depth
    frame = '{"type":"transcript_mirror","filePath":' + json.dumps(file_path)
    line = frame + ',"entries":[' + entry + "]}\n"
    script = FakeScript(turns=[FakeTurn(steps=[Raw(line), Result(text="hi")])])
    store = tc.InMemorySessionStore()
    async with tc.open_session(_store_options(tmp_path, script, store)) as session:
        with trio.fail_after(30):
            assert (await session.run("go")).text == "hi"
            assert (await session.run("again")).text == "ok"


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param({"entries": {"uuid": "u1", "type": "user"}}, id="entries-an-object"),
        pytest.param({"entries": "u1"}, id="entries-a-string"),
        pytest.param({"filePath": None, "entries": [{"uuid": "u1"}]}, id="filePath-null"),
    ],
)
async def test_a_malformed_transcript_mirror_frame_is_logged_not_dropped_silently(
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
    frame: dict[str, Any],
) -> None:
    """``TranscriptMirror.add`` is meant to log a malformed frame ("ignoring a malformed
    transcript_mirror frame ..."), but ``ClaudeProtocol._on_transcript_mirror`` has already
    replaced any ``entries`` that is not a list by ``[]``, and ``add`` returns silently when
    ``entries`` is empty or ``filePath`` is falsy. So transcript entries the CLI sent (an
    object, a string, or entries with no ``filePath``) vanish from the store without a word:
    the warning branch for entries is dead code."""
    file_path = str(tmp_path / "config" / "projects" / "p" / f"{SID}.jsonl")
    mirror = {"type": "transcript_mirror", "filePath": file_path, **frame}
    script = FakeScript(turns=[FakeTurn(steps=[Emit(mirror), Result(text="hi")])])
    store = tc.InMemorySessionStore()
    with caplog.at_level(logging.DEBUG, logger="trio_claude"):
        async with tc.open_session(_store_options(tmp_path, script, store)) as session:
            with trio.fail_after(30):
                assert (await session.run("go")).text == "hi"
                assert (await session.run("again")).text == "ok"
    warned = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and "transcript_mirror" in r.getMessage()
    ]
    assert warned, "a transcript_mirror frame carrying entries was dropped without a warning"


# ------------------------------------------------------------------------ the budget


async def test_a_background_result_mid_turn_neither_double_charges_nor_skips(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``UsageMeter.result`` clears the per-message record (``_per_message``,
    ``_turn_tokens``) at *every* result, a background one (naming no open turn) included. A
    background result read in the middle of a live turn therefore

    - is charged ``max(0, its tokens - the live turn's tokens so far)``: its own 7 tokens are
      lost (skipped);
    - makes the live turn's next line of the same API message (the CLI writes one assistant
      line per content block, repeating the usage) look new: its 100 tokens and a model turn
      are charged a second time.

    The fake sent 100 + 7 tokens and one model response; the budget recorded 200 and 2. Now
    the background result adds its USD (the total is cumulative, so nothing is lost there) and
    leaves the live turn's record alone; its own tokens are not told apart from the turn's
    while one is metered, so they are not counted (an undercount of the background's tokens,
    never a second charge)."""
    budget = tc.Budget(max_tokens=1_000_000)
    background = {"user_message_uuids": ["not-a-prompt-of-ours"], "usage": {"input_tokens": 7}}
    steps: list[Step] = [
        Emit(assistant("a", {"input_tokens": 100}, "msg_A")),
        Result(text="background", extra=background),
        Emit(assistant("b", {"input_tokens": 100}, "msg_A")),  # same API message, next block
        Result(text="hi", usage={"input_tokens": 100}),
    ]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), budget=budget)
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            assert (await session.run("go")).text == "hi"
            spent = budget.spent
            assert (await session.run("again")).text == "ok"
    assert (spent.tokens, spent.turns) == (100, 1)


async def test_id_less_assistant_messages_are_charged_whether_or_not_the_caller_keeps_them(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``Session._charge`` keys an assistant message without ``message.id`` by
    ``str(id(message))``. Once the caller has taken a message and dropped it, CPython hands the
    next message the same address, so ``UsageMeter.assistant`` takes it for the same message
    seen again (tokens not above those charged): nothing is charged. 20 distinct model
    responses of 10 tokens each are charged as ~2 turns / ~20 tokens to a consumer that does
    not keep messages (and 20 / 200 to ``run()``, which keeps them)."""
    budget = tc.Budget(max_tokens=1_000_000)
    transport = ManualTransport()
    options = tc.ClaudeAgentOptions(transport=transport, budget=budget)
    count = 20

    async def cli() -> None:
        await transport.child_ready.wait()
        child = transport.child
        assert child is not None
        await child.handshake()
        await child.read_frame()  # the prompt
        for n in range(count):
            await child.write_frame(assistant(f"part {n}", {"input_tokens": 10}, None))
            await trio.sleep(1)  # the consumer takes (and drops) each one before the next
        await child.write_frame(
            {
                "type": "result",
                "subtype": "success",
                "is_error": False,
                "num_turns": count,
                "result": "done",
                "total_cost_usd": 0.0,
            }
        )
        await child.exit_at_eof()

    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(cli)
            async with tc.open_session(options) as session:
                await session.send("go")
                async for message in session.receive_response():
                    del message
                    gc.collect()
    assert (budget.spent.tokens, budget.spent.turns) == (10 * count, count)


async def test_negative_token_counts_do_not_uncharge_the_budget(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``usage_tokens`` counts any ``int``, negative ones included, and
    ``UsageMeter.assistant`` passes the sum on: an assistant message reporting
    ``input_tokens: -1000`` *lowers* ``budget.spent.tokens`` (to -1000). The next response's
    600 tokens then leave the budget at -400, under its 500-token limit, so the turn is not
    stopped as it streams (only its result, reconciled, crosses the limit). A result's USD is
    clamped at 0 (``max(0.0, ...)``); tokens are not."""
    budget = tc.Budget(max_tokens=500)
    steps: list[Step] = [
        Emit(assistant("a", {"input_tokens": -1000}, "msg_A")),
        Emit(assistant("b", {"input_tokens": 600}, "msg_B")),
        Sleep(5),
        Result(text="hi", usage={"input_tokens": 600}),
    ]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), budget=budget)
    seen: list[int] = []
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            await session.send("go")
            with pytest.raises(tc.BudgetExceededError):
                async for message in session.receive_response():
                    if isinstance(message, tc.AssistantMessage):
                        seen.append(budget.spent.tokens)
    assert min(seen) >= 0, f"the budget was un-charged: spent.tokens went {seen}"
    assert seen[-1] >= 600


async def test_an_assistant_message_with_one_malformed_block_is_still_charged(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A ``tool_use`` block without ``id`` (or with a non-string one) makes the whole assistant
    frame an ``UnknownMessage`` (``InvalidLine`` logged). ``Session._charge`` only charges
    ``AssistantMessage``: the model response's tokens and its model turn are skipped, though
    its ``message.usage`` is perfectly readable in ``UnknownMessage.raw``. Its 50 tokens and 1
    turn never reach the budget (the result carries no usage to reconcile them)."""
    budget = tc.Budget(max_tokens=1_000_000)
    bad_block = {"type": "tool_use", "name": "Bash", "input": {}}  # no "id"
    steps: list[Step] = [
        Emit(assistant("", {"input_tokens": 50}, "msg_A", **bad_block)),
        Result(text="hi", usage={}),
    ]
    options, _ = options_for(FakeScript(turns=[FakeTurn(steps=steps)]), budget=budget)
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            turn = await session.run("go")
            assert turn.text == "hi"
            assert any(isinstance(m, tc.UnknownMessage) for m in turn.messages)
            spent = budget.spent
            assert (await session.run("again")).text == "ok"
    assert (spent.tokens, spent.turns) == (50, 1)


# ------------------------------------------------------------------------ telemetry


async def test_a_negative_total_cost_does_not_skew_the_traced_costs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """``SessionTrace._result`` takes a total lower than the last one for a new process
    ("starts over") and counts it whole, so ``total_cost_usd: -1`` is traced as a turn that
    cost -1 USD, and the next turn (cumulative total 0.5001) as one that cost 1.5001 USD; the
    session span's ``claude.cost_usd`` is 0.7501. The budget, charged from the same frames by
    ``UsageMeter`` (which ignores a total that went down), says 0.5001, as the fake spent. The
    trace and the budget must agree, and no turn costs less than nothing."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    budget = tc.Budget(max_usd=10.0)
    script = FakeScript(
        turns=[
            FakeTurn(steps=[Result(text="a", total_cost_usd=0.25)]),
            FakeTurn(steps=[Result(text="b", extra={"total_cost_usd": -1})]),
            FakeTurn(steps=[Result(text="c", total_cost_usd=0.25)]),
        ]
    )
    options, _ = options_for(script, budget=budget, telemetry=provider)
    async with tc.open_session(options) as session:
        with trio.fail_after(30):
            for prompt, text in (("x", "a"), ("y", "b"), ("z", "c")):
                assert (await session.run(prompt)).text == text
    spans = exporter.get_finished_spans()
    turn_costs: list[Any] = [
        dict(s.attributes or {}).get("claude.cost_usd") for s in spans if s.name == "claude.turn"
    ]
    (session_span,) = [s for s in spans if s.name == "claude.session"]
    assert all(c is None or c >= 0 for c in turn_costs), turn_costs
    session_cost: Any = dict(session_span.attributes or {})["claude.cost_usd"]
    assert session_cost == pytest.approx(budget.spent.usd)
