"""Fixture: a made-up, minimal ``claude_agent_sdk`` (tests/unit/test_parity_tool.py)."""

from .types import ClaudeAgentOptions, PermissionMode, Widget


def query() -> None:
    """Present in trio-claude."""


def only_official() -> None:
    """Absent from trio-claude."""


def late_addition() -> None:
    """Added to ``__all__`` with ``+=``."""


__all__ = ["ClaudeAgentOptions", "PermissionMode", "Widget", "only_official", "query"]
__all__ += ["late_addition"]
