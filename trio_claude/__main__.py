"""The ``trio-claude`` command line (also ``python -m trio_claude``).

Subcommands are registered in :data:`SUBCOMMANDS`: each has a one-line help, a function adding
its arguments to an :class:`argparse.ArgumentParser`, and a function running it and returning
the exit code. Adding one is adding an entry.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import attrs

from ._version import CLI_VERSION, __version__

__all__ = ["SUBCOMMANDS", "Subcommand", "main"]


@attrs.frozen
class Subcommand:
    """One ``trio-claude`` subcommand.

    Attributes:
        help: One line for ``--help``.
        add_arguments: Adds the subcommand's arguments to its parser.
        run: Runs it with the parsed arguments; returns the exit code.
        description: Longer text for ``trio-claude <name> --help`` (default: ``help``).
    """

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


def _install_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--version",
        default=CLI_VERSION,
        metavar="V",
        help=f"the @anthropic-ai/claude-code version (default: the pinned {CLI_VERSION})",
    )
    parser.add_argument(
        "--dir",
        default=None,
        metavar="D",
        help="the npm prefix to install into (default: the per-user cache, where the SDK finds it)",
    )
    parser.add_argument("--npm", default="npm", help="the npm executable (default: npm)")


def _install_cli(args: argparse.Namespace) -> int:
    from ._install import CLIInstallError, install_cli

    try:
        path = install_cli(args.version, args.dir, npm=args.npm)
    except CLIInstallError as exc:
        print(f"trio-claude install-cli: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def _doctor_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options yet


_MARKS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "info": "--"}


def _doctor(args: argparse.Namespace) -> int:
    from ._install import run_doctor

    del args
    checks = run_doctor()
    width = max((len(c.name) for c in checks), default=0)
    for check in checks:
        lines = check.detail.splitlines() or [""]
        print(f"{_MARKS[check.status]:>4}  {check.name:<{width}}  {lines[0]}")
        for line in lines[1:]:
            print(f"{'':>4}  {'':<{width}}  {line}")
    failed = [c.name for c in checks if c.status == "fail"]
    if failed:
        print(f"\ndoctor: {len(failed)} problem(s): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    from ._run import add_arguments

    add_arguments(parser)


def _run(args: argparse.Namespace) -> int:
    from ._run import main as run_main

    return run_main(args)


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    from ._demo import add_arguments

    add_arguments(parser)


def _demo(args: argparse.Namespace) -> int:
    from ._demo import main as demo_main

    return demo_main(args)


#: The subcommands, by name. Register more by adding entries.
SUBCOMMANDS: dict[str, Subcommand] = {
    "install-cli": Subcommand(
        help="install the pinned Claude Code CLI with npm (a no-op when present)",
        add_arguments=_install_cli_arguments,
        run=_install_cli,
        description="Install @anthropic-ai/claude-code with npm into the per-user cache (or "
        "--dir), where trio-claude finds it, and print the binary's path.",
    ),
    "doctor": Subcommand(
        help="check the CLI, Node.js/npm, the environment and an offline session",
        add_arguments=_doctor_arguments,
        run=_doctor,
        description="Report which Claude Code CLI would be used and its version, Node.js and "
        "npm, Python and trio versions, whether credentials are set (never their values), and "
        "whether a session against the built-in fake model completes. Exits non-zero when "
        "something is missing.",
    ),
    "run": Subcommand(
        help="stream a session to the terminal (--fake: offline, built-in fake model)",
        add_arguments=_run_arguments,
        run=_run,
        description="Send PROMPT to Claude Code in a new session and stream the answer, tool "
        "calls and the result (with cost) to the terminal. Exits 1 on an error result.",
    ),
    "demo": Subcommand(
        help="an offline showcase of the SDK against the built-in fake model",
        add_arguments=_demo_arguments,
        run=_demo,
        description="Run a short scripted agent session through the real Claude Code CLI: "
        "streamed text, a tool call, permission callback and hook, an interrupt by cancel "
        "scope, cost and usage. Offline against the built-in fake model unless "
        "ANTHROPIC_API_KEY is set (then it uses the real API; --fake forces offline).",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog="trio-claude", description="Trio-native SDK for Claude Code: command-line tools."
    )
    parser.add_argument(
        "-V",
        "--version",
        action="version",
        version=f"trio-claude {__version__} (pinned Claude Code CLI {CLI_VERSION})",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in SUBCOMMANDS.items():
        sub = subparsers.add_parser(
            name, help=command.help, description=command.description or command.help
        )
        command.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return SUBCOMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
