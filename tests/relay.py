"""A TCP relay between a station and its CSMS that can break the link the ways networks do.

    relay = Relay("127.0.0.1", csms_port)
    await relay.start()                    # stations connect to relay.port
    relay.cut()                            # both ends see the TCP connection reset
    relay.half_open()                      # nothing moves any more, nobody is told (a dead path)
"""

from __future__ import annotations

import asyncio
import contextlib


class Relay:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter, asyncio.Event]] = []
        self.frozen: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter, asyncio.Event]] = []
        self.tasks: set[asyncio.Task[None]] = set()  # strong references: a dead path must not be collected
        self.connections = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        frozen = asyncio.Event()
        self.links.append((writer, up_writer, frozen))

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    if frozen.is_set():
                        continue  # a dead path swallows everything
                    dst.write(data)
                    await dst.drain()
            if not frozen.is_set():
                with contextlib.suppress(Exception):
                    dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    def cut(self) -> None:
        """Reset every relayed connection at once (both ends see it)."""
        for down, up, _ in self.links:
            for writer in (down, up):
                transport = writer.transport
                if not transport.is_closing():
                    transport.abort()
        self.links.clear()

    def half_open(self) -> None:
        """Stop moving bytes on every current connection without telling either end."""
        for link in self.links:
            link[2].set()
            self.frozen.append(link)
        self.links.clear()

    async def close(self) -> None:
        self.links.extend(self.frozen)
        self.frozen.clear()
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
