"""Fixture: a made-up, minimal ``claude_agent_sdk.types`` (tests/unit/test_parity_tool.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, TypedDict

if TYPE_CHECKING:
    from collections.abc import Callable as McpServer  # another package's name: not listed
else:
    McpServer = object

PermissionMode = Literal["default", "plan"]
HookEvent = Literal["PreToolUse"] | Literal["Stop", "MadeUpEvent"]
_PRIVATE = 1


class Widget(TypedDict):
    """A made-up official TypedDict."""

    name: str


@dataclass
class TextBlock:
    text: str


@dataclass
class SparkleBlock:
    sparkle: str


ContentBlock = TextBlock | SparkleBlock


@dataclass
class UserMessage:
    content: str


@dataclass
class SystemMessage:
    subtype: str


@dataclass
class TaskStartedMessage(SystemMessage):
    task_id: str


@dataclass
class ConfettiMessage:
    amount: int


Message = UserMessage | SystemMessage | ConfettiMessage


@dataclass
class ClaudeAgentOptions:
    model: str | None = None
    max_turns: int | None = None
    confetti_level: int = 0
    LIMIT: ClassVar[int] = 3  # not a field
