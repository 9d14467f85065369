"""In-memory WebSockets and the tap that records what a scripted peer sees.

``memory_pair()`` gives two connected ends with the interface a runtime ``Connection`` uses
(``WebSocketLike``): what one end sends, the other iterates, in order; ``close`` ends both.
No sockets, no clock: a pair of them runs the real connection, session and protocol core of
both sides in one event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

__all__ = ["Frame", "MemorySocket", "Tap", "memory_pair"]


@dataclass(frozen=True)
class _Closed:
    code: int
    reason: str


class MemorySocket:
    """One end of an in-memory WebSocket."""

    def __init__(self, remote_address: object) -> None:
        self.remote_address = remote_address
        self.peer: MemorySocket | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._inbox: asyncio.Queue[str | bytes | _Closed] = asyncio.Queue()

    @property
    def transport(self) -> MemorySocket:
        return self

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[str | bytes]:
        while True:
            item = await self._inbox.get()  # what was sent before a close still arrives
            if isinstance(item, _Closed):
                return
            yield item

    async def send(self, message: str | bytes, /) -> None:
        if self.close_code is not None or self.peer is None or self.peer.close_code is not None:
            code = self.close_code if self.close_code is not None else 1006
            raise ConnectionClosed(Close(code, self.close_reason or ""), None)
        self.peer._inbox.put_nowait(message)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close both ends with ``code`` (each end's ``close_code`` becomes it, as after a
        closing handshake)."""
        self._shut(code, reason)
        await asyncio.sleep(0)

    def _shut(self, code: int, reason: str) -> None:
        for end in (self, self.peer):
            if end is not None and end.close_code is None:
                end.close_code, end.close_reason = code, reason
                end._inbox.put_nowait(_Closed(code, reason))

    async def ping(self) -> Awaitable[object]:
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        done.set_result(0.0)
        return done

    def is_closing(self) -> bool:
        return self.close_code is not None

    def abort(self) -> None:
        self._shut(1006, "")


def memory_pair(address: tuple[str, int] = ("memory", 0)) -> tuple[MemorySocket, MemorySocket]:
    """Two connected ends: (the tested side's, the scripted peer's)."""
    a, b = MemorySocket(address), MemorySocket(("memory", 1))
    a.peer, b.peer = b, a
    return a, b


@dataclass(frozen=True)
class Frame:
    """One OCPP-J message on the link, seen from the tested side: ``direction`` is ``<`` for a
    frame it received (the scripted peer sent it) and ``>`` for one it sent, as in the
    runtime's frame log (logger ``ocppgen.frames``)."""

    direction: str
    text: str
    message: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.message is None:
            try:
                object.__setattr__(self, "message", json.loads(self.text))
            except ValueError:
                object.__setattr__(self, "message", None)

    @property
    def type(self) -> int | None:
        """2 CALL, 3 CALLRESULT, 4 CALLERROR, 5 CALLRESULTERROR, 6 SEND (None: unreadable)."""
        m = self.message
        return m[0] if isinstance(m, list) and m and isinstance(m[0], int) else None

    @property
    def message_id(self) -> str | None:
        m = self.message
        return m[1] if isinstance(m, list) and len(m) > 1 and isinstance(m[1], str) else None

    @property
    def action(self) -> str | None:
        """The action of a CALL or SEND."""
        return self.message[2] if self.type in (2, 6) and len(self.message) > 2 else None

    @property
    def payload(self) -> Any:
        """The payload of a CALL, SEND or CALLRESULT."""
        if self.type in (2, 6) and len(self.message) > 3:
            return self.message[3]
        if self.type == 3 and len(self.message) > 2:
            return self.message[2]
        return None

    @property
    def error_code(self) -> str | None:
        """The error code of a CALLERROR or CALLRESULTERROR."""
        return self.message[2] if self.type in (4, 5) and len(self.message) > 2 else None

    def log_line(self, identity: str) -> str:
        """The line the runtime's frame log writes for this frame."""
        return f"{identity} {self.direction} {self.text}"


class Tap:
    """The scripted peer's socket, recording every frame; with ``intercept`` on, what the tested
    side sends is recorded but not given to the peer's protocol (replay, raw exchanges)."""

    def __init__(self, websocket: Any) -> None:
        self.websocket = websocket
        self.frames: list[Frame] = []
        self.arrived: asyncio.Queue[Frame] = asyncio.Queue()
        self.intercept = False

    @property
    def close_code(self) -> int | None:
        code: int | None = self.websocket.close_code
        return code

    @property
    def close_reason(self) -> str | None:
        reason: str | None = self.websocket.close_reason
        return reason

    @property
    def remote_address(self) -> Any:
        return self.websocket.remote_address

    @property
    def transport(self) -> Any:
        return self.websocket.transport

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[str | bytes]:
        try:
            async for message in self.websocket:
                if isinstance(message, str):
                    frame = Frame(">", message)
                    self.frames.append(frame)
                    self.arrived.put_nowait(frame)
                    if self.intercept:
                        continue
                yield message
        except ConnectionClosed:
            return

    async def send(self, message: str, /) -> None:
        self.frames.append(Frame("<", message))
        await self.websocket.send(message)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.websocket.close(code, reason)

    async def ping(self) -> Awaitable[object]:
        pong: Awaitable[object] = await self.websocket.ping()
        return pong
