"""The errors a team raises: one typed error per failure, never an exception group of one."""

from __future__ import annotations

from .._errors import ClaudeSDKError
from .._redact import describe_exception, redact

__all__ = ["AgentError", "EscalationError", "TeamError"]


class TeamError(ClaudeSDKError):
    """Base class of the errors raised by :mod:`trio_claude.teams`."""


class AgentError(TeamError):
    """An agent of a team failed and the team's policy made that fatal.

    The original error is ``error`` (also ``__cause__``): a
    :class:`~trio_claude.ProcessError` when the agent's CLI died, a
    :class:`~trio_claude.ResultError` for an error result, and so on.

    Attributes:
        agent: The failed agent's name.
        error: What it failed with.
    """

    def __init__(self, agent: str, error: BaseException) -> None:
        self.agent = agent
        self.error = error
        super().__init__(f"agent {agent!r} failed: {redact(describe_exception(error))}")
        self.__cause__ = error


class EscalationError(TeamError):
    """A supervisor used up its restart budget and gave up (the failure escalates).

    Attributes:
        agent: The child whose failure went beyond the budget.
        error: That failure (also ``__cause__``).
        restarts: Restarts counted within the supervisor's period when it gave up.
    """

    def __init__(self, agent: str, error: BaseException, restarts: int) -> None:
        self.agent = agent
        self.error = error
        self.restarts = restarts
        super().__init__(
            f"supervisor gave up after {restarts} restart(s): child {agent!r} failed again: "
            f"{redact(describe_exception(error))}"
        )
        self.__cause__ = error
