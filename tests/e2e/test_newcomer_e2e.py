"""What the docs promise a newcomer, checked with the real CLI (issue 15, item 7)."""

from __future__ import annotations

from pathlib import Path

import trio_claude as tc
from trio_claude.testing import Turn, open_claude_test_env


async def test_session_id_is_known_from_the_first_turn_even_when_resuming(tmp_path: Path) -> None:
    # docs/getting-started.md, "Good to know"; and reusing a test env's directory resumes a
    # conversation from a new env (docs/testing.md, "Without pytest").
    async with (
        open_claude_test_env(tmp_path) as env,
        tc.open_session(env.options([Turn("first answer")])) as session,
    ):
        assert session.session_id is None
        turn = await session.run("remember the word 'tangerine'")
        assert session.session_id == turn.session_id and turn.session_id
        first_id = turn.session_id
    async with open_claude_test_env(tmp_path) as env:  # the same directory, a new fake model
        async with tc.open_session(env.options([Turn("resumed")], resume=first_id)) as session:
            assert session.session_id is None  # until the CLI reports it, at the first turn
            turn = await session.run("what was the word?")
            assert turn.text == "resumed"
            assert session.session_id == first_id
        (request,) = env.model.turn_requests("t1")
        assert "tangerine" in str(request.body)


async def test_an_unknown_model_reads_as_an_api_refusal(tmp_path: Path) -> None:
    from trio_claude.testing import HTTPError

    async with open_claude_test_env(tmp_path) as env:
        options = env.options([HTTPError(404, repeat=True)], max_turns=1)
        try:
            await tc.ask("hi", options=options)
        except tc.ResultError as error:
            assert "(success)" not in str(error), str(error)
            assert "the model API refused the request: HTTP 404" in str(error)
        else:
            raise AssertionError("a 404 from the model API must be a ResultError")
