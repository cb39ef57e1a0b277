"""The blocking facade with the real CLI against the fake model, from plain sync code (pain 23).

The fake model runs in its own thread (``open_claude_test_env_blocking``), each blocking
session in another; the test thread never runs trio.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import trio_claude as tc
import trio_claude.blocking as tcb
from tests._helpers import texts
from tests.integration._blocking_support import alive, ctrl_c_when_blocked, facade_threads
from trio_claude.testing import Match, Text, ToolUse, Turn, open_claude_test_env_blocking


def test_a_blocking_session_with_the_real_cli(tmp_path: Path) -> None:
    asked: list[tuple[str, str]] = []

    async def policy(tool_name: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append((tool_name, threading.current_thread().name))
        return tc.PermissionResultAllow()

    long = Turn([Text(" ".join(f"w{i}" for i in range(400)))], delay=0.01)
    target = tmp_path / "project" / "note.txt"
    script = [
        Turn([ToolUse("Write", {"file_path": str(target), "content": "from the model\n"})]),
        Turn("written", match=Match(has_tool_result=True)),
        Turn("streamed", match=Match(last_user_text_contains="stream")),
        long,
        Turn("after the interrupt", match=Match(last_user_text_contains="there")),
    ]
    with open_claude_test_env_blocking(tmp_path) as env:
        opts = env.options(script, name="blocking", can_use_tool=policy)
        with tcb.open_session(opts) as session:
            pid = session.pid
            assert pid is not None and alive(pid)

            turn = session.run("write a note")
            assert turn.text == "written"
            assert target.read_text() == "from the model\n"
            assert session.session_id == turn.session_id

            session.send("stream please")
            messages = list(session.receive_response())
            assert texts(messages) == ["streamed"]
            assert isinstance(messages[-1], tc.ResultMessage)

            # Ctrl-C while waiting inside a turn: the real CLI is interrupted, the turn
            # drained, and the next turn is clean.
            session.send("write a long essay")
            interrupter = ctrl_c_when_blocked()
            try:
                for _ in session.receive_response():
                    pass
            except KeyboardInterrupt:
                pass
            else:  # pragma: no cover - the turn cannot end before the interrupt
                raise AssertionError("the turn ended before Ctrl-C")
            interrupter.join()
            after = session.run("are you there?")
            assert after.text == "after the interrupt"
            assert texts(after.messages) == ["after the interrupt"]  # nothing of the old turn

        assert not alive(pid)
        assert not env.leaked_processes()
        assert [name for name, _ in asked] == ["Write"]
        assert asked[0][1].startswith(tcb.THREAD_NAME_PREFIX)

        # One-shot, collected and streamed.
        assert tcb.ask("2+2?", options=env.options([Turn("4")])).text == "4"
        with tcb.query("hello", options=env.options([Turn("hi there")])) as stream:
            got = list(stream)
        assert texts(got) == ["hi there"] and isinstance(got[-1], tc.ResultMessage)
        assert not env.leaked_processes()
    assert facade_threads() == []
