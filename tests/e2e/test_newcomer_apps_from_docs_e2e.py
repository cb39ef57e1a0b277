"""Small applications a newcomer writes from README.md, docs/*.md and examples/ alone.

Each test is one realistic app, written the way the docs show it (names, argument orders,
return types, error types), run with the real pinned ``claude`` CLI against the fake model.
A test that fails records a place where the docs and the behaviour disagree.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, Match, Text, ToolUse, Turn

INTERRUPTED = "[Request interrupted by user]\n"


def newest_prompt_contains(text: str) -> Match:
    # docs/testing.md, "Recipes": match on the text after the last interrupt marker.
    return Match(predicate=lambda r: text in r.last_user_text.rpartition(INTERRUPTED)[2])


def texts(messages: Any) -> str:
    out: list[str] = []
    for message in messages:
        if isinstance(message, tc.AssistantMessage):
            out.extend(b.text for b in message.content if isinstance(b, tc.TextBlock))
    return "".join(out)


def tool_results(messages: Any) -> list[tc.ToolResultBlock]:
    found: list[tc.ToolResultBlock] = []
    for message in messages:
        if isinstance(message, tc.UserMessage) and not isinstance(message.content, str):
            found.extend(b for b in message.content if isinstance(b, tc.ToolResultBlock))
    return found


# ---- app 1: an interactive chat loop ----------------------------------------------------------


async def test_chat_loop_interrupt_midway_then_the_next_turn_is_clean(
    claude_env: ClaudeTestEnv,
) -> None:
    # getting-started.md "A session" + concurrency.md "await session.interrupt()":
    # "keep receiving to get the turn's remaining messages and its (interrupted,
    # error_during_execution) result".
    script = [
        Turn("hello there", match=newest_prompt_contains("p1.")),
        Turn("second answer", match=newest_prompt_contains("p2.")),
        Turn("slow " * 400, delay=0.01, match=newest_prompt_contains("p3.")),
        Turn("fourth answer", match=newest_prompt_contains("p4.")),
    ]
    options = claude_env.options(script, name="chat", include_partial_messages=True)
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            first = await session.run("p1. hi")
            assert first.text == "hello there"
            assert isinstance(first.result, tc.ResultMessage)

            await session.send("p2. and?")
            kinds = []
            async for message in session.receive_response():
                kinds.append(type(message))
            assert kinds[-1] is tc.ResultMessage
            assert tc.AssistantMessage in kinds

            await session.send("p3. tell me a long story")
            interrupted: tc.InterruptResult | None = None
            last: tc.Message | None = None
            async for message in session.receive_response():
                if isinstance(message, tc.StreamEvent) and interrupted is None:
                    interrupted = await session.interrupt()
                last = message
            assert interrupted is not None
            assert isinstance(last, tc.ResultMessage)
            assert last.subtype == "error_during_execution"
            assert last.is_error

            fourth = await session.run("p4. still there?")
            assert fourth.text == "fourth answer"
            # The next turn is clean: no slow text leaked into it.
            assert "slow" not in texts(fourth.messages)


async def test_run_waiting_in_one_task_raises_turn_interrupted_when_another_interrupts(
    claude_env: ClaudeTestEnv,
) -> None:
    # concurrency.md: "A run() waiting for that turn in another task raises
    # TurnInterruptedError (a ResultError)". Catch it before ResultError (getting-started.md).
    script = [
        Turn("slow " * 400, delay=0.01, match=newest_prompt_contains("p1.")),
        Turn("after", match=newest_prompt_contains("p2.")),
    ]
    options = claude_env.options(script, include_partial_messages=True)
    caught: list[BaseException] = []
    with trio.fail_after(60):
        async with tc.open_session(options) as session:

            async def runner() -> None:
                try:
                    await session.run("p1. go")
                except tc.TurnInterruptedError as exc:
                    caught.append(exc)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(runner)
                await claude_env.model.wait_for_request(lambda r: r.kind == "turn")
                await session.interrupt()
            assert len(caught) == 1
            error = caught[0]
            assert isinstance(error, tc.ResultError)
            assert error.terminal_reason in ("aborted_streaming", "aborted_tools")
            assert (await session.run("p2. next")).text == "after"


async def test_official_client_spelling_chat_with_interrupt(claude_env: ClaudeTestEnv) -> None:
    # migration.md: ClaudeSDKClient has the official method names and works as async with.
    script = [
        Turn("one", match=newest_prompt_contains("q1.")),
        Turn("slow " * 400, delay=0.01, match=newest_prompt_contains("q2.")),
        Turn("three", match=newest_prompt_contains("q3.")),
    ]
    options = claude_env.options(script, include_partial_messages=True)
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(options=options) as client:
            await client.query("q1. hi")
            got = [m async for m in client.receive_response()]
            assert texts(got) == "one"
            assert isinstance(got[-1], tc.ResultMessage)

            await client.query("q2. long")
            results: list[str] = []
            async for message in client.receive_response():
                if isinstance(message, tc.StreamEvent) and not results:
                    await client.interrupt()
                    results.append("interrupted")
                if isinstance(message, tc.ResultMessage):
                    results.append(message.subtype)
            assert results == ["interrupted", "error_during_execution"]

            await client.query("q3. again")
            got = [m async for m in client.receive_response()]
            assert texts(got) == "three"
            info = await client.get_server_info()
            assert info is not None and "commands" in info


# ---- app 2: a tool-using agent with an in-process MCP server --------------------------------


@tc.tool("add", "Add two numbers", {"a": float, "b": float})
async def add(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}


@tc.tool("lookup", "Look a customer up", {"id": int})
async def lookup(args: dict[str, Any]) -> dict[str, Any]:
    raise KeyError(f"no customer {args['id']}")


@tc.tool("flaky", "Reports failure the official way", {"x": int})
async def flaky(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": "backend down"}], "is_error": True}


async def test_mcp_agent_tool_results_reach_the_model(claude_env: ClaudeTestEnv) -> None:
    server = tc.create_sdk_mcp_server("crm", version="1.0.0", tools=[add, lookup, flaky])
    script = [
        Turn(
            [
                ToolUse(
                    "ToolSearch", {"query": "select:mcp__crm__add,mcp__crm__lookup,mcp__crm__flaky"}
                )
            ]
        ),
        Turn([ToolUse("mcp__crm__add", {"a": 2, "b": 3})]),
        Turn([ToolUse("mcp__crm__lookup", {"id": 7})]),
        Turn([ToolUse("mcp__crm__flaky", {"x": 1})]),
        Turn([ToolUse("mcp__crm__add", {"a": "two", "b": 3})]),
        Turn("done: {last_tool_result}"),
    ]
    options = claude_env.options(
        script,
        name="crm",
        mcp_servers={"crm": server},
        allowed_tools=["mcp__crm__add", "mcp__crm__lookup", "mcp__crm__flaky"],
    )
    with trio.fail_after(60):
        turn = await tc.ask("do the maths and look up customer 7", options=options)
    requests = claude_env.model.turn_requests("crm")
    seen = [r.last_tool_result or "" for r in requests if r.has_tool_result]
    # mcp-tools.md "What the model sees when things go wrong"
    assert "5" in seen, seen  # JSON 2 + 3: the handler gets the numbers as sent
    # the handler raised: str(exception), as the official SDKs send it
    assert "'no customer 7'" in seen, seen
    assert "backend down" in seen, seen
    assert any(s.startswith("Input validation error: a:") for s in seen), seen
    errors = [b for b in tool_results(turn.messages) if b.is_error]
    assert len(errors) == 3, errors
    assert turn.text.startswith("done: ")


async def test_mcp_tool_given_as_a_plain_function_with_in_thread(
    claude_env: ClaudeTestEnv,
) -> None:
    # concurrency.md "Blocking code in callbacks": @tc.tool over @tc.in_thread.
    import threading

    threads: list[str] = []

    @tc.tool("whoami", "Name the thread", None, always_load=True)
    @tc.in_thread
    def whoami(args: dict[str, Any]) -> str:
        threads.append(threading.current_thread().name)
        return "worker"

    server = tc.create_sdk_mcp_server("sys", tools=[whoami])
    script = [Turn([ToolUse("mcp__sys__whoami", {})]), Turn("it said {last_tool_result}")]
    options = claude_env.options(
        script, mcp_servers={"sys": server}, allowed_tools=["mcp__sys__whoami"]
    )
    with trio.fail_after(60):
        turn = await tc.ask("who?", options=options)
    assert turn.text == "it said worker"
    assert threads and threads[0] != threading.main_thread().name


# ---- app 3: a guardrail app ------------------------------------------------------------------


async def test_guardrail_policy_and_pre_tool_use_hook(claude_env: ClaudeTestEnv) -> None:
    # README "Permissions, hooks ...", permissions.md, hooks.md.
    (claude_env.project / "keep.txt").write_text("precious")
    policy_calls: list[tuple[str, dict[str, Any]]] = []
    hook_calls: list[str] = []

    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResult:
        policy_calls.append((tool_name, dict(tool_input)))
        if tool_name == "Bash" and "touch" in tool_input.get("command", ""):
            return tc.PermissionResultDeny(message="no new files today")
        return tc.PermissionResultAllow()

    async def guard(
        input: tc.PreToolUseHookInput, tool_use_id: str | None, context: tc.HookContext
    ) -> tc.HookJSONOutput:
        hook_calls.append(input.tool_input.get("command", ""))
        if "rm -rf" in input.tool_input.get("command", ""):
            return tc.PreToolUseHookSpecificOutput(
                permission_decision="deny", permission_decision_reason="no rm -rf"
            )
        return None

    script = [
        Turn([ToolUse("Bash", {"command": f"rm -rf {claude_env.project}/keep.txt"})]),
        Turn([ToolUse("Bash", {"command": f"touch {claude_env.project}/new.txt"})]),
        Turn([ToolUse("Bash", {"command": "echo fine"})]),
        Turn("last: {last_tool_result}"),
    ]
    options = claude_env.options(
        script,
        name="guard",
        can_use_tool=policy,
        hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[guard], timeout=10)]},
    )
    with trio.fail_after(60):
        turn = await tc.ask("tidy up", options=options)
    assert (claude_env.project / "keep.txt").exists()
    assert not (claude_env.project / "new.txt").exists()
    assert turn.text == "last: fine"
    assert len(hook_calls) == 3
    assert [name for name, _ in policy_calls] == ["Bash"]  # only touch asks; rm was denied first
    seen = [
        r.last_tool_result or ""
        for r in claude_env.model.turn_requests("guard")
        if r.has_tool_result
    ]
    assert any("no rm -rf" in s for s in seen), seen
    assert any("no new files today" in s for s in seen), seen


async def test_guardrail_with_official_query_iterator_and_can_use_tool(
    claude_env: ClaudeTestEnv,
) -> None:
    # getting-started.md "One-shot": the official iterator form answers callbacks while you
    # iterate; a string prompt works with can_use_tool.
    asked: list[str] = []

    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResult:
        asked.append(tool_name)
        return tc.PermissionResultDeny(message="read-only agent")

    target = claude_env.project / "out.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
        Turn("told: {last_tool_result}"),
    ]
    options = claude_env.options(script, can_use_tool=policy)
    got: list[tc.Message] = []
    with trio.fail_after(60):
        async for message in tc.query(prompt="write a file", options=options):
            got.append(message)
    assert asked == ["Write"]
    assert not target.exists()
    assert isinstance(got[-1], tc.ResultMessage) and not got[-1].is_error
    assert "read-only agent" in texts(got)


async def test_policy_that_raises_fails_closed_and_the_session_goes_on(
    claude_env: ClaudeTestEnv,
) -> None:
    # permissions.md "Failing closed".
    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResult:
        raise KeyError("oops")

    target = claude_env.project / "x.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
        Turn("told: {last_tool_result}", match=Match(has_tool_result=True)),
        Turn("second turn fine"),
    ]
    options = claude_env.options(script, name="closed", can_use_tool=policy)
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("write")
            assert not target.exists()
            assert (
                "Permission to use Write was denied: the permission callback raised KeyError"
                in turn.text
            ), turn.text
            assert (await session.run("again")).text == "second turn fine"


# ---- app 4: a fan-out with a shared budget and deadline --------------------------------------


async def test_fan_out_shared_budget_one_cancelled_results_collected(
    claude_env: ClaudeTestEnv,
) -> None:
    budget = tc.Budget(max_usd=5.0, max_turns=50)
    answers: dict[int, str] = {}
    cancelled: list[int] = []
    with trio.fail_after(90):
        async with trio.open_nursery() as nursery:

            async def one(i: int) -> None:
                turn = Turn("slow " * 400, delay=0.02) if i == 2 else Turn(f"answer {i}")
                options = claude_env.options(
                    [turn, Turn(f"follow-up {i}")],
                    name=f"fan{i}",
                    budget=budget,
                    include_partial_messages=True,
                )
                async with tc.open_session(options) as session:
                    with trio.move_on_after(1 if i == 2 else 60) as scope:
                        answers[i] = (await session.run(f"q{i}")).text
                    if scope.cancelled_caught:
                        cancelled.append(i)
                        # concurrency.md: the session stays usable after a timeout.
                        answers[i] = (await session.run(f"again {i}")).text

            for i in range(4):
                nursery.start_soon(one, i)
    assert cancelled == [2]
    assert answers == {0: "answer 0", 1: "answer 1", 2: "follow-up 2", 3: "answer 3"}
    assert budget.spent.turns >= 4
    assert budget.remaining() is not None


async def test_fan_out_budget_exceeded_is_one_typed_error_per_session(
    claude_env: ClaudeTestEnv,
) -> None:
    # reliability.md §8: the turn that crosses a limit delivers its result, then the receiving
    # call raises BudgetExceededError(dimension, spent, limit).
    from trio_claude.testing import Usage

    budget = tc.Budget(max_tokens=100)
    costly = Turn("a long answer", usage=Usage(input_tokens=10, output_tokens=60))
    outcomes: dict[int, str] = {}
    with trio.fail_after(90):
        for i in range(2):
            options = claude_env.options([costly, costly], name=f"b{i}", budget=budget)
            async with tc.open_session(options) as session:
                try:
                    await session.run("q")
                    outcomes[i] = "ok"
                except tc.BudgetExceededError as exc:
                    outcomes[i] = f"{exc.dimension}"
                    assert exc.spent >= exc.limit
    assert outcomes == {0: "ok", 1: "tokens"}


async def test_a_whole_app_deadline_over_query_is_a_plain_cancel(
    claude_env: ClaudeTestEnv,
) -> None:
    # concurrency.md: errors come out of open_session / query / ask as one typed error, never
    # an exception group; a deadline is a cancel scope.
    options = claude_env.options([Turn("slow " * 400, delay=0.02)], include_partial_messages=True)
    seen = 0
    with trio.fail_after(60):
        with trio.move_on_after(1) as scope:
            async with tc.query("long", options=options) as messages:
                async for _ in messages:
                    seen += 1
    assert scope.cancelled_caught
    assert seen > 0
    assert not claude_env.leaked_processes(settle=2)


# ---- app 5: resume, continue and list sessions -----------------------------------------------


async def test_resume_continue_and_list_sessions(claude_env: ClaudeTestEnv) -> None:
    with trio.fail_after(90):
        first = await tc.ask(
            "remember the word tangerine", options=claude_env.options([Turn("ok")])
        )
        sid = first.session_id
        assert sid

        # sessions.md: the async twins in trio code, with config_dir= for the CLI's dir.
        infos = await tc.alist_sessions(str(claude_env.project), config_dir=claude_env.config_dir)
        assert [i.session_id for i in infos] == [sid]
        assert infos[0].first_prompt == "remember the word tangerine"
        info = await tc.aget_session_info(
            sid, str(claude_env.project), config_dir=claude_env.config_dir
        )
        assert info is not None and info.session_id == sid
        msgs = await tc.aget_session_messages(
            sid, str(claude_env.project), config_dir=claude_env.config_dir
        )
        assert [m.type for m in msgs] == ["user", "assistant"]

        # testing.md "Recipes": resume
        resumed = claude_env.options([Turn("the word was tangerine")], name="resumed", resume=sid)
        turn = await tc.ask("what was the word?", options=resumed)
        assert turn.session_id == sid
        (request,) = claude_env.model.turn_requests("resumed")
        assert "tangerine" in str(request.messages)

        # options.md: continue_conversation continues the most recent session in cwd.
        cont = claude_env.options([Turn("continued")], name="cont", continue_conversation=True)
        turn = await tc.ask("and again?", options=cont)
        assert turn.text == "continued"
        (request,) = claude_env.model.turn_requests("cont")
        assert "tangerine" in str(request.messages)

        # sync helper, official spelling, keyword arguments.
        listed = tc.list_sessions(
            directory=str(claude_env.project), limit=10, config_dir=claude_env.config_dir
        )
        assert sid in [i.session_id for i in listed]


async def test_fork_then_resume_the_fork(claude_env: ClaudeTestEnv) -> None:
    # sessions.md: fork = await tc.afork_session(...); open_session(resume=fork.session_id).
    with trio.fail_after(90):
        first = await tc.ask(
            "remember the word kumquat", options=claude_env.options([Turn("noted")])
        )
        sid = first.session_id
        fork = await tc.afork_session(
            sid, str(claude_env.project), config_dir=claude_env.config_dir
        )
        assert fork.session_id != sid
        options = claude_env.options([Turn("forked answer")], name="fork", resume=fork.session_id)
        async with tc.open_session(options) as session:
            turn = await session.run("Try the other approach")
        assert turn.text == "forked answer"
        (request,) = claude_env.model.turn_requests("fork")
        assert "kumquat" in str(request.messages)


async def test_resume_of_an_unknown_session_is_a_session_not_found_process_error(
    claude_env: ClaudeTestEnv,
) -> None:
    # getting-started.md "Why the CLI failed": the documented except clause.
    import uuid

    options = claude_env.options([Turn("never")], resume=str(uuid.uuid4()))
    with trio.fail_after(60):
        with pytest.raises(tc.ProcessError) as caught:
            async with tc.open_session(options) as session:
                await session.run("hi")
    assert caught.value.reason == "session_not_found"
    assert caught.value.hint


# ---- batch 2: more of the same apps, less travelled paths ------------------------------------


async def test_chat_loop_with_receive_messages_and_break_at_each_result(
    claude_env: ClaudeTestEnv,
) -> None:
    # The official chat-loop pattern: receive_messages() and break at the ResultMessage;
    # concurrency.md "break is not cancellation"; then run() must not see an open turn.
    script = [
        Turn("a1", match=newest_prompt_contains("m1.")),
        Turn("a2", match=newest_prompt_contains("m2.")),
        Turn("a3", match=newest_prompt_contains("m3.")),
    ]
    options = claude_env.options(script)
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            answers = []
            for prompt in ("m1. hi", "m2. more"):
                await session.send(prompt)
                got = []
                async for message in session.receive_messages():
                    got.append(message)
                    if isinstance(message, tc.ResultMessage):
                        break
                answers.append(texts(got))
            assert answers == ["a1", "a2"]
            assert (await session.run("m3. last")).text == "a3"


async def test_interrupting_a_running_mcp_tool_cancels_its_handler(
    claude_env: ClaudeTestEnv,
) -> None:
    # mcp-tools.md: notifications/cancelled cancels that tools/call (the handler sees
    # trio.Cancelled); concurrency.md: interrupt() from another task -> TurnInterruptedError.
    started = trio.Event()
    outcome: list[str] = []

    @tc.tool("crunch", "Takes forever", {"n": int}, always_load=True)
    async def crunch(args: dict[str, Any]) -> str:
        started.set()
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            outcome.append("cancelled")
            raise
        return "never"

    server = tc.create_sdk_mcp_server("work", tools=[crunch])
    script = [
        Turn([ToolUse("mcp__work__crunch", {"n": 1})], match=newest_prompt_contains("t1.")),
        Turn("fresh", match=newest_prompt_contains("t2.")),
    ]
    options = claude_env.options(
        script, mcp_servers={"work": server}, allowed_tools=["mcp__work__crunch"]
    )
    errors: list[BaseException] = []
    with trio.fail_after(60):
        async with tc.open_session(options) as session:

            async def runner() -> None:
                try:
                    await session.run("t1. crunch")
                except tc.TurnInterruptedError as exc:
                    errors.append(exc)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(runner)
                await started.wait()
                await session.interrupt()
            assert len(errors) == 1
            assert getattr(errors[0], "terminal_reason", None) == "aborted_tools"
            with trio.fail_after(10):
                while not outcome:
                    await trio.sleep(0.05)
            assert outcome == ["cancelled"]
            assert (await session.run("t2. next")).text == "fresh"


async def test_a_guard_hook_that_raises_with_on_failure_block_keeps_the_tool_from_running(
    claude_env: ClaudeTestEnv,
) -> None:
    # hooks.md "Failures": on_failure="block": the CLI blocks (the tool does not run).
    marker = claude_env.project / "ran.txt"

    async def guard(
        input: tc.PreToolUseHookInput, tool_use_id: str | None, context: tc.HookContext
    ) -> tc.HookJSONOutput:
        raise RuntimeError("policy service down")

    script = [
        Turn([ToolUse("Bash", {"command": f"echo hi > {marker}"})]),
        Turn("after: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        permission_mode="bypassPermissions",
        hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[guard], on_failure="block")]},
    )
    with trio.fail_after(60):
        turn = await tc.ask("write it", options=options)
    assert not marker.exists()
    assert turn.text.startswith("after: ")


async def test_official_dict_hook_output_denies(claude_env: ClaudeTestEnv) -> None:
    # hooks.md "Answers": a dict is sent as is (wire names), the official SDK's form.
    marker = claude_env.project / "dict.txt"

    async def guard(input: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        assert context["signal"] is None
        if input["tool_name"] == "Bash":
            return {
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": "dict says no",
                }
            }
        return {}

    script = [
        Turn([ToolUse("Bash", {"command": f"echo hi > {marker}"})]),
        Turn("after: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        permission_mode="bypassPermissions",
        hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[guard])]},
    )
    with trio.fail_after(60):
        turn = await tc.ask("write it", options=options)
    assert not marker.exists()
    assert "dict says no" in turn.text


async def test_a_hanging_policy_is_denied_after_can_use_tool_timeout(
    claude_env: ClaudeTestEnv,
) -> None:
    # permissions.md: it exceeds can_use_tool_timeout -> "... did not answer within N s".
    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResult:
        await trio.sleep_forever()
        raise AssertionError

    target = claude_env.project / "t.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
        Turn("told: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(script, can_use_tool=policy, can_use_tool_timeout=1)
    with trio.fail_after(60):
        turn = await tc.ask("write", options=options)
    assert not target.exists()
    assert "did not answer within" in turn.text, turn.text


async def test_a_shared_budget_crossed_by_one_session_interrupts_the_others(
    claude_env: ClaudeTestEnv,
) -> None:
    # reliability.md §8: "every other session charged to the budget has its running turn
    # interrupted"; the caller gets BudgetExceededError.
    from trio_claude.testing import Usage

    budget = tc.Budget(max_tokens=100)
    slow_started = trio.Event()
    outcomes: dict[str, str] = {}
    with trio.fail_after(90):
        slow_opts = claude_env.options(
            [Turn("slow " * 400, delay=0.02)],
            name="slow",
            budget=budget,
            include_partial_messages=True,
        )
        costly_opts = claude_env.options(
            [Turn("big", usage=Usage(input_tokens=10, output_tokens=200))],
            name="costly",
            budget=budget,
        )
        async with tc.open_session(slow_opts) as slow, tc.open_session(costly_opts) as costly:

            async def run_slow() -> None:
                await slow.send("long story")
                try:
                    async for message in slow.receive_response():
                        if isinstance(message, tc.StreamEvent):
                            slow_started.set()
                    outcomes["slow"] = "finished"
                except tc.BudgetExceededError as exc:
                    outcomes["slow"] = f"budget:{exc.dimension}"

            async def run_costly() -> None:
                await slow_started.wait()
                try:
                    await costly.run("expensive")
                    outcomes["costly"] = "ok"
                except tc.BudgetExceededError as exc:
                    outcomes["costly"] = f"budget:{exc.dimension}"

            async with trio.open_nursery() as nursery:
                nursery.start_soon(run_slow)
                nursery.start_soon(run_costly)
    assert outcomes == {"slow": "budget:tokens", "costly": "budget:tokens"}


async def test_interrupt_right_after_send_is_either_queued_or_interrupted(
    claude_env: ClaudeTestEnv,
) -> None:
    # testing.md: a later prompt the CLI has not started stays queued (still_queued lists it)
    # and runs to the end; otherwise the turn is interrupted. Either way the receipt says which.
    script = [
        Turn("first", match=newest_prompt_contains("i1.")),
        Turn("second", match=newest_prompt_contains("i2.")),
        Turn("third", match=newest_prompt_contains("i3.")),
    ]
    options = claude_env.options(script)
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            await session.run("i1. hi")
            await session.send("i2. hi", uuid="11111111-1111-4111-8111-111111111111")
            receipt = await session.interrupt()
            got = [m async for m in session.receive_response()]
            result = got[-1]
            assert isinstance(result, tc.ResultMessage)
            queued = any("11111111" in str(q) for q in receipt.still_queued)
            if queued:
                assert result.subtype == "success" and texts(got) == "second"
            else:
                assert result.subtype == "error_during_execution"
            assert (await session.run("i3. hi")).text == "third"


async def test_interrupt_with_cancel_queued_drops_the_queued_prompt(
    claude_env: ClaudeTestEnv,
) -> None:
    # testing.md: cancel_queued=True drops queued prompts too ("cancelled" lists them; the
    # dropped prompt's receive_response() ends without a result).
    script = [
        Turn("first", match=newest_prompt_contains("c1.")),
        Turn("should not run", match=newest_prompt_contains("c2.")),
        Turn("third", match=newest_prompt_contains("c3.")),
    ]
    options = claude_env.options(script, name="cq")
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            await session.run("c1. hi")
            await session.send("c2. hi")
            receipt = await session.interrupt(cancel_queued=True)
            got = [m async for m in session.receive_response()]
            if receipt.cancelled:
                assert not any(isinstance(m, tc.ResultMessage) for m in got)
            third = await session.run("c3. hi")
            assert third.text == "third"


async def test_resumable_session_released_when_idle_resumes_the_conversation(
    claude_env: ClaudeTestEnv,
) -> None:
    # sessions.md "A session that survives its CLI": with no call in progress, no open turn and
    # nothing unread, "await session.release() does the same on demand" (closes the CLI); the
    # next run() resumes the conversation. A turn's run() has returned: the session is idle.
    script = [
        Turn("it was papaya", match=newest_prompt_contains("r-last.")),
        Turn("noted", repeat=True),
    ]
    options = claude_env.options(script, name="res")
    released: list[bool] = []
    with trio.fail_after(120):
        async with tc.open_resumable_session(options, max_respawns=3) as session:
            first = await session.run("r1. remember papaya")
            released.append(await session.release())
            for i in range(4):
                await session.run(f"r{i + 2}. and again")
                released.append(await session.release())
            last = await session.run("r-last. what was it?")
            assert last.text == "it was papaya"
            assert session.session_id == first.session_id
    assert released == [True] * 5
    requests = claude_env.model.turn_requests("res")
    assert "papaya" in str(requests[-1].messages)


async def test_rename_tag_and_delete_a_session_from_trio_code(claude_env: ClaudeTestEnv) -> None:
    # sessions.md: the async twins and what list_sessions shows afterwards.
    directory = str(claude_env.project)
    cfg = claude_env.config_dir
    with trio.fail_after(60):
        turn = await tc.ask("draft the plan", options=claude_env.options([Turn("planned")]))
        sid = turn.session_id
        await tc.arename_session(sid, "The plan", directory, config_dir=cfg)
        await tc.atag_session(sid, "experiment", directory, config_dir=cfg)
        (info,) = await tc.alist_sessions(directory, config_dir=cfg)
        assert (info.summary, info.custom_title, info.tag) == ("The plan", "The plan", "experiment")
        await tc.adelete_session(sid, directory, config_dir=cfg)
        assert await tc.aget_session_info(sid, directory, config_dir=cfg) is None
        with pytest.raises(tc.SessionNotFoundError):
            await tc.arename_session(sid, "again", directory, config_dir=cfg)


async def test_max_turns_ends_a_looping_agent_with_a_typed_result_error(
    claude_env: ClaudeTestEnv,
) -> None:
    # testing.md "Recipes" limits: max_turns=1 with a repeating tool call -> error_max_turns.
    script = [Turn([ToolUse("Bash", {"command": "echo again"})], repeat=True)]
    options = claude_env.options(script, max_turns=1, allowed_tools=["Bash"])
    with trio.fail_after(60):
        with pytest.raises(tc.ResultError) as caught:
            await tc.ask("loop", options=options)
    assert caught.value.subtype == "error_max_turns"
    assert not isinstance(caught.value, tc.TurnInterruptedError)


async def test_streamed_input_query_with_callbacks(claude_env: ClaudeTestEnv) -> None:
    # getting-started.md: the prompt may be an async iterable of message dicts; each is a turn.
    asked: list[str] = []

    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResult:
        asked.append(tool_name)
        return tc.PermissionResultAllow()

    target = claude_env.project / "s.txt"
    script = [
        Turn(
            [ToolUse("Write", {"file_path": str(target), "content": "x"})],
            match=newest_prompt_contains("s1."),
        ),
        Turn("wrote it", match=Match(has_tool_result=True)),
        Turn("second turn", match=newest_prompt_contains("s2.")),
    ]

    async def prompts() -> Any:
        for text in ("s1. write", "s2. thanks"):
            yield {"type": "user", "message": {"role": "user", "content": text}}

    options = claude_env.options(script, can_use_tool=policy)
    results: list[str] = []
    got: list[tc.Message] = []
    with trio.fail_after(60):
        async for message in tc.query(prompt=prompts(), options=options):
            got.append(message)
            if isinstance(message, tc.ResultMessage):
                results.append(message.subtype)
    assert asked == ["Write"]
    assert target.exists()
    assert results == ["success", "success"]
    assert "second turn" in texts(got)


# ---- batch 3 ----------------------------------------------------------------------------------


async def test_official_streaming_example_with_interrupt_from_another_task(
    claude_env: ClaudeTestEnv,
) -> None:
    # The official streaming_mode "example_with_interrupt", in trio: a consumer task iterates
    # receive_response() while the main task interrupts; then the next query works.
    script = [
        Turn("slow " * 400, delay=0.01, match=newest_prompt_contains("o1.")),
        Turn("recovered", match=newest_prompt_contains("o2.")),
    ]
    options = claude_env.options(script, include_partial_messages=True)
    streamed = trio.Event()
    ends: list[str] = []
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(options) as client:
            await client.query("o1. count to a million")

            async def consume() -> None:
                async for message in client.receive_response():
                    if isinstance(message, tc.StreamEvent):
                        streamed.set()
                    if isinstance(message, tc.ResultMessage):
                        ends.append(message.subtype)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(consume)
                await streamed.wait()
                await client.interrupt()
            assert ends == ["error_during_execution"]
            await client.query("o2. never mind")
            got = [m async for m in client.receive_response()]
            assert texts(got) == "recovered"


async def test_deny_with_interrupt_stops_the_turn_with_a_typed_error(
    claude_env: ClaudeTestEnv,
) -> None:
    # permissions.md: PermissionResultDeny(message=..., interrupt=True): the turn stops.
    # getting-started.md: TurnInterruptedError for a turn the CLI aborted; catch it before
    # ResultError.
    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResult:
        return tc.PermissionResultDeny(message="stop right there", interrupt=True)

    target = claude_env.project / "i.txt"
    script = [
        Turn(
            [ToolUse("Write", {"file_path": str(target), "content": "x"})],
            match=newest_prompt_contains("d1."),
        ),
        # testing.md: the rejected tool_result stays in the next merged message: list the
        # next prompt's step before any has_tool_result step.
        Turn("next one", match=newest_prompt_contains("d2.")),
        Turn("should not be asked", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(script, can_use_tool=policy)
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            with pytest.raises(tc.TurnInterruptedError):
                await session.run("d1. write")
            assert not target.exists()
            assert (await session.run("d2. ok")).text == "next one"


async def test_hook_continue_false_stops_the_agent(claude_env: ClaudeTestEnv) -> None:
    # hooks.md: HookOutput(continue_=False) stops the agent. (Claude Code 2.1.332 still runs
    # the tool the PreToolUse hook saw, then stops before asking the model again.)
    async def stop_all(
        input: tc.PreToolUseHookInput, tool_use_id: str | None, context: tc.HookContext
    ) -> tc.HookJSONOutput:
        return tc.HookOutput(continue_=False, stop_reason="maintenance window")

    script = [
        Turn([ToolUse("Bash", {"command": "echo hi"})]),
        Turn("should not be asked", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        name="stop",
        permission_mode="bypassPermissions",
        hooks={"PreToolUse": [tc.HookMatcher(hooks=[stop_all])]},
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            await session.send("go")
            got = [m async for m in session.receive_response()]
    assert isinstance(got[-1], tc.ResultMessage)
    assert "should not be asked" not in texts(got)
    assert len(claude_env.model.turn_requests("stop")) == 1


async def test_break_then_run_is_refused_and_abandon_turn_recovers(
    claude_env: ClaudeTestEnv,
) -> None:
    # concurrency.md "break is not cancellation" and getting-started.md "run() is for a
    # session with no turn left to receive".
    script = [
        Turn("slow " * 200, delay=0.01, match=newest_prompt_contains("b1.")),
        Turn("clean", match=newest_prompt_contains("b2.")),
    ]
    options = claude_env.options(script, include_partial_messages=True)
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            await session.send("b1. long")
            async for message in session.receive_response():
                if isinstance(message, tc.StreamEvent):
                    break
            with pytest.raises(tc.TurnInProgressError):
                await session.run("b2. refused")
            session.abandon_turn()
            turn = await session.run("b2. next")
            assert turn.text == "clean"
            assert "slow" not in texts(turn.messages)


async def test_no_turn_open_receive_ends_at_once_and_collect_raises_no_turn(
    claude_env: ClaudeTestEnv,
) -> None:
    # getting-started.md "A receive with no turn open ends at once" + NoTurnError.
    options = claude_env.options([Turn("x")])
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            got = [m async for m in session.receive_response()]
            assert all(not isinstance(m, tc.ResultMessage) for m in got)
            with pytest.raises(tc.NoTurnError):
                await session.collect_response()
            assert (await session.run("hi")).text == "x"
            with pytest.raises(tc.NoTurnError):
                await session.collect_response()
        with pytest.raises(tc.SessionClosedError):
            await session.send("after close")
        with pytest.raises(tc.SessionClosedError):
            async for _ in session.receive_response():
                pass


async def test_send_accepts_text_blocks_user_message_and_wire_dict(
    claude_env: ClaudeTestEnv,
) -> None:
    # getting-started.md: send() takes text, a list of content blocks, a tc.UserMessage, or a
    # wire user dict.
    script = [
        Turn("one", match=newest_prompt_contains("u1.")),
        Turn("two", match=newest_prompt_contains("u2.")),
        Turn("three", match=newest_prompt_contains("u3.")),
    ]
    options = claude_env.options(script, name="send")
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            await session.send([tc.TextBlock(text="u1. typed block")])
            assert texts([m async for m in session.receive_response()]) == "one"
            await session.send(tc.UserMessage(content="u2. a user message"))
            assert texts([m async for m in session.receive_response()]) == "two"
            await session.send({"type": "user", "message": {"role": "user", "content": "u3. wire"}})
            assert texts([m async for m in session.receive_response()]) == "three"


async def test_an_error_raised_in_my_block_comes_out_as_itself(claude_env: ClaudeTestEnv) -> None:
    # concurrency.md: what your block raised comes out as you raised it, even with a turn open.
    options = claude_env.options([Turn("slow " * 400, delay=0.01)], include_partial_messages=True)

    class AppError(Exception):
        pass

    with trio.fail_after(60):
        with pytest.raises(AppError):
            async with tc.open_session(options) as session:
                await session.send("long")
                async for message in session.receive_response():
                    if isinstance(message, tc.StreamEvent):
                        raise AppError("bad state")
    assert not claude_env.leaked_processes(settle=2)


async def test_a_killed_cli_mid_turn_is_a_process_error_with_reason_killed(
    claude_env: ClaudeTestEnv,
) -> None:
    # getting-started.md "Why the CLI failed": killed by a SIGKILL trio-claude did not send.
    import os
    import signal

    options = claude_env.options([Turn("slow " * 400, delay=0.02)], include_partial_messages=True)
    with trio.fail_after(60):
        with pytest.raises(tc.ProcessError) as caught:
            async with tc.open_session(options) as session:
                await session.send("long")
                async for message in session.receive_response():
                    if isinstance(message, tc.StreamEvent):
                        assert session.pid is not None
                        os.kill(session.pid, signal.SIGKILL)
    assert caught.value.reason == "killed"
    assert caught.value.signal == signal.SIGKILL or caught.value.exit_code in (-9, 137)


async def test_total_cost_is_cumulative_across_turns(claude_env: ClaudeTestEnv) -> None:
    # getting-started.md: a result's total_cost_usd is the process's total so far.
    from trio_claude.testing import Usage

    usage = Usage(input_tokens=1000, output_tokens=1000)
    options = claude_env.options([Turn("a", usage=usage), Turn("b", usage=usage)])
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            one = await session.run("first")
            two = await session.run("second")
    assert one.result.total_cost_usd and two.result.total_cost_usd
    assert two.result.total_cost_usd == pytest.approx(2 * one.result.total_cost_usd, rel=0.05)


async def test_fan_out_cancelling_one_session_during_start_up(claude_env: ClaudeTestEnv) -> None:
    # concurrency.md: a cancellation leaves no process behind, from any point.
    answers: dict[int, str] = {}
    with trio.fail_after(90):
        async with trio.open_nursery() as nursery:

            async def one(i: int, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
                with trio.CancelScope() as scope:
                    task_status.started(scope)
                    options = claude_env.options([Turn(f"answer {i}")], name=f"s{i}")
                    async with tc.open_session(options) as session:
                        answers[i] = (await session.run(f"q{i}")).text

            scopes = [await nursery.start(one, i) for i in range(3)]
            scopes[1].cancel()  # while its CLI is still starting
    assert answers == {0: "answer 0", 2: "answer 2"}
    assert not claude_env.leaked_processes(settle=2)


# ---- batch 4 ----------------------------------------------------------------------------------


async def test_fan_out_under_one_shared_deadline_stops_every_session(
    claude_env: ClaudeTestEnv,
) -> None:
    # README: "a timeout is a cancel scope"; concurrency.md: leaving by cancellation closes
    # every session, no process left.
    finished: list[int] = []
    with trio.fail_after(90):
        with trio.move_on_after(2) as deadline:
            async with trio.open_nursery() as nursery:

                async def one(i: int) -> None:
                    options = claude_env.options(
                        [Turn("slow " * 1000, delay=0.02)],
                        name=f"d{i}",
                        include_partial_messages=True,
                    )
                    async with tc.open_session(options) as session:
                        await session.run(f"long {i}")
                        finished.append(i)

                for i in range(3):
                    nursery.start_soon(one, i)
    assert deadline.cancelled_caught
    assert finished == []
    assert not claude_env.leaked_processes(settle=2)


async def test_fan_out_with_a_shared_seconds_budget(claude_env: ClaudeTestEnv) -> None:
    # reliability.md §8: Budget(max_seconds=...) is a cancel scope; the caller gets
    # BudgetExceededError(dimension, spent, limit).
    budget = tc.Budget(max_seconds=2)
    outcomes: dict[int, str] = {}
    with trio.fail_after(90):
        async with trio.open_nursery() as nursery:

            async def one(i: int) -> None:
                options = claude_env.options(
                    [Turn("slow " * 1000, delay=0.02)],
                    name=f"sec{i}",
                    budget=budget,
                    include_partial_messages=True,
                )
                async with tc.open_session(options) as session:
                    try:
                        await session.run(f"long {i}")
                        outcomes[i] = "finished"
                    except tc.BudgetExceededError as exc:
                        outcomes[i] = exc.dimension

            for i in range(3):
                nursery.start_soon(one, i)
    assert outcomes == {0: "seconds", 1: "seconds", 2: "seconds"}
    assert not claude_env.leaked_processes(settle=2)


async def test_query_block_left_half_way_stops_the_cli(claude_env: ClaudeTestEnv) -> None:
    # getting-started.md: leaving the block half way through the stream stops the CLI
    # deterministically.
    options = claude_env.options([Turn("slow " * 1000, delay=0.02)], include_partial_messages=True)
    with trio.fail_after(60):
        async with tc.query("long", options=options) as messages:
            async for message in messages:
                if isinstance(message, tc.StreamEvent):
                    break
    assert not claude_env.leaked_processes(settle=2)


async def test_official_query_iterator_left_with_break(claude_env: ClaudeTestEnv) -> None:
    # getting-started.md: dropped without aclose() (a break), it kills the CLI's process tree
    # at once; contextlib.aclosing for a graceful stop.
    import contextlib

    options = claude_env.options([Turn("slow " * 1000, delay=0.02)], include_partial_messages=True)
    with trio.fail_after(60):
        async with contextlib.aclosing(tc.query(prompt="long", options=options)) as messages:
            async for message in messages:
                if isinstance(message, tc.StreamEvent):
                    break
    assert not claude_env.leaked_processes(settle=2)


async def test_structured_output_from_ask(claude_env: ClaudeTestEnv) -> None:
    # testing.md "Recipes": structured output.
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
    }
    value = {"city": "Lyon", "population": 522000}
    options = claude_env.options(
        [Turn([ToolUse("StructuredOutput", value)]), Turn("done")],
        output_format={"type": "json_schema", "schema": schema},
    )
    with trio.fail_after(60):
        turn = await tc.ask("biggest city near the Alps?", options=options)
    assert turn.structured_output == value


async def test_pool_serves_a_fan_out(claude_env: ClaudeTestEnv) -> None:
    # sessions.md "Warm sessions: the pool".
    options = claude_env.options([Turn("pooled answer", repeat=True)])
    answers: list[str] = []
    with trio.fail_after(90):
        async with tc.open_session_pool(options, size=2) as pool:
            await pool.wait_ready()

            async def one(i: int) -> None:
                async with pool.session() as session:
                    answers.append((await session.run(f"q{i}")).text)

            async with trio.open_nursery() as nursery:
                for i in range(4):
                    nursery.start_soon(one, i)
            stats = pool.statistics()
    assert answers == ["pooled answer"] * 4
    assert stats.handed_out == 4
    assert not claude_env.leaked_processes(settle=2)


# ---- batch 5 ----------------------------------------------------------------------------------


async def test_guardrail_always_allow_by_accepting_the_suggestions(
    claude_env: ClaudeTestEnv,
) -> None:
    # permissions.md: "return them [the context's suggestions] as updated_permissions to
    # accept them"; the CLI then stops asking.
    asked: list[tuple[str, str | None, int]] = []

    async def policy(
        tool_name: str, tool_input: dict[str, Any], context: tc.ToolPermissionContext
    ) -> tc.PermissionResult:
        asked.append((tool_input.get("command", ""), context.tool_use_id, len(context.suggestions)))
        assert context.signal is None
        assert all(isinstance(u, tc.PermissionUpdate) for u in context.suggestions)
        return tc.PermissionResultAllow(updated_permissions=list(context.suggestions))

    a, b = claude_env.project / "a.txt", claude_env.project / "b.txt"
    script = [
        Turn([ToolUse("Bash", {"command": f"touch {a}"})]),
        Turn([ToolUse("Bash", {"command": f"touch {b}"})]),
        Turn("both done"),
    ]
    options = claude_env.options(script, can_use_tool=policy)
    with trio.fail_after(60):
        turn = await tc.ask("make two files", options=options)
    assert turn.text == "both done"
    assert a.exists() and b.exists()
    assert len(asked) == 1, asked
    assert asked[0][1] and asked[0][2] >= 1


async def test_hook_context_and_post_tool_use_input(claude_env: ClaudeTestEnv) -> None:
    # hooks.md "The callback": context = HookContext(signal=None, callback_id,
    # hook_event_name, matcher, timeout); PostToolUse input has tool_response, tool_use_id.
    seen: list[tuple[Any, ...]] = []

    async def pre(input: tc.PreToolUseHookInput, tool_use_id: str | None, context: tc.HookContext):
        seen.append(
            (
                "pre",
                context.callback_id,
                context.hook_event_name,
                context.matcher,
                context.timeout,
                input.tool_use_id == tool_use_id,
            )
        )
        return None

    async def post(
        input: tc.PostToolUseHookInput, tool_use_id: str | None, context: tc.HookContext
    ):
        seen.append(
            (
                "post",
                context.callback_id,
                input.tool_response.get("stdout"),
                isinstance(input, dict),
                input["tool_name"],
            )
        )
        return tc.PostToolUseHookSpecificOutput(additional_context="audited")

    script = [Turn([ToolUse("Bash", {"command": "echo hooked"})]), Turn("ok")]
    options = claude_env.options(
        script,
        name="ctx",
        allowed_tools=["Bash"],
        hooks={
            "PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[pre], timeout=10)],
            "PostToolUse": [tc.HookMatcher(matcher="Bash", hooks=[post])],
        },
    )
    with trio.fail_after(60):
        await tc.ask("echo", options=options)
    assert seen == [
        ("pre", "hook_0", "PreToolUse", "Bash", 10, True),
        ("post", "hook_1", "hooked", True, "Bash"),
    ]
    second = claude_env.model.turn_requests("ctx")[1]
    assert "audited" in str(second.messages)


async def test_connect_session_in_my_own_nursery(claude_env: ClaudeTestEnv) -> None:
    # getting-started.md: session = await tc.connect_session(nursery, opts); must aclose().
    options = claude_env.options([Turn("connected")])
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            session = await tc.connect_session(nursery, options)
            try:
                assert (await session.run("hi")).text == "connected"
                assert session.server_info is not None
                assert session.pid is not None
                assert session.statistics().results_received == 1
            finally:
                await session.aclose()
        with pytest.raises(tc.SessionClosedError):
            await session.run("after")


async def test_misusing_open_session_says_how_to_use_it(claude_env: ClaudeTestEnv) -> None:
    # getting-started.md "Every open_* is an async with": AttributeError / TypeError naming
    # the `async with open_session(...) as session:` form.
    options = claude_env.options([Turn("x")])
    cm = tc.open_session(options)
    with pytest.raises(AttributeError, match=r"async with open_session\(\.\.\.\) as session"):
        await cm.run("hi")  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match=r"async with open_session\(\.\.\.\) as session"):
        await tc.open_session(options)  # type: ignore[misc]


async def test_two_receivers_at_once_is_a_concurrent_receive_error(
    claude_env: ClaudeTestEnv,
) -> None:
    # concurrency.md "One receiver per session": the second to wait raises
    # ConcurrentReceiveError (a RuntimeError).
    options = claude_env.options([Turn("slow " * 300, delay=0.01)], include_partial_messages=True)
    errors: list[BaseException] = []
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            await session.send("long")
            first_message = trio.Event()

            async def first() -> None:
                async for _ in session.receive_response():
                    first_message.set()

            async def second() -> None:
                await first_message.wait()
                try:
                    async for _ in session.receive_response():
                        pass
                except tc.ConcurrentReceiveError as exc:
                    errors.append(exc)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(first)
                nursery.start_soon(second)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)


async def test_a_bad_prompt_is_refused_and_the_session_goes_on(claude_env: ClaudeTestEnv) -> None:
    # getting-started.md "Errors": InvalidPromptError (a ConfigurationError), nothing written,
    # the session stays usable; bytes are a ConfigurationError.
    options = claude_env.options([Turn("fine")])
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            with pytest.raises(tc.InvalidPromptError):
                await session.send("broken \ud83d")
            with pytest.raises(tc.ConfigurationError):
                await session.send(b"bytes")
            assert (await session.run("ok")).text == "fine"


async def test_set_model_mid_conversation(claude_env: ClaudeTestEnv) -> None:
    # getting-started.md / testing.md "Recipes": set_model -> the next request's model.
    options = claude_env.options([Turn("a"), Turn("b")], name="m", model="claude-sonnet-4-5")
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            await session.run("one")
            await session.set_model("claude-haiku-4-5")
            await session.run("two")
    first, second = claude_env.model.turn_requests("m")
    assert first.model == "claude-sonnet-4-5"
    assert second.model == "claude-haiku-4-5"


# ---- batch 6 ----------------------------------------------------------------------------------


async def test_a_resumed_conversation_lists_once_with_every_turn(
    claude_env: ClaudeTestEnv,
) -> None:
    # sessions.md: list_sessions lists a session once; get_session_messages follows the
    # conversation's newest leaf, so a resumed conversation reads as one.
    directory, cfg = str(claude_env.project), claude_env.config_dir
    with trio.fail_after(90):
        first = await tc.ask("h1. first", options=claude_env.options([Turn("r1")]))
        sid = first.session_id
        again = claude_env.options([Turn("r2")], resume=sid)
        await tc.ask("h2. second", options=again)
        infos = await tc.alist_sessions(directory, config_dir=cfg)
        messages = await tc.aget_session_messages(sid, directory, config_dir=cfg)
    assert [i.session_id for i in infos] == [sid]
    assert infos[0].first_prompt == "h1. first"
    user_texts = [
        m.message["content"]
        for m in messages
        if m.type == "user" and isinstance(m.message["content"], str)
    ]
    assert user_texts == ["h1. first", "h2. second"], [m.message for m in messages]
    assert all(m.session_id == sid for m in messages)


async def test_fork_up_to_a_message_and_resume_the_fork(claude_env: ClaudeTestEnv) -> None:
    # sessions.md: fork = await tc.afork_session(session_id, up_to_message_id=messages[i].uuid)
    directory, cfg = str(claude_env.project), claude_env.config_dir
    with trio.fail_after(90):
        async with tc.open_session(
            claude_env.options([Turn("ok, lemon"), Turn("ok, lime")])
        ) as session:
            first = await session.run("f1. the word is lemon")
            await session.run("f2. now the word is lime")
        sid = first.session_id
        messages = await tc.aget_session_messages(sid, directory, config_dir=cfg)
        assert [m.type for m in messages] == ["user", "assistant", "user", "assistant"]
        fork = await tc.afork_session(
            sid, directory, up_to_message_id=messages[1].uuid, config_dir=cfg
        )
        forked = await tc.aget_session_messages(fork.session_id, directory, config_dir=cfg)
        assert [m.type for m in forked] == ["user", "assistant"]
        opts = claude_env.options([Turn("forked")], name="fk", resume=fork.session_id)
        turn = await tc.ask("f3. which word?", options=opts)
    assert turn.text == "forked"
    (request,) = claude_env.model.turn_requests("fk")
    assert "lemon" in str(request.messages)
    assert "lime" not in str(request.messages)
    info = await tc.aget_session_info(fork.session_id, directory, config_dir=cfg)
    assert info is not None and info.custom_title and info.custom_title.endswith("(fork)")


async def test_resume_with_fork_session_reports_a_new_id(claude_env: ClaudeTestEnv) -> None:
    # getting-started.md: "with fork_session=True the CLI reports a new one".
    with trio.fail_after(90):
        first = await tc.ask("the word is fig", options=claude_env.options([Turn("noted")]))
        opts = claude_env.options(
            [Turn("branch")], name="br", resume=first.session_id, fork_session=True
        )
        async with tc.open_session(opts) as session:
            turn = await session.run("branch off")
            assert session.session_id == turn.session_id
    assert turn.session_id != first.session_id
    (request,) = claude_env.model.turn_requests("br")
    assert "fig" in str(request.messages)
    infos = await tc.alist_sessions(str(claude_env.project), config_dir=claude_env.config_dir)
    assert {i.session_id for i in infos} == {first.session_id, turn.session_id}


async def test_continue_conversation_with_open_session(claude_env: ClaudeTestEnv) -> None:
    # options.md: continue_conversation continues the most recent session in cwd.
    with trio.fail_after(90):
        first = await tc.ask("the word is plum", options=claude_env.options([Turn("noted")]))
        opts = claude_env.options([Turn("continued")], name="co", continue_conversation=True)
        async with tc.open_session(opts) as session:
            turn = await session.run("which word?")
    assert turn.text == "continued"
    assert turn.session_id == first.session_id
    (request,) = claude_env.model.turn_requests("co")
    assert "plum" in str(request.messages)


# ---- batch 7: the official SDK's spellings -----------------------------------------------------


async def test_official_iterator_yields_the_error_result_then_raises_result_error(
    claude_env: ClaudeTestEnv,
) -> None:
    # getting-started.md: "After an error result that the CLI exits non-zero for, it raises
    # ResultError (a ProcessError: .exit_code, .result, .session_id, ...)", after yielding it.
    script = [Turn([ToolUse("Bash", {"command": "echo again"})], repeat=True)]
    options = claude_env.options(script, max_turns=1, allowed_tools=["Bash"])
    got: list[tc.Message] = []
    with trio.fail_after(60):
        with pytest.raises(tc.ResultError) as caught:
            async for message in tc.query(prompt="loop", options=options):
                got.append(message)
    assert isinstance(got[-1], tc.ResultMessage) and got[-1].subtype == "error_max_turns"
    assert caught.value.subtype == "error_max_turns"
    assert caught.value.exit_code == 1
    assert caught.value.session_id == got[-1].session_id


async def test_official_message_attributes_in_an_agent_loop(claude_env: ClaudeTestEnv) -> None:
    # migration.md: "Option and message attribute names are the official ones".
    script = [Turn([Text("Let me look."), ToolUse("Bash", {"command": "echo 42"})]), Turn("42")]
    options = claude_env.options(script, allowed_tools=["Bash"], model="claude-sonnet-4-5")
    uses: list[tuple[str, str, dict[str, Any]]] = []
    results: list[tuple[str, Any, bool | None]] = []
    final: tc.ResultMessage | None = None
    with trio.fail_after(60):
        async with tc.ClaudeSDKClient(options=options) as client:
            await client.query("what is six times seven?")
            async for message in client.receive_response():
                if isinstance(message, tc.AssistantMessage):
                    assert message.model == "claude-sonnet-4-5"
                    assert message.parent_tool_use_id is None
                    for block in message.content:
                        if isinstance(block, tc.ToolUseBlock):
                            uses.append((block.id, block.name, block.input))
                elif isinstance(message, tc.UserMessage) and isinstance(message.content, list):
                    for block in message.content:
                        if isinstance(block, tc.ToolResultBlock):
                            results.append((block.tool_use_id, block.content, block.is_error))
                elif isinstance(message, tc.ResultMessage):
                    final = message
    assert [(name, inp) for _, name, inp in uses] == [("Bash", {"command": "echo 42"})]
    assert [r[0] for r in results] == [uses[0][0]]
    assert "42" in str(results[0][1]) and not results[0][2]
    assert final is not None
    assert (final.subtype, final.is_error, final.result, final.num_turns) == (
        "success",
        False,
        "42",
        2,
    )
    assert final.duration_ms >= 0 and isinstance(final.usage, dict)


async def test_official_pre_tool_use_decision_block_dict(claude_env: ClaudeTestEnv) -> None:
    # hooks.md: HookOutput / dict field decision ("block"/"approve"), reason.
    marker = claude_env.project / "blocked.txt"

    async def guard(input: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        return {"decision": "block", "reason": "blocked by the old-style guard"}

    script = [
        Turn([ToolUse("Bash", {"command": f"echo hi > {marker}"})]),
        Turn("after: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        permission_mode="bypassPermissions",
        hooks={"PreToolUse": [tc.HookMatcher(matcher="Bash", hooks=[guard])]},
    )
    with trio.fail_after(60):
        turn = await tc.ask("write it", options=options)
    assert not marker.exists()
    assert "blocked by the old-style guard" in turn.text


async def test_official_mcp_result_spellings(claude_env: ClaudeTestEnv) -> None:
    # mcp-tools.md "Results": the official dict with isError, a ToolResult, a plain string.
    @tc.tool(
        "probe",
        "JSON Schema input",
        {"type": "object", "properties": {"kind": {"type": "string"}}, "required": ["kind"]},
        always_load=True,
    )
    async def probe(args: dict[str, Any]) -> Any:
        if args["kind"] == "camel":
            return {"content": [{"type": "text", "text": "camel error"}], "isError": True}
        if args["kind"] == "typed":
            return tc.ToolResult(content=[tc.TextContent(text="typed ok")])
        return "plain ok"

    server = tc.create_sdk_mcp_server("p", tools=[probe])
    script = [
        Turn([ToolUse("mcp__p__probe", {"kind": "camel"})]),
        Turn([ToolUse("mcp__p__probe", {"kind": "typed"})]),
        Turn([ToolUse("mcp__p__probe", {"kind": "plain"})]),
        Turn([ToolUse("mcp__p__probe", {})]),
        Turn("done"),
    ]
    options = claude_env.options(
        script, name="p", mcp_servers={"p": server}, allowed_tools=["mcp__p__probe"]
    )
    with trio.fail_after(60):
        turn = await tc.ask("probe", options=options)
    flags = [(str(b.content), b.is_error) for b in tool_results(turn.messages)]
    assert [bool(f[1]) for f in flags] == [True, False, False, True], flags
    assert "camel error" in flags[0][0] and "typed ok" in flags[1][0]
    assert "plain ok" in flags[2][0] and "Input validation error" in flags[3][0]


async def test_a_spent_budget_raised_and_reset_lets_the_sessions_go_on(
    claude_env: ClaudeTestEnv,
) -> None:
    # reliability.md §8: "The turn that crosses a limit delivers its result, then the receiving
    # call raises BudgetExceededError"; send() then refuses "until the limit is raised and
    # budget.reset_exceeded() called" (Budget.charge: raising limits and calling
    # reset_exceeded lets charged sessions go on). Each turn here crosses the limit again.
    budget = tc.Budget(max_turns=1)
    outcomes: list[str] = []

    async def busy_neighbour() -> None:
        # Other work of the application on the same loop (CPU-bound, between checkpoints):
        # the reader then finds several of the CLI's lines at once, as on a loaded machine.
        while True:
            hashlib.sha256(b"x" * 4_000_000).digest()
            await trio.lowlevel.checkpoint()

    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(busy_neighbour)
            for s in range(3):
                options = claude_env.options(
                    [Turn("answer", repeat=True)], name=f"rb{s}", budget=budget
                )
                async with tc.open_session(options) as session:
                    for i in range(4):
                        try:
                            await session.run(f"turn {i}")
                            outcomes.append("returned")
                        except tc.BudgetExceededError as exc:
                            outcomes.append(f"{exc.dimension}:{exc.limit}")
                            with pytest.raises(tc.BudgetExceededError):
                                await session.send("refused")
                        budget.max_turns = budget.spent.turns + 1  # one more turn's worth
                        budget.reset_exceeded()
            nursery.cancel_scope.cancel()
    assert sum(len(claude_env.model.turn_requests(f"rb{s}")) for s in range(3)) == 12
    # every turn crossed the limit: every run() raised
    assert outcomes == [f"turns:{i + 1}" for i in range(12)], outcomes
