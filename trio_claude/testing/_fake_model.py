"""A scripted fake of the Anthropic Messages API, served by trio on 127.0.0.1.

The real ``claude`` CLI is pointed at it with ``ANTHROPIC_BASE_URL``; every request is
answered from a script and recorded, so tests can assert what the CLI sent. See
``docs/fake-model.md`` for the full reference.

Example::

    script = [
        Turn([ToolUse("Bash", {"command": "echo hi"})]),
        Turn("the command printed {last_tool_result}"),
    ]
    async with open_fake_model(script) as model:
        env = {"ANTHROPIC_BASE_URL": model.base_url, "ANTHROPIC_API_KEY": "sk-ant-dummy"}
        ...  # run the CLI
        assert model.turn_requests()[1].last_tool_result == "hi"
"""

from __future__ import annotations

import base64
import functools
import logging
import math
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import orjson
import trio

from .._opener import async_context_only
from ._fake_model_http import (
    HTTPConnection,
    HTTPProtocolError,
    HTTPRequest,
    HTTPSendError,
    require_h11,
)
from ._fake_model_request import REDACTED as REDACTED
from ._fake_model_request import RecordedRequest as RecordedRequest
from ._fake_model_request import RequestKind as RequestKind
from ._fake_model_request import classify, redact_headers
from ._fake_model_script import Block as Block
from ._fake_model_script import HTTPError as HTTPError
from ._fake_model_script import Match as Match
from ._fake_model_script import RedactedThinking as RedactedThinking
from ._fake_model_script import Script as Script
from ._fake_model_script import ScriptLike as ScriptLike
from ._fake_model_script import Step as Step
from ._fake_model_script import StreamError as StreamError
from ._fake_model_script import Text as Text
from ._fake_model_script import Thinking as Thinking
from ._fake_model_script import ToolUse as ToolUse
from ._fake_model_script import Turn as Turn
from ._fake_model_script import Usage as Usage
from ._fake_model_script import as_script, status_for_error_type
from ._fake_model_script import dump_script as dump_script
from ._fake_model_script import load_script as load_script
from ._fake_model_wire import EXHAUSTED_TEXT as EXHAUSTED_TEXT
from ._fake_model_wire import (
    Answer,
    error_body,
    message_json,
    new_id,
    plain_answer,
    render_turn,
    schema_instance,
    sse_event,
    stream_events,
)

__all__ = [
    "EXHAUSTED_TEXT",
    "REDACTED",
    "Block",
    "FakeModel",
    "HTTPError",
    "Match",
    "RecordedRequest",
    "RedactedThinking",
    "RequestKind",
    "Script",
    "ScriptLike",
    "Step",
    "StreamError",
    "Text",
    "Thinking",
    "ToolUse",
    "Turn",
    "Usage",
    "dump_script",
    "load_script",
    "open_fake_model",
    "serve_fake_model",
]

log = logging.getLogger("trio_claude.testing.fake_model")

_SESSION_RE = re.compile(r"^/s/([^/]+)(/.*)?$")
_SESSION_NAME_RE = re.compile(r"^[A-Za-z0-9._~-]+$")
_MESSAGES = "/v1/messages"
_COUNT_TOKENS = "/v1/messages/count_tokens"


@attrs.define(eq=False)
class _Session:
    """Serving state of one script."""

    name: str | None
    script: Script
    served: list[int] = attrs.field(init=False)
    retired: set[int] = attrs.field(init=False, factory=set)

    def __attrs_post_init__(self) -> None:
        self.served = [0] * len(self.script.turns)

    def select(self, request: RecordedRequest) -> tuple[int, Step] | None:
        """Pick (and consume) the step that answers ``request``; ``None`` when exhausted."""
        for index, step in enumerate(self.script.turns):
            if index in self.retired:
                continue
            if step.accepts(request):
                self.served[index] += 1
                if not step.repeat:
                    self.retired.add(index)
                return index, step
            if step.repeat and self.served[index] > 0:
                # "repeat while the request matches": the first miss ends the repetition.
                self.retired.add(index)
        return None

    def pending(self) -> list[Step]:
        return [s for i, s in enumerate(self.script.turns) if i not in self.retired]


class FakeModel:
    """Handle on a running fake model server.

    Obtain one from :func:`serve_fake_model` (via ``nursery.start``) or
    :func:`open_fake_model`; do not construct it directly.

    Attributes:
        host: The address the server listens on.
        port: The TCP port it listens on.
        requests: Every request received, in arrival order (records are appended when the
            request has been read, and updated while it is answered).
    """

    def __init__(self, script: ScriptLike, *, host: str) -> None:
        self.host = host
        self.port = 0
        self.requests: list[RecordedRequest] = []
        self._sessions: dict[str | None, _Session] = {None: _Session(None, as_script(script))}
        self._changed = trio.Event()

    # ---- public API ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://host:port`` for ``ANTHROPIC_BASE_URL`` (serves the default script)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def session_base_url(self, name: str, script: ScriptLike | None = None) -> str:
        """Register ``script`` under ``name`` and return the base URL that selects it.

        The CLI keeps the path of ``ANTHROPIC_BASE_URL``, so with the returned
        ``http://127.0.0.1:PORT/s/<name>`` it posts to ``/s/<name>/v1/messages``. Registering
        a name again replaces its script and restarts it from the first step.

        Args:
            name: Session name (letters, digits, ``.``, ``_``, ``~``, ``-``).
            script: The script; ``None`` only looks up an already registered name.

        Returns:
            The base URL for that session.

        Raises:
            ValueError: Bad name, or ``script`` is ``None`` and the name is unknown.
        """
        if not _SESSION_NAME_RE.match(name):
            raise ValueError(f"invalid session name {name!r}")
        if script is not None:
            self._sessions[name] = _Session(name, as_script(script))
        elif name not in self._sessions:
            raise ValueError(f"no script registered under session {name!r}")
        return f"{self.base_url}/s/{name}"

    def cli_env(self, session: str | None = None, *, catch_egress: bool = True) -> dict[str, str]:
        """Environment variables that point a ``claude`` CLI at this server.

        ``ANTHROPIC_BASE_URL`` (the session's URL when ``session`` is given), a dummy
        ``ANTHROPIC_API_KEY``, ``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`` and
        ``DISABLE_AUTOUPDATER=1``. Add an isolated ``HOME`` and ``CLAUDE_CONFIG_DIR``
        yourself.

        Args:
            session: A registered session name, or ``None`` for the default script.
            catch_egress: Also set ``HTTPS_PROXY`` to this server (``NO_PROXY`` for
                loopback), so any attempt to reach the internet arrives here as a
                ``CONNECT``, is refused, and is recorded with ``kind == "connect"``.

        Raises:
            ValueError: ``session`` is not registered.
        """
        url = self.base_url if session is None else self.session_base_url(session)
        env = {
            "ANTHROPIC_BASE_URL": url,
            "ANTHROPIC_API_KEY": "sk-ant-fake-model",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
        }
        if catch_egress:
            user = session or "default"
            env["HTTPS_PROXY"] = self.base_url.replace("http://", f"http://{user}:x@", 1)
            env["NO_PROXY"] = "127.0.0.1,localhost,::1"
        return env

    def set_script(self, script: ScriptLike, session: str | None = None) -> None:
        """Replace the script of ``session`` (default: the prefix-less one) and restart it."""
        if session is None:
            self._sessions[None] = _Session(None, as_script(script))
        else:
            self.session_base_url(session, script)

    def turn_requests(self, session: str | None = None) -> list[RecordedRequest]:
        """Recorded ``kind == "turn"`` requests of one session (default: prefix-less)."""
        return [r for r in self.requests if r.kind == "turn" and r.session == session]

    def pending_steps(self, session: str | None = None) -> list[Step]:
        """Steps of a session's script that can still be served (not consumed or retired).

        Raises:
            KeyError: No such session.
        """
        return self._sessions[session].pending()

    async def wait_for_request(
        self, predicate: Callable[[RecordedRequest], bool] | None = None
    ) -> RecordedRequest:
        """Wait until a recorded request satisfies ``predicate`` and return it.

        The predicate is re-evaluated over all records whenever a request arrives or an
        answer finishes, so it can wait for states too, e.g.
        ``await model.wait_for_request(lambda r: r.disconnected)``. Already recorded
        requests count (the oldest match is returned). Wrap the call in
        :func:`trio.fail_after` to bound the wait.

        Args:
            predicate: Condition on the record; ``None`` accepts any request.
        """
        while True:
            changed = self._changed
            for record in self.requests:
                if predicate is None or predicate(record):
                    return record
            await changed.wait()

    # ---- recording -------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _record(self, record: RecordedRequest) -> RecordedRequest:
        self.requests.append(record)
        self._notify()
        log.debug(
            "fake model: %s %s session=%s kind=%s",
            record.method,
            record.path,
            record.session,
            record.kind,
        )
        return record

    # ---- connection handling -----------------------------------------------------------------

    async def _handle_connection(self, stream: trio.SocketStream) -> None:
        http = HTTPConnection(stream)
        try:
            while True:
                try:
                    head = await http.read_request()
                except HTTPProtocolError as exc:
                    await self._reject_malformed(stream, http, exc)
                    return
                if head is None:
                    return
                if head.method == "CONNECT":
                    await self._refuse_connect(stream, http, head)
                    return
                if not await self._dispatch(stream, http, head) or not http.next_cycle():
                    return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            await trio.aclose_forcefully(stream)

    async def _reject_malformed(
        self, stream: trio.SocketStream, http: HTTPConnection, exc: HTTPProtocolError
    ) -> None:
        head = exc.request
        record = self._record(
            RecordedRequest(
                method=head.method if head else "",
                path=head.target if head else "",
                session=None,
                headers=redact_headers(head.headers) if head else {},
                kind="invalid",
                status=exc.status,
                error=str(exc),
            )
        )
        body = error_body(_error_type(exc.status), f"fake model: {exc}", new_id("req"))
        await self._send_json(stream, http, exc.status, body, keep_alive=False)
        record.completed = True
        self._notify()

    async def _refuse_connect(
        self, stream: trio.SocketStream, http: HTTPConnection, head: HTTPRequest
    ) -> None:
        session: str | None = None
        auth = head.header("proxy-authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                user = base64.b64decode(auth[6:].strip()).decode("utf-8", "replace")
                session = user.split(":", 1)[0] or None
            except ValueError:
                session = None
        message = f"fake model: egress to {head.target} refused"
        record = self._record(
            RecordedRequest(
                method="CONNECT",
                path=head.target,
                session=session,
                headers=redact_headers(head.headers),
                kind="connect",
                status=403,
                error=message,
            )
        )
        await self._send_json(
            stream, http, 403, error_body("permission_error", message), keep_alive=False
        )
        record.completed = True
        self._notify()

    async def _dispatch(
        self, stream: trio.SocketStream, http: HTTPConnection, head: HTTPRequest
    ) -> bool:
        """Record and answer one request; return whether the connection may be reused."""
        path = head.path
        session_name: str | None = None
        m = _SESSION_RE.match(path)
        if m:
            session_name, path = m.group(1), m.group(2) or "/"
        record = self._record(
            RecordedRequest(
                method=head.method,
                path=head.target,
                session=session_name,
                headers=redact_headers(head.headers),
                kind="invalid",
            )
        )
        try:
            keep_alive = await self._answer(stream, http, head, record, path)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            record.disconnected = True
            raise
        except HTTPSendError as exc:
            # A scripted answer h11 cannot send (say, a header value with a line break): the
            # client sees the connection close; the record says why.
            record.error = f"fake model: cannot send the scripted answer: {exc}"
            log.warning("%s", record.error)
            return False
        else:
            record.completed = not record.disconnected
        finally:
            self._notify()
        return keep_alive

    async def _answer(
        self,
        stream: trio.SocketStream,
        http: HTTPConnection,
        head: HTTPRequest,
        record: RecordedRequest,
        path: str,
    ) -> bool:
        session_name = record.session
        keep_alive = head.keep_alive

        async def fail(status: int, message: str, error_type: str | None = None) -> bool:
            record.status = status
            record.error = message
            body = error_body(error_type or _error_type(status), message, new_id("req"))
            return await self._send_json(stream, http, status, body, keep_alive=keep_alive)

        if head.method == "HEAD":
            record.kind = "head"
            response = http.response(200, _common_headers(keep_alive, ("content-length", "0")))
            await stream.send_all(b"".join(response))
            return keep_alive
        if path not in (_MESSAGES, _COUNT_TOKENS):
            return await fail(404, f"fake model: no route for {head.method} {head.target}")
        if head.method != "POST":
            return await fail(405, f"fake model: {head.method} not allowed on {path}")
        session = self._sessions.get(session_name)
        if session is None:
            return await fail(
                404,
                f"fake model: no script registered under session {session_name!r}",
                "not_found_error",
            )
        try:
            body = orjson.loads(head.body)
        except orjson.JSONDecodeError as exc:
            return await fail(400, f"fake model: request body is not valid JSON: {exc}")
        record.body = body
        if not isinstance(body, dict):
            return await fail(400, "fake model: request body must be a JSON object")
        if not isinstance(body.get("messages"), list):
            return await fail(400, "fake model: messages: field required (a list)")
        if not isinstance(body.get("model"), str):
            return await fail(400, "fake model: model: field required (a string)")
        record.kind = classify(body, count_tokens=path == _COUNT_TOKENS)
        record.stream = body.get("stream") is True
        if record.kind == "count_tokens":
            tokens = max(1, len(head.body) // 4)
            return await self._send_json(
                stream, http, 200, {"input_tokens": tokens}, keep_alive=keep_alive
            )
        if record.kind != "turn":
            return await self._send_answer(
                stream, http, record, _aux_answer(record, session.script), keep_alive
            )
        selected = session.select(record)
        if selected is None:
            record.exhausted = True
            log.warning("fake model: script %r exhausted", session_name or "(default)")
            answer = plain_answer(record, [{"type": "text", "text": EXHAUSTED_TEXT}])
            return await self._send_answer(stream, http, record, answer, keep_alive)
        record.turn_index, step = selected
        if isinstance(step, Turn):
            return await self._send_answer(
                stream,
                http,
                record,
                render_turn(step, record),
                keep_alive,
                delay=step.delay,
            )
        if isinstance(step, HTTPError):
            record.status = step.status
            request_id = new_id("req")
            payload = orjson.dumps(error_body(step.error_type, step.message, request_id))
            headers = [
                ("content-type", "application/json"),
                ("request-id", request_id),
                *((k.lower(), v) for k, v in step.headers.items()),
                ("content-length", str(len(payload))),
            ]
            return await self._send_pieces(
                stream,
                http,
                record,
                http.response(step.status, _common_headers(keep_alive, *headers), [payload]),
                delay=step.delay,
                keep_alive=keep_alive,
            )
        # StreamError
        if not record.stream:
            status = status_for_error_type(step.type)
            return await fail(status, step.message, step.type)
        partial = render_turn(Turn(step.blocks, ping=False), record)
        events = stream_events(partial)
        # Never the closing message_delta / message_stop: the error replaces them.
        events = events[: max(0, min(step.after_events, len(events) - 2))]
        events.append({"type": "error", "error": {"type": step.type, "message": step.message}})
        return await self._send_sse(
            stream, http, record, events, delay=step.delay, keep_alive=keep_alive
        )

    # ---- responses -----------------------------------------------------------------------------

    async def _send_json(
        self,
        stream: trio.SocketStream,
        http: HTTPConnection,
        status: int,
        body: Any,
        *,
        keep_alive: bool,
    ) -> bool:
        payload = orjson.dumps(body)
        headers = _common_headers(
            keep_alive,
            ("content-type", "application/json"),
            ("request-id", new_id("req")),
            ("content-length", str(len(payload))),
        )
        await stream.send_all(b"".join(http.response(status, headers, [payload])))
        return keep_alive

    async def _send_answer(
        self,
        stream: trio.SocketStream,
        http: HTTPConnection,
        record: RecordedRequest,
        answer: Answer,
        keep_alive: bool,
        *,
        delay: float = 0.0,
    ) -> bool:
        if record.stream:
            return await self._send_sse(
                stream, http, record, stream_events(answer), delay=delay, keep_alive=keep_alive
            )
        payload = orjson.dumps(message_json(answer))
        headers = _common_headers(
            keep_alive,
            ("content-type", "application/json"),
            ("request-id", new_id("req")),
            ("content-length", str(len(payload))),
        )
        return await self._send_pieces(
            stream,
            http,
            record,
            http.response(200, headers, [payload]),
            delay=delay,
            keep_alive=keep_alive,
        )

    async def _send_sse(
        self,
        stream: trio.SocketStream,
        http: HTTPConnection,
        record: RecordedRequest,
        events: Sequence[dict[str, Any]],
        *,
        delay: float,
        keep_alive: bool,
    ) -> bool:
        headers = _common_headers(
            keep_alive,
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("request-id", new_id("req")),
            # One chunk per event; h11 falls back to a close-delimited body for HTTP/1.0.
            ("transfer-encoding", "chunked"),
        )
        return await self._send_pieces(
            stream,
            http,
            record,
            http.response(200, headers, [sse_event(e) for e in events]),
            delay=delay,
            keep_alive=keep_alive,
        )

    async def _send_pieces(
        self,
        stream: trio.SocketStream,
        http: HTTPConnection,
        record: RecordedRequest,
        pieces: Iterable[bytes],
        *,
        delay: float,
        keep_alive: bool,
    ) -> bool:
        """Write ``pieces`` (sleeping ``delay`` before each) while watching for a hang-up.

        A client that closes its end while the answer is being written (for instance the CLI
        aborting an interrupted stream) marks the record ``disconnected``. Bytes it sends
        meanwhile (a pipelined request) go to ``http``, which keeps them for the next cycle.

        Raises:
            HTTPSendError: h11 refused to encode the answer.
        """
        if delay <= 0:
            pieces = [b"".join(pieces)]  # one write: no reason to trickle
        completed = False
        refused: HTTPSendError | None = None
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                # The client sends nothing while it waits for an answer; EOF means it left.
                try:
                    while True:
                        data = await stream.receive_some(65536)
                        if not data:
                            break
                        http.receive_data(data)  # a pipelined request: h11 keeps it
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass
                nursery.cancel_scope.cancel()

            nursery.start_soon(watch)
            try:
                for piece in pieces:
                    if delay > 0:
                        await trio.sleep(delay)
                    await stream.send_all(piece)
                completed = True
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            except HTTPSendError as exc:
                refused = exc  # raised outside the nursery, unwrapped
            nursery.cancel_scope.cancel()
        if refused is not None:
            raise refused
        if not completed:
            record.disconnected = True
            log.debug("fake model: client went away during %s", record.path)
            return False
        return keep_alive


def _error_type(status: int) -> str:
    return {
        400: "invalid_request_error",
        404: "not_found_error",
        405: "invalid_request_error",
        413: "request_too_large",
    }.get(status, "invalid_request_error" if status < 500 else "api_error")


def _common_headers(keep_alive: bool, *headers: tuple[str, str]) -> list[tuple[str, str]]:
    return [*headers, ("connection", "keep-alive" if keep_alive else "close")]


def _aux_answer(record: RecordedRequest, script: Script) -> Answer:
    """Answers to the CLI's auxiliary requests; they never consume scripted steps."""
    if record.kind == "probe":
        return plain_answer(
            record, [{"type": "text", "text": "Hi"}], stop_reason="max_tokens", output_tokens=1
        )
    if record.kind == "title":
        text = orjson.dumps({"title": script.title}).decode()
        return plain_answer(record, [{"type": "text", "text": text}])
    if record.kind == "compact":
        text = f"<analysis>\n[fake model]\n</analysis>\n\n<summary>\n{script.summary}\n</summary>"
        return plain_answer(record, [{"type": "text", "text": text}])
    body = record.body if isinstance(record.body, dict) else {}
    output_config = body.get("output_config")
    if isinstance(output_config, dict) and isinstance(output_config.get("format"), dict):
        instance = schema_instance(output_config["format"].get("schema"))
        text = orjson.dumps(instance).decode()
        return plain_answer(record, [{"type": "text", "text": text}])
    if "[SUGGESTION MODE:" in record.last_user_text:
        return plain_answer(record, [])
    return plain_answer(record, [{"type": "text", "text": "[fake model: auxiliary answer]"}])


async def serve_fake_model(
    script: ScriptLike = (),
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    task_status: trio.TaskStatus[FakeModel] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run a fake Anthropic Messages API server until cancelled.

    Use with ``nursery.start``; the started value is the :class:`FakeModel` handle::

        model = await nursery.start(serve_fake_model, [Turn("hello")])
        env["ANTHROPIC_BASE_URL"] = model.base_url

    Args:
        script: The default script, answering requests without a ``/s/<name>`` prefix.
        host: Address to listen on.
        port: TCP port; 0 picks a free one (see :attr:`FakeModel.port`).
        task_status: Passed by ``nursery.start``.

    Raises:
        MissingExtraError: h11 is not installed (``pip install 'trio-claude[testing]'``).
    """
    require_h11()
    model = FakeModel(script, host=host)
    listeners = await trio.open_tcp_listeners(port, host=host)
    model.port = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, model._handle_connection, listeners)
        task_status.started(model)
        await trio.sleep(math.inf)


@async_context_only("model")
@asynccontextmanager
async def open_fake_model(
    script: ScriptLike = (), *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[FakeModel]:
    """Serve a fake model for the duration of an ``async with`` block.

    Args:
        script: The default script (see :func:`serve_fake_model`).
        host: Address to listen on.
        port: TCP port; 0 picks a free one.

    Yields:
        The :class:`FakeModel` handle.

    Raises:
        MissingExtraError: h11 is not installed (``pip install 'trio-claude[testing]'``);
            raised on entry, outside any nursery.
    """
    require_h11()
    body_error: BaseException | None = None
    async with trio.open_nursery() as nursery:
        model: FakeModel = await nursery.start(
            functools.partial(serve_fake_model, script, host=host, port=port)
        )
        try:
            yield model
        except BaseException as exc:
            # Re-raised below, outside the nursery, so that it is not wrapped in an
            # exception group: ``pytest.raises(SomeError)`` around the block keeps working.
            body_error = exc
        finally:
            nursery.cancel_scope.cancel()
    if body_error is not None:
        try:
            raise body_error
        finally:
            body_error = None


def _main(argv: Sequence[str] | None = None) -> None:
    """``python -m trio_claude.testing._fake_model [script.json] [--port N]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve a scripted fake Anthropic API.")
    parser.add_argument("script", nargs="?", help="JSON script (default: empty script)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    script: ScriptLike = load_script(args.script) if args.script else ()
    logging.basicConfig(level=logging.DEBUG, format="%(message)s")

    async def run() -> None:
        async with open_fake_model(script, host=args.host, port=args.port) as model:
            print(f"ANTHROPIC_BASE_URL={model.base_url}", flush=True)
            await trio.sleep_forever()

    try:
        trio.run(run)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    _main()
