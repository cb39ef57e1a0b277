"""MCP elicitation: a server asks the user for input (the ``elicitation`` control request).

:class:`ElicitationRequest` is what ``ClaudeAgentOptions.on_elicitation`` receives,
:class:`ElicitationResult` what it returns. They live apart from the in-process MCP servers
(``trio_claude._mcp``, which re-exports them) so that importing the options, whose callback
annotations name them, does not import the MCP machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = ["ElicitationRequest", "ElicitationResult"]


@attrs.frozen(kw_only=True)
class ElicitationRequest:
    """An MCP server asks the user for input (``elicitation`` control request).

    Attributes:
        mcp_server_name: The asking server.
        message: What it asks.
        mode: ``form`` (answer ``content`` matching ``requested_schema``) or ``url`` (the user
            visits ``url``).
        url: The URL to visit (``url`` mode).
        elicitation_id: The elicitation's id.
        requested_schema: JSON Schema of the expected ``content`` (``form`` mode).
        property_order: Display order of the schema's properties.
        title: A title for the prompt.
        display_name: The server's display name.
        description: More detail.
        raw: The request as the CLI sent it.
    """

    mcp_server_name: str = ""
    message: str = ""
    mode: str | None = None
    url: str | None = None
    elicitation_id: str | None = None
    requested_schema: dict[str, Any] | None = None
    property_order: list[str] | None = None
    title: str | None = None
    display_name: str | None = None
    description: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ElicitationRequest:
        """Decodes the control request (never raises)."""
        names = [f.name for f in attrs.fields(cls) if f.name != "raw"]
        return cls(raw=dict(data), **{n: data[n] for n in names if data.get(n) is not None})


def _check_content(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(
            f"ElicitationResult.{attribute.name} must be a dict or None, not {type(value).__name__}"
        )


@attrs.frozen(kw_only=True)
class ElicitationResult:
    """The answer to an elicitation.

    Args:
        action: ``accept`` (with ``content``), ``decline`` or ``cancel``.
        content: The form values (``accept`` in ``form`` mode).
    """

    action: Literal["accept", "decline", "cancel"] = attrs.field(
        validator=attrs.validators.in_(("accept", "decline", "cancel"))
    )
    content: dict[str, Any] | None = attrs.field(default=None, validator=_check_content)

    def to_dict(self) -> dict[str, Any]:
        """The MCP ``ElicitResult``: ``{"action": ..., "content"?: {...}}``.

        Raises:
            TypeError: ``content`` is not a dict (possible only when the constructor's check
                was bypassed): refused, never coerced (``dict("")`` would accept an empty
                form).
        """
        data: dict[str, Any] = {"action": self.action}
        if self.content is not None:
            if not isinstance(self.content, Mapping):
                raise TypeError(
                    "ElicitationResult.content must be a dict or None, "
                    f"not {type(self.content).__name__}"
                )
            data["content"] = dict(self.content)
        return data
