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
