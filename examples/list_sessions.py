"""List and manage Claude Code sessions on disk. Offline: no CLI, no network.

    python examples/list_sessions.py                # sessions of the current directory
    python examples/list_sessions.py --all          # sessions of every project
    python examples/list_sessions.py --show ID      # one session's conversation
    python examples/list_sessions.py --demo         # a tour on a throwaway config dir

Listing and showing only read the transcripts the CLI wrote under ``$CLAUDE_CONFIG_DIR`` (or
``~/.claude``); ``--config-dir`` picks another one. ``--demo`` writes a small transcript into a
temporary config dir and renames, tags, forks, imports into a store and deletes it.

This is trio code, so it uses the ``async`` helpers (``alist_sessions``,
``aget_session_messages``, ...: file I/O in a worker thread). Synchronous code calls the same
helpers under the official SDK's names, without ``await``: ``tc.list_sessions(...)``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

import trio

import trio_claude as tc


def describe(info: tc.SDKSessionInfo) -> str:
    when = datetime.fromtimestamp(info.last_modified / 1000, timezone.utc)
    tag = f" [{info.tag}]" if info.tag else ""
    return f"{info.session_id}  {when:%Y-%m-%d %H:%M}  {info.summary!r}{tag}"


def text_of(message: tc.SessionMessage) -> str:
    content = message.message.get("content") if isinstance(message.message, dict) else None
    if isinstance(content, str):
        return content
    return " ".join(
        block.get("text", f"<{block.get('type')}>")
        for block in content or []
        if isinstance(block, dict)
    )


async def show(session_id: str, directory: str | None, config_dir: str | None) -> None:
    messages = await tc.aget_session_messages(session_id, directory, config_dir=config_dir)
    if not messages:
        print(f"no messages for {session_id}")
    for message in messages:
        print(f"{message.type:>9}: {text_of(message)}")


def write_sample_transcript(config_dir: Path, project: Path) -> str:
    """A two-turn transcript in the shape the CLI writes (what a real run leaves behind)."""
    session_id = str(uuid.uuid4())
    directory = config_dir / "projects" / tc.project_key_for_directory(project)
    directory.mkdir(parents=True)
    lines, parent = [], None
    for i, (role, text) in enumerate(
        [
            ("user", "Summarise README.md"),
            ("assistant", "It describes trio-claude."),
            ("user", "And the license?"),
            ("assistant", "MIT."),
        ]
    ):
        entry_uuid = str(uuid.uuid4())
        content = text if role == "user" else [{"type": "text", "text": text}]
        lines.append(
            {
                "parentUuid": parent,
                "isSidechain": False,
                "type": role,
                "message": {"role": role, "content": content},
                "uuid": entry_uuid,
                "timestamp": f"2025-01-01T00:00:0{i}.000Z",
                "cwd": str(project),
                "sessionId": session_id,
                "gitBranch": "main",
            }
        )
        parent = entry_uuid
        if role == "user":
            lines.append({"type": "last-prompt", "lastPrompt": text, "sessionId": session_id})
    path = directory / f"{session_id}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return session_id


async def demo() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config, project = Path(tmp) / "config", Path(tmp) / "project"
        project.mkdir()
        session_id = write_sample_transcript(config, project)

        print("== sessions")
        for info in await tc.alist_sessions(project, config_dir=config):
            print(describe(info))
        print("== conversation")
        await show(session_id, str(project), str(config))

        await tc.arename_session(session_id, "README questions", project, config_dir=config)
        await tc.atag_session(session_id, "docs", project, config_dir=config)
        messages = await tc.aget_session_messages(session_id, project, config_dir=config)
        fork = await tc.afork_session(
            session_id, project, up_to_message_id=messages[1].uuid, config_dir=config
        )
        print("== after rename, tag and a fork after the first answer")
        for info in await tc.alist_sessions(project, config_dir=config):
            print(describe(info))
        forked = await tc.aget_session_messages(fork.session_id, project, config_dir=config)
        print(f"fork has {len(forked)} messages")

        store = tc.InMemorySessionStore()
        await tc.import_session_to_store(session_id, store, directory=project, config_dir=config)
        print("== in a session store")
        for info in await tc.list_sessions_from_store(store, project):
            print(describe(info))

        await tc.adelete_session(fork.session_id, project, config_dir=config)
        remaining = await tc.alist_sessions(project, config_dir=config)
        print(f"== after deleting the fork: {len(remaining)} session(s)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every project, not just this one")
    parser.add_argument("--directory", default=".", help="project directory (default: cwd)")
    parser.add_argument("--config-dir", help="Claude config dir (default: $CLAUDE_CONFIG_DIR)")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--show", metavar="SESSION_ID", help="print one session's conversation")
    parser.add_argument("--demo", action="store_true", help="run the tour in a temporary dir")
    args = parser.parse_args()
    if args.demo:
        await demo()
        return
    directory = None if args.all else args.directory
    if args.show:
        await show(args.show, directory, args.config_dir)
        return
    sessions = await tc.alist_sessions(directory, limit=args.limit, config_dir=args.config_dir)
    if not sessions:
        print("no sessions")
    for info in sessions:
        print(describe(info))


if __name__ == "__main__":
    trio.run(main)
