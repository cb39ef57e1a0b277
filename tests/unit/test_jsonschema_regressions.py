"""Regressions in ``trio_claude._jsonschema.validate`` found by differential fuzzing against the
``jsonschema`` package (tests/fuzz/test_jsonschema_differential.py)."""

from __future__ import annotations

import pytest

from trio_claude._jsonschema import validate


@pytest.mark.parametrize(
    ("instance", "schema", "valid"),
    [
        # multipleOf on integers past 2**53 went through a float remainder: 2**53 + 1 "was" even
        (2**53 + 1, {"multipleOf": 2}, False),
        (2**63 - 2, {"multipleOf": 2}, True),
        (2**64 + 3, {"multipleOf": 3}, False),
        (-(2**60) - 1, {"type": "integer", "multipleOf": 2}, False),
        # and an integer beyond the float range raised OverflowError
        (10**400, {"multipleOf": 3}, False),
        (3 * 10**400, {"multipleOf": 3}, True),
        (10**400, {"multipleOf": 0.5}, True),
        (10**400 + 1, {"multipleOf": 0.5}, True),
        (10**400, {"multipleOf": 0.3}, False),
        # the float tolerance is kept: 0.3 is a multiple of 0.1
        (0.3, {"multipleOf": 0.1}, True),
        (0.35, {"multipleOf": 0.1}, False),
        # counts written as integral floats (valid JSON Schema from draft 6 on) were ignored
        ("a", {"minLength": 2.0}, False),
        ("abc", {"maxLength": 2.0}, False),
        ([1, 2, 3], {"maxItems": 2.0}, False),
        ([], {"minItems": 1.0}, False),
        ({"a": 1}, {"maxProperties": 0.0}, False),
        ({}, {"minProperties": 1.0}, False),
        ([1, 2], {"minItems": 2.0, "maxItems": 2.0}, True),
        # a count that is not an integer is not a count: ignored, as before
        ("a", {"minLength": 1.5}, True),
    ],
)
def test_found_by_differential_fuzzing(instance, schema, valid):
    assert (validate(instance, schema) == []) is valid


def test_count_errors_name_the_count_as_an_integer():
    assert validate("a", {"minLength": 2.0}) == ["input: needs at least 2 characters"]
    assert validate([1, 2, 3], {"maxItems": 2.0}) == ["input: allows at most 2 items"]
