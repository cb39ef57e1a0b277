"""The public strategies give each kind they generate a fair share of the examples.

Hypothesis flattens a ``one_of`` nested in another (through ``map``, ``filter``, ``flatmap`` and
``deferred`` too) into one flat list of equally likely branches. Left alone, the 31 ``system``
subtypes took ~70% of ``messages()``, so a run of 100 examples often had no
``AssistantMessage`` at all; message frames took ~95% of ``wire_frames()`` and of the steps of
``fake_turns()`` (control requests: ~0.2%).

These tests count the kinds over a fixed number of examples drawn with a fixed seed.
Hypothesis itself is not uniform over branches (it favours branches with more structure to
vary, makes a value with no variety, like ``None``, about once, and mixes in constants found in
the loaded modules, so even a fixed seed draws a little differently depending on what else was
imported), so the bounds are loose: every kind at least an eighth of its fair share, none above
four times it. Fair strategies stay well inside (over many seeds the rarest message type got
>= 1.4%, fair 7.1%, floor 0.9%; the commonest <= 23%, ceiling 29%); the flattened ones fail by
far (``system`` ~70% of the messages, message frames ~95% of ``wire_frames()``). The tests also
check that every public strategy is one branch, so a user's own
``st.one_of(tcst.messages(), ...)`` is not skewed either.
"""

from __future__ import annotations

import collections
import inspect
from collections.abc import Callable, Hashable
from collections.abc import Set as AbstractSet
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from trio_claude._permissions import PermissionUpdate
from trio_claude._protocol._codec import MESSAGE_CLASSES, message_to_dict
from trio_claude.testing import fake_cli
from trio_claude.testing import strategies as tcst
from trio_claude.types import AssistantMessage, ResultMessage, UnknownMessage

#: Examples drawn per count: enough that a fair share (>= 1/14) is well above the floor.
DRAWS = 500


def draw_many(strategy: SearchStrategy[Any], n: int = DRAWS) -> list[Any]:
    """``n`` examples of ``strategy``, the same ones every run (fixed seed, no database)."""
    drawn: list[Any] = []

    @seed(20240611)
    @settings(
        max_examples=n,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


def shares(values: list[Any], kind: Callable[[Any], Hashable]) -> dict[Hashable, float]:
    counts = collections.Counter(kind(v) for v in values)
    return {k: c / len(values) for k, c in counts.items()}


def assert_balanced(got: dict[Hashable, float], kinds: AbstractSet[Hashable]) -> None:
    """Every kind appears, none below an eighth of its fair share, none above four times it."""
    fair = 1 / len(kinds)
    assert set(got) == kinds, f"kinds missing or unexpected: {set(got) ^ kinds}"
    low = {k: round(s, 3) for k, s in got.items() if s < fair / 8}
    high = {k: round(s, 3) for k, s in got.items() if s > fair * 4}
    assert not low and not high, f"fair share {fair:.3f}; too rare: {low}; too common: {high}"


def message_kind(message: Any) -> str:
    if isinstance(message, UnknownMessage):
        return "unknown"
    return str(message_to_dict(message)["type"])


def test_messages_gives_every_top_level_type_a_fair_share() -> None:
    got = shares(draw_many(tcst.messages()), message_kind)
    assert_balanced(got, {*MESSAGE_CLASSES, "unknown"})


def test_messages_without_results_or_unknown_types_stays_balanced() -> None:
    values = draw_many(tcst.messages(results=False, unknown=False))
    got = shares(values, message_kind)
    assert_balanced(got, set(MESSAGE_CLASSES) - {"result"})
    assert not any(isinstance(v, (ResultMessage, UnknownMessage)) for v in values)


def test_message_frames_give_every_top_level_type_a_fair_share() -> None:
    got = shares(draw_many(tcst.message_frames()), lambda f: f["type"])
    known = set(MESSAGE_CLASSES)
    unknown = sum(s for k, s in got.items() if k not in known)
    assert_balanced({**{k: s for k, s in got.items() if k in known}, "unknown": unknown},
                    {*known, "unknown"})  # fmt: skip


def frame_family(frame: dict[str, Any]) -> str:
    if frame["type"] == "system" and frame.get("subtype") == "session_state_changed":
        return "session_state"
    if frame["type"] in tcst.PLUMBING_TYPES:
        return str(frame["type"])
    return "message"


def test_wire_frames_gives_each_family_of_frames_a_fair_share() -> None:
    got = shares(draw_many(tcst.wire_frames()), frame_family)
    assert_balanced(got, {"message", "session_state", *tcst.PLUMBING_TYPES})
    got = shares(draw_many(tcst.wire_frames(control=False), n=200), frame_family)
    assert_balanced(got, {"message", "session_state", "keep_alive", "transcript_mirror"})


def step_kind(step: Any) -> str:
    if isinstance(step, fake_cli.Emit):
        return "keep_alive" if step.frame.get("type") == "keep_alive" else "message"
    return type(step).__name__


@pytest.mark.parametrize("sleeps", [True, False])
def test_fake_turns_give_each_kind_of_step_a_fair_share(sleeps: bool) -> None:
    turns = draw_many(tcst.fake_turns(sleeps=sleeps), n=200)
    steps = [step for turn in turns for step in turn.steps[:-1]]  # the last is the result
    kinds = {"message", "keep_alive", "Text", "ToolUse", "Raw", "Request", "Sleep"}
    if not sleeps:
        kinds.discard("Sleep")
    assert_balanced(shares(steps, step_kind), kinds)


def hook_output_kind(value: Any) -> str:
    from trio_claude._hooks import HookOutput

    if value is None:
        return "none"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, HookOutput):
        return "HookOutput"
    return "specific"


def test_hook_outputs_give_each_form_a_fair_share() -> None:
    got = shares(draw_many(tcst.hook_outputs()), hook_output_kind)
    assert set(got) == {"none", "dict", "HookOutput", "specific"}  # None: made about once
    # The ~10 events' bare outputs are one form, not ten (they took ~87% when flattened).
    assert got["specific"] < 0.5 and got["dict"] > 0.05 and got["HookOutput"] > 0.2, got


@attrs.frozen
class _Holder:
    update: PermissionUpdate | None


# Where Hypothesis's own bias towards richer branches would drown the effect in a count, check
# the structure: how many branches the choice offers.


@pytest.mark.parametrize(
    "annotation",
    [PermissionUpdate | None, float | None, PermissionUpdate | float | None],
    ids=["attrs-class-or-none", "float-or-none", "three-members"],
)
def test_a_union_field_offers_one_branch_per_member(annotation: Any) -> None:
    # PermissionUpdate's strategy is a choice of three kinds, float's of float and int: each
    # member still counts once, so None is not a quarter or a third but a fair share.
    strategy = tcst._for_type(annotation)
    assert len(strategy.branches) == len(annotation.__args__)


def test_hook_event_names_offer_known_and_unknown_names_as_two_branches() -> None:
    assert len(tcst._hook_event_names().branches) == 2


# ---------------------------------------------------------------------------------------------
# Every public strategy is one branch of a user's own one_of
# ---------------------------------------------------------------------------------------------

#: Arguments for the public strategy functions that need some.
ARGUMENTS: dict[str, tuple[Any, ...]] = {
    "chunkings": (b"abcdef",),
    "long_lines": (10,),
    "instances": (PermissionUpdate,),
    "from_attrs": (_Holder,),
}


def public_strategy_functions() -> list[str]:
    names = []
    for name in tcst.__all__:
        obj = getattr(tcst, name)
        if inspect.isfunction(obj) and name not in {"ndjson", "hook_input_to_wire"}:
            names.append(name)
    return names


@pytest.mark.parametrize("name", public_strategy_functions())
def test_every_public_strategy_is_one_branch(name: str) -> None:
    strategy = getattr(tcst, name)(*ARGUMENTS.get(name, ()))
    assert isinstance(strategy, SearchStrategy)
    # What Hypothesis would splice into an enclosing one_of: one branch, not its members.
    assert len(st.one_of(st.none(), strategy).branches) == 2, strategy


@pytest.mark.parametrize("cls", [AssistantMessage, PermissionUpdate, UnknownMessage])
def test_instances_are_one_branch(cls: type[Any]) -> None:
    assert len(st.one_of(st.none(), tcst.instances(cls)).branches) == 2
