"""The real ``claude`` CLI against the fake model server, fully offline."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
import trio

from trio_claude.testing._fake_model import (
    FakeModel,
    HTTPError,
    Script,
    StreamError,
    Text,
    Thinking,
    ToolUse,
    Turn,
    open_fake_model,
)

pytestmark = pytest.mark.e2e


def _pinned_cli() -> str | None:
    """The CLI that ``python -m trio_claude install-cli`` puts in the per-user cache."""
    try:
        from trio_claude._transport._discovery import default_install_dir, installed_cli_path
    except ImportError:  # pragma: no cover
        return None
    return str(installed_cli_path(default_install_dir()))


def _find_cli() -> str | None:
    """``$TRIO_CLAUDE_TEST_CLI``, else the pinned one ``install-cli`` puts in the cache."""
    explicit = os.environ.get("TRIO_CLAUDE_TEST_CLI")
    candidates = [explicit] if explicit else [_pinned_cli()]
    for candidate in candidates:
        if not candidate:
            continue
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
        if os.sep not in candidate and (found := shutil.which(candidate)):
            return found
    return None


@pytest.fixture
def cli() -> str:
    path = _find_cli()
    if path is None:
        pytest.skip("claude CLI not found (set TRIO_CLAUDE_TEST_CLI)")
    return path


@attrs.define
class Run:
    returncode: int
    frames: list[dict[str, Any]]
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        results = [f for f in self.frames if f.get("type") == "result"]
        assert results, f"no result frame; stderr: {self.stderr[-2000:]}"
        return results[-1]

    def assistant_blocks(self) -> list[dict[str, Any]]:
        return [
            block
            for f in self.frames
            if f.get("type") == "assistant"
            for block in f["message"]["content"]
        ]


def _line(obj: dict[str, Any]) -> bytes:
    return orjson.dumps(obj) + b"\n"


async def run_cli(
    cli: str,
    base_url: str,
    tmp_path: Path,
    *,
    prompt: str | tuple[str, ...] = "hi",
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    before_prompt: tuple[dict[str, Any], ...] = (),
    name: str = "run",
) -> Run:
    """One-shot stream-json session: initialize, (control requests), prompt, close stdin."""
    root = tmp_path / name
    home, config, project = root / "home", root / "config", root / "project"
    for d in (home, config, project):
        d.mkdir(parents=True)
    (home / ".bashrc").write_text("")
    (home / ".profile").write_text("")
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(config),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-ant-dummy",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "IS_SANDBOX": "1",
        **(env or {}),
    }
    stdin = _line(
        {
            "type": "control_request",
            "request_id": "req_1",
            "request": {"subtype": "initialize", "hooks": None},
        }
    )
    for i, request in enumerate(before_prompt, start=2):
        stdin += _line({"type": "control_request", "request_id": f"req_{i}", "request": request})
    for text in (prompt,) if isinstance(prompt, str) else prompt:
        stdin += _line(
            {
                "type": "user",
                "session_id": "",
                "message": {"role": "user", "content": text},
                "parent_tool_use_id": None,
            }
        )
    argv = [
        cli,
        "--output-format",
        "stream-json",
        "--verbose",
        "--system-prompt",
        "",
        "--input-format",
        "stream-json",
        *args,
    ]
    with trio.fail_after(30):
        proc = await trio.run_process(
            argv,
            stdin=stdin,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            cwd=str(project),
            env=full_env,
        )
    frames = [orjson.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return Run(proc.returncode, frames, proc.stderr.decode(errors="replace"))


async def test_plain_text(cli: str, tmp_path: Path):
    async with open_fake_model(["Hello from the fake model!"]) as model:
        run = await run_cli(
            cli,
            model.base_url,
            tmp_path,
            args=("--include-partial-messages",),
            env=model.cli_env(),  # also routes egress attempts here (kind "connect")
        )
    assert run.returncode == 0, run.stderr
    assert run.result["result"] == "Hello from the fake model!"
    assert run.result["is_error"] is False
    assert run.result["total_cost_usd"] > 0
    [turn] = model.turn_requests()
    assert turn.path == "/v1/messages?beta=true"
    assert turn.stream and turn.completed and not turn.exhausted
    assert turn.last_user_text == "hi"
    assert turn.headers["x-api-key"] == "REDACTED"
    assert turn.headers["anthropic-version"] == "2023-06-01"
    assert "Bash" in turn.tool_names
    # Partial messages mirror the SSE events the fake sent (ping is not forwarded).
    streamed = [f["event"]["type"] for f in run.frames if f.get("type") == "stream_event"]
    assert streamed[0] == "message_start" and streamed[-1] == "message_stop"
    assert "ping" not in streamed
    assert {r.kind for r in model.requests} <= {"turn", "head"}  # no egress, no aux


async def test_bash_tool_result_flows_back(cli: str, tmp_path: Path):
    script = [
        Turn(
            [
                Text("Running it."),
                ToolUse(
                    "Bash",
                    {"command": "echo hello-from-bash", "description": "echo"},
                    id="toolu_e2e_1",
                ),
            ]
        ),
        Turn("bash said: {last_tool_result}"),
    ]
    async with open_fake_model(script) as model:
        run = await run_cli(
            cli, model.base_url, tmp_path, args=("--permission-mode", "bypassPermissions")
        )
    assert run.returncode == 0, run.stderr
    assert run.result["result"] == "bash said: hello-from-bash"
    first, second = model.turn_requests()
    assert not first.has_tool_result
    assert second.has_tool_result
    assert second.tool_results[0]["tool_use_id"] == "toolu_e2e_1"
    assert second.last_tool_result == "hello-from-bash"
    assert second.tool_uses[-1]["input"]["command"] == "echo hello-from-bash"


async def test_thinking_signature_is_sent_back(cli: str, tmp_path: Path):
    script = [
        Turn(
            [
                Thinking("The user wants 2+2. Let me compute.", signature="sig-e2e-1"),
                ToolUse("Bash", {"command": "echo $((2+2))", "description": "add"}),
            ]
        ),
        Turn([Thinking("It printed {last_tool_result}."), Text("2+2 = {last_tool_result}")]),
    ]
    async with open_fake_model(script) as model:
        run = await run_cli(
            cli,
            model.base_url,
            tmp_path,
            prompt="What is 2+2?",
            args=("--permission-mode", "bypassPermissions"),
        )
    assert run.returncode == 0, run.stderr
    assert run.result["result"] == "2+2 = 4"
    thinking = [b for b in run.assistant_blocks() if b["type"] == "thinking"]
    assert thinking[0] == {
        "type": "thinking",
        "thinking": "The user wants 2+2. Let me compute.",
        "signature": "sig-e2e-1",
    }
    echoed = [
        block
        for message in model.turn_requests()[1].messages
        if message["role"] == "assistant"
        for block in message["content"]
        if block["type"] == "thinking"
    ]
    assert echoed[0]["signature"] == "sig-e2e-1"
    assert echoed[0]["thinking"] == "The user wants 2+2. Let me compute."


async def test_http_401_is_an_error_result(cli: str, tmp_path: Path):
    script = [HTTPError(401, message="invalid x-api-key", repeat=True)]
    async with open_fake_model(script) as model:
        run = await run_cli(cli, model.base_url, tmp_path, env={"CLAUDE_CODE_MAX_RETRIES": "0"})
    assert run.returncode == 1
    assert run.result["is_error"] is True
    assert run.result["terminal_reason"] == "api_error"
    assert [r.status for r in model.turn_requests()] == [401]


async def test_x_should_retry_false_stops_retries(cli: str, tmp_path: Path):
    headers = {"x-should-retry": "false"}
    script = [HTTPError(529, headers=headers, repeat=True)]  # type: ignore[arg-type]  # converter=dict hides the type
    async with open_fake_model(script) as model:
        run = await run_cli(cli, model.base_url, tmp_path)  # default retry budget
    assert run.returncode == 1
    assert run.result["is_error"] is True
    assert [r.status for r in model.turn_requests()] == [529]


async def test_mid_stream_error_retries_without_streaming(cli: str, tmp_path: Path):
    script: list[StreamError | Turn] = [
        StreamError(after_events=3, blocks=["partial"]),
        Turn("recovered via {model}"),
    ]
    async with open_fake_model(script) as model:
        run = await run_cli(cli, model.base_url, tmp_path, args=("--model", "claude-sonnet-4-5"))
    assert run.returncode == 0, run.stderr
    assert run.result["result"] == "recovered via claude-sonnet-4-5"
    assert [r.stream for r in model.turn_requests()] == [True, False]


async def test_sessions_by_prefix_in_parallel(cli: str, tmp_path: Path):
    async with open_fake_model(["default answer"]) as model:
        runs: dict[str, Run] = {}

        async def one(name: str, url: str) -> None:
            runs[name] = await run_cli(cli, url, tmp_path, prompt=f"I am {name}", name=name)

        async with trio.open_nursery() as nursery:
            for name in ("alpha", "beta"):
                url = model.session_base_url(name, [Turn(f"{name} heard: {{last_user_text}}")])
                nursery.start_soon(one, name, url)
            nursery.start_soon(one, "default", model.base_url)
    assert runs["alpha"].result["result"] == "alpha heard: I am alpha"
    assert runs["beta"].result["result"] == "beta heard: I am beta"
    assert runs["default"].result["result"] == "default answer"
    assert {r.session for r in model.requests if r.kind == "turn"} == {None, "alpha", "beta"}


async def test_compact_is_answered_from_the_script_summary(cli: str, tmp_path: Path):
    script = Script(turns=["first answer"], summary="We said hi to each other.")
    async with open_fake_model(script) as model:
        run = await run_cli(cli, model.base_url, tmp_path, prompt=("hi", "/compact"))
    assert run.returncode == 0, run.stderr
    assert [(r.kind, r.turn_index) for r in model.requests if r.method == "POST"] == [
        ("turn", 0),
        ("compact", None),
    ]
    continued = [
        f
        for f in run.frames
        if f.get("type") == "user" and "We said hi to each other." in str(f["message"]["content"])
    ]
    assert continued
    assert any(f.get("subtype") == "compact_boundary" for f in run.frames)


async def test_model_probe_and_title_do_not_consume_turns(cli: str, tmp_path: Path):
    model: FakeModel
    async with open_fake_model(["the only scripted turn"]) as model:
        run = await run_cli(
            cli,
            model.base_url,
            tmp_path,
            prompt="Please refactor the parser module into a state machine",
            before_prompt=({"subtype": "set_model", "model": "claude-haiku-4-5"},),
            # Title generation is on for SDK entrypoints unless non-essential traffic is off.
            # Egress attempts then reach the fake as CONNECT and are refused.
            env={
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "",
                "CLAUDE_CODE_ENTRYPOINT": "sdk-py",
                "CLAUDE_AGENT_SDK_VERSION": "0.0.0",
                "HTTPS_PROXY": model.base_url.replace("http://", "http://probe-test:x@"),
                "NO_PROXY": "127.0.0.1,localhost",
            },
        )
    assert run.returncode == 0, run.stderr
    assert run.result["result"] == "the only scripted turn"
    kinds = [r.kind for r in model.requests]
    assert "probe" in kinds and "title" in kinds
    title = next(r for r in model.requests if r.kind == "title")
    assert "Please refactor the parser module" in title.last_user_text
    assert title.completed
    # Every egress attempt went through the proxy setting to the fake and was refused.
    connects = [r for r in model.requests if r.kind == "connect"]
    assert all(r.status == 403 and r.session == "probe-test" for r in connects)
    probe = next(r for r in model.requests if r.kind == "probe")
    assert probe.model == "claude-haiku-4-5"
    assert probe.body["max_tokens"] == 1 and not probe.stream
    assert all(r.turn_index is None for r in model.requests if r.kind != "turn")
    assert [r.turn_index for r in model.turn_requests()] == [0]
    assert not any(r.exhausted for r in model.requests)


async def test_interrupt_disconnect_is_recorded(cli: str, tmp_path: Path):
    """An interrupted turn makes the CLI hang up mid-stream; the fake records it."""
    root = tmp_path / "interrupt"
    home, config, project = root / "home", root / "config", root / "project"
    for d in (home, config, project):
        d.mkdir(parents=True)
    (home / ".bashrc").write_text("")
    script = [Turn("slowly " * 200, delay=0.02, chunk_size=2), Turn("after the interrupt")]
    async with open_fake_model(script) as model:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "CLAUDE_CONFIG_DIR": str(config),
            "ANTHROPIC_BASE_URL": model.base_url,
            "ANTHROPIC_API_KEY": "sk-ant-dummy",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
        }
        argv = [cli, "--output-format", "stream-json", "--verbose", "--system-prompt", ""]
        argv += ["--input-format", "stream-json"]
        out = bytearray()
        with trio.fail_after(30):
            proc = await trio.lowlevel.open_process(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=str(project),
                env=env,
            )
            assert proc.stdin is not None and proc.stdout is not None
            stdout = proc.stdout
            try:
                async with trio.open_nursery() as nursery:

                    async def drain() -> None:
                        while chunk := await stdout.receive_some():
                            out.extend(chunk)

                    nursery.start_soon(drain)
                    init = {"subtype": "initialize", "hooks": None}
                    user = {"role": "user", "content": "go"}
                    await proc.stdin.send_all(
                        _line({"type": "control_request", "request_id": "req_1", "request": init})
                        + _line(
                            {
                                "type": "user",
                                "session_id": "",
                                "message": user,
                                "parent_tool_use_id": None,
                            }
                        )
                    )
                    await model.wait_for_request(lambda r: r.kind == "turn")
                    await trio.sleep(0.3)  # a few SSE events are out
                    interrupt = {"subtype": "interrupt"}
                    await proc.stdin.send_all(
                        _line(
                            {"type": "control_request", "request_id": "req_2", "request": interrupt}
                        )
                    )
                    record = await model.wait_for_request(lambda r: r.disconnected)
                    await proc.stdin.aclose()
                await proc.wait()
            finally:
                if proc.returncode is None:
                    proc.kill()
                    with trio.CancelScope(shield=True):
                        await proc.wait()
    assert record.turn_index == 0
    assert not record.completed
    results = [f for f in map(orjson.loads, out.splitlines()) if f.get("type") == "result"]
    assert results[0]["is_error"] is True
    assert results[0]["subtype"] == "error_during_execution"
