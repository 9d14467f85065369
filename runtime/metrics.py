"""Metrics of a CSMS or a charging station, fed by the runtime's events: Prometheus or OpenTelemetry.

    metrics = prometheus()                                  # or opentelemetry(meter)
    server = CsmsServer(ServerOptions(on_event=metrics.on_event))
    metrics.watch(server.registry)                          # connections and security events

    station = StationClient(url, binding, handler, StationOptions(
        on_event=metrics.on_event, on_dead_letter=metrics.on_dead_letter, queue=store))
    metrics.watch_queue(store, station="CS-1")              # in the station's event loop

Every metric, its labels and where it comes from are listed in docs/metrics.md. Nothing here
runs unless it is wired in: ``Options.on_event`` is None by default (the connection then does
not even time its handlers), and this module is imported only by code that uses it.
``prometheus_client`` and ``opentelemetry-api`` are imported when their exporter is made.

``Metrics`` turns events into measurements through a small ``Backend`` (counters, up-down
counters, histograms, gauges), so other metric systems need only another backend.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .codes import Failure, code_for
from .errors import CallCancelled, CallErrorReceived, CallTimeout, ConnectionLost, NotConnected, ResponseInvalid
from .events import (
    Answered,
    CallCompleted,
    CallFailed,
    Dropped,
    Event,
    HandlerFinished,
    HandlerTimedOut,
    Rejected,
    ResultRejected,
)
from .queue import DeadLetter, MessageStore
from .registry import StationEvent

__all__ = ["Backend", "HANDLER_BUCKETS", "Metrics", "opentelemetry", "prometheus"]

#: Seconds: handlers answer in milliseconds (a database lookup) to seconds (a call to the peer).
HANDLER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

Record = Callable[[Sequence[str], float], None]
"""Add (counters, up-down counters), observe (histograms) or set (gauges) a value for the
label values given in the order of the metric's labels."""


class Backend(Protocol):
    """Makes the instruments. Every method takes the metric's base ``name`` (without prefix
    or unit), its help text ``doc``, its label names ``labels`` and its ``unit`` (UCUM, e.g.
    ``s`` or ``{call}``), and returns the function that records a value for label values."""

    def counter(self, name: str, doc: str, labels: Sequence[str], unit: str) -> Record:
        """A monotonic counter (``name``, ``doc``, ``labels``, ``unit`` as above)."""
        ...

    def updown(self, name: str, doc: str, labels: Sequence[str], unit: str) -> Record:
        """A counter that goes up and down (``name``, ``doc``, ``labels``, ``unit`` as above)."""
        ...

    def histogram(self, name: str, doc: str, labels: Sequence[str], unit: str, buckets: Sequence[float]) -> Record:
        """A histogram with bucket bounds ``buckets`` (``name``, ``doc``, ``labels``, ``unit``
        as above)."""
        ...

    def gauge(self, name: str, doc: str, labels: Sequence[str], unit: str) -> Record:
        """A gauge set to the last value (``name``, ``doc``, ``labels``, ``unit`` as above)."""
        ...


_OUTCOMES: dict[type, str] = {
    CallErrorReceived: "error",
    CallTimeout: "timeout",
    CallCancelled: "cancelled",
    ResponseInvalid: "invalid_response",
    ConnectionLost: "connection_lost",
    NotConnected: "not_connected",
}


class Metrics:
    """The runtime's measurements (docs/metrics.md); feed it with ``on_event`` (protocol
    events, both sides), ``watch(registry)`` (CSMS: connections, security events),
    ``on_dead_letter`` and ``watch_queue`` (station: the durable queue).

    Args:
        backend: Makes the instruments (``prometheus()`` and ``opentelemetry()`` build a
            ``Metrics`` with theirs).
        buckets: Bucket bounds of the handler-duration histogram, in seconds.
    """

    def __init__(self, backend: Backend, *, buckets: Sequence[float] = HANDLER_BUCKETS) -> None:
        b = backend
        self._connected = b.updown("stations_connected", "Charging stations connected now.", ("version",), "{station}")
        self._connects = b.counter("connects", "Station connections opened.", ("version",), "{connection}")
        self._disconnects = b.counter(
            "disconnects", "Station connections ended (close code; replaced: a newer connection of the station took over).",
            ("version", "code", "replaced"), "{connection}",
        )
        self._security = b.counter("security_events", "Security problems the CSMS detected.", ("reason",), "{event}")
        self._calls = b.counter(
            "calls", "CALLs and SENDs by direction (in: handled here; out: sent by us), action and outcome.",
            ("version", "direction", "action", "outcome"), "{call}",
        )
        self._errors = b.counter(
            "call_errors", "CALLERRORs and CALLRESULTERRORs sent or received, by error code.",
            ("version", "direction", "code"), "{error}",
        )
        self._handler = b.histogram(
            "handler_seconds", "How long handlers took to answer.", ("version", "action"), "s", buckets
        )
        self._rejected = b.counter(
            "frames_rejected", "Inbound frames answered by the protocol core (reason: error code) or dropped (reason: why).",
            ("version", "reason"), "{frame}",
        )
        self._queue = b.gauge("queue_messages", "Messages in a station's durable queue, by state.", ("station", "state"),
                              "{message}")
        self._dead = b.counter("dead_letters", "Queued messages the station gave up on.", ("station", "action"), "{message}")
        self._handlers: dict[type, Callable[[str, Any], None]] = {
            HandlerFinished: self._finished,
            HandlerTimedOut: self._timed_out,
            Answered: self._answered,
            CallCompleted: self._completed,
            CallFailed: self._failed,
            Rejected: self._rejected_frame,
            Dropped: self._dropped,
            ResultRejected: self._result_rejected,
        }

    # -- feeding -------------------------------------------------------------------------------

    def on_event(self, session: object, event: Event) -> None:
        """``Options.on_event``: measure one protocol ``event`` of ``session``'s connection."""
        handle = self._handlers.get(type(event))
        if handle is not None:
            handle(getattr(session, "version", None) or "", event)

    def on_station_event(self, event: StationEvent) -> None:
        """Measure a registry's lifecycle ``event`` (``registry.listen(metrics.on_station_event)``)."""
        version = event.version or ""
        if event.kind == "connected":
            self._connected((version,), 1)
            self._connects((version,), 1)
        elif event.kind == "disconnected":
            self._connected((version,), -1)
            self._disconnects((version, str(event.code) if event.code is not None else "none", _yes(event.replaced)), 1)
        elif event.kind == "security":
            self._security((event.reason,), 1)

    def watch(self, registry: Any) -> Callable[[], None]:
        """Measure the lifecycle events of a CSMS's ``registry``; returns the call that stops it."""
        stop: Callable[[], None] = registry.listen(self.on_station_event)
        return stop

    def on_dead_letter(self, letter: DeadLetter, *, station: str = "") -> None:
        """``StationOptions.on_dead_letter``: count the dead ``letter`` for ``station`` (pass
        ``functools.partial(metrics.on_dead_letter, station=...)`` to label it)."""
        self._dead((station, letter.message.action), 1)

    def watch_queue(self, store: MessageStore, *, station: str, every: float = 5.0) -> Callable[[], None]:
        """Sample the durable queue ``store`` of ``station`` (``store.counts()``: waiting, sent, dead) now and
        every ``every`` seconds, in the running event loop (the store is not thread-safe, and a
        queue grows while offline, when no event comes); returns the call that stops it."""
        loop = asyncio.get_running_loop()

        def sample() -> None:
            for state, count in store.counts().items():
                self._queue((station, state), float(count))

        async def run() -> None:
            while True:
                sample()
                await asyncio.sleep(every)

        task = loop.create_task(run())

        def stop() -> None:
            task.cancel()
            with contextlib.suppress(Exception):
                sample()

        return stop

    # -- events ---------------------------------------------------------------------------------

    def _finished(self, version: str, event: HandlerFinished) -> None:
        self._calls((version, "in", event.action, event.outcome), 1)
        self._handler((version, event.action), event.seconds)
        if event.code is not None:
            self._errors((version, "sent", event.code), 1)

    def _timed_out(self, version: str, event: HandlerTimedOut) -> None:
        self._calls((version, "in", event.action, "timeout"), 1)
        if version:
            self._errors((version, "sent", code_for(Failure.HANDLER_TIMEOUT, version)), 1)

    def _answered(self, version: str, event: Answered) -> None:
        self._calls((version, "in", event.action, f"answered_{event.reason}"), 1)

    def _completed(self, version: str, event: CallCompleted) -> None:
        self._calls((version, "out", event.action, "result"), 1)

    def _failed(self, version: str, event: CallFailed) -> None:
        error = event.error
        self._calls((version, "out", event.action, _OUTCOMES.get(type(error), "failed")), 1)
        if isinstance(error, CallErrorReceived):
            self._errors((version, "received", error.code), 1)
        elif isinstance(error, ResponseInvalid) and version == "2.1":  # we answered CALLRESULTERROR
            self._errors((version, "sent", error.code), 1)

    def _rejected_frame(self, version: str, event: Rejected) -> None:
        self._rejected((version, event.code), 1)
        self._errors((version, "sent", event.code), 1)

    def _dropped(self, version: str, event: Dropped) -> None:
        self._rejected((version, event.reason), 1)

    def _result_rejected(self, version: str, event: ResultRejected) -> None:
        self._errors((version, "received", event.code), 1)


def _yes(flag: bool) -> str:
    return "true" if flag else "false"


# -- Prometheus -----------------------------------------------------------------------------------


def prometheus(registry: Any = None, *, prefix: str = "ocpp", buckets: Sequence[float] = HANDLER_BUCKETS) -> Metrics:
    """Metrics registered in a ``prometheus_client`` ``registry`` (default: its global
    REGISTRY), named ``<prefix>_<name>`` (``prefix`` default ``ocpp``; counters end in
    ``_total``); ``buckets``: the
    handler-duration histogram's bounds, in seconds. Needs ``prometheus-client``
    (``pip install 'ocppgen[prometheus]'``)."""
    import prometheus_client  # type: ignore[import-not-found, unused-ignore]

    target = prometheus_client.REGISTRY if registry is None else registry

    class Prometheus:
        def _make(self, kind: Any, name: str, doc: str, labels: Sequence[str], **extra: Any) -> Any:
            return kind(f"{prefix}_{name}", doc, list(labels), registry=target, **extra)

        def counter(self, name: str, doc: str, labels: Sequence[str], unit: str) -> Record:
            metric = self._make(prometheus_client.Counter, name, doc, labels)
            return lambda values, amount: metric.labels(*values).inc(amount)

        def updown(self, name: str, doc: str, labels: Sequence[str], unit: str) -> Record:
            metric = self._make(prometheus_client.Gauge, name, doc, labels)
            return lambda values, amount: metric.labels(*values).inc(amount)

        def histogram(self, name: str, doc: str, labels: Sequence[str], unit: str, buckets: Sequence[float]) -> Record:
            metric = self._make(prometheus_client.Histogram, name, doc, labels, buckets=list(buckets))
            return lambda values, amount: metric.labels(*values).observe(amount)

        def gauge(self, name: str, doc: str, labels: Sequence[str], unit: str) -> Record:
            metric = self._make(prometheus_client.Gauge, name, doc, labels)
            return lambda values, amount: metric.labels(*values).set(amount)

    return Metrics(Prometheus(), buckets=buckets)


# -- OpenTelemetry --------------------------------------------------------------------------------


def opentelemetry(meter: Any = None, *, prefix: str = "ocpp", buckets: Sequence[float] = HANDLER_BUCKETS) -> Metrics:
    """Metrics as OpenTelemetry instruments of ``meter`` (default: the global meter provider's
    meter ``ocppgen``), named ``<prefix>.<name>`` (``prefix`` default ``ocpp``) with dots (``ocpp.calls``,
    ``ocpp.handler.duration`` in seconds, ...), labels as attributes. Needs
    ``opentelemetry-api`` and an SDK to export (``pip install 'ocppgen[otel]'``). ``buckets``:
    the handler-duration histogram's advised bounds, in seconds."""
    from opentelemetry import metrics as otel  # type: ignore[import-not-found, unused-ignore]

    target = otel.get_meter("ocppgen") if meter is None else meter
    names = {"handler_seconds": "handler.duration"}
    gauges: dict[str, dict[tuple[str, ...], float]] = {}

    def attributes(labels: Sequence[str], values: Sequence[str]) -> dict[str, str]:
        return dict(zip(labels, values))

    class OpenTelemetry:
        def _name(self, name: str) -> str:
            return f"{prefix}.{names.get(name, name).replace('_', '.')}"

        def counter(self, name: str, doc: str, labels: Sequence[str], unit: str) -> Record:
            instrument = target.create_counter(self._name(name), unit=unit, description=doc)
            return lambda values, amount: instrument.add(amount, attributes(labels, values))

        def updown(self, name: str, doc: str, labels: Sequence[str], unit: str) -> Record:
            instrument = target.create_up_down_counter(self._name(name), unit=unit, description=doc)
            return lambda values, amount: instrument.add(amount, attributes(labels, values))

        def histogram(self, name: str, doc: str, labels: Sequence[str], unit: str, buckets: Sequence[float]) -> Record:
            try:
                instrument = target.create_histogram(
                    self._name(name), unit=unit, description=doc, explicit_bucket_boundaries_advisory=list(buckets)
                )
            except TypeError:  # opentelemetry-api before 1.23 has no bucket advice
                instrument = target.create_histogram(self._name(name), unit=unit, description=doc)
            return lambda values, amount: instrument.record(amount, attributes(labels, values))

        def gauge(self, name: str, doc: str, labels: Sequence[str], unit: str) -> Record:
            current = gauges.setdefault(name, {})

            def observe(options: Any) -> list[Any]:
                return [otel.Observation(value, attributes(labels, key)) for key, value in list(current.items())]

            target.create_observable_gauge(self._name(name), callbacks=[observe], unit=unit, description=doc)

            def record(values: Sequence[str], amount: float) -> None:
                current[tuple(values)] = amount

            return record

    return Metrics(OpenTelemetry(), buckets=buckets)
