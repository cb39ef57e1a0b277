"""Review of efe0568..HEAD: each test fails on the reviewed code and its docstring says why."""

from __future__ import annotations

import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_claude as tc

SECRET = "sk-review-GATEWAY-0123456789abcdef"


def _executable(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


async def _hook(*_: Any) -> dict[str, Any]:
    return {}


# ------------------------------------------------------ 9f8d894: initialize with no close grace


async def test_pull_query_gives_a_slow_starting_cli_its_initialize_timeout(tmp_path: Path) -> None:
    """The iterator form of ``query()`` writes ``initialize`` with ``_write``, which waits at most
    ``max(close_timeout, 1)`` for a full pipe, not ``initialize_timeout``: an ``initialize`` over
    the pipe's 64 KiB (agents' prompts, MCP configs, ``extra_initialize_fields``) to a CLI that
    starts reading its stdin after ``close_timeout`` fails the query with
    ``SessionClosedError('the CLI stopped reading its stdin')`` though ``initialize_timeout=30``
    allowed the start. ``open_session`` (its writer is a task of its own) starts it fine."""
    cli = _executable(
        tmp_path / "claude",
        f'#!/bin/sh\nsleep 2\nexec "{sys.executable}" -m trio_claude.testing.fake_cli -- "$@"\n',
    )
    options = tc.ClaudeAgentOptions(
        cli_path=cli,
        initialize_timeout=30,
        close_timeout=1,
        extra_initialize_fields={"pad": "x" * 300_000},
    )
    async for _ in tc.query(prompt="hi", options=options):
        pass


async def test_pull_query_stops_a_cli_that_reads_nothing_at_initialize_timeout(
    tmp_path: Path,
) -> None:
    """The same CLI that never answers (nor reads) ``initialize``, with an ``initialize`` over
    the pipe's size: the iterator form spends ``close_timeout`` in the write, ``close_timeout``
    more pumping for the output's end, then the ``close_timeout`` grace the commit meant to drop
    (``_unresponsive`` is set only for ``ControlTimeoutError``): 3 x close_timeout instead of
    ``initialize_timeout``, and the error is a ``SessionClosedError`` without the stderr tail,
    not "did not answer initialize within 0.5 s"."""
    cli = _executable(tmp_path / "claude", "#!/bin/sh\necho starting >&2\nexec sleep 1000\n")
    options = tc.ClaudeAgentOptions(
        cli_path=cli,
        initialize_timeout=0.5,
        close_timeout=2,
        extra_initialize_fields={"pad": "x" * 300_000},
    )
    started = trio.current_time()
    with pytest.raises(tc.ClaudeSDKError) as info:
        async for _ in tc.query(prompt="hi", options=options):
            pass
    elapsed = trio.current_time() - started
    assert isinstance(info.value, tc.CLIConnectionError), repr(info.value)
    assert "did not answer initialize within" in str(info.value)
    assert elapsed < 2.0, elapsed


# ------------------------------------------------------- 9f8d894: _suggesting_names wrapper


def test_a_camelcase_agent_keyword_is_not_reported_as_unexpected() -> None:
    """``AgentDefinition`` accepts the official camelCase keywords (``maxTurns``...), but the
    wrapper's ``known`` names are the attrs fields only: any other ``TypeError`` (here the missing
    ``prompt``) is replaced by "got unexpected keyword argument 'maxTurns' (did you mean
    'max_turns'?)", which hides the real mistake and blames a keyword the docs
    (docs/migration.md) say is fine. Before the commit: "missing 1 required positional argument:
    'prompt'"."""
    with pytest.raises(TypeError) as info:
        tc.AgentDefinition(description="d", maxTurns=3)  # type: ignore[call-arg]
    assert "prompt" in str(info.value), str(info.value)
    assert "maxTurns" not in str(info.value), str(info.value)


def _sdk_frame_leaks(error: BaseException, secret: str) -> list[str]:
    leaks = []
    seen: BaseException | None = error
    while seen is not None:
        tb = seen.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if "trio_claude" in frame.f_code.co_filename:
                for name, value in frame.f_locals.items():
                    try:
                        shown = repr(value)
                    except Exception:
                        shown = ""
                    if secret in shown:
                        leaks.append(f"{Path(frame.f_code.co_filename).name}:{name}")
            tb = tb.tb_next
        seen = seen.__cause__ or seen.__context__
    return leaks


def test_a_misspelt_option_leaves_no_secret_in_the_sdks_frame_locals() -> None:
    """The wrapper adds a trio-claude frame to the ``TypeError``'s traceback whose ``kwargs`` is
    the plain dict of every option given, ``env`` values and MCP headers included (before, the
    binding error had no SDK frame). 5dccc90's rule is "no credential in the locals of an
    error's frames" (``pytest --showlocals``, error trackers that record locals); fix: ``del
    args, kwargs`` (and ``self``) before raising."""
    with pytest.raises(TypeError) as info:
        tc.ClaudeAgentOptions(env={"GATEWAY_TOKEN": SECRET}, modle="m")  # type: ignore[call-arg]
    assert _sdk_frame_leaks(info.value, SECRET) == []


def test_a_misspelt_option_error_formats_with_its_locals() -> None:
    """The wrapper's frame holds ``self``, an attrs instance whose ``__init__`` never ran: its
    ``repr`` raises ``AttributeError`` ('ClaudeAgentOptions' object has no attribute 'tools').
    ``traceback.TracebackException(..., capture_locals=True)`` (``unittest --locals``, error
    reporters) then crashes on Python 3.10/3.11 while formatting the "did you mean" error, and
    shows ``<local repr() failed>`` on 3.12+."""
    with pytest.raises(TypeError) as info:
        tc.ClaudeAgentOptions(modle="m")  # type: ignore[call-arg]
    shown = traceback.TracebackException.from_exception(info.value, capture_locals=True)
    text = "".join(shown.format())
    assert "repr() failed" not in text


# ------------------------------------------------------------ 7a3f029: user_stacklevel


def test_the_blocking_api_warning_names_the_users_line() -> None:
    """``user_stacklevel`` walks the current thread's stack only; the blocking API validates
    the options in its trio thread, so the unknown-hook-event warning of
    ``trio_claude.blocking.open_session`` (and ``ask``) names ``threading.py`` instead of the
    user's line (the commit: "name the user's line whatever path validated them"). Fix: validate
    (warn) in the calling thread before handing the options to the portal."""
    import trio_claude.blocking as tcb
    from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn

    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("x")]))
    options = tc.ClaudeAgentOptions(
        hooks={"PreTooluse": [tc.HookMatcher(hooks=[_hook])]}, transport=transport
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with tcb.open_session(options) as session:
            session.run("hi")
    unknown = [w for w in record if "unknown hook event" in str(w.message)]
    assert unknown
    assert [w.filename for w in unknown] == [__file__] * len(unknown)
