"""The official SDK's own examples (``claude-agent-sdk-python/examples``), round two.

Each test is a condensed version, in our own words, of what one official example exercises
(named in the comment above it), after the import rename, run against the real pinned CLI and
the fake model. It asserts what the example expects to see. The parts of the examples already
covered elsewhere (``test_official_callbacks_with_tool_calls_e2e.py``,
``test_query_official_e2e.py``, ...) are left out.

The ``claude_env`` fixture fails a test that leaves a CLI process behind.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as claude_agent_sdk
from tests._helpers import require_cli
from trio_claude import (
    AgentDefinition,
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    CLIConnectionError,
    ResultMessage,
    SystemMessage,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
    create_sdk_mcp_server,
    query,
    tool,
)
from trio_claude.testing import ClaudeTestEnv, Match, Text, Thinking, ToolUse, Turn, Usage
from trio_claude.testing.session_store_conformance import run_session_store_conformance
from trio_claude.types import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStore,
    SessionStoreEntry,
    SessionStoreListEntry,
    StreamEvent,
    ThinkingBlock,
)

LIMIT = 60  # seconds: a hang detector, not a timing assertion


def text_of(messages: list[Any]) -> str:
    return "".join(
        block.text
        for m in messages
        if isinstance(m, AssistantMessage)
        for block in m.content
        if isinstance(block, TextBlock)
    )


def init_of(messages: list[Any]) -> SystemMessage:
    (init,) = [m for m in messages if isinstance(m, SystemMessage) and m.subtype == "init"]
    return init


def use_env_without_options(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch, name: str, script: list[Any]
) -> None:
    """For examples that pass no options: the CLI inherits the process environment and cwd."""
    monkeypatch.setenv("TRIO_CLAUDE_CLI", require_cli())
    claude_env.model.session_base_url(name, script)
    for key, value in claude_env.env(name).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(claude_env.project)


# ---------------------------------------------------------------- examples/quick_start.py
# basic_example / max_budget_usd.py without_budget / system_prompt.py no_system_prompt:
# ``query(prompt=...)`` with no options at all.


async def test_quick_start_query_without_options(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env_without_options(claude_env, monkeypatch, "bare", [Turn("4")])
    seen: list[Any] = []
    with trio.fail_after(LIMIT):
        async for message in query(prompt="What is 2 + 2?"):
            seen.append(message)
    assert text_of(seen) == "4"
    assert isinstance(seen[-1], ResultMessage) and seen[-1].subtype == "success"
    (request,) = claude_env.model.turn_requests("bare")
    assert request.last_user_text == "What is 2 + 2?"


# quick_start.py with_options_example and with_tools_example: a string system prompt,
# max_turns, allowed_tools Read/Write, and ``message.total_cost_usd > 0``.


async def test_quick_start_with_options_and_tools(claude_env: ClaudeTestEnv) -> None:
    hello = claude_env.project / "hello.txt"
    options = claude_env.options(
        [Turn("Python is a language.")],
        name="opts",
        system_prompt="You are a helpful assistant that explains things simply.",
        max_turns=1,
    )
    with trio.fail_after(LIMIT):
        first = [
            m
            async for m in query(prompt="Explain what Python is in one sentence.", options=options)
        ]
    assert text_of(first) == "Python is a language."
    (request,) = claude_env.model.turn_requests("opts")
    assert "You are a helpful assistant that explains things simply." in request.system_text

    options = claude_env.options(
        [
            Turn(
                [ToolUse("Write", {"file_path": str(hello), "content": "Hello, World!"})],
                usage=Usage(input_tokens=1000, output_tokens=100),
            ),
            Turn("Created.", match=Match(has_tool_result=True)),
        ],
        name="tools",
        allowed_tools=["Read", "Write"],
        system_prompt="You are a helpful file assistant.",
    )
    costs: list[float] = []
    with trio.fail_after(LIMIT):
        async for message in query(
            prompt="Create a file called hello.txt with 'Hello, World!' in it", options=options
        ):
            if isinstance(message, ResultMessage) and message.total_cost_usd > 0:  # type: ignore[operator]
                costs.append(message.total_cost_usd)  # type: ignore[arg-type]
    assert hello.read_text() == "Hello, World!"
    assert len(costs) == 1 and f"${costs[0]:.4f}".startswith("$")


# ---------------------------------------------------------------- examples/system_prompt.py


@pytest.mark.parametrize(
    ("system_prompt", "present", "absent"),
    [
        (
            "You are a pirate assistant. Respond in pirate speak.",
            ["You are a pirate assistant. Respond in pirate speak."],
            ["Claude Code"],
        ),
        ({"type": "preset", "preset": "claude_code"}, ["Claude Code"], []),
        (
            {
                "type": "preset",
                "preset": "claude_code",
                "append": "Always end your response with a fun fact.",
            },
            ["Claude Code", "Always end your response with a fun fact."],
            [],
        ),
    ],
    ids=["string", "preset", "preset_with_append"],
)
async def test_system_prompt_forms(
    claude_env: ClaudeTestEnv, system_prompt: Any, present: list[str], absent: list[str]
) -> None:
    options = claude_env.options([Turn("4")], name="sp", system_prompt=system_prompt)
    with trio.fail_after(LIMIT):
        seen = [m async for m in query(prompt="What is 2 + 2?", options=options)]
    assert text_of(seen) == "4"
    (request,) = claude_env.model.turn_requests("sp")
    for text in present:
        assert text in request.system_text
    for text in absent:
        assert text not in request.system_text


# ---------------------------------------------------------------- examples/tools_option.py


async def test_tools_option_array_empty_and_preset(claude_env: ClaudeTestEnv) -> None:
    async def init_tools(tools: Any) -> list[str]:
        options = claude_env.options([Turn("my tools")], tools=tools, max_turns=1)
        seen: list[Any] = []
        async for message in query(
            prompt="What tools do you have available? Just list them briefly.", options=options
        ):
            seen.append(message)
        assert text_of(seen) == "my tools"
        return list(init_of(seen).data.get("tools", []))

    with trio.fail_after(LIMIT):
        assert sorted(await init_tools(["Read", "Glob", "Grep"])) == ["Glob", "Grep", "Read"]
        assert await init_tools([]) == []
        preset = await init_tools({"type": "preset", "preset": "claude_code"})
    assert {"Bash", "Read", "Write", "Edit"} <= set(preset)


# ---------------------------------------------------------------- examples/plugin_example.py


async def test_plugin_example_local_plugin_in_init(claude_env: ClaudeTestEnv) -> None:
    plugin = claude_env.root / "plugins" / "demo-plugin"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / "commands").mkdir()
    (plugin / ".claude-plugin" / "plugin.json").write_text(
        json.dumps({"name": "demo-plugin", "description": "demo", "version": "1.0.0"})
    )
    (plugin / "commands" / "greet.md").write_text("# Greet Command\n\nGreet the user warmly.\n")
    options = claude_env.options(
        [Turn("Hello!")], plugins=[{"type": "local", "path": str(plugin)}], max_turns=1
    )
    with trio.fail_after(LIMIT):
        seen = [m async for m in query(prompt="Hello!", options=options)]
    data = init_of(seen).data
    assert "plugins" in list(data.keys())
    names = [(p.get("name"), p.get("path")) for p in data.get("plugins", [])]
    assert ("demo-plugin", str(plugin)) in names
    assert any("greet" in c for c in data.get("slash_commands", []))


# ------------------------------------------------------------ examples/filesystem_agents.py


async def test_filesystem_agents_loaded_from_project(claude_env: ClaudeTestEnv) -> None:
    agents = claude_env.project / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "test-agent.md").write_text(
        "---\nname: test-agent\ndescription: A test agent\ntools: Read\n---\n\nYou test things.\n"
    )
    options = claude_env.options(
        [Turn("Hello there friend")], setting_sources=["project"], cwd=Path(claude_env.project)
    )
    message_types: list[str] = []
    agents_found: list[str] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("Say hello in exactly 3 words")
            async for msg in client.receive_response():
                message_types.append(type(msg).__name__)
                if isinstance(msg, SystemMessage) and msg.subtype == "init":
                    for a in msg.data.get("agents", []):
                        agents_found.append(a if isinstance(a, str) else a.get("name", ""))
    assert "test-agent" in agents_found
    assert message_types[-1] == "ResultMessage"
    # The example's own check (``has_init = "SystemMessage" in message_types``) compares class
    # names: officially the init frame is a plain ``SystemMessage``; here it is the typed
    # subclass ``InitMessage`` (``isinstance(msg, SystemMessage)`` holds). A documented
    # difference (docs/migration.md names this example), checked as documented.
    assert {"InitMessage", "AssistantMessage", "ResultMessage"} <= set(message_types)


# ---------------------------------------------------------------- examples/setting_sources.py
# example_default: no ``setting_sources`` loads the CLI's defaults (project commands included);
# every example ``break``s out of ``receive_response()`` at the init message and leaves the
# ``async with`` while the turn still runs.


async def test_setting_sources_default_and_break_at_init(claude_env: ClaudeTestEnv) -> None:
    commands = claude_env.project / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "commit.md").write_text("Commit the changes.\n")
    options = claude_env.options([Turn("4", delay=0.05)], cwd=Path(claude_env.project))
    found: list[str] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("What is 2 + 2?")
            async for msg in client.receive_response():
                if isinstance(msg, SystemMessage) and msg.subtype == "init":
                    found = list(msg.data.get("slash_commands", []))
                    break
    assert "commit" in found
    assert not claude_env.leaked_processes(settle=2)


# ---------------------------------------------------------------------- examples/agents.py
# multiple_agents_example: two inline agents (one without a model) plus setting_sources.


async def test_agents_multiple_inline_agents_with_setting_sources(
    claude_env: ClaudeTestEnv,
) -> None:
    options = claude_env.options(
        [Turn("found them")],
        agents={
            "analyzer": AgentDefinition(
                description="Analyzes code structure and patterns",
                prompt="You are a code analyzer.",
                tools=["Read", "Grep", "Glob"],
            ),
            "tester": AgentDefinition(
                description="Creates and runs tests",
                prompt="You are a testing expert.",
                tools=["Read", "Write", "Bash"],
                model="sonnet",
            ),
        },
        setting_sources=["user", "project"],
    )
    with trio.fail_after(LIMIT):
        seen = [
            m
            async for m in query(
                prompt="Use the analyzer agent to find all Python files", options=options
            )
        ]
    agents = [a if isinstance(a, str) else a.get("name") for a in init_of(seen).data["agents"]]
    assert {"analyzer", "tester"} <= set(agents)
    result = seen[-1]
    assert isinstance(result, ResultMessage)
    assert result.total_cost_usd is None or result.total_cost_usd >= 0


# ------------------------------------------------------------ examples/streaming_mode.py
# example_basic_streaming / streaming_mode_ipython.py BASIC STREAMING: ``ClaudeSDKClient()``.


async def test_streaming_client_without_options(
    claude_env: ClaudeTestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env_without_options(claude_env, monkeypatch, "bare-client", [Turn("4"), Turn("100")])
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient() as client:
            await client.query("What is 2+2?")
            first = [m async for m in client.receive_response()]
            await client.query("What's 10*10?")
            second = [m async for m in client.receive_response()]
    assert text_of(first) == "4" and text_of(second) == "100"
    assert isinstance(first[-1], ResultMessage) and isinstance(second[-1], ResultMessage)


# example_concurrent_responses: a background task reads ``receive_messages()`` while the main
# task sends three questions; the reader is then cancelled.


async def test_streaming_concurrent_send_and_receive(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options(
        [Turn("answer: {last_user_text}", repeat=True)],
    )
    questions = ["What is 2 + 2?", "What is the square root of 144?", "What is 10% of 80?"]
    received: list[Any] = []
    results_seen = trio.Semaphore(0, max_value=100)

    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:

            async def receive_messages() -> None:
                async for message in client.receive_messages():
                    received.append(message)
                    if isinstance(message, ResultMessage):
                        results_seen.release()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(receive_messages)
                for question in questions:
                    await client.query(question)
                    await results_seen.acquire()  # in place of the example's sleep(3)
                nursery.cancel_scope.cancel()  # receive_task.cancel()
            # The client is still usable after its reader was cancelled.
            await client.query("and one more")
            last = [m async for m in client.receive_response()]

    results = [m.result for m in received if isinstance(m, ResultMessage)]
    assert results == [f"answer: {q}" for q in questions]
    assert text_of(last) == "answer: and one more"


# example_manual_message_handling: ``break`` out of ``receive_messages()`` at the result.


async def test_streaming_manual_handling_break_then_continue(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options(
        [Turn("Python for data, JavaScript for the web, Rust for systems."), Turn("Go too")]
    )
    languages_found: list[str] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("List 5 programming languages and their main use cases")
            async for message in client.receive_messages():
                if isinstance(message, AssistantMessage):
                    for block in message.content:
                        if isinstance(block, TextBlock):
                            for lang in ["Python", "JavaScript", "Java", "Go", "Rust"]:
                                if lang in block.text and lang not in languages_found:
                                    languages_found.append(lang)
                elif isinstance(message, ResultMessage):
                    break
            await client.query("One more?")
            after = [m async for m in client.receive_response()]
    assert languages_found == ["Python", "JavaScript", "Java", "Rust"]
    assert text_of(after) == "Go too"


# example_with_options: ``env={"ANTHROPIC_MODEL": ...}`` picks the model; tool uses are found
# with ``hasattr(block, "name") and not isinstance(block, TextBlock)``.


async def test_streaming_with_options_env_model_and_tool_names(claude_env: ClaudeTestEnv) -> None:
    hello = claude_env.project / "hello.txt"
    options = claude_env.options(
        [
            Turn(
                [Text("Creating it."), ToolUse("Write", {"file_path": str(hello), "content": "hi"})]
            ),
            Turn("Done.", match=Match(has_tool_result=True)),
        ],
        name="envmodel",
        env={"ANTHROPIC_MODEL": "claude-sonnet-4-5"},
        allowed_tools=["Read", "Write"],
        system_prompt="You are a helpful coding assistant.",
    )
    tool_uses: list[str] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("Create a simple hello.txt file with a greeting message")
            async for msg in client.receive_response():
                if isinstance(msg, AssistantMessage):
                    for block in msg.content:
                        if hasattr(block, "name") and not isinstance(block, TextBlock):
                            tool_uses.append(getattr(block, "name", ""))
    assert tool_uses == ["Write"]
    assert hello.read_text() == "hi"
    first = claude_env.model.turn_requests("envmodel")[0]
    assert first.model == "claude-sonnet-4-5"


# example_async_iterable_prompt: ``client.query(<async iterable of message dicts>)`` whose
# dicts carry ``"parent_tool_use_id": None`` and ``"session_id": "qa-session"``.


async def test_streaming_async_iterable_prompt_with_session_ids(claude_env: ClaudeTestEnv) -> None:
    prompts = [
        "Hello! I have multiple questions.",
        "First, what's the capital of Japan?",
        "Second, what's 15% of 200?",
    ]

    async def create_message_stream() -> AsyncIterator[dict[str, Any]]:
        for text in prompts:
            yield {
                "type": "user",
                "message": {"role": "user", "content": text},
                "parent_tool_use_id": None,
                "session_id": "qa-session",
            }

    options = claude_env.options([Turn("re: {last_user_text}", repeat=True)], name="iter")
    collected: list[Any] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query(create_message_stream())
            # the CLI may answer the three in fewer turns: read responses until the last one
            while "Second, what's 15% of 200?" not in text_of(collected):
                collected += [m async for m in client.receive_response()]
    assert all(not m.is_error for m in collected if isinstance(m, ResultMessage))
    sent = json.dumps([r.messages for r in claude_env.model.turn_requests("iter")])
    assert all(text in sent for text in prompts)


# example_bash_command: tool use and tool result blocks read from ``receive_messages()``.


async def test_streaming_bash_command_blocks(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options(
        [
            Turn([ToolUse("Bash", {"command": "echo 'Hello from bash!'"})]),
            Turn("It printed: {last_tool_result}", match=Match(has_tool_result=True)),
        ],
        allowed_tools=["Bash"],
    )
    message_types: list[str] = []
    uses: list[tuple[str, str, str]] = []
    results: list[tuple[str, str]] = []
    cost: list[Any] = []
    durations: list[Any] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            await client.query("Run a bash echo command that says 'Hello from bash!'")
            async for msg in client.receive_messages():
                message_types.append(type(msg).__name__)
                if isinstance(msg, UserMessage):
                    for ublock in msg.content:
                        if isinstance(ublock, ToolResultBlock):
                            shown = ublock.content[:100] if ublock.content else "None"
                            results.append((ublock.tool_use_id, str(shown)))
                elif isinstance(msg, AssistantMessage):
                    for block in msg.content:
                        if isinstance(block, ToolUseBlock):
                            uses.append((block.name, block.id, block.input.get("command", "")))
                elif isinstance(msg, ResultMessage):
                    cost.append(msg.total_cost_usd)
                    durations.append((msg.duration_ms, msg.num_turns, msg.session_id))
                    break
    ((name, use_id, command),) = uses
    assert (name, command) == ("Bash", "echo 'Hello from bash!'")
    assert results == [(use_id, "Hello from bash!")]
    assert {"AssistantMessage", "UserMessage", "ResultMessage"} <= set(message_types)
    assert len(cost) == 1
    ((duration_ms, num_turns, session_id),) = durations
    assert isinstance(duration_ms, int) and num_turns == 2 and session_id


# example_control_protocol: ``get_server_info()`` read as the initialize reply dict, then an
# interrupt while a background consumer reads ``receive_response()`` (breaking at the result),
# then a new query.


async def test_streaming_control_protocol_server_info_and_interrupt(
    claude_env: ClaudeTestEnv,
) -> None:
    marker = claude_env.project / "late"
    options = claude_env.options(
        [
            Turn([ToolUse("Bash", {"command": f"sleep 30 && touch {marker}"})]),
            Turn(
                "Hello!",
                match=Match(predicate=lambda r: r.last_user_text.endswith("Just say 'Hello!'")),
            ),
        ],
        allowed_tools=["Bash"],
    )
    messages: list[Any] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            server_info = await client.get_server_info()
            assert server_info
            commands = server_info.get("commands", [])
            assert len(commands) > 0
            assert isinstance(server_info.get("output_style", "unknown"), str)
            styles = server_info.get("available_output_styles", [])
            assert ", ".join(styles)
            assert all(isinstance(cmd, dict) and cmd.get("name") for cmd in commands[:5])

            await client.query("Count from 1 to 20 slowly, pausing between each number")
            tool_started = trio.Event()

            async def consume() -> None:
                async for msg in client.receive_response():
                    messages.append(msg)
                    if isinstance(msg, AssistantMessage):
                        tool_started.set()
                    if isinstance(msg, ResultMessage):
                        break

            async with trio.open_nursery() as nursery:
                nursery.start_soon(consume)
                await tool_started.wait()
                await client.interrupt()
            await client.query("Just say 'Hello!'")
            after = [m async for m in client.receive_response()]
    assert isinstance(messages[-1], ResultMessage)
    assert not marker.exists()
    assert text_of(after) == "Hello!"


# example_error_handling: ``connect()``, a receive under a short timeout that expires while a
# tool runs, ``disconnect()`` in ``finally``; ``CLIConnectionError`` is importable.


async def test_streaming_error_handling_timeout_then_disconnect(
    claude_env: ClaudeTestEnv,
) -> None:
    options = claude_env.options(
        [Turn([ToolUse("Bash", {"command": "sleep 30"})]), Turn("slept")], allowed_tools=["Bash"]
    )
    client = ClaudeSDKClient(options)
    messages: list[Any] = []
    timed_out = False
    with trio.fail_after(LIMIT):
        try:
            await client.connect()
            await client.query("Run a bash sleep command for 30 seconds not in the background")
            tool_seen = trio.Event()
            with trio.move_on_after(LIMIT) as scope:
                async with trio.open_nursery() as nursery:

                    async def expire() -> None:
                        await tool_seen.wait()
                        scope.cancel()  # the example's asyncio.timeout(3.0) expiring

                    nursery.start_soon(expire)
                    async for msg in client.receive_response():
                        messages.append(msg)
                        if isinstance(msg, AssistantMessage):
                            tool_seen.set()
                        elif isinstance(msg, ResultMessage):
                            break
            timed_out = scope.cancelled_caught
        except CLIConnectionError as e:
            raise AssertionError(f"Connection error: {e}") from e
        finally:
            await client.disconnect()
    assert timed_out
    assert not any(isinstance(m, ResultMessage) for m in messages)
    assert any(isinstance(m, AssistantMessage) for m in messages)
    assert not claude_env.leaked_processes(settle=2)


# ------------------------------------------------------------ examples/streaming_mode_trio.py


async def test_streaming_mode_trio_multi_turn_with_model(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options(
        [Turn("42"), Turn("84"), Turn("12.00")], name="trio3", model="claude-sonnet-4-5"
    )
    answers: list[str] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options=options) as client:
            for prompt in [
                "What's 15 + 27?",
                "Now multiply that result by 2",
                "Divide that by 7 and round to 2 decimal places",
            ]:
                await client.query(prompt)
                seen = []
                async for message in client.receive_response():
                    if isinstance(message, UserMessage):
                        for block in message.content:
                            assert not isinstance(block, TextBlock) or block.text
                    seen.append(message)
                answers.append(text_of(seen))
    assert answers == ["42", "84", "12.00"]
    requests = claude_env.model.turn_requests("trio3")
    assert [r.model for r in requests] == ["claude-sonnet-4-5"] * 3
    assert "What's 15 + 27?" in json.dumps(requests[2].messages)  # one conversation


# ------------------------------------------------------- examples/streaming_mode_ipython.py
# PERSISTENT CLIENT (connect()/disconnect() by hand) and WITH INTERRUPT CAPABILITY: a
# ``receive_messages()`` consumer that breaks at the first result after the interrupt.


async def test_ipython_persistent_client_and_interrupt_via_receive_messages(
    claude_env: ClaudeTestEnv,
) -> None:
    marker = claude_env.project / "late"
    options = claude_env.options(
        [
            Turn("4"),
            Turn([ToolUse("Bash", {"command": f"sleep 30 && touch {marker}"})]),
            Turn(
                "Hello! I was interrupted.",
                match=Match(predicate=lambda r: r.last_user_text.endswith("I was interrupted.'")),
            ),
        ],
        allowed_tools=["Bash"],
    )
    client = ClaudeSDKClient(options=options)
    received: list[Any] = []
    with trio.fail_after(LIMIT):
        await client.connect()
        try:
            await client.query("What's 2+2?")
            first = [m async for m in client.receive_response()]

            await client.query("Count from 1 to 100, run bash sleep for 1 second in between")
            interrupt_sent = False
            tool_started = trio.Event()

            async def consume_messages() -> None:
                async for msg in client.receive_messages():
                    received.append(msg)
                    if isinstance(msg, AssistantMessage):
                        tool_started.set()
                    if isinstance(msg, ResultMessage) and interrupt_sent:
                        break

            async with trio.open_nursery() as nursery:
                nursery.start_soon(consume_messages)
                await tool_started.wait()
                interrupt_sent = True
                await client.interrupt()
            await client.query("Just say 'Hello! I was interrupted.'")
            after = [m async for m in client.receive_response()]
        finally:
            await client.disconnect()
    assert text_of(first) == "4"
    assert isinstance(received[-1], ResultMessage)
    assert not marker.exists()
    assert text_of(after) == "Hello! I was interrupted."


# ------------------------------------------------------ examples/include_partial_messages.py
# model, max_turns=2, env MAX_THINKING_TOKENS, and ``print(message)`` of every message.


async def test_include_partial_messages_thinking_and_printing(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options(
        [Turn([Thinking("three jokes...", signature="sig-1"), Text("Why did the chicken...")])],
        name="partial",
        include_partial_messages=True,
        model="claude-sonnet-4-5",
        max_turns=2,
        env={"MAX_THINKING_TOKENS": "8000"},
    )
    client = ClaudeSDKClient(options)
    messages: list[Any] = []
    with trio.fail_after(LIMIT):
        try:
            await client.connect()
            await client.query("Think of three jokes, then tell one")
            async for message in client.receive_response():
                assert str(message).startswith(type(message).__name__ + "(")
                messages.append(message)
        finally:
            await client.disconnect()
    thinking = [
        b
        for m in messages
        if isinstance(m, AssistantMessage)
        for b in m.content
        if isinstance(b, ThinkingBlock)
    ]
    assert [(b.thinking, b.signature) for b in thinking] == [("three jokes...", "sig-1")]
    deltas = [
        e.event["delta"]
        for e in messages
        if isinstance(e, StreamEvent) and e.event["type"] == "content_block_delta"
    ]
    assert any(d["type"] == "thinking_delta" for d in deltas)
    assert text_of(messages) == "Why did the chicken..."
    assert claude_env.model.turn_requests("partial")[0].model == "claude-sonnet-4-5"


# ------------------------------------------------------------------ examples/mcp_calculator.py
# One server object and one options object reused by a fresh ClaudeSDKClient per prompt;
# "List your tools" sees all six tools; sqrt / power / subtract / multiply run.


@tool("add", "Add two numbers", {"a": float, "b": float})
async def add_numbers(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": [
            {"type": "text", "text": f"{args['a']} + {args['b']} = {args['a'] + args['b']}"}
        ]
    }


@tool("subtract", "Subtract one number from another", {"a": float, "b": float})
async def subtract_numbers(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": [
            {"type": "text", "text": f"{args['a']} - {args['b']} = {args['a'] - args['b']}"}
        ]
    }


@tool("multiply", "Multiply two numbers", {"a": float, "b": float})
async def multiply_numbers(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": [
            {"type": "text", "text": f"{args['a']} x {args['b']} = {args['a'] * args['b']}"}
        ]
    }


@tool("divide", "Divide one number by another", {"a": float, "b": float})
async def divide_numbers(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": f"{args['a'] / args['b']}"}]}


@tool("sqrt", "Calculate square root", {"n": float})
async def square_root(args: dict[str, Any]) -> dict[str, Any]:
    n = args["n"]
    if n < 0:
        return {
            "content": [{"type": "text", "text": f"Error: negative number {n}"}],
            "is_error": True,
        }
    return {"content": [{"type": "text", "text": f"√{n} = {n**0.5}"}]}


@tool("power", "Raise a number to a power", {"base": float, "exponent": float})
async def power(args: dict[str, Any]) -> dict[str, Any]:
    result = args["base"] ** args["exponent"]
    return {"content": [{"type": "text", "text": f"{args['base']}^{args['exponent']} = {result}"}]}


CALC_TOOLS = ["add", "subtract", "multiply", "divide", "sqrt", "power"]


def calc_turns(name: str, args: dict[str, Any]) -> list[Any]:
    return [
        Turn(
            [
                ToolUse(
                    "ToolSearch",
                    {"query": f"select:mcp__calc__{name}", "max_results": 5},
                )
            ]
        ),
        Turn([ToolUse(f"mcp__calc__{name}", args)], match=Match(has_tool_result=True)),
        Turn("= {last_tool_result}", match=Match(has_tool_result=True)),
    ]


async def test_mcp_calculator_one_server_many_clients(claude_env: ClaudeTestEnv) -> None:
    calculator = create_sdk_mcp_server(
        name="calculator",
        version="2.0.0",
        tools=[
            add_numbers,
            subtract_numbers,
            multiply_numbers,
            divide_numbers,
            square_root,
            power,
        ],
    )
    script = [
        Turn("I have six tools."),
        *calc_turns("sqrt", {"n": 144}),
        *calc_turns("power", {"base": 2, "exponent": 8}),
        *calc_turns("subtract", {"a": 20, "b": 5}),
        *calc_turns("multiply", {"a": 20, "b": 3}),
    ]
    options = claude_env.options(
        script,
        name="calc",
        mcp_servers={"calc": calculator},
        allowed_tools=[f"mcp__calc__{t}" for t in CALC_TOOLS],
    )
    prompts = [
        "List your tools",
        "Calculate the square root of 144",
        "What is 2 raised to the power of 8?",
        "Calculate 20 - 5",
        "Calculate 20 * 3",
    ]
    answers: list[str] = []
    tool_result_previews: list[Any] = []
    with trio.fail_after(LIMIT * 2):
        for prompt in prompts:
            async with ClaudeSDKClient(options=options) as client:
                await client.query(prompt)
                seen = []
                async for message in client.receive_response():
                    seen.append(message)
                    if isinstance(message, UserMessage):
                        for block in message.content:
                            if isinstance(block, ToolResultBlock) and block.content:
                                tool_result_previews.append(block.content[:100])
            answers.append(text_of(seen))
    assert answers == [
        "I have six tools.",
        "= √144 = 12.0",
        "= 2^8 = 256",
        "= 20 - 5 = 15",
        "= 20 x 3 = 60",
    ]
    first = claude_env.model.turn_requests("calc")[0]
    listed = json.dumps([first.tools, first.messages, first.system_text])  # or deferred
    assert all(f"mcp__calc__{t}" in listed for t in CALC_TOOLS)
    assert len(tool_result_previews) >= 4


# --------------------------------------------------------- examples/session_stores/*.py
# A store written like the S3 reference adapter: a subclass of ``SessionStore`` whose backend
# calls run in a worker thread through anyio (``trio.to_thread.run_sync``), validated with
# ``run_session_store_conformance`` and then used to mirror and resume a session.


class BlobSessionStore(SessionStore):
    """Part files in a dict, one per append, as the S3 adapter keeps objects."""

    def __init__(self) -> None:
        self._objects: dict[str, tuple[int, bytes]] = {}
        self._seq = 0

    @staticmethod
    def _prefix(key: SessionKey | SessionListSubkeysKey) -> str:
        base = f"{key['project_key']}/{key['session_id']}/"
        subpath = key.get("subpath")
        return base + (f"sub/{subpath}/" if subpath else "main/")

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        if not entries:
            return
        self._seq += 1
        name = f"{self._prefix(key)}part-{self._seq:013d}.jsonl"
        body = "\n".join(json.dumps(e) for e in entries).encode()

        def put() -> None:
            self._objects[name] = (int(time.time() * 1000), body)

        await trio.to_thread.run_sync(put)

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        prefix = self._prefix(key)

        def get() -> list[bytes]:
            return [self._objects[k][1] for k in sorted(self._objects) if k.startswith(prefix)]

        bodies = await trio.to_thread.run_sync(get)
        if not bodies:
            return None
        return [json.loads(line) for body in bodies for line in body.decode().splitlines()]

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        latest: dict[str, int] = {}
        for name, (mtime, _) in list(self._objects.items()):
            project, session_id, kind = name.split("/")[:3]
            if project == project_key and kind == "main":
                latest[session_id] = max(mtime, latest.get(session_id, 0))
        await trio.lowlevel.checkpoint()
        return [{"session_id": s, "mtime": m} for s, m in latest.items()]

    async def delete(self, key: SessionKey) -> None:
        if key.get("subpath"):
            prefix = self._prefix(key)
        else:
            prefix = f"{key['project_key']}/{key['session_id']}/"
        for name in [n for n in self._objects if n.startswith(prefix)]:
            del self._objects[name]
        await trio.lowlevel.checkpoint()

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        prefix = f"{key['project_key']}/{key['session_id']}/sub/"
        subs = {n[len(prefix) :].rsplit("/", 1)[0] for n in self._objects if n.startswith(prefix)}
        await trio.lowlevel.checkpoint()
        return sorted(subs)


async def test_session_store_subclass_conformance_and_resume(claude_env: ClaudeTestEnv) -> None:
    with trio.fail_after(LIMIT):
        await run_session_store_conformance(BlobSessionStore)

    store = BlobSessionStore()
    options = claude_env.options([Turn("noted: 7")], name="s1", session_store=store)
    with trio.fail_after(LIMIT):
        first = [m async for m in query(prompt="remember 7", options=options)]
    assert isinstance(first[-1], ResultMessage)
    session_id = first[-1].session_id
    project_key = claude_agent_sdk.project_key_for_directory(claude_env.project)
    assert [s["session_id"] for s in await store.list_sessions(project_key)] == [session_id]

    again = claude_env.options(
        [Turn("you said 7")],
        name="s2",
        session_store=store,
        resume=session_id,
        env={"CLAUDE_CONFIG_DIR": str(claude_env.root / "fresh-config")},
    )
    with trio.fail_after(LIMIT):
        second = [m async for m in query(prompt="what number?", options=again)]
    assert text_of(second) == "you said 7"
    (request,) = claude_env.model.turn_requests("s2")
    assert "remember 7" in json.dumps(request.messages)


# session_stores/README.md: "append() failures are logged and emit a MirrorErrorMessage; they
# never block the conversation."


class FailingStore(BlobSessionStore):
    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        await trio.lowlevel.checkpoint()
        raise ConnectionError("bucket unreachable")


async def test_session_store_append_failure_is_reported_within_the_turn(
    claude_env: ClaudeTestEnv,
) -> None:
    """Officially the mirror is flushed before a result is handed over, so a failed append's
    ``MirrorErrorMessage`` comes before that turn's ``ResultMessage``: inside the
    ``receive_response()`` of the turn, where a monitoring loop sees it."""
    options = claude_env.options(
        [Turn("still answered"), Turn("second")], session_store=FailingStore()
    )
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options) as client:
            await client.query("hi")
            first = [m async for m in client.receive_response()]
            await client.query("again")
            second = [m async for m in client.receive_response()]
    assert text_of(first) == "still answered" and text_of(second) == "second"
    assert isinstance(first[-1], ResultMessage) and not first[-1].is_error
    errors = [m for m in first if isinstance(m, claude_agent_sdk.MirrorErrorMessage)]
    assert errors, "no MirrorErrorMessage before the first turn's result: " + repr(
        [type(m).__name__ for m in first + second]
    )
    assert errors[0].subtype == "mirror_error" and isinstance(errors[0], SystemMessage)
    assert "bucket unreachable" in errors[0].error
    assert errors[0].key is not None and errors[0].key["session_id"] == first[-1].session_id


async def test_query_mirror_error_comes_before_the_result(claude_env: ClaudeTestEnv) -> None:
    """The iterator form of ``query()``: same official order (mirror error, then result)."""
    options = claude_env.options([Turn("still answered")], session_store=FailingStore())
    with trio.fail_after(LIMIT):
        seen = [m async for m in query(prompt="hi", options=options)]
    names = [type(m).__name__ for m in seen]
    assert "MirrorErrorMessage" in names and "ResultMessage" in names
    assert names.index("MirrorErrorMessage") < names.index("ResultMessage"), names


async def test_session_store_is_up_to_date_when_the_result_is_seen(
    claude_env: ClaudeTestEnv,
) -> None:
    """The official read loop flushes the mirror before yielding each result: a consumer that
    sees the result can rely on the store holding the turn."""
    store = BlobSessionStore()
    options = claude_env.options([Turn("MIRRORED-ANSWER-1")], session_store=store)
    stored_at_result: list[str] = []
    with trio.fail_after(LIMIT):
        async with ClaudeSDKClient(options) as client:
            await client.query("hi")
            async for m in client.receive_response():
                if isinstance(m, ResultMessage):
                    key: SessionKey = {
                        "project_key": claude_agent_sdk.project_key_for_directory(
                            claude_env.project
                        ),
                        "session_id": m.session_id,
                    }
                    stored_at_result.append(json.dumps(await store.load(key)))
    assert len(stored_at_result) == 1
    assert "MIRRORED-ANSWER-1" in stored_at_result[0]


# ------------------------------------------------------------------ examples/max_budget_usd.py
# with_reasonable_budget: a budget that is not reached ends with ``subtype == "success"``.


async def test_max_budget_reasonable_budget_succeeds(claude_env: ClaudeTestEnv) -> None:
    options = claude_env.options([Turn("4")], max_budget_usd=0.10)
    statuses: list[str] = []
    with trio.fail_after(LIMIT):
        async for message in query(prompt="What is 2 + 2?", options=options):
            if isinstance(message, ResultMessage):
                if message.total_cost_usd:
                    assert f"{message.total_cost_usd:.4f}"
                statuses.append(message.subtype)
    assert statuses == ["success"]


def test_options_object_is_the_official_class() -> None:
    assert ClaudeAgentOptions is claude_agent_sdk.ClaudeAgentOptions
