"""Pure transcript logic shared by the on-disk and the store-backed helpers (no I/O).

A transcript is JSONL: one entry per line. Conversation entries (``user``, ``assistant``,
``attachment``, ``system``, ``progress``) carry a ``uuid`` and a ``parentUuid`` link; metadata
entries (``custom-title``, ``tag``, ``last-prompt``, ``queue-operation``, ...) do not. Listing reads
only the first and last 64 KiB of a file and scans them as text, so it works on lines cut in the
middle; reading messages parses every line and walks the ``parentUuid`` chain back from the
newest leaf.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import orjson

from .._protocol._codec import dumps_from_cli
from ._types import SDKSessionInfo, SessionMessage, SessionValueError

__all__ = [
    "LITE_READ_BUF_SIZE",
    "LiteSession",
    "build_chain",
    "build_fork_lines",
    "build_subagent_chain",
    "derive_title_from_entries",
    "derive_title_from_lite",
    "dumps",
    "entries_to_jsonl",
    "extract_first_prompt",
    "extract_last_string_field",
    "extract_string_field",
    "filter_transcript_entries",
    "fork_source_from_entries",
    "fork_source_from_lines",
    "iso_now",
    "iso_to_ms",
    "iter_jsonl",
    "lite_from_bytes",
    "loads",
    "metadata_entry",
    "page",
    "parent_ids_from_metadata",
    "parse_info",
    "parse_transcript",
    "sanitize_unicode",
    "to_messages",
    "to_subagent_messages",
    "validate_uuid",
]

#: Bytes read from the head and from the tail of a transcript for listings.
LITE_READ_BUF_SIZE = 64 * 1024

#: Entry types that are links of the ``parentUuid`` chain.
TRANSCRIPT_TYPES = frozenset({"user", "assistant", "progress", "system", "attachment"})

# Used with fullmatch: ``$`` alone would accept a trailing newline.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

# User text that is not a real prompt: command output, hook/tick/goal markers, interrupts, IDE
# context-only messages.
_NOT_A_PROMPT = re.compile(
    r"^(?:<local-command-stdout>|<session-start-hook>|<tick>|<goal>|"
    r"\[Request interrupted by user[^\]]*\]|"
    r"\s*<ide_opened_file>[\s\S]*</ide_opened_file>\s*$|"
    r"\s*<ide_selection>[\s\S]*</ide_selection>\s*$)"
)
_COMMAND_NAME = re.compile(r"<command-name>(.*?)</command-name>")
_PROMPT_MAX_CHARS = 200

# Characters removed from tags: zero-width and directional marks, isolates, BOM, private use.
_UNSAFE_RANGES = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ue000-\uf8ff]")
_UNSAFE_CATEGORIES = frozenset({"Cf", "Co", "Cn"})

# orjson reserves about 12x a document's size while parsing it: nothing for the usual line, too
# much for one holding a huge tool result. Longer lines go to the stdlib parser (about 2x).
_BIG_LINE = 1 << 20

# Fields that tie a copied entry to its source session's team/agent state.
_FORK_DROPPED_FIELDS = ("teamName", "agentName", "slug", "sourceToolAssistantUUID")


# --- JSON -------------------------------------------------------------------------------------


def loads(text: str | bytes) -> Any:
    """Parses one JSON value (orjson, falling back to ``json`` for what orjson refuses)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _loads_line(raw: bytes) -> Any:
    # The bytes go to the parser as they are (no decoded copy of a huge line); a line that is
    # not valid UTF-8 is parsed with its bad bytes replaced by U+FFFD, as reading it as text did.
    parse = json.loads if len(raw) > _BIG_LINE else loads
    try:
        return parse(raw)
    except UnicodeDecodeError:
        return parse(raw.decode("utf-8", "replace"))


def iter_jsonl(lines: Iterable[bytes]) -> Iterator[Any]:
    """The JSON value of each line of a JSONL file read in binary mode; corrupt lines skipped."""
    for raw in lines:
        if not raw or raw.isspace():
            continue
        try:
            yield _loads_line(raw)
        except ValueError:
            continue


def dumps(value: Any) -> str:
    """Compact JSON (``{"a":1}``), key order kept; what the CLI wrote (a lone surrogate, say) is
    written back as it wrote it (:func:`~trio_claude._protocol._codec.dumps_from_cli`)."""
    return dumps_from_cli(value).decode()


def validate_uuid(value: object) -> str | None:
    """``value`` if it is a UUID string (any case), else ``None``."""
    if isinstance(value, str) and _UUID.fullmatch(value):
        return value
    return None


def iso_now() -> str:
    """The current UTC time as the CLI writes it (``2026-01-02T03:04:05.678Z``)."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def iso_to_ms(value: object) -> int | None:
    """Milliseconds since the epoch of an ISO-8601 timestamp string, or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


# --- scanning text for string fields (works on truncated lines) ------------------------------


def _string_end(text: str, start: int) -> int:
    # Index of the closing quote of a JSON string whose body starts at ``start``; -1 if cut off.
    i = start
    length = len(text)
    while i < length:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == '"':
            return i
        i += 1
    return -1


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw
    try:
        value = json.loads(f'"{raw}"')
    except ValueError:
        return raw
    return value if isinstance(value, str) else raw


def _field_values(text: str, key: str) -> Iterable[tuple[int, str]]:
    for needle in (f'"{key}":"', f'"{key}": "'):
        start = 0
        while True:
            index = text.find(needle, start)
            if index < 0:
                break
            body = index + len(needle)
            end = _string_end(text, body)
            if end < 0:
                break
            yield index, _unescape(text[body:end])
            start = end + 1


def extract_string_field(text: str, key: str) -> str | None:
    """The first ``"key":"value"`` string in ``text`` (without parsing it as JSON)."""
    for _position, value in _field_values(text, key):
        return value
    return None


def extract_last_string_field(text: str, key: str) -> str | None:
    """The last ``"key":"value"`` string in ``text`` (without parsing it as JSON)."""
    best: tuple[int, str] | None = None
    for position, value in _field_values(text, key):
        if best is None or position > best[0]:
            best = (position, value)
    return best[1] if best else None


# --- first prompt -----------------------------------------------------------------------------


def _user_texts(entry: dict[str, Any]) -> list[str]:
    message = entry.get("message")
    if not isinstance(message, dict):
        return []
    content = message.get("content")
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            block["text"]
            for block in content
            if isinstance(block, dict)
            and block.get("type") == "text"
            and isinstance(block.get("text"), str)
        ]
    return []


def prompt_candidate(entry: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(prompt, command_name)`` an entry offers as a session's first prompt.

    Skips non-user entries, meta and compact-summary entries, tool results, and text that is not
    a real prompt; a slash command gives its name as a fallback instead. Prompts are one line,
    at most 200 characters (cut with an ellipsis).
    """
    if entry.get("type") != "user" or entry.get("isMeta") is True:
        return None, None
    if entry.get("isCompactSummary") is True:
        return None, None
    message = entry.get("message")
    if isinstance(message, dict):
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(block, dict) and block.get("type") == "tool_result" for block in content
        ):
            return None, None
    command: str | None = None
    for raw in _user_texts(entry):
        text = raw.replace("\n", " ").strip()
        if not text:
            continue
        match = _COMMAND_NAME.search(text)
        if match:
            command = command or match.group(1)
            continue
        if _NOT_A_PROMPT.match(text):
            continue
        if len(text) > _PROMPT_MAX_CHARS:
            text = text[:_PROMPT_MAX_CHARS].rstrip() + "\u2026"
        return text, command
    return None, command


def extract_first_prompt(head: str) -> str:
    """The first meaningful user prompt in a JSONL chunk, else the first slash command's name."""
    fallback = ""
    for line in head.split("\n"):
        if '"type":"user"' not in line and '"type": "user"' not in line:
            continue
        if '"tool_result"' in line:
            continue
        try:
            entry = loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        prompt, command = prompt_candidate(entry)
        if prompt:
            return prompt
        if command and not fallback:
            fallback = command
    return fallback


# --- listing metadata ------------------------------------------------------------------------


class LiteSession:
    """A transcript's size, mtime (ms) and the text of its first and last 64 KiB."""

    __slots__ = ("head", "mtime", "size", "tail")

    def __init__(self, *, mtime: int, size: int, head: str, tail: str) -> None:
        self.mtime = mtime
        self.size = size
        self.head = head
        self.tail = tail


def lite_from_bytes(data: bytes, mtime: int) -> LiteSession:
    """The :class:`LiteSession` of a whole transcript held in memory."""
    size = len(data)
    head = data[:LITE_READ_BUF_SIZE].decode("utf-8", "replace")
    if size > LITE_READ_BUF_SIZE:
        tail = data[size - LITE_READ_BUF_SIZE :].decode("utf-8", "replace")
    else:
        tail = head
    return LiteSession(mtime=mtime, size=size, head=head, tail=tail)


def _last_tag(tail: str) -> str | None:
    # Only lines of tag entries count: "tag" also appears in tool inputs (git tag, docker tags).
    for line in reversed(tail.split("\n")):
        if line.startswith('{"type":"tag"'):
            return extract_last_string_field(line, "tag") or None
    return None


def parse_info(
    session_id: str, lite: LiteSession, project_path: str | None, *, file_size: bool = True
) -> SDKSessionInfo | None:
    """Listing metadata of a transcript; ``None`` for sidechains and files without a summary."""
    head, tail = lite.head, lite.tail
    first_line = head.split("\n", 1)[0]
    if '"isSidechain":true' in first_line or '"isSidechain": true' in first_line:
        return None
    custom_title = (
        extract_last_string_field(tail, "customTitle")
        or extract_last_string_field(head, "customTitle")
        or extract_last_string_field(tail, "aiTitle")
        or extract_last_string_field(head, "aiTitle")
        or None
    )
    first_prompt = extract_first_prompt(head) or None
    summary = (
        custom_title
        or extract_last_string_field(tail, "lastPrompt")
        or extract_last_string_field(tail, "summary")
        or first_prompt
    )
    if not summary:
        return None
    git_branch = (
        extract_last_string_field(tail, "gitBranch")
        or extract_string_field(head, "gitBranch")
        or None
    )
    cwd = extract_string_field(head, "cwd") or project_path or None
    return SDKSessionInfo(
        session_id=session_id,
        summary=summary,
        last_modified=lite.mtime,
        file_size=lite.size if file_size else None,
        custom_title=custom_title,
        first_prompt=first_prompt,
        git_branch=git_branch,
        cwd=cwd,
        tag=_last_tag(tail),
        created_at=iso_to_ms(extract_string_field(head, "timestamp")),
    )


# --- conversation chain ----------------------------------------------------------------------


def _is_chain_entry(entry: Any) -> bool:
    # A link of the chain: a transcript type, a string uuid, and a parent that is a uuid string
    # or null (missing). Any other parent would make a damaged line a new root that, as the
    # newest leaf, hides the whole conversation.
    if not isinstance(entry, dict) or entry.get("type") not in TRANSCRIPT_TYPES:
        return False
    parent = entry.get("parentUuid")
    return isinstance(entry.get("uuid"), str) and (parent is None or isinstance(parent, str))


def parse_transcript(lines: Iterable[bytes]) -> list[dict[str, Any]]:
    """The chain entries (transcript types with a string ``uuid``) of a JSONL file's lines.

    ``lines`` are bytes, as iterating a file opened in binary mode gives them. Corrupt lines
    and entries whose ``parentUuid`` is neither a string nor null are skipped.
    """
    return [entry for entry in iter_jsonl(lines) if _is_chain_entry(entry)]


def filter_transcript_entries(entries: Iterable[Any]) -> list[dict[str, Any]]:
    """The chain entries among already parsed entries (from a store)."""
    return [entry for entry in entries if _is_chain_entry(entry)]


def _walk_back(start: dict[str, Any], by_uuid: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    chain: list[dict[str, Any]] = []
    seen: set[str] = set()
    current: dict[str, Any] | None = start
    while current is not None and current["uuid"] not in seen:
        seen.add(current["uuid"])
        chain.append(current)
        parent = current.get("parentUuid")
        current = by_uuid.get(parent) if isinstance(parent, str) else None
    chain.reverse()
    return chain


def build_chain(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation from its root to the newest leaf, following ``parentUuid`` links.

    Leaves are the user/assistant entries nearest to the ends of branches. The newest one in
    file order on the main thread (not sidechain, team or meta) wins. ``logicalParentUuid``
    (compaction back-links) is not followed: the compact summary stands for what came before.
    """
    if not entries:
        return []
    by_uuid = {entry["uuid"]: entry for entry in entries}
    position = {entry["uuid"]: index for index, entry in enumerate(entries)}
    parents = {entry["parentUuid"] for entry in entries if isinstance(entry.get("parentUuid"), str)}
    nearest: dict[str, dict[str, Any] | None] = {}
    leaves: list[dict[str, Any]] = []
    for terminal in entries:
        if terminal["uuid"] in parents:
            continue
        leaf = _nearest_message(terminal, by_uuid, nearest)
        if leaf is not None:
            leaves.append(leaf)
    if not leaves:
        return []
    main = [
        leaf
        for leaf in leaves
        if not leaf.get("isSidechain") and not leaf.get("teamName") and not leaf.get("isMeta")
    ]
    leaf = max(main or leaves, key=lambda entry: position.get(entry["uuid"], -1))
    return _walk_back(leaf, by_uuid)


def _nearest_message(
    start: dict[str, Any],
    by_uuid: dict[str, dict[str, Any]],
    nearest: dict[str, dict[str, Any] | None],
) -> dict[str, Any] | None:
    # The first user/assistant entry from ``start`` up its parents (None: none, or a cycle).
    # Branches share their spine: ``nearest`` remembers the answer for every entry walked, so
    # each is walked once over all terminals instead of once per terminal (quadratic).
    path: list[str] = []
    found: dict[str, Any] | None = None
    current: dict[str, Any] | None = start
    while current is not None:
        if current.get("type") in ("user", "assistant"):
            found = current
            break
        uuid = current["uuid"]
        if uuid in nearest:
            found = nearest[uuid]
            break
        nearest[uuid] = None  # provisional: meeting it again on this walk is a cycle
        path.append(uuid)
        parent = current.get("parentUuid")
        current = by_uuid.get(parent) if isinstance(parent, str) else None
    for uuid in path:
        nearest[uuid] = found
    return found


def build_subagent_chain(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A subagent's conversation: linear, ending at its last user/assistant entry."""
    by_uuid = {entry["uuid"]: entry for entry in entries}
    for entry in reversed(entries):
        if entry.get("type") in ("user", "assistant"):
            return _walk_back(entry, by_uuid)
    return []


def _visible(entry: dict[str, Any], include_system: bool) -> bool:
    kind = entry.get("type")
    if kind not in ("user", "assistant") and not (include_system and kind == "system"):
        return False
    return not (entry.get("isMeta") or entry.get("isSidechain") or entry.get("teamName"))


def page(items: list[Any], limit: int | None, offset: int) -> list[Any]:
    """``items[offset:offset + limit]``; a ``limit`` of ``None`` or ``<= 0`` means all."""
    start = max(offset, 0)
    if limit is not None and limit > 0:
        return items[start : start + limit]
    return items[start:]


def _message(
    entry: dict[str, Any], parent_tool_use_id: str | None, parent_agent_id: str | None
) -> SessionMessage:
    kind = entry.get("type")
    session_id = entry.get("sessionId")
    return SessionMessage(
        type="user" if kind == "user" else "system" if kind == "system" else "assistant",
        uuid=entry["uuid"],
        session_id=session_id if isinstance(session_id, str) else "",
        message=entry.get("message"),
        parent_tool_use_id=parent_tool_use_id,
        parent_agent_id=parent_agent_id,
    )


def to_messages(
    entries: Sequence[dict[str, Any]],
    limit: int | None,
    offset: int,
    *,
    include_system: bool = False,
) -> list[SessionMessage]:
    """The visible messages of a main transcript's chain, paged."""
    chain = build_chain(entries)
    visible = [_message(e, None, None) for e in chain if _visible(e, include_system)]
    return page(visible, limit, offset)


def to_subagent_messages(
    entries: Sequence[dict[str, Any]],
    limit: int | None,
    offset: int,
    parent_tool_use_id: str | None,
    parent_agent_id: str | None,
) -> list[SessionMessage]:
    """The user/assistant messages of a subagent transcript's chain, paged."""
    chain = build_subagent_chain(entries)
    messages = [
        _message(e, parent_tool_use_id, parent_agent_id)
        for e in chain
        if e.get("type") in ("user", "assistant")
    ]
    return page(messages, limit, offset)


def parent_ids_from_metadata(meta: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """``(toolUseId, parentAgentId)`` of a subagent's metadata (``.meta.json`` or store entry)."""
    if not meta:
        return None, None
    tool_use_id = meta.get("toolUseId")
    parent_agent_id = meta.get("parentAgentId")
    return (
        tool_use_id if isinstance(tool_use_id, str) else None,
        parent_agent_id if isinstance(parent_agent_id, str) else None,
    )


# --- mutations -------------------------------------------------------------------------------


def sanitize_unicode(value: str) -> str:
    """NFKC-normalises and strips format, private-use and unassigned characters (to a fixpoint)."""
    current = value
    for _ in range(10):
        previous = current
        current = unicodedata.normalize("NFKC", current)
        current = "".join(c for c in current if unicodedata.category(c) not in _UNSAFE_CATEGORIES)
        current = _UNSAFE_RANGES.sub("", current)
        if current == previous:
            break
    return current


def checked_session_id(session_id: str) -> str:
    """``session_id``, or :class:`SessionValueError` if it is not a UUID."""
    if not validate_uuid(session_id):
        raise SessionValueError(f"Invalid session_id: {session_id!r} (expected a UUID)")
    return session_id


def checked_message_id(message_id: str) -> str:
    """``message_id``, or :class:`SessionValueError` if it is not a UUID."""
    if not validate_uuid(message_id):
        raise SessionValueError(f"Invalid up_to_message_id: {message_id!r} (expected a UUID)")
    return message_id


def checked_title(title: str) -> str:
    """The stripped title, or :class:`SessionValueError` if it is empty."""
    if not isinstance(title, str) or not title.strip():
        raise SessionValueError("title must be non-empty (a string with text)")
    return title.strip()


def checked_tag(tag: str | None) -> str:
    """The sanitised tag (``""`` clears), or :class:`SessionValueError` if nothing is left."""
    if tag is None:
        return ""
    if not isinstance(tag, str):
        raise SessionValueError("tag must be a string or None")
    cleaned = sanitize_unicode(tag).strip()
    if not cleaned:
        raise SessionValueError("tag must be non-empty (use None to clear it)")
    return cleaned


def metadata_entry(kind: str, session_id: str, value: str, *, stamped: bool) -> dict[str, Any]:
    """A ``custom-title`` or ``tag`` entry (``type`` first: listings look for the line prefix).

    ``stamped`` adds a fresh ``uuid`` and ``timestamp`` (store entries; the CLI's own on-disk
    metadata lines have neither).
    """
    field = "customTitle" if kind == "custom-title" else "tag"
    entry: dict[str, Any] = {"type": kind, field: value, "sessionId": session_id}
    if stamped:
        entry["uuid"] = str(uuid_module.uuid4())
        entry["timestamp"] = iso_now()
    return entry


def fork_source_from_entries(
    entries: Iterable[Any], session_id: str
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Splits parsed entries into chain entries and the session's content replacements."""
    transcript: list[dict[str, Any]] = []
    replacements: list[Any] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kind = entry.get("type")
        if _is_chain_entry(entry):
            transcript.append(entry)
        elif (
            kind == "content-replacement"
            and entry.get("sessionId") == session_id
            and isinstance(entry.get("replacements"), list)
        ):
            replacements.extend(entry["replacements"])
    return transcript, replacements


def fork_source_from_lines(
    lines: Iterable[bytes], session_id: str
) -> tuple[list[dict[str, Any]], list[Any]]:
    """:func:`fork_source_from_entries` of a JSONL file's lines (bytes; corrupt lines skipped)."""
    return fork_source_from_entries(iter_jsonl(lines), session_id)


def derive_title_from_lite(lite: LiteSession) -> str | None:
    """A fork's base title from a transcript's head and tail: title, AI title or first prompt."""
    return (
        extract_last_string_field(lite.tail, "customTitle")
        or extract_last_string_field(lite.head, "customTitle")
        or extract_last_string_field(lite.tail, "aiTitle")
        or extract_last_string_field(lite.head, "aiTitle")
        or extract_first_prompt(lite.head)
        or None
    )


def derive_title_from_entries(entries: Sequence[Any]) -> str | None:
    """:func:`derive_title_from_lite` for already parsed entries (last title wins)."""
    custom: str | None = None
    ai: str | None = None
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        value = entry.get("customTitle")
        if isinstance(value, str) and value:
            custom = value
        value = entry.get("aiTitle")
        if isinstance(value, str) and value:
            ai = value
    if custom or ai:
        return custom or ai
    fallback = None
    for entry in entries:
        if isinstance(entry, dict):
            prompt, command = prompt_candidate(entry)
            if prompt:
                return prompt
            fallback = fallback or command
    return fallback


def build_fork_lines(
    transcript: list[dict[str, Any]],
    replacements: list[Any],
    session_id: str,
    up_to_message_id: str | None,
    title: str | None,
    derive_title: Callable[[], str | None],
) -> tuple[str, list[dict[str, Any]]]:
    """The new session id and the entries of a fork of ``transcript``.

    Sidechain entries are dropped; with ``up_to_message_id`` the transcript is cut after that
    entry (in file order). Every entry gets a fresh ``uuid``; ``parentUuid`` and
    ``logicalParentUuid`` are remapped (``progress`` entries are left out, and links through them
    skip to the nearest kept ancestor); ``sessionId`` becomes the fork's; ``forkedFrom`` records
    the source entry; the last entry is stamped now (the CLI picks the leaf to resume by it).
    Content replacements and a ``custom-title`` entry (``title``, else the source's title +
    ``" (fork)"``) follow.

    Raises:
        SessionValueError: Nothing to fork, or ``up_to_message_id`` is not in the transcript.
    """
    transcript = [entry for entry in transcript if not entry.get("isSidechain")]
    if not transcript:
        raise SessionValueError(f"Session {session_id} has no messages to fork")
    if up_to_message_id:
        cut = next(
            (i for i, entry in enumerate(transcript) if entry["uuid"] == up_to_message_id), None
        )
        if cut is None:
            raise SessionValueError(f"Message {up_to_message_id} not found in session {session_id}")
        transcript = transcript[: cut + 1]

    new_ids = {entry["uuid"]: str(uuid_module.uuid4()) for entry in transcript}
    by_uuid = {entry["uuid"]: entry for entry in transcript}
    kept = [entry for entry in transcript if entry.get("type") != "progress"]
    if not kept:
        raise SessionValueError(f"Session {session_id} has no messages to fork")

    fork_id = str(uuid_module.uuid4())
    now = iso_now()
    out: list[dict[str, Any]] = []
    relinked: dict[str, str | None] = {}
    for index, source in enumerate(kept):
        new_parent = _kept_parent(source.get("parentUuid"), by_uuid, new_ids, relinked)
        logical = source.get("logicalParentUuid")
        entry = {
            **source,
            "uuid": new_ids[source["uuid"]],
            "parentUuid": new_parent,
            "logicalParentUuid": new_ids.get(logical) if isinstance(logical, str) else logical,
            "sessionId": fork_id,
            "timestamp": now if index == len(kept) - 1 else source.get("timestamp", now),
            "isSidechain": False,
            "forkedFrom": {"sessionId": session_id, "messageUuid": source["uuid"]},
        }
        for field in _FORK_DROPPED_FIELDS:
            entry.pop(field, None)
        out.append(entry)

    if replacements:
        out.append(
            {
                "type": "content-replacement",
                "sessionId": fork_id,
                "replacements": replacements,
                "uuid": str(uuid_module.uuid4()),
                "timestamp": now,
            }
        )
    fork_title = title.strip() if title else ""
    if not fork_title:
        fork_title = f"{derive_title() or 'Forked session'} (fork)"
    out.append(
        {
            "type": "custom-title",
            "sessionId": fork_id,
            "customTitle": fork_title,
            "uuid": str(uuid_module.uuid4()),
            "timestamp": now,
        }
    )
    return fork_id, out


def _kept_parent(
    parent_id: object,
    by_uuid: dict[str, dict[str, Any]],
    new_ids: dict[str, str],
    relinked: dict[str, str | None],
) -> str | None:
    # The fork's uuid of the nearest ancestor that is not a progress entry (None: none, or the
    # progress entries form a cycle). ``relinked`` remembers it for every progress entry walked
    # through, and marks those on this walk first, so a cycle ends it.
    path: list[str] = []
    found: str | None = None
    while isinstance(parent_id, str):
        if parent_id in relinked:
            found = relinked[parent_id]
            break
        parent = by_uuid.get(parent_id)
        if parent is None:
            break
        if parent.get("type") != "progress":
            found = new_ids[parent_id]
            break
        relinked[parent_id] = None
        path.append(parent_id)
        parent_id = parent.get("parentUuid")
    for uuid in path:
        relinked[uuid] = found
    return found


def entries_to_jsonl(entries: Iterable[Any]) -> str:
    """JSONL of parsed entries, ``type`` hoisted first (stores may reorder keys)."""
    lines = []
    for entry in entries:
        if isinstance(entry, dict) and "type" in entry:
            entry = {"type": entry["type"], **entry}
        lines.append(dumps(entry))
    return "\n".join(lines) + "\n" if lines else ""
