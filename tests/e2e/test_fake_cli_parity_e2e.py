"""The fake CLI answers ``set_permission_mode`` as the real CLI does, launch flags included."""

from __future__ import annotations

from typing import Any

import pytest

import trio_claude as tc
from trio_claude.testing import ClaudeTestEnv, FakeCLITransport, FakeScript, Turn

LAUNCHES: dict[str, dict[str, Any]] = {
    "plain": {},
    "plan": {"permission_mode": "plan"},
    "allow_dangerously_skip_permissions": {"allow_dangerously_skip_permissions": True},
    "permission_mode=bypassPermissions": {"permission_mode": "bypassPermissions"},
    "--dangerously-skip-permissions": {"extra_args": {"dangerously-skip-permissions": None}},
}
MODES = ("bypassPermissions", "default", "acceptEdits", "plan", "dontAsk", "auto",
         "bypassPermissions", "bogus")  # fmt: skip


async def answers(options: tc.ClaudeAgentOptions) -> list[Any]:
    async with tc.open_session(options) as session:
        assert session.server_info is not None
        got: list[Any] = [session.server_info.current_permission_mode]
        for mode in MODES:
            try:
                got.append(await session.set_permission_mode(mode))
            except tc.ControlRequestError as exc:
                got.append((exc.error_code, exc.error))
    return got


@pytest.mark.parametrize("name", list(LAUNCHES))
async def test_set_permission_mode_answers_like_the_real_cli(
    claude_env: ClaudeTestEnv, name: str
) -> None:
    launch = LAUNCHES[name]
    real = await answers(claude_env.options([Turn("unused")], **launch))
    fake = await answers(tc.ClaudeAgentOptions(transport=FakeCLITransport(FakeScript()), **launch))
    assert fake == real
