"""The fake CLI's permission modes match the real CLI's (Claude Code 2.1.332).

``set_permission_mode("bypassPermissions")`` is refused, with the real CLI's text and
``error_code``, unless the CLI was launched with bypass allowed: ``--dangerously-skip-permissions``,
``--allow-dangerously-skip-permissions`` (``allow_dangerously_skip_permissions=True``) or
``--permission-mode bypassPermissions`` (``permission_mode="bypassPermissions"``). The CLI starts in
the mode its flags set. ``tests/e2e/test_fake_cli_parity_e2e.py`` checks the same answers
against the real CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import trio_claude as tc
from tests._helpers import options_for
from trio_claude.testing.fake_cli import (
    BYPASS_NOT_LAUNCHED,
    PERMISSION_MODES,
    FakeCLIProcessTransport,
    FakeScript,
    FakeTurn,
)

REFUSAL = (
    "Cannot set permission mode to bypassPermissions because the session was not launched with"
    " --dangerously-skip-permissions"
)

#: Launch options that allow bypassPermissions later, and the mode each starts in.
ALLOWING: dict[str, tuple[dict[str, Any], str]] = {
    "allow_dangerously_skip_permissions": (
        {"allow_dangerously_skip_permissions": True},
        "default",
    ),
    "permission_mode=bypassPermissions": (
        {"permission_mode": "bypassPermissions"},
        "bypassPermissions",
    ),
    "--dangerously-skip-permissions": (
        {"extra_args": {"dangerously-skip-permissions": None}},
        "bypassPermissions",
    ),
    "plan, allowed": (
        {"permission_mode": "plan", "allow_dangerously_skip_permissions": True},
        "plan",
    ),
}


def test_the_refusal_is_the_real_clis_text() -> None:
    assert BYPASS_NOT_LAUNCHED == REFUSAL
    assert "bypassPermissions" in PERMISSION_MODES  # a known mode: not an invalid_mode error


@pytest.mark.parametrize(
    "launch", [{}, {"permission_mode": "plan"}, {"permission_mode": "acceptEdits"}]
)
async def test_bypass_is_refused_unless_the_launch_allowed_it(launch: dict[str, Any]) -> None:
    opts, transport = options_for(FakeScript(), **launch)
    async with tc.open_session(opts) as session:
        before = transport.fake.permission_mode if transport.fake else None
        with pytest.raises(tc.ControlRequestError) as info:
            await session.set_permission_mode("bypassPermissions")
        assert info.value.error == REFUSAL
        assert info.value.error_code == "bypass_not_launched"
        assert transport.fake is not None and transport.fake.permission_mode == before
        # Every other mode is still accepted, and bypass is refused again afterwards.
        for mode in ("default", "acceptEdits", "plan", "dontAsk", "auto"):
            assert await session.set_permission_mode(mode) == mode
        with pytest.raises(tc.ControlRequestError, match="not launched with"):
            await session.set_permission_mode("bypassPermissions")


@pytest.mark.parametrize("name", list(ALLOWING))
async def test_a_launch_that_allows_bypass_accepts_it_and_starts_in_its_mode(name: str) -> None:
    launch, start_mode = ALLOWING[name]
    opts, transport = options_for(FakeScript(), **launch)
    async with tc.open_session(opts) as session:
        assert session.server_info is not None
        assert session.server_info.current_permission_mode == start_mode
        assert await session.set_permission_mode("bypassPermissions") == "bypassPermissions"
        assert await session.set_permission_mode("default") == "default"
        assert await session.set_permission_mode("bypassPermissions") == "bypassPermissions"
    assert transport.fake is not None and transport.fake.permission_mode == "bypassPermissions"


async def test_initialize_reports_the_launch_mode() -> None:
    opts, _ = options_for(FakeScript(), permission_mode="plan")
    async with tc.open_session(opts) as session:
        assert session.server_info is not None
        assert session.server_info.current_permission_mode == "plan"


async def test_each_turns_init_reports_the_mode_in_effect() -> None:
    script = FakeScript(turns=[FakeTurn.reply("one"), FakeTurn.reply("two")])
    opts, _ = options_for(script)
    async with tc.open_session(opts) as session:
        first = await session.run("hi")
        await session.set_permission_mode("acceptEdits")
        second = await session.run("again")
    modes = [
        next(m.permission_mode for m in turn.messages if isinstance(m, tc.InitMessage))
        for turn in (first, second)
    ]
    assert modes == ["default", "acceptEdits"]


async def test_the_fake_as_a_subprocess_refuses_bypass_too(tmp_path: Path) -> None:
    # There the fake reads the flags from its own command line (without the program name).
    launches: list[tuple[dict[str, Any], bool]] = [
        ({}, True),
        ({"allow_dangerously_skip_permissions": True}, False),
    ]
    for launch, refused in launches:
        transport = FakeCLIProcessTransport(FakeScript(), tmp_path)
        async with tc.open_session(tc.ClaudeAgentOptions(transport=transport, **launch)) as s:
            if refused:
                with pytest.raises(tc.ControlRequestError) as info:
                    await s.set_permission_mode("bypassPermissions")
                assert info.value.error_code == "bypass_not_launched"
            else:
                assert await s.set_permission_mode("bypassPermissions") == "bypassPermissions"
