"""Correct use of the generated package: must pass mypy --strict with no error."""

import datetime

import msgspec

from msgspec import UNSET

from ocppgen.generated.runtime.payload import codec
from ocppgen.generated.v16 import enums as e16, messages as m16
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201


def boot() -> bytes:
    request = m201.BootNotificationRequest(
        reason=e201.BootReasonEnumType.PowerUp,
        charging_station=d201.ChargingStationType(
            model="M1",
            vendor_name="ACME",
            custom_data=d201.CustomDataType(vendor_id="com.acme", extra={"rack": 3}),
        ),
    )
    return codec(m201.BootNotificationRequest, True).encode(request)


def interval(raw: bytes) -> int:
    response: m201.BootNotificationResponse = codec(m201.BootNotificationResponse, True).decode(raw)
    if response.status is e201.RegistrationStatusEnumType.Accepted:
        return response.interval
    return 0


def status() -> m16.StatusNotificationRequest:
    return m16.StatusNotificationRequest(
        connector_id=1,
        error_code=e16.ChargePointErrorCode.NoError,
        status=e16.ChargePointStatus.Available,
        timestamp=datetime.datetime.now(datetime.timezone.utc),
    )


def optional_is_unset(r: m16.StatusNotificationRequest) -> bool:
    return r.info is UNSET


# --- roles (issue: routing tables and role interfaces) ---

from ocppgen.generated.runtime.routing import Caller  # noqa: E402
from ocppgen.generated.v201 import csms as csms201, station as station201  # noqa: E402
from ocppgen.generated.v21 import messages as m21, station as station21  # noqa: E402


class MyCsms(csms201.CsmsHandler):
    async def on_boot_notification(
        self, request: m201.BootNotificationRequest, context: csms201.Context
    ) -> m201.BootNotificationResponse:
        async def read_interval() -> None:  # the typed client of this very station
            answer = await context.client.get_variables(m201.GetVariablesRequest(get_variable_data=[]))
            context.session.state["results"] = len(answer.get_variable_result)

        context.after_response(read_interval)
        return m201.BootNotificationResponse(
            current_time=datetime.datetime.now(datetime.timezone.utc),
            interval=300,
            status=e201.RegistrationStatusEnumType.Accepted,
        )


async def reset_station(caller: Caller) -> e201.ResetStatusEnumType:
    station = csms201.ChargingStationClient(caller)
    response = await station.reset(m201.ResetRequest(type=e201.ResetEnumType.Immediate), timeout=10)
    return response.status


async def boot_from_station(caller: Caller) -> int:
    csms = station201.CsmsClient(caller)
    response = await csms.boot_notification(
        m201.BootNotificationRequest(
            reason=e201.BootReasonEnumType.PowerUp,
            charging_station=d201.ChargingStationType(model="M", vendor_name="V"),
        )
    )
    return response.interval


async def stream(caller: Caller, message: m21.NotifyPeriodicEventStream) -> None:
    await station21.CsmsClient(caller).notify_periodic_event_stream(message)


# --- sessions, registry, server and station client (issue: sessions and a typed transport) ---

from ocppgen.generated.runtime.client import StationClient  # noqa: E402
from ocppgen.generated.runtime.config import ServerOptions, StationOptions  # noqa: E402
from ocppgen.generated.runtime.queue import SqliteStore  # noqa: E402
from ocppgen.generated.runtime.server import CsmsServer  # noqa: E402
from ocppgen.generated.runtime.session import Session  # noqa: E402
from ocppgen.generated.v16 import csms as csms16  # noqa: E402
from ocppgen.generated.v201 import routing as routing201  # noqa: E402


class PerStation(csms201.CsmsHandler):
    def __init__(self, session: Session) -> None:
        self.session = session
        self.boots = 0

    async def registered(self, session: Session, client: csms201.ChargingStationClient) -> None:
        await client.reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))


class MyCsms16(csms16.CsmsHandler):
    pass


async def serve_and_reset() -> e201.ResetStatusEnumType | None:
    server = CsmsServer(ServerOptions(call_timeout=10))
    server.handle(csms201.BINDING, MyCsms())
    server.handle(csms201.BINDING, PerStation)  # a factory: one handler per station
    server.handle(csms16.BINDING, MyCsms16())
    session = await server.registry.wait_for("CS-1", timeout=5, registered=True)
    station: csms201.ChargingStationClient = server.registry.client("CS-1", csms201.BINDING)
    branch = session.try_client(csms16.BINDING)
    if branch is not None:
        await branch.reset(m16.ResetRequest(type=e16.ResetType.Soft))
        return None
    return (await station.reset(m201.ResetRequest(type=e201.ResetEnumType.Immediate))).status


class MyStation(station201.StationHandler):
    async def on_reset(self, request: m201.ResetRequest, context: station201.Context) -> m201.ResetResponse:
        return m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted)


async def run_station() -> int:
    client = StationClient("ws://csms/ocpp/CS-1", station201.BINDING, MyStation(), StationOptions(queue=SqliteStore(":memory:")))
    async with client.running():
        await client.connected(timeout=10)
        answer = await client.csms.boot_notification(
            m201.BootNotificationRequest(
                reason=e201.BootReasonEnumType.PowerUp,
                charging_station=d201.ChargingStationType(model="M", vendor_name="V"),
            )
        )
        event = m201.TransactionEventRequest(
            event_type=e201.TransactionEventEnumType.Started,
            timestamp=datetime.datetime.now(datetime.timezone.utc),
            trigger_reason=e201.TriggerReasonEnumType.Authorized,
            seq_no=0,
            transaction_info=d201.TransactionType(transaction_id="T"),
        )
        queued = client.submit(routing201.TRANSACTION_EVENT, event)
        confirmed: m201.TransactionEventResponse = await client.response(queued, timeout=5)
        assert confirmed.id_token_info is msgspec.UNSET or confirmed.id_token_info.status
        return answer.interval


class Strict(csms201.CsmsHandler):
    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
        raise csms201.CallError("SecurityError", "not registered", {"rule": "B03.FR.07"})


class Strict16(csms16.CsmsHandler):
    async def on_heartbeat(self, request: m16.HeartbeatRequest, context: csms16.Context) -> m16.HeartbeatResponse:
        raise csms16.CallError("OccurenceConstraintViolation")


from collections.abc import Awaitable  # noqa: E402

from ocppgen.generated.v21 import csms as csms21  # noqa: E402


class Plain(csms201.CsmsHandler):
    """Handler methods may be plain functions (answered at once) or return any awaitable."""

    def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
        return m201.HeartbeatResponse(current_time=datetime.datetime.now(datetime.timezone.utc))

    def on_authorize(self, request: m201.AuthorizeRequest, context: csms201.Context) -> Awaitable[m201.AuthorizeResponse]:
        return self.later(request)

    def on_status_notification(
        self, request: m201.StatusNotificationRequest, context: csms201.Context
    ) -> m201.StatusNotificationResponse | Awaitable[m201.StatusNotificationResponse]:
        if request.connector_id == 0:
            return m201.StatusNotificationResponse()
        return self.status_later()

    async def later(self, request: m201.AuthorizeRequest) -> m201.AuthorizeResponse:
        return m201.AuthorizeResponse(id_token_info=d201.IdTokenInfoType(status=e201.AuthorizationStatusEnumType.Accepted))

    async def status_later(self) -> m201.StatusNotificationResponse:
        return m201.StatusNotificationResponse()


class PlainSend(csms21.CsmsHandler):
    def on_notify_periodic_event_stream(self, message: m21.NotifyPeriodicEventStream, context: csms21.Context) -> None:
        return None


def plain_answer(handler: Plain, request: m201.HeartbeatRequest, context: csms201.Context) -> datetime.datetime:
    return handler.on_heartbeat(request, context).current_time  # a plain handler's type is its own


# --- device-model tables (issue 16) ---

from ocppgen.generated.v16 import configuration as cfg16  # noqa: E402
from ocppgen.generated.v201 import devicemodel as dm201  # noqa: E402
from ocppgen.generated.v21 import devicemodel as dm21  # noqa: E402


def component_variable(cv: dm201.ComponentVariable) -> d201.ComponentVariableType:
    variable = d201.VariableType(name=cv.variable, instance=cv.instance if cv.instance is not None else UNSET)
    return d201.ComponentVariableType(component=d201.ComponentType(name=cv.component or "Any"), variable=variable)


def writable(cv: dm201.ComponentVariable) -> bool:
    return e201.MutabilityEnumType.ReadOnly not in cv.mutability and not cv.secret


def redact(component: str, variable: str, value: str) -> str:
    return "***" if (component, variable) in dm21.SECRET_VARIABLES else value


heartbeat: dm201.ComponentVariable = dm201.OCPPCommCtrlr.HeartbeatInterval
heartbeat_type: e201.DataEnumType | None = heartbeat.data_type
items = component_variable(dm201.DeviceDataCtrlr.ItemsPerMessage_GetReport)
reason: str = dm21.ReasonCodes.TxInProgress.value
critical: bool = dm21.SecurityEvents.FirmwareUpdated.critical
connector: str = dm21.ConnectorTypes.cCCS2
unit: str = dm201.Units.kWh
ping: cfg16.ConfigurationKey = cfg16.Keys.WebSocketPingInterval
secret_keys: frozenset[str] = cfg16.SECRET_KEYS
access: tuple[cfg16.Accessibility, ...] = cfg16.Keys.AuthorizationKey.accessibility


# --- cluster registry (issue 13) ---

from ocppgen.generated.runtime.cluster import ClusterRegistry  # noqa: E402
from ocppgen.generated.runtime.errors import CallFailure  # noqa: E402
from ocppgen.generated.runtime.redis_backplane import RedisBackplane  # noqa: E402
from ocppgen.generated.runtime.server import CsmsServer  # noqa: E402


async def cluster_reset(url: str) -> e201.ResetStatusEnumType | None:
    async with ClusterRegistry(RedisBackplane(url, prefix="ocpp:", ttl=15)) as registry:
        server = CsmsServer(registry=registry)
        assert server.registry is registry
        station: csms201.ChargingStationClient = registry.client("CS-1", csms201.BINDING)
        try:
            answer = await station.reset(m201.ResetRequest(type=e201.ResetEnumType.Immediate), timeout=10)
        except CallFailure as failure:
            sent: bool = failure.sent  # whether the station can have received it
            return None if sent else None
        return answer.status
# --- device-model store and CSMS helpers ---
from ocppgen.generated.runtime.configuration_store import ConfigurationStore, declare_key  # noqa: E402
from ocppgen.generated.runtime.device_model import DeviceModel, VariableKey, VariableSpec, declare  # noqa: E402
from ocppgen.generated.runtime.device_model_csms import (  # noqa: E402
    BootConfiguration,
    Limits,
    MessageLimits,
    Report,
    ReportAssembler,
    call_in_batches,
    read_limits,
    request_report,
    request_reports_in_batches,
    split,
)
from ocppgen.generated.runtime.values import SqliteValues  # noqa: E402
from ocppgen.generated.v16 import routing as routing16, station as station16  # noqa: E402
from ocppgen.generated.v21 import datatypes as d21, enums as e21, routing as routing21  # noqa: E402


def station_model(path: str) -> DeviceModel:
    specs: list[VariableSpec] = [
        declare(dm201.OCPPCommCtrlr.HeartbeatInterval, "300", min_limit=1),
        declare(dm21.EVSE.AvailabilityState, "Available", evse=1, values_list=("Available", "Faulted")),
        VariableSpec(component="AcmeCtrlr", variable="Fan", data_type="integer", mutability="ReadWrite"),
    ]
    model = DeviceModel(specs, values=SqliteValues(path), report_items=10)
    interval: int = model.heartbeat_interval()
    fan: int | None = model.integer(VariableKey("AcmeCtrlr", "Fan"))
    model.set(dm201.OCPPCommCtrlr.HeartbeatInterval, str(interval + (fan or 0)))
    model.watch(dm201.OCPPCommCtrlr.HeartbeatInterval, print)
    return model


class ModelStation(station201.StationHandler):
    def __init__(self, model: DeviceModel) -> None:
        self.model = model

    async def on_get_variables(self, request: m201.GetVariablesRequest, context: station201.Context) -> m201.GetVariablesResponse:
        return self.model.answer_get_variables(routing201.GET_VARIABLES, request, context)

    async def on_get_base_report(self, request: m201.GetBaseReportRequest, context: station201.Context) -> m201.GetBaseReportResponse:
        return self.model.answer_get_base_report(routing201.GET_BASE_REPORT, request, context, routing201.NOTIFY_REPORT)


class KeysStation(station16.StationHandler):
    store = ConfigurationStore([declare_key(cfg16.Keys.HeartbeatInterval, "300")])

    async def on_get_configuration(self, request: m16.GetConfigurationRequest, context: station16.Context) -> m16.GetConfigurationResponse:
        return self.store.answer_get_configuration(routing16.GET_CONFIGURATION, request, context)


def bound(model: DeviceModel, client: StationClient[station201.StationHandler, station201.CsmsClient]) -> StationOptions:
    model.bind(client)
    return model.station_options(StationOptions())


async def csms_reads(session: Session) -> list[d21.ReportDataType]:
    assembler: ReportAssembler[d21.ReportDataType] = ReportAssembler()
    request = m21.GetBaseReportRequest(request_id=1, report_base=e21.ReportBaseEnumType.FullInventory)
    report: Report[d21.ReportDataType] = await request_report(session, routing21.GET_BASE_REPORT, request, assembler)
    limits: MessageLimits = await read_limits(session, routing21.GET_VARIABLES)
    wanted = [d21.GetVariableDataType(component=item.component, variable=item.variable) for item in report.items]
    batches: list[list[d21.GetVariableDataType]] = split(wanted, limits.get_variables, action="GetVariables", field_name="getVariableData")
    answers: list[m21.GetVariablesResponse] = await call_in_batches(
        session, routing21.GET_VARIABLES, wanted, lambda batch: m21.GetVariablesRequest(get_variable_data=batch), Limits(items=8),
        field_name="getVariableData",
    )
    by_batch: list[Report[d21.ReportDataType]] = await request_reports_in_batches(
        session, routing21.GET_REPORT, [d21.ComponentVariableType(component=item.component) for item in report.items],
        lambda batch, rid: m21.GetReportRequest(request_id=rid, component_variable=batch), limits.get_report, assembler,
        request_ids=iter(range(2, 100)),
    )
    assembler.feed(session.identity, m21.NotifyReportRequest(request_id=1, generated_at=datetime.datetime.now(datetime.timezone.utc), seq_no=0))
    return report.items if len(batches) == len(answers) == len(by_batch) else []


async def configure(session: Session) -> bool:
    return session.registered


flow = BootConfiguration(configure, routing201.TRIGGER_MESSAGE)
