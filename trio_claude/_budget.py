"""Budgets shared by any number of sessions: USD, tokens, model turns and wall-clock seconds.

A :class:`Budget` is charged by every session opened with ``ClaudeAgentOptions(budget=...)`` as
their frames stream in. When a limit is reached, every session charged to it interrupts its
running turn through the protocol and the receiving call raises
:class:`~trio_claude.BudgetExceededError`; any later ``send()`` on those sessions raises before
anything reaches the model. ``budget.scope()`` is also a cancel scope for arbitrary code.

How it differs from the CLI's own ``max_budget_usd``: that one is per CLI process (per session),
known only to the CLI, and ends the run with an ``error_max_budget_usd`` result. A ``Budget``
spans sessions and tasks, counts tokens and turns as they stream, and is enforced by the SDK.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import attrs
import trio

from ._errors import BudgetExceededError, ConfigurationError

__all__ = ["Budget", "BudgetSpent"]

_DIMENSIONS = ("usd", "tokens", "turns", "seconds")


@attrs.frozen
class BudgetSpent:
    """What a budget has been charged so far.

    Attributes:
        usd: Dollars, from the CLI's ``total_cost_usd`` (known when results arrive).
        tokens: Input + output + cache tokens of every model response.
        turns: Model responses (API calls), counted as they start streaming.
        seconds: Wall-clock seconds since the budget was first charged or scoped.
    """

    usd: float = 0.0
    tokens: int = 0
    turns: int = 0
    seconds: float = 0.0


def _check_limit(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigurationError(f"Budget {name} must be a number, got {value!r}")
    if value <= 0:
        raise ConfigurationError(f"Budget {name} must be positive, got {value!r}")


class Budget:
    """Limits shared by every session (and ``scope()``) charged to this object.

    Args:
        max_usd: Dollars, as the CLI reports cost.
        max_tokens: Tokens (input + output + cache reads/writes) across model responses.
        max_turns: Model responses (agentic turns, as the CLI counts ``num_turns``).
        max_seconds: Wall-clock seconds from the first charge (or ``scope()``) on.

    Raises:
        ConfigurationError: A limit is not a positive number.
    """

    def __init__(
        self,
        *,
        max_usd: float | None = None,
        max_tokens: int | None = None,
        max_turns: int | None = None,
        max_seconds: float | None = None,
    ) -> None:
        for name, value in (
            ("max_usd", max_usd),
            ("max_tokens", max_tokens),
            ("max_turns", max_turns),
            ("max_seconds", max_seconds),
        ):
            _check_limit(name, value)
        self.max_usd = max_usd
        self.max_tokens = max_tokens
        self.max_turns = max_turns
        self.max_seconds = max_seconds
        self._usd = 0.0
        self._tokens = 0
        self._turns = 0
        self._started_at: float | None = None
        self._exceeded: BudgetExceededError | None = None
        self._listeners: list[Callable[[BudgetExceededError], None]] = []
        self._scopes: set[trio.CancelScope] = set()

    def __repr__(self) -> str:
        limits = ", ".join(
            f"{n}={getattr(self, n)}"
            for n in ("max_usd", "max_tokens", "max_turns", "max_seconds")
            if getattr(self, n) is not None
        )
        return f"Budget({limits}; spent={self.spent})"

    # ---------------------------------------------------------------- reading

    @property
    def spent(self) -> BudgetSpent:
        """What has been charged so far."""
        return BudgetSpent(
            usd=self._usd, tokens=self._tokens, turns=self._turns, seconds=self._elapsed()
        )

    def remaining(self) -> dict[str, float]:
        """What is left of each limit that is set (``{"usd": 0.42, "turns": 3, ...}``)."""
        spent = self.spent
        out: dict[str, float] = {}
        for dim in _DIMENSIONS:
            limit = getattr(self, f"max_{dim}")
            if limit is not None:
                out[dim] = max(0.0, limit - getattr(spent, dim))
        return out

    @property
    def exceeded(self) -> BudgetExceededError | None:
        """The error describing the first limit reached, or ``None`` while within budget."""
        if self._exceeded is None:
            self._check_seconds()
        return self._exceeded

    @property
    def deadline(self) -> float:
        """The trio time at which ``max_seconds`` runs out (``inf`` when unlimited or unstarted)."""
        if self.max_seconds is None or self._started_at is None:
            return math.inf
        return self._started_at + self.max_seconds

    # --------------------------------------------------------------- charging

    def start(self) -> None:
        """Starts the wall clock for ``max_seconds`` (idempotent; sessions call it)."""
        if self._started_at is None:
            self._started_at = trio.current_time()
            for scope in self._scopes:
                scope.deadline = min(scope.deadline, self.deadline)

    def charge(self, *, usd: float = 0.0, tokens: int = 0, turns: int = 0) -> None:
        """Adds spending; when a limit is reached every listener and scope is told.

        Raising limits afterwards (``budget.max_usd = ...``) and calling :meth:`reset_exceeded`
        lets charged sessions go on.
        """
        self.start()
        self._usd += usd
        self._tokens += tokens
        self._turns += turns
        if self._exceeded is None:
            self._check()

    def reset_exceeded(self) -> None:
        """Forgets that a limit was reached (after raising the limits)."""
        self._exceeded = None
        self._check()

    def check(self) -> None:
        """Raises :class:`~trio_claude.BudgetExceededError` if a limit has been reached."""
        error = self.exceeded
        if error is not None:
            raise BudgetExceededError(error.dimension, error.spent, error.limit)

    def _elapsed(self) -> float:
        if self._started_at is None:
            return 0.0
        try:
            return trio.current_time() - self._started_at
        except RuntimeError:  # outside trio
            return 0.0

    def _check_seconds(self) -> None:
        if self.max_seconds is not None and self._started_at is not None:
            elapsed = self._elapsed()
            if elapsed >= self.max_seconds:
                self._exceed(BudgetExceededError("seconds", elapsed, self.max_seconds))

    def _check(self) -> None:
        for dim, spent in (("usd", self._usd), ("tokens", self._tokens), ("turns", self._turns)):
            limit = getattr(self, f"max_{dim}")
            if limit is not None and spent >= limit:
                self._exceed(BudgetExceededError(dim, spent, limit))
                return
        self._check_seconds()

    def _exceed(self, error: BudgetExceededError) -> None:
        if self._exceeded is not None:
            return
        self._exceeded = error
        for listener in list(self._listeners):
            listener(error)
        for scope in list(self._scopes):
            scope.cancel()

    # ------------------------------------------------------------- listening

    def _subscribe(self, listener: Callable[[BudgetExceededError], None]) -> None:
        self._listeners.append(listener)

    def _unsubscribe(self, listener: Callable[[BudgetExceededError], None]) -> None:
        try:
            self._listeners.remove(listener)
        except ValueError:
            pass

    @contextmanager
    def scope(self) -> Iterator[trio.CancelScope]:
        """A cancel scope that is cancelled when the budget runs out (seconds included).

        Raises:
            BudgetExceededError: On leaving, if the budget ran out inside the block.
        """
        self.start()
        with trio.CancelScope(deadline=self.deadline) as cancel_scope:
            self._scopes.add(cancel_scope)
            if self._exceeded is not None:
                cancel_scope.cancel()
            try:
                yield cancel_scope
            finally:
                self._scopes.discard(cancel_scope)
        if cancel_scope.cancelled_caught:
            self._check_seconds()
            self.check()
