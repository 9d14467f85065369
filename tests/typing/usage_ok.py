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
