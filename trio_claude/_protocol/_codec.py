"""The codec: parsed wire dicts <-> the typed classes of :mod:`trio_claude.types`.

Theory of operation
-------------------

One :class:`cattrs.Converter` (:data:`converter`) is the source of truth. It has strict hooks for
JSON primitives and containers (``"content": 5`` where a string is expected is an error, never a
silent ``str(5)``), and a structure hook for every public class, generated with
``cattrs.gen.make_dict_structure_fn`` and ``override(rename=...)`` for the CLI's camelCase keys.
The hooks are generated the first time a class is needed (by hook factories registered on the
converter), not at import: compiling ~50 of them is what used to make ``import trio_claude``
slow, and most sessions only ever see a handful of message types.

Every decoded message keeps ``raw``, the very dict the CLI sent (not a copy). cattrs cannot fill
a field from the whole input dict, so the generated functions leave ``raw`` (and
``SystemMessage.data``) out and a thin wrapper stores the dict in the instance's slot right after
construction, before anyone else can see the instance.

Three frame types are the per-message hot path (``assistant``, ``user``, ``stream_event``) and
their common content blocks. They are decoded by hand-written functions that check the JSON type
of every field with one combined test and build the instance through a *builder*: a function
generated for the class that creates the instance with ``object.__new__`` and fills its slots
directly (as an instance of a private mutable twin subclass, then switched to the real class:
see :func:`_unfrozen_twin`). That skips nothing but cost: the classes have no validators,
converters or post-init hooks (checked at import), so the result is identical to calling
``__init__`` (a test checks this). The same functions are registered as the converter's hooks
for those classes, so ``converter.structure(d, AssistantMessage)`` and :func:`decode_message`
agree. The protocol core calls them directly through :data:`HOT_DECODERS` (one dispatch on
``type`` per frame, not two).

Rules:

* :func:`decode_message` never raises for something *unknown*: an unknown ``type`` gives
  :class:`~trio_claude.types.UnknownMessage`, an unknown ``system`` subtype a plain
  :class:`~trio_claude.types.SystemMessage`, an unknown content block an
  :class:`~trio_claude.types.UnknownBlock`. A *known* type with a field of the wrong JSON type, or
  without a required field, raises :class:`~trio_claude.MessageParseError` carrying the frame.
  Missing optional fields take their defaults.
* This module must not import trio (the sans-io core runs without an event loop).
"""

from __future__ import annotations

import json
import math
import sys
import threading
import types as pytypes
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, Union, get_args, get_origin

import attrs
import orjson

from .. import types as _types
from .._errors import InvalidPromptError, MessageParseError
from .._redact import redact, redact_preview
from ..types import (
    ActiveGoalMessage,
    AgentInfo,
    AssistantMessage,
    AuthStatusMessage,
    CommandLifecycleMessage,
    ContentBlock,
    ConversationResetMessage,
    DeferredToolUse,
    DocumentBlock,
    ImageBlock,
    InitMessage,
    Message,
    ModelInfo,
    PromptSuggestionMessage,
    RateLimitEvent,
    RateLimitInfo,
    RedactedThinkingBlock,
    ResultMessage,
    ServerInfo,
    ServerToolResultBlock,
    ServerToolUseBlock,
    SlashCommand,
    StatusMessage,
    StreamEvent,
    SystemMessage,
    TextBlock,
    ThinkingBlock,
    ToolProgressMessage,
    ToolResultBlock,
    ToolUseBlock,
    ToolUseSummaryMessage,
    UnknownBlock,
    UnknownMessage,
    UserMessage,
)

__all__ = [
    "BLOCK_CLASSES",
    "HOT_DECODERS",
    "MESSAGE_CLASSES",
    "SYSTEM_MESSAGE_CLASSES",
    "converter",
    "decode_message",
    "decode_server_info",
    "decode_server_info_leniently",
    "dumps_from_cli",
    "encode_frame",
    "encode_user_message",
    "message_to_dict",
    "unstructure_block",
]

T = TypeVar("T")
_NoneType: Final = type(None)

# ---------------------------------------------------------------------------------------------
# Tables: wire tags -> classes
# ---------------------------------------------------------------------------------------------


class _ClassTable(Mapping[str, type[T]]):
    """A read-only ``tag -> class`` table of :mod:`trio_claude.types` classes, held by name.

    A class is looked up (``getattr(trio_claude.types, name)``) when the table is read, so the
    classes that module creates on first use (the rare ``system`` subtypes) are created when a
    frame of their subtype first arrives, not at import.
    """

    __slots__ = ("_names",)

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = dict(names)

    def __getitem__(self, tag: str) -> type[T]:
        cls: type[T] = getattr(_types, self._names[tag])
        return cls

    def __contains__(self, tag: object) -> bool:
        return tag in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._names!r})"


SYSTEM_MESSAGE_CLASSES: Final[Mapping[str, type[SystemMessage]]] = _ClassTable(
    {
        "init": "InitMessage",
        "status": "StatusMessage",
        "api_retry": "ApiRetryMessage",
        "model_fallback": "ModelFallbackMessage",
        "model_refusal_fallback": "ModelRefusalFallbackMessage",
        "model_refusal_no_fallback": "ModelRefusalNoFallbackMessage",
        "permission_denied": "PermissionDeniedMessage",
        "thinking_tokens": "ThinkingTokensMessage",
        "session_state_changed": "SessionStateChangedMessage",
        "compact_boundary": "CompactBoundaryMessage",
        "hook_started": "HookStartedMessage",
        "hook_progress": "HookProgressMessage",
        "hook_response": "HookResponseMessage",
        "task_started": "TaskStartedMessage",
        "task_progress": "TaskProgressMessage",
        "task_updated": "TaskUpdatedMessage",
        "task_notification": "TaskNotificationMessage",
        "background_tasks_changed": "BackgroundTasksChangedMessage",
        "local_command_output": "LocalCommandOutputMessage",
        "notification": "NotificationMessage",
        "informational": "InformationalMessage",
        "commands_changed": "CommandsChangedMessage",
        "control_request_progress": "ControlRequestProgressMessage",
        "plugin_install": "PluginInstallMessage",
        "files_persisted": "FilesPersistedMessage",
        "memory_recall": "MemoryRecallMessage",
        "elicitation_complete": "ElicitationCompleteMessage",
        "worker_shutting_down": "WorkerShuttingDownMessage",
        "session_writes_lost": "SessionWritesLostMessage",
        "mirror_error": "MirrorErrorMessage",
    }
)
"""``system`` subtype -> typed class. Any other subtype decodes to plain ``SystemMessage``."""

_SYSTEM_CLASS_NAMES: Final = frozenset(SYSTEM_MESSAGE_CLASSES._names.values())  # type: ignore[attr-defined]

MESSAGE_CLASSES: Final[Mapping[str, type[Any]]] = {
    "user": UserMessage,
    "assistant": AssistantMessage,
    "system": SystemMessage,
    "result": ResultMessage,
    "stream_event": StreamEvent,
    "rate_limit_event": RateLimitEvent,
    "conversation_reset": ConversationResetMessage,
    "tool_progress": ToolProgressMessage,
    "auth_status": AuthStatusMessage,
    "tool_use_summary": ToolUseSummaryMessage,
    "prompt_suggestion": PromptSuggestionMessage,
    "command_lifecycle": CommandLifecycleMessage,
    "active_goal": ActiveGoalMessage,
}
"""Top-level ``type`` -> class. Any other type decodes to ``UnknownMessage``."""

_SERVER_TOOL_RESULT_TYPES: Final = (
    "advisor_tool_result",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
)

BLOCK_CLASSES: Final[Mapping[str, type[Any]]] = {
    "text": TextBlock,
    "thinking": ThinkingBlock,
    "redacted_thinking": RedactedThinkingBlock,
    "tool_use": ToolUseBlock,
    "tool_result": ToolResultBlock,
    "server_tool_use": ServerToolUseBlock,
    "image": ImageBlock,
    "document": DocumentBlock,
    **{name: ServerToolResultBlock for name in _SERVER_TOOL_RESULT_TYPES},
}
"""Content block ``type`` -> class. Any other type decodes to ``UnknownBlock``."""

# Python attribute -> wire key, where they differ (for the converter-generated hooks; the
# hand-written user decoder reads ``isReplay``/``isSynthetic`` itself).
_RENAMES: Final[Mapping[type[Any], Mapping[str, str]]] = {
    ResultMessage: {"model_usage": "modelUsage"},
    InitMessage: {"permission_mode": "permissionMode", "api_key_source": "apiKeySource"},
    StatusMessage: {"permission_mode": "permissionMode"},
    AuthStatusMessage: {"is_authenticating": "isAuthenticating"},
    SlashCommand: {"argument_hint": "argumentHint"},
    ModelInfo: {
        "display_name": "displayName",
        "resolved_model": "resolvedModel",
        "supports_effort": "supportsEffort",
        "supported_effort_levels": "supportedEffortLevels",
        "supports_adaptive_thinking": "supportsAdaptiveThinking",
        "supports_fast_mode": "supportsFastMode",
        "supports_auto_mode": "supportsAutoMode",
        "supports_thinking_off": "supportsThinkingOff",
    },
}


def lenient_origin(value: Any) -> dict[str, Any] | None:
    """A turn's ``origin`` as the official parser reads it: an object naming its ``kind``, else
    ``None`` (a bare string or a kind-less object is no origin, not a malformed frame)."""
    return value if type(value) is dict and "kind" in value else None


def _lenient_errors(value: Any, _: Any) -> list[Any] | None:
    # The official parser passes ``errors`` through; a bare string is one error.
    if type(value) is list or value is None:
        return value
    return [value] if type(value) is str else None


def _lenient_patch(value: Any, _: Any) -> dict[str, Any]:
    return value if type(value) is dict else {}  # official: a non-object patch is no patch


#: Fields read as the official parser reads them, not strictly: shapes the CLI has sent (or
#: the official SDK tolerates) that are no reason to deliver the whole frame untyped.
#: By class name: some of these classes are made on first use (``types.py``).
_LENIENT: Final[Mapping[str, Mapping[str, Callable[[Any, Any], Any]]]] = {
    "ResultMessage": {"errors": _lenient_errors, "origin": lambda v, _: lenient_origin(v)},
    "TaskUpdatedMessage": {"patch": _lenient_patch},
}


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class _WrongType(TypeError):
    """A JSON value of the wrong type, or a missing required one. Becomes MessageParseError.

    ``path`` is where (``message.content[0].text``; empty inside converter hooks, where cattrs
    knows the path), ``detail`` what is wrong.
    """

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{detail} @ $.{path}" if path else detail)
        self.path = path
        self.detail = detail


#: Strings up to this long are quoted in parse errors; longer ones only by their length (a
#: frame's string may be a credential the CLI echoed, and a cut one is no longer recognisable).
_QUOTE_MAX = 12


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    kind = type(value).__name__
    if isinstance(value, str):
        if len(value) > _QUOTE_MAX:
            return f"{kind} of {len(value)} characters"
        return f"{kind} {redact(repr(value))}"
    if isinstance(value, Mapping):
        # The keys say what it is; the values are not quoted, nor is a long key (a credential
        # used as a key, cut to length, would no longer be recognisable): those are counted.
        return f"{kind} with keys {_describe_keys(value)}"
    if isinstance(value, (list, tuple)):
        return f"{kind} of {len(value)} items"
    return f"{kind} {redact_preview(repr(value), (), 60)}"


#: The most keys of an object a parse error names.
_KEYS_QUOTED = 8


def _describe_keys(value: Mapping[Any, Any]) -> str:
    """``['type', 'subtype']``: the keys of up to :data:`_QUOTE_MAX` characters and small
    numbers (at most :data:`_KEYS_QUOTED` of them), with the number of keys when some are not
    named (``['type', ...] (3 keys)``)."""
    shown: list[Any] = []
    for key in value:
        if len(shown) == _KEYS_QUOTED:
            break
        if isinstance(key, str):
            if len(key) <= _QUOTE_MAX:
                shown.append(key)
        elif key is None or isinstance(key, bool) or (isinstance(key, int) and -999 < key < 999):
            shown.append(key)
    text = redact(repr(shown))
    count = len(value)
    if len(shown) < count:
        text = f"{text[:-1]}{', ' if shown else ''}...] ({count} keys)"
    return text


def _wrong(path: str, expected: str, value: Any) -> _WrongType:
    return _WrongType(path, f"expected {expected}, got {_describe(value)}")


def _missing_or_wrong(
    container: Mapping[str, Any], key: str, path: str, expected: str
) -> _WrongType:
    if key not in container:
        return _WrongType(path, "required field missing")
    return _wrong(path, expected, container[key])


def _format_exception(exc: BaseException, tp: type | None) -> str:
    if isinstance(exc, _WrongType):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    from cattrs.v import format_exception

    return format_exception(exc, tp)


def _explain(exc: BaseException, path: str = "$") -> str:
    # (no cattrs error can exist before cattrs is imported, by the converter's first use)
    cattrs_module = sys.modules.get("cattrs")
    if cattrs_module is not None and isinstance(exc, cattrs_module.BaseValidationError):
        return "; ".join(
            cattrs_module.transform_error(exc, path=path, format_exception=_format_exception)
        )
    return str(exc) or type(exc).__name__


def _parse_error(what: str, exc: BaseException, obj: Any) -> MessageParseError:
    data = obj if isinstance(obj, dict) else None
    # cattrs' own texts may quote a value ("invalid type (...)"): masked before any cut.
    explained = redact(_explain(exc))
    if "required field missing" in explained:  # the official parser's words
        plain = what.replace("'", "")
        return MessageParseError(f"Missing required field in {plain}: {explained}", data=data)
    return MessageParseError(f"malformed {what}: {explained}", data=data)


# ---------------------------------------------------------------------------------------------
# The converter and its strict JSON hooks
# ---------------------------------------------------------------------------------------------

# The converter is built on first use (``converter``, read through the module's ``__getattr__``,
# or ``_get_converter()``): importing cattrs and configuring it costs ~9 ms, and the frequent
# frames (assistant, user, stream_event) are decoded without it. See _build_converter below.
if TYPE_CHECKING:
    import cattrs

    converter: cattrs.Converter
    """The converter: structures wire dicts into :mod:`trio_claude.types` classes and back."""

_converter: cattrs.Converter | None = None
_CONVERTER_LOCK: Final = threading.Lock()


def _get_converter() -> cattrs.Converter:
    """The converter (built by the first call)."""
    built = _converter
    if built is None:
        with _CONVERTER_LOCK:
            built = _converter
            if built is None:
                built = _build_converter()
    return built


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise _wrong("", "a string", value)


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise _wrong("", "an integer", value)


def _structure_float(value: Any, _: Any) -> float:
    # JSON has one number type: integers are accepted (and kept as they are) for float fields.
    if type(value) is float or type(value) is int:
        return value
    raise _wrong("", "a number", value)


def _structure_bool(value: Any, _: Any) -> bool:
    if type(value) is bool:
        return value
    raise _wrong("", "a boolean", value)


_Check = Callable[[Any], bool]
_PRIMITIVE_CHECKS: Final[Mapping[Any, _Check]] = {
    str: lambda v: type(v) is str,
    int: lambda v: type(v) is int,
    float: lambda v: type(v) is float or type(v) is int,
    bool: lambda v: type(v) is bool,
}
_EXPECTED: Final[Mapping[Any, str]] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    list: "a list",
    _NoneType: "null",
}
_PLURAL: Final[Mapping[Any, str]] = {
    str: "strings",
    int: "integers",
    float: "numbers",
    bool: "booleans",
    dict: "objects",
    list: "lists",
}


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, pytypes.UnionType)


# The element types a plain-JSON check accepts, per annotation: a container of these is checked
# with one C-level pass (``set(map(type, ...))``), not a Python call per element; the lists of an
# ``init`` message hold ~100 names.
_PRIMITIVE_TYPES: Final[Mapping[Any, frozenset[type]]] = {
    str: frozenset({str}),
    int: frozenset({int}),
    float: frozenset({float, int}),
    bool: frozenset({bool}),
}


def _json_check(tp: Any) -> _Check | None:
    """A predicate for values of ``tp`` if ``tp`` is plain JSON (kept as is), else ``None``."""
    if tp is Any:
        return lambda v: True
    if tp in _PRIMITIVE_CHECKS:
        return _PRIMITIVE_CHECKS[tp]
    if tp is _NoneType:
        return lambda v: v is None
    origin = get_origin(tp)
    if origin is dict or tp is dict:
        args = get_args(tp)
        if not args or args[1] is Any:
            return lambda v: type(v) is dict
        if args[1] in _PRIMITIVE_TYPES:
            allowed = _PRIMITIVE_TYPES[args[1]]
            return lambda v: type(v) is dict and set(map(type, v.values())) <= allowed
        value_check = _json_check(args[1])
        if value_check is None:
            return None
        vc = value_check
        return lambda v: type(v) is dict and all(vc(x) for x in v.values())
    if origin is list or tp is list:
        args = get_args(tp)
        if not args or args[0] is Any:
            return lambda v: type(v) is list
        if args[0] in _PRIMITIVE_TYPES:
            elements = _PRIMITIVE_TYPES[args[0]]
            return lambda v: type(v) is list and set(map(type, v)) <= elements
        element_check = _json_check(args[0])
        if element_check is None:
            return None
        ec = element_check
        return lambda v: type(v) is list and all(ec(x) for x in v)
    if _is_union(tp):
        members = get_args(tp)
        checks = [_json_check(arg) for arg in members if arg is not _NoneType]
        if any(c is None for c in checks):
            return None
        member_checks = [c for c in checks if c is not None]
        optional = len(member_checks) < len(members)
        if len(member_checks) == 1:
            (only,) = member_checks
            return (lambda v: v is None or only(v)) if optional else only
        if optional:
            return lambda v: v is None or any(c(v) for c in member_checks)
        return lambda v: any(c(v) for c in member_checks)
    return None


def _origin(tp: Any) -> Any:
    origin = get_origin(tp)
    return tp if origin is None else origin


def _type_name(tp: Any) -> str:
    origin = _origin(tp)
    return _EXPECTED.get(origin, getattr(origin, "__name__", repr(origin)))


def _container_hook_factory(tp: Any) -> Callable[[Any, Any], Any]:
    """Strict hooks for ``list[...]`` and ``dict[str, ...]``: no iterable or mapping coercion.

    Plain-JSON contents are validated in place and the very same object is returned (so ``raw``
    and the typed attribute share it); containers of classes are structured into new ones.
    """
    origin = _origin(tp)
    expected = _EXPECTED[origin]
    check = _json_check(tp)
    if check is not None:
        ok = check

        def json_hook(value: Any, _: Any) -> Any:
            if ok(value):
                return value
            if type(value) is not origin:
                raise _wrong("", expected, value)
            raise _wrong("", f"{expected} of {_element_description(tp)}", value)

        return json_hook

    args = get_args(tp)
    if origin is list:
        (element_type,) = args
        element_hook = _get_converter().get_structure_hook(element_type)

        def list_hook(value: Any, _: Any) -> list[Any]:
            if type(value) is not list:
                raise _wrong("", "a list", value)
            return [element_hook(item, element_type) for item in value]

        return list_hook

    value_type = args[1]
    value_hook = _get_converter().get_structure_hook(value_type)

    def dict_hook(value: Any, _: Any) -> dict[str, Any]:
        if type(value) is not dict:
            raise _wrong("", "an object", value)
        return {key: value_hook(item, value_type) for key, item in value.items()}

    return dict_hook


def _element_description(tp: Any) -> str:
    args = get_args(tp)
    element = args[-1] if args else Any
    return _PLURAL.get(_origin(element), "valid items")


def _any_json_union_factory(tp: Any) -> Callable[[Any, Any], Any]:
    """Unions of plain JSON types (``str | None``, ``list[str] | None``, ...), kept as they are."""
    check = _json_check(tp)
    assert check is not None
    ok = check
    members = get_args(tp)
    expected = " or ".join(_type_name(arg) for arg in members)

    def wrong(value: Any) -> Exception:
        for member in members:  # right container, wrong contents: let it say what is wrong
            if _origin(member) is type(value):
                _get_converter().get_structure_hook(member)(value, member)
        return _wrong("", expected, value)

    if len(members) == 2 and members[1] is _NoneType and members[0] in (str, int, bool):
        # ``str | None`` and its like, most optional fields: no predicate call.
        only = members[0]

        def optional_hook(value: Any, _: Any) -> Any:
            if value is None or type(value) is only:
                return value
            raise wrong(value)

        return optional_hook

    def union_hook(value: Any, _: Any) -> Any:
        if ok(value):
            return value
        raise wrong(value)

    return union_hook


# ---------------------------------------------------------------------------------------------
# Builders: fast constructors for the hot-path classes
# ---------------------------------------------------------------------------------------------


def _slot_setter(cls: type[Any], name: str) -> Callable[[Any, Any], None]:
    descriptor = None
    for klass in cls.__mro__:
        if name in vars(klass):
            descriptor = vars(klass)[name]
            break
    if type(descriptor).__name__ != "member_descriptor":
        raise TypeError(f"{cls.__name__}.{name} is not a slot")
    setter: Callable[[Any, Any], None] = descriptor.__set__  # type: ignore[union-attr]
    return setter


def _fields(cls: type[Any]) -> tuple[attrs.Attribute[Any], ...]:
    fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(cls)
    return fields


def _unfrozen_twin(cls: type[Any]) -> type[Any]:
    """A subclass of the frozen ``cls`` that adds no slot and has ``object``'s ``__setattr__``.

    A builder creates the instance as this twin, where ``self.x = value`` is a plain slot store
    (CPython specialises it: ~10 ns, against ~40 ns for calling the slot descriptor's ``__set__``
    and more for ``object.__setattr__``), then makes it a ``cls`` by assigning ``__class__``
    (allowed: same layout, checked here). Both dunders must be overridden for the type's
    ``tp_setattro`` to be the generic one. ``object.__init__`` replaces the class's attrs
    ``__init__``, so ``twin()`` allocates an empty instance (~25 ns less than
    ``object.__new__(twin)``, which goes through a generic argument-parsing wrapper).
    """
    twin = type(
        f"_Unfrozen{cls.__name__}",
        (cls,),
        {
            "__slots__": (),
            "__init__": object.__init__,
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
            "__module__": __name__,
        },
    )
    probe: Any = twin()
    probe.__class__ = cls  # raises TypeError here, at import, if the layouts differ
    return twin


_TWINS: Final[dict[type[Any], type[Any]]] = {}
"""Class -> its :func:`_unfrozen_twin`, made by :func:`_builder_source` (one per class)."""


def _builder_source(
    cls: type[Any], order: tuple[str, ...], index: int, namespace: dict[str, Any]
) -> str:
    """Check ``cls`` and return the source of its builder ``build{index}`` (the names it uses go
    in ``namespace``).

    The builder is equivalent to ``cls(**dict(zip(order, args)))`` because the class has no
    validators, converters, ``on_setattr`` hooks or ``__attrs_post_init__`` (checked here), every
    field is a slot and every field is passed explicitly. It fills the slots of an
    :func:`_unfrozen_twin` instance and then turns it into a ``cls``; nobody sees the instance
    before that.
    """
    fields = _fields(cls)
    names = tuple(f.name for f in fields)
    if sorted(names) != sorted(order):
        raise TypeError(f"builder for {cls.__name__}: {order} does not match fields {names}")
    for f in fields:
        _slot_setter(cls, f.name)  # raises unless the field is a slot
        if f.validator is not None or f.converter is not None or f.on_setattr is not None:
            raise TypeError(f"builder for {cls.__name__}: field {f.name} has a hook")
    if hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        raise TypeError(f"builder for {cls.__name__}: class has an init hook")
    namespace[f"_cls{index}"] = cls
    namespace[f"_twin{index}"] = _TWINS.get(cls) or _TWINS.setdefault(cls, _unfrozen_twin(cls))
    lines = [f"def build{index}({', '.join(order)}):", f"    self = _twin{index}()"]
    lines.extend(f"    self.{name} = {name}" for name in order)
    lines.append(f"    self.__class__ = _cls{index}")
    lines.append("    return self")
    return "\n".join(lines)


def _make_builders(
    specs: tuple[tuple[type[Any], tuple[str, ...]], ...],
) -> list[Callable[..., Any]]:
    """One builder per ``(class, argument order)``, generated by a single ``compile`` (each
    ``compile`` call has a fixed cost, and this runs at import).
    """
    namespace: dict[str, Any] = {}
    source = "\n\n".join(
        _builder_source(cls, order, index, namespace) for index, (cls, order) in enumerate(specs)
    )
    exec(compile(source, "<trio_claude builders>", "exec"), namespace)
    return [namespace[f"build{index}"] for index in range(len(specs))]


def _make_builder(cls: type[T], order: tuple[str, ...]) -> Callable[..., T]:
    """Generate ``build(<order>) -> cls`` that fills the slots without calling ``__init__``."""
    (build,) = _make_builders(((cls, order),))
    return build


# The argument order of each builder is spelled out here, next to the calls below.
_build_text: Callable[..., TextBlock]
_build_thinking: Callable[..., ThinkingBlock]
_build_redacted: Callable[..., RedactedThinkingBlock]
_build_tool_use: Callable[..., ToolUseBlock]
_build_tool_result: Callable[..., ToolResultBlock]
_build_unknown_block: Callable[..., UnknownBlock]
_build_assistant: Callable[..., AssistantMessage]
_build_user: Callable[..., UserMessage]
_build_stream_event: Callable[..., StreamEvent]
_build_unknown_message: Callable[..., UnknownMessage]
(
    _build_text,
    _build_thinking,
    _build_redacted,
    _build_tool_use,
    _build_tool_result,
    _build_unknown_block,
    _build_assistant,
    _build_user,
    _build_stream_event,
    _build_unknown_message,
) = _make_builders(
    (
        (TextBlock, ("text", "citations", "raw")),
        (ThinkingBlock, ("thinking", "signature", "raw")),
        (RedactedThinkingBlock, ("data", "raw")),
        (ToolUseBlock, ("id", "name", "input", "raw")),
        (ToolResultBlock, ("tool_use_id", "content", "is_error", "raw")),
        (UnknownBlock, ("type", "raw")),
        (
            AssistantMessage,
            (
                "content",
                "model",
                "parent_tool_use_id",
                "error",
                "usage",
                "message_id",
                "stop_reason",
                "session_id",
                "uuid",
                "request_id",
                "user_message_uuid",
                "raw",
            ),
        ),
        (
            UserMessage,
            (
                "content",
                "uuid",
                "parent_tool_use_id",
                "tool_use_result",
                "session_id",
                "is_replay",
                "is_synthetic",
                "origin",
                "raw",
            ),
        ),
        (StreamEvent, ("event", "session_id", "uuid", "parent_tool_use_id", "raw")),
        (UnknownMessage, ("type", "raw")),
    )
)

_OPT_STR: Final = frozenset({str, _NoneType})
_OPT_DICT: Final = frozenset({dict, _NoneType})
_OPT_BOOL: Final = frozenset({bool, _NoneType})
_STR_OR_LIST_OR_NONE: Final = frozenset({str, list, _NoneType})


_Specs = tuple[tuple[str, frozenset[Any]], ...]


def _find_bad(container: Mapping[str, Any], prefix: str, specs: _Specs) -> _WrongType | None:
    """Say which field failed the combined check of a hot-path decoder (slow path only)."""
    for key, allowed in specs:
        value = container.get(key)
        if type(value) not in allowed:
            expected = " or ".join(sorted(_EXPECTED.get(t, t.__name__) for t in allowed))
            if _NoneType in allowed:  # optional: absent is fine, so it was present and wrong
                return _wrong(prefix + key, expected, value)
            return _missing_or_wrong(container, key, prefix + key, expected)
    return None


def _first_bad(container: Mapping[str, Any], prefix: str, specs: _Specs) -> _WrongType:
    return _find_bad(container, prefix, specs) or _WrongType(prefix.rstrip("."), "invalid frame")


_STR: Final = frozenset({str})
_DICT: Final = frozenset({dict})
_LIST: Final = frozenset({list})


# ---------------------------------------------------------------------------------------------
# Content blocks (hot path)
# ---------------------------------------------------------------------------------------------
#
# Style of the hot-path decoders (measured on CPython 3.11): ``d.get(key)`` rather than a bound
# ``get = d.get`` (the method call is specialised, the bound method is an extra allocation), and
# ``x is not None and type(x) is not str`` rather than ``type(x) not in {str, None}``.


def _all_dicts(items: list[Any]) -> bool:
    return all(type(item) is dict for item in items)


def _decode_text(b: dict[str, Any]) -> TextBlock:
    text = b.get("text")
    citations = b.get("citations")
    if type(text) is not str or (
        citations is not None and (type(citations) is not list or not _all_dicts(citations))
    ):
        if type(text) is not str:
            raise _missing_or_wrong(b, "text", "text", "a string")
        raise _wrong("citations", "a list of objects or null", citations)
    return _build_text(text, citations, b)


def _decode_thinking(b: dict[str, Any]) -> ThinkingBlock:
    thinking = b.get("thinking")
    signature = b.get("signature", "")
    if type(thinking) is not str or type(signature) is not str:
        raise _first_bad(b, "", (("thinking", _STR), ("signature", _STR)))
    return _build_thinking(thinking, signature, b)


def _decode_redacted_thinking(b: dict[str, Any]) -> RedactedThinkingBlock:
    data = b.get("data")
    if type(data) is not str:
        raise _missing_or_wrong(b, "data", "data", "a string")
    return _build_redacted(data, b)


def _decode_tool_use(b: dict[str, Any]) -> ToolUseBlock:
    id_ = b.get("id")
    name = b.get("name")
    input_ = b.get("input")
    if input_ is None and "input" not in b:
        input_ = {}
    if type(id_) is not str or type(name) is not str or type(input_) is not dict:
        raise _first_bad(b, "", (("id", _STR), ("name", _STR), ("input", _DICT)))
    return _build_tool_use(id_, name, input_, b)


def _decode_tool_result(b: dict[str, Any]) -> ToolResultBlock:
    tool_use_id = b.get("tool_use_id")
    content = b.get("content")
    is_error = b.get("is_error")
    if (
        type(tool_use_id) is not str
        or type(content) not in _STR_OR_LIST_OR_NONE
        or type(is_error) not in _OPT_BOOL
        or (type(content) is list and not _all_dicts(content))
    ):
        if type(content) is list and type(tool_use_id) is str and type(is_error) in _OPT_BOOL:
            raise _wrong("content", "a string, a list of objects or null", content)
        raise _first_bad(
            b,
            "",
            (("tool_use_id", _STR), ("content", _STR_OR_LIST_OR_NONE), ("is_error", _OPT_BOOL)),
        )
    return _build_tool_result(tool_use_id, content, is_error, b)


_BlockDecoder = Callable[[dict[str, Any]], Any]


def _decode_unknown_block(b: dict[str, Any]) -> UnknownBlock:
    block_type = b.get("type")
    return _build_unknown_block(block_type if type(block_type) is str else "", b)


_UNKNOWN_BLOCK: Final[_BlockDecoder] = _decode_unknown_block


def _generated_block_decoder(cls: type[Any]) -> _BlockDecoder:
    """A decoder for a block class with a converter-generated hook (made on first use)."""

    def decode(obj: dict[str, Any]) -> Any:
        return _structure_hook(cls)(obj, None)

    return decode


_BLOCK_DECODERS: Final[dict[Any, _BlockDecoder]] = {
    "text": _decode_text,
    "thinking": _decode_thinking,
    "redacted_thinking": _decode_redacted_thinking,
    "tool_use": _decode_tool_use,
    "tool_result": _decode_tool_result,
}
"""Block ``type`` -> decoder. Hand-written for the frequent blocks, generated for the others."""
for _wire_type, _block_cls in BLOCK_CLASSES.items():
    if _wire_type not in _BLOCK_DECODERS:
        _BLOCK_DECODERS[_wire_type] = _generated_block_decoder(_block_cls)


def _decode_block(b: Any) -> ContentBlock:
    if type(b) is not dict:
        raise _wrong("", "an object", b)
    block_type = b.get("type")
    decoder = _BLOCK_DECODERS.get(block_type) if type(block_type) is str else None
    if decoder is None:
        return _decode_unknown_block(b)
    block: ContentBlock = decoder(b)
    return block


class _NotFast(Exception):
    """Leave a hot decoder's fast path for its careful one.

    Each hot-path message decoder first tries a fast path written for the frames the CLI
    actually sends: the keys it always writes are read by subscript (a missing one raises
    ``KeyError``), plain text blocks are decoded inline, and the instances are filled in place
    (see :func:`_unfrozen_twin`) rather than through a builder call. Anything unusual (a missing
    key, a value of the wrong type, a content item that is not an object, an unhashable block
    ``type``) raises, and the decoder starts again with its careful path, which reads every key
    with ``.get``, decodes the content item by item and says exactly what is wrong. So the fast
    path only ever returns what the careful path would return (tests compare the two).
    """


def _decode_blocks_carefully(content: list[Any], path: str) -> list[ContentBlock]:
    blocks: list[ContentBlock] = []
    for index, b in enumerate(content):
        try:
            blocks.append(_decode_block(b))
        except Exception as exc:
            where = f"{path}[{index}]"
            if isinstance(exc, _WrongType):
                raise _WrongType(where + (f".{exc.path}" if exc.path else ""), exc.detail) from exc
            raise _WrongType("", _explain(exc, f"$.{where}")) from exc
    return blocks


# ---------------------------------------------------------------------------------------------
# Hot-path messages
# ---------------------------------------------------------------------------------------------
#
# The fast paths fill the slots of twins directly (what the builders do, one call less per
# instance: ~50 ns for a 12-field message). Every field of the class is assigned; the unit tests
# compare each fast path with its careful path and with ``__init__``.

_TextTwin: Final = _TWINS[TextBlock]
_AssistantTwin: Final = _TWINS[AssistantMessage]
_UserTwin: Final = _TWINS[UserMessage]
_StreamEventTwin: Final = _TWINS[StreamEvent]

_ASSISTANT_FRAME_SPECS: Final = (
    ("parent_tool_use_id", _OPT_STR),
    ("error", _OPT_STR),
    ("session_id", _OPT_STR),
    ("uuid", _OPT_STR),
    ("request_id", _OPT_STR),
    ("user_message_uuid", _OPT_STR),
)
_ASSISTANT_MESSAGE_SPECS: Final = (
    ("model", _STR),
    ("usage", _OPT_DICT),
    ("id", _OPT_STR),
    ("stop_reason", _OPT_STR),
)


def _decode_assistant(obj: dict[str, Any]) -> AssistantMessage:
    try:  # fast path (see _NotFast)
        msg = obj["message"]
        content = msg["content"]
        if content.__class__ is not list:
            raise _NotFast
        blocks: list[ContentBlock] = []
        for b in content:
            if b.__class__ is not dict:
                raise _NotFast
            block_type = b["type"]
            if block_type == "text":
                text = b["text"]
                if text.__class__ is str and b.get("citations") is None:
                    block = _TextTwin()
                    block.text = text
                    block.citations = None
                    block.raw = b
                    block.__class__ = TextBlock
                    blocks.append(block)
                    continue
            blocks.append(_BLOCK_DECODERS.get(block_type, _UNKNOWN_BLOCK)(b))
        # Keys every CLI version writes are subscripted; newer or optional ones use .get, so a
        # frame without them does not leave the fast path.
        model = msg["model"]
        usage = msg["usage"]
        message_id = msg["id"]
        stop_reason = msg["stop_reason"]
        parent_tool_use_id = obj["parent_tool_use_id"]
        session_id = obj["session_id"]
        uuid = obj["uuid"]
        request_id = obj.get("request_id")
        error = obj.get("error")
        user_message_uuid = obj.get("user_message_uuid")
    except Exception:
        return _decode_assistant_carefully(obj)
    if (
        model.__class__ is not str
        or (usage is not None and usage.__class__ is not dict)
        or (message_id is not None and message_id.__class__ is not str)
        or (stop_reason is not None and stop_reason.__class__ is not str)
        or (parent_tool_use_id is not None and parent_tool_use_id.__class__ is not str)
        or (session_id is not None and session_id.__class__ is not str)
        or (uuid is not None and uuid.__class__ is not str)
        or (request_id is not None and request_id.__class__ is not str)
        or (error is not None and error.__class__ is not str)
        or (user_message_uuid is not None and user_message_uuid.__class__ is not str)
    ):
        return _decode_assistant_carefully(obj)  # raises, saying which field is wrong
    self = _AssistantTwin()
    self.content = blocks
    self.model = model
    self.parent_tool_use_id = parent_tool_use_id
    self.error = error
    self.usage = usage
    self.message_id = message_id
    self.stop_reason = stop_reason
    self.session_id = session_id
    self.uuid = uuid
    self.request_id = request_id
    self.user_message_uuid = user_message_uuid
    self.raw = obj
    self.__class__ = AssistantMessage
    message: AssistantMessage = self
    return message


def _decode_assistant_carefully(obj: dict[str, Any]) -> AssistantMessage:
    msg = obj.get("message")
    if type(msg) is not dict:
        raise _missing_or_wrong(obj, "message", "message", "an object")
    content = msg.get("content")
    if type(content) is not list:
        raise _missing_or_wrong(msg, "content", "message.content", "a list")
    blocks = _decode_blocks_carefully(content, "message.content")
    model = msg.get("model")
    usage = msg.get("usage")
    message_id = msg.get("id")
    stop_reason = msg.get("stop_reason")
    parent_tool_use_id = obj.get("parent_tool_use_id")
    error = obj.get("error")
    session_id = obj.get("session_id")
    uuid = obj.get("uuid")
    request_id = obj.get("request_id")
    user_message_uuid = obj.get("user_message_uuid")
    if (
        type(model) is not str
        or (usage is not None and type(usage) is not dict)
        or (message_id is not None and type(message_id) is not str)
        or (stop_reason is not None and type(stop_reason) is not str)
        or (parent_tool_use_id is not None and type(parent_tool_use_id) is not str)
        or (error is not None and type(error) is not str)
        or (session_id is not None and type(session_id) is not str)
        or (uuid is not None and type(uuid) is not str)
        or (request_id is not None and type(request_id) is not str)
        or (user_message_uuid is not None and type(user_message_uuid) is not str)
    ):
        raise _find_bad(msg, "message.", _ASSISTANT_MESSAGE_SPECS) or _first_bad(
            obj, "", _ASSISTANT_FRAME_SPECS
        )
    return _build_assistant(
        blocks,
        model,
        parent_tool_use_id,
        error,
        usage,
        message_id,
        stop_reason,
        session_id,
        uuid,
        request_id,
        user_message_uuid,
        obj,
    )


_USER_SPECS: Final = (
    ("uuid", _OPT_STR),
    ("parent_tool_use_id", _OPT_STR),
    ("session_id", _OPT_STR),
    ("isReplay", _OPT_BOOL),
    ("isSynthetic", _OPT_BOOL),
)


def _decode_user(obj: dict[str, Any]) -> UserMessage:
    try:  # fast path (see _NotFast)
        content: Any = obj["message"]["content"]
        if content.__class__ is list:
            blocks: list[ContentBlock] = []
            for b in content:
                if b.__class__ is not dict:
                    raise _NotFast
                blocks.append(_BLOCK_DECODERS.get(b["type"], _UNKNOWN_BLOCK)(b))
            content = blocks
        elif content.__class__ is not str:
            raise _NotFast
        uuid = obj["uuid"]
        parent_tool_use_id = obj["parent_tool_use_id"]
        session_id = obj["session_id"]
        is_replay = obj.get("isReplay")
        is_synthetic = obj.get("isSynthetic")
        origin = obj.get("origin")
    except Exception:
        return _decode_user_carefully(obj)
    if (
        (uuid is not None and uuid.__class__ is not str)
        or (parent_tool_use_id is not None and parent_tool_use_id.__class__ is not str)
        or (session_id is not None and session_id.__class__ is not str)
        or (is_replay is not None and is_replay.__class__ is not bool)
        or (is_synthetic is not None and is_synthetic.__class__ is not bool)
    ):
        return _decode_user_carefully(obj)  # raises, saying which field is wrong
    if origin is not None and (origin.__class__ is not dict or "kind" not in origin):
        origin = None
    self = _UserTwin()
    self.content = content
    self.uuid = uuid
    self.parent_tool_use_id = parent_tool_use_id
    self.tool_use_result = obj.get("tool_use_result")
    self.session_id = session_id
    self.is_replay = is_replay is True
    self.is_synthetic = is_synthetic is True
    self.origin = origin
    self.raw = obj
    self.__class__ = UserMessage
    message: UserMessage = self
    return message


def _decode_user_carefully(obj: dict[str, Any]) -> UserMessage:
    msg = obj.get("message")
    if type(msg) is not dict:
        raise _missing_or_wrong(obj, "message", "message", "an object")
    content: Any = msg.get("content")
    if type(content) is list:
        content = _decode_blocks_carefully(content, "message.content")
    elif type(content) is not str:
        raise _missing_or_wrong(msg, "content", "message.content", "a string or a list")
    uuid = obj.get("uuid")
    parent_tool_use_id = obj.get("parent_tool_use_id")
    session_id = obj.get("session_id")
    is_replay = obj.get("isReplay")
    is_synthetic = obj.get("isSynthetic")
    origin = obj.get("origin")
    if (
        (uuid is not None and type(uuid) is not str)
        or (parent_tool_use_id is not None and type(parent_tool_use_id) is not str)
        or (session_id is not None and type(session_id) is not str)
        or (is_replay is not None and type(is_replay) is not bool)
        or (is_synthetic is not None and type(is_synthetic) is not bool)
    ):
        raise _first_bad(obj, "", _USER_SPECS)
    origin = lenient_origin(origin)
    return _build_user(
        content,
        uuid,
        parent_tool_use_id,
        obj.get("tool_use_result"),
        session_id,
        is_replay is True,
        is_synthetic is True,
        origin,
        obj,
    )


_STREAM_EVENT_SPECS: Final = (
    ("event", _DICT),
    ("session_id", _OPT_STR),
    ("uuid", _OPT_STR),
    ("parent_tool_use_id", _OPT_STR),
)


def _decode_stream_event(obj: dict[str, Any]) -> StreamEvent:
    try:  # fast path (see _NotFast)
        event = obj["event"]
        session_id = obj["session_id"]
        uuid = obj["uuid"]
        parent_tool_use_id = obj["parent_tool_use_id"]
    except KeyError:
        return _decode_stream_event_carefully(obj)
    if (
        event.__class__ is not dict
        or (session_id is not None and session_id.__class__ is not str)
        or (uuid is not None and uuid.__class__ is not str)
        or (parent_tool_use_id is not None and parent_tool_use_id.__class__ is not str)
    ):
        raise _first_bad(obj, "", _STREAM_EVENT_SPECS)
    self = _StreamEventTwin()
    self.event = event
    self.session_id = session_id
    self.uuid = uuid
    self.parent_tool_use_id = parent_tool_use_id
    self.raw = obj
    self.__class__ = StreamEvent
    message: StreamEvent = self
    return message


def _decode_stream_event_carefully(obj: dict[str, Any]) -> StreamEvent:
    event = obj.get("event")
    session_id = obj.get("session_id")
    uuid = obj.get("uuid")
    parent_tool_use_id = obj.get("parent_tool_use_id")
    if (
        type(event) is not dict
        or (session_id is not None and type(session_id) is not str)
        or (uuid is not None and type(uuid) is not str)
        or (parent_tool_use_id is not None and type(parent_tool_use_id) is not str)
    ):
        raise _first_bad(obj, "", _STREAM_EVENT_SPECS)
    return _build_stream_event(event, session_id, uuid, parent_tool_use_id, obj)


# ---------------------------------------------------------------------------------------------
# Converter-generated hooks for everything else, generated on first use
# ---------------------------------------------------------------------------------------------
#
# Generating a hook (``make_dict_structure_fn`` / ``make_dict_unstructure_fn``) compiles code;
# doing it for ~50 classes at import cost tens of milliseconds. Instead the converter gets one
# structure and one unstructure hook *factory*, called by cattrs the first time it needs the hook
# of one of our classes; the hooks are memoised here, so the work is done once per class.
# Like the hooks registered per class before, a factory also serves subclasses (the nearest class
# in the MRO with a hook).

_Hook = Callable[[Any, Any], Any]
_Unstructure = Callable[[Any], dict[str, Any]]

# Classes whose hooks are generated, with the wire ``type`` their unstructured dict starts with.
_GENERATED_TAGS: Final[dict[type[Any], str | None]] = {
    DeferredToolUse: None,
    SlashCommand: None,
    AgentInfo: None,
    ModelInfo: None,
    ServerInfo: None,
    SystemMessage: None,
    InitMessage: None,
    StatusMessage: None,
    # (the other typed system messages: added by _hooked_class when first met)
    **{
        cls: tag
        for tag, cls in MESSAGE_CLASSES.items()
        if cls not in (AssistantMessage, UserMessage, StreamEvent, SystemMessage)
    },
}
_BLOCK_TAGS: Final[dict[type[Any], str | None]] = {
    cls: (None if cls is ServerToolResultBlock else tag)
    for tag, cls in BLOCK_CLASSES.items()
    if cls is not UnknownBlock
}

_GENERATED_UNSTRUCTURE: Final[dict[type[Any], str | None]] = {**_GENERATED_TAGS, **_BLOCK_TAGS}

_STRUCTURE_HOOKS: Final[dict[type[Any], _Hook]] = {}
"""Class -> structure hook: the hand-written ones (below), then generated ones as needed."""
_UNSTRUCTURE_HOOKS: Final[dict[type[Any], _Unstructure]] = {}
"""Class -> unstructure hook: the hand-written ones (at the end), then generated ones."""


def _hooked_class(
    tp: Any, hooks: Mapping[type[Any], Any], generated: Mapping[type[Any], Any]
) -> Any:
    """The class of ``tp``'s MRO that has (or can generate) a hook, or ``None``."""
    for klass in getattr(tp, "__mro__", ()):
        if klass in hooks or klass in generated or _adopt_system_class(klass):
            return klass
    return None


def _adopt_system_class(klass: Any) -> bool:
    """Whether ``klass`` is a typed system message that :mod:`trio_claude.types` created on
    first use (after this module's tables were built); if so, it gets generated hooks from now on.
    """
    if (
        getattr(klass, "__module__", None) != _types.__name__
        or getattr(klass, "__name__", None) not in _SYSTEM_CLASS_NAMES
        or getattr(_types, klass.__name__) is not klass
    ):
        return False
    _GENERATED_TAGS[klass] = None
    _GENERATED_UNSTRUCTURE[klass] = None
    return True


def _structure_hook(cls: type[T]) -> Callable[[Any, Any], T]:
    """The structure hook of one of our classes (generated the first time)."""
    hook = _STRUCTURE_HOOKS.get(cls)
    if hook is None:
        hook = _STRUCTURE_HOOKS[cls] = _make_structure_hook(cls)
    return hook


def _structure_hook_factory(tp: Any) -> _Hook:
    return _structure_hook(_hooked_class(tp, _STRUCTURE_HOOKS, _GENERATED_TAGS))


def _unstructure_hook(cls: type[Any]) -> _Unstructure:
    """The unstructure hook of one of our classes (generated the first time)."""
    hook = _UNSTRUCTURE_HOOKS.get(cls)
    if hook is None:
        if cls in _BLOCK_TAGS:
            hook = _block_unstructure(cls, _BLOCK_TAGS[cls])
        else:
            hook = _make_unstructure_hook(cls, _GENERATED_TAGS[cls])
        _UNSTRUCTURE_HOOKS[cls] = hook
    return hook


def _unstructure_hook_factory(tp: Any) -> _Unstructure:
    return _unstructure_hook(_hooked_class(tp, _UNSTRUCTURE_HOOKS, _GENERATED_UNSTRUCTURE))


#: Fields the SDK fills in itself; never read from or written to the wire.
_SDK_ONLY_FIELDS: Final = frozenset({"decode_error"})


def _names(cls: type[Any]) -> set[str]:
    return {f.name for f in _fields(cls)}


def _make_structure_hook(cls: type[T]) -> Callable[[Any, Any], T]:
    """Generate the structure hook of a class with ``raw``.

    ``make_dict_structure_fn`` with the class's renames, ``raw`` (and ``data`` for system
    messages) left out and filled with the input dict afterwards.
    """
    from cattrs.gen import make_dict_structure_fn, override

    renames = _RENAMES.get(cls, {})
    names = {f.name for f in _fields(cls)}
    skip = {"raw", "data"} if issubclass(cls, SystemMessage) else {"raw", *_SDK_ONLY_FIELDS}
    lenient = _LENIENT.get(cls.__name__, {})
    overrides: dict[str, Any] = {
        name: override(rename=renames.get(name), struct_hook=lenient.get(name))
        for name in renames.keys() | lenient.keys()
    }
    overrides.update({name: override(omit=True) for name in skip & names})
    base_structure = make_dict_structure_fn(cls, _get_converter(), **overrides)
    set_raw = _slot_setter(cls, "raw")
    set_data = _slot_setter(cls, "data") if "data" in skip else None

    def structure(obj: Any, _: Any) -> T:
        if type(obj) is not dict:
            raise _wrong("", "an object", obj)
        instance = base_structure(obj, cls)
        set_raw(instance, obj)
        if set_data is not None:
            set_data(instance, obj)
        return instance

    return structure


def _make_unstructure_hook(cls: type[Any], tag: str | None) -> _Unstructure:
    """Generate the unstructure hook of a class with ``raw``.

    ``make_dict_unstructure_fn`` with the class's renames, ``raw`` left out, fields that default
    to ``None`` omitted when ``None``, and the wire ``type`` added (system messages: see
    :func:`_system_unstructurer`).
    """
    from cattrs.gen import make_dict_unstructure_fn, override

    renames = _RENAMES.get(cls, {})
    if issubclass(cls, SystemMessage):
        return _system_unstructurer(cls, renames, {"raw", "data"})
    overrides: dict[str, Any] = {"raw": override(omit=True)}
    overrides.update({name: override(omit=True) for name in _SDK_ONLY_FIELDS & _names(cls)})
    for f in _fields(cls):
        if f.name not in overrides:
            overrides[f.name] = override(
                rename=renames.get(f.name), omit_if_default=f.default is None
            )
    base_unstructure: _Unstructure = make_dict_unstructure_fn(cls, _get_converter(), **overrides)
    if tag is None:
        return base_unstructure
    prefix = {"type": tag}

    def unstructure_tagged(instance: Any) -> dict[str, Any]:
        return {**prefix, **base_unstructure(instance)}

    return unstructure_tagged


def _system_unstructurer(
    cls: type[Any], renames: Mapping[str, str], skip: set[str]
) -> _Unstructure:
    """Unstructure a system message: its typed fields written over ``data`` (the frame).

    A field at its default is written only when the frame has its key (so it replaces a stale
    value); otherwise decoding the result would give a ``data`` with keys the frame never had.
    """
    from cattrs.gen import make_dict_unstructure_fn, override

    overrides: dict[str, Any] = {
        f.name: override(omit=True) if f.name in skip else override(rename=renames.get(f.name))
        for f in _fields(cls)
    }
    fields_unstructure = make_dict_unstructure_fn(cls, _get_converter(), **overrides)
    defaults = {
        renames.get(f.name, f.name): _unstructured_default(f)
        for f in _fields(cls)
        if f.name not in skip and f.default is not attrs.NOTHING
    }

    def unstructure_system(instance: Any) -> dict[str, Any]:
        data = instance.data
        out: dict[str, Any] = {"type": "system", **data}
        out["type"] = "system"  # even if ``data`` (built by hand) says otherwise
        for key, value in fields_unstructure(instance).items():
            if key in data or key not in defaults or value != defaults[key]:
                out[key] = value
        return out

    return unstructure_system


def _unstructured_default(f: attrs.Attribute[Any]) -> Any:
    default: Any = f.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return _get_converter().unstructure(default.factory())
    return _get_converter().unstructure(default)


def _block_unstructure(cls: type[Any], tag: str | None) -> _Unstructure:
    from cattrs.gen import make_dict_unstructure_fn, override

    overrides: dict[str, Any] = {"raw": override(omit=True)}
    for f in _fields(cls):
        if f.name != "raw":
            overrides[f.name] = override(omit_if_default=f.default is None)
    base: _Unstructure = make_dict_unstructure_fn(cls, _get_converter(), **overrides)
    if tag is None:
        return base
    prefix = {"type": tag}

    def unstructure(block: Any) -> dict[str, Any]:
        return {**prefix, **base(block)}

    return unstructure


def _hook_from_decoder(decoder: Callable[[dict[str, Any]], Any]) -> _Hook:
    def hook(obj: Any, _: Any) -> Any:
        if type(obj) is not dict:
            raise _wrong("", "an object", obj)
        return decoder(obj)

    return hook


# The hot-path classes: the converter uses the hand-written decoders too.
_STRUCTURE_HOOKS.update(
    {
        TextBlock: _hook_from_decoder(_decode_text),
        ThinkingBlock: _hook_from_decoder(_decode_thinking),
        RedactedThinkingBlock: _hook_from_decoder(_decode_redacted_thinking),
        ToolUseBlock: _hook_from_decoder(_decode_tool_use),
        ToolResultBlock: _hook_from_decoder(_decode_tool_result),
        UnknownBlock: lambda obj, _: _build_unknown_block(
            obj.get("type") if type(obj.get("type")) is str else "", obj
        ),
        AssistantMessage: _hook_from_decoder(_decode_assistant),
        UserMessage: _hook_from_decoder(_decode_user),
        StreamEvent: _hook_from_decoder(_decode_stream_event),
        UnknownMessage: lambda obj, _: _build_unknown_message(
            obj.get("type") if type(obj.get("type")) is str else "", obj
        ),
    }
)

# Top-level messages.
_TOP_LEVEL_TAGS: Final[Mapping[type[Any], str]] = {cls: tag for tag, cls in MESSAGE_CLASSES.items()}


def _generated_message_decoder(cls: type[Any]) -> Callable[[dict[str, Any]], Message]:
    def decode(obj: dict[str, Any]) -> Message:
        message: Message = _structure_hook(cls)(obj, None)
        return message

    return decode


def _decode_system(obj: dict[str, Any]) -> SystemMessage:
    subtype = obj.get("subtype")
    if type(subtype) is not str:
        raise _missing_or_wrong(obj, "subtype", "subtype", "a string")
    message: SystemMessage = _structure_hook(SYSTEM_MESSAGE_CLASSES.get(subtype, SystemMessage))(
        obj, None
    )
    return message


HOT_DECODERS: Final[Mapping[str, Callable[[dict[str, Any]], Message]]] = {
    "assistant": _decode_assistant,
    "user": _decode_user,
    "stream_event": _decode_stream_event,
}
"""The decoders of the frequent frame types, for a caller that dispatches on ``type`` itself.

A decoder takes a frame (a ``dict``) of its type and returns the message, or raises (any
exception) when the frame is malformed; :func:`decode_message` on the same frame then raises the
:class:`~trio_claude.MessageParseError` that explains it.
"""

_MESSAGE_DECODERS: Final[dict[str, Callable[[dict[str, Any]], Message]]] = {
    **HOT_DECODERS,
    "system": _decode_system,
    **{
        tag: _generated_message_decoder(cls)
        for tag, cls in MESSAGE_CLASSES.items()
        if tag not in HOT_DECODERS and tag != "system"
    },
}


def _structure_rate_limit_info(obj: Any, _: Any) -> RateLimitInfo:
    if type(obj) is not dict:
        raise _wrong("", "an object", obj)
    return RateLimitInfo.from_dict(obj)


def _rate_limit_wire(info: RateLimitInfo) -> dict[str, Any]:
    """A hand-made :class:`RateLimitInfo` (no ``raw``) by its wire names."""
    wire = {
        "status": info.status,
        "resetsAt": info.resets_at,
        "rateLimitType": info.rate_limit_type,
        "utilization": info.utilization,
        "overageStatus": info.overage_status,
        "overageResetsAt": info.overage_resets_at,
        "overageDisabledReason": info.overage_disabled_reason,
    }
    return {k: v for k, v in wire.items() if v is not None}


def _build_converter() -> cattrs.Converter:
    """Import cattrs, make and configure the converter, publish it (under the lock)."""
    global _converter
    import cattrs

    made = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)
    made.register_structure_hook(str, _structure_str)
    made.register_structure_hook(int, _structure_int)
    made.register_structure_hook(float, _structure_float)
    made.register_structure_hook(bool, _structure_bool)
    made.register_structure_hook_factory(
        lambda tp: _origin(tp) in (list, dict), _container_hook_factory
    )
    made.register_structure_hook_factory(
        lambda tp: _is_union(tp) and _json_check(tp) is not None, _any_json_union_factory
    )
    made.register_structure_hook_factory(
        lambda tp: _hooked_class(tp, _STRUCTURE_HOOKS, _GENERATED_TAGS) is not None,
        _structure_hook_factory,
    )
    made.register_unstructure_hook_factory(
        lambda tp: _hooked_class(tp, _UNSTRUCTURE_HOOKS, _GENERATED_UNSTRUCTURE) is not None,
        _unstructure_hook_factory,
    )
    made.register_structure_hook_func(
        lambda tp: tp == ContentBlock, lambda obj, _: _decode_block(obj)
    )
    made.register_structure_hook_func(lambda tp: tp == Message, lambda obj, _: decode_message(obj))
    made.register_structure_hook(RateLimitInfo, _structure_rate_limit_info)
    made.register_unstructure_hook(RateLimitInfo, lambda info: info.raw or _rate_limit_wire(info))
    _converter = made
    globals()["converter"] = made
    return made


if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name == "converter":
            return _get_converter()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------
# Public decoding API
# ---------------------------------------------------------------------------------------------


def decode_message(obj: dict[str, Any]) -> Message:
    """Decode one parsed stdout frame into its typed message.

    Args:
        obj: The frame, as parsed by ``orjson.loads``. It becomes the message's ``raw`` (not
            copied; do not mutate it afterwards).

    Returns:
        The typed message: :class:`~trio_claude.types.UnknownMessage` for a ``type`` this version
        does not know, a plain :class:`~trio_claude.types.SystemMessage` for an unknown
        ``system`` subtype; unknown content blocks become
        :class:`~trio_claude.types.UnknownBlock`.

    Raises:
        MessageParseError: The frame is not a JSON object, or it has a known type but a field has
            the wrong JSON type or a required field is missing. ``.data`` is the frame.
    """
    # The official parser's words where it has them: code may match on them.
    if type(obj) is not dict:
        raise MessageParseError(
            f"Invalid message data type (expected dict, got {_describe(obj)})", data=None
        )
    message_type = obj.get("type")
    decoder = _MESSAGE_DECODERS.get(message_type) if type(message_type) is str else None
    if decoder is None:
        return _build_unknown_message(message_type if type(message_type) is str else "", obj)
    try:
        return decoder(obj)
    except Exception as exc:
        subtype = obj.get("subtype") if message_type == "system" else None
        what = f"{message_type}/{subtype}" if isinstance(subtype, str) else message_type
        raise _parse_error(f"{what!r} message", exc, obj) from exc


def decode_content_block(obj: dict[str, Any]) -> ContentBlock:
    """Decode one content block dict (unknown types give :class:`UnknownBlock`).

    Raises:
        MessageParseError: A known block type has a field of the wrong JSON type.
    """
    try:
        return _decode_block(obj)
    except Exception as exc:
        raise _parse_error("content block", exc, obj) from exc


def decode_server_info(obj: dict[str, Any]) -> ServerInfo:
    """Decode the ``response`` of the CLI's reply to ``initialize``.

    Args:
        obj: ``frame["response"]["response"]`` of the ``control_response`` answering
            ``initialize``. It becomes ``raw``.

    Raises:
        MessageParseError: A known field has the wrong JSON type.
    """
    try:
        info: ServerInfo = _structure_hook(ServerInfo)(obj, ServerInfo)
    except Exception as exc:
        raise _parse_error("initialize response", exc, obj) from exc
    return info


def decode_server_info_leniently(
    obj: dict[str, Any],
) -> tuple[ServerInfo, MessageParseError | None]:
    """:func:`decode_server_info`, keeping what decodes: a field of the wrong type, or an entry
    of a list (one slash command, one model) that does not decode, is left out, not the whole
    reply. Returns the info and the first error, if any (for a log line)."""
    try:
        return decode_server_info(obj), None
    except MessageParseError as exc:
        error = exc
    hook = _structure_hook(ServerInfo)

    def decodes(key: str, value: Any) -> bool:
        try:
            hook({key: value}, ServerInfo)
        except Exception:
            return False
        return True

    kept: dict[str, Any] = {}
    for key, value in obj.items():
        if decodes(key, value):
            kept[key] = value
        elif isinstance(value, list):
            kept[key] = [item for item in value if decodes(key, [item])]
    try:
        info: ServerInfo = hook(kept, ServerInfo)
    except Exception:
        return ServerInfo(raw=obj), error
    return attrs.evolve(info, raw=obj), error


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def unstructure_block(block: ContentBlock) -> dict[str, Any]:
    """The wire dict of a content block, built from its fields (``None`` fields omitted).

    Raises:
        TypeError: ``block`` is not a content block.
    """
    cls = type(block)
    if cls not in _BLOCK_TAGS and cls is not UnknownBlock:
        raise TypeError(f"not a content block: {block!r}")
    return _unstructure_hook(cls)(block)


def _wire_content(content: Any) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list | tuple):
        raise TypeError(
            f"content must be a string or a list of blocks, not {type(content).__name__}"
        )
    out: list[dict[str, Any]] = []
    for item in content:
        if isinstance(item, dict):
            out.append(item)
        else:
            out.append(unstructure_block(item))
    return out


def encode_user_message(
    content: str | list[ContentBlock | dict[str, Any]],
    *,
    session_id: str = "",
    parent_tool_use_id: str | None = None,
    uuid: str | None = None,
) -> dict[str, Any]:
    """Build the stdin frame of a user message, shaped as the official Python SDK writes it.

    Args:
        content: A string (sent as a string) or a list of content blocks; blocks may be typed
            (unstructured to wire dicts) or wire dicts (sent as they are).
        session_id: The frame's ``session_id``.
        parent_tool_use_id: The frame's ``parent_tool_use_id``.
        uuid: A top-level ``uuid`` to correlate the CLI's answers with (omitted when ``None``).

    Returns:
        ``{"type": "user", "session_id": ..., "message": {"role": "user", "content": ...},
        "parent_tool_use_id": ...}`` (plus ``"uuid"`` when given).

    Raises:
        TypeError: ``content`` is neither a string nor a list of blocks.
    """
    frame: dict[str, Any] = {
        "type": "user",
        "session_id": session_id,
        "message": {"role": "user", "content": _wire_content(content)},
        "parent_tool_use_id": parent_tool_use_id,
    }
    if uuid is not None:
        frame["uuid"] = uuid
    return frame


def encode_frame(frame: dict[str, Any]) -> bytes:
    """Encode one frame for the CLI's stdin: its JSON and a newline.

    The single place where the SDK turns a frame into bytes (user messages, raw user dicts,
    control requests and responses). A frame ``orjson`` cannot encode raises a typed error
    instead of ``orjson.JSONEncodeError`` (a ``TypeError``); nothing is returned, so the caller
    writes nothing and the session stays usable.

    Args:
        frame: The wire dict, e.g. from :func:`encode_user_message` or a control request.

    Returns:
        ``orjson.dumps(frame) + b"\\n"``.

    Raises:
        InvalidPromptError: The frame cannot be encoded: a lone surrogate (``"\\ud83d"``) in a
            string or a key, a value JSON cannot represent (an arbitrary object, an integer
            beyond 64 bits, a non-string key), a circular reference. The message says what kind
            of frame it is and where the problem is (``$.message.content[0].text``), without the
            text itself. The ``orjson.JSONEncodeError`` is chained as ``__cause__``.
    """
    try:
        return orjson.dumps(frame, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError as exc:
        raise InvalidPromptError(_unencodable(frame, exc)) from exc


def dumps_from_cli(value: Any) -> bytes:
    """``orjson.dumps`` for data that came from the CLI (kept, stored, or echoed back).

    What orjson refuses but JSON can say is written by the stdlib with ``\\u`` escapes, as the
    CLI wrote it: a lone surrogate (a JavaScript string cut inside an emoji, which the stdlib
    parser accepts) or an integer beyond 64 bits. A number out of a double's range (``1e400``,
    read as infinity) is written ``null``, as orjson writes a non-finite float. Anything else
    still raises (``TypeError``, ``ValueError``).
    """
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        try:
            text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
        except ValueError:
            text = json.dumps(_finite(value), ensure_ascii=True, separators=(",", ":"))
        return text.encode()


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float made ``None`` (as orjson writes them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


#: orjson's nesting limit: deeper containers fail with "Recursion limit reached".
_ORJSON_MAX_DEPTH: Final = 254


def nested_too_deeply(value: Any, depth: int = 0) -> bool:
    """Whether ``value``'s lists and dicts nest deeper than orjson writes (254 levels): JSON
    the CLI may send, but that no store here writes back the same on every Python (the
    stdlib's encoder and ``copy.deepcopy`` hit the recursion limit, or not, by version)."""
    if depth >= _ORJSON_MAX_DEPTH:
        return isinstance(value, (dict, list, tuple))
    if isinstance(value, dict):
        return any(nested_too_deeply(item, depth + 1) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(nested_too_deeply(item, depth + 1) for item in value)
    return False


def _unencodable(frame: Any, exc: Exception) -> str:
    """The message of :class:`InvalidPromptError`: what was being sent, and where it failed."""
    what = "frame"
    if isinstance(frame, dict):
        kind = frame.get("type")
        body = frame.get("request") if kind == "control_request" else frame.get("response")
        subtype = body.get("subtype") if isinstance(body, dict) else None
        if kind == "user":
            what = "user message"
        elif kind in ("control_request", "control_response") and isinstance(subtype, str):
            what = f"{kind.replace('_', ' ')} {_clip(subtype)!r}"
        elif isinstance(kind, str):
            what = f"{_clip(kind)!r} frame"
    found = find_unencodable(frame, "$", 0, set())
    problem = str(exc)
    if found is not None:
        path, detail = found
        if len(path) > 120:  # a very deep value: its path's ends say enough
            path = f"{path[:60]}...{path[-57:]}"
        problem = f"{path} {detail}"
    return f"cannot encode the {what} as JSON for the CLI: {problem}"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{_clip(key)!r}]"


def find_unencodable(value: Any, path: str, depth: int, open_: set[int]) -> tuple[str, str] | None:
    """The first part of ``value`` orjson rejects, as ``(path, what is wrong)``.

    Only runs after ``orjson.dumps`` failed, so its cost does not matter; ``open_`` holds the ids
    of the containers being visited (a cycle is reported, not followed).
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            return path, (
                f"contains a lone surrogate {value[err.start]!r} at index {err.start} (half of a "
                "UTF-16 pair: not valid Unicode, so not encodable as UTF-8)"
            )
        return None
    if isinstance(value, (dict, list, tuple)):
        if id(value) in open_:
            return path, "is a circular reference (a container inside itself)"
        if depth >= _ORJSON_MAX_DEPTH:
            return path, f"is nested too deeply (more than {_ORJSON_MAX_DEPTH} levels)"
        open_.add(id(value))
        try:
            if isinstance(value, dict):
                for key, item in value.items():
                    if not isinstance(key, str):
                        return (
                            path,
                            f"has a key of type {type(key).__name__} (JSON keys are strings)",
                        )
                    bad_key = find_unencodable(key, path, depth, open_)
                    if bad_key is not None:
                        return path, f"has a key that {bad_key[1]}"
                    found = find_unencodable(item, _child(path, key), depth + 1, open_)
                    if found is not None:
                        return found
            else:
                for index, item in enumerate(value):
                    found = find_unencodable(item, f"{path}[{index}]", depth + 1, open_)
                    if found is not None:
                        return found
        finally:
            open_.discard(id(value))
        return None
    try:  # any other value: orjson's own verdict (numbers, None, dataclasses, objects, ...)
        orjson.dumps(value)
    except orjson.JSONEncodeError as err:
        return path, f"cannot be encoded ({err})"
    return None


def _unstructure_user(message: UserMessage) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "user",
        "message": {"role": "user", "content": _wire_content(message.content)},
        "parent_tool_use_id": message.parent_tool_use_id,
    }
    for key, value in (
        ("session_id", message.session_id),
        ("uuid", message.uuid),
        ("tool_use_result", message.tool_use_result),
        ("origin", message.origin),
    ):
        if value is not None:
            frame[key] = value
    if message.is_replay:
        frame["isReplay"] = True
    if message.is_synthetic:
        frame["isSynthetic"] = True
    return frame


def _unstructure_assistant(message: AssistantMessage) -> dict[str, Any]:
    inner: dict[str, Any] = {}
    if message.message_id is not None:
        inner["id"] = message.message_id
    inner.update(
        {
            "type": "message",
            "role": "assistant",
            "model": message.model,
            "content": [unstructure_block(block) for block in message.content],
            "stop_reason": message.stop_reason,
        }
    )
    if message.usage is not None:
        inner["usage"] = message.usage
    frame: dict[str, Any] = {
        "type": "assistant",
        "message": inner,
        "parent_tool_use_id": message.parent_tool_use_id,
    }
    for key, value in (
        ("session_id", message.session_id),
        ("uuid", message.uuid),
        ("error", message.error),
        ("request_id", message.request_id),
        ("user_message_uuid", message.user_message_uuid),
    ):
        if value is not None:
            frame[key] = value
    return frame


def _unstructure_stream_event(message: StreamEvent) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "stream_event", "event": message.event}
    if message.session_id is not None:
        frame["session_id"] = message.session_id
    if message.uuid is not None:
        frame["uuid"] = message.uuid
    frame["parent_tool_use_id"] = message.parent_tool_use_id
    return frame


_UNSTRUCTURE_HOOKS.update(
    {
        UserMessage: _unstructure_user,
        AssistantMessage: _unstructure_assistant,
        StreamEvent: _unstructure_stream_event,
        UnknownMessage: lambda message: {**message.raw, "type": message.type},
        UnknownBlock: lambda block: {**block.raw, "type": block.type},
    }
)


def message_to_dict(message: Message) -> dict[str, Any]:
    """The wire dict of a message: its ``raw`` when it has one, else built from its fields.

    A decoded message returns the very dict it was decoded from (do not mutate it). A message
    built by hand (empty ``raw``) is unstructured by :data:`converter` into the shape the CLI
    sends, ``None`` fields omitted.
    """
    raw = message.raw
    if raw:
        return raw
    out: dict[str, Any] = _get_converter().unstructure(message)
    return out
