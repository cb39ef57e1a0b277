"""The context a hook callback receives: apart from ``_hooks`` so that importing the package
does not define the ~70 hook input and output classes (they load on first use)."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["HookContext"]


@attrs.frozen(kw_only=True, eq=False)
class HookContext(dict[str, Any]):
    """The third argument of a hook callback.

    Like the official SDK's ``HookContext`` (a ``TypedDict``, delivered as
    ``{"signal": None}``), it is a ``dict`` with the one item ``"signal"``:
    ``context["signal"]``, ``context.get("signal")``, ``dict(context)`` and
    ``json.dumps(context)`` work as there. The trio-claude additions are attributes only, so
    the dict stays the official one. Two contexts are equal when their items are, like dicts.

    Attributes:
        signal: Always ``None`` (kept for the official signature; the CLI withdrawing the
            request cancels the callback's trio cancel scope instead).
        callback_id: The wire id of this callback (``hook_3``).
        hook_event_name: The event it was registered for.
        matcher: Its matcher's pattern.
        timeout: Its matcher's timeout in seconds, if set.
    """

    signal: Any = None
    callback_id: str = ""
    hook_event_name: str = ""
    matcher: str | None = None
    timeout: float | None = None

    def __attrs_post_init__(self) -> None:
        dict.__setitem__(self, "signal", self.signal)
