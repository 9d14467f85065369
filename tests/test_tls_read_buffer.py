"""asyncio's TLS layer allocates (and zeroes) a 256 KiB read buffer per connection, most of
what an idle TLS station costs; the server lowers it to one TLS record (16 KiB of plaintext,
RFC 8446 section 5.1) unless told otherwise. Messages of many records still arrive whole."""

from __future__ import annotations

import asyncio
import asyncio.sslproto
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocppgen.generated.runtime.config import ServerOptions
from ocppgen.generated.runtime.tls import TLS_RECORD, limit_read_buffer
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201, station as station201
from tests.helpers import boot201, run, server, station
from tests.test_transport_security import AcceptingCsms, Pki

ASYNCIO_DEFAULT = 256 * 1024


@pytest.fixture(autouse=True)
def asyncio_default() -> Iterator[None]:
    """Every test starts from asyncio's own size and leaves it so (the setting is process-wide)."""
    saved = asyncio.sslproto.SSLProtocol.max_size
    asyncio.sslproto.SSLProtocol.max_size = ASYNCIO_DEFAULT
    yield
    asyncio.sslproto.SSLProtocol.max_size = saved


class Echo(AcceptingCsms):
    async def on_data_transfer(self, request: m201.DataTransferRequest, context: Any) -> m201.DataTransferResponse:
        return m201.DataTransferResponse(status=e201.DataTransferStatusEnumType.Accepted, data=request.data)


def serve_and_echo(tmp_path: Path, data: str, **options: Any) -> tuple[list[int], str]:
    """Boot a station over TLS, send ``data`` in a DataTransfer; the server-side read buffer
    sizes of the open TLS connections and the echoed data."""
    pki = Pki(tmp_path)
    csms = server((csms201.BINDING, Echo()), **options)

    async def main() -> tuple[list[int], str]:
        async with csms.serve("127.0.0.1", 0, ssl=pki.server_context(require_client_cert=False)) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            client = station(f"wss://127.0.0.1:{port}/ocpp/CS-T", station201.BINDING, station201.StationHandler(), ssl=pki.client_context())
            async with client.running():
                await client.connected(timeout=5)
                await client.csms.boot_notification(boot201())
                answer = await client.csms.data_transfer(m201.DataTransferRequest(vendor_id="org.example", data=data))
                sizes = [len(c.transport._ssl_protocol._ssl_buffer) for c in ws_server.connections]  # type: ignore[attr-defined]
            assert isinstance(answer.data, str)
            return sizes, answer.data

    return run(main())


def test_the_server_reads_tls_one_record_at_a_time_by_default(tmp_path: Path) -> None:
    data = "0123456789abcdef" * 8192  # 128 KiB: eight records and more each way
    sizes, echoed = serve_and_echo(tmp_path, data)
    assert echoed == data
    assert sizes and all(size <= TLS_RECORD for size in sizes), sizes
    assert asyncio.sslproto.SSLProtocol.max_size == TLS_RECORD


def test_none_leaves_asyncio_alone(tmp_path: Path) -> None:
    sizes, echoed = serve_and_echo(tmp_path, "x" * 40000, tls_read_buffer=None)
    assert echoed == "x" * 40000
    assert sizes and all(size == ASYNCIO_DEFAULT for size in sizes), sizes
    assert asyncio.sslproto.SSLProtocol.max_size == ASYNCIO_DEFAULT


def test_a_larger_buffer_is_honoured_and_never_raises_the_size() -> None:
    loop = asyncio.new_event_loop()
    try:
        assert limit_read_buffer(64 * 1024, loop) is True
    finally:
        loop.close()
    assert asyncio.sslproto.SSLProtocol.max_size == 64 * 1024
    assert limit_read_buffer(128 * 1024) is True  # only ever lowered: other servers may rely on less
    assert asyncio.sslproto.SSLProtocol.max_size == 64 * 1024


def test_less_than_one_record_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16384 bytes"):
        ServerOptions(tls_read_buffer=4096)
    with pytest.raises(ValueError, match="at least 16384 bytes"):
        limit_read_buffer(TLS_RECORD - 1)
    assert asyncio.sslproto.SSLProtocol.max_size == ASYNCIO_DEFAULT


def test_uvloop_keeps_its_own_tls_layer() -> None:
    uvloop = pytest.importorskip("uvloop", reason="uvloop (the 'uvloop' extra) is not installed")
    loop = uvloop.new_event_loop()
    try:
        assert limit_read_buffer(TLS_RECORD, loop) is False
    finally:
        loop.close()
    assert asyncio.sslproto.SSLProtocol.max_size == ASYNCIO_DEFAULT
