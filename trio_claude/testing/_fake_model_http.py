"""A deliberately small HTTP/1.1 server-side codec on top of trio streams.

Only what the fake model server needs: request line and headers, ``Content-Length`` and chunked
request bodies, ``Expect: 100-continue``, keep-alive, and responses framed either by
``Content-Length`` or by chunked transfer coding (used for SSE so that the connection can be
reused afterwards).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import trio

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "HTTPProtocolError",
    "HTTPReader",
    "HTTPRequest",
    "encode_chunk",
    "encode_head",
    "LAST_CHUNK",
]

MAX_HEAD_BYTES = 64 * 1024
"""Request line plus headers larger than this are rejected with 431."""

MAX_BODY_BYTES = 256 * 1024 * 1024
"""Request bodies larger than this are rejected with 413."""

LAST_CHUNK = b"0\r\n\r\n"

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


class HTTPProtocolError(Exception):
    """The peer sent something that is not acceptable HTTP/1.1.

    Attributes:
        status: The HTTP status to answer with (400, 413, 431, 501, 505 ...).
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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
        """Whether the client allows the connection to be reused after this request."""
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


class HTTPReader:
    """Buffered reader that pulls HTTP requests off a byte stream.

    Bytes that arrive while a response is being written (for example because the watcher in
    the server noticed them) can be handed back with :meth:`push`.
    """

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buf = bytearray()

    def push(self, data: bytes) -> None:
        """Append bytes that were received out of band."""
        self._buf += data

    @property
    def buffered(self) -> bool:
        """Whether unread bytes are waiting in the buffer."""
        return bool(self._buf)

    async def _fill(self) -> bool:
        data = await self._stream.receive_some(65536)
        if not data:
            return False
        self._buf += data
        return True

    async def _read_line(self, limit: int) -> bytes:
        start = 0
        while True:
            idx = self._buf.find(b"\n", start)
            if idx >= 0:
                line = bytes(self._buf[: idx + 1])
                del self._buf[: idx + 1]
                return line.rstrip(b"\r\n")
            if len(self._buf) > limit:
                raise HTTPProtocolError(431, "request line or header too long")
            start = max(0, len(self._buf) - 1)
            if not await self._fill():
                raise HTTPProtocolError(400, "connection closed in the middle of a request")

    async def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not await self._fill():
                raise HTTPProtocolError(400, "connection closed in the middle of a request body")
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    async def read_head(self) -> HTTPRequest | None:
        """Read a request line and headers.

        Returns:
            The request with an empty body, or ``None`` when the peer closed the connection
            cleanly between requests.

        Raises:
            HTTPProtocolError: The request head is malformed.
        """
        # Tolerate stray blank lines between requests (RFC 9112 section 2.2).
        while True:
            while not self._buf:
                if not await self._fill():
                    return None
            line = await self._read_line(MAX_HEAD_BYTES)
            if line:
                break
        try:
            text = line.decode("latin-1")
        except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes everything
            raise HTTPProtocolError(400, "undecodable request line") from exc
        parts = text.split(" ")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise HTTPProtocolError(400, f"malformed request line: {text[:200]!r}")
        method, target, version = parts
        if not method.isalpha() or not method.isupper():
            raise HTTPProtocolError(400, f"malformed method: {method[:50]!r}")
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            raise HTTPProtocolError(505, f"unsupported HTTP version: {version[:50]!r}")
        headers: list[tuple[str, str]] = []
        total = len(line)
        while True:
            hline = await self._read_line(MAX_HEAD_BYTES)
            total += len(hline)
            if total > MAX_HEAD_BYTES:
                raise HTTPProtocolError(431, "request headers too large")
            if not hline:
                break
            if hline[:1] in (b" ", b"\t"):
                raise HTTPProtocolError(400, "obsolete header line folding is not supported")
            name, sep, value = hline.partition(b":")
            if not sep or not name or name != name.strip():
                raise HTTPProtocolError(400, f"malformed header line: {hline[:200]!r}")
            headers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
        return HTTPRequest(method=method, target=target, version=version, headers=headers)

    async def read_body(self, request: HTTPRequest) -> bytes:
        """Read the body announced by ``request``'s headers.

        Raises:
            HTTPProtocolError: Bad framing, or a body over :data:`MAX_BODY_BYTES`.
        """
        te = request.header("transfer-encoding")
        cl = request.header("content-length")
        if te is not None:
            codings = [c.strip().lower() for c in te.split(",") if c.strip()]
            if codings != ["chunked"]:
                raise HTTPProtocolError(501, f"unsupported transfer-encoding: {te[:100]!r}")
            if cl is not None:
                raise HTTPProtocolError(400, "both transfer-encoding and content-length given")
            return await self._read_chunked()
        if cl is None:
            return b""
        values = {v.strip() for v in cl.split(",")}
        if len(values) != 1:
            raise HTTPProtocolError(400, "conflicting content-length values")
        value = values.pop()
        if not value.isdigit():
            raise HTTPProtocolError(400, f"malformed content-length: {value[:50]!r}")
        length = int(value)
        if length > MAX_BODY_BYTES:
            raise HTTPProtocolError(413, "request body too large")
        return await self._read_exact(length)

    async def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_line = await self._read_line(4096)
            size_text = size_line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError as exc:
                raise HTTPProtocolError(400, f"malformed chunk size: {size_text[:50]!r}") from exc
            if size < 0:
                raise HTTPProtocolError(400, "negative chunk size")
            if size == 0:
                # Trailer fields (ignored) up to the empty line.
                while await self._read_line(MAX_HEAD_BYTES):
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise HTTPProtocolError(413, "request body too large")
            body += await self._read_exact(size)
            if await self._read_exact(2) != b"\r\n":
                raise HTTPProtocolError(400, "chunk not terminated by CRLF")


def encode_head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    """Encode a status line and header block (including the terminating blank line)."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines.extend(f"{k}: {v}" for k, v in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def encode_chunk(data: bytes) -> bytes:
    """Frame ``data`` as one chunk of a chunked body (empty data encodes nothing)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)
