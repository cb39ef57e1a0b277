"""Permission types: what a ``can_use_tool`` callback receives and returns.

The CLI asks the SDK before a tool runs (``can_use_tool`` control request, only when the session
was started with ``--permission-prompt-tool stdio``, which setting
:attr:`~trio_claude.ClaudeAgentOptions.can_use_tool` does). The callback gets the tool name, its
input and a :class:`ToolPermissionContext`, and answers :class:`PermissionResultAllow` (optionally
with a rewritten input and permission updates) or :class:`PermissionResultDeny`.

Names and attributes follow the official Python SDK (``claude_agent_sdk.types``), so code ports
by changing the import. Wire encoding follows ``reference/official-sdk-inventory.md`` section 6:
camelCase keys, absent fields omitted, never ``null``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

import attrs

from ._dataclass_compat import dataclass_compatible

__all__ = [
    "PERMISSION_BEHAVIORS",
    "PERMISSION_UPDATE_DESTINATIONS",
    "PERMISSION_UPDATE_TYPES",
    "PermissionBehavior",
    "PermissionDecisionClassification",
    "PermissionResult",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "PermissionRuleValue",
    "PermissionUpdate",
    "PermissionUpdateDestination",
    "PermissionUpdateType",
    "ToolPermissionContext",
    "decode_permission_request",
    "encode_permission_result",
]

#: How a permission rule treats matching tool calls.
PermissionBehavior = Literal["allow", "deny", "ask"]
PERMISSION_BEHAVIORS: frozenset[str] = frozenset({"allow", "deny", "ask"})

#: Where a permission update is stored. ``session`` is in memory only; ``cliArg`` is the
#: command-line tier (TypeScript SDK only, accepted by the CLI).
PermissionUpdateDestination = Literal[
    "userSettings", "projectSettings", "localSettings", "session", "cliArg"
]
PERMISSION_UPDATE_DESTINATIONS: frozenset[str] = frozenset(
    {"userSettings", "projectSettings", "localSettings", "session", "cliArg"}
)

#: The kinds of permission update.
PermissionUpdateType = Literal[
    "addRules", "replaceRules", "removeRules", "setMode", "addDirectories", "removeDirectories"
]
PERMISSION_UPDATE_TYPES: frozenset[str] = frozenset(
    {"addRules", "replaceRules", "removeRules", "setMode", "addDirectories", "removeDirectories"}
)
_RULE_TYPES = frozenset({"addRules", "replaceRules", "removeRules"})
_DIRECTORY_TYPES = frozenset({"addDirectories", "removeDirectories"})
_PERMISSION_MODES = frozenset(
    {"default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto", "manual"}
)

#: How the host classifies its own decision (telemetry; TypeScript SDK field). The values known
#: today; any other string is sent as it is (with a warning): a newer CLI may know it, and the
#: CLI ignores a classification it does not know.
PermissionDecisionClassification = Literal["user_temporary", "user_permanent", "user_reject"]
_CLASSIFICATIONS = frozenset({"user_temporary", "user_permanent", "user_reject"})


def _without_none(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@dataclass_compatible
@attrs.frozen
class PermissionRuleValue:
    """A permission rule: a tool, optionally narrowed by a rule content.

    Args:
        tool_name: The tool (``"Bash"``, ``"Write"``, ``"mcp__calc__add"``).
        rule_content: The rule's argument (``"npm test:*"`` for ``Bash(npm test:*)``);
            ``None`` means the whole tool.
    """

    tool_name: str
    rule_content: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The wire form ``{"toolName": ..., "ruleContent"?: ...}``."""
        data: dict[str, Any] = {"toolName": self.tool_name}
        if self.rule_content is not None:
            data["ruleContent"] = self.rule_content
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PermissionRuleValue:
        """Decodes the wire form (camelCase; snake_case accepted too)."""
        return cls(
            tool_name=data.get("toolName", data.get("tool_name", "")),
            rule_content=data.get("ruleContent", data.get("rule_content")),
        )


def _rules(value: Iterable[PermissionRuleValue | Mapping[str, Any]] | None) -> Any:
    if value is None:
        return None
    if isinstance(value, (str, bytes, Mapping, PermissionRuleValue)) or not isinstance(
        value, Iterable
    ):
        raise TypeError("PermissionUpdate.rules must be a list of PermissionRuleValue")
    # Anything but a rule or a dict is kept as it is and refused by the check.
    return [PermissionRuleValue.from_dict(r) if isinstance(r, Mapping) else r for r in value]


def _check_rule(rule: Any) -> None:
    # A rule of the wrong type must not reach the wire: a rule_content that is not a string
    # could be dropped or misread, widening the rule to the whole tool.
    if not isinstance(rule, PermissionRuleValue):
        raise TypeError(f"PermissionUpdate.rules must hold PermissionRuleValue, got {rule!r}")
    if not isinstance(rule.tool_name, str):
        raise TypeError(f"a permission rule's tool_name must be a str, got {rule.tool_name!r}")
    if not rule.tool_name:
        raise ValueError("a permission rule needs a tool name")
    if rule.rule_content is not None and not isinstance(rule.rule_content, str):
        raise TypeError(
            f"a permission rule's rule_content must be a str or None, got {rule.rule_content!r}"
        )


def _destination(value: str | None) -> Any:
    return "session" if value is None else value


def _directories(value: Iterable[str] | None) -> Any:
    if value is None:
        return None
    if isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError("PermissionUpdate.directories must be a list of paths, not one path")
    # Paths become strings; anything else is kept as it is and refused by the check (str() of
    # None or of bytes would name a different directory than the caller meant).
    return [os.fspath(d) if isinstance(d, os.PathLike) else d for d in value]


@dataclass_compatible
@attrs.frozen(kw_only=True)
class PermissionUpdate:
    """A change to the permission rules, modes or directories, applied by the CLI.

    One class for the six variants (as the official Python SDK); which fields are required
    depends on ``type``, and construction checks them:

    ================== ==============================================
    ``type``           fields
    ================== ==============================================
    addRules           ``rules``, ``behavior``, ``destination``
    replaceRules       ``rules``, ``behavior``, ``destination``
    removeRules        ``rules``, ``behavior``, ``destination``
    setMode            ``mode``, ``destination``
    addDirectories     ``directories``, ``destination``
    removeDirectories  ``directories``, ``destination``
    ================== ==============================================

    ``destination`` defaults to ``"session"`` (in memory); ``None`` means the same, as in the
    official SDK.
    The classmethods (:meth:`add_rules`, :meth:`set_mode`, ...) build each variant with typed
    arguments.

    Updates decoded from the CLI (``ToolPermissionContext.suggestions``) keep the dict the CLI
    sent in :attr:`raw`; an update of a type this version does not know is sent back unchanged.

    Args:
        type: The variant.
        rules: The rules (rule variants).
        behavior: ``allow``, ``deny`` or ``ask`` (rule variants).
        mode: The permission mode (``setMode``).
        directories: Directories (directory variants).
        destination: Where the update is stored.

    Raises:
        ValueError: Unknown type, missing or invalid fields.
        TypeError: A field of the wrong type (a rule that is not a
            :class:`PermissionRuleValue` of strings, a directory that is not a path): refused,
            never converted to a string.
    """

    type: str
    rules: list[PermissionRuleValue] | None = attrs.field(default=None, converter=_rules)
    behavior: PermissionBehavior | None = None
    mode: str | None = None
    directories: list[str] | None = attrs.field(default=None, converter=_directories)
    destination: PermissionUpdateDestination = attrs.field(
        default="session", converter=_destination
    )
    #: The dict the CLI sent (``None`` for updates built in Python). Not an ``__init__``
    #: argument, so ``attrs.evolve`` gives an update encoded from its fields.
    raw: dict[str, Any] | None = attrs.field(default=None, init=False, eq=False, repr=False)

    _KNOWN_KEYS: ClassVar[frozenset[str]] = frozenset(
        {"type", "rules", "behavior", "mode", "directories", "destination"}
    )

    def __attrs_post_init__(self) -> None:
        self._check()

    def _check(self) -> None:
        kind = self.type
        if kind not in PERMISSION_UPDATE_TYPES:
            raise ValueError(
                f"unknown PermissionUpdate type {kind!r}; expected one of "
                f"{sorted(PERMISSION_UPDATE_TYPES)}"
            )
        if self.destination not in PERMISSION_UPDATE_DESTINATIONS:
            raise ValueError(
                f"PermissionUpdate destination must be one of "
                f"{sorted(PERMISSION_UPDATE_DESTINATIONS)}, got {self.destination!r}"
            )
        if kind in _RULE_TYPES:
            if self.rules is None:
                raise ValueError(f"PermissionUpdate {kind} needs rules")
            for rule in self.rules:
                _check_rule(rule)
            if self.behavior not in PERMISSION_BEHAVIORS:
                raise ValueError(
                    f"PermissionUpdate {kind} needs behavior 'allow', 'deny' or 'ask', "
                    f"got {self.behavior!r}"
                )
        elif kind == "setMode":
            if self.mode not in _PERMISSION_MODES:
                raise ValueError(
                    f"PermissionUpdate setMode needs a permission mode, got {self.mode!r}"
                )
        elif self.directories is None:
            raise ValueError(f"PermissionUpdate {kind} needs directories")
        else:
            for directory in self.directories:
                if not isinstance(directory, str):
                    raise TypeError(
                        "PermissionUpdate.directories must be paths (str or os.PathLike), "
                        f"got {type(directory).__name__}"
                    )

    def _well_formed(self) -> bool:
        try:
            self._check()
        except (ValueError, TypeError):  # TypeError: unhashable values from odd CLI data
            return False
        return all(isinstance(r, PermissionRuleValue) for r in self.rules or ()) and all(
            isinstance(d, str) for d in self.directories or ()
        )

    # ------------------------------------------------------------------ typed constructors

    @classmethod
    def add_rules(
        cls,
        rules: Iterable[PermissionRuleValue],
        *,
        behavior: PermissionBehavior,
        destination: PermissionUpdateDestination = "session",
    ) -> PermissionUpdate:
        """An ``addRules`` update."""
        return cls(type="addRules", rules=rules, behavior=behavior, destination=destination)

    @classmethod
    def replace_rules(
        cls,
        rules: Iterable[PermissionRuleValue],
        *,
        behavior: PermissionBehavior,
        destination: PermissionUpdateDestination = "session",
    ) -> PermissionUpdate:
        """A ``replaceRules`` update."""
        return cls(type="replaceRules", rules=rules, behavior=behavior, destination=destination)

    @classmethod
    def remove_rules(
        cls,
        rules: Iterable[PermissionRuleValue],
        *,
        behavior: PermissionBehavior,
        destination: PermissionUpdateDestination = "session",
    ) -> PermissionUpdate:
        """A ``removeRules`` update."""
        return cls(type="removeRules", rules=rules, behavior=behavior, destination=destination)

    @classmethod
    def set_mode(
        cls, mode: str, *, destination: PermissionUpdateDestination = "session"
    ) -> PermissionUpdate:
        """A ``setMode`` update (``mode``: ``default``, ``acceptEdits``, ``plan``, ...)."""
        return cls(type="setMode", mode=mode, destination=destination)

    @classmethod
    def add_directories(
        cls, directories: Iterable[str], *, destination: PermissionUpdateDestination = "session"
    ) -> PermissionUpdate:
        """An ``addDirectories`` update."""
        return cls(type="addDirectories", directories=directories, destination=destination)

    @classmethod
    def remove_directories(
        cls, directories: Iterable[str], *, destination: PermissionUpdateDestination = "session"
    ) -> PermissionUpdate:
        """A ``removeDirectories`` update."""
        return cls(type="removeDirectories", directories=directories, destination=destination)

    # ------------------------------------------------------------------ wire

    def to_dict(self) -> dict[str, Any]:
        """The wire form, e.g. ``{"type": "addRules", "rules": [...], "behavior": "allow",
        "destination": "session"}``. Absent fields are omitted; keys the CLI sent that this
        class does not model are kept."""
        kind = self.type
        if self.raw is not None and not self._well_formed():
            # Only reachable for updates decoded from the CLI (an unknown type, say): send back
            # what it sent.
            return _without_none(self.raw)
        data: dict[str, Any] = {"type": kind}
        if kind in _RULE_TYPES:
            data["rules"] = [r.to_dict() for r in self.rules or ()]
            data["behavior"] = self.behavior
        elif kind == "setMode":
            data["mode"] = self.mode
        else:
            data["directories"] = list(self.directories or ())
        data["destination"] = self.destination
        if self.raw:
            for key, value in self.raw.items():
                if key not in self._KNOWN_KEYS and value is not None:
                    data[key] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, strict: bool = False) -> PermissionUpdate:
        """Decodes the wire form.

        Args:
            data: The dict (camelCase wire keys).
            strict: Check the fields like the constructor (for dicts written by users). When
                ``False`` (dicts from the CLI), nothing is rejected and the dict is kept in
                :attr:`raw`.

        Raises:
            ValueError: ``strict`` and the dict is not a valid update.
            TypeError: ``strict`` and a field has the wrong type.
        """
        rules = data.get("rules")
        directories = data.get("directories")
        fields: dict[str, Any] = {
            "type": data.get("type", ""),
            "rules": [
                PermissionRuleValue.from_dict(r) if isinstance(r, Mapping) else r for r in rules
            ]
            if isinstance(rules, list)
            else None,
            "behavior": data.get("behavior"),
            "mode": data.get("mode"),
            "directories": directories if isinstance(directories, list) else None,
            "destination": _destination(data.get("destination")),
        }
        if strict:
            return cls(**fields)
        update = cls.__new__(cls)
        for name, value in fields.items():
            object.__setattr__(update, name, value)
        object.__setattr__(update, "raw", dict(data))
        return update


def _permission_updates(value: Iterable[PermissionUpdate | Mapping[str, Any]] | None) -> Any:
    if value is None:
        return None
    if isinstance(value, (PermissionUpdate, Mapping, str, bytes)) or not isinstance(
        value, Iterable
    ):
        raise TypeError(
            f"updated_permissions must be a list of PermissionUpdate, not {type(value).__name__}"
        )
    updates: list[PermissionUpdate] = []
    for u in value:
        if isinstance(u, PermissionUpdate):
            updates.append(u)
        elif isinstance(u, Mapping):
            updates.append(PermissionUpdate.from_dict(u, strict=True))
        else:
            raise TypeError(
                "updated_permissions must hold PermissionUpdate (or its wire dict), "
                f"not {type(u).__name__}"
            )
    return updates


def _check_updated_input(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name} must be a dict (the tool's whole input) "
            f"or None, not {type(value).__name__}"
        )


def encoded_updated_input(value: Any, owner: str) -> dict[str, Any]:
    """``updated_input`` as the wire dict, refusing anything that is not a mapping.

    ``dict()`` of a string, a list or a number would silently allow a different input than the
    callback meant (``dict("")`` is ``{}``), so those raise instead.

    Args:
        value: The ``updated_input`` value.
        owner: The class that holds it, for the message.

    Raises:
        TypeError: ``value`` is not a mapping.
    """
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{owner}.updated_input must be a dict (the tool's whole input) or None, "
            f"not {type(value).__name__}"
        )
    return dict(value)


def encoded_updated_permissions(value: Any) -> list[dict[str, Any]]:
    """``updated_permissions`` as wire dicts, refusing anything that is not a list of updates.

    Raises:
        TypeError: ``value`` is not a list (or tuple) of valid :class:`PermissionUpdate`.
        ValueError: An update is not valid.
    """
    if not isinstance(value, (list, tuple)):
        raise TypeError(
            f"updated_permissions must be a list of PermissionUpdate, not {type(value).__name__}"
        )
    encoded: list[dict[str, Any]] = []
    for update in value:
        if not isinstance(update, PermissionUpdate):
            raise TypeError(
                f"updated_permissions must hold PermissionUpdate, not {type(update).__name__}"
            )
        if update.raw is None:
            update._check()  # built in Python: re-check, whatever bypassed the constructor
        encoded.append(update.to_dict())
    return encoded


def _check_classification(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Telemetry only, and the CLI drops a value it does not know: an unknown string (a newer
    # CLI's value, or a typo) is kept with a warning, never refused.
    if value is None or value in _CLASSIFICATIONS:
        return
    if not isinstance(value, str):
        raise ValueError(
            f"{attribute.name} must be one of {sorted(_CLASSIFICATIONS)} (or another string), "
            f"or None; got {value!r}"
        )
    import difflib
    import warnings

    close = difflib.get_close_matches(value, sorted(_CLASSIFICATIONS), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    warnings.warn(
        f"{attribute.name} {value!r} is not a value this SDK knows; {hint}known: "
        f"{', '.join(sorted(_CLASSIFICATIONS))}. It is sent as it is (a CLI that does not know "
        "it ignores it)",
        UserWarning,
        stacklevel=3,
    )


@dataclass_compatible
@attrs.frozen(kw_only=True)
class PermissionResultAllow:
    """Allow the tool call.

    Args:
        updated_input: The input the tool runs with instead of the model's (``None``: the
            original input).
        updated_permissions: Permission updates for the CLI to apply (e.g. one of the
            context's ``suggestions`` to stop asking for this tool).
        decision_classification: ``user_temporary``, ``user_permanent`` or ``user_reject``
            (telemetry; TypeScript SDK field). Another string is sent as it is, with a warning
            (a newer CLI may know it; one that does not ignores it).

    Raises:
        TypeError: ``updated_input`` is not a dict (a string, a list, a number, ...), or
            ``updated_permissions`` is not a list of :class:`PermissionUpdate` (or their
            wire dicts). Never coerced: ``dict("")`` would allow the tool with an empty input.
            Should the check be bypassed, encoding refuses the value again and the
            ``can_use_tool`` handler denies.
    """

    behavior: Literal["allow"] = attrs.field(
        default="allow", validator=attrs.validators.in_(("allow",))
    )
    updated_input: dict[str, Any] | None = attrs.field(default=None, validator=_check_updated_input)
    updated_permissions: list[PermissionUpdate] | None = attrs.field(
        default=None, converter=_permission_updates
    )
    decision_classification: PermissionDecisionClassification | None = attrs.field(
        default=None, validator=_check_classification
    )

    def to_dict(self, original_input: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The ``can_use_tool`` answer: ``{"behavior": "allow", "updatedInput": {...},
        "updatedPermissions"?: [...]}``.

        ``updatedInput`` is always sent (the original input when ``updated_input`` is
        ``None``), as the official Python SDK does.

        Args:
            original_input: The model's input, sent when ``updated_input`` is ``None``.

        Raises:
            TypeError: A field holds a value of the wrong type (possible only when the
                constructor's checks were bypassed): it is refused, never coerced.
        """
        if self.updated_input is not None:
            updated = encoded_updated_input(self.updated_input, "PermissionResultAllow")
        else:
            updated = dict(original_input) if original_input is not None else {}
        data: dict[str, Any] = {"behavior": "allow", "updatedInput": updated}
        if self.updated_permissions is not None:
            data["updatedPermissions"] = encoded_updated_permissions(self.updated_permissions)
        if self.decision_classification is not None:
            data["decisionClassification"] = self.decision_classification
        return data


@dataclass_compatible
@attrs.frozen(kw_only=True)
class PermissionResultDeny:
    """Deny the tool call.

    Args:
        message: Why; the model receives it as the tool's error result.
        interrupt: Also stop the whole turn.
        decision_classification: Telemetry classification (TypeScript SDK field); as for
            :class:`PermissionResultAllow`.

    Raises:
        TypeError: ``message`` is not a string or ``interrupt`` is not a bool.
    """

    behavior: Literal["deny"] = attrs.field(
        default="deny", validator=attrs.validators.in_(("deny",))
    )
    message: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    interrupt: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    decision_classification: PermissionDecisionClassification | None = attrs.field(
        default=None, validator=_check_classification
    )

    def to_dict(self) -> dict[str, Any]:
        """The ``can_use_tool`` answer: ``{"behavior": "deny", "message": ...,
        "interrupt"?: true}``.

        Raises:
            TypeError: ``message`` is not a string (possible only when the constructor's
                checks were bypassed).
        """
        if not isinstance(self.message, str):
            raise TypeError(
                f"PermissionResultDeny.message must be a str, not {type(self.message).__name__}"
            )
        data: dict[str, Any] = {"behavior": "deny", "message": self.message}
        if self.interrupt:
            data["interrupt"] = True
        if self.decision_classification is not None:
            data["decisionClassification"] = self.decision_classification
        return data


#: What a ``can_use_tool`` callback returns.
PermissionResult = PermissionResultAllow | PermissionResultDeny


@dataclass_compatible
@attrs.frozen(kw_only=True)
class ToolPermissionContext:
    """What the CLI tells the permission callback besides the tool name and input.

    Attributes:
        signal: Always ``None`` (kept for the official signature; cancellation is a trio
            cancel scope: the CLI withdrawing the request cancels the callback).
        suggestions: Permission updates the CLI suggests (e.g. "allow Write for this session");
            return some of them as ``updated_permissions`` to apply them.
        tool_use_id: The id of the tool call.
        agent_id: The subagent asking, ``None`` for the main agent.
        blocked_path: The path that triggered the prompt, if any.
        decision_reason: Why the CLI asks.
        decision_reason_type: The kind of reason (``rule``, ``mode``, ...).
        title: A title for a permission prompt.
        display_name: The tool's display name.
        description: A short description of the call.
        mcp_server: ``{"name", "source"}`` for MCP tools.
        classifier_approvable: Whether the auto-mode classifier could approve it.
        suppress_always_allow_rule: The CLI advises against offering "always allow".
        default_to_no: The CLI advises defaulting to "no".
        matched_ask_rule: The ``ask`` rule that matched (``{"source", "tool_name", ...}``).
        requires_user_interaction: The tool needs a human (e.g. a question to the user).
        raw: The whole ``can_use_tool`` request as the CLI sent it.
    """

    signal: Any = None
    suggestions: list[PermissionUpdate] = attrs.field(factory=list)
    tool_use_id: str | None = None
    agent_id: str | None = None
    blocked_path: str | None = None
    decision_reason: str | None = None
    decision_reason_type: str | None = None
    title: str | None = None
    display_name: str | None = None
    description: str | None = None
    mcp_server: dict[str, Any] | None = None
    classifier_approvable: bool | None = None
    suppress_always_allow_rule: bool | None = None
    default_to_no: bool | None = None
    matched_ask_rule: dict[str, Any] | None = None
    requires_user_interaction: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


_CONTEXT_FIELDS = (
    "tool_use_id",
    "agent_id",
    "blocked_path",
    "decision_reason",
    "decision_reason_type",
    "title",
    "display_name",
    "description",
    "mcp_server",
    "classifier_approvable",
    "suppress_always_allow_rule",
    "default_to_no",
    "matched_ask_rule",
    "requires_user_interaction",
)


def decode_permission_request(
    request: Mapping[str, Any],
) -> tuple[str, dict[str, Any], ToolPermissionContext]:
    """Splits a ``can_use_tool`` request into the callback's three arguments.

    Never raises: fields of an unexpected shape are passed as they are (or dropped, for
    suggestions that are not objects).
    """
    tool_name = request.get("tool_name")
    tool_input = request.get("input")
    suggestions = request.get("permission_suggestions")
    context = ToolPermissionContext(
        suggestions=[
            PermissionUpdate.from_dict(s) for s in suggestions or () if isinstance(s, Mapping)
        ]
        if isinstance(suggestions, list)
        else [],
        raw=dict(request),
        **{name: request.get(name) for name in _CONTEXT_FIELDS},
    )
    return (
        tool_name if isinstance(tool_name, str) else str(tool_name),
        dict(tool_input) if isinstance(tool_input, Mapping) else {},
        context,
    )


def encode_permission_result(result: Any, original_input: Mapping[str, Any]) -> dict[str, Any]:
    """The ``can_use_tool`` answer for a callback's return value.

    Never coerces: a field of the wrong type raises rather than being sent as something else
    (the handler turns any exception here into a deny).

    Raises:
        TypeError: ``result`` is not a :class:`PermissionResultAllow` or
            :class:`PermissionResultDeny`, or one of its fields has the wrong type.
    """
    if isinstance(result, PermissionResultAllow):
        return result.to_dict(original_input)
    if isinstance(result, PermissionResultDeny):
        return result.to_dict()
    raise TypeError(
        "a can_use_tool callback must return PermissionResultAllow or PermissionResultDeny, "
        f"not {type(result).__name__}"
    )
