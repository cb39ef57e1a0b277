"""Adversarial review of sitting 15's changes (cf303e7..6a5fbb4): each test here fails on
6a5fbb4; its docstring says what goes wrong, where, and what would fix it."""

from __future__ import annotations

import gc
import os
import traceback
import weakref
from typing import Any

import pytest
import trio

import trio_claude as tc
from trio_claude._session import Session
from trio_claude.testing.fake_cli import Emit, FakeCLITransport, FakeScript, FakeTurn, Result, Text

KEY = "sk-ant-api03-" + "Qw7" * 30  # shaped like a real Anthropic key
# A credential with no known shape: only masking by name (or by value) can catch it.
OPAQUE_TOKEN = "Zq8vK2mLr5Tx9Wb3Np6Hd4Jf"


def _shown(error: BaseException) -> str:
    """What an error shows: its text, repr and whole traceback (causes and contexts too)."""
    return str(error) + "\n" + repr(error) + "\n" + "".join(traceback.format_exception(error))


# ------------------------------------------------ 1. output_handling_failed: the chain


async def test_an_output_handling_failure_raised_in_an_except_keeps_the_key_in_its_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``output_handling_failed`` (``_session.py:1822``) masks the failure's own ``args`` and
    clears its traceback's frames, but leaves the rest of its chain alone: a failure raised
    while handling another (``except KeyError: raise TypeError(...)``, the usual shape of a
    decoding bug) carries that other exception as ``__context__`` (or ``__cause__`` with
    ``from``), and its text, quoting the frame (the key the CLI echoed in it), is printed by
    every traceback of the ``SessionClosedError`` (``error.__cause__.__context__``).
    Fix: walk ``__cause__``/``__context__`` (and ``ExceptionGroup.exceptions``) and mask each
    exception's args the same way (and clear each one's frames), or keep as the cause a new
    exception carrying only the masked ``redact_exception`` text."""
    handle = Session._handle_events

    def failing_handle_plain(self: Session, events: list[Any], nbytes: int) -> None:
        for event in events:
            raw = getattr(event, "raw", None) or getattr(
                getattr(event, "message", None), "raw", None
            )
            if isinstance(raw, dict) and raw.get("subtype") == "sweep_probe":
                try:
                    raise KeyError(f"no field 'level' in {raw!r}")
                except KeyError:
                    raise TypeError("cannot handle a system frame")  # noqa: B904
        handle(self, events, nbytes)

    monkeypatch.setattr(Session, "_handle_events", failing_handle_plain)
    probe = {"type": "system", "subtype": "sweep_probe", "detail": f"x-api-key={KEY}"}
    script = FakeScript(turns=[FakeTurn(steps=[Emit(probe), Text("hi"), Result()])])
    options = tc.ClaudeAgentOptions(
        transport=FakeCLITransport(script), env={"ANTHROPIC_API_KEY": KEY}
    )
    with trio.fail_after(30):
        with pytest.raises(tc.SessionClosedError) as info:
            async with tc.open_session(options) as session:
                await session.run("go")
    shown = _shown(info.value)
    assert "cannot handle a system frame" in shown
    assert KEY not in shown, "the key is printed by the cause's context"
    assert KEY[20:60] not in shown


# ------------------------------------------------ 2. schema_problem refuses tuples


@pytest.mark.parametrize(
    "schema",
    [
        pytest.param(
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ("a",)},
            id="required-tuple",
        ),
        pytest.param(
            {"type": "object", "properties": {"a": {"type": "string", "enum": ("x", "y")}}},
            id="enum-tuple",
        ),
        pytest.param(
            {"type": "object", "properties": {"a": {"type": ("string", "null")}}},
            id="type-tuple",
        ),
        pytest.param(
            {
                "type": "object",
                "properties": {"a": {"anyOf": ({"type": "string"}, {"type": "integer"})}},
            },
            id="anyOf-tuple",
        ),
    ],
)
def test_a_tool_schema_with_tuples_for_json_arrays_is_still_accepted(schema: Any) -> None:
    """``schema_problem`` (``_jsonschema.py:351``) checks ``required``, ``enum``, ``type``
    and ``anyOf``/``oneOf``/``allOf``/``prefixItems`` with ``isinstance(..., list)``: a
    Python schema written with tuples (``"required": ("a",)``, ``"type": ("string",
    "null")``) is now refused by ``@tool`` with ``TypeError: its JSON Schema is misshapen``.
    It was accepted until 9157118 and works: the schema reaches the CLI through orjson,
    which writes a tuple as a JSON array, and the SDK's own ``validate`` (whose
    ``_JSON_VALUES`` counts tuples as arrays) validates arguments against it correctly.
    Fix: accept ``(list, tuple)`` wherever a JSON array is expected."""

    async def handler(args: Any) -> dict[str, Any]:
        return {"content": []}

    made = tc.tool("t", "a tool", schema)(handler)  # type: ignore[no-untyped-call]
    assert made.name == "t"


# ------------------------------------------------ 3. per-run RunVars per store instance


async def test_sql_stores_dropped_in_a_long_trio_run_are_not_kept_alive_by_the_run(
    tmp_path: Any,
) -> None:
    """``ConnectionPool.limiter`` and ``SQLSessionStore._locks`` (``stores/_common.py:165``,
    ``:290``) keep their per-run objects in a ``RunVar`` made per store instance. A RunVar's
    value lives in the run's own table (keyed by the RunVar) until the run ends, whatever
    happens to the store: a long-lived trio run (a server) that makes a store per tenant or
    per request, uses it and drops it, keeps a CapacityLimiter, a Lock and a KeyLocks (and
    the RunVar itself) per store it ever made, for as long as it runs. (The RunVar of
    ``_own_threads`` is one per module: fine.)
    Fix: one module-level RunVar holding a ``weakref.WeakKeyDictionary`` from store (or
    pool) to its per-run objects, so a dropped store takes them with it."""
    from trio_claude.stores import SQLiteSessionStore

    key: Any = {"project_key": "p", "session_id": "s"}
    refs: list[weakref.ref[Any]] = []
    with trio.fail_after(60):
        for index in range(10):
            store = SQLiteSessionStore(os.path.join(tmp_path, f"store{index}.db"))
            try:
                await store.append(key, [{"type": "user", "uuid": f"u{index}"}])
                assert await store.load(key) is not None
                refs.append(weakref.ref(store._pool.limiter))
                refs.append(weakref.ref(store._locks()[1]))
            finally:
                await store.aclose()
            del store
    gc.collect()
    kept = sum(ref() is not None for ref in refs)
    assert kept == 0, f"{kept} per-run objects of dropped stores are still alive in the run"


# ------------------------------------------------ 4. the built-in store's cut-short batch


async def test_a_deadline_as_the_in_memory_store_append_begins_loses_nothing(
    tmp_path: Any,
) -> None:
    """``TranscriptMirror.flush`` (``_mirror.py:284``) now gives up (reports, never re-sends)
    the batch whose append was cut short, unless the store declares ``idempotent_appends``.
    The SDK's own ``InMemorySessionStore`` does not, yet its ``append`` stores nothing before
    its one checkpoint and everything after it: a cancellation can only ever cut it short
    *before* it stored anything, so sending the batch again is always safe (and is what
    happened until c4bb8a9). Now a deadline around a flush that lands as the append begins
    (a pull ``query()`` under ``move_on_after``, whose flush runs in ``__anext__``) loses the
    batch for good and delivers a ``mirror_error`` for a store that is in perfect health.
    Fix: ``InMemorySessionStore`` skips entries whose uuid it holds and sets
    ``idempotent_appends = True`` (or a separate flag for "a cancelled append stored
    nothing", which the mirror may also trust)."""
    from trio_claude._mirror import TranscriptMirror
    from trio_claude._session_store import InMemorySessionStore

    inner = InMemorySessionStore()

    class DeadlineAsAppendBegins:
        """The stock store; the caller's deadline expires just as its append starts."""

        scope: trio.CancelScope | None = None
        idempotent_appends = inner.idempotent_appends  # the stock store's promise, passed on

        def append(self, key: Any, entries: list[Any]) -> Any:
            if self.scope is not None:
                self.scope.cancel()
                self.scope = None
            return inner.append(key, entries)  # the stock coroutine, awaited by the mirror

        def load(self, key: Any) -> Any:
            return inner.load(key)

    store = DeadlineAsAppendBegins()
    projects = tmp_path / "projects"
    reported: list[dict[str, Any]] = []
    mirror = TranscriptMirror(
        store,
        projects,
        eager=False,
        report_error=reported.append,
    )
    entries = [{"type": "user", "uuid": f"u{i}", "n": i} for i in range(3)]
    mirror.add(str(projects / "proj" / "sess.jsonl"), entries)
    with trio.fail_after(30):
        with trio.CancelScope() as scope:
            store.scope = scope
            await mirror.flush()
        assert scope.cancelled_caught
        await mirror.flush()  # the next flush (the session's closing one, say)
    loaded = await inner.load({"project_key": "proj", "session_id": "sess"})
    assert reported == [], f"a healthy store was reported as failing: {reported!r}"
    assert loaded is not None and [e["uuid"] for e in loaded] == ["u0", "u1", "u2"], loaded


# ------------------------------------------------ 5. executable_args repr


def test_repr_of_options_masks_the_value_after_a_secret_named_flag_in_executable_args() -> None:
    """``executable_args`` got ``repr=redact_repr`` (``_options.py:1162``, "masked in the
    launch's argv too"), but ``redact_repr`` masks by shape and by mapping key only: the
    usual ``("--auth-token", "<value>")`` pair of a runtime flag keeps an opaque value in
    the options' repr, while ``LaunchSpec``'s repr of the very same argv masks it
    (``_argv_repr`` masks the argument after a secret-named flag).
    Fix: give ``executable_args`` a repr that applies ``_argv_repr``'s flag-pair rule."""
    options = tc.ClaudeAgentOptions(executable_args=("--auth-token", OPAQUE_TOKEN))
    assert OPAQUE_TOKEN not in repr(options)


# ------------------------------------------------ 6. a harmless extra_args refused


def test_can_use_tool_with_extra_args_permission_prompt_tool_stdio_is_accepted() -> None:
    """``_check_combinations`` (``_options.py:1854``) refuses ``can_use_tool`` together with
    any ``extra_args['permission-prompt-tool']``, saying "the callback would never be
    called". That holds for another tool's name, but ``'stdio'`` is exactly the flag the SDK
    passes for ``can_use_tool`` (the CLI taking the last of two equal flags changes nothing):
    a harmless (and, from CLI invocations, commonly copied) setting now refuses to start.
    Fix: refuse only a value other than ``'stdio'``."""

    async def allow(tool: str, args: Any, context: Any) -> Any:
        return tc.PermissionResultAllow()

    from trio_claude._options import validate_options

    validate_options(
        tc.ClaudeAgentOptions(can_use_tool=allow, extra_args={"permission-prompt-tool": "stdio"})
    )
