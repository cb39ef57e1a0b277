"""Rule 2 of ``_protocol/_lifecycle.py``: a prompt the CLI dropped before it ran ends its turn
(``command_lifecycle`` ``cancelled``/``discarded``); one it said it started does not, unless it
was queued again since (the CLI requeues a prompt it had taken, ``interrupt_requeue_taken``)."""

from __future__ import annotations

import pytest

from trio_claude._protocol._lifecycle import Lifecycle

A, B = "aaaaaaaa-0000-4000-8000-00000000000a", "bbbbbbbb-0000-4000-8000-00000000000b"


def running() -> Lifecycle:
    lifecycle = Lifecycle()
    lifecycle.started()
    lifecycle.initialized()
    lifecycle.prompt_sent(A)
    lifecycle.prompt_sent(B)
    return lifecycle


@pytest.mark.parametrize("state", ["cancelled", "discarded"])
def test_a_dropped_prompt_ends_its_turn(state: str) -> None:
    lifecycle = running()
    ended = lifecycle.turns_ended
    lifecycle.prompt_state(B, "queued")
    lifecycle.prompt_state(B, state)
    assert lifecycle.open_turns == (A,)
    assert lifecycle.turns_ended == ended + 1


def test_a_started_prompt_ends_at_its_result_only() -> None:
    lifecycle = running()
    lifecycle.prompt_state(A, "started")
    lifecycle.prompt_state(A, "cancelled")
    assert lifecycle.open_turns == (A, B)


def test_a_prompt_queued_again_after_it_started_can_be_dropped() -> None:
    lifecycle = running()
    lifecycle.prompt_state(A, "started")
    lifecycle.prompt_state(A, "queued")
    lifecycle.prompt_state(A, "cancelled")
    assert lifecycle.open_turns == (B,)


def test_frames_about_prompts_with_no_open_turn_change_nothing() -> None:
    lifecycle = running()
    lifecycle.prompt_state("cccccccc-0000-4000-8000-00000000000c", "cancelled")
    lifecycle.prompt_state(A, "some future state")
    assert lifecycle.open_turns == (A, B)
