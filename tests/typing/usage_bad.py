"""Misuse of the generated package: every marked line must be a mypy --strict error."""

import datetime
from collections.abc import Awaitable

from ocppgen.generated.runtime.payload import codec
from ocppgen.generated.v16 import enums as e16, messages as m16
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201

m16.AuthorizeRequest(id_tag="x", extra=1)  # E: call-arg
m201.ResetRequest(type="Soon")  # E: arg-type
m201.ResetRequest(type=e201.ResetEnumType.Immediate, evse_id="2")  # E: arg-type
m201.ResetRequest(evse_id=2)  # E: call-arg
d201.CustomDataType(vendorId="x")  # E: call-arg
m16.StatusNotificationRequest(connector_id=1, error_code=e16.ChargePointStatus.Available, status=e16.ChargePointStatus.Available)  # E: arg-type
wrong: m201.ResetResponse = codec(m201.ResetRequest, True).decode(b"{}")  # E: assignment
n: int = m201.HeartbeatResponse.current_time  # E: assignment

# --- roles ---
from ocppgen.generated.runtime.routing import Caller
from ocppgen.generated.v201 import csms as csms201, station as station201
from ocppgen.generated.v21 import csms as csms21


async def misuse(caller: Caller) -> None:
    station = csms201.ChargingStationClient(caller)
    await station.boot_notification(None)  # E: attr-defined
    await station.afrr_signal(None)  # E: attr-defined
    await station.reset(m201.HeartbeatRequest())  # E: arg-type
    status: int = (await station.reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))).status  # E: assignment
    await station201.CsmsClient(caller).reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))  # E: attr-defined
    await csms21.ChargingStationClient(caller).afrr_signal(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))  # E: arg-type


class WrongReturn(csms201.CsmsHandler):
    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.ResetResponse:  # E: override
        raise NotImplementedError


class WrongRequest(csms201.CsmsHandler):
    async def on_heartbeat(self, request: m201.ResetRequest, context: csms201.Context) -> m201.HeartbeatResponse:  # E: override
        raise NotImplementedError


class WrongPlainReturn(csms201.CsmsHandler):  # a plain def handler is typed like an async def one
    def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.ResetResponse:  # E: override
        raise NotImplementedError

    def on_authorize(self, request: m201.AuthorizeRequest, context: csms201.Context) -> m201.AuthorizeResponse | None:  # E: override
        return None

    def on_status_notification(self, request: m201.StatusNotificationRequest, context: csms201.Context) -> m201.StatusNotificationResponse:
        return m201.HeartbeatResponse(current_time=datetime.datetime.now(datetime.timezone.utc))  # E: return-value


class WrongPlainRequest(csms201.CsmsHandler):
    def on_heartbeat(self, request: m201.ResetRequest, context: csms201.Context) -> m201.HeartbeatResponse:  # E: override
        raise NotImplementedError


class WrongAwaitable(csms201.CsmsHandler):  # a plain def may hand back an awaitable, of the right response only
    def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> Awaitable[m201.ResetResponse]:  # E: override
        raise NotImplementedError


async def awaits_a_plain_handler(handler: csms201.CsmsHandler, request: m201.HeartbeatRequest, context: csms201.Context) -> None:
    answer: m201.HeartbeatResponse = await handler.on_heartbeat(request, context)  # E: misc


# --- sessions, registry, server and station client ---
from ocppgen.generated.runtime.client import StationClient
from ocppgen.generated.runtime.server import CsmsServer
from ocppgen.generated.runtime.session import Session
from ocppgen.generated.v16 import csms as csms16, routing as routing16
from ocppgen.generated.v201 import routing as routing201


class Csms201(csms201.CsmsHandler):
    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
        await context.client.boot_notification(None)  # E: attr-defined
        raise NotImplementedError


class Station201(station201.StationHandler):
    pass


async def registry_misuse(server: CsmsServer) -> None:
    station = server.registry.client("CS-1", csms201.BINDING)
    await station.boot_notification(None)  # E: attr-defined
    await station.reset(m201.HeartbeatRequest())  # E: arg-type
    await station.rest(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))  # E: attr-defined
    await server.registry.client("CS-1", csms16.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))  # E: arg-type
    as201: csms201.ChargingStationClient = server.registry.client("CS-1", csms16.BINDING)  # E: assignment
    server.registry.client("CS-1")  # E: call-arg
    server.handle(csms201.BINDING, Station201())  # E: arg-type
    server.handle(csms16.BINDING, Csms201())  # E: arg-type
    server.handle(csms201.BINDING, lambda session: Station201())  # E: arg-type, return-value


def queued_event() -> m201.TransactionEventRequest:
    return m201.TransactionEventRequest(
        event_type=e201.TransactionEventEnumType.Started, timestamp=datetime.datetime.now(datetime.timezone.utc),
        trigger_reason=e201.TriggerReasonEnumType.Authorized, seq_no=0, transaction_info=d201.TransactionType(transaction_id="T"),
    )


async def station_misuse() -> None:
    client = StationClient("ws://x/ocpp/CS-1", station201.BINDING, Station201())
    await client.csms.reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))  # E: attr-defined
    client.submit(routing201.TRANSACTION_EVENT, m201.HeartbeatRequest())  # E: misc
    client.submit(routing16.STOP_TRANSACTION, m201.HeartbeatRequest())  # E: misc
    queued = client.submit(routing201.TRANSACTION_EVENT, queued_event())
    heartbeat: m201.HeartbeatResponse = await client.response(queued)  # E: arg-type
    StationClient("ws://x/ocpp/CS-1", station201.BINDING, Csms201())  # E: arg-type
    StationClient("ws://x/ocpp/CS-1", csms201.BINDING, Station201())  # E: arg-type


def callerror_misuse() -> None:
    raise csms16.CallError("FormatViolation")  # E: arg-type


def callerror_misuse_2x() -> None:
    raise csms201.CallError("FormationViolation")  # E: arg-type


# --- device-model tables ---
from ocppgen.generated.v16 import configuration as cfg16
from ocppgen.generated.v201 import devicemodel as dm201

data_type: int = dm201.OCPPCommCtrlr.HeartbeatInterval.data_type  # E: assignment
dm201.OCPPCommCtrlr.HeartbeatInterval = dm201.OCPPCommCtrlr.OfflineThreshold  # E: misc
dm201.OCPPCommCtrlr.HeartbeatInterval.required = True  # E: misc
dm201.OCPPCommCtrlr.NoSuchVariable  # E: attr-defined
dm201.ComponentVariable(component="X", variable="Y", data_type="integer")  # E: arg-type
cfg16.ConfigurationKey(key="K", data_type="float", accessibility=("R",), required=False)  # E: arg-type

# --- cluster registry (issue 13): the same typed clients as the in-process registry ---

from ocppgen.generated.runtime.cluster import ClusterRegistry  # noqa: E402
from ocppgen.generated.runtime.redis_backplane import RedisBackplane  # noqa: E402


async def cluster_misuse(url: str) -> None:
    registry = ClusterRegistry(RedisBackplane(url))
    station = registry.client("CS-1", csms201.BINDING)
    await station.reset(m201.HeartbeatRequest())  # E: arg-type
    await station.boot_notification(None)  # E: attr-defined
    as201: csms201.ChargingStationClient = registry.client("CS-1", csms16.BINDING)  # E: assignment
    level: int = (await station.reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))).status  # E: assignment
    ClusterRegistry("redis://127.0.0.1:6379/0")  # E: arg-type
    CsmsServer(registry=RedisBackplane(url))  # E: arg-type

# --- device-model store and CSMS helpers ---
from ocppgen.generated.runtime.device_model import DeviceModel, VariableKey, VariableSpec, declare
from ocppgen.generated.runtime.device_model_csms import Limits, ReportAssembler
from ocppgen.generated.v201 import datatypes as d201_
from ocppgen.generated.v21 import messages as m21_


def store_misuse(model: DeviceModel, request: m201.GetVariablesRequest, context: station201.Context) -> None:
    wrong: m201.SetVariablesResponse = model.answer_get_variables(routing201.GET_VARIABLES, request, context)  # E: assignment
    model.answer_set_variables(routing201.SET_VARIABLES, request, context)  # E: misc
    declare(dm201.OCPPCommCtrlr.HeartbeatInterval, 300)  # E: arg-type
    declare(dm201.OCPPCommCtrlr.HeartbeatInterval, mutability="ReadMostly")  # E: arg-type
    VariableSpec(component="X", variable="Y", data_type="float")  # E: arg-type
    interval: int = model.integer(VariableKey("OCPPCommCtrlr", "HeartbeatInterval"))  # E: assignment
    model.set(VariableKey("OCPPCommCtrlr", "HeartbeatInterval"), 60)  # E: arg-type
    Limits(items=3).items = 4  # E: misc


def assembler_misuse(assembler: ReportAssembler[d201_.ReportDataType], part: m21_.NotifyReportRequest) -> None:
    assembler.feed("CS-1", part)  # E: arg-type
