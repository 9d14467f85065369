"""Example charging-station simulator for OCPP 1.6, 2.0.1 or 2.1: boots, heartbeats, reports
status, authorizes, runs a metered transaction, and answers the CSMS (GetVariables/SetVariables
or GetConfiguration/ChangeConfiguration, RequestStart/StopTransaction or RemoteStart/Stop,
Reset, TriggerMessage), printing a readable log.

Its transaction messages (2.x TransactionEvent; 1.6 StartTransaction, StopTransaction and the
transaction's MeterValues) go through the runtime's durable queue (``--queue``, an SQLite file;
default: beside ``--config``, else a temporary one): stored before they are sent, delivered in
order once the BootNotification was Accepted (B01.FR.08, B02.FR.02; 1.6 section 4.2), retried
per MessageAttempts/MessageAttemptInterval (E13) or TransactionMessageAttempts/RetryInterval
(1.6 section 4.10), and kept while the CSMS is unreachable: a transaction goes on offline (its
TransactionEvents marked offline=true) and the CSMS gets every message once the link is back.

It behaves as the spec says where a CSMS can tell: a TriggerMessage answered Accepted is
followed by the requested message (1.6 section 5.17; 2.x F06.FR.04/05), a remote start answered
Accepted starts a transaction at once, on 2.x with triggerReason RemoteStart and the
remoteStartId (F01/F02), and a WebSocketPingInterval set by the CSMS takes effect at once.

    python examples/station.py --url ws://127.0.0.1:9000/ocpp/SIM-1 --version 2.0.1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples.defaults import with_defaults
from examples.station_model import configuration, device_model
from ocppgen.generated.runtime.client import StationClient
from ocppgen.generated.runtime.config import BackOff, StationOptions
from ocppgen.generated.runtime.configuration_store import ConfigurationStore
from ocppgen.generated.runtime.device_model import DeviceModel, VariableKey
from ocppgen.generated.runtime.values import MemoryValues, SqliteValues, ValueStore
from ocppgen.generated.v16.configuration import Keys
from ocppgen.generated.runtime.errors import CallErrorReceived, CallFailure, DeadLettered
from ocppgen.generated.runtime.queue import Queued, SqliteStore
from ocppgen.generated.v16 import datatypes as d16, enums as e16, messages as m16, routing as r16, station as st16
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201, routing as r201
from ocppgen.generated.v201 import station as st201
from ocppgen.generated.v21 import datatypes as d21, enums as e21, messages as m21, routing as r21, station as st21


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class Simulator:
    """The station's state, shared by its handler (what the CSMS asks) and its script."""

    def __init__(self, station_id: str, version: str, config_path: str | None = None) -> None:
        self.station_id = station_id
        self.version = version
        # the device model (2.x) or configuration keys (1.6), values kept in SQLite when a path is given
        values: ValueStore = SqliteValues(config_path) if config_path else MemoryValues()
        self.config = configuration(values) if version == "1.6" else None
        self._model = device_model(version, values) if version != "1.6" else None
        self.settings: ConfigurationStore | DeviceModel = self.config or self.model
        self.energy = 1000.0
        self.remote_start: asyncio.Queue[tuple[str, int | None]] = asyncio.Queue()  # id token, remoteStartId
        self.remote_stop = asyncio.Event()
        self.transaction: str | int | None = None  # 1.6: None until the CSMS assigned it (StartTransaction.conf)
        self.charging = False  # a transaction runs (1.6: maybe before its StartTransaction was answered)
        self.deauthorized = False  # the CSMS answered the transaction's idToken other than Accepted (E05/E06; 1.6 section 4.8)
        self.tasks: set[asyncio.Task[Any]] = set()  # awaiting the answers of queued messages
        self.last_queued: Queued[Any] | None = None
        self.start: Queued[Any] | None = None  # 1.6: the running transaction's StartTransaction in the queue
        self.seq = 0
        self.resets = 0
        self.client: StationClient[Any, Any] | None = None
        self.boot: Any = None  # the last BootNotification answer

    def log(self, text: str) -> None:
        print(f"{now():%H:%M:%S} [{self.station_id} {self.version}] {text}", flush=True)

    def follow(self, coro: Any) -> None:
        """Run ``coro`` (awaiting a queued message's answer) alongside: the transaction goes on
        while the station is offline, the answer is acted on when it is delivered."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @property
    def model(self) -> DeviceModel:
        """The 2.x device model (not on 1.6)."""
        assert self._model is not None, "1.6 has configuration keys, not a device model"
        return self._model

    def remote_needs_authorize(self) -> bool:
        """AuthorizeRemoteTxRequests (1.6) / AuthCtrlr.AuthorizeRemoteStart (2.x)."""
        if self.config is not None:
            return self.config.boolean(Keys.AuthorizeRemoteTxRequests) is True
        return self.model.boolean(VariableKey("AuthCtrlr", "AuthorizeRemoteStart")) is True

    def set_heartbeat(self, interval: int) -> None:
        """HeartbeatInterval from an accepted BootNotification's interval."""
        if self.config is not None:
            self.config.set(Keys.HeartbeatInterval, str(interval))
        else:
            self.model.set(VariableKey("OCPPCommCtrlr", "HeartbeatInterval"), str(interval))


class Handler16(st16.StationHandler):
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def log(self, station: str, text: str) -> None:
        self.sim.log(text)

    async def on_get_configuration(self, request: m16.GetConfigurationRequest, context: st16.Context) -> m16.GetConfigurationResponse:
        assert self.sim.config is not None
        self.sim.log(f"GetConfiguration {request.key if isinstance(request.key, list) else 'all'}")
        return self.sim.config.answer_get_configuration(r16.GET_CONFIGURATION, request, context)

    async def on_change_configuration(self, request: m16.ChangeConfigurationRequest, context: st16.Context) -> m16.ChangeConfigurationResponse:
        assert self.sim.config is not None
        answer = self.sim.config.answer_change_configuration(r16.CHANGE_CONFIGURATION, request, context)
        self.sim.log(f"ChangeConfiguration {request.key}: {answer.status.value}")  # values may be secrets: not logged
        return answer

    async def on_remote_start_transaction(self, request: m16.RemoteStartTransactionRequest, context: st16.Context) -> m16.RemoteStartTransactionResponse:
        self.sim.log(f"RemoteStartTransaction for {request.id_tag}")
        if self.sim.charging:
            return m16.RemoteStartTransactionResponse(status=e16.RemoteStartStopStatus.Rejected)
        self.sim.remote_start.put_nowait((request.id_tag, None))
        return m16.RemoteStartTransactionResponse(status=e16.RemoteStartStopStatus.Accepted)

    async def on_remote_stop_transaction(self, request: m16.RemoteStopTransactionRequest, context: st16.Context) -> m16.RemoteStopTransactionResponse:
        self.sim.log(f"RemoteStopTransaction {request.transaction_id}")
        sim = self.sim
        if sim.charging and sim.transaction is None and sim.start is not None and sim.client is not None:
            # its StartTransaction.conf may just be arriving (the queue delivers alongside): wait a moment for the id
            with contextlib.suppress(asyncio.TimeoutError, DeadLettered):
                await sim.client.response(sim.start, timeout=2.0)
            if sim.charging and sim.transaction is None:
                sim.transaction = sim.client.transaction_id(sim.start)
        if request.transaction_id != self.sim.transaction:
            return m16.RemoteStopTransactionResponse(status=e16.RemoteStartStopStatus.Rejected)
        self.sim.remote_stop.set()
        return m16.RemoteStopTransactionResponse(status=e16.RemoteStartStopStatus.Accepted)

    async def on_reset(self, request: m16.ResetRequest, context: st16.Context) -> m16.ResetResponse:
        self.sim.resets += 1
        self.sim.log(f"Reset {request.type.value}")
        return m16.ResetResponse(status=e16.ResetStatus.Accepted)

    async def on_data_transfer(self, request: m16.DataTransferRequest, context: st16.Context) -> m16.DataTransferResponse:
        return m16.DataTransferResponse(status=e16.DataTransferStatus.UnknownVendorId)  # no vendor extensions

    async def on_trigger_message(self, request: m16.TriggerMessageRequest, context: st16.Context) -> m16.TriggerMessageResponse:
        wanted = request.requested_message.value
        self.sim.log(f"TriggerMessage {wanted}")
        send = self.triggered(wanted, context.client)
        if send is None:
            return m16.TriggerMessageResponse(status=e16.TriggerMessageStatus.NotImplemented)
        context.after_response(send)  # the requested message follows the answer (section 5.17)
        return m16.TriggerMessageResponse(status=e16.TriggerMessageStatus.Accepted)

    def triggered(self, wanted: str, client: st16.CsmsClient) -> Any:
        sim = self.sim
        messages: dict[str, Any] = {
            "Heartbeat": lambda: client.heartbeat(m16.HeartbeatRequest()),
            "StatusNotification": lambda: client.status_notification(m16.StatusNotificationRequest(
                connector_id=1, error_code=e16.ChargePointErrorCode.NoError,
                status=e16.ChargePointStatus.Charging if sim.charging else e16.ChargePointStatus.Available)),
            "BootNotification": lambda: booted(sim, client.boot_notification(m16.BootNotificationRequest(charge_point_model="SimCharger", charge_point_vendor="ocppgen"))),
            # section 5.17: the triggered MeterValues is sent now as a direct CALL, not queued behind the
            # transaction's messages (it carries no transactionId, so it is not a transaction message)
            "MeterValues": lambda: client.meter_values(m16.MeterValuesRequest(connector_id=1, meter_value=[d16.MeterValue(
                timestamp=now(), sampled_value=[d16.SampledValue(value=f"{sim.energy:.1f}", unit=e16.UnitOfMeasure.Wh)])])),
            "DiagnosticsStatusNotification": lambda: client.diagnostics_status_notification(
                m16.DiagnosticsStatusNotificationRequest(status=e16.DiagnosticsStatus.Idle)),
            "FirmwareStatusNotification": lambda: client.firmware_status_notification(
                m16.FirmwareStatusNotificationRequest(status=e16.FirmwareStatus.Idle)),
        }
        return messages.get(wanted)


class Handler2x:
    m: Any
    d: Any
    e: Any
    r: Any

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def log(self, station: str, text: str) -> None:
        self.sim.log(text)

    # the device model store answers per Part 2 B05-B08 (docs/device-model.md)
    async def on_get_variables(self, request: Any, context: Any) -> Any:
        answer = self.sim.model.answer_get_variables(self.r.GET_VARIABLES, request, context)
        for result in answer.get_variable_result:
            self.sim.log(f"GetVariables {result.component.name}.{result.variable.name}: {result.attribute_status.value}")
        return answer

    async def on_set_variables(self, request: Any, context: Any) -> Any:
        answer = self.sim.model.answer_set_variables(self.r.SET_VARIABLES, request, context)
        for item, result in zip(request.set_variable_data, answer.set_variable_result):  # values may be secrets: not logged
            self.sim.log(f"SetVariables {result.component.name}.{result.variable.name}: {result.attribute_status.value}")
            accepted = result.attribute_status.value in ("Accepted", "RebootRequired")
            if accepted and (item.component.name, item.variable.name) == ("SecurityCtrlr", "BasicAuthPassword"):
                password = item.attribute_value

                async def reconnect() -> None:  # A01.FR.01/11: stored, then used, once the answer is out
                    if self.sim.client is not None:
                        self.sim.client.set_password(password)

                context.after_response(reconnect)
        return answer

    async def on_get_base_report(self, request: Any, context: Any) -> Any:
        self.sim.log(f"GetBaseReport {request.report_base.value} (request {request.request_id})")
        return self.sim.model.answer_get_base_report(self.r.GET_BASE_REPORT, request, context, self.r.NOTIFY_REPORT)

    async def on_get_report(self, request: Any, context: Any) -> Any:
        self.sim.log(f"GetReport (request {request.request_id})")
        return self.sim.model.answer_get_report(self.r.GET_REPORT, request, context, self.r.NOTIFY_REPORT)

    async def on_request_start_transaction(self, request: Any, context: Any) -> Any:
        self.sim.log(f"RequestStartTransaction for {request.id_token.id_token} (remoteStartId {request.remote_start_id})")
        if self.sim.charging:
            return self.m.RequestStartTransactionResponse(status=self.e.RequestStartStopStatusEnumType.Rejected)
        self.sim.remote_start.put_nowait((request.id_token.id_token, request.remote_start_id))
        return self.m.RequestStartTransactionResponse(status=self.e.RequestStartStopStatusEnumType.Accepted)

    async def on_request_stop_transaction(self, request: Any, context: Any) -> Any:
        self.sim.log(f"RequestStopTransaction {request.transaction_id}")
        if request.transaction_id != self.sim.transaction:
            return self.m.RequestStopTransactionResponse(status=self.e.RequestStartStopStatusEnumType.Rejected)
        self.sim.remote_stop.set()
        return self.m.RequestStopTransactionResponse(status=self.e.RequestStartStopStatusEnumType.Accepted)

    async def on_reset(self, request: Any, context: Any) -> Any:
        self.sim.resets += 1
        self.sim.log(f"Reset {request.type.value}")
        return self.m.ResetResponse(status=self.e.ResetStatusEnumType.Accepted)

    async def on_data_transfer(self, request: Any, context: Any) -> Any:
        return self.m.DataTransferResponse(status=self.e.DataTransferStatusEnumType.UnknownVendorId)  # P01.FR.06

    async def on_trigger_message(self, request: Any, context: Any) -> Any:
        wanted = request.requested_message.value
        self.sim.log(f"TriggerMessage {wanted}")
        statuses = self.e.TriggerMessageStatusEnumType
        if wanted == "BootNotification" and context.session.registered:
            return self.m.TriggerMessageResponse(status=statuses.Rejected)  # F06.FR.17
        if wanted == "TransactionEvent" and self.sim.transaction is None:
            return self.m.TriggerMessageResponse(status=statuses.Rejected)  # nothing to report
        send = self.triggered(wanted, context.client)
        if send is None:
            return self.m.TriggerMessageResponse(status=statuses.NotImplemented)  # F06.FR.08
        context.after_response(send)  # F06.FR.04: the answer first, then the requested message
        return self.m.TriggerMessageResponse(status=statuses.Accepted)

    def triggered(self, wanted: str, client: Any) -> Any:
        m, d, e, sim = self.m, self.d, self.e, self.sim
        connector = e.ConnectorStatusEnumType.Occupied if sim.transaction is not None else e.ConnectorStatusEnumType.Available
        messages: dict[str, Any] = {
            "Heartbeat": lambda: client.heartbeat(m.HeartbeatRequest()),
            "StatusNotification": lambda: client.status_notification(m.StatusNotificationRequest(
                timestamp=now(), connector_status=connector, evse_id=1, connector_id=1)),
            "BootNotification": lambda: booted(sim, client.boot_notification(m.BootNotificationRequest(
                reason=e.BootReasonEnumType.Triggered, charging_station=d.ChargingStationType(model="SimCharger", vendor_name="ocppgen")))),
            "MeterValues": lambda: client.meter_values(m.MeterValuesRequest(evse_id=1, meter_value=energy(sim, d, e, e.ReadingContextEnumType.Trigger))),
            # F06.FR.04/07: the triggered TransactionEvent and MeterValues are sent now, as direct CALLs, not
            # queued behind the transaction's (maybe offline-retried) messages: the CSMS asked for the current state
            # (a TriggerMessage comes over a live link, so it does not need the offline queue)
            "TransactionEvent": lambda: send_event(  # F06.FR.07: the transaction's state, a reading in context Trigger
                client, sim, m, d, e, e.TransactionEventEnumType.Updated, e.TriggerReasonEnumType.Trigger, context=e.ReadingContextEnumType.Trigger,
                evse=d.EVSEType(id=1), transaction_info=d.TransactionType(transaction_id=str(sim.transaction), charging_state=e.ChargingStateEnumType.Charging)),
            "FirmwareStatusNotification": lambda: client.firmware_status_notification(
                m.FirmwareStatusNotificationRequest(status=e.FirmwareStatusEnumType.Idle)),
            "LogStatusNotification": lambda: client.log_status_notification(m.LogStatusNotificationRequest(status=e.UploadLogStatusEnumType.Idle)),
        }
        return messages.get(wanted)


class Handler201(Handler2x, st201.StationHandler):
    m, d, e, r = m201, d201, e201, r201


class Handler21(Handler2x, st21.StationHandler):
    m, d, e, r = m21, d21, e21, r21


BINDINGS = {"1.6": (st16, r16, Handler16), "2.0.1": (st201, r201, Handler201), "2.1": (st21, r21, Handler21)}


async def booted(sim: Simulator, boot: Any) -> None:
    """Send a (triggered) BootNotification and keep its answer."""
    sim.boot = await boot


async def register(station: StationClient[Any, Any], sim: Simulator, boot: Any) -> Any:
    """Boot until Accepted: after a Pending or Rejected answer boot again once its interval has
    passed (2.x B02.FR.08, B03.FR.06; 1.6 section 4.2), unless a BootNotification the CSMS
    triggered meanwhile was accepted (F06.FR.17). ``boot()`` sends one BootNotification."""
    await booted(sim, boot())
    loop = asyncio.get_running_loop()
    while sim.boot.status.value != "Accepted":
        if station.registered:
            # a triggered boot was accepted: the client is registered as soon as the answer is
            # read, and the task that sent it keeps it in sim.boot a step later. Every turn of
            # this loop awaits, or that task would never run.
            await asyncio.sleep(0.05)
            continue
        end = loop.time() + max(sim.boot.interval, 1)
        while loop.time() < end and not station.registered:
            await asyncio.sleep(0.05)
        if not station.registered:
            await booted(sim, boot())
    return sim.boot


def energy(sim: Simulator, d: Any, e: Any, context: Any = None) -> list[Any]:
    extra = {"context": context} if context is not None else {}  # F06.FR.06: a triggered reading says so
    value = d.SampledValueType(value=sim.energy, measurand=e.MeasurandEnumType.Energy_Active_Import_Register, unit_of_measure=d.UnitOfMeasureType(unit="Wh"), **extra)
    return [d.MeterValueType(timestamp=now(), sampled_value=[value])]


def event(sim: Simulator, m: Any, d: Any, e: Any, kind: Any, trigger: Any, context: Any = None, **kwargs: Any) -> Any:
    info = kwargs.pop("transaction_info", None) or d.TransactionType(transaction_id=str(sim.transaction))
    seq, sim.seq = sim.seq, sim.seq + 1  # taken before sending: a triggered event may run alongside
    return m.TransactionEventRequest(event_type=kind, timestamp=now(), trigger_reason=trigger, seq_no=seq,
                                     transaction_info=info, meter_value=energy(sim, d, e, context), **kwargs)


async def send_event(client: Any, sim: Simulator, m: Any, d: Any, e: Any, kind: Any, trigger: Any, context: Any = None, **kwargs: Any) -> None:
    """A TransactionEvent as a direct CALL (a triggered one, F06.FR.07)."""
    await client.transaction_event(event(sim, m, d, e, kind, trigger, context, **kwargs))


def queue_event(station: StationClient[Any, Any], sim: Simulator, m: Any, d: Any, e: Any, r: Any, kind: Any, trigger: Any, **kwargs: Any) -> Queued[Any]:
    """A TransactionEvent through the durable queue (E12/E13): offline ones are marked offline=true."""
    queued = sim.last_queued = station.submit(r.TRANSACTION_EVENT, event(sim, m, d, e, kind, trigger, **kwargs))
    return queued


async def token_answer(station: StationClient[Any, Any], sim: Simulator, queued: Queued[Any], what: str) -> None:
    """Act on the idTokenInfo (2.x TransactionEventResponse, E05/E06) or idTagInfo (1.6
    StartTransaction.conf, section 4.8; also its transactionId) once the queue delivered it."""
    try:
        answer = await station.response(queued)
    except DeadLettered as exc:
        sim.log(f"{what}: given up ({exc})")
        return
    info = getattr(answer, "id_token_info", None) or getattr(answer, "id_tag_info", None)
    if sim.version == "1.6" and sim.charging and sim.transaction is None:
        sim.transaction = answer.transaction_id
        sim.log(f"transaction {answer.transaction_id} assigned by the CSMS")
    if info is not None:
        sim.log(f"{what}: {info.status.value}")
        if info.status.value != "Accepted" and sim.charging:
            sim.deauthorized = True  # E05.FR.02/E06: stop the transaction (1.6 section 4.8: StopTransactionOnInvalidId)


async def settle(station: StationClient[Any, Any], queued: Queued[Any]) -> None:
    """Online, let the queue deliver ``queued`` before the direct CALL that follows it (1.6: the
    StatusNotification Charging after StartTransaction, Available after StopTransaction), keeping
    the order a CSMS expects; offline (or slow) the transaction does not wait for it."""
    if station.current is None or not station.registered:
        return
    with contextlib.suppress(asyncio.TimeoutError, DeadLettered):
        await station.response(queued, timeout=min(station.options.call_timeout or 5.0, 5.0))


async def quietly(call: Any) -> Any:
    """A direct CALL that may fail while offline (a StatusNotification, a Heartbeat): not queued."""
    try:
        return await call
    except CallFailure as exc:
        return exc


async def transaction_16(station: StationClient[Any, Any], sim: Simulator, id_tag: str, remote: bool, meter_values: int, interval: float) -> None:
    client = station.csms
    sim.charging, sim.deauthorized, sim.transaction = True, False, None
    if not remote or sim.remote_needs_authorize():
        auth = await quietly(client.authorize(m16.AuthorizeRequest(id_tag=id_tag)))
        sim.log(f"Authorize {id_tag}: {auth.id_tag_info.status.value}" if not isinstance(auth, CallFailure) else f"Authorize {id_tag}: offline ({auth})")
    # section 4.8: the CSMS assigns the transactionId; StopTransaction and the transaction's MeterValues
    # name this StartTransaction (start=) and carry that id when delivered, also when queued offline
    start = sim.start = sim.last_queued = station.submit(r16.START_TRANSACTION, m16.StartTransactionRequest(connector_id=1, id_tag=id_tag, meter_start=int(sim.energy), timestamp=now()))
    sim.follow(token_answer(station, sim, start, f"StartTransaction {id_tag}"))
    sim.log(f"transaction started (queued as #{start})")
    await settle(station, start)
    await quietly(client.status_notification(m16.StatusNotificationRequest(connector_id=1, error_code=e16.ChargePointErrorCode.NoError, status=e16.ChargePointStatus.Charging)))
    readings: list[d16.MeterValue] = []
    for _ in range(meter_values):
        if sim.remote_stop.is_set() or sim.deauthorized:
            break
        await asyncio.sleep(interval)
        sim.energy += 250.0
        value = d16.SampledValue(value=f"{sim.energy:.1f}", measurand=e16.Measurand.Energy_Active_Import_Register, unit=e16.UnitOfMeasure.Wh)
        reading = d16.MeterValue(timestamp=now(), sampled_value=[value])
        readings.append(reading)
        sim.last_queued = station.submit(r16.METER_VALUES, m16.MeterValuesRequest(connector_id=1, transaction_id=0, meter_value=[reading]), start=start)
        sim.log(f"meter {sim.energy:.1f} Wh")
    reason = e16.Reason.DeAuthorized if sim.deauthorized else e16.Reason.Remote if sim.remote_stop.is_set() else e16.Reason.Local
    tx = station.transaction_id(start) or 0  # 0: not answered yet; the queue puts in the assigned id (start=)
    stop = m16.StopTransactionRequest(transaction_id=tx, meter_stop=int(sim.energy), timestamp=now(), reason=reason)
    if readings:
        stop = m16.StopTransactionRequest(transaction_id=tx, meter_stop=int(sim.energy), timestamp=now(), reason=reason, transaction_data=readings)
    sim.last_queued = station.submit(r16.STOP_TRANSACTION, stop, start=start)
    await settle(station, sim.last_queued)
    sim.transaction, sim.charging = None, False
    await quietly(client.status_notification(m16.StatusNotificationRequest(connector_id=1, error_code=e16.ChargePointErrorCode.NoError, status=e16.ChargePointStatus.Available)))
    sim.log(f"transaction #{start} stopped at {sim.energy:.1f} Wh")


async def transaction_2x(station: StationClient[Any, Any], sim: Simulator, m: Any, d: Any, e: Any, r: Any, id_tag: str, remote_start_id: int | None,
                         meter_values: int, interval: float) -> None:
    client = station.csms
    token = d.IdTokenType(id_token=id_tag, type=e.IdTokenEnumType.ISO14443 if sim.version == "2.0.1" else "ISO14443")
    remote = remote_start_id is not None
    if not remote or sim.remote_needs_authorize():
        auth = await quietly(client.authorize(m.AuthorizeRequest(id_token=token)))
        sim.log(f"Authorize {id_tag}: {auth.id_token_info.status.value}" if not isinstance(auth, CallFailure) else f"Authorize {id_tag}: offline ({auth})")
    sim.transaction = str(uuid.uuid4())
    sim.charging, sim.deauthorized = True, False
    sim.seq = 0
    trigger = e.TriggerReasonEnumType.RemoteStart if remote else e.TriggerReasonEnumType.Authorized
    info = d.TransactionType(transaction_id=sim.transaction, remote_start_id=remote_start_id) if remote else None
    started = queue_event(station, sim, m, d, e, r, e.TransactionEventEnumType.Started, trigger, id_token=token,
                          evse=d.EVSEType(id=1, connector_id=1), transaction_info=info)
    sim.follow(token_answer(station, sim, started, f"TransactionEvent Started, idToken {id_tag}"))  # E05/E06: idTokenInfo
    sim.log(f"transaction {sim.transaction} started")
    for _ in range(meter_values):
        if sim.remote_stop.is_set() or sim.deauthorized:
            break
        await asyncio.sleep(interval)
        sim.energy += 250.0
        queue_event(station, sim, m, d, e, r, e.TransactionEventEnumType.Updated, e.TriggerReasonEnumType.MeterValuePeriodic)
        sim.log(f"meter {sim.energy:.1f} Wh")
    if sim.deauthorized:  # E05.FR.02 / E06: the CSMS did not accept the idToken
        queue_event(station, sim, m, d, e, r, e.TransactionEventEnumType.Ended, e.TriggerReasonEnumType.Deauthorized,
                    transaction_info=d.TransactionType(transaction_id=str(sim.transaction), stopped_reason=e.ReasonEnumType.DeAuthorized))
    else:
        stop = e.TriggerReasonEnumType.RemoteStop if sim.remote_stop.is_set() else e.TriggerReasonEnumType.StopAuthorized
        queue_event(station, sim, m, d, e, r, e.TransactionEventEnumType.Ended, stop)
    sim.log(f"transaction {sim.transaction} ended at {sim.energy:.1f} Wh")
    sim.transaction, sim.charging = None, False


async def simulate(url: str, version: str, *, id_tag: str = "04A2B3C4", meter_values: int = 3, interval: float = 1.0,
                   keep_running: bool = False, started: asyncio.Event | None = None, sim: Simulator | None = None,
                   config_path: str | None = None, options: StationOptions | None = None, queue_path: str | None = None) -> Simulator:
    """Boot, report status, run one metered transaction; with keep_running, then heartbeat and
    serve CSMS requests (remote starts run further transactions) until cancelled. ``sim``: the
    state to use (to watch it from outside); ``config_path``: the SQLite file of its settings;
    ``options``: the client's options (Basic auth, TLS, back-off, ...; default: a short back-off
    and no pings, completed by the settings in its store; given options are used as given);
    ``queue_path``: the SQLite file of its durable queue of transaction messages (default: the
    ``options``' queue, else ``config_path`` + ``.queue``, else a temporary file removed at the end).
    Without keep_running it returns once the queue delivered (or gave up on) the transaction's
    messages."""
    role, routes, handler_cls = BINDINGS[version]
    sim = sim or Simulator(url.rstrip("/").rsplit("/", 1)[-1], version, config_path)
    handler = with_defaults(handler_cls, dict(role.HANDLED), routes.ROUTES)(sim)
    settings = sim.settings
    # the settings in its store (back-off, ping, retries) complete the default options; options
    # given by the caller (a test rig, a tester) are used as given
    chosen = options or settings.station_options(StationOptions(backoff=BackOff(1, 2, 3), ping_interval=0))
    scratch = None
    if chosen.queue is None or queue_path is not None:
        if queue_path is None and config_path:
            queue_path = config_path + ".queue"
        if queue_path is None:
            scratch = tempfile.mkdtemp(prefix="ocppgen-station-")
            queue_path = str(Path(scratch) / "queue.sqlite")
        chosen = dataclasses.replace(chosen, queue=SqliteStore(queue_path))
    try:
        return await _simulate(url, version, sim, handler, chosen, id_tag=id_tag, meter_values=meter_values,
                               interval=interval, keep_running=keep_running, started=started)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


async def _simulate(url: str, version: str, sim: Simulator, handler: Any, chosen: StationOptions, *, id_tag: str,
                    meter_values: int, interval: float, keep_running: bool, started: asyncio.Event | None) -> Simulator:
    role, routes, _ = BINDINGS[version]
    settings = sim.settings
    station = StationClient(url, role.BINDING, handler, chosen)
    settings.bind(station)  # a WebSocketPingInterval set by the CSMS takes effect at once
    sim.client = station
    async with station.running():
        await station.connected()
        client = station.csms
        if version == "1.6":
            boot = await register(station, sim, lambda: client.boot_notification(m16.BootNotificationRequest(charge_point_model="SimCharger", charge_point_vendor="ocppgen")))
        else:
            m, d, e = (m201, d201, e201) if version == "2.0.1" else (m21, d21, e21)
            boot = await register(station, sim, lambda: client.boot_notification(m.BootNotificationRequest(reason=e.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="SimCharger", vendor_name="ocppgen"))))
        if boot.status.value == "Accepted":
            sim.set_heartbeat(boot.interval)  # the interval of the accepted boot (B01, 1.6 section 4.2)
        sim.log(f"BootNotification: {boot.status.value}, heartbeat every {settings.heartbeat_interval()} s")
        if version == "1.6":
            await client.status_notification(m16.StatusNotificationRequest(connector_id=1, error_code=e16.ChargePointErrorCode.NoError, status=e16.ChargePointStatus.Available))
        else:
            await client.status_notification(m.StatusNotificationRequest(timestamp=now(), connector_status=e.ConnectorStatusEnumType.Available, evse_id=1, connector_id=1))
            with contextlib.suppress(CallErrorReceived):  # A04 (Part 6 "Booted" step 7); a CSMS may not implement it
                await client.security_event_notification(m.SecurityEventNotificationRequest(type="StartupOfTheDevice", timestamp=now()))
        if started is not None:
            started.set()

        async def run_transaction(tag: str, remote_start_id: int | None, remote: bool) -> None:
            sim.remote_stop.clear()
            if version == "1.6":
                await transaction_16(station, sim, tag, remote, meter_values, interval)
            else:
                await transaction_2x(station, sim, m, d, e, routes, tag, remote_start_id, meter_values, interval)

        try:
            await run_transaction(id_tag, None, False)
            while keep_running:
                with contextlib.suppress(asyncio.TimeoutError):
                    tag, remote_start_id = await asyncio.wait_for(sim.remote_start.get(), timeout=max(settings.heartbeat_interval(), 1))
                    await run_transaction(tag, remote_start_id, True)
                    continue
                if not isinstance(await quietly(client.heartbeat({"1.6": m16, "2.0.1": m201, "2.1": m21}[version].HeartbeatRequest())), CallFailure):
                    sim.log("Heartbeat")
            if sim.last_queued is not None:  # --once: the queue delivers the transaction's messages first
                with contextlib.suppress(DeadLettered):
                    await station.response(sim.last_queued)
                await asyncio.gather(*sim.tasks, return_exceptions=True)
        finally:
            for task in list(sim.tasks):
                task.cancel()
    return sim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:9000/ocpp/SIM-1")
    parser.add_argument("--version", choices=sorted(BINDINGS), default="2.0.1")
    parser.add_argument("--id-tag", default="04A2B3C4")
    parser.add_argument("--meter-values", type=int, default=3)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between meter values")
    parser.add_argument("--once", action="store_true", help="exit after the first transaction")
    parser.add_argument("--config", default=None, help="SQLite file of the station's settings (kept across restarts)")
    parser.add_argument("--queue", default=None, help="SQLite file of its durable queue of transaction messages "
                        "(default: the --config file's name + .queue, else a temporary file)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(simulate(args.url, args.version, id_tag=args.id_tag, meter_values=args.meter_values,
                             interval=args.interval, keep_running=not args.once, config_path=args.config, queue_path=args.queue))


if __name__ == "__main__":
    main()
