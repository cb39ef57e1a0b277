"""Fixture: where the made-up SDK sends and answers control requests."""

from __future__ import annotations

from typing import Any


class Query:
    async def _send(self, request: dict[str, Any]) -> dict[str, Any]:
        return request

    async def initialize(self) -> None:
        await self._send({"subtype": "initialize", "hooks": None})

    async def interrupt(self) -> None:
        await self._send({"subtype": "interrupt"})

    async def throw_confetti(self) -> None:
        await self._send({"subtype": "throw_confetti", "amount": 3})

    def system_message(self) -> dict[str, Any]:
        return {"type": "system", "subtype": "not_a_request"}  # a message: not counted

    def reply(self, request_id: str) -> dict[str, Any]:
        return {"subtype": "success", "request_id": request_id}  # a response: not counted

    async def _handle_control_request(self, request: dict[str, Any]) -> None:
        subtype = request["subtype"]
        if subtype == "can_use_tool":
            return
        if subtype in ("hook_callback", "ask_for_confetti"):
            return

    def _route(self, message: dict[str, Any]) -> None:
        if message.get("subtype") == "task_started":  # not a control request handler
            return
