"""A conformance kit for :class:`~trio_claude.SessionStore` implementations.

Call :func:`run_session_store_conformance` from an async (pytest-trio) test of your store::

    from trio_claude.testing.session_store_conformance import run_session_store_conformance

    async def test_my_store_conforms():
        result = await run_session_store_conformance(lambda: MyStore(dsn=...))
        assert not result.skipped          # if the store implements every optional method

It checks the 14 contracts below, one fresh store each (``make_store`` is called once per
contract and once to probe which optional methods exist; it may be sync or async, and should
give an empty, isolated store). Contracts of an optional method the store lacks (missing, or
raising :class:`NotImplementedError` when probed with a key never written), or that is named in
``skip_optional``, are skipped. A broken contract raises :class:`AssertionError` naming
it (the checks are not ``assert`` statements, so they also run under ``python -O``).

Required (``append`` / ``load``):

1. ``load`` returns what was appended, deep-equal, in order; a batch as big as the mirror
   sends (``MAX_BATCH_ENTRIES`` entries, about ``MAX_BATCH_BYTES``) included.
2. ``load`` of a key never written (or of an unknown subpath) is ``None``.
3. Several ``append`` calls keep call order.
4. ``append(key, [])`` changes nothing.
5. Subpath keys are independent of the main key.
6. Project keys are isolated.

Optional:

7. ``list_sessions`` lists a project's sessions with epoch-millisecond mtimes.
8. ``list_sessions`` leaves out subpath keys.
9. ``delete`` of a main key: ``load`` gives ``None`` (deleting an unknown key is fine).
10. ``delete`` of a main key cascades to its subkeys, and only to them.
11. ``delete`` of a subkey removes only that subkey.
12. ``list_subkeys`` returns the subpaths of a session, and only of it.
13. ``list_subkeys`` leaves out the main transcript.
14. ``list_session_summaries`` returns, per main key, the verbatim fold of everything appended
    (:func:`~trio_claude.fold_session_summary`), stamped in epoch milliseconds; subkeys do not
    contribute; ``delete`` removes the summary.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable
from typing import Any, cast

import attrs

from .._session_store import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ENTRIES,
    SessionKey,
    SessionListSubkeysKey,
    SessionStore,
    SessionStoreEntry,
    fold_session_summary,
)

__all__ = ["OPTIONAL_METHODS", "ConformanceResult", "run_session_store_conformance"]

#: The optional :class:`~trio_claude.SessionStore` methods.
OPTIONAL_METHODS = frozenset({"list_sessions", "list_session_summaries", "delete", "list_subkeys"})

_KEY: SessionKey = {"project_key": "proj", "session_id": "sess"}
_SUB1: SessionKey = {**_KEY, "subpath": "subagents/agent-1"}
_SUB2: SessionKey = {**_KEY, "subpath": "subagents/agent-2"}


@attrs.frozen
class ConformanceResult:
    """What :func:`run_session_store_conformance` checked.

    Attributes:
        passed: Names of the contracts that held.
        skipped: Names of the contracts skipped (optional method missing or skipped).
    """

    passed: tuple[str, ...]
    skipped: tuple[str, ...]


def _entry(**fields: Any) -> SessionStoreEntry:
    # Entries are opaque to stores; "type" is the only field every entry has.
    entry: dict[str, Any] = {"type": "x", **fields}
    return cast(SessionStoreEntry, entry)


def _subkeys_key(key: SessionKey) -> SessionListSubkeysKey:
    return {"project_key": key["project_key"], "session_id": key["session_id"]}


class _Checker:
    def __init__(self) -> None:
        self.contract = ""

    def check(self, condition: bool, detail: str) -> None:
        if not condition:
            raise AssertionError(f"SessionStore contract {self.contract} broken: {detail}")


async def run_session_store_conformance(
    make_store: Callable[[], SessionStore | Awaitable[SessionStore]],
    *,
    skip_optional: frozenset[str] | set[str] = frozenset(),
) -> ConformanceResult:
    """Checks a store implementation against the :class:`~trio_claude.SessionStore` contracts.

    Args:
        make_store: Returns a new, empty store (sync or async).
        skip_optional: Optional methods not to test even if present (``"list_sessions"``,
            ``"list_session_summaries"``, ``"delete"``, ``"list_subkeys"``).

    Returns:
        The contracts that passed and those skipped.

    Raises:
        AssertionError: A contract does not hold (the message names it).
        ValueError: ``skip_optional`` names an unknown method.
    """
    unknown = set(skip_optional) - OPTIONAL_METHODS
    if unknown:
        raise ValueError(f"unknown optional methods in skip_optional: {sorted(unknown)}")

    async def fresh() -> Any:
        made = make_store()
        if inspect.isawaitable(made):
            return await made
        return made

    probe = await fresh()
    _check_async(probe)
    has = {
        name: name not in skip_optional and await _supports(probe, name)
        for name in sorted(OPTIONAL_METHODS)
    }
    passed: list[str] = []
    skipped: list[str] = []
    c = _Checker()

    def start(name: str) -> None:
        c.contract = name

    # 1
    start("1 append-then-load")
    store = await fresh()
    first = [
        _entry(uuid="b", n=1, nested={"list": [1, 2.5, None, True], "text": "h\u00e9 \u2603"}),
        _entry(uuid="a", n=2),
    ]
    await store.append(_KEY, first)
    loaded = await store.load(_KEY)
    c.check(loaded == first, f"load returned {loaded!r}, appended {first!r}")
    # A batch as big as the mirror sends (MAX_BATCH_ENTRIES entries, ~MAX_BATCH_BYTES): a
    # store that kept a database's per-call item limit (25, say) lost the rest silently.
    big_key: SessionKey = {"project_key": "proj", "session_id": "big-batch"}
    pad = "x" * (MAX_BATCH_BYTES // MAX_BATCH_ENTRIES - 100)
    big = [_entry(uuid=f"u{i:04d}", n=i, pad=pad) for i in range(MAX_BATCH_ENTRIES)]
    await store.append(big_key, big)
    loaded = await store.load(big_key)
    count = len(loaded) if isinstance(loaded, list) else loaded
    c.check(loaded == big, f"a batch of {len(big)} entries loaded as {count!r} entries")
    passed.append(c.contract)

    # 2
    start("2 load-unknown-is-None")
    store = await fresh()
    c.check(await store.load({"project_key": "proj", "session_id": "nope"}) is None, "main key")
    await store.append(_KEY, [_entry(uuid="x")])
    c.check(await store.load({**_KEY, "subpath": "nope"}) is None, "unknown subpath")
    passed.append(c.contract)

    # 3
    start("3 append-order")
    store = await fresh()
    batches = [[_entry(uuid="z")], [_entry(uuid="a"), _entry(uuid="m")], [_entry(uuid="b")]]
    for batch in batches:
        await store.append(_KEY, batch)
    loaded = await store.load(_KEY)
    c.check(loaded == [e for b in batches for e in b], f"order lost: {loaded!r}")
    if getattr(store, "idempotent_appends", False) is True:
        # What the flag promises the mirror, which sends a batch again after a cut-short append.
        await store.append(_KEY, [*batches[1], _entry(uuid="n")])
        again = await store.load(_KEY)
        c.check(
            again == [*loaded, _entry(uuid="n")],
            f"idempotent_appends is set, but appending stored uuids again gave {again!r}",
        )
    passed.append(c.contract)

    # 4
    start("4 empty-append-is-noop")
    store = await fresh()
    await store.append(_KEY, [_entry(uuid="a")])
    await store.append(_KEY, [])
    c.check(await store.load(_KEY) == [_entry(uuid="a")], "append([]) changed the entries")
    passed.append(c.contract)

    # 5
    start("5 subpath-independent")
    store = await fresh()
    await store.append(_KEY, [_entry(uuid="m")])
    await store.append(_SUB1, [_entry(uuid="s")])
    c.check(await store.load(_KEY) == [_entry(uuid="m")], "main key sees subkey entries")
    c.check(await store.load(_SUB1) == [_entry(uuid="s")], "subkey sees main key entries")
    passed.append(c.contract)

    # 6
    start("6 project-isolation")
    store = await fresh()
    key_a: SessionKey = {"project_key": "A", "session_id": "s1"}
    key_b: SessionKey = {"project_key": "B", "session_id": "s1"}
    await store.append(key_a, [_entry(origin="A")])
    await store.append(key_b, [_entry(origin="B")])
    c.check(await store.load(key_a) == [_entry(origin="A")], "project A sees B")
    c.check(await store.load(key_b) == [_entry(origin="B")], "project B sees A")
    if has["list_sessions"]:
        c.check(len(await store.list_sessions("A")) == 1, "list_sessions('A') mixes projects")
    passed.append(c.contract)

    # 7, 8
    if has["list_sessions"]:
        start("7 list-sessions")
        store = await fresh()
        for project, session in (("proj", "a"), ("proj", "b"), ("other", "c")):
            await store.append({"project_key": project, "session_id": session}, [_entry(n=1)])
        listed = list(await store.list_sessions("proj"))
        c.check(sorted(s["session_id"] for s in listed) == ["a", "b"], f"listed {listed!r}")
        c.check(
            all(_is_epoch_ms(s["mtime"]) for s in listed),
            f"mtime must be epoch milliseconds: {listed!r}",
        )
        c.check(list(await store.list_sessions("never-used")) == [], "unknown project not empty")
        passed.append(c.contract)

        start("8 list-sessions-excludes-subpaths")
        store = await fresh()
        await store.append(_KEY, [_entry(n=1)])
        await store.append(_SUB1, [_entry(n=1)])
        ids = [s["session_id"] for s in await store.list_sessions("proj")]
        c.check(ids == ["sess"], f"listed {ids!r}")
        passed.append(c.contract)
    else:
        skipped += ["7 list-sessions", "8 list-sessions-excludes-subpaths"]

    # 9, 10, 11
    if has["delete"]:
        start("9 delete-main")
        store = await fresh()
        await store.delete({"project_key": "proj", "session_id": "never-written"})
        await store.append(_KEY, [_entry(n=1)])
        await store.delete(_KEY)
        c.check(await store.load(_KEY) is None, "load after delete is not None")
        passed.append(c.contract)

        start("10 delete-cascades")
        store = await fresh()
        other: SessionKey = {"project_key": "proj", "session_id": "sess2"}
        other_project: SessionKey = {"project_key": "other-proj", "session_id": "sess"}
        for key in (_KEY, _SUB1, _SUB2, other, other_project):
            await store.append(key, [_entry(n=1)])
        await store.delete(_KEY)
        for key in (_KEY, _SUB1, _SUB2):
            c.check(await store.load(key) is None, f"{key!r} survived deleting the session")
        for key in (other, other_project):
            c.check(await store.load(key) == [_entry(n=1)], f"{key!r} was deleted too")
        if has["list_subkeys"]:
            c.check(await store.list_subkeys(_subkeys_key(_KEY)) == [], "subkeys still listed")
        if has["list_sessions"]:
            ids = [s["session_id"] for s in await store.list_sessions("proj")]
            c.check("sess" not in ids, "deleted session still listed")
        passed.append(c.contract)

        start("11 delete-subkey-only")
        store = await fresh()
        for key in (_KEY, _SUB1, _SUB2):
            await store.append(key, [_entry(n=1)])
        await store.delete(_SUB1)
        c.check(await store.load(_SUB1) is None, "deleted subkey still loads")
        c.check(await store.load(_SUB2) == [_entry(n=1)], "sibling subkey was deleted")
        c.check(await store.load(_KEY) == [_entry(n=1)], "main key was deleted")
        if has["list_subkeys"]:
            subkeys = list(await store.list_subkeys(_subkeys_key(_KEY)))
            c.check(subkeys == ["subagents/agent-2"], f"subkeys {subkeys!r}")
        passed.append(c.contract)
    else:
        skipped += ["9 delete-main", "10 delete-cascades", "11 delete-subkey-only"]

    # 12, 13
    if has["list_subkeys"]:
        start("12 list-subkeys")
        store = await fresh()
        await store.append(_KEY, [_entry(n=1)])
        await store.append(_SUB1, [_entry(n=1)])
        await store.append(_SUB2, [_entry(n=1)])
        await store.append(
            {"project_key": "proj", "session_id": "other", "subpath": "subagents/agent-x"},
            [_entry(n=1)],
        )
        subkeys = sorted(await store.list_subkeys(_subkeys_key(_KEY)))
        c.check(subkeys == ["subagents/agent-1", "subagents/agent-2"], f"subkeys {subkeys!r}")
        passed.append(c.contract)

        start("13 list-subkeys-excludes-main")
        store = await fresh()
        await store.append(_KEY, [_entry(n=1)])
        c.check(await store.list_subkeys(_subkeys_key(_KEY)) == [], "main key listed")
        never: SessionListSubkeysKey = {"project_key": "proj", "session_id": "never"}
        c.check(await store.list_subkeys(never) == [], "unknown session has subkeys")
        passed.append(c.contract)
    else:
        skipped += ["12 list-subkeys", "13 list-subkeys-excludes-main"]

    # 14
    if has["list_session_summaries"]:
        start("14 session-summaries")
        store = await fresh()
        summ_key: SessionKey = {"project_key": "proj", "session_id": "summ-sess"}
        batch1 = [
            _entry(timestamp="2024-01-01T00:00:00.000Z", customTitle="first", cwd="/w"),
            _entry(
                type="user",
                timestamp="2024-01-01T00:00:01.000Z",
                message={"role": "user", "content": "hello"},
            ),
        ]
        batch2 = [_entry(timestamp="2024-01-01T00:00:02.000Z", customTitle="second")]
        await store.append(summ_key, batch1)
        await store.append(summ_key, batch2)
        await store.append(
            {**summ_key, "subpath": "subagents/agent-1"},
            [_entry(customTitle="from a subagent", isSidechain=True)],
        )
        await store.append(
            {"project_key": "other", "session_id": "elsewhere"},
            [_entry(timestamp="2024-01-01T00:00:00.000Z")],
        )
        summaries = list(await store.list_session_summaries("proj"))
        by_id = {s["session_id"]: s for s in summaries}
        c.check(set(by_id) == {"summ-sess"}, f"summaries for {sorted(by_id)!r}")
        summary = by_id["summ-sess"]
        c.check(_is_epoch_ms(summary["mtime"]), f"mtime {summary['mtime']!r} not epoch ms")
        expected = fold_session_summary(None, summ_key, batch1 + batch2)["data"]
        c.check(
            summary["data"] == expected,
            f"data is not the verbatim fold of the main entries: {summary['data']!r}",
        )
        refolded = fold_session_summary(summary, summ_key, [_entry(customTitle="third")])
        c.check(refolded["data"].get("custom_title") == "third", "data does not refold")
        c.check(list(await store.list_session_summaries("never-used")) == [], "unknown project")
        if has["delete"]:
            await store.delete(summ_key)
            c.check(list(await store.list_session_summaries("proj")) == [], "kept after delete")
        passed.append(c.contract)
    else:
        skipped.append("14 session-summaries")

    return ConformanceResult(passed=tuple(passed), skipped=tuple(skipped))


def _check_async(store: Any) -> None:
    """``append`` and ``load`` must be coroutine functions: a plain ``def`` failed the first
    contract with a bare ``TypeError`` (``object list can't be used in 'await' expression``)."""
    for name in ("append", "load"):
        method = getattr(store, name, None)
        if not callable(method):
            raise AssertionError(f"session store contract: the store has no {name}()")
        if not inspect.iscoroutinefunction(method):
            raise AssertionError(
                f"session store contract: {name} must be async (async def {name}(self, ...)),"
                f" not {type(method).__name__}"
            )


async def _supports(store: Any, name: str) -> bool:
    # Present, and does not raise NotImplementedError when called on a key never written
    # (stores subclassing a protocol with "not implemented" defaults).
    method = getattr(store, name, None)
    if not callable(method):
        return False
    never: SessionKey = {"project_key": "conformance-probe", "session_id": "never-written"}
    argument: Any = never["project_key"] if name.startswith("list_session") else never
    try:
        await method(argument)
    except NotImplementedError:
        return False
    return True


def _is_epoch_ms(value: object) -> bool:
    # Epoch milliseconds are above 1e12 since 2001; epoch seconds are not.
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 1e12
