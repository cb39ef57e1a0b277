"""Fixture: the made-up SDK's client."""

from __future__ import annotations


class ClaudeSDKClient:
    async def connect(self) -> None:
        """Present in trio-claude."""

    async def interrupt(self) -> None:
        """Present in trio-claude."""

    async def juggle(self) -> None:
        """Absent from trio-claude."""

    def _private(self) -> None:
        """Not public: not listed."""
