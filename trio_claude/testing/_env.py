"""A test environment for running the real ``claude`` CLI offline.

:func:`open_claude_test_env` starts the fake Messages API and makes an isolated ``HOME`` (with
empty shell rc files: the CLI's Bash tool sources them) and ``CLAUDE_CONFIG_DIR``.
:meth:`ClaudeTestEnv.options` then gives :class:`~trio_claude.ClaudeAgentOptions` wired to them,
each call with its own scripted conversation on the shared server.

Every CLI started through those options carries a marker variable, so
:meth:`ClaudeTestEnv.leaked_processes` can find any that outlived their session.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import trio

from .._errors import WrongEventLoopError
from .._loop import virtual_clock_hint
from .._opener import async_context_only
from .._options import ClaudeAgentOptions
from ._fake_model import FakeModel, ScriptLike, open_fake_model

__all__ = [
    "MARKER_VARIABLE",
    "ClaudeTestEnv",
    "find_marked_processes",
    "open_claude_test_env",
    "serve_claude_test_env",
]

#: Environment variable set on every CLI started by a test environment.
MARKER_VARIABLE = "TRIO_CLAUDE_TEST_MARKER"


def find_marked_processes(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment carries ``MARKER_VARIABLE=marker`` (Linux)."""
    needle = f"{MARKER_VARIABLE}={marker}".encode()
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@attrs.define
class ClaudeTestEnv:
    """A running fake model plus isolated directories for the CLI.

    Attributes:
        model: The fake Messages API (inspect ``model.requests``).
        root: The temporary directory everything lives in.
        home: The isolated ``HOME`` (empty ``.bashrc``, ``.profile``, ``.bash_profile``).
        config_dir: The isolated ``CLAUDE_CONFIG_DIR``.
        project: The default working directory for sessions.
        marker: The value of :data:`MARKER_VARIABLE` on every CLI started here.
    """

    model: FakeModel
    root: Path
    home: Path
    config_dir: Path
    project: Path
    marker: str = attrs.field(factory=lambda: uuid.uuid4().hex)
    _count: int = 0
    _token: trio.lowlevel.TrioToken | None = None

    def _check_run(self) -> None:
        # From another trio.run the fake model (tasks of the run that opened it) never answers:
        # every CLI would wait for it, and the test hang with no word. (From a thread with no
        # run at all, as with open_claude_test_env_blocking, it serves from its own thread.)
        try:
            current = trio.lowlevel.current_trio_token()
        except RuntimeError:
            return
        if self._token is not None and current is not self._token:
            raise WrongEventLoopError(
                "this ClaudeTestEnv's fake model runs in another trio.run, so no CLI would get "
                "an answer. With Hypothesis each example is a trio.run of its own: open the "
                "environment inside the example (async with open_claude_test_env(...)), not "
                "as a fixture (see docs/fuzzing.md)"
            )

    def env(self, session: str | None = None, **extra: str) -> dict[str, str]:
        """The CLI environment for ``session`` (a name registered on the model).

        Raises:
            WrongEventLoopError: Called from a ``trio.run`` other than the one that opened
                the environment (whose fake model would never answer).
        """
        self._check_run()
        env = {
            **self.model.cli_env(session),
            # Credentials inherited from the user's shell must never reach a test CLI.
            "ANTHROPIC_AUTH_TOKEN": "",
            "CLAUDE_CODE_OAUTH_TOKEN": "",
            "HOME": str(self.home),
            "CLAUDE_CONFIG_DIR": str(self.config_dir),
            # The CLI's own temporary files (a probe directory per start, a project's task
            # output) went to the machine's shared /tmp/claude-<uid> otherwise, and piled up.
            "CLAUDE_CODE_TMPDIR": str(self.root / "tmp"),
            "IS_SANDBOX": "1",
            MARKER_VARIABLE: self.marker,
        }
        env.update(extra)
        return env

    def options(
        self,
        script: ScriptLike | None = None,
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> ClaudeAgentOptions:
        """Options for a session that talks to the fake model with its own ``script``.

        Args:
            script: The scripted model turns (see ``docs/fake-model.md``). ``None`` reuses the
                script already registered under ``name``.
            name: The conversation's name on the server (default: a fresh one per call).
            env: Extra environment for the CLI.
            **kwargs: Any other :class:`~trio_claude.ClaudeAgentOptions` field. ``cwd``
                defaults to :attr:`project`.

        Raises:
            WrongEventLoopError: Called from a ``trio.run`` other than the one that opened
                the environment (whose fake model would never answer).

        Warns:
            RuntimeWarning: The run's clock is a ``MockClock`` that autojumps (the
                ``autojump_clock`` fixture): the real CLI works in real time, so its start-up
                would time out at once in virtual time.
        """
        self._check_run()
        hint = virtual_clock_hint()
        if hint:
            warnings.warn(
                "options for the real claude CLI under a virtual clock:" + hint,
                RuntimeWarning,
                stacklevel=2,
            )
        if name is None:
            self._count += 1
            name = f"t{self._count}"
        if script is not None:
            self.model.session_base_url(name, script)
        merged = self.env(name, **dict(env or {}))
        kwargs.setdefault("cwd", self.project)
        return ClaudeAgentOptions(env=merged, **kwargs)

    def leaked_processes(self, *, settle: float = 0.0) -> list[int]:
        """CLIs started from this environment that are still alive.

        Args:
            settle: Seconds of real time (polling, blocking) to let processes already told to
                stop finish dying: under a virtual clock a session gives up its reap wait at
                once, while a killed CLI may take a moment to exit on a loaded machine.
        """
        pids = find_marked_processes(self.marker)
        deadline = time.monotonic() + settle
        while pids and time.monotonic() < deadline:
            time.sleep(0.02)
            pids = find_marked_processes(self.marker)
        return pids

    def kill_leaked(self, *, settle: float = 0.0) -> list[int]:
        """Kills (SIGKILL) and returns the CLIs :meth:`leaked_processes` finds.

        Args:
            settle: As for :meth:`leaked_processes`.
        """
        pids = self.leaked_processes(settle=settle)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids


@async_context_only("env")
@asynccontextmanager
async def open_claude_test_env(directory: str | os.PathLike[str]) -> AsyncIterator[ClaudeTestEnv]:
    """Starts the fake model and makes an isolated HOME, config dir and project in ``directory``.

    Args:
        directory: An empty temporary directory (pytest's ``tmp_path``).

    Yields:
        The environment; the fake model stops when the block ends.
    """
    root = Path(directory)
    home = root / "home"
    config_dir = root / "config"
    project = root / "project"
    for path in (home, config_dir, project, root / "tmp"):
        path.mkdir(parents=True, exist_ok=True)
    for rc in (".bashrc", ".profile", ".bash_profile", ".zshrc"):
        (home / rc).write_text("")
    async with open_fake_model([]) as model:
        yield ClaudeTestEnv(
            model=model,
            root=root,
            home=home,
            config_dir=config_dir,
            project=project,
            token=trio.lowlevel.current_trio_token(),
        )
        await trio.lowlevel.checkpoint()


async def serve_claude_test_env(
    directory: str | os.PathLike[str],
    *,
    task_status: trio.TaskStatus[ClaudeTestEnv] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Runs :func:`open_claude_test_env` until cancelled; for ``nursery.start``.

    The started value is the :class:`ClaudeTestEnv`. Use it where the environment must outlive
    the code that opens it: a ``hypothesis.stateful`` machine opens it in one step and closes
    it in ``teardown``, which an ``async with`` block cannot span::

        env = await nursery.start(serve_claude_test_env, tmp_path)
        # or, from a state machine's synchronous rules:
        env = driver.start(serve_claude_test_env, tmp_path)   # a TrioDriver

    Cancelling the task (closing the nursery, ``driver.close()``) stops the fake model. Close
    the sessions first, and check :meth:`ClaudeTestEnv.leaked_processes` before.

    Args:
        directory: An empty temporary directory (as for :func:`open_claude_test_env`).
        task_status: Passed by ``nursery.start``.
    """
    async with open_claude_test_env(directory) as env:
        task_status.started(env)
        await trio.sleep_forever()
