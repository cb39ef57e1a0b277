"""Hypothesis strategies for the Claude Code stream-json protocol.

Use them to fuzz the SDK, or your own agent built on it::

    from hypothesis import given
    from trio_claude.testing import strategies as tcst

    @given(tcst.messages())
    def test_my_renderer_handles_any_message(message):
        render(message)                     # must not raise, whatever the CLI sends

This module needs Hypothesis, which is a development dependency (install ``trio-claude[dev]``,
or ``pip install hypothesis``). Nothing else in ``trio_claude`` (``trio_claude.testing``
included) imports it: import this module explicitly.

What is here:

* **JSON**: :func:`json_values`, :func:`json_objects`, :func:`json_text` (values ``orjson``
  can write and read back unchanged).
* **Typed values from the attrs classes**: :func:`instances` for any class of
  :mod:`trio_claude.types` that the codec decodes (messages, typed ``system`` subtypes, content
  blocks, the ``initialize`` reply and what it nests), built by introspecting ``attrs.fields``
  (:func:`from_attrs`), so a field added to a class is generated without touching this module.
  :func:`messages`, :func:`system_messages` and :func:`content_blocks` cover every class the
  codec's tables know, plus the unknown ones (``UnknownMessage``, ``UnknownBlock``, an unknown
  ``system`` subtype).
* **Wire frames** (the dicts the CLI writes, one per line): :func:`message_frames`, the protocol
  plumbing (:func:`keep_alive_frames`, :func:`transcript_mirror_frames`,
  :func:`session_state_frames`), control traffic in both directions
  (:func:`control_request_frames`, :func:`control_response_frames`,
  :func:`control_cancel_frames`), and all of them at once (:func:`wire_frames`). :func:`ndjson`
  turns frames into the bytes of a stdout stream.
* **Byte-level trouble**: :func:`chunkings` (every way a pipe may split a byte string),
  :func:`junk_lines` (lines a robust reader must skip), :func:`long_lines`.
* **Hooks and permissions**: :func:`hook_inputs`, :func:`hook_outputs`,
  :func:`hook_input_wire`, :func:`permission_updates`, :func:`permission_results`.
* **Fake CLI scripts**: :func:`fake_turns` and :func:`fake_scripts` make
  :class:`~trio_claude.testing.fake_cli.FakeScript` runs full of arbitrary messages, unknown
  frames and junk, to drive a real session (and your code on top of it) through
  :class:`~trio_claude.testing.FakeCLITransport`.

Every strategy returns fresh objects; the frames are plain ``dict`` / ``list`` / ``str`` / ``int``
/ ``float`` / ``bool`` / ``None`` trees. The kinds a strategy generates get equal shares (each
top-level message ``type``, ``system`` with all its subtypes counting once; each family of
frames; each kind of fake-CLI step), and every strategy is a single branch of a ``st.one_of``
built around it.
"""

from __future__ import annotations

import functools
import itertools
import string
import sys
import types as pytypes
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import attrs
import orjson
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .._protocol._codec import (
    BLOCK_CLASSES,
    MESSAGE_CLASSES,
    SYSTEM_MESSAGE_CLASSES,
    message_to_dict,
)
from ..types import (
    AgentInfo,
    ModelInfo,
    ResultMessage,
    ServerInfo,
    ServerToolResultBlock,
    SessionStateChangedMessage,
    SlashCommand,
    SystemMessage,
    UnknownBlock,
    UnknownMessage,
    UserMessage,
)
from .fake_cli import (
    Emit,
    FakeScript,
    FakeTurn,
    Raw,
    Request,
    Result,
    Sleep,
    Step,
    Text,
    ToolUse,
)

__all__ = [
    "CLI_TO_SDK_REQUEST_SUBTYPES",
    "KNOWN_MESSAGE_TYPES",
    "PLUMBING_TYPES",
    "SDK_TO_CLI_REQUEST_SUBTYPES",
    "chunkings",
    "content_blocks",
    "control_cancel_frames",
    "control_request_frames",
    "control_response_frames",
    "fake_scripts",
    "fake_turns",
    "from_attrs",
    "hook_input_to_wire",
    "hook_input_wire",
    "hook_inputs",
    "hook_outputs",
    "instances",
    "json_objects",
    "json_text",
    "json_values",
    "junk_lines",
    "keep_alive_frames",
    "long_lines",
    "message_frames",
    "messages",
    "ndjson",
    "permission_results",
    "permission_updates",
    "request_ids",
    "server_infos",
    "session_state_frames",
    "system_messages",
    "transcript_mirror_frames",
    "wire_frames",
]

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# Fair choices
#
# Hypothesis flattens a ``one_of`` nested in another one (also through ``map``, ``filter``,
# ``flatmap`` and ``deferred``) into one flat list of equally likely branches: the 31 ``system``
# subtypes put next to the 12 other message types used to get 31/44 of the examples, and a run
# of 100 often had no ``AssistantMessage`` at all. So every choice here is made with
# :func:`_one_of`, which keeps each option one branch, and every public strategy is one branch
# (:func:`_one_branch`), so a user's own ``st.one_of(tcst.messages(), ...)`` is fair too.
# ---------------------------------------------------------------------------------------------


class _Held:
    """A strategy held with a short label for its repr. Hypothesis reprs a composite's
    arguments, and every public strategy here is a tree of composites: spelt out in full,
    ``repr(messages())`` ran to 33 kB and Hypothesis warned of it (an error in suites that
    turn warnings into errors) whenever a stateful rule drew from one."""

    __slots__ = ("label", "strategy")

    def __init__(self, strategy: SearchStrategy[Any], label: str) -> None:
        self.strategy = strategy
        self.label = label

    def __repr__(self) -> str:
        return self.label


@st.composite
def _drawn(draw: st.DrawFn, held: _Held) -> Any:
    return draw(held.strategy)


def _one_branch(strategy: SearchStrategy[T], label: str | None = None) -> SearchStrategy[T]:
    """``strategy``, as one branch of any ``st.one_of`` it is put in (a composite is opaque to
    Hypothesis's flattening: the enclosing choice picks it, then it picks its member).
    ``label``: its repr (by default the name of the function that made it)."""
    branches = getattr(strategy, "branches", None)
    if branches is not None and len(branches) <= 1:
        return strategy
    if label is None:
        label = f"{sys._getframe(1).f_code.co_name}(...)"
    return _drawn(_Held(strategy, label))


def _one_of(*options: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """``st.one_of(*options)`` where each option gets an equal share, whatever its shape."""
    maker = sys._getframe(1).f_code.co_name
    return st.one_of(
        *(_one_branch(option, f"<option {i} of {maker}>") for i, option in enumerate(options))
    )


#: Top-level ``type`` values the codec decodes to a typed message.
KNOWN_MESSAGE_TYPES: frozenset[str] = frozenset(MESSAGE_CLASSES)
#: Top-level ``type`` values the protocol core routes as plumbing, not as user messages.
PLUMBING_TYPES: frozenset[str] = frozenset(
    {"control_request", "control_response", "control_cancel_request", "keep_alive",
     "transcript_mirror"}
)  # fmt: skip
#: Request subtypes the CLI sends to the SDK (``reference/official-sdk-inventory.md`` 4c).
CLI_TO_SDK_REQUEST_SUBTYPES: tuple[str, ...] = (
    "can_use_tool",
    "hook_callback",
    "mcp_message",
    "elicitation",
    "request_user_dialog",
)
#: Request subtypes the SDK sends to the CLI (a representative subset of inventory 4b).
SDK_TO_CLI_REQUEST_SUBTYPES: tuple[str, ...] = (
    "initialize",
    "interrupt",
    "set_permission_mode",
    "set_model",
    "set_max_thinking_tokens",
    "mcp_status",
    "get_context_usage",
    "rewind_files",
    "mcp_reconnect",
    "mcp_toggle",
    "stop_task",
)

_INT64 = (-(2**63), 2**63 - 1)
_SERVER_TOOL_RESULT_TYPES = tuple(
    sorted(tag for tag, cls in BLOCK_CLASSES.items() if cls is ServerToolResultBlock)
)
_SYSTEM_TAGS: Mapping[type[Any], str] = {cls: tag for tag, cls in SYSTEM_MESSAGE_CLASSES.items()}

# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def json_text(*, min_size: int = 0, max_size: int = 20) -> SearchStrategy[str]:
    """Strings ``orjson`` can encode: any Unicode except lone surrogates.

    Args:
        min_size: The shortest string.
        max_size: The longest string.
    """
    return st.text(st.characters(codec="utf-8"), min_size=min_size, max_size=max_size)


def _json_scalars() -> SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(*_INT64),
        st.floats(allow_nan=False, allow_infinity=False),
        json_text(),
    )


def json_values(*, max_leaves: int = 8) -> SearchStrategy[Any]:
    """Any JSON value (``null``, booleans, 64-bit integers, finite floats, strings, lists, objects).

    Every value survives ``orjson.loads(orjson.dumps(value)) == value``.

    Args:
        max_leaves: A bound on the number of scalars in one value.
    """
    return st.recursive(
        _json_scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(json_text(max_size=10), children, max_size=3),
        ),
        max_leaves=max_leaves,
    )


def json_objects(*, max_size: int = 3, max_leaves: int = 8) -> SearchStrategy[dict[str, Any]]:
    """JSON objects (``dict`` with ``str`` keys) of JSON values.

    Args:
        max_size: The most keys at the top level.
        max_leaves: A bound on the scalars in each value.
    """
    return st.dictionaries(
        json_text(max_size=10), json_values(max_leaves=max_leaves), max_size=max_size
    )


def _other_than(known: Iterable[str]) -> SearchStrategy[str]:
    excluded = frozenset(known)
    names = st.one_of(
        st.text(string.ascii_lowercase + "_", min_size=1, max_size=16),
        json_text(max_size=12),
    )
    return names.filter(lambda name: name not in excluded)


def request_ids() -> SearchStrategy[str]:
    """Control request ids: UUID-like (the CLI's), ``req_<n>_<hex>`` (the SDK's), or any text."""
    return _one_branch(
        st.one_of(
            st.uuids().map(str),
            st.builds(
                lambda n, tail: f"req_{n}_{tail}",
                st.integers(1, 10**6),
                st.text("0123456789abcdef", min_size=8, max_size=8),
            ),
            json_text(min_size=1, max_size=24),
        )
    )


# ---------------------------------------------------------------------------------------------
# Typed values from the attrs classes
# ---------------------------------------------------------------------------------------------

_SCALAR_STRATEGIES: Mapping[Any, Callable[[], SearchStrategy[Any]]] = {
    str: json_text,
    bool: st.booleans,
    int: lambda: st.integers(*_INT64),
    # A JSON number: the codec keeps integers as they are in float fields.
    float: lambda: st.one_of(
        st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53)
    ),
}


def _for_type(tp: Any) -> SearchStrategy[Any]:
    """A strategy for values of the annotation ``tp`` (JSON types, unions, attrs classes)."""
    if tp is Any:
        return json_values()
    if tp is type(None):
        return st.none()
    if tp in _SCALAR_STRATEGIES:
        return _SCALAR_STRATEGIES[tp]()
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Union or origin is pytypes.UnionType:
        return _one_of(*(_for_type(arg) for arg in args))
    if origin is Literal:
        return st.sampled_from(args)
    if tp is dict or origin is dict:
        if not args or args[1] is Any:
            return json_objects()
        return st.dictionaries(json_text(max_size=10), _for_type(args[1]), max_size=3)
    if tp is list or origin is list:
        if not args or args[0] is Any:
            return st.lists(json_values(max_leaves=4), max_size=3)
        return st.lists(_for_type(args[0]), max_size=3)
    if isinstance(tp, type) and attrs.has(tp):
        return st.deferred(lambda: instances(tp))
    raise TypeError(f"no strategy for the annotation {tp!r}")


def from_attrs(cls: type[T], /, **overrides: SearchStrategy[Any]) -> SearchStrategy[T]:
    """Instances of an attrs class, each field drawn from a strategy for its annotation.

    Annotations are resolved with :func:`typing.get_type_hints`; JSON-ish types (``str``,
    ``int``, ``float``, ``bool``, ``None``, ``Any``, ``list[...]``, ``dict[str, ...]``, unions,
    ``Literal``) and nested attrs classes (through :func:`instances`) are understood. ``raw`` is
    left at its default (an empty dict, "built by hand") unless overridden.

    Args:
        cls: The attrs class.
        **overrides: Strategies for particular fields, by attribute name.

    Raises:
        TypeError: An override names no field, or a field's annotation is not understood.
    """
    fields = attrs.fields(typing.cast(Any, cls))
    names = {f.name for f in fields}
    unknown = set(overrides) - names
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, SearchStrategy[Any]] = {}
    for f in fields:
        if f.name in overrides:
            kwargs[f.name] = overrides[f.name]
        elif f.init and f.name != "raw":
            kwargs[f.name] = _for_type(hints[f.name])
    return st.builds(cls, **kwargs)


def _system_data() -> SearchStrategy[dict[str, Any]]:
    # Keys the CLI may add that this version does not model. They travel in ``data`` (the
    # frame) and come back from a round trip unchanged.
    return st.dictionaries(
        st.text(string.ascii_lowercase + "_", min_size=1, max_size=12), json_values(max_leaves=4),
        max_size=3,
    )  # fmt: skip


def _unknown_blocks() -> SearchStrategy[UnknownBlock]:
    def build(block_type: str, extra: dict[str, Any]) -> UnknownBlock:
        return UnknownBlock(type=block_type, raw={**extra, "type": block_type})

    return st.builds(build, _other_than(BLOCK_CLASSES), json_objects())


def _unknown_messages() -> SearchStrategy[UnknownMessage]:
    def build(message_type: str, extra: dict[str, Any]) -> UnknownMessage:
        return UnknownMessage(type=message_type, raw={**extra, "type": message_type})

    return st.builds(build, _other_than(KNOWN_MESSAGE_TYPES | PLUMBING_TYPES), json_objects())


def instances(cls: type[T]) -> SearchStrategy[T]:
    """Instances of a wire class of :mod:`trio_claude.types`, as the codec decodes them.

    Covers every message class (typed ``system`` subtypes get their ``subtype`` tag and some
    unmodelled keys in ``data``; a plain :class:`~trio_claude.SystemMessage` gets an unknown
    subtype), every content block class (:class:`~trio_claude.ServerToolResultBlock` gets one of
    its wire types; :class:`~trio_claude.UnknownBlock` and :class:`~trio_claude.UnknownMessage`
    get a type the codec does not know and some extra keys in ``raw``), and the classes the
    ``initialize`` reply nests. Any other attrs class falls back to :func:`from_attrs`.

    Args:
        cls: The class.
    """
    strategy: SearchStrategy[T] = _instances(typing.cast(Any, cls))
    return strategy


@functools.cache
def _instances(cls: Any) -> SearchStrategy[Any]:
    from .._permissions import PermissionUpdate

    strategy: SearchStrategy[Any]
    if cls is PermissionUpdate:
        # Its constructor validates the combination of fields: build valid ones directly.
        strategy = permission_updates()
    elif cls is UnknownBlock:
        strategy = _unknown_blocks()
    elif cls is UnknownMessage:
        strategy = _unknown_messages()
    elif cls is ServerToolResultBlock:
        strategy = from_attrs(cls, type=st.sampled_from(_SERVER_TOOL_RESULT_TYPES))
    elif cls is SessionStateChangedMessage:
        # Only frames without ``sdk_host_only`` reach the user as messages.
        strategy = from_attrs(
            cls, subtype=st.just("session_state_changed"), data=_system_data(),
            sdk_host_only=st.just(False),
        )  # fmt: skip
    elif cls is UserMessage or cls is ResultMessage:
        # An origin names its kind (the codec reads one without as no origin, as official).
        strategy = from_attrs(cls, origin=_origins())
    elif isinstance(cls, type) and issubclass(cls, SystemMessage):
        tag = _SYSTEM_TAGS.get(cls)
        subtype = st.just(tag) if tag is not None else _other_than(SYSTEM_MESSAGE_CLASSES)
        strategy = from_attrs(cls, subtype=subtype, data=_system_data())
    else:
        strategy = from_attrs(cls)
    return _one_branch(strategy)


def _origins() -> SearchStrategy[dict[str, Any] | None]:
    kinds = st.one_of(st.sampled_from(["human", "peer", "task-notification"]), json_text())
    return st.none() | st.builds(
        lambda kind, rest: {**rest, "kind": kind}, kinds, json_objects(max_size=2, max_leaves=3)
    )


def _distinct(classes: Iterable[type[Any]]) -> list[type[Any]]:
    return list(dict.fromkeys(classes))


def content_blocks(*, unknown: bool = True) -> SearchStrategy[Any]:
    """Any content block: every class of the codec's block table, and ``UnknownBlock``.

    Args:
        unknown: Include :class:`~trio_claude.UnknownBlock`.
    """
    classes = _distinct(BLOCK_CLASSES.values())
    if unknown:
        classes.append(UnknownBlock)
    return _one_branch(_one_of(*(instances(cls) for cls in classes)))


def system_messages(*, unknown: bool = True) -> SearchStrategy[SystemMessage]:
    """``system`` messages: every typed subtype, and a plain ``SystemMessage`` of a new subtype.

    Args:
        unknown: Include plain :class:`~trio_claude.SystemMessage` with an unknown subtype.
    """
    classes: list[type[SystemMessage]] = _distinct(SYSTEM_MESSAGE_CLASSES.values())
    if unknown:
        classes.append(SystemMessage)
    return _one_branch(_one_of(*(instances(cls) for cls in classes)))


def messages(
    *, unknown: bool = True, results: bool = True, exclude: Iterable[type[Any]] = ()
) -> SearchStrategy[Any]:
    """Any message the CLI can send to the user, as a typed value built by hand (empty ``raw``).

    Each top-level ``type`` gets an equal share of the examples: ``assistant``, ``user``,
    ``result``, ..., ``system`` (all its subtypes together) and unknown types (together).

    Args:
        unknown: Include :class:`~trio_claude.UnknownMessage` and unknown ``system`` subtypes.
        results: Include :class:`~trio_claude.ResultMessage` (leave it out to build the body of
            a turn, which a result would end).
        exclude: Other message classes to leave out.
    """
    skip = set(exclude)
    if not results:
        skip.add(ResultMessage)
    options: list[SearchStrategy[Any]] = [
        instances(cls)
        for cls in MESSAGE_CLASSES.values()
        if cls is not SystemMessage and cls not in skip
    ]
    if SystemMessage not in skip:
        # One branch for every subtype: flattened, the 31 of them would crowd out the rest.
        options.append(
            _one_of(
                *(
                    instances(cls)
                    for cls in _distinct(SYSTEM_MESSAGE_CLASSES.values())
                    if cls not in skip
                ),
                *([instances(SystemMessage)] if unknown else []),
            )
        )
    if unknown and UnknownMessage not in skip:
        options.append(instances(UnknownMessage))
    return _one_branch(_one_of(*options))


def server_infos() -> SearchStrategy[ServerInfo]:
    """The typed ``initialize`` reply (with commands, agents and models)."""
    return instances(ServerInfo)


# Classes nested in ServerInfo: listed so coverage tests can find them.
_NESTED_CLASSES: tuple[type[Any], ...] = (SlashCommand, AgentInfo, ModelInfo)

# ---------------------------------------------------------------------------------------------
# Wire frames
# ---------------------------------------------------------------------------------------------


def message_frames(**kwargs: Any) -> SearchStrategy[dict[str, Any]]:
    """Wire dicts of messages (:func:`messages` through ``message_to_dict``).

    Args:
        **kwargs: Passed to :func:`messages`.
    """
    return _one_branch(messages(**kwargs).map(message_to_dict))


def keep_alive_frames() -> SearchStrategy[dict[str, Any]]:
    """``{"type": "keep_alive"}`` heartbeats, sometimes with extra keys."""
    return json_objects(max_size=2).map(lambda extra: {**extra, "type": "keep_alive"})


def transcript_mirror_frames() -> SearchStrategy[dict[str, Any]]:
    """``transcript_mirror`` frames (session stores): a file path and transcript entries."""
    return st.fixed_dictionaries(
        {
            "type": st.just("transcript_mirror"),
            "filePath": st.one_of(st.none(), json_text(min_size=1)),
            "entries": st.lists(json_objects(max_size=2), max_size=3),
        }
    )


def session_state_frames(*, sdk_host_only: bool | None = True) -> SearchStrategy[dict[str, Any]]:
    """``system/session_state_changed`` frames.

    Args:
        sdk_host_only: ``True`` for the SDK-only frames the core turns into plumbing events,
            ``False`` for user-visible ones, ``None`` for both.
    """
    flag = st.booleans() if sdk_host_only is None else st.just(sdk_host_only)
    return st.fixed_dictionaries(
        {
            "type": st.just("system"),
            "subtype": st.just("session_state_changed"),
            "state": st.sampled_from(["idle", "running", "requires_action"]),
            "sdk_host_only": flag,
            "session_id": st.uuids().map(str),
        }
    )


def _hook_event_names() -> SearchStrategy[str]:
    return _one_of(
        st.sampled_from(
            ["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SubagentStop",
             "Notification", "SessionStart", "PreCompact"]
        ),
        _other_than(()),
    )  # fmt: skip


def _cli_request_bodies(subtype: str) -> SearchStrategy[dict[str, Any]]:
    optional_text = json_text(max_size=12)
    if subtype == "can_use_tool":
        return st.fixed_dictionaries(
            {"tool_name": json_text(min_size=1), "input": json_objects(),
             "tool_use_id": st.uuids().map(str)},
            optional={"permission_suggestions": st.lists(json_objects(max_size=2), max_size=2),
                      "blocked_path": optional_text, "decision_reason": optional_text,
                      "title": optional_text, "agent_id": optional_text},
        )  # fmt: skip
    if subtype == "hook_callback":
        return st.fixed_dictionaries(
            {
                "callback_id": st.integers(0, 20).map(lambda n: f"hook_{n}"),
                "input": st.builds(
                    lambda event, extra: {**extra, "hook_event_name": event},
                    _hook_event_names(),
                    json_objects(),
                ),
                "tool_use_id": st.one_of(st.none(), st.uuids().map(str)),
            }
        )
    if subtype == "mcp_message":
        return st.fixed_dictionaries(
            {
                "server_name": json_text(min_size=1),
                "message": st.fixed_dictionaries(
                    {"jsonrpc": st.just("2.0"),
                     "method": st.sampled_from(["initialize", "tools/list", "tools/call",
                                                "notifications/initialized"])},
                    optional={"id": st.one_of(st.integers(0, 1000), json_text()),
                              "params": json_objects()},
                ),
            }
        )  # fmt: skip
    if subtype == "elicitation":
        return st.fixed_dictionaries(
            {"mcp_server_name": json_text(min_size=1), "message": json_text()},
            optional={"mode": st.sampled_from(["form", "url"]), "url": json_text(),
                      "requested_schema": json_objects(), "elicitation_id": json_text()},
        )  # fmt: skip
    if subtype == "request_user_dialog":
        return st.fixed_dictionaries(
            {"dialog_kind": json_text(min_size=1), "payload": json_objects()},
            optional={"tool_use_id": json_text()},
        )
    return json_objects()


def _sdk_request_bodies(subtype: str) -> SearchStrategy[dict[str, Any]]:
    text = json_text(min_size=1, max_size=16)
    bodies: dict[str, SearchStrategy[dict[str, Any]]] = {
        "initialize": st.fixed_dictionaries(
            {"hooks": st.one_of(st.none(), json_objects(max_size=2))}
        ),
        "set_permission_mode": st.fixed_dictionaries(
            {"mode": st.sampled_from(["default", "acceptEdits", "plan", "bypassPermissions"])}
        ),
        "set_model": st.fixed_dictionaries({"model": st.one_of(st.none(), text)}),
        "set_max_thinking_tokens": st.fixed_dictionaries(
            {"max_thinking_tokens": st.one_of(st.none(), st.integers(0, 100_000))}
        ),
        "rewind_files": st.fixed_dictionaries(
            {"user_message_id": st.uuids().map(str)}, optional={"dry_run": st.booleans()}
        ),
        "mcp_reconnect": st.fixed_dictionaries({"serverName": text}),
        "mcp_toggle": st.fixed_dictionaries({"serverName": text, "enabled": st.booleans()}),
        "stop_task": st.fixed_dictionaries({"task_id": text}),
        "get_context_usage": st.fixed_dictionaries(
            {}, optional={"detail": st.sampled_from(["summary", "full"])}
        ),
    }
    return bodies.get(
        subtype, st.just({}) if subtype in SDK_TO_CLI_REQUEST_SUBTYPES else json_objects()
    )


def control_request_frames(
    direction: Literal["cli_to_sdk", "sdk_to_cli"] = "cli_to_sdk",
    *,
    subtypes: Sequence[str] | None = None,
    unknown: bool = True,
    ids: SearchStrategy[str] | None = None,
) -> SearchStrategy[dict[str, Any]]:
    """``control_request`` frames with plausible fields for each subtype.

    Args:
        direction: ``"cli_to_sdk"`` for requests the CLI sends (``can_use_tool``,
            ``hook_callback``, ``mcp_message``, ``elicitation``, ...), ``"sdk_to_cli"`` for
            requests the SDK sends (``initialize``, ``interrupt``, ``set_model``, ...).
        subtypes: Only these subtypes (default: every known one of ``direction``).
        unknown: Also subtypes nobody knows (with arbitrary fields).
        ids: Request ids (default: :func:`request_ids`).
    """
    known = (
        CLI_TO_SDK_REQUEST_SUBTYPES if direction == "cli_to_sdk" else SDK_TO_CLI_REQUEST_SUBTYPES
    )
    chosen = tuple(subtypes) if subtypes is not None else known
    bodies = _cli_request_bodies if direction == "cli_to_sdk" else _sdk_request_bodies
    options = [st.builds(lambda body, s=s: {**body, "subtype": s}, bodies(s)) for s in chosen]
    if unknown:
        options.append(
            st.builds(
                lambda body, s: {**body, "subtype": s},
                json_objects(),
                _other_than(CLI_TO_SDK_REQUEST_SUBTYPES + SDK_TO_CLI_REQUEST_SUBTYPES),
            )
        )
    return st.builds(
        lambda rid, request: {"type": "control_request", "request_id": rid, "request": request},
        ids if ids is not None else request_ids(),
        st.one_of(*options),
    )


def control_response_frames(
    ids: SearchStrategy[str] | None = None,
) -> SearchStrategy[dict[str, Any]]:
    """``control_response`` frames: successes (with or without a payload) and errors.

    Args:
        ids: The request ids answered (default: :func:`request_ids`); pass
            ``st.sampled_from(pending)`` to answer requests you sent.
    """
    rid = ids if ids is not None else request_ids()
    success = st.fixed_dictionaries(
        {"subtype": st.just("success"), "request_id": rid},
        optional={"response": json_objects()},
    )
    error = st.fixed_dictionaries(
        {"subtype": st.just("error"), "request_id": rid, "error": json_text()},
        optional={"error_code": st.from_regex(r"\A[a-z][a-z0-9_]{0,20}\Z")},
    )
    return st.builds(
        lambda body: {"type": "control_response", "response": body}, st.one_of(success, error)
    )


def control_cancel_frames(ids: SearchStrategy[str] | None = None) -> SearchStrategy[dict[str, Any]]:
    """``control_cancel_request`` frames (the CLI withdraws one of its requests).

    Args:
        ids: The request ids withdrawn (default: :func:`request_ids`).
    """
    return st.builds(
        lambda rid: {"type": "control_cancel_request", "request_id": rid},
        ids if ids is not None else request_ids(),
    )


def wire_frames(*, control: bool = True) -> SearchStrategy[dict[str, Any]]:
    """Any well-formed frame the CLI may write on stdout.

    Messages of every type (unknown ones included), session-state and keep-alive frames,
    transcript mirrors, and, with ``control``, CLI->SDK control requests, responses and cancels.
    Each of these families gets an equal share of the examples.

    Args:
        control: Include control frames.
    """
    options = [
        message_frames(),
        session_state_frames(sdk_host_only=None),
        keep_alive_frames(),
        transcript_mirror_frames(),
    ]
    if control:
        options += [control_request_frames(), control_response_frames(), control_cancel_frames()]
    return _one_branch(_one_of(*options))


def ndjson(frames: Iterable[Mapping[str, Any]]) -> bytes:
    """The bytes of a stdout stream carrying ``frames``: one compact JSON object per line.

    Args:
        frames: The frames, in order (for instance drawn from :func:`wire_frames`).
    """
    return b"".join(orjson.dumps(frame) + b"\n" for frame in frames)


# ---------------------------------------------------------------------------------------------
# Bytes: chunkings, junk, long lines
# ---------------------------------------------------------------------------------------------


def chunkings(data: bytes, *, max_chunks: int = 64) -> SearchStrategy[list[bytes]]:
    """Every way a pipe may deliver ``data``: non-empty chunks whose concatenation is ``data``.

    Chunks are never empty, because ``receive_data(b"")`` means end of stream to the core.
    Shrinks towards fewer chunks.

    Args:
        data: The bytes to split.
        max_chunks: The most chunks.
    """
    if len(data) <= 1:
        return st.just([data] if data else [])
    cut_points = st.lists(
        st.integers(1, len(data) - 1), unique=True, max_size=min(max_chunks, len(data)) - 1
    )

    def split(cuts: list[int]) -> list[bytes]:
        bounds = [0, *sorted(cuts), len(data)]
        return [data[a:b] for a, b in itertools.pairwise(bounds)]

    return cut_points.map(split)


def _is_junk(line: bytes) -> bool:
    """Whether the core turns ``line`` into one ``InvalidLine`` (or nothing, if blank)."""
    if b"\n" in line:
        return False
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return True
    if type(value) is not dict:
        return True
    # A control_request the core cannot route is junk too.
    return value.get("type") == "control_request" and (
        type(value.get("request")) is not dict or type(value.get("request_id")) is not str
    )


def junk_lines(*, max_size: int = 120) -> SearchStrategy[bytes]:
    """Lines (without the newline) a robust reader must skip: never a message, never a crash.

    Text that is not JSON, JSON that is not an object, truncated frames, invalid UTF-8, blank
    lines, and ``control_request`` frames missing their id or body. The core turns each into one
    ``InvalidLine`` event (blank lines into nothing).

    Args:
        max_size: A bound on the length of the generated raw material.
    """
    not_json = st.one_of(
        st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=max_size).map(
            str.encode
        ),
        st.binary(max_size=max_size),
    )
    non_objects = _one_of(_json_scalars(), st.lists(json_values(max_leaves=4), max_size=3)).map(
        orjson.dumps
    )

    def truncate(frame: dict[str, Any], cut: int) -> bytes:
        encoded = orjson.dumps(frame)
        return encoded[: cut % len(encoded)]  # a strict prefix of an object is never JSON

    truncated = st.builds(truncate, message_frames(), st.integers(0, 10_000))
    blank = st.text(" \t\r\x0b\x0c", max_size=5).map(str.encode)
    bad_control = st.one_of(
        st.builds(
            lambda rid: {"type": "control_request", "request_id": rid},
            st.one_of(st.none(), st.integers(*_INT64), json_text()),
        ),
        st.builds(
            lambda request: {"type": "control_request", "request": request},
            json_objects(max_size=2),
        ),
    ).map(orjson.dumps)
    return _one_branch(
        _one_of(not_json, non_objects, truncated, blank, bad_control)
        .map(lambda line: line.replace(b"\n", b" "))
        .filter(_is_junk)
    )


def long_lines(min_size: int, *, max_size: int | None = None) -> SearchStrategy[bytes]:
    """Single lines (without the newline) of at least ``min_size`` bytes.

    Some are well-formed frames padded to size (a huge tool result, say), some are plain filler.

    Args:
        min_size: The shortest line.
        max_size: The longest filler (default ``2 * min_size``).
    """
    top = max_size if max_size is not None else 2 * min_size

    def padded_frame(size: int) -> bytes:
        return orjson.dumps({"type": "user", "message": {"role": "user", "content": "x" * size}})

    return _one_branch(st.one_of(
        st.integers(min_size, top).map(padded_frame),
        st.builds(lambda size, byte: byte * size, st.integers(min_size, top),
                  st.sampled_from([b"x", b"{", b"\xff", b" "])),
    ))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Hooks and permissions
# ---------------------------------------------------------------------------------------------


def permission_updates() -> SearchStrategy[Any]:
    """Valid :class:`~trio_claude.PermissionUpdate` values of all six kinds."""
    from .. import _permissions

    cls = _permissions.PermissionUpdate
    rules = st.lists(
        st.builds(
            _permissions.PermissionRuleValue,
            tool_name=json_text(min_size=1, max_size=12),
            rule_content=st.one_of(st.none(), json_text(max_size=12)),
        ),
        max_size=3,
    )
    destinations = st.sampled_from(sorted(_permissions.PERMISSION_UPDATE_DESTINATIONS))
    behaviors = st.sampled_from(sorted(_permissions.PERMISSION_BEHAVIORS))
    modes = st.sampled_from(sorted(_permissions._PERMISSION_MODES))
    directories = st.lists(json_text(min_size=1, max_size=16), max_size=3)
    return _one_branch(st.one_of(
        st.builds(
            cls, type=st.sampled_from(["addRules", "replaceRules", "removeRules"]),
            rules=rules, behavior=behaviors, destination=destinations,
        ),
        st.builds(cls, type=st.just("setMode"), mode=modes, destination=destinations),
        st.builds(
            cls, type=st.sampled_from(["addDirectories", "removeDirectories"]),
            directories=directories, destination=destinations,
        ),
    ))  # fmt: skip


def permission_results() -> SearchStrategy[Any]:
    """``PermissionResultAllow`` / ``PermissionResultDeny``: what a ``can_use_tool`` callback
    returns (from the attrs classes, with valid permission updates)."""
    from .._permissions import PermissionResultAllow, PermissionResultDeny

    return _one_branch(_one_of(instances(PermissionResultAllow), instances(PermissionResultDeny)))


def hook_inputs(event: str | None = None, *, unknown: bool = True) -> SearchStrategy[Any]:
    """Typed hook inputs, as a hook callback receives them, built from the hooks module's classes.

    Args:
        event: A hook event name (``"PreToolUse"``, ...) for that event's input class only;
            ``None`` for every event.
        unknown: With ``event=None``, also ``GenericHookInput`` of an event nobody knows.
    """
    from .._hooks import HOOK_INPUT_TYPES, GenericHookInput

    if event is not None:
        cls = HOOK_INPUT_TYPES.get(event, GenericHookInput)
        return from_attrs(cls, hook_event_name=st.just(event))
    options = [
        from_attrs(cls, hook_event_name=st.just(name))
        for name, cls in sorted(HOOK_INPUT_TYPES.items())
    ]
    if unknown:
        options.append(from_attrs(GenericHookInput, hook_event_name=_other_than(HOOK_INPUT_TYPES)))
    return _one_branch(_one_of(*options))


def hook_input_to_wire(value: Any) -> dict[str, Any]:
    """The ``hook_callback`` ``input`` dict the CLI would send for a typed hook input.

    Fields at ``None`` are left out (the decoder treats absent and ``null`` alike); wire names
    come from the class's field metadata.

    Args:
        value: A hook input (see :func:`hook_inputs`).
    """
    from .._hooks import wire_form

    return wire_form(value)


def hook_input_wire(event: str | None = None) -> SearchStrategy[dict[str, Any]]:
    """Wire hook inputs (the ``input`` of a ``hook_callback`` request): :func:`hook_inputs`
    through :func:`hook_input_to_wire`.

    Args:
        event: As for :func:`hook_inputs`.
    """
    return _one_branch(hook_inputs(event).map(hook_input_to_wire))


def hook_outputs(event: str | None = None) -> SearchStrategy[Any]:
    """What a hook callback may return: ``HookOutput`` (with an event-specific output, a wire
    dict or nothing), a bare ``...HookSpecificOutput``, a wire dict, or ``None``.

    Each of these four forms gets an equal share of the examples (the bare outputs of all
    events together).

    Args:
        event: Only that event's specific output (``None``: any event's).
    """
    from .._hooks import HOOK_SPECIFIC_OUTPUT_TYPES, HookOutput

    names = sorted(HOOK_SPECIFIC_OUTPUT_TYPES) if event is None else [event]
    specific = [
        instances(HOOK_SPECIFIC_OUTPUT_TYPES[name])
        for name in names
        if name in HOOK_SPECIFIC_OUTPUT_TYPES
    ]
    # The bare outputs of every event count as one form (a choice of their own).
    any_specific = [_one_of(*specific)] if specific else []
    specific_or_dict = _one_of(st.none(), json_objects(max_size=2), *any_specific)
    typed = from_attrs(HookOutput, hook_specific_output=specific_or_dict)
    return _one_branch(_one_of(typed, *any_specific, json_objects(max_size=2), st.none()))


# ---------------------------------------------------------------------------------------------
# Fake CLI scripts
# ---------------------------------------------------------------------------------------------


def _junk_text_lines() -> SearchStrategy[str]:
    # Raw steps carry text: keep only lines that are still junk once decoded (a replacement
    # character can turn invalid UTF-8 inside a JSON string into a valid object).
    return (
        junk_lines(max_size=40)
        .map(lambda line: line.decode("utf-8", "replace"))
        .filter(lambda text: _is_junk(text.encode()))
    )


def _turn_body_steps(*, sleeps: bool = True) -> SearchStrategy[Step]:
    # Each kind of step gets an equal share: the messages (all types) as one, the junk lines
    # (all kinds) as one.
    body_frames = message_frames(results=False)
    return _one_of(
        body_frames.map(Emit),
        st.builds(Text, json_text(max_size=40)),
        st.builds(ToolUse, json_text(min_size=1, max_size=12), json_objects(max_size=2)),
        _junk_text_lines().map(lambda line: Raw(line + "\n")),
        keep_alive_frames().map(Emit),
        *([st.sampled_from([0.01, 0.5, 2.0]).map(Sleep)] if sleeps else []),
        control_request_frames(
            subtypes=("can_use_tool", "hook_callback", "mcp_message", "elicitation")
        ).map(lambda frame: Request(frame["request"]["subtype"], {
            k: v for k, v in frame["request"].items() if k != "subtype"
        })),
    )  # fmt: skip


def fake_turns(*, max_steps: int = 6, sleeps: bool = True) -> SearchStrategy[FakeTurn]:
    """Fake CLI turns: arbitrary messages, unknown frames, junk lines, control requests and
    sleeps, ending with a success or error :class:`~trio_claude.testing.fake_cli.Result`.

    Each turn ends with exactly one result, so ``receive_response()`` over it ends. The fake's
    control requests wait for the SDK's answer: the SDK answers every one (an error for those
    it has no handler for). Each kind of step (a message of any type, a text, a tool use, a
    junk line, a keep-alive, a sleep, a control request) gets an equal share.

    Args:
        max_steps: The most steps before the result.
        sleeps: Include ``Sleep`` steps (run them under ``MockClock(autojump_threshold=0)``).
    """
    steps = _turn_body_steps(sleeps=sleeps)
    result = st.one_of(
        st.builds(Result, text=json_text(max_size=30)),
        st.builds(
            Result,
            subtype=st.sampled_from(["error_during_execution", "error_max_turns",
                                     "error_max_budget_usd"]),
            is_error=st.just(True),
            extra=st.just({"errors": ["fuzzed error"]}),
        ),
    )  # fmt: skip
    return st.builds(
        lambda body, end, init: FakeTurn(steps=(*body, end), emit_init=init),
        st.lists(steps, max_size=max_steps),
        result,
        st.booleans(),
    )


def fake_scripts(*, max_turns: int = 3, **turn_options: Any) -> SearchStrategy[FakeScript]:
    """Whole fake CLI runs: up to ``max_turns`` :func:`fake_turns`.

    Args:
        max_turns: The most scripted turns (later prompts get the default reply).
        **turn_options: Passed to :func:`fake_turns`.
    """
    return st.builds(
        lambda turns: FakeScript(turns=tuple(turns)),
        st.lists(fake_turns(**turn_options), min_size=1, max_size=max_turns),
    )
