"""On-disk session helpers: list, read, rename, tag, delete and fork the CLI's transcripts.

- :mod:`._paths`: where transcripts live and how to find one.
- :mod:`._transcript`: pure transcript logic (listing metadata, conversation chain, fork).
- :mod:`._local`: the public functions: the official names are synchronous (as in the official
  SDK), the ``a``-prefixed ones ``async`` (file I/O in worker threads).
- :mod:`._types`: the typed results and errors.

The store-backed variants are in :mod:`trio_claude._session_store`.
"""

from ._local import adelete_session as adelete_session
from ._local import afork_session as afork_session
from ._local import aget_session_info as aget_session_info
from ._local import aget_session_messages as aget_session_messages
from ._local import aget_subagent_messages as aget_subagent_messages
from ._local import alist_sessions as alist_sessions
from ._local import alist_subagents as alist_subagents
from ._local import arename_session as arename_session
from ._local import atag_session as atag_session
from ._local import delete_session as delete_session
from ._local import fork_session as fork_session
from ._local import get_session_info as get_session_info
from ._local import get_session_messages as get_session_messages
from ._local import get_subagent_messages as get_subagent_messages
from ._local import list_sessions as list_sessions
from ._local import list_subagents as list_subagents
from ._local import rename_session as rename_session
from ._local import tag_session as tag_session
from ._types import ForkSessionResult as ForkSessionResult
from ._types import SDKSessionInfo as SDKSessionInfo
from ._types import SessionMessage as SessionMessage
from ._types import SessionNotFoundError as SessionNotFoundError
from ._types import SessionValueError as SessionValueError

__all__ = [
    "ForkSessionResult",
    "SDKSessionInfo",
    "SessionMessage",
    "SessionNotFoundError",
    "SessionValueError",
    "adelete_session",
    "afork_session",
    "aget_session_info",
    "aget_session_messages",
    "aget_subagent_messages",
    "alist_sessions",
    "alist_subagents",
    "arename_session",
    "atag_session",
    "delete_session",
    "fork_session",
    "get_session_info",
    "get_session_messages",
    "get_subagent_messages",
    "list_sessions",
    "list_subagents",
    "rename_session",
    "tag_session",
]
