"""The Hypothesis strategies of ocppgen.testing: every generated message type of every version,
drawn many times, is accepted by its decoder (the proof that the strategies honour every schema
constraint, since the decoders accept exactly what the schemas accept: test_fidelity), survives
an encode/decode round trip, and reaches the edges of its constraints."""

from __future__ import annotations

import importlib
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ocppgen.generated.runtime.payload import codec
from ocppgen.generated.v16 import messages as m16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, messages as m201
from ocppgen.testing import strategies

KEYS = ["v16", "v201", "v21"]
RELAXED = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.mark.parametrize("key", KEYS)
def test_every_message_type_of_every_version_is_drawn_valid(key: str) -> None:
    infos = importlib.import_module(f"ocppgen.generated.{key}.messages").MESSAGES
    drawn: dict[type, int] = {}
    for info in infos:
        decoder = codec(info.type, info.integral_floats)

        @RELAXED
        @given(strategies.payloads(info.type))
        def check(payload: dict[str, Any]) -> None:
            wire = msgspec.json.encode(payload)
            try:
                value = decoder.decode(wire)  # the generated decoder: exactly what the schema accepts
            except msgspec.ValidationError as exc:
                raise AssertionError(f"{info.type.__name__}: {exc}\n{wire.decode()}") from None
            assert isinstance(value, info.type)
            assert decoder.decode(decoder.encode(value)) == value
            drawn[info.type] = drawn.get(info.type, 0) + 1

        check()
    assert set(drawn) == {info.type for info in infos}


def test_the_constraints_are_reached_not_only_respected() -> None:
    """Strings up to their maxLength, 1.6's multipleOf 0.1, URIs, optional fields both ways."""
    lengths: set[int] = set()
    multiples: list[float] = []
    optional: set[bool] = set()

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategies.for_type(d201.ChargingStationType), strategies.payloads(m16.GetDiagnosticsRequest),
           strategies.payloads(m16.SetChargingProfileRequest))
    def check(station: Any, diagnostics: dict[str, Any], profile: dict[str, Any]) -> None:
        lengths.add(len(station.model))
        optional.add(station.serial_number is msgspec.UNSET)
        assert diagnostics["location"].split(":", 1)[0]  # format: uri, checked by check_uri on decode
        schedule = profile["csChargingProfiles"]["chargingSchedule"]
        multiples.extend(p["limit"] for p in schedule["chargingSchedulePeriod"])

    check()
    assert 20 in lengths and 0 in lengths  # model: string[20]
    assert optional == {True, False}
    assert multiples and all(round(x * 10) == x * 10 or abs(round(x * 10) - x * 10) < 1e-6 for x in multiples)


def test_calls_to_a_role_draws_only_what_it_receives_and_register_feeds_from_type() -> None:
    seen: set[str] = set()

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategies.calls_to(csms201.BINDING))
    def check(call: tuple[Any, Any]) -> None:
        route, request = call
        assert route.action in csms201.BINDING.handled and isinstance(request, route.request)
        seen.add(route.action)

    check()
    assert len(seen) > 5
    assert strategies.register() > 500

    @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.from_type(m201.BootNotificationRequest))
    def via_from_type(request: m201.BootNotificationRequest) -> None:
        assert len(request.charging_station.vendor_name) <= 50  # Hypothesis's own from_type ignores this Meta

    via_from_type()


def test_a_class_that_is_not_generated_is_refused() -> None:
    with pytest.raises(TypeError):
        strategies.for_type(int)
