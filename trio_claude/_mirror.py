"""Mirroring the CLI's transcript into a :class:`~trio_claude.SessionStore`, and resuming from one.

With ``session_store`` set the CLI runs with ``--session-mirror`` and sends every transcript
line it writes as a ``transcript_mirror`` frame. The reader hands those to a
:class:`TranscriptMirror` (never waiting on the store); a flusher task in the session's nursery
appends them in batches: at every result, above 500 entries or 1 MiB, or at every frame with
``session_store_flush="eager"``. Each append is bounded (60 s), tried 3 times (0.2 s, 0.8 s
apart; timeouts are not retried), and a final failure reaches the user as a
``system/mirror_error`` message. Closing the session flushes what is left (shielded, bounded).

Resuming (``resume=`` or ``continue_conversation=True``) with a store first writes the stored
transcript into a temporary config directory that the CLI is pointed at. The user's own
configuration is copied there too, from where the CLI would have read it (see
:func:`copy_user_config`): credentials, the global config (``.claude.json``) and the user
settings, so a resumed CLI authenticates and behaves as a fresh one would.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import os
import shutil
import stat
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import orjson
import trio

from ._errors import ConfigurationError
from ._protocol._codec import decode_message, dumps_from_cli, nested_too_deeply
from ._redact import Environment, describe_exception, redact
from ._session_store import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ENTRIES,
    SessionKey,
    SessionStore,
    _call_optional,
    _load_main,
    _Unsupported,
    file_path_to_session_key,
    materialize_loaded,
    materialize_session_from_store,
    project_key_for_directory,
)
from ._sessions import SessionNotFoundError
from ._sessions._transcript import validate_uuid

if TYPE_CHECKING:
    from ._options import ClaudeAgentOptions
    from ._transport._base import LaunchSpec

__all__ = ["TranscriptMirror", "copy_user_config", "prepare_store_resume", "resume_from_store"]

logger = logging.getLogger("trio_claude")

_APPEND_TIMEOUT = 60.0
_CUT_SHORT = "its append was cancelled part way"
_BACKOFF = (0.2, 0.8)
# Suffixes of the CLI's per-OAuth-environment variants of its global config file
# (``.claude<suffix>.json``); "" is the ordinary one.
_GLOBAL_CONFIG_SUFFIXES = ("", "-staging-oauth", "-local-oauth", "-custom-oauth")
# User-settings keys dropped from the copy: plugin declarations would be reconciled against the
# temporary directory's empty plugin cache (a marketplace install on every resume).
_SETTINGS_KEYS_NOT_COPIED = ("enabledPlugins", "extraKnownMarketplaces")


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def cli_config_dir(env: Mapping[str, str] | Any) -> Path:
    """The config directory a CLI started with ``env`` uses (``$CLAUDE_CONFIG_DIR``, else
    ``$HOME/.claude``): credentials, user settings, transcripts."""
    configured = env.get("CLAUDE_CONFIG_DIR")
    if configured:
        return Path(configured)
    return _home(env) / ".claude"


def cli_global_config_dir(env: Mapping[str, str]) -> Path:
    """Where a CLI started with ``env`` keeps its global config file, ``.claude.json``:
    ``$CLAUDE_CONFIG_DIR`` when set, else ``$HOME`` itself (not ``~/.claude``)."""
    configured = env.get("CLAUDE_CONFIG_DIR")
    return Path(configured) if configured else _home(env)


def _read_regular_file(path: Path) -> bytes | None:
    """The file's bytes; ``None`` when it is missing, or not a readable regular file (logged:
    these copies are best effort, and a FIFO must not hang the resume)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise OSError(f"{path} is not a regular file")
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("resume from a session store: not copying %s (%s)", path, exc)
        return None


def _without_refresh_tokens(data: bytes) -> bytes:
    """``.credentials.json`` without its OAuth refresh tokens.

    A refresh by the resumed CLI would spend the (single-use) refresh token and store the new
    tokens in the temporary directory, leaving the user's own credentials revoked; without a
    refresh token the CLI does not try. Unparseable content is copied as it is.
    """
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return data
    if not isinstance(parsed, dict):
        return data
    changed = False
    for key in ("claudeAiOauth", "hybridOauth"):
        oauth = parsed.get(key)
        if isinstance(oauth, dict) and "refreshToken" in oauth:
            del oauth["refreshToken"]
            changed = True
    return json.dumps(parsed).encode("utf-8") if changed else data


def _settings_for_resume(data: bytes) -> bytes:
    """User settings without what misbehaves under the temporary config dir.

    Drops the plugin declarations (``enabledPlugins``, ``extraKnownMarketplaces``) and
    ``env.CLAUDE_CONFIG_DIR`` (which would point the CLI away from the temporary directory);
    everything else (``apiKeyHelper``, ``env``, ``hooks``, ``permissions``, ``outputStyle``,
    ...) is kept. Content that is not a JSON object is copied as it is.
    """
    try:
        parsed = json.loads(data.decode("utf-8-sig"))  # the CLI accepts a UTF-8 BOM
    except (UnicodeDecodeError, ValueError):
        return data
    if not isinstance(parsed, dict):
        return data
    changed = False
    for key in _SETTINGS_KEYS_NOT_COPIED:
        if key in parsed:
            del parsed[key]
            changed = True
    env = parsed.get("env")
    if isinstance(env, dict) and "CLAUDE_CONFIG_DIR" in env:
        del env["CLAUDE_CONFIG_DIR"]
        changed = True
    if not changed:
        return data
    try:
        return json.dumps(parsed, allow_nan=False).encode("utf-8")
    except ValueError:  # 1e999 parses to inf, which JSON cannot say: keep the original
        return data


def _copy(source: Path, target: Path, transform: Callable[[bytes], bytes] | None = None) -> None:
    data = _read_regular_file(source)
    if data is None:
        return
    if transform is not None:
        data = transform(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def copy_user_config(env: Mapping[str, str], target: Path) -> None:
    """Copies the user's CLI configuration into a temporary config dir (mode 0600).

    From where a CLI started with ``env`` reads them:

    - from the config dir (``$CLAUDE_CONFIG_DIR``, else ``~/.claude``): ``.credentials.json``
      (OAuth refresh tokens removed), the legacy ``.config.json``, and the user settings
      ``settings.json`` and ``cowork_settings.json`` (``apiKeyHelper``, ``env``, ``hooks``,
      ``permissions``, ``outputStyle``, ...; plugin declarations and ``env.CLAUDE_CONFIG_DIR``
      removed);
    - from the global-config dir (``$CLAUDE_CONFIG_DIR``, else ``$HOME``): ``.claude.json`` and
      its per-OAuth-environment variants.

    Missing files are skipped; unreadable ones are logged and skipped.

    Args:
        env: The CLI's environment (``HOME`` and ``CLAUDE_CONFIG_DIR`` are read).
        target: The temporary config dir the resumed CLI runs with.
    """
    config = cli_config_dir(env)
    global_config = cli_global_config_dir(env)
    _copy(config / ".credentials.json", target / ".credentials.json", _without_refresh_tokens)
    _copy(config / ".config.json", target / ".config.json")
    for suffix in _GLOBAL_CONFIG_SUFFIXES:
        name = f".claude{suffix}.json"
        _copy(global_config / name, target / name)
    for name in ("settings.json", "cowork_settings.json"):
        _copy(config / name, target / name, _settings_for_resume)


class TranscriptMirror:
    """Batches ``transcript_mirror`` frames and appends them to a store.

    Args:
        store: The session store.
        projects_dir: ``<the CLI's config dir>/projects``, to map file paths to keys.
        eager: Flush at every frame (``session_store_flush="eager"``).
        report_error: Called with a ``system/mirror_error`` frame when an append fails for good.
        secrets: The session's secret values, masked in what a failure says.
    """

    def __init__(
        self,
        store: SessionStore,
        projects_dir: Path,
        *,
        eager: bool,
        report_error: Callable[[dict[str, Any]], None],
        secrets: Iterable[str] = (),
    ) -> None:
        self._store = store
        # The session's secret values: a store's error may quote one (a credential it was
        # refused, a DSN), and it reaches the log and a mirror_error message.
        self._secrets = tuple(secrets)
        self._projects_dir = projects_dir
        self._eager = eager
        self._frames = 0
        self._report_error = report_error
        self._batches: dict[tuple[str, str, str | None], tuple[SessionKey, list[Any]]] = {}
        self._entries = 0
        self._bytes = 0
        self._flush_lock = trio.StrictFIFOLock()
        self._in_flight = 0
        # Whether an append is being awaited: once a store has the entries, a cancelled append
        # may have stored them.
        self._landing = False
        self._wakeup = trio.Event()
        # Reports made while a result waits for result_after_flush, delivered before it.
        self._held: list[dict[str, Any]] | None = None
        self.appended = 0
        self.failures = 0

    def add(self, file_path: Any, entries: Any) -> None:
        """Queues a frame's entries (called by the reader; never blocks; a malformed frame is
        logged and skipped)."""
        if entries == []:
            return
        if not isinstance(file_path, str) or not file_path or not isinstance(entries, list):
            logger.warning(
                "ignoring a malformed transcript_mirror frame (filePath: %s, entries: %s)",
                type(file_path).__name__,
                type(entries).__name__,
            )
            return
        key = file_path_to_session_key(file_path, self._projects_dir)
        if key is None:
            logger.debug("transcript_mirror for a file outside the projects dir: %s", file_path)
            return
        sizes = []
        kept = []
        for entry in entries:
            try:
                try:
                    sizes.append(len(orjson.dumps(entry)))
                except orjson.JSONEncodeError:
                    # Rare: a lone surrogate or a non-finite number (written by the fallback),
                    # or nesting deeper than any store writes back on every Python.
                    if nested_too_deeply(entry):
                        raise RecursionError("nested deeper than any store writes") from None
                    sizes.append(len(dumps_from_cli(entry)))
            except (TypeError, ValueError, RecursionError) as exc:
                # Valid JSON the CLI sent but nothing can write again (nested beyond any
                # encoder's depth): skipped and said, not the session's end.
                logger.warning(
                    "skipping a transcript entry that cannot be stored: %s", type(exc).__name__
                )
                continue
            kept.append(entry)
        if not kept:
            return
        ident: tuple[Any, ...] = (key["project_key"], key["session_id"], key.get("subpath"))
        if self._eager:
            # One append per frame, as the official SDK makes them (stores may count them).
            self._frames += 1
            ident = (*ident, self._frames)
        batch = self._batches.setdefault(ident, (key, []))[1]
        batch.extend(kept)
        self._entries += len(kept)
        self._bytes += sum(sizes)
        if self._eager or self._entries >= MAX_BATCH_ENTRIES or self._bytes >= MAX_BATCH_BYTES:
            self.request_flush()

    def request_flush(self) -> None:
        """Asks the flusher to write what is queued (at a result, say)."""
        if self._batches:
            self._wakeup.set()

    async def run(self) -> None:
        """The flusher task: waits for flush requests and appends the batches."""
        while True:
            await self._wakeup.wait()
            self._wakeup = trio.Event()
            await self.flush()

    async def flush(self) -> None:
        """Appends every queued batch, in order per key.

        One flush at a time: the session's closing flush waits behind the flusher's batch in
        flight (which may be retrying), so a later batch never lands before an earlier one.
        """
        async with self._flush_lock:
            batches, self._batches = self._batches, {}
            self._entries = self._bytes = 0
            self._in_flight = sum(len(entries) for _, entries in batches.values())
            pending = list(batches.items())
            try:
                while pending:
                    _, (key, entries) = pending[0]
                    await self._append(key, entries)
                    del pending[0]
                    self._in_flight -= len(entries)
            finally:
                if pending:  # cancelled (a deadline around the caller): kept for the next flush
                    if self._landing:
                        self._cut_short(pending)
                    self._landing = False
                    self._requeue(pending)

    def _cut_short(self, pending: list[tuple[Any, tuple[SessionKey, list[Any]]]]) -> None:
        """The batch whose append a cancellation cut short may be in the store already. A
        store that skips known uuids (``idempotent_appends``) gets its entries with a uuid
        again; what it could store twice (entries without one, or every entry of another
        store) is given up and reported, as a timed-out append is (see _append)."""
        ident, (key, entries) = pending[0]
        again: list[Any] = []
        lost: list[Any] = []
        idempotent = getattr(self._store, "idempotent_appends", False)
        for entry in entries:
            (again if idempotent and _has_uuid(entry) else lost).append(entry)
        if lost:
            self._given_up(key, lost, _CUT_SHORT)
        if again:
            pending[0] = (ident, (key, again))
        else:
            del pending[0]

    def _requeue(self, pending: list[tuple[Any, tuple[SessionKey, list[Any]]]]) -> None:
        """Puts the batches a cut-short flush did not append back, ahead of newer entries."""
        batches = {ident: (key, list(entries)) for ident, (key, entries) in pending}
        for ident, (key, entries) in self._batches.items():
            if ident in batches:
                batches[ident][1].extend(entries)
            else:
                batches[ident] = (key, entries)
        self._batches = batches
        self._in_flight = 0
        self._entries = sum(len(entries) for _, entries in batches.values())
        self._bytes = sum(
            len(dumps_from_cli(entry)) for _, entries in batches.values() for entry in entries
        )

    @property
    def unmirrored(self) -> int:
        """Entries queued or being appended, not in the store yet."""
        return self._entries + self._in_flight

    async def _append(self, key: SessionKey, entries: list[Any]) -> None:
        error: BaseException | None = None
        for attempt in range(len(_BACKOFF) + 1):
            try:
                with trio.fail_after(_APPEND_TIMEOUT):
                    pending: object = self._store.append(key, entries)
                    if not inspect.isawaitable(pending):
                        # A plain ``def``: it ran (so no retry, which would store the entries
                        # again), but on the event loop; the store must be fixed.
                        error = ConfigurationError(
                            f"session_store.append returned {type(pending).__name__}, not an "
                            "awaitable: a session store's methods are async "
                            "(async def append(self, key, entries))"
                        )
                        break
                    self._landing = True  # left set by a cancellation (read by flush)
                    await pending
                    self._landing = False
                self.appended += len(entries)
                return
            except trio.TooSlowError as exc:
                self._landing = False
                error = exc
                break  # a store that hangs is not retried
            except Exception as exc:
                self._landing = False
                error = exc
                if attempt < len(_BACKOFF):
                    await trio.sleep(_BACKOFF[attempt])
        # A store's error may quote its connection string: masked (by shape; a store's own
        # credentials are masked by value where it raises, see stores/_postgres.py).
        assert error is not None  # (every way out of the loop without returning sets it)
        self._given_up(key, entries, redact(describe_exception(error), self._secrets))

    def _given_up(self, key: SessionKey, entries: list[Any], described: str) -> None:
        """Logs and reports a batch the mirror gives up on (maybe not in the store)."""
        self.failures += 1
        logger.warning("mirroring %d transcript entries failed: %s", len(entries), described)
        frame = {
            "type": "system",
            "subtype": "mirror_error",
            "key": dict(key),
            "error": described,
            "session_id": key["session_id"],
        }
        if self._held is not None:
            self._held.append(frame)
        else:
            self._report_error(frame)

    async def result_after_flush(self, result: Any, queue: deque[Any]) -> Any:
        """What to hand out for ``result`` (just taken from the front of ``queue``): the
        store is flushed first, as the official SDKs do (whoever sees a result can rely on
        the store being up to date), and a ``mirror_error`` that wait produced (this flush's,
        or one already running) comes before the result, the result back at the front. If
        cancelled, the result goes back to the front (nothing is lost) and what the wait
        held is reported the usual way."""
        held: list[dict[str, Any]] = []
        self._held = held
        try:
            await self.flush()
        except BaseException:
            self._held = None
            queue.appendleft(result)
            for frame in held:
                self._report_error(frame)
            raise
        self._held = None
        if not held:
            return result
        queue.appendleft(result)
        queue.extendleft(decode_message(frame) for frame in reversed(held[1:]))
        return decode_message(held[0])


def _has_uuid(entry: Any) -> bool:
    uuid = entry.get("uuid") if isinstance(entry, dict) else None
    return isinstance(uuid, str) and bool(uuid)


async def resume_from_store(
    options: ClaudeAgentOptions, spec: LaunchSpec
) -> tuple[LaunchSpec, Path]:
    """The launch of a CLI resuming ``options.resume`` (or the latest session, with
    ``continue_conversation``) from ``options.session_store``: its transcript materialised into
    a temporary config dir (the caller removes it) within ``load_timeout_ms``.

    Raises:
        SessionStoreError: The store took longer than ``load_timeout_ms``.
        SessionNotFoundError: The store has no such session.
    """
    from ._transport._command import build_argv
    from .stores._errors import SessionStoreError

    assert options.session_store is not None
    with trio.move_on_after(options.load_timeout_ms / 1000) as deadline:
        session_id, temp_dir = await prepare_store_resume(
            options.session_store,
            resume=options.resume,
            continue_conversation=options.continue_conversation,
            cwd=spec.cwd,
            env=Environment(spec.env),
        )
    if deadline.cancelled_caught:
        which = f"session {options.resume}" if options.resume else "the latest session"
        raise SessionStoreError(
            f"loading {which} from the session store took longer than load_timeout_ms "
            f"({options.load_timeout_ms} ms)"
        )
    resumed = attrs.evolve(options, resume=session_id, continue_conversation=False)
    env = Environment(spec.env)
    env["CLAUDE_CONFIG_DIR"] = str(temp_dir)
    return attrs.evolve(spec, argv=build_argv(resumed, spec.argv[0]), env=env), temp_dir


async def prepare_store_resume(
    store: SessionStore,
    *,
    resume: str | None,
    continue_conversation: bool,
    cwd: str | None,
    env: dict[str, str],
) -> tuple[str, Path]:
    """Materialises the session to resume into a temporary config dir.

    The user's credentials, global config and user settings are copied beside it (see
    :func:`copy_user_config`).

    Args:
        store: The session store.
        resume: The session to resume, or ``None`` with ``continue_conversation``.
        continue_conversation: Resume the store's most recent session of ``cwd``.
        cwd: The CLI's working directory (default: this process's).
        env: The CLI's environment (where the user's configuration is read from).

    Returns:
        The session id to pass to ``--resume`` and the temporary config dir (the caller points
        ``CLAUDE_CONFIG_DIR`` at it and removes it when the session ends).

    Raises:
        SessionNotFoundError: The store has no such session (or none at all, for continue).
    """
    directory = cwd or os.getcwd()
    project_key = project_key_for_directory(directory)
    main: list[Any] | None = None
    if resume is not None:
        session_id = resume
    else:
        assert continue_conversation
        session_id, main = await _continue_candidate(store, project_key, directory)
    tmp = Path(await trio.to_thread.run_sync(tempfile.mkdtemp, None, "claude-resume-"))
    try:
        if main is None:
            written = await materialize_session_from_store(
                store, session_id, tmp, project_key=project_key
            )
        else:
            written = await materialize_loaded(store, session_id, tmp, project_key, main)
        if written is None:
            raise SessionNotFoundError(session_id, directory, "not in the session store")
        await trio.to_thread.run_sync(copy_user_config, env, tmp)
    except BaseException:
        with trio.CancelScope(shield=True):  # a cancelled load (load_timeout_ms) cleans up too
            await trio.to_thread.run_sync(shutil.rmtree, tmp, True)
        raise
    return session_id, tmp


async def _continue_candidate(
    store: SessionStore, project_key: str, directory: str
) -> tuple[str, list[Any]]:
    """The session ``continue_conversation`` resumes, and its main transcript: the newest by
    the store's own mtimes (whatever its entries hold: one without a prompt yet is still the
    latest) that can be resumed, as the official SDK and the CLI's ``--continue`` pick it:
    not a subagent's transcript (a sidechain, mirrored as a top-level key and often the
    newest), not an id that is no UUID, not one with nothing stored."""
    from .stores._errors import SessionStoreError

    try:
        listing = await _call_optional(store, "list_sessions", project_key)
    except _Unsupported:
        listing = []  # (a store without it is refused with the options)
    if not listing:
        listing = []  # (None: none, as the official SDK reads it)
    if not isinstance(listing, (list, tuple)):
        raise SessionStoreError(
            f"session_store.list_sessions returned {type(listing).__name__}, not a list of "
            "{'session_id', 'mtime'} dicts"
        )
    listed = [
        entry
        for entry in listing
        if isinstance(entry, Mapping)
        and isinstance(entry.get("session_id"), str)
        and isinstance(entry.get("mtime"), (int, float))
        and math.isfinite(entry["mtime"])  # (a NaN would make the order arbitrary)
    ]
    # Newest first; among equal mtimes, the store's order (a stable sort).
    for entry in sorted(listed, key=lambda entry: entry["mtime"], reverse=True):
        session_id = entry["session_id"]
        if validate_uuid(session_id) is None:
            continue
        main = await _load_main(store, project_key, session_id)
        if not main or main[0].get("isSidechain") is True:
            continue
        return session_id, main
    raise SessionNotFoundError("", directory, "the session store has none to continue")
