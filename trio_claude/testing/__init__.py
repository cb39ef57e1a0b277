"""Testing tools: a fake CLI, a fake Messages API for the real CLI, and pytest fixtures.

- :mod:`trio_claude.testing.fake_cli`: ``FakeCLI`` and its transports, scripted turn by turn
  (its step classes live in that module: ``fake_cli.Text``, ``fake_cli.Result``, ...).
- The fake model (a scripted Anthropic Messages API on 127.0.0.1): ``open_fake_model``,
  ``serve_fake_model``, ``Turn``, ``Text``, ``ToolUse``, ``Thinking``, ...
- ``open_claude_test_env`` / the ``claude_env`` pytest fixture: the fake model plus an isolated
  ``HOME`` and ``CLAUDE_CONFIG_DIR``, and options wired to them.
  ``open_claude_test_env_blocking`` is the same for synchronous code (``trio_claude.blocking``);
  ``serve_claude_test_env`` the same for ``nursery.start``.
- ``TrioDriver``: one trio run across the synchronous rules of a ``hypothesis.stateful``
  machine (see ``docs/fuzzing.md``).
- :mod:`trio_claude.testing.strategies`: Hypothesis strategies for every frame, message and
  callback type, to fuzz your own agents (needs the ``dev`` extra; see ``docs/fuzzing.md``).
"""

from ._blocking_env import open_claude_test_env_blocking as open_claude_test_env_blocking
from ._driver import TrioDriver as TrioDriver
from ._env import MARKER_VARIABLE as MARKER_VARIABLE
from ._env import ClaudeTestEnv as ClaudeTestEnv
from ._env import find_marked_processes as find_marked_processes
from ._env import open_claude_test_env as open_claude_test_env
from ._env import serve_claude_test_env as serve_claude_test_env
from ._fake_model import EXHAUSTED_TEXT as EXHAUSTED_TEXT
from ._fake_model import REDACTED as REDACTED
from ._fake_model import Block as Block
from ._fake_model import FakeModel as FakeModel
from ._fake_model import HTTPError as HTTPError
from ._fake_model import Match as Match
from ._fake_model import RecordedRequest as RecordedRequest
from ._fake_model import RedactedThinking as RedactedThinking
from ._fake_model import RequestKind as RequestKind
from ._fake_model import Script as Script
from ._fake_model import ScriptLike as ScriptLike
from ._fake_model import Step as Step
from ._fake_model import StreamError as StreamError
from ._fake_model import Text as Text
from ._fake_model import Thinking as Thinking
from ._fake_model import ToolUse as ToolUse
from ._fake_model import Turn as Turn
from ._fake_model import Usage as Usage
from ._fake_model import dump_script as dump_script
from ._fake_model import load_script as load_script
from ._fake_model import open_fake_model as open_fake_model
from ._fake_model import serve_fake_model as serve_fake_model
from .fake_cli import FakeCLI as FakeCLI
from .fake_cli import FakeCLIProcessTransport as FakeCLIProcessTransport
from .fake_cli import FakeCLITransport as FakeCLITransport
from .fake_cli import FakeScript as FakeScript
from .fake_cli import FakeTurn as FakeTurn
from .session_store_conformance import ConformanceResult as ConformanceResult
from .session_store_conformance import (
    run_session_store_conformance as run_session_store_conformance,
)
