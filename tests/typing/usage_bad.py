"""Misuse of the generated package: every marked line must be a mypy --strict error."""

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
