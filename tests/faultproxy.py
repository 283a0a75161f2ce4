"""A TCP proxy put between the client under test and the real server, which fails on command.

    with FaultProxy("127.0.0.1", 5432) as proxy:   # listens on 127.0.0.1:proxy.port
        ...                                          # connect the client to proxy.port
        proxy.drop()        # reset every connection at once (RST to both sides)
        proxy.stall()       # keep every connection open, forward nothing either way
        proxy.half_open()   # the server's side is closed, the client's is kept and told nothing
        proxy.refuse()      # reset every connection, and each new one at once (server "down")
        proxy.resume()      # pass bytes again (stalled bytes flow on; half-open stays dead)
        proxy.connections   # how many client connections it holds open now

A fault can also wait for a moment in the conversation: ``proxy.fail_on(COMMIT, "drop")`` drops
the connection just before the client's COMMIT reaches the server (so it never commits), and
``proxy.fail_on(COMMIT, "drop", after_reply=True)`` forwards the COMMIT and drops the connection
when the server answers, so the transaction is committed but the client never hears so. Each
``fail_on`` fires once.

Everything happens on one thread with a selector; the control methods hand their work to it and
return once it is done, so after ``drop()`` returns the resets have been sent.
"""

from __future__ import annotations

import contextlib
import enum
import queue
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

# The PostgreSQL simple-query message psycopg sends to commit: 'Q', int32 length, "COMMIT\0".
COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"

Action = Literal["drop", "stall", "half_open", "refuse"]
T = TypeVar("T")

_CHUNK = 65536
_MAX_BUFFERED = 1 << 20  # stop reading a side while this much waits to be written to the other
_COMMAND_TIMEOUT = 10.0


class Mode(enum.Enum):
    PASS = "pass"
    STALL = "stall"
    HALF_OPEN = "half_open"
    REFUSE = "refuse"


@dataclass
class _Trigger:
    pattern: bytes
    action: Action
    after_reply: bool


class _Link:
    """One client connection and, while it is forwarded, its connection to the server."""

    def __init__(self, client: socket.socket) -> None:
        self.client = client
        self.server: socket.socket | None = None
        self.to_server = bytearray()
        self.to_client = bytearray()
        self.client_eof = False  # the client said it sends no more (FIN)
        self.server_eof = False
        self.orphaned = False  # half-open: the server's side is gone and the client is not told
        self.tail = b""  # the end of the last chunk, to find a pattern split across two
        self.armed: _Trigger | None = None  # waiting for the server's reply to act


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._mode = Mode.PASS
        self._links: list[_Link] = []
        self._triggers: list[_Trigger] = []
        self._registered: dict[socket.socket, int] = {}
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], _Reply]] = queue.SimpleQueue()
        self._selector = selectors.DefaultSelector()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._stopping = False
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._started = False
        self._closed = False

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._started = True
        return self

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the thread and close every socket (clients still connected are reset)."""
        if self._closed:
            return
        self._closed = True
        if self._started and self._thread.is_alive():
            self._stopping = True
            self._wake()
            self._thread.join(_COMMAND_TIMEOUT)
            if self._thread.is_alive():  # pragma: no cover - a bug in the loop
                raise RuntimeError("the fault proxy's thread did not stop")
        else:
            self._close_everything()
        if self._failure is not None:
            raise RuntimeError("the fault proxy failed") from self._failure

    # --- controls (any thread) ----------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def connections(self) -> int:
        """How many client connections the proxy holds open now (forwarded, stalled or half
        open)."""
        return self._call(lambda: len(self._links))

    def drop(self) -> None:
        """Reset every current connection, on both sides, at once. The mode stays as it was."""
        self._call(self._drop_all)

    def stall(self) -> None:
        """Keep every connection open but forward no byte either way; new connections are
        accepted and held, not forwarded, until ``resume()``."""
        self._call(lambda: self._set_mode(Mode.STALL))

    def half_open(self) -> None:
        """Close the server's side of every connection without telling the client: its socket
        stays open and receives nothing, ever. New connections get the same treatment until
        ``resume()``."""
        self._call(lambda: self._set_mode(Mode.HALF_OPEN))

    def refuse(self) -> None:
        """Reset every connection, and each new one at once, as a server that is down (until
        ``resume()``)."""
        self._call(lambda: self._set_mode(Mode.REFUSE))

    def resume(self) -> None:
        """Forward again: stalled connections carry on with what they had queued; connections
        made half open stay dead (the client has to notice on its own)."""
        self._call(lambda: self._set_mode(Mode.PASS))

    def fail_on(self, pattern: bytes, action: Action, *, after_reply: bool = False) -> None:
        """When a client next sends ``pattern``: do ``action`` before it reaches the server, or
        (``after_reply``) let it through and do ``action`` when the server answers, before the
        answer reaches the client. Fires once."""
        trigger = _Trigger(pattern, action, after_reply)
        self._call(lambda: self._triggers.append(trigger))

    def wait_until(self, condition: Callable[[FaultProxy], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while not condition(self):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def _call(self, fn: Callable[[], T]) -> T:
        if threading.current_thread() is self._thread:
            return fn()
        if self._failure is not None:
            raise RuntimeError("the fault proxy failed") from self._failure
        if not self._started or self._closed:
            raise RuntimeError("the fault proxy is not running")
        reply = _Reply()
        self._commands.put((fn, reply))
        self._wake()
        if not reply.done.wait(_COMMAND_TIMEOUT):  # pragma: no cover - a bug in the loop
            raise RuntimeError("the fault proxy's thread did not answer")
        if reply.error is not None:
            raise RuntimeError("the fault proxy failed") from reply.error
        return reply.value  # type: ignore[no-any-return]

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # already awake, or closed
            self._wake_w.send(b"x")

    # --- the loop (its own thread) ------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping:
                for key, events in self._selector.select(timeout=1.0):
                    sock = key.fileobj
                    if sock is self._wake_r:
                        with contextlib.suppress(BlockingIOError):
                            self._wake_r.recv(4096)
                    elif sock is self._listener:
                        self._accept()
                    else:
                        link = key.data
                        # Not closed by an earlier event of this batch:
                        if link in self._links and sock in (link.client, link.server):
                            self._service(link, sock, events)
                self._run_commands()
        except BaseException as exc:  # pragma: no cover - a bug in the loop
            self._failure = exc
        finally:
            self._close_everything()
            self._run_commands(failed=True)

    def _run_commands(self, *, failed: bool = False) -> None:
        while True:
            try:
                fn, reply = self._commands.get_nowait()
            except queue.Empty:
                return
            if failed:
                reply.error = self._failure or RuntimeError("the fault proxy stopped")
            else:
                try:
                    reply.value = fn()
                except Exception as exc:  # handed back to the caller
                    reply.error = exc
            reply.done.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            client.setblocking(False)
            if self._mode is Mode.REFUSE:
                _reset(client)
                continue
            link = _Link(client)
            self._links.append(link)
            if self._mode is Mode.PASS:
                self._connect(link)
            elif self._mode is Mode.HALF_OPEN:
                link.orphaned = True
            self._update(link)

    def _connect(self, link: _Link) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:  # the server is not there: the client is reset, as by the server
            self._abort(link)
            return
        server.setblocking(False)
        server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link.server = server

    def _service(self, link: _Link, sock: Any, events: int) -> None:
        try:
            if link.orphaned:  # swallow whatever the client says; notice when it hangs up
                if not sock.recv(_CHUNK):
                    self._close_link(link)
                return
            from_client = sock is link.client
            if events & selectors.EVENT_READ:
                data = sock.recv(_CHUNK)
                if not data:
                    if from_client:
                        link.client_eof = True
                    else:
                        link.server_eof = True
                elif from_client:
                    self._from_client(link, data)
                else:
                    self._from_server(link, data)
            if link in self._links and events & selectors.EVENT_WRITE:
                self._flush(link, sock)
        except OSError:  # reset or broken: pass the reset on to the other side
            self._abort(link)
            return
        if link in self._links:
            self._finish_if_done(link)
        if link in self._links:
            self._update(link)

    def _from_client(self, link: _Link, data: bytes) -> None:
        seen = link.tail + data
        for trigger in list(self._triggers):
            # Only a match that ends in the new bytes (the tail was searched last time).
            start = max(0, len(link.tail) - len(trigger.pattern) + 1)
            if seen.find(trigger.pattern, start) >= 0:
                self._triggers.remove(trigger)
                if trigger.after_reply:
                    link.armed = trigger
                else:
                    link.tail = seen[-64:]
                    link.to_server += data  # held (stall) or thrown away (drop, half open)
                    self._act(trigger.action)
                    return
        link.tail = seen[-64:]
        link.to_server += data

    def _from_server(self, link: _Link, data: bytes) -> None:
        link.to_client += data
        if link.armed is not None:
            trigger, link.armed = link.armed, None
            self._act(trigger.action)

    def _act(self, action: Action) -> None:
        if action == "drop":
            self._drop_all()
        else:
            self._set_mode(Mode(action))

    def _flush(self, link: _Link, sock: socket.socket) -> None:
        if self._mode is not Mode.PASS:
            return
        buffer = link.to_server if sock is link.server else link.to_client
        if buffer:
            sent = sock.send(buffer)
            del buffer[:sent]

    def _finish_if_done(self, link: _Link) -> None:
        """Pass a hang-up on once what came before it has been delivered."""
        if self._mode is not Mode.PASS or link.server is None:
            return
        if link.client_eof and not link.to_server:
            with contextlib.suppress(OSError):
                link.server.shutdown(socket.SHUT_WR)
        if link.server_eof and not link.to_client:
            with contextlib.suppress(OSError):
                link.client.shutdown(socket.SHUT_WR)
        if link.client_eof and link.server_eof and not link.to_client:
            self._close_link(link)  # both hung up (what the server did not read is moot)

    # --- state changes (loop thread) ----------------------------------------------------------

    def _set_mode(self, mode: Mode) -> None:
        self._mode = mode
        for link in list(self._links):
            if mode is Mode.REFUSE:
                self._abort(link)
            elif mode is Mode.HALF_OPEN and not link.orphaned:
                self._orphan(link)
            elif mode is Mode.PASS and link.server is None and not link.orphaned:
                self._connect(link)  # held while stalled: forward it now
            if link in self._links:
                self._finish_if_done(link)
            if link in self._links:
                self._update(link)

    def _orphan(self, link: _Link) -> None:
        if link.server is not None:
            self._unregister(link.server)
            with contextlib.suppress(OSError):
                link.server.close()  # the server sees the client go; the client sees nothing
            link.server = None
        link.orphaned = True
        link.armed = None
        link.to_server.clear()
        link.to_client.clear()

    def _drop_all(self) -> None:
        for link in list(self._links):
            self._abort(link)

    def _abort(self, link: _Link) -> None:
        """Reset both sides (RST, not a polite FIN)."""
        for sock in (link.client, link.server):
            if sock is not None:
                self._unregister(sock)
                _reset(sock)
        link.server = None
        if link in self._links:
            self._links.remove(link)

    def _close_link(self, link: _Link) -> None:
        for sock in (link.client, link.server):
            if sock is not None:
                self._unregister(sock)
                with contextlib.suppress(OSError):
                    sock.close()
        link.server = None
        if link in self._links:
            self._links.remove(link)

    def _update(self, link: _Link) -> None:
        """Register each side for what it should be watched for in the current mode."""
        client_events = server_events = 0
        if link.orphaned:
            client_events = selectors.EVENT_READ
        elif link.server is not None and self._mode is Mode.PASS:
            if not link.client_eof and len(link.to_server) < _MAX_BUFFERED:
                client_events |= selectors.EVENT_READ
            if link.to_client:
                client_events |= selectors.EVENT_WRITE
            if not link.server_eof and len(link.to_client) < _MAX_BUFFERED:
                server_events |= selectors.EVENT_READ
            if link.to_server:
                server_events |= selectors.EVENT_WRITE
        self._register(link.client, client_events, link)
        if link.server is not None:
            self._register(link.server, server_events, link)

    def _register(self, sock: socket.socket, events: int, link: _Link) -> None:
        current = self._registered.get(sock, 0)
        if events == current:
            return
        if not events:
            self._unregister(sock)
        elif not current:
            self._selector.register(sock, events, link)
            self._registered[sock] = events
        else:
            self._selector.modify(sock, events, link)
            self._registered[sock] = events

    def _unregister(self, sock: socket.socket) -> None:
        if self._registered.pop(sock, 0):
            self._selector.unregister(sock)

    def _close_everything(self) -> None:
        for link in list(self._links):
            self._abort(link)
        for sock in (self._listener, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                sock.close()
        self._selector.close()


class _Reply:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


def _reset(sock: socket.socket) -> None:
    """Close with an RST: SO_LINGER on with a zero timeout."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
