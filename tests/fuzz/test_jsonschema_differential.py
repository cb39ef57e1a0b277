"""Differential fuzzing of ``trio_claude._jsonschema.validate`` against the ``jsonschema`` package.

Our validator implements a subset of JSON Schema (see its module docstring); the schemas drawn
here stay inside that subset and are valid per the draft's metaschema, and for each
(schema, instance) pair the verdict (valid or not) must equal ``jsonschema``'s. Instances are
drawn both at random and from the schema (a best-effort valid instance, sometimes mutated), so
that both verdicts are common.

- Draft 2020-12 (``Draft202012Validator``): every supported keyword, including ``prefixItems``,
  ``$ref`` into ``$defs`` next to other keywords, and boolean schemas.
- Draft 7: the tuple form of ``items`` with ``additionalItems``.
- Draft 4: the boolean ``exclusiveMinimum`` / ``exclusiveMaximum``.

Known differences, kept out of the generated data on purpose:

- ``multipleOf`` on floats: ours allows a relative error of 1e-9 (so ``0.3`` is a multiple of
  ``0.1``), ``jsonschema`` divides and wants an exact integer quotient. Floats here lie on a
  1/8 grid and steps are integers or 1/2, 1/4, where both are exact.
- Draft 4's ``integer`` rejects ``1.0``; ours accepts it (draft 6 onwards): the draft-4 test uses
  ``number`` only. Draft 7 ignores the siblings of ``$ref``; ours applies them (2019-09
  onwards): the draft-7 test draws no ``$ref``.
- ``jsonschema`` 4.26 raises ``TypeError`` for ``additionalItems`` next to a boolean ``items``
  (draft 7): ``additionalItems`` is drawn only next to the tuple form.
- ``uniqueItems`` in ``jsonschema`` 4.26 sorts the items and compares neighbours only, so
  ``[[1], [true], [1]]`` passes there (Python sorts ``[1]`` and ``[true]`` as equal). The
  oracle's ``uniqueItems`` is replaced by an exact pairwise check (see :func:`_unique_items`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, Draft7Validator, Draft202012Validator
from jsonschema.validators import extend  # type: ignore[import-untyped]

from trio_claude._jsonschema import validate

from . import examples

KEYS = ["a", "b", "c"]
PATTERNS = ["^a", "b$", "^[ab]+$", "x", "^$", "[0-9]", "^.{2,}$"]
TYPES = ["string", "number", "integer", "boolean", "object", "array", "null"]
STEPS = [1, 2, 3, 0.5, 0.25, 2.0]

# ---- JSON values ----------------------------------------------------------------------------

grid_floats = st.integers(-80, 80).map(lambda k: k / 8)
numbers = st.one_of(
    st.integers(-12, 12),
    grid_floats,
    st.integers(-(2**64), 2**64),  # beyond 2**53: exact integer arithmetic matters
    st.sampled_from([1e20, -1e20, 2.0**60]),
)
strings = st.text(alphabet="abx1 ", max_size=5)
scalars = st.one_of(st.none(), st.booleans(), numbers, strings)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from([*KEYS, "ab", "x1"]), children, max_size=4),
    ),
    max_leaves=8,
)

# ---- schemas --------------------------------------------------------------------------------

bounds = st.one_of(st.integers(-10, 10), grid_floats)
counts = st.one_of(st.integers(0, 4), st.integers(0, 4).map(float))  # 2.0 is a count too


def _families(children: st.SearchStrategy[Any], draft: str) -> list[st.SearchStrategy[Any]]:
    """Strategies for groups of keywords; a schema merges a few of them."""
    subschemas = st.lists(children, min_size=1, max_size=3)
    families: list[st.SearchStrategy[Any]] = [
        st.fixed_dictionaries(
            {
                "type": st.one_of(
                    st.sampled_from(TYPES),
                    st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
                )
            }
        ),
        st.fixed_dictionaries({"enum": st.lists(json_values, max_size=3)}),
        st.fixed_dictionaries({"const": json_values}),
        st.fixed_dictionaries(
            {},
            optional={
                "minimum": bounds,
                "maximum": bounds,
                "multipleOf": st.sampled_from(STEPS),
                **(
                    {} if draft == "4" else {"exclusiveMinimum": bounds, "exclusiveMaximum": bounds}
                ),
            },
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "minLength": counts,
                "maxLength": counts,
                "pattern": st.sampled_from(PATTERNS),
            },
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "properties": st.dictionaries(st.sampled_from(KEYS), children, max_size=3),
                "required": st.lists(st.sampled_from([*KEYS, "x1"]), max_size=3, unique=True),
                "additionalProperties": children,
                "patternProperties": st.dictionaries(
                    st.sampled_from(PATTERNS), children, max_size=2
                ),
                "minProperties": counts,
                "maxProperties": counts,
            },
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "minItems": counts,
                "maxItems": counts,
                "uniqueItems": st.booleans(),
                **(
                    {"items": children, "prefixItems": st.lists(children, min_size=1, max_size=3)}
                    if draft == "2020-12"
                    else {"items": children}
                ),
            },
        ),
        *(
            []
            if draft == "2020-12"
            else [
                # the tuple form; additionalItems only next to it (jsonschema 4.26 raises a
                # TypeError for additionalItems next to a boolean items)
                st.fixed_dictionaries(
                    {"items": st.lists(children, min_size=1, max_size=3)},
                    optional={"additionalItems": children},
                )
            ]
        ),
        st.fixed_dictionaries({"anyOf": subschemas}),
        st.fixed_dictionaries({"oneOf": subschemas}),
        st.fixed_dictionaries({"allOf": subschemas}),
        st.fixed_dictionaries({"not": children}),
        # annotations: both validators ignore them
        st.fixed_dictionaries(
            {},
            optional={
                "title": st.text(max_size=3),
                "description": st.text(max_size=3),
                "format": st.sampled_from(["email", "date-time", "uri"]),
                "default": json_values,
            },
        ),
    ]
    return families


@st.composite
def _schema_dict(
    draw: st.DrawFn, children: st.SearchStrategy[Any], draft: str, refs: list[str]
) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    for family in draw(st.lists(st.sampled_from(_families(children, draft)), max_size=3)):
        schema.update(draw(family))
    if not isinstance(schema.get("items"), list):  # another family replaced the tuple form
        schema.pop("additionalItems", None)
    if refs and draw(st.integers(0, 5)) == 0:
        schema["$ref"] = draw(st.sampled_from(refs))
    return schema


def schemas(draft: str, refs: Sequence[str] = ()) -> st.SearchStrategy[Any]:
    refs = list(refs)
    leaves: st.SearchStrategy[Any] = st.one_of(
        st.booleans(),
        st.just({}),
        st.builds(lambda t: {"type": t}, st.sampled_from(TYPES)),
        *([st.sampled_from(refs).map(lambda r: {"$ref": r})] if refs else []),
    )
    return st.recursive(leaves, lambda children: _schema_dict(children, draft, refs), max_leaves=6)


@st.composite
def root_schemas(draw: st.DrawFn, draft: str) -> dict[str, Any]:
    """A root object schema; for 2020-12 with two ``$defs`` that the rest may ``$ref``."""
    if draft != "2020-12":
        return draw(_schema_dict(schemas(draft), draft, []))
    defs = {name: draw(schemas(draft)) for name in ("d0", "d1")}
    refs = ["#/$defs/d0", "#/$defs/d1"]
    root = draw(_schema_dict(schemas(draft, refs), draft, refs))
    root["$defs"] = defs
    return root


# ---- instances derived from a schema -------------------------------------------------------


def _resolve(root: Any, ref: str) -> Any:
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _derive(draw: st.DrawFn, schema: Any, root: Any, depth: int = 0) -> Any:
    """A value that often satisfies ``schema`` (best effort: no guarantee)."""
    if depth > 6 or not isinstance(schema, dict):
        return draw(json_values)
    if "$ref" in schema and draw(st.booleans()):
        return _derive(draw, _resolve(root, schema["$ref"]), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return draw(st.sampled_from(schema["enum"]))
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema and draw(st.booleans()):
            return _derive(draw, draw(st.sampled_from(schema[key])), root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = draw(st.sampled_from(kind))
    if kind is None:
        if any(k in schema for k in ("properties", "required", "additionalProperties")):
            kind = "object"
        elif any(k in schema for k in ("items", "prefixItems", "minItems", "uniqueItems")):
            kind = "array"
        elif any(k in schema for k in ("minLength", "maxLength", "pattern")):
            kind = "string"
        elif any(k in schema for k in ("minimum", "maximum", "multipleOf")):
            kind = "number"
        else:
            return draw(json_values)
    if kind == "object":
        properties = schema.get("properties") or {}
        keys = set(schema.get("required") or ()) | set(
            draw(st.lists(st.sampled_from(sorted(properties) or KEYS), max_size=3))
        )
        extra = schema.get("additionalProperties", True)
        out = {}
        for key in sorted(keys):
            sub = properties.get(key, extra if isinstance(extra, dict) else True)
            out[key] = _derive(draw, sub, root, depth + 1)
        return out
    if kind == "array":
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", low + 3))
        size = draw(st.integers(low, max(low, high)))
        prefix = schema.get("prefixItems") or (
            schema["items"] if isinstance(schema.get("items"), list) else []
        )
        rest = schema.get("items") if isinstance(schema.get("items"), dict) else True
        return [
            _derive(draw, prefix[i] if i < len(prefix) else rest, root, depth + 1)
            for i in range(size)
        ]
    if kind == "string":
        low = int(schema.get("minLength", 0))
        high = int(schema.get("maxLength", low + 3))
        return draw(st.text(alphabet="ab1", min_size=low, max_size=max(low, high)))
    if kind in ("number", "integer"):
        # unbounded: also integers past 2**53, where float arithmetic stops being exact
        wide = 2**62 if draw(st.booleans()) else 10
        floor = schema.get("minimum", schema.get("exclusiveMinimum", -wide))
        ceiling = schema.get("maximum", schema.get("exclusiveMaximum", wide))
        floor = floor if isinstance(floor, (int, float)) else -wide  # not a draft-4 boolean
        ceiling = ceiling if isinstance(ceiling, (int, float)) else wide
        step = schema.get("multipleOf", 1 if kind == "integer" else 0.125)
        lo = math.ceil(min(floor, ceiling) / step)
        hi = math.floor(max(floor, ceiling) / step)
        value = draw(st.integers(lo, max(lo, hi))) * step
        if isinstance(step, int):
            return value
        return int(value) if kind == "integer" or float(value).is_integer() else value
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "null":
        return None
    return draw(json_values)


def _mutate(draw: st.DrawFn, value: Any) -> Any:
    """Sometimes change a derived value a little, to land near the boundary."""
    choice = draw(st.integers(0, 5))
    if choice == 0 and isinstance(value, dict) and value:
        value = dict(value)
        del value[draw(st.sampled_from(sorted(value)))]
    elif choice == 1 and isinstance(value, list):
        value = [*value, draw(json_values)]
    elif choice == 2 and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = value + draw(st.sampled_from([1, -1, 0.5, 0.125, 2**60 + 1, 2**53 + 1]))
    elif choice == 3 and isinstance(value, str):
        value = value + draw(st.sampled_from(["a", "b", "x", "1"]))
    return value


@st.composite
def cases(draw: st.DrawFn, draft: str) -> tuple[dict[str, Any], Any]:
    schema = draw(root_schemas(draft))
    if draw(st.integers(0, 2)) == 0:
        instance = draw(json_values)
    else:
        instance = _mutate(draw, _derive(draw, schema, schema))
    return schema, instance


# ---- the oracle -------------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    """A hashable form in which equal JSON values (and only those) are equal: 1 == 1.0 but
    ``true`` != 1, object key order is irrelevant."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (int, float)):
        return ("number", Fraction(value))
    if isinstance(value, str):
        return ("string", value)
    if value is None:
        return ("null",)
    if isinstance(value, list):
        return ("array", tuple(_canonical(v) for v in value))
    return ("object", frozenset((k, _canonical(v)) for k, v in value.items()))


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
    """``uniqueItems`` compared exactly (``jsonschema``'s sort-and-compare-neighbours misses
    ``[[1], [true], [1]]``)."""
    if unique and validator.is_type(instance, "array"):
        canonical = [_canonical(v) for v in instance]
        if len(set(canonical)) != len(canonical):
            yield jsonschema.ValidationError(f"{instance!r} has non-unique elements")


ORACLES = {
    draft: extend(cls, validators={"uniqueItems": _unique_items})
    for draft, cls in (
        ("2020-12", Draft202012Validator),
        ("7", Draft7Validator),
        ("4", Draft4Validator),
    )
}
METASCHEMA_CHECKERS = {"2020-12": Draft202012Validator, "7": Draft7Validator, "4": Draft4Validator}


def _compare(draft: str, schema: dict[str, Any], instance: Any) -> None:
    METASCHEMA_CHECKERS[draft].check_schema(schema)  # the generator's own sanity check
    expected = ORACLES[draft](schema).is_valid(instance)
    errors = validate(instance, schema)
    event(f"valid: {expected}")
    assert (errors == []) == expected, (
        f"jsonschema (draft {draft}) says {'valid' if expected else 'invalid'}, "
        f"trio_claude._jsonschema says {errors or 'valid'}"
    )


def _settings(ci_budget: int) -> settings:
    return settings(
        max_examples=examples(ci_budget),
        derandomize=True,  # the same examples on every run: CI never flakes on a new find
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@_settings(600)
@given(cases("2020-12"))
def test_verdicts_match_jsonschema_draft_2020_12(case):
    _compare("2020-12", *case)


@_settings(250)
@given(cases("7"))
def test_verdicts_match_jsonschema_draft_7(case):
    _compare("7", *case)


@st.composite
def _number_cases(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """Numeric keywords against numbers near their boundaries, integers past 2**53 included."""
    schema: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "type": st.sampled_from(["number", "integer", ["integer", "string"]]),
                "minimum": bounds,
                "maximum": bounds,
                "exclusiveMinimum": bounds,
                "exclusiveMaximum": bounds,
                "multipleOf": st.sampled_from(STEPS),
            },
        )
    )
    step = schema.get("multipleOf", 1)
    # past 2**53 a float no longer holds every integer (and below 2**70: jsonschema divides)
    big = st.integers(2**53, 2**70) | st.integers(-(2**70), -(2**53))
    base = draw(
        st.one_of(
            numbers,
            big,
            big.map(lambda k: k * step),
            st.sampled_from([schema.get(k, 0) for k in ("minimum", "maximum", "exclusiveMinimum")]),
        )
    )
    value = base + draw(st.sampled_from([0, 0, 1, -1, 0.125]))
    return schema, value


@_settings(300)
@given(_number_cases())
def test_verdicts_match_jsonschema_on_numbers(case):
    _compare("2020-12", *case)


@st.composite
def _draft4_number_cases(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    schema: dict[str, Any] = {"type": "number"}
    for key, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if draw(st.booleans()):
            schema[key] = draw(bounds)
            if draw(st.booleans()):
                schema[flag] = draw(st.booleans())
    value = draw(
        st.one_of(
            grid_floats,
            st.integers(-12, 12),
            st.sampled_from([schema.get("minimum", 0), schema.get("maximum", 0)]),
        )
    )
    return schema, value


@_settings(200)
@given(_draft4_number_cases())
def test_verdicts_match_jsonschema_draft_4_exclusive_booleans(case):
    _compare("4", *case)


# ---- the oracle's own fix ------------------------------------------------------------------


def test_the_oracle_fixes_jsonschemas_unique_items():
    schema = {"uniqueItems": True}
    assert not ORACLES["2020-12"](schema).is_valid([[1], [True], [1]])
    assert validate([[1], [True], [1]], schema) != []
    assert ORACLES["2020-12"](schema).is_valid([[1], [True], 1, True, {"a": 1}, {"a": True}])
