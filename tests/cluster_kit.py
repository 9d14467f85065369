"""Pieces of the cluster tests (decision 0013): CSMS node processes (the example CSMS with
``--redis``), a TCP balancer in front of them, stations of every version, a Redis of a test's own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from collections.abc import Iterator
from typing import Any

from examples.defaults import with_defaults
from ocppgen.generated.runtime.client import StationClient
from ocppgen.generated.runtime.queue import SqliteStore
from ocppgen.generated.v16 import routing as r16, station as station16
from ocppgen.generated.v201 import routing as r201, station as station201
from ocppgen.generated.v21 import routing as r21, station as station21
from tests.conftest import ROOT
from tests.helpers import station

TTL = 1.0  # presence TTL of the test clusters: a dead node's stations vanish within a second


def unique_prefix() -> str:
    return f"ocppgen-test-{uuid.uuid4().hex[:10]}:"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One CSMS process of the cluster (examples/csms.py --redis)."""

    def __init__(self, process: asyncio.subprocess.Process, ws_port: int, operator_port: int, node_id: str, db: Path) -> None:
        self.process = process
        self.ws_port = ws_port
        self.operator_port = operator_port
        self.node_id = node_id
        self.db = db

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    async def operator(self, station_id: str, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST /stations/<id>/<action> to this node's operator endpoint."""
        import json

        reader, writer = await asyncio.open_connection("127.0.0.1", self.operator_port)
        data = json.dumps(body).encode()
        writer.write(f"POST /stations/{station_id}/{action} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
        await writer.drain()
        raw = await reader.read()
        writer.close()
        head, _, payload = raw.partition(b"\r\n\r\n")
        return int(head.split()[1]), json.loads(payload)


async def start_node(redis_url: str, prefix: str, db: Path, ttl: float = TTL, database: str | None = None) -> Node:
    extra = ["--database", database] if database else []
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "examples" / "csms.py"), "--port", "0", "--db", str(db), "--redis", redis_url,
        "--redis-prefix", prefix, "--presence-ttl", str(ttl), "--operator-port", "0", *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=ROOT,
    )
    assert process.stdout is not None
    ws_port = operator_port = 0
    node_id = ""
    lines: list[str] = []
    while not operator_port:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        if not line:
            raise AssertionError("the node exited:\n" + "".join(lines))
        lines.append(line)
        if match := re.search(r"CSMS node (\S+) listening on ws://[\d.]+:(\d+)/", line):
            node_id, ws_port = match.group(1), int(match.group(2))
        if match := re.search(r"operator endpoint on http://[\d.]+:(\d+)/", line):
            operator_port = int(match.group(1))
    asyncio.get_running_loop().create_task(_drain(process))
    return Node(process, ws_port, operator_port, node_id, db)


async def _drain(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    with contextlib.suppress(Exception):
        while await process.stdout.readline():
            pass


async def stop_node(node: Node) -> None:
    if node.process.returncode is None:
        node.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(node.process.wait(), 5)
        except asyncio.TimeoutError:
            node.kill()
            await node.process.wait()


@contextlib.contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A schema of the test's own in the shared PostgreSQL, dropped afterwards; yields the URL
    whose connections use it."""
    import psycopg

    schema = "ocppgen_test_" + uuid.uuid4().hex[:10]
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


class Balancer:
    """A TCP load balancer: each new connection goes to the first backend that accepts it,
    starting from the preferred one (a station's next connection lands on a live node)."""

    def __init__(self, ports: list[int], prefer: int = 0) -> None:
        self.ports = ports
        self.prefer = prefer
        self.port = 0
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        order = self.ports[self.prefer:] + self.ports[:self.prefer]
        for port in order:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            writer.close()
            return

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self.tasks.discard(task)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()


class _Log:
    def log(self, station_id: str, text: str) -> None:
        pass


def _handler(module: Any, routes: Any) -> Any:
    base = type("Station", (_Log, module.StationHandler), {})
    return with_defaults(base, dict(module.HANDLED), routes)()


STATIONS = {"1.6": (station16, r16), "2.0.1": (station201, r201), "2.1": (station21, r21)}


def make_station(url: str, version: str, queue: Path | None = None) -> StationClient[Any, Any]:
    module, routes = STATIONS[version]
    options: dict[str, Any] = {"queue_interval": 0.05}
    if queue is not None:
        options["queue"] = SqliteStore(str(queue))
    return station(url, module.BINDING, _handler(module, routes.ROUTES), **options)


class OwnRedis:
    """A redis-server of the test's own, on its own port, without persistence."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            import time

            time.sleep(0.02)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
