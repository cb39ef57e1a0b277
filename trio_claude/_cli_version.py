"""Comparing the CLI's reported version with the oldest one trio-claude supports."""

from __future__ import annotations

import functools
import logging
import re

from ._version import CLI_VERSION, MIN_CLI_VERSION

__all__ = ["is_outdated", "outdated_cli_message", "warn_if_outdated"]

logger = logging.getLogger("trio_claude")

_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@functools.lru_cache(maxsize=64)  # the same few versions, at every session's start
def _parse(text: str) -> tuple[int, int, int] | None:
    match = _VERSION_RE.search(text)
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def is_outdated(version: str | None, minimum: str = MIN_CLI_VERSION) -> bool:
    """Whether ``version`` is older than ``minimum``.

    Args:
        version: A version such as ``"2.1.329"`` (as ``system/init`` reports it).
        minimum: The oldest supported version.

    Returns:
        ``True`` only for a parseable version older than ``minimum``; unknown or unparseable
        versions are not called outdated.
    """
    if not version:
        return False
    found, oldest = _parse(version), _parse(minimum)
    return found is not None and oldest is not None and found < oldest


def outdated_cli_message(
    version: str, minimum: str = MIN_CLI_VERSION, *, cli_path: str | None = None
) -> str:
    """The warning logged for an outdated CLI.

    Args:
        version: The reported CLI version.
        minimum: The oldest supported version.
        cli_path: The CLI that reported it (the launch's ``argv[0]``), named as the official SDK
            names it; ``None`` leaves it out.

    Returns:
        The message.
    """
    where = f" at {cli_path}" if cli_path else ""
    return (
        f"Claude Code CLI {version}{where} is older than {minimum}, the oldest version trio-claude "
        f"supports (tested with {CLI_VERSION}); some features may fail. Run "
        f"`python -m trio_claude install-cli` and make sure that CLI is found first (or pass "
        f"cli_path=...)."
    )


def warn_if_outdated(
    version: str | None, minimum: str = MIN_CLI_VERSION, *, cli_path: str | None = None
) -> bool:
    """Logs a warning on the ``trio_claude`` logger when ``version`` is older than ``minimum``.

    Args:
        version: The reported CLI version (``None`` when unknown).
        minimum: The oldest supported version.
        cli_path: The CLI that reported it (the launch's ``argv[0]``), named in the warning;
            ``None`` when unknown.

    Returns:
        Whether a warning was logged.
    """
    if version is None or not is_outdated(version, minimum):
        return False
    logger.warning(outdated_cli_message(version, minimum, cli_path=cli_path))
    return True
