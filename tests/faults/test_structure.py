"""The structural promises behind "no trio regressions" (user-pain 19-22): checked, not assumed.

- no asyncio, anyio or sniffio anywhere in the SDK, and no system tasks (the official SDK's
  trio support broke on each of these);
- no hand-called ``__aenter__``/``__aexit__`` (the "Nursery stack corrupted" bug), except the
  migration shim forwarding its own ``__aexit__``;
- one task writes stdin: many tasks issuing control requests while the CLI asks for many
  permissions, through a real pipe, never trip trio's ``BusyResourceError`` (py #391).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import trio

import trio_claude as tc
from trio_claude.testing.fake_cli import (
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
    Request,
    Result,
    Step,
    Text,
)

from ._support import wait_until

PACKAGE = Path(tc.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_the_sdk_uses_only_trio() -> None:
    assert len(SOURCES) > 20
    banned = re.compile(
        r"^\s*(import|from)\s+(asyncio|anyio|sniffio)\b|spawn_system_task|"
        r"\.__aenter__\(|\.__aexit__\(",
        re.MULTILINE,
    )
    offenders = [
        f"{path.relative_to(PACKAGE)}: {match.group(0).strip()}"
        for path in SOURCES
        for match in banned.finditer(path.read_text())
    ]
    # The exceptions: the ClaudeSDKClient migration shim's own ``__aexit__`` forwards to its
    # AsyncExitStack's (the official API's connect()/disconnect() pair needs a stack that
    # outlives a block; documented as same-task only), and so does ``Query.__aexit__`` (the
    # object ``query()`` returns is an async iterator too, so its ``async with`` form forwards
    # to the stack entered by its own ``__aenter__``, in the same ``async with``), and so does
    # ``AsyncContextOnly`` (what every ``open_*`` returns: the ``@asynccontextmanager`` it
    # wraps is entered and exited by the wrapper's own ``__aenter__``/``__aexit__``, in the
    # same ``async with``).
    assert offenders == [
        "_client.py: .__aexit__(",
        "_opener.py: .__aenter__(",
        "_opener.py: .__aexit__(",
        "_query.py: .__aexit__(",
    ]


async def test_many_concurrent_writers_through_a_real_pipe_never_conflict(
    tmp_path: Path,
) -> None:
    answered = 0

    async def allow(*args: Any) -> tc.PermissionResultAllow:
        nonlocal answered
        answered += 1
        await trio.lowlevel.checkpoint()
        return tc.PermissionResultAllow()

    steps: list[Step] = []
    for i in range(50):
        steps.append(Request("can_use_tool", {"tool_name": f"T{i}", "input": {}}, wait=False))
        steps.append(Text(f"m{i}"))
    steps.append(Result(text="done"))
    transport = FakeCLIProcessTransport(FakeScript(turns=[FakeTurn(steps=steps)]), tmp_path)
    options = tc.ClaudeAgentOptions(transport=transport, can_use_tool=allow)
    async with tc.open_session(options) as session:

        async def requests(n: int) -> None:
            for j in range(5):
                await session.set_model(f"model-{n}-{j}")

        async with trio.open_nursery() as nursery:
            for n in range(20):
                nursery.start_soon(requests, n)
            with trio.fail_after(20):
                turn = await session.run("go")
        assert turn.text == "done"
        # The result may be delivered before the last callbacks' tasks have run (the CLI does
        # not wait for its answers): wait for them, bounded.
        await wait_until(
            lambda: answered == 50 and session.statistics().inflight_callbacks == 0, timeout=20
        )
        assert answered == 50
        assert session.statistics().pending_requests == 0
