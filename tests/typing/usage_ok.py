"""Correct use of the generated package: must pass mypy --strict with no error."""

import datetime

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

from ocppgen.generated.runtime.routing import CallContext, Caller  # noqa: E402
from ocppgen.generated.v201 import csms as csms201, station as station201  # noqa: E402
from ocppgen.generated.v21 import messages as m21, station as station21  # noqa: E402


class MyCsms(csms201.CsmsHandler):
    async def on_boot_notification(
        self, request: m201.BootNotificationRequest, context: CallContext
    ) -> m201.BootNotificationResponse:
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
