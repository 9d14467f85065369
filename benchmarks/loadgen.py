"""A load generator process for the idle and storm benchmarks: many raw-websockets stations
from one 127.x source address, driven by its parent over stdin/stdout (one JSON line each).

    python -m benchmarks.loadgen URL --source 127.0.0.2 --first 0 --count 5000 [--prefix S]
                                 [--tls CAFILE] [--no-deflate] [--queued 2] [--uvloop]

It connects ``count`` stations (``<prefix><first>`` ...), each sending a BootNotification, and
prints ``{"event": "ready", ...}``. Then it reads commands:

- ``storm``: every connection is dropped at once (aborted, as a carrier outage leaves them) and
  every station reconnects at once as a station built on the project's client does: an HTTP
  503 waits its Retry-After (with jitter), a Pending BootNotification waits its interval and
  boots again, and once Accepted the station delivers its ``queued`` TransactionEvents, one
  CALL at a time. It prints ``{"event": "storm", ...}`` with each station's times (wall clock).
- ``close``: close every connection and exit.

Several of these processes spread a load over source addresses (each has ~28,000 ephemeral
ports towards one server port) and over descriptor limits (each process has its own).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import resource
import ssl
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from benchmarks.messages import TRANSACTION_EVENT_201

BOOT = '{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}'
TX = json.dumps(dict(TRANSACTION_EVENT_201, eventType="Ended", triggerReason="EVDeparted"), separators=(",", ":"))
PASSWORD = "benchmark-password"


class Fleet:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.conns: dict[int, ClientConnection] = {}
        self.ssl: ssl.SSLContext | None = None
        if args.tls:
            self.ssl = ssl.create_default_context(cafile=args.tls)
            self.ssl.check_hostname = False
        self.refused = 0
        self.failures = 0
        self.attempts = 0
        self.pending = 0

    def _headers(self, name: str) -> dict[str, str]:
        if not self.args.tls:
            return {}
        token = base64.b64encode(f"{name}:{PASSWORD}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def _connect(self, i: int) -> ClientConnection:
        name = f"{self.args.prefix}{i}"
        self.attempts += 1
        return await connect(
            self.args.url + name, subprotocols=["ocpp2.0.1"], ping_interval=None, open_timeout=300,  # type: ignore[list-item]
            close_timeout=1, compression=None if self.args.no_deflate else "deflate", ssl=self.ssl,
            additional_headers=self._headers(name), local_addr=(self.args.source, 0),
            server_hostname="localhost" if self.ssl else None,
        )

    async def _boot(self, ws: ClientConnection, i: int) -> None:
        n = 0
        while True:
            n += 1
            await ws.send(f'[2,"b{i}-{n}","BootNotification",{BOOT}]')
            reply = json.loads(await ws.recv())
            if reply[0] != 3:
                raise RuntimeError(f"boot refused: {reply}")
            if reply[2]["status"] == "Accepted":
                return
            self.pending += 1
            await asyncio.sleep(float(reply[2]["interval"]))  # B02.FR.08: boot again after the interval

    async def station(self, i: int, queued: int, storm: bool) -> dict[str, float]:
        """Connect (honouring 503 Retry-After), boot (honouring Pending), deliver the queue."""
        while True:
            try:
                ws = await self._connect(i)
            except InvalidStatus as exc:
                if exc.response.status_code != 503:
                    raise
                self.refused += 1
                after = float(exc.response.headers.get("Retry-After", "1"))
                await asyncio.sleep(after * (1 + random.random()))
                continue
            except (OSError, asyncio.TimeoutError, ConnectionClosed, ssl.SSLError):
                self.failures += 1
                await asyncio.sleep(1 + random.random() * 2)
                continue
            handshake = time.time()
            try:
                await self._boot(ws, i)
                registered = time.time()
                for k in range(queued):
                    await ws.send(f'[2,"t{i}-{k}","TransactionEvent",{TX}]')
                    reply = await ws.recv()
                    if not str(reply).startswith("[3,"):
                        raise RuntimeError(f"transaction message refused: {str(reply)[:200]}")
                delivered = time.time()
            except (ConnectionClosed, OSError):
                self.failures += 1
                ws.transport.abort()
                continue
            self.conns[i] = ws
            return {"handshake": handshake, "registered": registered, "delivered": delivered}

    async def connect_all(self) -> dict[str, Any]:
        t0 = time.time()
        limit = asyncio.Semaphore(100)  # a steady ramp: the first connect is not the storm

        async def one(i: int) -> None:
            async with limit:
                await self.station(i, 0, False)

        await asyncio.gather(*(one(i) for i in range(self.args.first, self.args.first + self.args.count)))
        return {"event": "ready", "connected": len(self.conns), "seconds": time.time() - t0}

    async def storm(self) -> dict[str, Any]:
        for ws in self.conns.values():
            ws.transport.abort()  # the outage: no closing handshake
        self.conns.clear()
        self.refused = self.failures = self.attempts = self.pending = 0
        start = time.time()
        times = await asyncio.gather(
            *(self.station(i, self.args.queued, True) for i in range(self.args.first, self.args.first + self.args.count))
        )
        return {
            "event": "storm", "start": start, "handshakes": [t["handshake"] for t in times],
            "registered": [t["registered"] for t in times], "delivered": [t["delivered"] for t in times],
            "refused": self.refused, "failures": self.failures, "attempts": self.attempts, "pending": self.pending,
        }

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.conns.values()), return_exceptions=True)


async def main(args: argparse.Namespace) -> None:
    fleet = Fleet(args)
    print(json.dumps(await fleet.connect_all()), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "storm":
            print(json.dumps(await fleet.storm()), flush=True)
        else:  # "close", or the parent went away
            await fleet.close()
            print(json.dumps({"event": "closed"}), flush=True)
            return


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--source", default="127.0.0.1")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--prefix", default="S")
    parser.add_argument("--tls", default=None, help="CA file: wss:// with Basic auth (profile 2)")
    parser.add_argument("--no-deflate", action="store_true")
    parser.add_argument("--queued", type=int, default=2)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    from ocppgen.generated.runtime.loop import run

    run(main(args), uvloop=args.uvloop)
