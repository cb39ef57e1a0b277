"""The fake model's HTTP/1.1 on trio streams: h11 does the protocol, this module the I/O.

h11 (the ``testing`` extra, ``pip install 'trio-claude[testing]'``) is sans-io: it parses the
request line, headers and body framing (``Content-Length``, chunked, ``Expect: 100-continue``),
decides keep-alive and pipelining, and frames responses (``Content-Length`` or chunked, the
latter for SSE so the connection can be reused; close-delimited for an HTTP/1.0 client).
:class:`HTTPConnection` feeds it the bytes of a trio stream and hands out whole requests.

Without h11 this module still imports (``import trio_claude.testing`` works); only
:func:`require_h11` and the :class:`HTTPConnection` constructor raise
:class:`~trio_claude.stores.MissingExtraError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs
import trio

from ..stores._errors import MissingExtraError

_H11_MISSING: ImportError | None
try:
    import h11
except ImportError as _exc:  # the `testing` extra is not installed
    _H11_MISSING = _exc
else:
    _H11_MISSING = None

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "HTTPConnection",
    "HTTPProtocolError",
    "HTTPRequest",
    "HTTPSendError",
    "require_h11",
]

MAX_HEAD_BYTES = 64 * 1024
"""Request line plus headers larger than this are rejected with 431."""

MAX_BODY_BYTES = 256 * 1024 * 1024
"""Request bodies larger than this are rejected with 413."""

_RECEIVE_BYTES = 65536

_REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    529: "Overloaded",
}


def require_h11() -> None:
    """Check that h11 is importable.

    Raises:
        MissingExtraError: h11 is not installed; the message names the ``testing`` extra.
    """
    if _H11_MISSING is not None:
        raise MissingExtraError(
            "the fake Messages API of trio_claude.testing needs h11, which comes with the "
            "'testing' extra: pip install 'trio-claude[testing]'",
            extra="testing",
        ) from _H11_MISSING


class HTTPProtocolError(Exception):
    """The peer sent something that is not acceptable HTTP/1.1.

    Attributes:
        status: The HTTP status to answer with (400, 413, 431, 501, 505 ...).
        request: The request head, when it was read before the error (else ``None``).
    """

    def __init__(self, status: int, message: str, request: HTTPRequest | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.request = request


class HTTPSendError(Exception):
    """A response could not be encoded (h11 refused it, e.g. an invalid scripted header)."""


@attrs.define
class HTTPRequest:
    """One parsed HTTP request.

    Attributes:
        method: Upper-case method, e.g. ``"POST"``.
        target: The request target exactly as sent (path plus query string).
        version: ``"HTTP/1.1"`` or ``"HTTP/1.0"``.
        headers: Header fields in arrival order, names lower-cased.
        body: The complete (de-chunked) body.
    """

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return the value of a header (several fields are joined with ``", "``)."""
        values = [v for k, v in self.headers if k == name]
        return ", ".join(values) if values else None

    @property
    def path(self) -> str:
        """The target without its query string."""
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        """Whether the client allows the connection to be reused after this request.

        h11 has the last word (:attr:`HTTPConnection.reusable`): it never keeps an HTTP/1.0
        connection open.
        """
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


def _latin1(value: str) -> bytes:
    return value.encode("latin-1", "replace")


class HTTPConnection:
    """The server side of one HTTP/1.1 connection: an ``h11.Connection`` on a trio stream.

    Requests are read with :meth:`read_request`; a response is encoded with :meth:`response`
    and written by the caller. Bytes that arrive while a response is being written (the
    caller watches the stream for a hang-up) go to :meth:`receive_data`: a pipelined request is
    kept by h11 until :meth:`next_cycle`.
    """

    def __init__(self, stream: trio.abc.Stream) -> None:
        require_h11()
        self._stream = stream
        self._conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)

    def receive_data(self, data: bytes) -> None:
        """Hand h11 bytes that were received out of band (``b""``: end of file)."""
        self._conn.receive_data(data)

    async def _next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        """The next event h11 can parse, receiving until it has one (never ``NEED_DATA``)."""
        while True:
            event = self._conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            self._conn.receive_data(bytes(await self._stream.receive_some(_RECEIVE_BYTES)))

    async def read_request(self) -> HTTPRequest | None:
        """Read the next request, head and complete body.

        ``Expect: 100-continue`` is answered with ``100 Continue`` before the body is read.

        Returns:
            The request, or ``None`` when the peer closed the connection between requests.

        Raises:
            HTTPProtocolError: The request is malformed (h11's verdict, or an HTTP version
                other than 1.0 and 1.1), too large, or cut short by the peer.
        """
        request: HTTPRequest | None = None
        try:
            event = await self._next_event()
            if isinstance(event, h11.ConnectionClosed):
                return None
            if not isinstance(event, h11.Request):  # pragma: no cover - h11 guarantees it
                raise HTTPProtocolError(400, f"unexpected {type(event).__name__}")
            request = HTTPRequest(
                method=event.method.decode("ascii"),
                target=event.target.decode("latin-1"),
                version="HTTP/" + event.http_version.decode("ascii"),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers],
            )
            if request.version not in ("HTTP/1.1", "HTTP/1.0"):
                raise HTTPProtocolError(
                    505, f"unsupported HTTP version: {request.version[:50]!r}", request
                )
            head_bytes = (
                len(event.method)
                + len(event.target)
                + 12
                + sum(len(k) + len(v) + 4 for k, v in event.headers)
            )
            if head_bytes > MAX_HEAD_BYTES:
                raise HTTPProtocolError(431, "request headers too large", request)
            length = request.header("content-length")
            if length is not None and int(length) > MAX_BODY_BYTES:  # h11 checked the digits
                raise HTTPProtocolError(413, "request body too large", request)
            if self._conn.they_are_waiting_for_100_continue:
                await self._send_all(
                    self._conn.send(
                        h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
                    )
                )
            body = bytearray()
            while True:
                event = await self._next_event()
                if isinstance(event, h11.Data):
                    body += event.data
                    if len(body) > MAX_BODY_BYTES:
                        raise HTTPProtocolError(413, "request body too large", request)
                elif isinstance(event, h11.EndOfMessage):
                    request.body = bytes(body)
                    return request
                else:  # pragma: no cover - h11 allows nothing else inside a request
                    raise HTTPProtocolError(400, f"unexpected {type(event).__name__}", request)
        except h11.RemoteProtocolError as exc:
            raise HTTPProtocolError(exc.error_status_hint, str(exc), request) from exc

    async def _send_all(self, data: bytes | None) -> None:
        if data:
            await self._stream.send_all(data)

    def response(
        self, status: int, headers: Iterable[tuple[str, str]], body: Iterable[bytes] = ()
    ) -> Iterator[bytes]:
        """Encode a response lazily: one item per piece of ``body``, framed by h11.

        The first item carries the status line and headers, the last one the end of the
        message; with no body the only item holds both. With a ``transfer-encoding: chunked``
        header every piece is one chunk, otherwise ``content-length`` must frame the body
        (or, for HTTP/1.0, the end of the connection does).

        Raises:
            HTTPSendError: h11 refused the response (e.g. an invalid header name or value).
        """
        try:
            head = self._send(
                h11.Response(
                    status_code=status,
                    headers=[(_latin1(k), _latin1(v)) for k, v in headers],
                    reason=_latin1(_REASONS.get(status, "Status")),
                )
            )
            previous: bytes | None = None
            for piece in body:
                if not piece:
                    continue
                data = self._send(h11.Data(data=piece))
                if previous is not None:
                    yield head + previous
                    head = b""
                previous = data
            yield head + (previous or b"") + self._send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise HTTPSendError(f"h11 refused the response: {exc}") from exc

    def _send(self, event: h11.Event) -> bytes:
        data = self._conn.send(event)
        assert data is not None  # only ConnectionClosed encodes to None
        return data

    @property
    def reusable(self) -> bool:
        """Whether h11 allows another request on this connection (after a full exchange)."""
        return self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE

    def next_cycle(self) -> bool:
        """After a complete exchange: prepare for the next request if the connection allows.

        Returns:
            Whether the connection can carry another request (``False``: close it).
        """
        if not self.reusable:
            return False
        self._conn.start_next_cycle()
        return True
