"""In-process MCP servers: tools the model calls that run inside your trio program.

::

    @tc.tool("add", "Add two numbers", {"a": float, "b": float})
    async def add(args):
        return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    calc = tc.create_sdk_mcp_server("calc", tools=[add])
    options = tc.ClaudeAgentOptions(mcp_servers={"calc": calc}, allowed_tools=["mcp__calc__add"])

The CLI talks to the server with JSON-RPC carried in ``mcp_message`` control requests
(``initialize``, ``notifications/initialized``, ``tools/list``, ``tools/call``, ...); the session
routes them here by the ``mcp_servers`` key. The model sees the tool as
``mcp__<key>__<tool>``.

A tool's schema may be a JSON Schema dict, a dict of Python types (``{"a": float}``), an attrs
class (the handler then receives an instance, structured by cattrs), a ``TypedDict`` or ``None``
(no arguments). Arguments are validated (:mod:`trio_claude._jsonschema`) before the handler runs;
invalid arguments, unknown tools and handler exceptions become an ``isError`` result the model
reads, never a protocol error. The text of a handler's exception is redacted (by shape, and by
value with the session's secrets) in that result and in the log, which carries the redacted
traceback as text, never the exception (``exc_info``).
"""

from __future__ import annotations

import base64
import logging
import re
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, Literal, TypedDict, TypeVar, overload

import attrs
import cattrs
import trio

from ._elicitation import ElicitationRequest as ElicitationRequest
from ._elicitation import ElicitationResult as ElicitationResult
from ._jsonschema import (
    is_json_schema,
    schema_for_attrs,
    schema_for_type,
    schema_problem,
    validate,
)
from ._protocol._codec import dumps_from_cli
from ._redact import describe_exception, redact, redact_exception, redact_preview
from ._threads import call_maybe_async

__all__ = [
    "AudioContent",
    "ElicitationRequest",
    "ElicitationResult",
    "EmbeddedResource",
    "ImageContent",
    "McpSdkServerConfig",
    "McpServerConnection",
    "ResourceLink",
    "SdkMcpServer",
    "SdkMcpTool",
    "TextContent",
    "ToolAnnotations",
    "ToolContent",
    "ToolResult",
    "call_maybe_async",
    "create_sdk_mcp_server",
    "tool",
]

logger = logging.getLogger("trio_claude")

T = TypeVar("T")

#: Error codes of JSON-RPC 2.0 / MCP.
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603
REQUEST_CANCELLED = -32800

#: The protocol version answered when the client asks for none.
DEFAULT_PROTOCOL_VERSION = "2025-06-18"


# ==================================================================== result content


def _b64(value: str | bytes) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


@attrs.frozen(kw_only=True)
class TextContent:
    """Text in a tool result."""

    text: str

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "text", "text": ...}``."""
        return {"type": "text", "text": self.text}


@attrs.frozen(kw_only=True)
class ImageContent:
    """An image in a tool result.

    Args:
        data: The image bytes, or their base64 text.
        mime_type: ``image/png``, ``image/jpeg``, ...
    """

    data: str = attrs.field(converter=_b64)
    mime_type: str

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "image", "data": <base64>, "mimeType": ...}``."""
        return {"type": "image", "data": self.data, "mimeType": self.mime_type}


@attrs.frozen(kw_only=True)
class AudioContent:
    """Audio in a tool result (bytes or base64 text, and a mime type)."""

    data: str = attrs.field(converter=_b64)
    mime_type: str

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "audio", "data": <base64>, "mimeType": ...}``."""
        return {"type": "audio", "data": self.data, "mimeType": self.mime_type}


@attrs.frozen(kw_only=True)
class ResourceLink:
    """A link to a resource (the CLI shows the model its name and URI)."""

    uri: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "resource_link", "uri": ..., "name": ..., ...}``."""
        data: dict[str, Any] = {"type": "resource_link", "uri": self.uri, "name": self.name}
        if self.title is not None:
            data["title"] = self.title
        if self.description is not None:
            data["description"] = self.description
        if self.mime_type is not None:
            data["mimeType"] = self.mime_type
        return data


@attrs.frozen(kw_only=True)
class EmbeddedResource:
    """A resource embedded in a tool result: text, or binary ``blob`` (bytes or base64)."""

    uri: str
    text: str | None = None
    blob: str | None = attrs.field(default=None, converter=attrs.converters.optional(_b64))
    mime_type: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.text is None) == (self.blob is None):
            raise ValueError("EmbeddedResource needs exactly one of text and blob")

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "resource", "resource": {"uri": ..., "text" | "blob": ...}}``."""
        resource: dict[str, Any] = {"uri": self.uri}
        if self.mime_type is not None:
            resource["mimeType"] = self.mime_type
        if self.text is not None:
            resource["text"] = self.text
        else:
            resource["blob"] = self.blob
        return {"type": "resource", "resource": resource}


#: A content item of a tool result.
ToolContent = TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource
_CONTENT_TYPES = (TextContent, ImageContent, AudioContent, ResourceLink, EmbeddedResource)


def _content_list(value: Any) -> list[Any]:
    if isinstance(value, (str, Mapping, *_CONTENT_TYPES)):
        return [value]
    return list(value)


@attrs.frozen(kw_only=True)
class ToolResult:
    """What a tool returns (a handler may also return the official dict, a string, or content).

    Args:
        content: Content items (:class:`TextContent`, :class:`ImageContent`, ... or MCP dicts);
            a plain string is one text item.
        is_error: The call failed; the model reads the content as the error.
        structured_content: Machine-readable result (MCP ``structuredContent``).
    """

    content: list[ToolContent | str | dict[str, Any]] = attrs.field(
        factory=list, converter=_content_list
    )
    is_error: bool = False
    structured_content: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The MCP ``CallToolResult``: ``{"content": [...], "isError": ...}``."""
        data: dict[str, Any] = {
            "content": [_encode_content(item) for item in self.content],
            "isError": self.is_error,
        }
        if self.structured_content is not None:
            data["structuredContent"] = self.structured_content
        return data


def _encode_content(item: Any) -> dict[str, Any]:
    if isinstance(item, _CONTENT_TYPES):
        return item.to_dict()
    if isinstance(item, str):
        return {"type": "text", "text": item}
    if isinstance(item, Mapping):
        kind = item.get("type")
        if not isinstance(kind, str):
            raise TypeError(f"tool result content needs a 'type': {dict(item)!r}")
        for key in _CONTENT_NEEDS.get(kind, ()):
            if not isinstance(item.get(key), str):
                # The CLI would drop the block (or the whole result) without a word.
                raise TypeError(f"{kind!r} content needs a string {key!r}")
        return dict(item)
    raise TypeError(f"unsupported tool result content: {type(item).__name__}")


#: The string fields a content item of a known type cannot do without.
_CONTENT_NEEDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "image": ("data", "mimeType"),
    "audio": ("data", "mimeType"),
    "resource_link": ("uri", "name"),
}


def _error_result(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}


def encode_tool_result(value: Any) -> dict[str, Any]:
    """The ``CallToolResult`` for a handler's return value.

    Accepts the official dict (``{"content": [...], "is_error"?: bool}``; ``isError`` and
    ``structuredContent``/``structured_content`` too), a :class:`ToolResult`, a string, one
    content item, a list of items, or ``None`` (no content).

    Raises:
        TypeError: Anything else.
    """
    if isinstance(value, ToolResult):
        return value.to_dict()
    if value is None:
        return {"content": [], "isError": False}
    if isinstance(value, (str, *_CONTENT_TYPES)):
        return {"content": [_encode_content(value)], "isError": False}
    if isinstance(value, Mapping):
        content = value.get("content", [])
        data: dict[str, Any] = {
            "content": [_encode_content(item) for item in _content_list(content)],
            "isError": bool(value.get("is_error", value.get("isError", False))),
        }
        structured = value.get("structuredContent", value.get("structured_content"))
        if structured is not None:
            data["structuredContent"] = structured
        if "_meta" in value:
            data["_meta"] = value["_meta"]
        return data
    if isinstance(value, list):
        return {"content": [_encode_content(item) for item in value], "isError": False}
    raise TypeError(
        "a tool handler must return a dict like {'content': [...]}, a ToolResult, a string or "
        f"content items, not {type(value).__name__}"
    )


# ======================================================================== tools


_ANNOTATION_WIRE = {
    "title": "title",
    "read_only_hint": "readOnlyHint",
    "destructive_hint": "destructiveHint",
    "idempotent_hint": "idempotentHint",
    "open_world_hint": "openWorldHint",
    "max_result_size_chars": "maxResultSizeChars",
}
_ANNOTATION_ATTR = {wire: attr for attr, wire in _ANNOTATION_WIRE.items()}


@attrs.frozen(init=False)
class ToolAnnotations:
    """MCP tool annotations: hints the CLI shows and uses (e.g. read-only tools).

    Keyword arguments may be snake_case or the MCP camelCase (``readOnlyHint=True``), so the
    official SDK's ``ToolAnnotations(readOnlyHint=True)`` ports unchanged; given both, the
    camelCase (wire) name wins, as in the official SDK. Other keywords are kept as extra
    annotations and sent as given (the official class allows extras too: ``model_extra``).

    Args:
        title: A human-readable title.
        read_only_hint: The tool does not modify its environment.
        destructive_hint: The tool may perform destructive updates.
        idempotent_hint: Calling it twice with the same arguments has no further effect.
        open_world_hint: The tool talks to external entities.
        max_result_size_chars: Claude Code hint: the largest result kept in full
            (sent as ``_meta["anthropic/maxResultSizeChars"]``).
    """

    title: str | None = None
    read_only_hint: bool | None = None
    destructive_hint: bool | None = None
    idempotent_hint: bool | None = None
    open_world_hint: bool | None = None
    max_result_size_chars: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    def __init__(self, **kwargs: Any) -> None:
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in kwargs.items():
            attr = _ANNOTATION_ATTR.get(key, key)
            if attr not in _ANNOTATION_WIRE:
                extra[key] = value
            elif attr not in values or key in _ANNOTATION_ATTR:  # the wire name wins
                values[attr] = value
        self.__attrs_init__(**values, extra=extra)

    @classmethod
    def coerce(cls, value: Any) -> ToolAnnotations | None:
        """Accepts a :class:`ToolAnnotations`, a dict (either case), or an object with the MCP
        attribute names (such as ``mcp.types.ToolAnnotations``)."""
        if value is None or isinstance(value, ToolAnnotations):
            return value
        if isinstance(value, Mapping):
            return cls(**{k: v for k, v in value.items() if v is not None})
        found = {
            attr: getattr(value, name)
            for name, attr in [*_ANNOTATION_ATTR.items(), *((a, a) for a in _ANNOTATION_WIRE)]
            if getattr(value, name, None) is not None
        }
        extra = getattr(value, "model_extra", None)
        if isinstance(extra, Mapping):
            found.update({k: v for k, v in extra.items() if v is not None})
        return cls(**found)

    def to_dict(self) -> dict[str, Any]:
        """The MCP ``annotations`` object (camelCase, ``None`` omitted, extras as given)."""
        data = {
            wire: getattr(self, attr)
            for attr, wire in _ANNOTATION_WIRE.items()
            if attr != "max_result_size_chars" and getattr(self, attr) is not None
        }
        data.update({k: v for k, v in self.extra.items() if v is not None})
        return data

    # The official class is a pydantic model: what official code reads of it.

    @property
    def model_extra(self) -> dict[str, Any]:
        """The extra annotations (the official pydantic model's ``model_extra``)."""
        return dict(self.extra)

    def model_dump(self, *, by_alias: bool = False, exclude_none: bool = False) -> dict[str, Any]:
        """The annotations by their MCP (camelCase) names, extras included, as the official
        pydantic model dumps them (``by_alias`` changes nothing: the names are the aliases).

        Args:
            by_alias: Accepted for the official signature.
            exclude_none: Leave out annotations that are not set.
        """
        data = {wire: getattr(self, attr) for attr, wire in _ANNOTATION_WIRE.items()}
        data.update(self.extra)
        return {k: v for k, v in data.items() if not (exclude_none and v is None)}

    @property
    def readOnlyHint(self) -> bool | None:  # the official (mcp 1.x) spelling
        """``read_only_hint`` by its MCP name."""
        return self.read_only_hint

    @property
    def destructiveHint(self) -> bool | None:
        """``destructive_hint`` by its MCP name."""
        return self.destructive_hint

    @property
    def idempotentHint(self) -> bool | None:
        """``idempotent_hint`` by its MCP name."""
        return self.idempotent_hint

    @property
    def openWorldHint(self) -> bool | None:
        """``open_world_hint`` by its MCP name."""
        return self.open_world_hint

    @property
    def maxResultSizeChars(self) -> int | None:
        """``max_result_size_chars`` by its Claude Code name."""
        return self.max_result_size_chars


def _coerce_annotations(value: Any) -> ToolAnnotations | None:
    return ToolAnnotations.coerce(value)


_converter = cattrs.Converter()


@attrs.frozen
class SdkMcpTool(Generic[T]):
    """A tool of an in-process MCP server (made by :func:`tool`).

    Attributes:
        name: The tool's name (the model sees ``mcp__<server>__<name>``).
        description: What it does, for the model.
        input_schema: The schema as given (JSON Schema, ``{name: type}``, an attrs class, a
            TypedDict or ``None``).
        handler: ``async def handler(args)`` (sync functions work too).
        annotations: MCP annotations.
        meta: Extra ``_meta`` for ``tools/list`` (Claude Code reads ``anthropic/...`` keys).
        json_schema: The JSON Schema sent to the CLI and checked before each call.
        input_type: The attrs class the arguments are structured into, if any.
    """

    name: str
    description: str
    input_schema: Any
    handler: Callable[[T], Awaitable[Any]] = attrs.field(eq=False)
    annotations: ToolAnnotations | None = attrs.field(default=None, converter=_coerce_annotations)
    meta: dict[str, Any] | None = attrs.field(default=None, eq=False)
    json_schema: dict[str, Any] = attrs.field(init=False, eq=False, repr=False)
    input_type: type[Any] | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a tool needs a non-empty name")
        if len(self.name) > 128 or _CONTROL.search(self.name):
            # The CLI offers it to the model as mcp__<server>__<name> with every character
            # outside [A-Za-z0-9_-] replaced (so "get weather" works); what it cannot mend is a
            # name beyond MCP's 128 characters, or one with control characters.
            raise ValueError(
                f"tool name {self.name[:40]!r}{'...' if len(self.name) > 40 else ''} must be at "
                "most 128 characters, without control characters"
            )
        if not callable(self.handler):
            raise TypeError(f"the handler of tool {self.name!r} is not callable")
        schema, input_type = _json_schema(self.input_schema, self.name)
        object.__setattr__(self, "json_schema", schema)
        object.__setattr__(self, "input_type", input_type)

    def to_dict(self) -> dict[str, Any]:
        """The tool's ``tools/list`` entry."""
        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "inputSchema": self.json_schema,
        }
        meta = dict(self.meta or {})
        if self.annotations is not None:
            annotations = self.annotations.to_dict()
            if annotations:
                data["annotations"] = annotations
            if self.annotations.max_result_size_chars is not None:
                meta["anthropic/maxResultSizeChars"] = self.annotations.max_result_size_chars
        if meta:
            data["_meta"] = meta
        return data


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _json_schema(schema: Any, name: str) -> tuple[dict[str, Any], type[Any] | None]:
    """(JSON Schema, attrs class or None) for a tool's ``input_schema``."""
    try:
        if schema is None:
            return {"type": "object", "properties": {}}, None
        if isinstance(schema, type) and attrs.has(schema):
            return schema_for_attrs(schema), schema
        if isinstance(schema, type) and typing.is_typeddict(schema):
            return schema_for_type(schema), None
        if is_json_schema(schema):
            result = dict(schema)
            if result.get("type", "object") != "object":
                raise TypeError("a tool's JSON Schema must describe an object")
            problem = schema_problem(result)
            if problem is not None:
                raise TypeError(f"its JSON Schema is misshapen: {problem}")
            return result, None
        if isinstance(schema, Mapping):
            properties: dict[str, Any] = {}
            required: list[str] = []
            for key, tp in schema.items():
                if not isinstance(key, str):
                    raise TypeError(f"argument names must be strings, got {key!r}")
                prop = schema_for_type(tp)
                properties[key] = prop
                if not _optional(tp):
                    required.append(key)
            return {"type": "object", "properties": properties, "required": required}, None
    except TypeError as exc:
        raise TypeError(f"tool {name!r}: {exc}") from None
    raise TypeError(
        f"tool {name!r}: the schema must be a JSON Schema dict, a dict of Python types, an "
        f"attrs class, a TypedDict or None, not "
        + (
            f"the class {schema.__qualname__}"
            if isinstance(schema, type)
            else type(schema).__name__
        )
    )


def _optional(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _optional(typing.get_args(tp)[0])
    return type(None) in typing.get_args(tp) if origin is not None else False


@overload
def tool(
    name: str,
    description: str,
    input_schema: type[T],
    annotations: ToolAnnotations | Mapping[str, Any] | None = None,
    *,
    always_load: bool = False,
    search_hint: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Callable[[Callable[[T], Any]], SdkMcpTool[T]]: ...


@overload
def tool(
    name: str,
    description: str,
    input_schema: Mapping[str, Any] | None = None,
    annotations: ToolAnnotations | Mapping[str, Any] | None = None,
    *,
    always_load: bool = False,
    search_hint: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Callable[[Callable[[dict[str, Any]], Any]], SdkMcpTool[dict[str, Any]]]: ...


def tool(
    name: Any = None,
    description: Any = None,
    input_schema: Any = None,
    annotations: ToolAnnotations | Mapping[str, Any] | None = None,
    *,
    always_load: bool = False,
    search_hint: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Callable[[Callable[[Any], Any]], SdkMcpTool[Any]]:
    """Declares an in-process MCP tool (a decorator, as in the official SDK).

    ::

        @tool("add", "Add two numbers", {"a": float, "b": float})
        async def add(args):
            return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    Args:
        name: The tool's name.
        description: What it does (the model reads it).
        input_schema: A JSON Schema dict; a dict of Python types (every key required unless its
            type is ``X | None``); an attrs class (the handler receives an instance) or a
            TypedDict; ``None`` for no arguments.
        annotations: MCP hints (:class:`ToolAnnotations` or a dict).
        always_load: Claude Code hint: list the tool to the model up front instead of deferring
            it behind ``ToolSearch`` (``_meta["anthropic/alwaysLoad"]``).
        search_hint: Claude Code hint: extra words ``ToolSearch`` matches
            (``_meta["anthropic/searchHint"]``).
        meta: Any other ``_meta`` entries for ``tools/list``.

    Returns:
        A decorator turning ``async def handler(args)`` into an :class:`SdkMcpTool`.

    Raises:
        TypeError: The schema cannot be turned into JSON Schema (at decoration time); the
            decorator used bare (``@tool``) or without a name and a description.
    """
    if not isinstance(name, str) or not isinstance(description, str):
        given = "a function" if callable(name) else type(name).__name__
        raise TypeError(
            f"tool() takes the tool's name and description first (got {given}): use "
            '@tool("add", "Add two numbers", {"a": float, "b": float}) above the async def'
        )
    extra: dict[str, Any] = dict(meta or {})
    if always_load:
        extra["anthropic/alwaysLoad"] = True
    if search_hint is not None:
        extra["anthropic/searchHint"] = search_hint

    def decorator(handler: Callable[[Any], Any]) -> SdkMcpTool[Any]:
        return SdkMcpTool(
            name=name,
            description=description,
            input_schema=input_schema,
            handler=handler,
            annotations=annotations,  # coerced by the converter
            meta=extra or None,
        )

    return decorator


# ======================================================================== servers


class SdkMcpServer:
    """An in-process MCP server: a name, a version and tools.

    Made by :func:`create_sdk_mcp_server`; it is stateless, so one server may serve many
    sessions at once (each session routes its own JSON-RPC traffic through a
    :class:`McpServerConnection`).

    Attributes:
        name: The server's name (reported in ``serverInfo``).
        version: Its version.
        tools: Its tools by name.
        instructions: Instructions for the model, sent in the ``initialize`` answer.
    """

    #: Marks it as an in-process server for ``mcp_servers`` (``is_sdk_server``).
    type: Literal["sdk"] = "sdk"

    def __init__(
        self,
        name: str,
        version: str = "1.0.0",
        tools: Iterable[SdkMcpTool[Any]] = (),
        *,
        instructions: str | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.instructions = instructions
        self.tools: dict[str, SdkMcpTool[Any]] = {}
        for t in tools:
            if not isinstance(t, SdkMcpTool):
                raise TypeError(
                    f"server {name!r}: tools must be made with @tool, got {type(t).__name__}"
                )
            if t.name in self.tools:
                raise ValueError(f"server {name!r}: two tools are named {t.name!r}")
            self.tools[t.name] = t

    def __repr__(self) -> str:
        return (
            f"SdkMcpServer(name={self.name!r}, version={self.version!r}, tools={list(self.tools)})"
        )

    def initialize_result(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The answer to ``initialize``: the client's protocol version, tools capability."""
        version = params.get("protocolVersion")
        result: dict[str, Any] = {
            "capabilities": {"tools": {"listChanged": False}},
            "protocolVersion": version if isinstance(version, str) else DEFAULT_PROTOCOL_VERSION,
            "serverInfo": {"name": self.name, "version": self.version},
        }
        if self.instructions is not None:
            result["instructions"] = self.instructions
        return result

    def list_tools(self) -> dict[str, Any]:
        """The answer to ``tools/list``."""
        return {"tools": [t.to_dict() for t in self.tools.values()]}

    async def call_tool(
        self, name: str, arguments: Any, *, secrets: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Runs a tool: validates, structures, calls the handler, encodes the result.

        Never raises for the tool's own failures: they come back as ``isError`` results, their
        text redacted (``secrets``: the session's secret values, masked by value too).
        """
        secrets = tuple(secrets)
        t = self.tools.get(name)
        if t is None:
            return _error_result(
                f"Tool '{redact_preview(name, secrets, _METHOD_QUOTE_MAX)}' not found"
            )
        if arguments is None:
            arguments = {}
        errors = validate(arguments, t.json_schema)
        if errors:
            # The errors quote short input values whole (never a cut one: see _jsonschema._short)
            # and name keys: masked here, by value and by shape, before the model reads them.
            return _error_result(redact("Input validation error: " + "; ".join(errors), secrets))
        args: Any = arguments
        if t.input_type is not None:
            try:
                args = _converter.structure(arguments, t.input_type)
            except Exception as exc:
                return _error_result(redact("Input validation error: " + _describe(exc), secrets))
        try:
            value = await call_maybe_async(
                t.handler, args, what=f"tool {name} of MCP server {self.name}"
            )
        except Exception as exc:
            logger.warning(
                "tool %s of MCP server %s raised\n%s",
                name,
                self.name,
                redact_exception(exc, secrets),
            )
            return _error_result(redact(_handler_error_text(exc), secrets))
        try:
            result = encode_tool_result(value)
            dumps_from_cli(result)  # (unencodable content: the tool's fault, said so here)
            return result
        except Exception as exc:
            text = str(exc) if isinstance(exc, TypeError) else describe_exception(exc)
            why = redact(text, secrets)
            logger.warning("tool %s of MCP server %s: %s", name, self.name, why)
            return _error_result(f"the tool returned an invalid result: {why}")


def _handler_error_text(exc: BaseException) -> str:
    """What the model reads when a handler raises: ``str(exc)``, as the official SDKs send it
    (the log line has the type and traceback); the type's name when that text is empty."""
    try:
        text = str(exc)
    except Exception:
        return describe_exception(exc)
    return text or type(exc).__name__


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (cattrs.ClassValidationError, cattrs.IterableValidationError)):
        return "; ".join(cattrs.transform_error(exc))
    return describe_exception(exc)


class McpServerConnection:
    """One session's JSON-RPC conversation with one in-process server.

    Tracks the session's running ``tools/call`` requests so ``notifications/cancelled`` can
    cancel exactly the one it names.

    Args:
        server: The server (an :class:`SdkMcpServer`).
        secrets: The session's secret values, masked in what a failure's answer and log say.
    """

    def __init__(self, server: SdkMcpServer, secrets: Iterable[str] = ()) -> None:
        self.server = server
        self.secrets = tuple(secrets)
        # Running tools/call requests by JSON-RPC id: a list, as a client that reconnected may
        # start its ids again while an older call still runs, and a cancel reaches both.
        self._calls: dict[Any, list[trio.CancelScope]] = {}

    async def handle(self, message: Any) -> dict[str, Any]:
        """Answers one JSON-RPC message (a request or a notification).

        Returns:
            The JSON-RPC response; for notifications an empty acknowledgement
            ``{"jsonrpc": "2.0", "result": {}}`` (what the CLI expects in ``mcp_response``).
        """
        if not isinstance(message, Mapping):
            return _rpc_error(None, INVALID_REQUEST, "Invalid Request: not a JSON-RPC object")
        method = message.get("method")
        if "id" in message and not isinstance(method, str) and not _is_response(message):
            # A request without a method: answered with an error naming its id, as the
            # official SDK does (not acknowledged as if it were a notification).
            return _rpc_error(
                message.get("id"), INTERNAL_ERROR, "Invalid request: 'method' is missing"
            )
        if "id" not in message or method is None:
            if method == "notifications/cancelled":
                params = message.get("params")
                if isinstance(params, Mapping):
                    key = _key(params.get("requestId"))
                    for scope in self._calls.get(key, ()) if key is not _UNNAMED else ():
                        scope.cancel()
            return {"jsonrpc": "2.0", "result": {}}
        msg_id = message.get("id")
        params = message.get("params")
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            return _rpc_error(msg_id, INVALID_PARAMS, "Invalid params: not an object")
        server = self.server
        try:
            if method == "initialize":
                result = server.initialize_result(params)
            elif method == "ping":
                result = {}
            elif method == "tools/list":
                result = server.list_tools()
            elif method == "tools/call":
                name = params.get("name")
                if not isinstance(name, str):
                    return _rpc_error(msg_id, INVALID_PARAMS, "Invalid params: 'name' is missing")
                key = _key(msg_id)
                with trio.CancelScope() as scope:
                    running = self._calls.setdefault(key, [])
                    running.append(scope)
                    try:
                        result = await server.call_tool(
                            name, params.get("arguments"), secrets=self.secrets
                        )
                    finally:
                        running.remove(scope)
                        if not running:
                            del self._calls[key]
                if scope.cancelled_caught:
                    return _rpc_error(msg_id, REQUEST_CANCELLED, "Request cancelled")
            else:  # resources, prompts, logging...: the server declares only tools
                # The CLI's string: masked whole (by value and by shape), then cut short.
                said = redact_preview(str(method), self.secrets, _METHOD_QUOTE_MAX)
                return _rpc_error(msg_id, METHOD_NOT_FOUND, f"Method not found: {said}")
        except Exception as exc:
            logger.warning(
                "MCP server %s failed on %s\n%s",
                server.name,
                method,
                redact_exception(exc, self.secrets),
            )
            return _rpc_error(
                msg_id,
                INTERNAL_ERROR,
                redact(f"Internal error: {describe_exception(exc)}", self.secrets),
            )
        return {"jsonrpc": "2.0", "id": msg_id, "result": result}


def _is_response(message: Mapping[str, Any]) -> bool:
    return "result" in message or "error" in message


def _key(msg_id: Any) -> Any:
    # JSON-RPC ids are strings or numbers; 2 and 2.0 are the same request.
    if isinstance(msg_id, float) and msg_id.is_integer():
        return int(msg_id)
    if isinstance(msg_id, (str, int)):
        return msg_id
    # Not an id JSON-RPC allows: no cancel can name it (and its repr may not even be made: a
    # list nested a thousand deep raised RecursionError).
    return _UNNAMED


#: The key of every call whose id is neither a string nor a number.
_UNNAMED = object()


#: The most characters of an unknown method's name quoted back in a -32601 answer.
_METHOD_QUOTE_MAX = 100


def _rpc_error(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


class McpSdkServerConfig(TypedDict):
    """An ``mcp_servers`` entry for an in-process server (what :func:`create_sdk_mcp_server`
    returns, as in the official SDK). On the wire it becomes ``{"type": "sdk", "name": ...}``."""

    type: Literal["sdk"]
    name: str
    instance: SdkMcpServer


def create_sdk_mcp_server(
    name: str,
    version: str = "1.0.0",
    tools: Iterable[SdkMcpTool[Any]] | None = None,
    *,
    instructions: str | None = None,
    always_load: bool = False,
) -> McpSdkServerConfig:
    """Creates an in-process MCP server for ``ClaudeAgentOptions.mcp_servers``.

    Args:
        name: The server's name.
        version: Its version (reported to the CLI).
        tools: Tools made with :func:`tool`.
        instructions: Instructions for the model (MCP ``initialize`` answer).
        always_load: List every tool to the model up front instead of deferring them behind
            ``ToolSearch`` (sets ``always_load`` on each tool).

    Returns:
        ``{"type": "sdk", "name": name, "instance": SdkMcpServer}``.

    Raises:
        TypeError: A tool not made with :func:`tool`.
        ValueError: Two tools with the same name.
    """
    if not isinstance(name, str):
        raise TypeError(f"a server's name must be a string, got {type(name).__name__}")
    if not name:
        raise ValueError("a server needs a non-empty name")
    if not isinstance(version, str):
        # The CLI marks a server with another version "failed", without a word.
        raise TypeError(f"server {name!r}: version must be a string, got {type(version).__name__}")
    if isinstance(tools, SdkMcpTool) or (tools is not None and not isinstance(tools, Iterable)):
        raise TypeError(
            f"server {name!r}: tools must be a list of tools made with @tool, got "
            f"{type(tools).__name__}"
            + (" (put it in a list)" if isinstance(tools, SdkMcpTool) else "")
        )
    tool_list = list(tools or ())
    if always_load:
        tool_list = [
            attrs.evolve(t, meta={**(t.meta or {}), "anthropic/alwaysLoad": True})
            for t in tool_list
        ]
    server = SdkMcpServer(name, version, tool_list, instructions=instructions)
    return {"type": "sdk", "name": name, "instance": server}


def sdk_server_instance(config: Any) -> SdkMcpServer | None:
    """The :class:`SdkMcpServer` behind an ``mcp_servers`` entry, if it has one."""
    if isinstance(config, SdkMcpServer):
        return config
    instance = (
        config.get("instance") if isinstance(config, Mapping) else getattr(config, "instance", None)
    )
    return instance if isinstance(instance, SdkMcpServer) else None
