"""B05.FR.13: "The CSMS SHALL NOT include multiple SetVariableData elements, in a single
SetVariablesRequest, with the same Component, Variable and AttributeType combination. Note that
an omitted AttributeType counts as the value Actual." The CSMS helpers refuse such a list before
anything is sent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ocppgen.generated.runtime.device_model_csms import Limits, call_in_batches, check_set_variables
from ocppgen.generated.runtime.errors import LocalError
from ocppgen.generated.v21 import datatypes as d21, messages as m21, routing as r21
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201, routing as r201
from ocppgen.generated.v21 import enums as e21

VERSIONS = {"2.0.1": (d201, e201, m201, r201), "2.1": (d21, e21, m21, r21)}


def item(d: Any, component: str, variable: str, value: str = "1", **kw: Any) -> Any:
    evse = kw.pop("evse", None)
    comp = d.ComponentType(name=component, **({"instance": kw.pop("component_instance")} if "component_instance" in kw else {}),
                           **({"evse": evse} if evse is not None else {}))
    var = d.VariableType(name=variable, **({"instance": kw.pop("variable_instance")} if "variable_instance" in kw else {}))
    return d.SetVariableDataType(component=comp, variable=var, attribute_value=value, **kw)


@pytest.mark.parametrize("version", VERSIONS)
def test_distinct_attributes_pass(version: str) -> None:
    d, e, _, _ = VERSIONS[version]
    check_set_variables([
        item(d, "OCPPCommCtrlr", "HeartbeatInterval"),
        item(d, "OCPPCommCtrlr", "HeartbeatInterval", attribute_type=e.AttributeEnumType.Target),  # another attribute
        item(d, "OCPPCommCtrlr", "HeartbeatInterval", variable_instance="B"),  # another variable instance
        item(d, "OCPPCommCtrlr", "HeartbeatInterval", component_instance="2"),  # another component instance
        item(d, "EVSE", "Power", evse=d.EVSEType(id=1)),
        item(d, "EVSE", "Power", evse=d.EVSEType(id=2)),
        item(d, "EVSE", "Power", evse=d.EVSEType(id=1, connector_id=1)),
    ])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "second",
    [
        {"attribute_type": "Actual"},  # an omitted attributeType counts as Actual (B05.FR.13)
        {"component": "ocppcommctrlr"},  # names are case-insensitive (ComponentType.name)
        {"variable": "HEARTBEATINTERVAL"},
        {"variable_instance": ""},  # no instance and the empty instance are the same (B06.FR.15)
    ],
)
def test_duplicates_are_refused_with_both_positions(version: str, second: dict[str, str]) -> None:
    d, e, _, _ = VERSIONS[version]
    kw: dict[str, Any] = dict(second)
    if "attribute_type" in kw:
        kw["attribute_type"] = getattr(e.AttributeEnumType, kw["attribute_type"])
    component = kw.pop("component", "OCPPCommCtrlr")
    variable = kw.pop("variable", "HeartbeatInterval")
    items = [item(d, "OCPPCommCtrlr", "HeartbeatInterval", "60"), item(d, "SecurityCtrlr", "OrganizationName"),
             item(d, component, variable, "90", **kw)]
    with pytest.raises(LocalError, match=r"setVariableData\[0\] and \[2\] both set .*Actual.*B05\.FR\.13"):
        check_set_variables(items)


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[object] = []

    async def call(self, route: Any, request: object, timeout: float | None = None) -> object:
        self.sent.append(request)
        return object()


@pytest.mark.parametrize("version", VERSIONS)
def test_call_in_batches_sends_nothing_for_a_duplicate(version: str) -> None:
    d, _, m, routing = VERSIONS[version]
    session = _Recorder()
    items = [item(d, "OCPPCommCtrlr", "HeartbeatInterval", str(i)) for i in range(2)]

    async def main() -> None:
        await call_in_batches(session, routing.SET_VARIABLES, items,  # type: ignore[arg-type]
                              lambda batch: m.SetVariablesRequest(set_variable_data=batch), Limits(items=1, bytes=None),
                              field_name="setVariableData")

    with pytest.raises(LocalError, match="B05.FR.13"):
        asyncio.run(main())
    assert session.sent == []  # refused before the first batch went out

    fine = [item(d, "OCPPCommCtrlr", "HeartbeatInterval"), item(d, "OCPPCommCtrlr", "OfflineThreshold")]
    asyncio.run(call_in_batches(session, routing.SET_VARIABLES, fine,  # type: ignore[arg-type]
                                lambda batch: m.SetVariablesRequest(set_variable_data=batch), Limits(items=1, bytes=None),
                                field_name="setVariableData"))
    assert len(session.sent) == 2  # one per batch of one item
