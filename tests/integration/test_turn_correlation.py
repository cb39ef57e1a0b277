"""receive_response() ends on the result of *its* turn, not on a background task's result."""

from __future__ import annotations

import trio
import trio.testing

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    Emit,
    FakeCLITransport,
    FakeScript,
    FakeTurn,
    Result,
    Sleep,
    Text,
)

BACKGROUND_TEXT = {
    "type": "assistant",
    "message": {"role": "assistant", "model": "m", "content": [{"type": "text", "text": "bg"}]},
    "parent_tool_use_id": None,
}
BACKGROUND_RESULT = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "result": "background task done",
    # The CLI's own turn (a task notification), not one of ours.
    "user_message_uuids": ["00000000-0000-4000-8000-00000000b9b9"],
}


def script() -> FakeScript:
    first = FakeTurn(
        steps=[
            Text("a"),
            Result(text="one"),
            Sleep(1),
            Emit(BACKGROUND_TEXT),
            Emit(BACKGROUND_RESULT),
        ]
    )
    return FakeScript(turns=[first, FakeTurn.reply("two")])


async def test_a_background_result_does_not_end_the_next_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeCLITransport(script())
    async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        assert (await session.run("first")).text == "one"
        await trio.sleep(5)  # the background result arrives between the turns
        turn = await session.run("second")
        assert turn.text == "two"
        results = [m for m in turn.messages if isinstance(m, tc.ResultMessage)]
        assert [r.result for r in results] == ["background task done", "two"]
    assert transport.fake is not None
    uuids = [f.get("uuid") for f in transport.fake.received if f["type"] == "user"]
    assert len(uuids) == 2 and all(uuids) and uuids[0] != uuids[1]


async def test_the_caller_can_choose_the_prompt_uuid() -> None:
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("x")]))
    async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        await session.send("hi", uuid="11111111-1111-4111-8111-111111111111")
        got = [m async for m in session.receive_response()]
        result = got[-1]
        assert isinstance(result, tc.ResultMessage)
        assert result.raw["user_message_uuids"] == ["11111111-1111-4111-8111-111111111111"]


async def test_results_without_correlation_data_still_end_turns() -> None:
    # Older CLIs send no user_message_uuids: the oldest open turn ends, as before.
    plain = {"type": "result", "subtype": "success", "is_error": False, "result": "plain"}
    transport = FakeCLITransport(FakeScript(turns=[FakeTurn(steps=[Emit(plain)])]))
    async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        assert (await session.run("hi")).text == "plain"
        assert (await session.run("again")).text == "ok"


async def test_a_uuid_less_result_from_a_uuid_reporting_cli_is_the_clis_own_turn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Seen with CLI 2.1.329: after a background job the CLI runs a turn of its own whose result
    # lists no user_message_uuids. It must not end the caller's next turn.
    own_turn = {"type": "result", "subtype": "success", "is_error": False, "result": "own"}
    first = FakeTurn(steps=[Text("a"), Result(text="one"), Sleep(1), Emit(own_turn)])
    transport = FakeCLITransport(FakeScript(turns=[first, FakeTurn.reply("two")]))
    async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        assert (await session.run("first")).text == "one"
        await trio.sleep(5)
        turn = await session.run("second")
        assert turn.text == "two"
        assert [m.result for m in turn.messages if isinstance(m, tc.ResultMessage)] == [
            "own",
            "two",
        ]


async def test_background_results_read_through_receive_messages_are_forgotten(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Background results are tracked by identity until delivered; a stale entry could make a
    # later result (reusing the id) look like a background one and hang receive_response().
    transport = FakeCLITransport(script())
    async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        assert (await session.run("first")).text == "one"
        async for message in session.receive_messages():
            if isinstance(message, tc.ResultMessage):
                assert message.result == "background task done"
                break
        assert session._proto._background == {}
        assert (await session.run("second")).text == "two"


async def test_a_result_naming_a_stranger_does_not_stop_uuid_less_results_ending_turns() -> None:
    # A confused CLI names a uuid that is no prompt of ours, then (like an older CLI) names
    # none: its uuid-less results must still end the caller's turns, or every later
    # receive_response() waits for the CLI to exit.
    stranger = {**BACKGROUND_RESULT, "result": "stranger"}
    plain = {"type": "result", "subtype": "success", "is_error": False, "result": "plain"}
    first = FakeTurn(steps=[Emit(stranger), Emit(plain)])
    second = FakeTurn(steps=[Emit({**plain, "result": "again"})])
    transport = FakeCLITransport(FakeScript(turns=[first, second]))
    async with tc.open_session(tc.ClaudeAgentOptions(transport=transport)) as session:
        with trio.fail_after(5):
            turn = await session.run("hi")
            assert [m.result for m in turn.messages if isinstance(m, tc.ResultMessage)] == [
                "stranger",
                "plain",
            ]
            assert (await session.run("again")).text == "again"
