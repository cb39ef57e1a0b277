"""Round two: small applications a newcomer writes from README.md, docs/*.md and examples/.

Each test is one realistic app around a feature the first round did not touch (resumable
sessions and the pool in a service, the blocking facade from threads, telemetry, structured
output / subagents / control requests / checkpointing, durable stores, teams), written the way
the docs show it and run with the real pinned ``claude`` CLI against the fake model. A failing
test records a place where the docs and the behaviour disagree.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import trio

import trio_claude as tc
import trio_claude.blocking as tcb
from trio_claude import teams
from trio_claude.testing import (
    ClaudeTestEnv,
    Match,
    ToolUse,
    Turn,
    open_claude_test_env,
    open_claude_test_env_blocking,
)

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup


def prompt_has(text: str) -> Match:
    # The newest prompt only (docs/testing.md, "Recipes").
    return Match(predicate=lambda r: text in r.last_user_text.rpartition("\n")[2])


# ---- app 1: a long-lived service on resumable sessions and a pool ----------------------------


async def test_service_resumable_session_idle_released_then_resumed_from_several_tasks(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/sessions.md "A session that survives its CLI": idle_timeout releases the CLI, the
    # next run() resumes the same conversation; statistics() counts idle_releases.
    script = [
        Turn("noted: blue", match=prompt_has("r1.")),
        Turn("answer two", match=prompt_has("r2.")),
        Turn("answer three", match=prompt_has("r3.")),
    ]
    options = claude_env.options(script, name="svc")
    lock = trio.Lock()  # one conversation: requests take turns
    answers: dict[str, str] = {}

    async def handle(session: Any, request: str) -> None:
        async with lock:
            turn = await session.run(request)
        answers[request] = turn.text

    with trio.fail_after(60):
        async with tc.open_resumable_session(options, idle_timeout=0.5) as session:
            await handle(session, "r1. my colour is blue")
            first_pid = session.pid
            first_id = session.session_id
            with trio.fail_after(20):
                await session.wait_disconnected()  # idle: released
            assert not session.connected
            async with trio.open_nursery() as nursery:
                nursery.start_soon(handle, session, "r2. what is it")
                nursery.start_soon(handle, session, "r3. and again")
            assert session.session_id == first_id
            assert session.pid != first_pid
            stats = session.statistics()
            assert stats.idle_releases >= 1
            assert session.respawns == 0  # an idle release is not a respawn
    assert answers == {
        "r1. my colour is blue": "noted: blue",
        "r2. what is it": "answer two",
        "r3. and again": "answer three",
    }
    # the resumed CLI sent the earlier turn to the model
    later = claude_env.model.turn_requests("svc")[-1]
    assert "my colour is blue" in str(later.messages)
    assert not claude_env.leaked_processes(settle=2)


async def test_service_release_on_demand_and_interrupt_while_released_is_empty(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/sessions.md: "await session.release() does the same on demand"; interrupt() with
    # no live CLI and no start under way "returns an empty InterruptResult()".
    options = claude_env.options([Turn("one"), Turn("two")], name="rel")
    with trio.fail_after(60):
        async with tc.open_resumable_session(options) as session:
            assert (await session.run("first")).text == "one"
            assert await session.release() is True
            assert not session.connected
            receipt = await session.interrupt()
            assert receipt == tc.InterruptResult()
            assert (await session.run("second")).text == "two"
            assert session.statistics().idle_releases == 1


async def test_service_pool_with_idle_ttl_serves_several_request_tasks(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/sessions.md "Warm sessions: the pool" + "Idle pools let go of their CLIs".
    script = [Turn("pooled answer", repeat=True)]
    options = claude_env.options(script, name="pool")
    served: list[str] = []

    async def request(pool: Any, n: int) -> None:
        async with pool.session() as session:
            turn = await session.run(f"req {n}")
            served.append(turn.text)

    with trio.fail_after(60):
        async with tc.open_session_pool(options, size=2, idle_ttl=0.5, min_size=0) as pool:
            await pool.wait_ready()
            async with trio.open_nursery() as nursery:
                for n in range(3):
                    nursery.start_soon(request, pool, n)
            # no demand: the pool closes its warm sessions down to min_size
            with trio.move_on_after(20):
                while True:
                    stats = pool.statistics()
                    if stats.target == 0 and stats.ready == stats.starting == 0:
                        break
                    await trio.sleep(0.1)
            stats = pool.statistics()
            assert stats.ready == stats.starting == 0, (
                f"still warm 20 s after the last request: {stats}"
            )
            stats = pool.statistics()
            assert stats.target == 0
            # the next request refills it
            await request(pool, 99)
    assert served == ["pooled answer"] * 4
    assert not claude_env.leaked_processes(settle=2)


# ---- app 2: a plain-threads web handler on the blocking facade --------------------------------


def test_threads_web_handler_with_blocking_sessions_and_a_permission_callback(
    tmp_path: Path,
) -> None:
    # docs/blocking.md: sessions from several threads at once, callbacks in the session's
    # thread, on its trio loop (an async policy can use trio).
    with open_claude_test_env_blocking(tmp_path) as env:
        seen: list[tuple[str, str]] = []
        results: dict[int, str] = {}
        errors: list[BaseException] = []

        async def policy(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
            await trio.lowlevel.checkpoint()  # trio works here
            seen.append((tool, threading.current_thread().name))
            return tc.PermissionResultDeny(message="read-only service")

        options_by_worker = {}
        for n in range(3):
            target = env.project / f"out{n}.txt"
            options_by_worker[n] = env.options(
                [
                    Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
                    Turn("refused: {last_tool_result}", match=Match(has_tool_result=True)),
                ],
                name=f"w{n}",
                can_use_tool=policy,
            )

        def handler(n: int) -> None:
            try:
                with tcb.open_session(options_by_worker[n]) as session:
                    results[n] = session.run(f"write file {n}").text
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=handler, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        assert sorted(results) == [0, 1, 2]
        assert all("read-only service" in text for text in results.values())
        assert [tool for tool, _ in seen] == ["Write"] * 3
        assert all(name.startswith("trio-claude-blocking-") for _, name in seen)
        assert not any((env.project / f"out{n}.txt").exists() for n in range(3))
        assert not env.leaked_processes(settle=2)


def test_threads_sharing_one_blocking_session_take_turns(tmp_path: Path) -> None:
    # docs/blocking.md "Threads": "Threads calling run() on one session get one whole turn
    # each, first come first served".
    with open_claude_test_env_blocking(tmp_path) as env:
        script = [
            Turn("alpha answer", delay=0.01, match=prompt_has("alpha")),
            Turn("beta answer", match=prompt_has("beta")),
            Turn("gamma answer", match=prompt_has("gamma")),
        ]
        options = env.options(script, name="shared")
        got: dict[str, str] = {}
        errors: list[BaseException] = []
        with tcb.open_session(options) as session:

            def worker(word: str) -> None:
                try:
                    got[word] = session.run(f"say {word}").text
                except BaseException as exc:
                    errors.append(exc)

            threads = [
                threading.Thread(target=worker, args=(w,)) for w in ("alpha", "beta", "gamma")
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            stats = session.statistics()
        assert errors == []
        assert got == {"alpha": "alpha answer", "beta": "beta answer", "gamma": "gamma answer"}
        assert stats is not None
        assert not env.leaked_processes(settle=2)


def test_blocking_call_reaches_control_requests_from_a_worker_thread(tmp_path: Path) -> None:
    # docs/blocking.md: session.call(fn) runs "every other Session method"; control.md shows
    # `settings = session.call(tc.Session.get_settings)`.
    with open_claude_test_env_blocking(tmp_path) as env:
        options = env.options([Turn("hi")], name="ctl")
        with tcb.open_session(options) as session:
            box: dict[str, Any] = {}

            def ui_thread() -> None:
                box["settings"] = session.call(tc.Session.get_settings)
                box["status"] = session.call(lambda s: s.mcp_status())

            t = threading.Thread(target=ui_thread)
            t.start()
            t.join(60)
            assert isinstance(box["settings"], tc.SettingsSnapshot)
            assert isinstance(box["status"], list)
            assert session.run("hello").text == "hi"
            assert session.server_info is not None


def test_blocking_api_from_a_trio_task_is_a_usage_error(tmp_path: Path) -> None:
    # docs/blocking.md "From inside trio": "raises BlockingUsageError before anything happens".
    async def main() -> None:
        async with open_claude_test_env(tmp_path) as env:
            options = env.options([Turn("never")], name="bad")
            try:
                tcb.ask("hi", options=options)
            except tcb.BlockingUsageError as exc:
                assert isinstance(exc, tc.ClaudeSDKError)
                assert isinstance(exc, RuntimeError)
            else:
                raise AssertionError("no BlockingUsageError")
            assert env.model.turn_requests("bad") == []

    trio.run(main)


# ---- app 3: telemetry ------------------------------------------------------------------------


async def test_telemetry_spans_for_a_turn_a_tool_and_a_permission_callback(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/telemetry.md "The spans" and examples/telemetry.py.
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def allow(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
        return tc.PermissionResultAllow()

    target = claude_env.project / "notes.md"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "# notes\n"})]),
        Turn("wrote notes.md", match=Match(has_tool_result=True)),
        Turn("second turn"),
    ]
    options = claude_env.options(script, name="otel", telemetry=provider, can_use_tool=allow)
    with trio.fail_after(60):
        with provider.get_tracer("my-app").start_as_current_span("handle request") as app_span:
            async with tc.open_session(options) as session:
                first = await session.run("write notes.md")
                second = await session.run("again")
                session_id = session.session_id
    assert first.text == "wrote notes.md" and second.text == "second turn"
    spans = exporter.get_finished_spans()
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    (root,) = by_name["claude.session"]
    assert root.parent is not None
    assert root.parent.span_id == app_span.get_span_context().span_id
    assert root.attributes["gen_ai.conversation.id"] == session_id
    assert root.attributes["claude.turns"] == 2
    assert root.attributes["claude.session.outcome"] == "closed"
    turns = by_name["claude.turn"]
    assert len(turns) == 2
    assert all(t.parent.span_id == root.context.span_id for t in turns)
    assert all(t.attributes["claude.result.subtype"] == "success" for t in turns)
    assert all(t.status.status_code != StatusCode.ERROR for t in turns)
    (tool,) = by_name["execute_tool Write"]
    assert tool.attributes["gen_ai.tool.name"] == "Write"
    assert tool.parent.span_id in {t.context.span_id for t in turns}
    (callback,) = by_name["claude.callback can_use_tool"]
    assert callback.parent.span_id == tool.context.span_id
    assert callback.attributes["claude.permission.behavior"] == "allow"
    assert "claude.control initialize" in by_name
    assert all(s.end_time is not None for s in spans)


async def test_telemetry_an_error_turn_is_an_error_span(claude_env: ClaudeTestEnv) -> None:
    # docs/telemetry.md "Status": a turn ended by an error result has status ERROR.
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    script = [Turn([ToolUse("Bash", {"command": "echo hi"})], repeat=True)]
    options = claude_env.options(
        script, name="err", telemetry=provider, max_turns=1, allowed_tools=["Bash"]
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            try:
                await session.run("loop forever")
            except tc.ResultError as exc:
                assert exc.subtype == "error_max_turns"
            else:
                raise AssertionError("max_turns did not end the turn")
    (turn,) = [s for s in exporter.get_finished_spans() if s.name == "claude.turn"]
    assert turn.status.status_code == StatusCode.ERROR
    assert (turn.attributes or {})["claude.result.subtype"] == "error_max_turns"


# ---- app 4: structured output, subagents, control requests, checkpointing --------------------


async def test_structured_triage_with_a_subagent_and_control_requests(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/testing.md recipes (structured output), docs/fake-model.md (subagents),
    # docs/control.md (mcp_status, get_usage, get_context_usage), getting-started.md
    # (session.server_info).
    schema = {
        "type": "object",
        "properties": {"severity": {"type": "string"}, "owner": {"type": "string"}},
        "required": ["severity", "owner"],
    }
    verdict = {"severity": "high", "owner": "db-team"}
    script = [
        Turn(
            [
                ToolUse(
                    "Agent",
                    {
                        "description": "look up owner",
                        "prompt": "who owns the db?",
                        "subagent_type": "owner-finder",
                    },
                )
            ],
            match=Match(subagent=False, has_tool_result=False),
        ),
        Turn("db-team owns it", match=Match(subagent=True)),
        Turn([ToolUse("StructuredOutput", verdict)], match=Match(subagent=False)),
        Turn("done", match=Match(subagent=False)),
    ]
    options = claude_env.options(
        script,
        name="triage",
        output_format={"type": "json_schema", "schema": schema},
        agents={
            "owner-finder": tc.AgentDefinition(
                description="finds who owns a component", prompt="You find owners.", tools=["Read"]
            )
        },
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            info = session.server_info
            assert info is not None
            assert any(a.name == "owner-finder" for a in info.agents)
            turn = await session.run("triage: the db is down")
            assert turn.structured_output == verdict
            statuses = await session.mcp_status()
            assert isinstance(statuses, list)
            usage = await session.get_usage()
            assert isinstance(usage, dict)
            context = await session.get_context_usage()
            assert isinstance(context, tc.ContextUsage)
    sub = [r for r in claude_env.model.turn_requests("triage") if r.is_subagent]
    assert sub and "who owns the db?" in sub[0].last_user_text


async def test_rewind_files_to_my_own_prompt_uuid(claude_env: ClaudeTestEnv) -> None:
    # docs/control.md: rewind_files(user_message_id); docs/concurrency.md: "Every prompt is
    # sent with a uuid (yours, if you pass send(..., uuid=...))". An editor app keeps the uuid
    # it chose for each prompt and rewinds to it.
    import uuid as uuidlib

    target = claude_env.project / "config.toml"
    target.write_text("answer = 41\n")
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "answer = 42\n"})]),
        Turn("fixed", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script, name="rw", enable_file_checkpointing=True, permission_mode="acceptEdits"
    )
    mine = str(uuidlib.uuid4())
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("fix the answer", uuid=mine)
            assert turn.text == "fixed"
            assert target.read_text() == "answer = 42\n"
            dry = await session.rewind_files(mine, dry_run=True)
            assert dry.can_rewind, dry.error
            done = await session.rewind_files(mine)
            assert done.can_rewind, done.error
    assert target.read_text() == "answer = 41\n"


# ---- app 5: a durable transcript store, resumed on a second node ------------------------------


async def test_sqlite_store_mirrors_and_a_second_node_resumes(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    # docs/stores.md, first example: mirror into SQLite, later resume from the store alone.
    db = tmp_path / "db" / "sessions.db"
    first_script = [Turn("noted: Tuesday 14:00")]
    second_script = [Turn("we deploy Tuesday", match=Match(last_user_text_contains="When do"))]
    with trio.fail_after(60):
        async with tc.SQLiteSessionStore(db) as store:
            options = claude_env.options(first_script, name="node1", session_store=store)
            async with tc.open_session(options) as session:
                await session.run("The deploy window is Tuesday 14:00.")
                session_id = session.session_id
            assert session_id is not None
            listed = await tc.list_sessions_from_store(store, directory=claude_env.project)
            assert [s.session_id for s in listed] == [session_id]
        # node 2: an empty config dir of its own (only the store is shared)
        node2 = tmp_path / "node2-config"
        node2.mkdir()
        async with tc.SQLiteSessionStore(db) as store:
            options = claude_env.options(
                second_script,
                name="node2",
                session_store=store,
                resume=session_id,
                env={"CLAUDE_CONFIG_DIR": str(node2)},
            )
            async with tc.open_session(options) as session:
                turn = await session.run("When do we deploy?")
                assert session.session_id == session_id
            assert turn.text == "we deploy Tuesday"
            messages = await tc.get_session_messages_from_store(
                store, session_id, directory=claude_env.project
            )
            assert [m.type for m in messages] == ["user", "assistant", "user", "assistant"]
    request = claude_env.model.turn_requests("node2")[0]
    assert "Tuesday 14:00" in str(request.messages)
    assert (
        not list((node2 / "projects").glob("*/*.jsonl")) if (node2 / "projects").exists() else True
    )


async def test_store_resume_of_an_unknown_session_is_a_typed_error(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    # A newcomer mistypes the id: a typed ClaudeSDKError, not a hang or an exception group.
    import uuid as uuidlib

    with trio.fail_after(60):
        async with tc.SQLiteSessionStore(tmp_path / "s.db") as store:
            options = claude_env.options(
                [Turn("never")], name="ghost", session_store=store, resume=str(uuidlib.uuid4())
            )
            try:
                async with tc.open_session(options) as session:
                    await session.run("hello?")
            except tc.ClaudeSDKError as exc:
                assert not isinstance(exc, BaseExceptionGroup)
            else:
                raise AssertionError("resuming a session the store lacks must fail")


# ---- app 6: teams ----------------------------------------------------------------------------


async def test_team_lead_delegates_to_two_teammates(claude_env: ClaudeTestEnv) -> None:
    # docs/teams.md "Lead and teammates" and "Testing a team offline".
    lead_script = [
        Turn(
            [
                ToolUse("mcp__team__delegate", {"teammate": "researcher", "task": "find X"}),
                ToolUse("mcp__team__delegate", {"teammate": "writer", "task": "draft Y"}),
            ]
        ),
        Turn("report: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    lead = claude_env.options(lead_script, name="lead")
    researcher = claude_env.options([Turn("X is 7")], name="researcher")
    writer = claude_env.options([Turn("draft of Y")], name="writer")
    with trio.fail_after(90):
        async with teams.open_team(
            lead,
            {
                "researcher": teams.Teammate(researcher, "finds and reads sources"),
                "writer": writer,
            },
            budget=tc.Budget(max_usd=2),
        ) as team:
            turn = await team.run("Write a report on X and Y")
            stats = team.statistics()
    assert turn.text.startswith("report: ")
    assert team.failures == []
    lead_results = claude_env.model.turn_requests("lead")[-1].tool_results
    joined = str(lead_results)
    assert "X is 7" in joined and "draft of Y" in joined
    assert stats.agents["researcher"].turns == 1
    assert stats.agents["writer"].turns == 1
    assert not claude_env.leaked_processes(settle=2)


async def test_fanout_results_as_they_finish_with_one_failure_collected(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/teams.md "Map-reduce / fan-out", on_error="collect".
    ok = claude_env.options([Turn("summary: {last_user_text}")], name="ok1")
    ok2 = claude_env.options([Turn("summary: {last_user_text}")], name="ok2")
    bad = claude_env.options(
        [Turn([ToolUse("Bash", {"command": "echo x"})], repeat=True)],
        name="bad",
        max_turns=1,
        allowed_tools=["Bash"],
    )
    seen: list[Any] = []
    with trio.fail_after(90):
        async with teams.open_fanout(ok, limit=2, on_error="collect") as fan:
            fan.submit("Summarise trio", name="trio-topic")
            fan.submit("Summarise anyio", name="anyio-topic", options=ok2)
            fan.submit("Summarise loops", name="loop-topic", options=bad)
            async for outcome in fan.results():
                seen.append(outcome)
            everything = await fan.gather()
    assert sorted(o.agent.name if hasattr(o.agent, "name") else o.agent for o in seen) == [
        "anyio-topic",
        "loop-topic",
        "trio-topic",
    ]
    assert [o.index for o in everything] == [0, 1, 2]
    assert everything[0].ok and everything[0].text == "summary: Summarise trio"
    assert everything[1].ok and everything[1].text == "summary: Summarise anyio"
    assert not everything[2].ok
    assert isinstance(everything[2].error, tc.ResultError)
    assert len(fan.failures) == 1
    assert not claude_env.leaked_processes(settle=2)


# ---- round two, harder edges -----------------------------------------------------------------


def test_blocking_turn_with_a_deadline_through_call_then_a_clean_turn(tmp_path: Path) -> None:
    # docs/blocking.md "A turn with a deadline", the example as written.
    async def run_within(session: Any, prompt: str, seconds: float) -> Any:
        with trio.move_on_after(seconds):
            return await session.run(prompt)
        return None

    with open_claude_test_env_blocking(tmp_path) as env:
        script = [
            Turn("essay " * 2000, delay=0.01, match=prompt_has("essay")),
            Turn("short answer", match=prompt_has("short")),
        ]
        options = env.options(script, name="dl")
        with tcb.open_session(options) as session:
            assert session.call(run_within, "write a long essay", 1.0) is None
            turn = session.run("something short")
            assert turn.text == "short answer"
        assert not env.leaked_processes(settle=2)


def test_a_callback_calling_its_own_blocking_session_fails_closed(tmp_path: Path) -> None:
    # docs/blocking.md "Callbacks": such a call "raises BlockingUsageError instead of
    # deadlocking (and a permission callback that raises fails closed: the tool is denied)".
    with open_claude_test_env_blocking(tmp_path) as env:
        target = env.project / "x.txt"
        holder: dict[str, Any] = {}
        raised: list[BaseException] = []

        async def policy(tool: str, tool_input: dict[str, Any], context: Any) -> Any:
            try:
                holder["session"].statistics()  # the blocking API of its own session
            except tcb.BlockingUsageError as exc:
                raised.append(exc)
                raise
            return tc.PermissionResultAllow()

        script = [
            Turn([ToolUse("Write", {"file_path": str(target), "content": "x"})]),
            Turn("result: {last_tool_result}", match=Match(has_tool_result=True)),
        ]
        options = env.options(script, name="self", can_use_tool=policy)
        done = threading.Event()
        box: dict[str, Any] = {}

        def app() -> None:
            with tcb.open_session(options) as session:
                holder["session"] = session
                box["turn"] = session.run("write x")
            done.set()

        t = threading.Thread(target=app, daemon=True)
        t.start()
        t.join(60)
        assert done.is_set(), "deadlocked"
        assert len(raised) == 1
        assert not target.exists()
        assert "result: " in box["turn"].text


def test_two_threads_receiving_one_blocking_stream_is_a_usage_error(tmp_path: Path) -> None:
    # docs/blocking.md "Receiving is single-consumer": a receiving call made while another
    # thread is inside one "raises BlockingUsageError at once, and sends nothing".
    with open_claude_test_env_blocking(tmp_path) as env:
        script = [
            Turn("slow " * 300, delay=0.01, match=prompt_has("slow")),
            Turn("never", match=prompt_has("second")),
        ]
        options = env.options(script, name="two")
        with tcb.open_session(options) as session:
            session.send("slow please")
            stream = session.receive_response()
            started = threading.Event()
            seen: list[Any] = []

            def reader() -> None:
                for message in stream:
                    started.set()
                    seen.append(message)

            t = threading.Thread(target=reader)
            t.start()
            assert started.wait(30)
            try:
                session.run("second prompt")
            except tcb.BlockingUsageError:
                pass
            else:
                raise AssertionError("a second receiver was let in")
            t.join(60)
            assert isinstance(seen[-1], tc.ResultMessage)
        requests = env.model.turn_requests("two")
        assert all("second prompt" not in r.last_user_text for r in requests)


async def test_telemetry_a_subagents_tool_nests_under_the_agent_tool_span(
    claude_env: ClaudeTestEnv,
) -> None:
    # docs/telemetry.md: "A tool call of a subagent nests under the Task tool span that
    # started it (its parent_tool_use_id)."
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    script = [
        Turn(
            [
                ToolUse(
                    "Agent", {"description": "d", "prompt": "list files", "subagent_type": "claude"}
                )
            ],
            match=Match(subagent=False, has_tool_result=False),
        ),
        Turn(
            [ToolUse("Bash", {"command": "echo sub-ran"})],
            match=Match(subagent=True, has_tool_result=False),
        ),
        Turn("sub: {last_tool_result}", match=Match(subagent=True, has_tool_result=True)),
        Turn("main done", match=Match(subagent=False)),
    ]
    options = claude_env.options(
        script, name="subotel", telemetry=provider, allowed_tools=["Bash", "Agent"]
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("delegate")
    assert turn.text == "main done"
    spans = exporter.get_finished_spans()
    (agent,) = [s for s in spans if s.name in ("execute_tool Agent", "execute_tool Task")]
    (bash,) = [s for s in spans if s.name == "execute_tool Bash"]
    assert bash.parent is not None
    assert bash.parent.span_id == agent.context.span_id


async def test_telemetry_in_process_mcp_tool_callback_span(claude_env: ClaudeTestEnv) -> None:
    # docs/telemetry.md: "claude.callback <subtype>" for mcp_message with claude.mcp.server /
    # claude.mcp.method; an execute_tool span for the tool itself.
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    @tc.tool("add", "Adds two numbers", {"a": int, "b": int})
    async def add(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    server = tc.create_sdk_mcp_server("calc", tools=[add])
    script = [
        Turn([ToolUse("mcp__calc__add", {"a": 2, "b": 3})]),
        Turn("sum is {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    options = claude_env.options(
        script,
        name="mcpotel",
        telemetry=provider,
        mcp_servers={"calc": server},
        allowed_tools=["mcp__calc__add"],
    )
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            turn = await session.run("add 2 and 3")
    assert turn.text == "sum is 5"
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans].count("execute_tool mcp__calc__add") == 1
    calls = [
        s
        for s in spans
        if s.name == "claude.callback mcp_message"
        and (s.attributes or {}).get("claude.mcp.method") == "tools/call"
    ]
    assert len(calls) == 1
    assert (calls[0].attributes or {})["claude.mcp.server"] == "calc"
    assert (calls[0].attributes or {})["claude.callback.outcome"] == "answered"


async def test_store_continue_conversation_on_a_second_node(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    # docs/sessions.md "Resuming from a store": continue_conversation=True "picks the store's
    # newest session of cwd".
    db = tmp_path / "c.db"
    node2 = tmp_path / "node2"
    node2.mkdir()
    with trio.fail_after(60):
        async with tc.SQLiteSessionStore(db) as store:
            old = claude_env.options([Turn("old")], name="old", session_store=store)
            async with tc.open_session(old) as session:
                await session.run("o1. older conversation")
            new = claude_env.options([Turn("new")], name="new", session_store=store)
            async with tc.open_session(new) as session:
                await session.run("n1. newer conversation")
                newest = session.session_id
            cont = claude_env.options(
                [Turn("continued")],
                name="cont",
                session_store=store,
                continue_conversation=True,
                env={"CLAUDE_CONFIG_DIR": str(node2)},
            )
            async with tc.open_session(cont) as session:
                turn = await session.run("c1. go on")
                assert session.session_id == newest
    assert turn.text == "continued"
    request = claude_env.model.turn_requests("cont")[0]
    assert "newer conversation" in str(request.messages)
    assert "older conversation" not in str(request.messages)


async def test_store_mirrors_a_subagent_transcript(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    # docs/sessions.md: subagent transcripts are mirrored under subagents/... subkeys;
    # list_subagents_from_store / get_subagent_messages_from_store read them back.
    script = [
        Turn(
            [
                ToolUse(
                    "Agent", {"description": "d", "prompt": "say sub", "subagent_type": "claude"}
                )
            ],
            match=Match(subagent=False, has_tool_result=False),
        ),
        Turn("sub answer", match=Match(subagent=True)),
        Turn("main done", match=Match(subagent=False)),
    ]
    with trio.fail_after(60):
        async with tc.SQLiteSessionStore(tmp_path / "sub.db") as store:
            options = claude_env.options(script, name="subm", session_store=store)
            async with tc.open_session(options) as session:
                turn = await session.run("delegate")
                session_id = session.session_id
            assert turn.text == "main done"
            assert session_id is not None
            on_disk = await tc.alist_subagents(
                session_id, claude_env.project, config_dir=claude_env.config_dir
            )
            in_store = await tc.list_subagents_from_store(
                store, session_id, directory=claude_env.project
            )
            assert on_disk and sorted(in_store) == sorted(on_disk)
            sub = await tc.get_subagent_messages_from_store(
                store, session_id, in_store[0], directory=claude_env.project
            )
            assert any("sub answer" in str(m.message) for m in sub)
            assert all(m.parent_tool_use_id for m in sub)


async def test_resumable_session_with_a_store_on_a_second_node_after_idle_release(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    # docs/sessions.md: "With a session_store, the resume loads the transcript from the store";
    # a service node with an empty config dir of its own.
    node = tmp_path / "node"
    node.mkdir()
    script = [
        Turn("noted 7", match=prompt_has("q1.")),
        Turn("it was 7", match=prompt_has("q2.")),
    ]
    with trio.fail_after(60):
        async with tc.SQLiteSessionStore(tmp_path / "r.db") as store:
            options = claude_env.options(
                script, name="rs", session_store=store, env={"CLAUDE_CONFIG_DIR": str(node)}
            )
            async with tc.open_resumable_session(options) as session:
                await session.run("q1. remember 7")
                assert await session.release()
                turn = await session.run("q2. what was it")
            assert turn.text == "it was 7"
            messages = await tc.get_session_messages_from_store(
                store, str(session.session_id), directory=claude_env.project
            )
            assert len(messages) == 4
    assert "remember 7" in str(claude_env.model.turn_requests("rs")[-1].messages)


async def test_team_a_failed_delegation_is_reported_to_the_lead(claude_env: ClaudeTestEnv) -> None:
    # docs/teams.md: on_error="report" (default): "a failed delegation is recorded in
    # team.failures and the lead gets an error tool result (delegation to x failed: ...)".
    lead_script = [
        Turn([ToolUse("mcp__team__delegate", {"teammate": "flaky", "task": "loop"})]),
        Turn("lead saw: {last_tool_result}", match=Match(has_tool_result=True)),
    ]
    lead = claude_env.options(lead_script, name="lead2")
    flaky = claude_env.options(
        [Turn([ToolUse("Bash", {"command": "echo x"})], repeat=True)],
        name="flaky",
        max_turns=1,
        allowed_tools=["Bash"],
    )
    good = claude_env.options([Turn("fine")], name="good")
    with trio.fail_after(90):
        async with teams.open_team(lead, {"flaky": flaky, "good": good}) as team:
            turn = await team.run("do it")
            direct = await team.delegate("good", "hello from code")
    assert "delegation to flaky failed" in turn.text
    assert len(team.failures) == 1
    assert (
        team.failures[0].agent == "flaky"
        or getattr(team.failures[0].agent, "name", None) == "flaky"
    )
    assert direct.text == "fine"


async def test_team_delegate_to_an_unknown_teammate_is_a_typed_error(
    claude_env: ClaudeTestEnv,
) -> None:
    # A newcomer's typo in team.delegate(): a typed ClaudeSDKError naming the teammate.
    lead = claude_env.options([Turn("unused")], name="lead3")
    mate = claude_env.options([Turn("unused")], name="mate3")
    with trio.fail_after(60):
        async with teams.open_team(lead, {"mate": mate}) as team:
            try:
                await team.delegate("mtae", "hi")
            except tc.ClaudeSDKError as exc:
                assert "mtae" in str(exc)
            else:
                raise AssertionError("delegating to an unknown teammate must fail")


async def test_pool_whose_cli_cannot_start_reports_the_start_error(
    claude_env: ClaudeTestEnv, tmp_path: Path
) -> None:
    # docs/sessions.md "A CLI that cannot start is reported, not waited out": callers get the
    # error open_session would raise with the same options, at once; the stats show it.
    broken = tmp_path / "claude-broken"
    broken.write_text("#!/bin/sh\necho 'Error: not logged in' >&2\nexit 1\n")
    broken.chmod(0o755)
    options = claude_env.options([Turn("never")], name="broken", cli_path=str(broken))
    with trio.fail_after(60):
        try:
            async with tc.open_session(options):
                pass
        except tc.ClaudeSDKError as exc:
            direct: BaseException = exc
        else:
            raise AssertionError("a broken CLI started")
        async with tc.open_session_pool(options, size=2) as pool:
            for _ in range(2):
                try:
                    async with pool.session():
                        pass
                except tc.ClaudeSDKError as exc:
                    assert type(exc) is type(direct)
                    assert not isinstance(exc, BaseExceptionGroup)
                else:
                    raise AssertionError("the pool handed out a session")
            stats = pool.statistics()
            assert stats.consecutive_failed_starts >= 1
            assert stats.last_start_error is not None


def test_blocking_query_from_a_worker_thread_streams_to_the_end(tmp_path: Path) -> None:
    # docs/blocking.md: `with tcb.query(...) as messages: for message in messages`.
    with open_claude_test_env_blocking(tmp_path) as env:
        options = env.options([Turn("streamed")], name="q")
        box: dict[str, Any] = {}

        def job() -> None:
            with tcb.query("hi", options=options) as messages:
                box["all"] = list(messages)
                box["finished"] = messages.finished

        t = threading.Thread(target=job)
        t.start()
        t.join(60)
        assert isinstance(box["all"][-1], tc.ResultMessage)
        assert box["all"][-1].result == "streamed"
        assert box["finished"] is True
        assert not env.leaked_processes(settle=2)


async def _two_request_tasks_share_one_session(session: Any) -> dict[str, Any]:
    outcome: dict[str, Any] = {}

    async def handle(prompt: str) -> None:
        try:
            outcome[prompt] = (await session.run(prompt)).text
        except tc.ConcurrentReceiveError as exc:
            outcome[prompt] = exc

    async with trio.open_nursery() as nursery:
        nursery.start_soon(handle, "A. first request")
        nursery.start_soon(handle, "B. second request")
    return outcome


async def test_service_run_refused_as_a_concurrent_receive_sends_nothing(
    claude_env: ClaudeTestEnv,
) -> None:
    # A service whose request tasks share one session without a lock. docs/concurrency.md:
    # the second receiver "raises ConcurrentReceiveError"; run() refuses rather than leave a
    # turn nobody receives (as TurnInProgressError "sends nothing", and the blocking facade's
    # concurrent receive "sends nothing"). The refused request must not reach the model, and
    # the session must stay usable for the next request.
    script = [
        Turn("answer A", match=prompt_has("A.")),
        Turn("answer B", match=prompt_has("B.")),
        Turn("answer C", match=prompt_has("C.")),
    ]
    options = claude_env.options(script, name="shared")
    with trio.fail_after(60):
        async with tc.open_session(options) as session:
            outcome = await _two_request_tasks_share_one_session(session)
            refused = [p for p, v in outcome.items() if isinstance(v, tc.ConcurrentReceiveError)]
            assert len(refused) == 1
            sent = [r.last_user_text for r in claude_env.model.turn_requests("shared")]
            assert not any(refused[0] in text for text in sent), sent
            turn = await session.run("C. third request")
            assert turn.text == "answer C"
