"""A CLI newer than the SDK: unknown hook events, enum values and fields are never errors.

The decoders (messages, content blocks, the ``initialize`` reply, hook inputs, permission
requests, control replies) are fed an unknown value in every field that can hold a string: that
is every enum-like field (the codec keeps those as ``str``; the few ``Literal``-typed ones are
strings too) and then some. The list of fields is derived from the classes' type annotations,
not written here, so a field added later is covered without touching this file.
"""

from __future__ import annotations

import copy
import types as pytypes
import typing
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal, Union, cast

import attrs
import pytest

import trio_claude as tc
from trio_claude import _control_types
from trio_claude._hooks import HOOK_INPUT_TYPES, GenericHookInput, decode_hook_input
from trio_claude._mcp import ElicitationRequest
from trio_claude._options import HOOK_EVENTS, validate_options
from trio_claude._permissions import _CONTEXT_FIELDS, PermissionUpdate, decode_permission_request
from trio_claude._protocol._codec import (
    _RENAMES,
    BLOCK_CLASSES,
    MESSAGE_CLASSES,
    SYSTEM_MESSAGE_CLASSES,
    converter,
    decode_message,
    decode_server_info,
    message_to_dict,
)
from trio_claude.types import AssistantMessage, ServerInfo, SystemMessage

UNKNOWN = "zz-value-of-a-newer-cli"
SENTINEL = "zz-sentinel-for-the-wire-key"
FUTURE = {"future_field": {"nested": [1, 2]}}

# A valid permission suggestion as the CLI sends it (the base for the nested cases).
SUGGESTION = PermissionUpdate.add_rules(
    [tc.PermissionRuleValue("Bash")], behavior="allow"
).to_dict()

# Fields the SDK fills itself: never on the wire.
NOT_ON_THE_WIRE = {(tc.ResultMessage, "decode_error")}


# --------------------------------------------------------------------------- introspection


def admits_str(hint: Any) -> bool:
    """Whether a field annotated ``hint`` can hold a string (``str``, ``Literal["a", ...]``,
    unions with either)."""
    if hint is str:
        return True
    origin = typing.get_origin(hint)
    if origin is Literal:
        return all(isinstance(arg, str) for arg in typing.get_args(hint))
    if origin in (Union, pytypes.UnionType):
        return any(admits_str(arg) for arg in typing.get_args(hint))
    return False


def string_fields(cls: type[Any]) -> list[str]:
    """Every attribute of ``cls`` (but ``raw``) whose annotation admits a string."""
    hints = typing.get_type_hints(cls)
    return [
        f.name
        for f in attrs.fields(cls)
        if f.name != "raw" and (cls, f.name) not in NOT_ON_THE_WIRE and admits_str(hints[f.name])
    ]


def nested_classes(hint: Any) -> list[type[Any]]:
    """The attrs classes a field annotated ``hint`` can hold (directly or in a list)."""
    if isinstance(hint, type) and attrs.has(hint):
        return [hint]
    found: list[type[Any]] = []
    for arg in typing.get_args(hint):
        found.extend(nested_classes(arg))
    return found


def literal_fields(classes: list[type[Any]]) -> list[tuple[type[Any], str]]:
    """``(class, field)`` for every ``Literal``-annotated field of ``classes``."""

    def has_literal(hint: Any) -> bool:
        if typing.get_origin(hint) is Literal:
            return True
        return any(has_literal(arg) for arg in typing.get_args(hint))

    out = []
    for cls in classes:
        hints = typing.get_type_hints(cls)
        out += [(cls, f.name) for f in attrs.fields(cls) if has_literal(hints[f.name])]
    return out


_BLOCK_TAGS: dict[type[Any], str] = {}
for _tag, _cls in BLOCK_CLASSES.items():
    _BLOCK_TAGS.setdefault(_cls, _tag)


def required(cls: type[Any]) -> dict[str, Any]:
    """Values for the fields of ``cls`` that have no default."""
    special = {"content": [], "event": {}, "rate_limit_info": {}, "source": {}, "model": "m"}
    if cls in _BLOCK_TAGS:
        special["type"] = _BLOCK_TAGS[cls]  # a block's own tag (ServerToolResultBlock)
    return {
        f.name: special.get(f.name, "x")
        for f in attrs.fields(cls)
        if f.default is attrs.NOTHING and f.init
    }


def find(node: Any, value: str, path: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    if node == value and isinstance(node, str):
        return path
    items: Iterator[tuple[Any, Any]]
    if isinstance(node, dict):
        items = iter(node.items())
    elif isinstance(node, list):
        items = iter(enumerate(node))
    else:
        return None
    for key, child in items:
        found = find(child, value, (*path, key))
        if found is not None:
            return found
    return None


def get_path(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def set_path(node: Any, path: tuple[Any, ...], value: Any) -> None:
    get_path(node, path[:-1])[path[-1]] = value


# --------------------------------------------------------------------------- codec cases


class Case(typing.NamedTuple):
    """One decoder fed an unknown value at one wire path."""

    label: str
    frame: dict[str, Any]  # the wire dict, the unknown value at ``path``
    path: tuple[Any, ...]
    decode: Callable[[dict[str, Any]], Any]
    locate: Callable[[Any], Any]  # the decoded object that owns the field
    field: str


_SYSTEM_TAGS = {cls: tag for tag, cls in SYSTEM_MESSAGE_CLASSES.items()}


def _message_frame(cls: type[Any], name: str) -> tuple[dict[str, Any], tuple[Any, ...]]:
    instance = cls(**{**required(cls), name: SENTINEL})
    frame = copy.deepcopy(message_to_dict(instance))
    path = find(frame, SENTINEL)
    if path is None:
        # Typed system messages are unstructured from their ``data``: the field is a top-level
        # key of the frame, under its wire name.
        assert cls in _SYSTEM_TAGS, (cls, name)
        key = _RENAMES.get(cls, {}).get(name, name)
        frame = {"type": "system", "subtype": _SYSTEM_TAGS[cls], key: SENTINEL}
        path = (key,)
    if cls in _SYSTEM_TAGS and name != "subtype":
        frame["subtype"] = _SYSTEM_TAGS[cls]
    return frame, path


def _nested_frame(
    outer: type[Any], attribute: str, cls: type[Any], name: str, unstructure: Callable[[Any], Any]
) -> tuple[dict[str, Any], tuple[Any, ...]]:
    inner = cls(**{**required(cls), name: SENTINEL})
    hint = typing.get_type_hints(outer)[attribute]
    is_list = "list" in str(hint)
    instance = outer(**{**required(outer), attribute: [inner] if is_list else inner})
    frame = copy.deepcopy(unstructure(instance))
    if outer in _SYSTEM_TAGS:
        frame["subtype"] = _SYSTEM_TAGS[outer]
    path = find(frame, SENTINEL)
    assert path is not None, (outer, attribute, cls, name)
    return frame, path


def _locator(attribute: str, is_list: bool) -> Callable[[Any], Any]:
    def locate(decoded: Any) -> Any:
        value = getattr(decoded, attribute)
        return value[0] if is_list else value

    return locate


def codec_cases() -> list[Case]:
    cases: list[Case] = []
    outers: list[tuple[type[Any], Callable[[Any], Any], Callable[[dict[str, Any]], Any]]] = [
        *((cls, message_to_dict, decode_message) for cls in MESSAGE_CLASSES.values()),
        *((cls, message_to_dict, decode_message) for cls in SYSTEM_MESSAGE_CLASSES.values()),
        (ServerInfo, converter.unstructure, decode_server_info),
    ]
    for outer, unstructure, decode in outers:
        for name in string_fields(outer):
            if outer is ServerInfo:
                fields: dict[str, Any] = {name: SENTINEL}
                instance = ServerInfo(**fields)
                frame = copy.deepcopy(converter.unstructure(instance))
                path = find(frame, SENTINEL)
                assert path is not None, name
            else:
                frame, path = _message_frame(outer, name)
            cases.append(Case(f"{outer.__name__}.{name}", frame, path, decode, lambda d: d, name))
        # Nested typed values (content blocks, the initialize reply's lists, a deferred tool).
        hints = typing.get_type_hints(outer)
        for f in attrs.fields(outer):
            for cls in nested_classes(hints[f.name]):
                is_list = "list" in str(hints[f.name])
                for name in string_fields(cls):
                    frame, path = _nested_frame(outer, f.name, cls, name, unstructure)
                    cases.append(
                        Case(
                            f"{outer.__name__}.{f.name}:{cls.__name__}.{name}",
                            frame,
                            path,
                            decode,
                            _locator(f.name, is_list),
                            name,
                        )
                    )
    return cases


CODEC_CASES = codec_cases()


def test_the_cases_cover_every_decoded_class() -> None:
    covered = {case.label.split(":")[-1].split(".")[0] for case in CODEC_CASES}
    expected = {
        cls.__name__
        for cls in (*MESSAGE_CLASSES.values(), *SYSTEM_MESSAGE_CLASSES.values(), ServerInfo)
        if string_fields(cls)
    } | {cls.__name__ for cls in BLOCK_CLASSES.values() if string_fields(cls)}
    assert expected <= covered, expected - covered
    assert len(CODEC_CASES) > 200


@pytest.mark.parametrize("case", CODEC_CASES, ids=lambda c: c.label)
def test_an_unknown_value_in_any_string_field_decodes(case: Case) -> None:
    frame = copy.deepcopy(case.frame)
    set_path(frame, case.path, UNKNOWN)
    frame.update(copy.deepcopy(FUTURE))
    decoded = case.decode(frame)  # never raises
    assert get_path(decoded.raw, case.path) == UNKNOWN  # kept in raw
    assert decoded.raw["future_field"] == FUTURE["future_field"]  # unknown fields too
    owner = case.locate(decoded)
    assert getattr(owner, case.field) == UNKNOWN  # and in the attribute, as sent
    if isinstance(decoded, SystemMessage) and case.path == ("subtype",):
        assert type(decoded) is SystemMessage  # an unknown subtype: the generic class


def test_an_unknown_content_block_type_is_kept() -> None:
    frame = message_to_dict(AssistantMessage(content=[], model="m"))
    frame = copy.deepcopy(frame)
    frame["message"]["content"] = [{"type": UNKNOWN, "data": 1}]
    (block,) = cast(AssistantMessage, decode_message(frame)).content
    assert isinstance(block, tc.UnknownBlock)
    assert block.type == UNKNOWN and block.raw == {"type": UNKNOWN, "data": 1}


# --------------------------------------------------------------------------- other decoders


def hook_cases() -> list[tuple[str, dict[str, Any], str, str | None]]:
    """(event, wire, field, nested attribute) for every string field of every hook input."""
    cases: list[tuple[str, dict[str, Any], str, str | None]] = []
    for event, cls in sorted(HOOK_INPUT_TYPES.items()):
        wire_names = {f.name: f.metadata.get("wire", f.name) for f in attrs.fields(cls)}
        for name in string_fields(cls):
            cases.append((event, {wire_names[name]: UNKNOWN}, name, None))
        hints = typing.get_type_hints(cls)
        for f in attrs.fields(cls):
            for nested in nested_classes(hints[f.name]):
                base = SUGGESTION if nested is PermissionUpdate else {}
                for name in string_fields(nested):
                    item = {**base, name: UNKNOWN}
                    cases.append((event, {wire_names[f.name]: [item]}, name, f.name))
    return cases


HOOK_CASES = hook_cases()


def test_hook_cases_cover_every_event() -> None:
    assert {event for event, *_ in HOOK_CASES} == HOOK_EVENTS


@pytest.mark.parametrize(
    ("event", "wire", "field", "nested"), HOOK_CASES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_hook_inputs_keep_unknown_values(
    event: str, wire: dict[str, Any], field: str, nested: str | None
) -> None:
    data = {"hook_event_name": event, "session_id": "s", **wire, **FUTURE}
    decoded = decode_hook_input(data)
    assert decoded.raw == data
    assert decoded["future_field"] == FUTURE["future_field"]
    owner = decoded if nested is None else getattr(decoded, nested)[0]
    assert getattr(owner, field) == UNKNOWN
    if field == "hook_event_name" and nested is None:
        assert type(decoded) is GenericHookInput  # an unknown event: the generic input


def test_an_unknown_hook_event_decodes_to_the_generic_input() -> None:
    decoded = decode_hook_input({"hook_event_name": "PostSomethingNew", "thing": [1]})
    assert type(decoded) is GenericHookInput
    assert decoded.hook_event_name == "PostSomethingNew" and decoded["thing"] == [1]


def test_permission_requests_keep_unknown_values() -> None:
    context_type = tc.ToolPermissionContext
    fields = [name for name in string_fields(context_type) if name in _CONTEXT_FIELDS]
    assert fields, "the context has string fields"
    for name in fields:
        _, _, context = decode_permission_request(
            {"tool_name": "Bash", "input": {}, name: UNKNOWN, **FUTURE}
        )
        assert getattr(context, name) == UNKNOWN
        assert context.raw["future_field"] == FUTURE["future_field"]
    for name in string_fields(PermissionUpdate):
        suggestion = {**SUGGESTION, name: UNKNOWN}
        _, _, context = decode_permission_request(
            {"tool_name": "Bash", "input": {}, "permission_suggestions": [suggestion]}
        )
        (update,) = context.suggestions
        assert getattr(update, name) == UNKNOWN
        assert update.raw is not None and update.raw[name] == UNKNOWN


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


CONTROL_TYPES = [
    cls
    for cls in vars(_control_types).values()
    if isinstance(cls, type) and attrs.has(cls) and hasattr(cls, "from_wire")
]


@pytest.mark.parametrize("cls", CONTROL_TYPES, ids=lambda c: c.__name__)
def test_control_replies_keep_unknown_values(cls: type[Any]) -> None:
    # The CLI spells reply fields in camelCase or snake_case, depending on the request.
    for name in string_fields(cls):
        decoded = [cls.from_wire({wire: UNKNOWN, **FUTURE}) for wire in {_camel(name), name}]
        assert any(getattr(d, name) == UNKNOWN for d in decoded), name
        assert all(d.raw["future_field"] == FUTURE["future_field"] for d in decoded)


def test_elicitation_requests_and_rate_limits_keep_unknown_values() -> None:
    for name in string_fields(ElicitationRequest):
        request = ElicitationRequest.from_dict({name: UNKNOWN, **FUTURE})
        assert getattr(request, name) == UNKNOWN
        assert request.raw["future_field"] == FUTURE["future_field"]
    for name in string_fields(tc.RateLimitInfo):
        info = tc.RateLimitInfo.from_dict({_camel(name): UNKNOWN, **FUTURE})
        assert getattr(info, name) == UNKNOWN
        assert info.raw["future_field"] == FUTURE["future_field"]


def test_the_literal_fields_of_decoded_classes_are_all_exercised() -> None:
    # Every Literal-annotated field a decoder fills is among the string fields fed above.
    decoded_classes = [
        *MESSAGE_CLASSES.values(),
        *SYSTEM_MESSAGE_CLASSES.values(),
        *BLOCK_CLASSES.values(),
        ServerInfo,
        *HOOK_INPUT_TYPES.values(),
        PermissionUpdate,
        tc.ToolPermissionContext,
        *CONTROL_TYPES,
        ElicitationRequest,
    ]
    for cls, name in literal_fields(decoded_classes):
        assert name in string_fields(cls), (cls, name)


# --------------------------------------------------------------------------- hook events


async def _hook(input: Any, tool_use_id: str | None, context: tc.HookContext) -> None:
    return None


@pytest.mark.parametrize("event", ["Interrupt", "PreSkillShellCommand"])
def test_the_newer_cli_events_are_typed_and_accepted(event: str) -> None:
    cls = HOOK_INPUT_TYPES[event]
    assert cls.__name__ == f"{event}HookInput" and getattr(tc, cls.__name__) is cls
    options = tc.ClaudeAgentOptions(hooks={event: [tc.HookMatcher(hooks=[_hook])]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_options(options)
    decoded = decode_hook_input({"hook_event_name": event, "session_id": "s", "reason": "cut"})
    assert type(decoded) is cls and decoded.session_id == "s"
    assert decoded["reason"] == "cut"  # its own fields: read from raw


def test_an_unknown_hook_event_is_accepted_with_a_warning_that_helps() -> None:
    options = tc.ClaudeAgentOptions(hooks={"PreTooluse": [tc.HookMatcher(hooks=[_hook])]})
    with pytest.warns(UserWarning, match="unknown hook event 'PreTooluse'") as record:
        validate_options(options)
    message = str(record[0].message)
    assert "did you mean 'PreToolUse'?" in message
    for event in HOOK_EVENTS:
        assert event in message  # the known ones are listed
    with pytest.warns(UserWarning, match="did you mean 'PostToolUse'"):
        validate_options(tc.ClaudeAgentOptions(hooks={"posttooluse": []}))
    with pytest.warns(UserWarning) as record:
        validate_options(tc.ClaudeAgentOptions(hooks={"BrandNewLifecycleEvent": []}))
    assert "did you mean" not in str(record[0].message)


async def test_the_unknown_hook_event_warning_names_the_users_line() -> None:
    """A fixed stacklevel named a line of trio-claude's (or of the wrong caller) depending on the
    path that validated the options: ``open_session``, ``ask``, ``validate_options``."""
    from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn

    def options() -> tc.ClaudeAgentOptions:
        transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("x")]))
        return tc.ClaudeAgentOptions(
            hooks={"PreTooluse": [tc.HookMatcher(hooks=[_hook])]}, transport=transport
        )

    with pytest.warns(UserWarning, match="unknown hook event") as record:
        async with tc.open_session(options()) as session:
            await session.run("hi")
        await tc.ask("hi", options=options())
        async with tc.query(prompt="hi", options=options()) as messages:
            async for _ in messages:
                pass
        validate_options(options())
    assert len(record) == 4
    assert [w.filename for w in record] == [__file__] * 4


def test_the_blocking_apis_warning_names_the_users_line() -> None:
    """The blocking API validates the options in its own thread, whose stack has no user
    frame: the warning named ``threading.py``. The opener records the user's line."""
    import trio_claude.blocking as tcb
    from trio_claude.testing.fake_cli import FakeCLITransport, FakeScript, FakeTurn

    transport = FakeCLITransport(FakeScript(turns=[FakeTurn.reply("x")]))
    options = tc.ClaudeAgentOptions(
        hooks={"PreTooluse": [tc.HookMatcher(hooks=[_hook])]}, transport=transport
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with tcb.open_session(options) as session:
            session.run("hi")
    unknown = [w for w in record if "unknown hook event" in str(w.message)]
    assert unknown and [w.filename for w in unknown] == [__file__] * len(unknown)


def test_a_hook_key_that_is_no_event_name_is_still_refused() -> None:
    for key in ("", 3):
        with pytest.raises(tc.ConfigurationError, match="hook event names"):
            validate_options(tc.ClaudeAgentOptions(hooks={key: []}))


# --------------------------------------------------------------------------- values we send


def test_an_unknown_decision_classification_is_sent_with_a_warning() -> None:
    for cls in (tc.PermissionResultAllow, tc.PermissionResultDeny):
        with pytest.warns(UserWarning, match="'config' is not a value this SDK knows"):
            result = cls(decision_classification="config")  # type: ignore[arg-type]
        if isinstance(result, tc.PermissionResultAllow):
            wire = result.to_dict({})
        else:
            wire = result.to_dict()
        assert wire["decisionClassification"] == "config"
    with pytest.warns(UserWarning, match="did you mean 'user_reject'"):
        tc.PermissionResultDeny(decision_classification="user_rejct")  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tc.PermissionResultAllow(decision_classification="user_permanent")
