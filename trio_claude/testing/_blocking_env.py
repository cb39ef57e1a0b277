"""The offline test environment for synchronous code: :func:`open_claude_test_env_blocking`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ._env import ClaudeTestEnv, open_claude_test_env

__all__ = ["open_claude_test_env_blocking"]


@contextmanager
def open_claude_test_env_blocking(directory: str | os.PathLike[str]) -> Iterator[ClaudeTestEnv]:
    """:func:`open_claude_test_env` for code that does not run trio (``trio_claude.blocking``).

    The fake model is served from its own thread, on its own trio loop, for the duration of the
    ``with`` block; leaving the block stops it and joins the thread::

        with open_claude_test_env_blocking(tmp_path) as env:
            turn = tcb.ask("hi", options=env.options([Turn("hello")]))

    Call :meth:`ClaudeTestEnv.options` (which registers the script) before opening the session
    that uses it, and read what the model recorded (``env.model.requests``) once the sessions
    using it are closed.

    Args:
        directory: An empty temporary directory (pytest's ``tmp_path``).

    Yields:
        The environment.
    """
    from ..blocking import _Portal

    portal: _Portal[ClaudeTestEnv] = _Portal(lambda: open_claude_test_env(directory))
    env = portal.start()
    env._token = None  # served from its own thread: usable from any trio.run, or none
    try:
        yield env
    except BaseException:
        portal.close(abort=True)
        raise
    portal.close()
