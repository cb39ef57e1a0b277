"""A small JSON Schema validator and Python-type -> JSON Schema conversion for MCP tools.

No dependency on ``jsonschema``: tools use a small, stable part of JSON Schema, and that part is
implemented here. :func:`validate` checks these keywords (any draft from 4 to 2020-12 agrees on
them):

- ``type`` (a name or a list: ``string``, ``number``, ``integer``, ``boolean``, ``object``,
  ``array``, ``null``; ``integer`` accepts ``3.0``; booleans are not numbers), ``enum``, ``const``
- objects: ``properties``, ``required``, ``additionalProperties`` (``false`` or a schema),
  ``patternProperties``, ``minProperties``, ``maxProperties``
- arrays: ``items`` (a schema, or a list of schemas for tuples), ``prefixItems``, ``minItems``,
  ``maxItems``, ``uniqueItems``
- strings: ``minLength``, ``maxLength``, ``pattern`` (Python :mod:`re`, searched)
- numbers: ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum`` (numbers; the
  draft-4 boolean form too), ``multipleOf`` (exact when value and step are integers; else within
  1e-9 of the step, so ``0.3`` is a multiple of ``0.1``)
- combinators: ``anyOf``, ``oneOf``, ``allOf``, ``not``; boolean schemas ``true``/``false``
- ``$ref`` to a JSON pointer inside the same schema (``#/$defs/Point``, ``#/definitions/...``),
  which is what pydantic's ``model_json_schema()`` produces; keywords next to it apply too (as
  from draft 2019-09; draft 7 ignored them)

Counts (``minLength``, ``maxItems``, ...) may be written ``2`` or ``2.0``, as JSON Schema allows.
``tests/fuzz/test_jsonschema_differential.py`` checks the verdicts against the ``jsonschema``
package (drafts 2020-12, 7 and 4).

Everything else (``format``, ``if``/``then``, ``dependentRequired``, remote ``$ref``, ...) is
ignored: it neither fails nor passes anything.

:func:`schema_for_type` maps Python annotations to JSON Schema: ``str``, ``int``, ``float``,
``bool``, ``None``, ``list[X]``/``tuple``/``set``, ``dict[str, X]``, ``Any``, ``Literal``,
``Enum`` subclasses, ``X | None``/``Optional``/``Union``, ``Annotated[X, "description"]``,
``TypedDict`` and attrs classes (nested ones too).
"""

from __future__ import annotations

import enum
import math
import re
import types
import typing
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import attrs

__all__ = ["is_json_schema", "schema_for_attrs", "schema_for_type", "validate"]

_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
#: Errors reported at most (the rest is summarised).
_MAX_ERRORS = 10


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _has_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, Mapping)
    if name == "array":
        return isinstance(value, (list, tuple))
    if name == "null":
        return value is None
    return True  # an unknown type name constrains nothing


#: Input strings up to this long are quoted in errors; longer ones only by their length: a tool's
#: input may hold a credential (the model read it somewhere), and a quote cut to length is no
#: longer recognisable by the masking that runs over the error afterwards.
_QUOTE_MAX = 12
#: The longest repr of a non-string input value (a container, a number) quoted whole.
_REPR_MAX = 60


def _short(value: Any) -> str:
    """An input value as jsonschema quotes it (its repr) when that is short and holds no long
    string; else what it is (``a str of 45 characters``, ``a dict with 2 keys``). Never cut:
    the caller masks the whole error text (the session's secrets and key shapes)."""
    if isinstance(value, str):
        return repr(value) if len(value) <= _QUOTE_MAX else f"a str of {len(value)} characters"
    try:
        text = repr(value)
    except Exception:  # a nesting too deep for repr
        text = None
    if text is not None and len(text) <= _REPR_MAX and not _holds_long_string(value):
        return text
    if isinstance(value, Mapping):
        return f"a dict with {_plural(len(value), 'key')}"
    if isinstance(value, (list, tuple)):
        return f"a list of {_plural(len(value), 'item')}"
    name = _type_name(value)
    return f"an {name}" if name[:1] in ("a", "e", "i", "o", "u") else f"a {name}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _holds_long_string(value: Any) -> bool:
    """Whether a (small: its repr fits a line) container holds a string of more than
    :data:`_QUOTE_MAX` characters, as a key or a value, at any depth."""
    if isinstance(value, str):
        return len(value) > _QUOTE_MAX
    if isinstance(value, Mapping):
        return any(_holds_long_string(k) or _holds_long_string(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_long_string(item) for item in value)
    return False


def _schema_text(value: Any) -> str:
    """A part of the tool's own schema (not the input), as jsonschema quotes it, cut to a line."""
    try:
        text = repr(value)
    except Exception:  # a nesting too deep for repr
        return f"a {_type_name(value)}"
    return text if len(text) <= 60 else text[:57] + "..."


def _where(path: str) -> str:
    return "input" + path if not path or path.startswith("[") else path


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: 1 == 1.0, but True != 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class _Validator:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.errors: list[str] = []

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return True  # remote refs are not followed
        node = self.root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise ValueError(f"unresolvable $ref {ref!r} in the tool's input schema")
        return node

    def check(self, value: Any, schema: Any, path: str, depth: int = 0) -> bool:
        """Appends errors for ``value`` against ``schema``; returns whether it is valid."""
        if depth > 64:
            raise ValueError("the tool's input schema nests too deeply (recursive $ref?)")
        if schema is True or schema is None:
            return True
        if schema is False:
            self.errors.append(f"{_where(path)}: no value is allowed here")
            return False
        if not isinstance(schema, Mapping):
            return True
        before = len(self.errors)
        if "$ref" in schema and isinstance(schema["$ref"], str):
            self.check(value, self.resolve(schema["$ref"]), path, depth + 1)
        kind = schema.get("type")
        if kind is not None:
            names = [kind] if isinstance(kind, str) else list(kind)
            if not any(_has_type(value, n) for n in names):
                # jsonschema's words (the official SDK's validator), with where it is.
                expected = ", ".join(repr(n) for n in names)
                self.errors.append(
                    f"{_where(path)}: {_short(value)} is not of type {expected}"
                    f" ({_type_name(value)})"
                )
                return False
        if isinstance(schema.get("enum"), list) and not any(
            _equal(value, option) for option in schema["enum"]
        ):
            options = ", ".join(repr(o) for o in schema["enum"])
            self.errors.append(f"{_where(path)}: {_short(value)} is not one of {options}")
        if "const" in schema and not _equal(value, schema["const"]):
            self.errors.append(f"{_where(path)}: must be {schema['const']!r}")
        if isinstance(value, Mapping):
            self._object(value, schema, path, depth)
        elif isinstance(value, (list, tuple)):
            self._array(value, schema, path, depth)
        elif isinstance(value, str):
            self._string(value, schema, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._number(value, schema, path)
        for sub in schema.get("allOf") or ():
            self.check(value, sub, path, depth + 1)
        if "anyOf" in schema and not any(
            self._quiet(value, sub, path, depth) for sub in schema["anyOf"]
        ):
            self.errors.append(f"{_where(path)}: does not match any allowed schema")
        if "oneOf" in schema:
            matches = sum(1 for sub in schema["oneOf"] if self._quiet(value, sub, path, depth))
            if matches != 1:
                self.errors.append(
                    f"{_where(path)}: must match exactly one allowed schema, matches {matches}"
                )
        if "not" in schema and self._quiet(value, schema["not"], path, depth):
            self.errors.append(f"{_where(path)}: matches a schema it must not match")
        return len(self.errors) == before

    def _quiet(self, value: Any, schema: Any, path: str, depth: int) -> bool:
        saved = self.errors
        self.errors = []
        try:
            return self.check(value, schema, path, depth + 1)
        finally:
            self.errors = saved

    def _object(
        self, value: Mapping[str, Any], schema: Mapping[str, Any], path: str, depth: int
    ) -> None:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        for name in schema.get("required") or ():
            if name not in value:
                where = f"{path}: " if path else ""  # top level: jsonschema's very words
                self.errors.append(f"{where}{name!r} is a required property")
        patterns = schema.get("patternProperties")
        patterns = patterns if isinstance(patterns, Mapping) else {}
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            matched = False
            if key in properties:
                matched = True
                self.check(item, properties[key], where, depth + 1)
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    matched = True
                    self.check(item, sub, where, depth + 1)
            if not matched:
                if extra is False:
                    self.errors.append(f"{_where(path)}: unexpected property {key!r}")
                elif isinstance(extra, Mapping):
                    self.check(item, extra, where, depth + 1)
        count = len(value)
        low, high = _count(schema, "minProperties"), _count(schema, "maxProperties")
        if low is not None and count < low:
            self.errors.append(f"{_where(path)}: needs at least {low} properties")
        if high is not None and count > high:
            self.errors.append(f"{_where(path)}: allows at most {high} properties")

    def _array(
        self, value: Sequence[Any], schema: Mapping[str, Any], path: str, depth: int
    ) -> None:
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(items, list):  # draft-4..2019 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        start = 0
        if isinstance(prefix, list):
            for index, (item, sub) in enumerate(zip(value, prefix, strict=False)):
                self.check(item, sub, f"{path}[{index}]", depth + 1)
            start = len(prefix)
        if items is not None and items is not True:
            for index in range(start, len(value)):
                self.check(value[index], items, f"{path}[{index}]", depth + 1)
        low, high = _count(schema, "minItems"), _count(schema, "maxItems")
        if low is not None and len(value) < low:
            self.errors.append(f"{_where(path)}: needs at least {low} items")
        if high is not None and len(value) > high:
            self.errors.append(f"{_where(path)}: allows at most {high} items")
        if schema.get("uniqueItems") is True:
            for i in range(len(value)):
                if any(_equal(value[i], value[j]) for j in range(i)):
                    self.errors.append(f"{_where(path)}: items must be unique")
                    break

    def _string(self, value: str, schema: Mapping[str, Any], path: str) -> None:
        low, high = _count(schema, "minLength"), _count(schema, "maxLength")
        if low is not None and len(value) < low:
            self.errors.append(f"{_where(path)}: needs at least {low} characters")
        if high is not None and len(value) > high:
            self.errors.append(f"{_where(path)}: allows at most {high} characters")
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not re.search(pattern, value):
            self.errors.append(
                f"{_where(path)}: {_short(value)} does not match pattern {pattern!r}"
            )

    def _number(self, value: float, schema: Mapping[str, Any], path: str) -> None:
        where = _where(path)
        minimum: Any = schema.get("minimum")
        maximum: Any = schema.get("maximum")
        ex_min: Any = schema.get("exclusiveMinimum")
        ex_max: Any = schema.get("exclusiveMaximum")
        if ex_min is True:  # draft 4: a boolean modifier of minimum
            ex_min, minimum = minimum, None
        if ex_max is True:
            ex_max, maximum = maximum, None
        if _is_num(minimum) and value < minimum:
            self.errors.append(f"{where}: must be >= {minimum}")
        if _is_num(maximum) and value > maximum:
            self.errors.append(f"{where}: must be <= {maximum}")
        if _is_num(ex_min) and value <= ex_min:
            self.errors.append(f"{where}: must be > {ex_min}")
        if _is_num(ex_max) and value >= ex_max:
            self.errors.append(f"{where}: must be < {ex_max}")
        step: Any = schema.get("multipleOf")
        if _is_num(step) and step > 0 and not _is_multiple(value, step):
            self.errors.append(f"{where}: must be a multiple of {step}")


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(schema: Mapping[str, Any], key: str) -> int | None:
    """A count keyword (``minItems``, ...) as an int: ``2`` and ``2.0`` alike; else ``None``."""
    value = schema.get(key)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _is_multiple(value: float, step: float) -> bool:
    """``multipleOf``: exact for integers, within a relative 1e-9 of ``step`` for floats."""
    if isinstance(value, int) and isinstance(step, int):
        return value % step == 0  # exact: a float remainder loses odd ints above 2**53
    if isinstance(value, float) and not math.isfinite(value):
        return True
    try:
        # The IEEE remainder is exact and cannot overflow (value / step can).
        return abs(math.remainder(value, step)) <= 1e-9 * step
    except OverflowError:  # an int beyond the float range, with a float step
        return Fraction(value) % Fraction(step) == 0


def validate(value: Any, schema: Any) -> list[str]:
    """Validates ``value`` against ``schema`` (the subset in the module docstring).

    Returns:
        Human-readable errors, ``[]`` when valid; each names where (``point.x: expected number,
        got string``). At most ten are listed, then a count of the rest.
    """
    validator = _Validator(schema)
    validator.check(value, schema, "")
    errors = validator.errors
    if len(errors) > _MAX_ERRORS:
        errors = [*errors[:_MAX_ERRORS], f"... and {len(errors) - _MAX_ERRORS} more"]
    return errors


# ============================================================== Python types -> JSON Schema


def is_json_schema(value: Any) -> bool:
    """Whether a dict given as a tool's schema is JSON Schema (rather than ``{name: type}``).

    It is when its ``type`` is a string (or list of strings), or its ``properties`` is a dict,
    or it uses ``$ref``/``anyOf``/``oneOf``/``allOf`` with a non-type value; and never when
    one of its values is not JSON (a Python type, a typing annotation): then it is
    ``{name: type}``, whatever its keys are called (an argument named ``properties``).
    """
    if not isinstance(value, Mapping):
        return False
    if not all(isinstance(v, _JSON_VALUES) for v in value.values()):
        return False
    kind = value.get("type")
    if isinstance(kind, str) or (isinstance(kind, list) and all(isinstance(k, str) for k in kind)):
        return True
    if isinstance(value.get("properties"), Mapping):
        return True
    return any(isinstance(value.get(k), (str, list)) for k in ("$ref", "anyOf", "oneOf", "allOf"))


_JSON_VALUES = (str, int, float, bool, list, tuple, Mapping, type(None))

_TYPE_NAMES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMAS = ("not", "additionalProperties", "items", "contains", "if", "then", "else")


def schema_problem(schema: Any, path: str = "$") -> str | None:
    """The first misshapen part of a JSON Schema's well-known keywords, or ``None``.

    JSON arrays may be lists or tuples (both are written as arrays). Not a meta-schema
    validation: only what a newcomer gets wrong and the Messages API then
    refuses for the whole turn (``properties`` as a list, a property given as a type name, a
    misspelt ``type``, ``required`` as one string). Unknown keywords are left alone.
    """
    if isinstance(schema, bool):
        return None
    if not isinstance(schema, Mapping):
        return f"{path} must be a schema (a dict), got {_type_name(schema)}"
    kind = schema.get("type")
    kinds = kind if isinstance(kind, (list, tuple)) else [kind]
    if kind is not None and not all(isinstance(k, str) and k in _TYPE_NAMES for k in kinds):
        return (
            f"{path}.type is {_schema_text(kind)}: it must be one of {sorted(_TYPE_NAMES)}"
            " (or a list of them)"
        )
    properties = schema.get("properties")
    if properties is not None:
        if not isinstance(properties, Mapping):
            return f"{path}.properties must be a dict of name to schema"
        for name, sub in properties.items():
            found = schema_problem(sub, f"{path}.properties[{name!r}]")
            if found is not None:
                return found
    required = schema.get("required")
    if required is not None and (
        not isinstance(required, (list, tuple)) or not all(isinstance(r, str) for r in required)
    ):
        return f"{path}.required must be a list of property names"
    for key in _SUBSCHEMA_LISTS:
        subs = schema.get(key)
        if subs is not None:
            if not isinstance(subs, (list, tuple)):
                return f"{path}.{key} must be a list of schemas"
            for index, sub in enumerate(subs):
                found = schema_problem(sub, f"{path}.{key}[{index}]")
                if found is not None:
                    return found
    for key in _SUBSCHEMAS:
        if key in schema:
            found = schema_problem(schema[key], f"{path}.{key}")
            if found is not None:
                return found
    enum = schema.get("enum")
    if enum is not None and not isinstance(enum, (list, tuple)):
        return f"{path}.enum must be a list"
    return None


def _description(extras: Sequence[Any]) -> str | None:
    for extra in extras:
        if isinstance(extra, str):
            return extra
    return None


def schema_for_type(tp: Any) -> dict[str, Any]:
    """The JSON Schema of a Python annotation.

    Raises:
        TypeError: An annotation with no JSON equivalent (``bytes``, ``datetime``, a plain
            class, ...).
    """
    if tp is Any or tp is object:
        return {}
    if tp is None or tp is type(None):
        return {"type": "null"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if isinstance(tp, Mapping):  # a property schema given inline
        return dict(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    schema: dict[str, Any]
    if origin is typing.Annotated:
        schema = schema_for_type(args[0])
        description = _description(args[1:])
        if description is not None:
            schema = {**schema, "description": description}
        return schema
    if origin is typing.Literal:
        values = list(args)
        kinds = {_type_name(v) for v in values}
        if len(kinds) == 1 and None not in values:
            return {"type": kinds.pop(), "enum": values}
        return {"enum": values}
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        schemas = [schema_for_type(a) for a in options]
        if len(options) < len(args):
            schemas.append({"type": "null"})
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    if tp in (list, tuple, set, frozenset) or origin in (list, set, frozenset, Sequence):
        schema = {"type": "array"}
        if args:
            schema["items"] = schema_for_type(args[0])
        if tp in (set, frozenset) or origin in (set, frozenset):
            schema["uniqueItems"] = True
        return schema
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": schema_for_type(args[0])}
        return {
            "type": "array",
            "prefixItems": [schema_for_type(a) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if tp in (dict, Mapping) or origin in (dict, Mapping):
        schema = {"type": "object"}
        if len(args) == 2 and args[1] is not Any:
            schema["additionalProperties"] = schema_for_type(args[1])
        return schema
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [member.value for member in tp]}
    if isinstance(tp, type) and attrs.has(tp):
        return schema_for_attrs(tp)
    if typing.is_typeddict(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        required = sorted(getattr(tp, "__required_keys__", hints))
        return {
            "type": "object",
            "properties": {name: schema_for_type(hint) for name, hint in hints.items()},
            "required": [name for name in hints if name in required],
        }
    raise TypeError(
        f"no JSON Schema for {tp!r}: use str, int, float, bool, list, dict, Literal, Enum, "
        "Optional/Union, TypedDict, an attrs class, or a JSON Schema dict"
    )


def schema_for_attrs(cls: type[Any]) -> dict[str, Any]:
    """The object schema of an attrs class: one property per ``__init__`` argument.

    Fields without a default are required. ``attrs.field(metadata={"description": ...})`` sets a
    property's description; ``metadata={"json_schema": {...}}`` is merged into its schema
    (``{"minimum": 0}``, say). The class docstring's first line becomes the description.
    """
    hints = typing.get_type_hints(cls, include_extras=True)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in attrs.fields(cls):
        if not field.init:
            continue
        name = field.name  # cattrs reads the attribute's name as the key
        tp = hints.get(field.name, field.type if field.type is not None else Any)
        schema = schema_for_type(tp)
        description = field.metadata.get("description")
        if description:
            schema = {**schema, "description": description}
        extra = field.metadata.get("json_schema")
        if isinstance(extra, Mapping):
            schema = {**schema, **extra}
        properties[name] = schema
        if field.default is attrs.NOTHING:
            required.append(name)
    schema = {"type": "object", "properties": properties, "required": required}
    doc = (cls.__doc__ or "").strip()
    if doc and not doc.startswith(cls.__name__ + "("):  # attrs' generated repr-like doc
        schema["description"] = doc.splitlines()[0]
    return schema
