"""Operator calls to any station of the cluster, from any node or from a process of their own.

As an HTTP endpoint inside a CSMS node (``examples/csms.py --operator-port 8080``):

    curl -X POST localhost:8080/stations/CS-1/reset -d '{"type": "Immediate"}'
    curl -X POST localhost:8080/stations/CS-1/start -d '{"idToken": "TAG1", "evseId": 1}'

As a command line (a process that joins the cluster and holds no WebSocket):

    python examples/cluster_ops.py --redis redis://127.0.0.1:6379/0 reset CS-1 [--type OnIdle]
    python examples/cluster_ops.py --redis redis://127.0.0.1:6379/0 start CS-1 --id-token TAG1

Every call is a typed call of the station's own OCPP version (``registry.client(id, BINDING)``).
The answer is JSON: ``{"status": ...}``, or ``{"error": <error class>, "message": ..., "sent":
<whether the station can have received it>}``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import urllib.parse
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `examples` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocppgen.generated.runtime.errors import CallFailure, OcppError
from ocppgen.generated.runtime.registry import LocalRegistry
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v21 import csms as csms21, datatypes as d21, enums as e21, messages as m21

_remote_start_ids = itertools.count(1)


async def reset(registry: LocalRegistry, station: str, kind: str = "Immediate") -> str:
    """Reset the station (1.6: Immediate is Hard, OnIdle is Soft); returns the status."""
    session = registry.session(station)
    version = session.version if session is not None else None
    if version == "1.6":
        answer16 = await registry.client(station, csms16.BINDING).reset(
            m16.ResetRequest(type=e16.ResetType.Hard if kind == "Immediate" else e16.ResetType.Soft)
        )
        return answer16.status.value
    if version == "2.0.1":
        answer201 = await registry.client(station, csms201.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType(kind)))
        return answer201.status.value
    answer21 = await registry.client(station, csms21.BINDING).reset(m21.ResetRequest(type=e21.ResetEnumType(kind)))
    return answer21.status.value


async def start(registry: LocalRegistry, station: str, id_token: str, evse_id: int = 1) -> str:
    """Start a transaction remotely (1.6 RemoteStartTransaction, 2.x RequestStartTransaction)."""
    session = registry.session(station)
    version = session.version if session is not None else None
    if version == "1.6":
        answer16 = await registry.client(station, csms16.BINDING).remote_start_transaction(
            m16.RemoteStartTransactionRequest(id_tag=id_token, connector_id=evse_id)
        )
        return answer16.status.value
    if version == "2.0.1":
        answer201 = await registry.client(station, csms201.BINDING).request_start_transaction(
            m201.RequestStartTransactionRequest(
                id_token=d201.IdTokenType(id_token=id_token, type=e201.IdTokenEnumType.Central),
                remote_start_id=next(_remote_start_ids), evse_id=evse_id,
            )
        )
        return answer201.status.value
    answer21 = await registry.client(station, csms21.BINDING).request_start_transaction(
        m21.RequestStartTransactionRequest(
            id_token=d21.IdTokenType(id_token=id_token, type="Central"), remote_start_id=next(_remote_start_ids),
            evse_id=evse_id,
        )
    )
    return answer21.status.value


async def operate(registry: LocalRegistry, action: str, station: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One operator call: (HTTP status, JSON answer)."""
    try:
        if action == "reset":
            status = await reset(registry, station, str(body.get("type", "Immediate")))
        elif action == "start":
            status = await start(registry, station, str(body.get("idToken", "OPERATOR")), int(body.get("evseId", 1)))
        else:
            return 404, {"error": "UnknownAction", "message": f"no operator action {action!r} (reset, start)"}
    except CallFailure as exc:
        return 502, {"error": type(exc).__name__, "message": str(exc), "sent": exc.sent}
    except OcppError as exc:
        return 409, {"error": type(exc).__name__, "message": str(exc), "sent": False}
    return 200, {"status": status}


async def serve_operator(registry: LocalRegistry, host: str, port: int) -> asyncio.Server:
    """A tiny HTTP/1.1 endpoint: ``POST /stations/<id>/<reset|start>`` with a JSON body."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            length = next((int(h.split(":", 1)[1]) for h in head[1:] if h.lower().startswith("content-length:")), 0)
            raw = await reader.readexactly(length) if length else b""
            parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
            if method != "POST" or len(parts) != 3 or parts[0] != "stations":
                code, answer = 404, {"error": "NotFound", "message": "POST /stations/<id>/<reset|start>"}
            else:
                body = json.loads(raw) if raw else {}
                code, answer = await operate(registry, parts[2], parts[1], body if isinstance(body, dict) else {})
            data = json.dumps(answer).encode()
            writer.write(f"HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                         "Connection: close\r\n\r\n".encode() + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, ValueError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


async def command(args: argparse.Namespace) -> int:
    from ocppgen.generated.runtime.cluster import ClusterRegistry
    from ocppgen.generated.runtime.redis_backplane import RedisBackplane

    async with ClusterRegistry(RedisBackplane(args.redis, prefix=args.prefix)) as registry:
        body = {"type": args.type, "idToken": args.id_token, "evseId": args.evse_id}
        code, answer = await operate(registry, args.action, args.station, body)
    print(json.dumps(answer), flush=True)
    return 0 if code == 200 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description="Send a typed call to any station of the cluster")
    parser.add_argument("--redis", required=True, help="the cluster's Redis, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--prefix", default="ocpp:", help="the cluster's key prefix (as given to the nodes)")
    parser.add_argument("action", choices=["reset", "start"])
    parser.add_argument("station")
    parser.add_argument("--type", default="Immediate", choices=["Immediate", "OnIdle"])
    parser.add_argument("--id-token", default="OPERATOR")
    parser.add_argument("--evse-id", type=int, default=1)
    sys.exit(asyncio.run(command(parser.parse_args())))


if __name__ == "__main__":
    main()
