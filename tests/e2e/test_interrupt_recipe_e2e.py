"""docs/testing.md: after an interrupt the CLI merges the interrupted prompt into the next
request, so the next prompt's step must be matched on the newest prompt (the recipe)."""

from __future__ import annotations

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Match, Turn

INTERRUPTED = "[Request interrupted by user]\n"
SLOW = "slow " * 400


def newest_prompt_contains(text: str) -> Match:
    # The recipe of docs/testing.md, verbatim.
    return Match(predicate=lambda r: text in r.last_user_text.rpartition(INTERRUPTED)[2])


async def interrupt_then_ask(session: tc.Session, *, wait_for_stream: bool) -> str:
    await session.send("slow-1. go")
    if wait_for_stream:  # the model is streaming when the interrupt lands
        async for message in session.receive_messages():
            if isinstance(message, tc.StreamEvent):
                break
    await session.interrupt()
    async for _ in session.receive_response():
        pass
    return (await session.run("prompt-2. hi")).text


async def test_the_next_request_carries_the_interrupted_prompt(claude_env: ClaudeTestEnv) -> None:
    for wait_for_stream in (False, True):
        name = f"merged-{wait_for_stream}"
        script = [
            Turn(SLOW, delay=0.01, match=newest_prompt_contains("slow-1.")),
            Turn("answer 2", match=newest_prompt_contains("prompt-2.")),
        ]
        options = claude_env.options(script, name=name, include_partial_messages=True)
        async with tc.open_session(options) as session:
            assert await interrupt_then_ask(session, wait_for_stream=wait_for_stream) == "answer 2"
        last = claude_env.model.turn_requests(name)[-1]
        assert last.last_user_text == "slow-1. go\n[Request interrupted by user]\nprompt-2. hi"


async def test_a_plain_match_on_the_earlier_prompt_can_answer_the_next_one(
    claude_env: ClaudeTestEnv,
) -> None:
    script = [
        Turn(SLOW, delay=0.01, match=Match(last_user_text_contains="slow-1.")),
        Turn("answer 2", match=Match(last_user_text_contains="prompt-2.")),
    ]
    async with tc.open_session(claude_env.options(script, name="plain")) as session:
        text = await interrupt_then_ask(session, wait_for_stream=False)
    served_slow_first = len(claude_env.model.turn_requests("plain")) == 2
    if not served_slow_first:
        # The interrupt landed before the model was called: the slow step was still pending,
        # and it matched prompt 2's merged request first (the pitfall the recipe avoids).
        assert text == SLOW.strip() or text.startswith("slow slow")
    else:
        assert text == "answer 2"
