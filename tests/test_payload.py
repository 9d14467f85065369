"""Behaviour of generated payloads and the runtime they share."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import msgspec
import pytest

from ocppgen.generated.runtime.checks import check_multiple_of, check_uri
from ocppgen.generated.runtime.payload import codec
from ocppgen.generated.v16 import datatypes as d16, enums as e16, messages as m16
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v21 import datatypes as d21, messages as m21


def test_wire_names_are_exact_and_python_names_snake_case() -> None:
    fields = {f.name: f.encode_name for f in msgspec.structs.fields(d21.ChargingSchedulePeriodType)}
    assert fields["limit_l2"] == "limit_L2"
    assert fields["setpoint_reactive_l3"] == "setpointReactive_L3"
    assert {f.encode_name for f in msgspec.structs.fields(d21.EVPriceRuleType)} >= {"energyFee"}
    names = {f.name: f.encode_name for f in msgspec.structs.fields(d16.SampledValue)}
    assert names == {
        "value": "value",
        "context": "context",
        "format": "format",
        "measurand": "measurand",
        "phase": "phase",
        "location": "location",
        "unit": "unit",
    }


def test_1_6_inline_types_carry_the_specification_names() -> None:
    assert e16.ChargePointStatus.SuspendedEVSE == "SuspendedEVSE"
    assert e16.ChargePointErrorCode.NoError == "NoError"
    assert e16.Measurand.Power_Active_Import.value == "Power.Active.Import"
    assert "Hertz" not in {m.value for m in e16.UnitOfMeasure}  # OCA's enum, not the wheel's edit
    assert m16.AuthorizeResponse.__annotations__["id_tag_info"] == "IdTagInfo"


def test_optional_fields_are_omitted_on_encode_and_null_is_rejected() -> None:
    c = codec(m201.HeartbeatResponse, True)
    msg = m201.HeartbeatResponse(current_time=datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc))
    assert json.loads(c.encode(msg)) == {"currentTime": "2024-01-02T00:00:00Z"}
    with pytest.raises(msgspec.ValidationError, match=r"Expected `object`, got `null` - at `\$.customData`"):
        c.decode(b'{"currentTime":"2024-01-02T00:00:00Z","customData":null}')


def test_unknown_fields_are_rejected_with_their_path() -> None:
    c = codec(m201.BootNotificationRequest, True)
    with pytest.raises(msgspec.ValidationError, match=r"unknown field `extra` - at `\$.chargingStation`"):
        c.decode(b'{"reason":"PowerUp","chargingStation":{"model":"m","vendorName":"v","extra":1}}')


def test_custom_data_extension_properties_survive_a_round_trip() -> None:
    raw = (
        b'{"reason":"PowerUp","chargingStation":{"model":"m","vendorName":"v",'
        b'"customData":{"vendorId":"com.example","limits":[1,2.5,{"x":null}],"flag":true}}}'
    )
    c = codec(m201.BootNotificationRequest, True)
    msg = c.decode(raw)
    custom = msg.charging_station.custom_data
    assert isinstance(custom, d201.CustomDataType)
    assert custom.vendor_id == "com.example"
    assert custom.extra == {"limits": [1, 2.5, {"x": None}], "flag": True}
    assert json.loads(c.encode(msg)) == json.loads(raw)
    assert c.decode(c.encode(msg)) == msg


def test_custom_data_declared_fields_are_validated() -> None:
    c = codec(m201.BootNotificationRequest, True)
    with pytest.raises(msgspec.ValidationError, match=r"Object missing required field `vendorId`"):
        c.decode(b'{"reason":"PowerUp","chargingStation":{"model":"m","vendorName":"v","customData":{"a":1}}}')
    too_long = json.dumps({"vendorId": "v" * 256}).encode()
    with pytest.raises(msgspec.ValidationError, match=r"length <= 255.*customData"):
        c.decode(b'{"reason":"PowerUp","chargingStation":{"model":"m","vendorName":"v","customData":' + too_long + b"}}")


def test_custom_data_constructor_refuses_extras_that_shadow_declared_fields() -> None:
    with pytest.raises(ValueError, match="vendorId"):
        d201.CustomDataType(vendor_id="a", extra={"vendorId": "b"})


def test_untyped_data_passes_through_untouched() -> None:
    raw = b'{"vendorId":"v","data":{"n":1.0,"list":[1,"x",null],"big":12345678901234567890}}'
    c = codec(m201.DataTransferRequest, True)
    msg = c.decode(raw)
    assert msg.data == {"n": 1.0, "list": [1, "x", None], "big": 12345678901234567890}
    out = c.encode(msg)
    assert json.loads(out) == json.loads(raw)
    assert b'"n":1.0' in out and b"12345678901234567890" in out


@pytest.mark.parametrize(
    ("type_", "integral_floats", "raw", "accepted"),
    [
        (m201.ResetRequest, True, b'{"type":"Immediate","evseId":2.0}', True),
        (m201.ResetRequest, True, b'{"type":"Immediate","evseId":2.5}', False),
        (m16.ChangeAvailabilityRequest, False, b'{"connectorId":1.0,"type":"Operative"}', False),
        (m16.ChangeAvailabilityRequest, False, b'{"connectorId":1,"type":"Operative"}', True),
    ],
)
def test_integer_semantics_follow_each_file_draft(type_, integral_floats, raw, accepted) -> None:  # noqa: ANN001
    info = next(i for mod in (m16, m201) for i in mod.MESSAGES if i.type is type_)
    assert info.integral_floats is integral_floats
    c = codec(type_, info.integral_floats)
    if accepted:
        msg = c.decode(raw)
        assert all(type(getattr(msg, f)) is not float for f in ("evse_id", "connector_id") if hasattr(msg, f))
    else:
        with pytest.raises(msgspec.ValidationError):
            c.decode(raw)


def test_integral_float_fallback_does_not_touch_untyped_values() -> None:
    raw = b'{"vendorId":"v","data":{"keep":2.0},"customData":{"vendorId":"x","n":3.0}}'
    msg = codec(m21.DataTransferRequest, True).decode(raw)
    assert msg.data == {"keep": 2.0} and type(msg.data["keep"]) is float
    assert msg.custom_data.extra == {"n": 3.0}


@pytest.mark.parametrize(("value", "ok"), [(0.3, True), (16, True), (0.0, True), (1.1, True), (0.15, False), (7.05, False)])
def test_multiple_of_is_decided_on_the_decimal_value(value: float, ok: bool) -> None:
    raw = json.dumps({"startPeriod": 0, "limit": value}).encode()
    c = codec(d16.ChargingSchedulePeriod, False)
    if ok:
        assert c.decode(raw).limit == value
    else:
        with pytest.raises(msgspec.ValidationError, match=r"`limit` must be a multiple of 0.1"):
            c.decode(raw)


def test_multiple_of_is_checked_on_construction_too() -> None:
    with pytest.raises(ValueError, match="multiple of 0.1"):
        d16.ChargingSchedulePeriod(start_period=0, limit=0.25)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ftp://user:pw@host:21/a/b?c=d#e", True),
        ("http://[2001:db8::7]/x", True),
        ("urn:oasis:names:specification:docbook:dtd:xml:4.1.2", True),
        ("/relative/path", False),
        ("http://bad host/", False),
        ("http://host/%zz", False),
    ],
)
def test_uri_format(value: str, ok: bool) -> None:
    if ok:
        check_uri(value, "location")
    else:
        with pytest.raises(ValueError, match="must be a URI"):
            check_uri(value, "location")


def test_check_multiple_of_rejects_nan() -> None:
    with pytest.raises(ValueError):
        check_multiple_of(float("nan"), Decimal("0.1"), "x")


def test_defaults_are_applied_and_omitted_on_encode() -> None:
    c = codec(m201.NotifyReportRequest, True)
    raw = (
        b'{"requestId":1,"generatedAt":"2024-01-02T00:00:00Z","seqNo":0,"tbc":false,'
        b'"reportData":[{"component":{"name":"C"},"variable":{"name":"V"},'
        b'"variableAttribute":[{"value":"1"}]}]}'
    )
    msg = c.decode(raw)
    attr = msg.report_data[0].variable_attribute[0]
    assert (attr.persistent, attr.constant, msg.tbc) == (False, False, False)  # schema defaults
    out = json.loads(c.encode(msg))
    assert "tbc" not in out and "persistent" not in out["reportData"][0]["variableAttribute"][0]
    explicit = msgspec.structs.replace(msg, tbc=True)
    assert json.loads(c.encode(explicit))["tbc"] is True


def test_enums_are_str_enums_with_exact_values() -> None:
    assert e201.BootReasonEnumType("PowerUp") is e201.BootReasonEnumType.PowerUp
    assert isinstance(e201.BootReasonEnumType.PowerUp, str)
    with pytest.raises(msgspec.ValidationError, match="Invalid enum value 'powerup'"):
        codec(m201.BootNotificationRequest, True).decode(
            b'{"reason":"powerup","chargingStation":{"model":"m","vendorName":"v"}}'
        )
