"""Metrics read back from the exporters after a scripted exchange over loopback WebSockets:
Prometheus (a private CollectorRegistry) and OpenTelemetry (the SDK's in-memory reader), both
sides; the runtime pays nothing for metrics it was not given."""

from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import prometheus_client
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ocppgen.generated.runtime.metrics import Metrics, opentelemetry, prometheus
from ocppgen.generated.runtime.queue import SqliteStore
from ocppgen.generated.runtime.security import StaticPasswords
from ocppgen.generated.v201 import csms, datatypes, enums, messages, routing, station
from ocppgen.generated.v201.csms import CallError
from tests.helpers import NOW, boot201, eventually, run, server, started, station as make_station


class Csms(csms.CsmsHandler):
    async def on_boot_notification(self, request: messages.BootNotificationRequest, context: csms.Context) -> messages.BootNotificationResponse:
        await asyncio.sleep(0.03)
        return messages.BootNotificationResponse(current_time=NOW, interval=300, status=enums.RegistrationStatusEnumType.Accepted)

    async def on_authorize(self, request: messages.AuthorizeRequest, context: csms.Context) -> messages.AuthorizeResponse:
        raise CallError("SecurityError", "not on this CSMS")

    async def on_transaction_event(self, request: messages.TransactionEventRequest, context: csms.Context) -> messages.TransactionEventResponse:
        raise CallError("InternalError", "database down")


class Station(station.StationHandler):
    async def on_reset(self, request: messages.ResetRequest, context: station.Context) -> messages.ResetResponse:
        return messages.ResetResponse(status=enums.ResetStatusEnumType.Accepted)


def transaction() -> messages.TransactionEventRequest:
    return messages.TransactionEventRequest(
        event_type=enums.TransactionEventEnumType.Started, timestamp=NOW, trigger_reason=enums.TriggerReasonEnumType.Authorized,
        seq_no=0, transaction_info=datatypes.TransactionType(transaction_id="T-1"),
    )


async def exchange(csms_metrics: Metrics, station_metrics: Metrics, folder: Path) -> None:
    """Boot, a Reset from the CSMS, a refused Authorize, an unhandled action, a bad frame, a wrong
    password, a dead-lettered TransactionEvent, and the disconnect."""
    csms_server = server((csms.BINDING, Csms()), on_event=csms_metrics.on_event,
                         authenticator=StaticPasswords({"CS-1": "password-of-cs-1", "RAW": "password-of-raw"}))
    csms_metrics.watch(csms_server.registry)
    store = SqliteStore(str(folder / "queue.sqlite"))

    async def body(port: int) -> None:
        url = f"ws://127.0.0.1:{port}/ocpp/CS-1"
        with_auth = {"basic_auth": ("CS-1", "password-of-cs-1")}
        client = make_station(url, station.BINDING, Station(), on_event=station_metrics.on_event, queue=store,
                              queue_attempts=1, on_dead_letter=functools.partial(station_metrics.on_dead_letter, station="CS-1"),
                              **with_auth)
        try:
            await connect(url, subprotocols=["ocpp2.0.1"])  # type: ignore[list-item]
        except InvalidStatus:
            pass
        async with client.running():
            stop_sampling = station_metrics.watch_queue(store, station="CS-1", every=0.05)
            await client.connected(timeout=5)
            await client.csms.boot_notification(boot201())
            reset = await csms_server.registry.client("CS-1", csms.BINDING).reset(
                messages.ResetRequest(type=enums.ResetEnumType.Immediate))
            assert reset.status is enums.ResetStatusEnumType.Accepted
            try:
                await client.csms.authorize(messages.AuthorizeRequest(id_token=datatypes.IdTokenType(
                    id_token="T", type=enums.IdTokenEnumType.ISO14443)))
            except Exception:
                pass
            try:
                await client.csms.heartbeat(messages.HeartbeatRequest())  # no handler: NotSupported
            except Exception:
                pass
            client.submit(routing.TRANSACTION_EVENT, transaction())
            await eventually(lambda: store.counts()["dead"] == 1, what="the dead letter")
            await asyncio.sleep(0.1)  # one more queue sample
            stop_sampling()
        raw_auth = {"Authorization": "Basic " + __import__("base64").b64encode(b"RAW:password-of-raw").decode()}
        async with connect(f"ws://127.0.0.1:{port}/ocpp/RAW", subprotocols=["ocpp2.0.1"], additional_headers=raw_auth) as ws:  # type: ignore[list-item]
            await ws.send('[2,"x1","Heartbeat",{"unexpected":1}]')
            await ws.recv()
            await ws.send('[3,"nobody-asked",{}]')
            await eventually(lambda: "RAW" in csms_server.registry)
        await eventually(lambda: len(csms_server.registry) == 0, what="all disconnected")

    await started(csms_server, body)


def samples(registry: prometheus_client.CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value for metric in registry.collect() for s in metric.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_prometheus_metrics_after_a_scripted_exchange(tmp_path: Path) -> None:
    csms_registry, station_registry = prometheus_client.CollectorRegistry(), prometheus_client.CollectorRegistry()
    run(exchange(prometheus(csms_registry), prometheus(station_registry), tmp_path))
    c, s = samples(csms_registry), samples(station_registry)
    v = "2.0.1"
    # connections (CSMS side, from the registry's events)
    assert value(c, "ocpp_connects_total", version=v) == 2
    assert value(c, "ocpp_stations_connected", version=v) == 0
    assert value(c, "ocpp_disconnects_total", version=v, code="1000", replaced="false") == 2
    assert value(c, "ocpp_security_events_total", reason="authentication_failed") == 1
    # calls handled by the CSMS, by action and outcome, and how long the handlers took
    assert value(c, "ocpp_calls_total", version=v, direction="in", action="BootNotification", outcome="result") == 1
    assert value(c, "ocpp_calls_total", version=v, direction="in", action="Authorize", outcome="error") == 1
    assert value(c, "ocpp_calls_total", version=v, direction="in", action="TransactionEvent", outcome="error") == 1
    assert value(c, "ocpp_calls_total", version=v, direction="out", action="Reset", outcome="result") == 1
    assert value(c, "ocpp_handler_seconds_count", version=v, action="BootNotification") == 1
    assert value(c, "ocpp_handler_seconds_sum", version=v, action="BootNotification") >= 0.03
    assert value(c, "ocpp_handler_seconds_bucket", version=v, action="BootNotification", le="0.025") == 0
    assert value(c, "ocpp_handler_seconds_bucket", version=v, action="BootNotification", le="+Inf") == 1
    # CALLERRORs by code: chosen by handlers, and answered by the core
    assert value(c, "ocpp_call_errors_total", version=v, direction="sent", code="SecurityError") == 1
    assert value(c, "ocpp_call_errors_total", version=v, direction="sent", code="InternalError") == 1
    assert value(c, "ocpp_call_errors_total", version=v, direction="sent", code="NotSupported") == 1
    assert value(c, "ocpp_call_errors_total", version=v, direction="sent", code="FormatViolation") == 1
    # frames the core answered or dropped
    assert value(c, "ocpp_calls_total", version=v, direction="in", action="Heartbeat", outcome="error") == 1  # NotSupported
    assert value(c, "ocpp_frames_rejected_total", version=v, reason="FormatViolation") == 1
    assert value(c, "ocpp_frames_rejected_total", version=v, reason="unknown_reply") == 1
    # the station's side: its calls, the errors it received, its queue and dead letters
    assert value(s, "ocpp_calls_total", version=v, direction="out", action="BootNotification", outcome="result") == 1
    assert value(s, "ocpp_calls_total", version=v, direction="out", action="Authorize", outcome="error") == 1
    assert value(s, "ocpp_calls_total", version=v, direction="in", action="Reset", outcome="result") == 1
    assert value(s, "ocpp_call_errors_total", version=v, direction="received", code="SecurityError") == 1
    assert value(s, "ocpp_call_errors_total", version=v, direction="received", code="NotSupported") == 1
    assert value(s, "ocpp_dead_letters_total", station="CS-1", action="TransactionEvent") == 1
    assert value(s, "ocpp_queue_messages", station="CS-1", state="dead") == 1
    assert value(s, "ocpp_queue_messages", station="CS-1", state="queue") == 0


def test_opentelemetry_metrics_after_the_same_exchange(tmp_path: Path) -> None:
    readers = InMemoryMetricReader(), InMemoryMetricReader()
    csms_meter, station_meter = (MeterProvider(metric_readers=[r]).get_meter("test") for r in readers)
    run(exchange(opentelemetry(csms_meter), opentelemetry(station_meter), tmp_path))

    def points(reader: InMemoryMetricReader) -> dict[tuple[str, frozenset[tuple[str, Any]]], Any]:
        data = reader.get_metrics_data()
        assert data is not None
        return {
            (metric.name, frozenset((point.attributes or {}).items())): point
            for resource in data.resource_metrics for scope in resource.scope_metrics
            for metric in scope.metrics for point in metric.data.data_points
        }

    c, s = points(readers[0]), points(readers[1])
    v = "2.0.1"
    assert c[("ocpp.connects", frozenset({("version", v)}))].value == 2
    assert c[("ocpp.stations.connected", frozenset({("version", v)}))].value == 0
    calls = ("ocpp.calls", frozenset({("version", v), ("direction", "in"), ("action", "BootNotification"), ("outcome", "result")}))
    assert c[calls].value == 1
    duration = c[("ocpp.handler.duration", frozenset({("version", v), ("action", "BootNotification")}))]
    assert duration.count == 1 and duration.sum >= 0.03 and 0.025 in duration.explicit_bounds
    assert c[("ocpp.call.errors", frozenset({("version", v), ("direction", "sent"), ("code", "SecurityError")}))].value == 1
    assert c[("ocpp.frames.rejected", frozenset({("version", v), ("reason", "unknown_reply")}))].value == 1
    assert s[("ocpp.dead.letters", frozenset({("station", "CS-1"), ("action", "TransactionEvent")}))].value == 1
    assert s[("ocpp.queue.messages", frozenset({("station", "CS-1"), ("state", "dead")}))].value == 1


def test_without_metrics_nothing_is_imported_and_handlers_are_not_timed() -> None:
    """A full exchange with no ``on_event``: no metrics module, exporter or HandlerFinished."""
    code = """
import sys
from ocppgen.generated.runtime import connection, events
made = []
def spy(**fields):
    made.append(fields)
    return events.HandlerFinished(**fields)
connection.HandlerFinished = spy
from tests.helpers import NOW, boot201, run, server, started, station
from ocppgen.generated.v201 import csms, enums, messages, station as st

class Csms(csms.CsmsHandler):
    async def on_boot_notification(self, request, context):
        return messages.BootNotificationResponse(current_time=NOW, interval=1, status=enums.RegistrationStatusEnumType.Accepted)

async def main():
    async def body(port):
        client = station(f"ws://127.0.0.1:{port}/ocpp/CS-1", st.BINDING, st.StationHandler())
        async with client.running():
            await client.connected(timeout=5)
            await client.csms.boot_notification(boot201())
    options = {"on_event": lambda session, event: None} if sys.argv[1] == "on" else {}
    await started(server((csms.BINDING, Csms()), **options), body)
run(main())
assert bool(made) == (sys.argv[1] == "on"), made
loaded = {m.split(".")[0] for m in sys.modules} | set(sys.modules)
assert not loaded & {"prometheus_client", "opentelemetry", "ocppgen.generated.runtime.metrics"}, loaded
"""
    root = Path(__file__).resolve().parent.parent
    for mode in ("off", "on"):  # "on" shows the spy does see the handler being timed
        proc = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, cwd=root, timeout=60)
        assert proc.returncode == 0, proc.stderr


def test_the_exporters_import_their_packages_only_when_made() -> None:
    code = (
        "import sys; sys.modules['prometheus_client'] = None; sys.modules['opentelemetry'] = None\n"
        "from ocppgen.generated.runtime import metrics\n"
        "for make in (metrics.prometheus, metrics.opentelemetry):\n"
        "    try:\n        make()\n"
        "    except ImportError:\n        pass\n"
        "    else:\n        raise SystemExit(f'{make.__name__} made without its package')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_a_connected_gauge_follows_replacement() -> None:
    """A replaced connection is disconnected (replaced="true") before its successor connects."""
    registry = prometheus_client.CollectorRegistry()
    metrics = prometheus(registry)
    csms_server = server((csms.BINDING, Csms()), on_event=metrics.on_event)
    metrics.watch(csms_server.registry)

    async def body(port: int) -> None:
        url = f"ws://127.0.0.1:{port}/ocpp/CS-1"
        first = await connect(url, subprotocols=["ocpp2.0.1"])  # type: ignore[list-item]
        await eventually(lambda: "CS-1" in csms_server.registry)
        async with connect(url, subprotocols=["ocpp2.0.1"]):  # type: ignore[list-item]
            await eventually(lambda: value(samples(registry), "ocpp_connects_total", version="2.0.1") == 2)
            found = samples(registry)
            assert value(found, "ocpp_stations_connected", version="2.0.1") == 1
            assert value(found, "ocpp_disconnects_total", version="2.0.1", code="none", replaced="true") == 1
        await first.close()

    run(started(csms_server, body))
