"""The CLI->SDK ``request_user_dialog`` request and its answer.

:class:`UserDialogRequest` is what ``ClaudeAgentOptions.on_user_dialog`` receives,
:class:`UserDialogResult` what it returns. They live apart from the control API's answers
(``trio_claude._control_types``, which re-exports them) so that importing the options, whose
callback annotations name them, does not build those ~25 classes.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

__all__ = ["UserDialogBehavior", "UserDialogRequest", "UserDialogResult"]


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


#: The answers a ``request_user_dialog`` takes.
UserDialogBehavior = Literal["completed", "cancelled"]


@attrs.frozen(kw_only=True)
class UserDialogRequest:
    """A blocking dialog the CLI asks the host to render (``request_user_dialog``).

    Passed to ``ClaudeAgentOptions.on_user_dialog``. Each ``dialog_kind`` defines its own
    payload and result; the CLI only sends kinds listed in ``supported_dialog_kinds``.

    Attributes:
        dialog_kind: Which dialog (``"refusal_fallback_prompt"``...; an open set).
        payload: The dialog's data, shaped per kind.
        tool_use_id: The tool call the dialog belongs to, if any.
    """

    dialog_kind: str
    payload: dict[str, Any] = attrs.field(factory=dict)
    tool_use_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> UserDialogRequest:
        """Decodes the request (the ``request`` object of the ``control_request``)."""
        return cls(
            dialog_kind=str(data.get("dialog_kind", "")),
            payload=_dict(data.get("payload")),
            tool_use_id=_str(data.get("tool_use_id")),
            raw=data,
        )


def _check_behavior(instance: Any, attribute: Any, value: Any) -> None:
    if value not in ("completed", "cancelled"):
        raise ValueError(f"behavior must be 'completed' or 'cancelled', not {value!r}")


@attrs.frozen
class UserDialogResult:
    """The host's answer to a :class:`UserDialogRequest`.

    ``cancelled`` makes the CLI apply the dialog's default behaviour (the answer to give for a
    kind you do not know).

    Attributes:
        behavior: ``"completed"`` (the user chose; ``result`` says what) or ``"cancelled"``.
        result: The user's choice, shaped per ``dialog_kind`` (with ``completed``).
    """

    behavior: UserDialogBehavior = attrs.field(validator=_check_behavior)
    result: Any = None

    @classmethod
    def completed(cls, result: Any = None) -> UserDialogResult:
        """The user chose ``result``."""
        return cls("completed", result)

    @classmethod
    def cancelled(cls) -> UserDialogResult:
        """The user dismissed the dialog (the CLI applies its default)."""
        return cls("cancelled")

    def to_dict(self) -> dict[str, Any]:
        """The wire answer."""
        if self.behavior == "completed":
            return {"behavior": "completed", "result": self.result}
        return {"behavior": "cancelled"}
