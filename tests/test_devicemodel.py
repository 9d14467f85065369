"""The generated device-model tables of 2.0.1 and 2.1 against the OCA's appendix CSVs and Part 2.

Without ../shared/spec only the structural tests run. With it, every generated constant is
held against its CSV row (tests/spec_tables.py reads the CSVs on its own, not through the
generator's data files), every mutability against the definition tables of Part 2, Part 4 and
the 2025-09 errata, and every value the data files judged against the text that justifies it.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

import pytest

from ocppgen import devicemodel_v21, devicemodel_v201
from ocppgen.devicemodel import attribute_split, check_names, data_type, mutability, units
from ocppgen.diagnostics import BuildError
from ocppgen.generated.v21 import devicemodel as dm21
from ocppgen.generated.v201 import devicemodel as dm201
from tests import spec_tables as spec
from tests.conftest import ROOT, require_shared_spec

VERSIONS = ["2.0.1", "2.1"]
DM: dict[str, ModuleType] = {"2.0.1": dm201, "2.1": dm21}
DATA: dict[str, ModuleType] = {"2.0.1": devicemodel_v201, "2.1": devicemodel_v21}

# version -> (components, variables, component-variables (CSV rows + additions), reason codes,
#             security events, units of measure)
COUNTS = {"2.0.1": (73, 90, 249 + 5, 43, 20, 33), "2.1": (79, 239, 437 + 4, 56, 21, 34)}
OPEN_ENUM_COUNTS = {
    "CONNECTOR_TYPES": 31,
    "ID_TOKEN_TYPES": 11,
    "CHARGING_LIMIT_SOURCES": 4,
    "PAYMENT_BRANDS": 22,
    "PAYMENT_RECOGNITIONS": 9,
    "ADDITIONAL_INFO_TYPES": 2,
    "ADHOC_PAYMENT_ADDITIONAL_INFO_TYPES": 11,
    "SIGNING_METHODS": 7,
}
SECRETS = {
    "2.0.1": {("SecurityCtrlr", "BasicAuthPassword")},
    "2.1": {
        ("SecurityCtrlr", "BasicAuthPassword"),
        ("NetworkConfiguration", "BasicAuthPassword"),
        ("NetworkConfiguration", "VpnPassword"),
        ("NetworkConfiguration", "VpnKey"),
        ("NetworkConfiguration", "ApnPassword"),
        ("NetworkConfiguration", "SimPin"),
        ("WebPaymentsCtrlr", "SharedSecret"),
    },
}
# Rows only Part 2 or the errata give: (component, variable, instance) -> (document, section).
ADDITIONS = {
    "2.0.1": {
        ("ClockCtrlr", "TimeOffset", "NextTransition"): ("Part 2", "2.1.29"),
        ("LocalAuthListCtrlr", "SupportsExpiryDateTime", ""): ("Part 2", "2.5.8"),
        ("SecurityCtrlr", "AllowSecurityProfileDowngrade", ""): ("Errata 2025-09", "2.5"),
        ("SecurityCtrlr", "AllowCSMSTLSWildcards", ""): ("Errata 2025-09", "2.62"),
        ("AuthCtrlr", "SupportedIdTokenTypes", ""): ("Errata 2025-09", "2.63"),
    },
    "2.1": {
        ("ClockCtrlr", "TimeOffset", "NextTransition"): ("Part 2", "2.1.30"),
        ("TxCtrlr", "EnergyTransferResumptionRandomRange", ""): ("Part 2", "2.8"),
        ("SmartChargingCtrlr", "UpdateRateLimit", ""): ("Errata 2025-09", "2.19.2"),
        ("SecurityCtrlr", "AllowCSMSTLSWildcards", ""): ("Errata 2025-09", "2.43"),
    },
}
# The generated values that deviate from their CSV row on purpose (decision 0010).
SLOT = "<configurationSlot>"
JUDGED: dict[str, dict[tuple[str, str, str], dict[str, Any]]] = {
    "2.0.1": {},
    "2.1": {
        ("SampledDataCtrlr", "SignStartedReadings", ""): {"required": False, "data_type": "boolean"},
        ("SampledDataCtrlr", "SignUpdatedReadings", ""): {"required": False, "data_type": "boolean"},
        ("ConnectedEV", "DCCurrent.target", ""): {"units": ("A",)},
    },
}

# --- structural tests: no reference documents needed ------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_counts(version: str) -> None:
    dm = DM[version]
    tables = (dm.COMPONENTS, dm.VARIABLES, dm.COMPONENT_VARIABLES, dm.REASON_CODES, dm.SECURITY_EVENTS)
    assert (*map(len, tables), len(dm.UNITS_OF_MEASURE)) == COUNTS[version]
    if version == "2.1":
        assert {t: len(getattr(dm, t)) for t in OPEN_ENUM_COUNTS} == OPEN_ENUM_COUNTS


def _namespace(cls: type) -> dict[str, Any]:
    return {k: v for k, v in vars(cls).items() if not k.startswith("_")}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_component_variable_sits_in_its_component_class(version: str) -> None:
    dm = DM[version]
    listed = []
    for cv in dm.COMPONENT_VARIABLES:
        cls = getattr(dm, cv.component) if cv.component else dm.Generic
        members = _namespace(cls)
        names = [k for k, v in members.items() if v is cv]
        assert len(names) == 1, cv
        assert names[0].startswith(cv.variable), names
        if cv.component:
            assert members["name"] == cv.component
        listed.append(cv)
    keys = {(cv.component, cv.variable, cv.attribute_types, cv.instance) for cv in listed}
    assert len(keys) == len(listed)
    for name in dm.COMPONENTS:
        assert getattr(dm, name).name == name


@pytest.mark.parametrize("version", VERSIONS)
def test_namespaces_and_tables_agree(version: str) -> None:
    dm = DM[version]
    assert list(_namespace(dm.Variables).values()) == list(dm.VARIABLES)
    assert list(_namespace(dm.ReasonCodes).values()) == list(dm.REASON_CODES)
    assert list(_namespace(dm.SecurityEvents).values()) == list(dm.SECURITY_EVENTS)
    assert list(_namespace(dm.Units).values()) == list(dm.UNITS_OF_MEASURE)
    if version == "2.1":
        for cls, table in [
            ("ConnectorTypes", "CONNECTOR_TYPES"),
            ("IdTokenTypes", "ID_TOKEN_TYPES"),
            ("ChargingLimitSources", "CHARGING_LIMIT_SOURCES"),
            ("PaymentBrands", "PAYMENT_BRANDS"),
            ("PaymentRecognitions", "PAYMENT_RECOGNITIONS"),
            ("AdditionalInfoTypes", "ADDITIONAL_INFO_TYPES"),
            ("AdHocPaymentAdditionalInfoTypes", "ADHOC_PAYMENT_ADDITIONAL_INFO_TYPES"),
            ("SigningMethods", "SIGNING_METHODS"),
        ]:
            assert list(_namespace(getattr(dm, cls)).values()) == list(getattr(dm, table)), cls
    for var in dm.VARIABLES:
        users = [cv.component for cv in dm.COMPONENT_VARIABLES if cv.variable == var.name and cv.component]
        assert var.components == tuple(dict.fromkeys(users)), var.name
        assert var.generic == any(
            cv.variable == var.name and cv.component is None for cv in dm.COMPONENT_VARIABLES
        )


@pytest.mark.parametrize("version", VERSIONS)
def test_secret_variables_are_the_reviewed_list(version: str) -> None:
    dm = DM[version]
    assert dm.SECRET_VARIABLES == SECRETS[version]
    assert set(DATA[version].SECRETS) == SECRETS[version]
    flagged = {(cv.component, cv.variable) for cv in dm.COMPONENT_VARIABLES if cv.secret}
    assert flagged == SECRETS[version]
    # Every write-only variable is a secret (the reverse does not hold: Part 2 gives the
    # NetworkConfiguration passwords no mutability of their own).
    write_only = {
        (cv.component, cv.variable)
        for cv in dm.COMPONENT_VARIABLES
        if dm.MutabilityEnumType.WriteOnly in cv.mutability
    }
    assert write_only <= flagged


def test_known_values() -> None:
    assert dm201.SecurityCtrlr.BasicAuthPassword.mutability == (dm201.MutabilityEnumType.WriteOnly,)
    assert dm201.DeviceDataCtrlr.ItemsPerMessage_GetReport.instance == "GetReport"
    assert dm201.OCPPCommCtrlr.HeartbeatInterval.units == ("s",)
    assert dm201.OCPPCommCtrlr.HeartbeatInterval.data_type is dm201.DataEnumType.integer
    assert dm21.ConnectedEV.ACCurrent_MinSet_MaxSet.attribute_types == (
        dm21.AttributeEnumType.MinSet,
        dm21.AttributeEnumType.MaxSet,
    )
    assert dm21.ConnectedEV.VehicleID.required and dm21.ConnectedEV.VehicleID.required_if == "V2X"
    assert dm21.NetworkConfiguration.SimPin.secret and dm21.NetworkConfiguration.SimPin.instance == SLOT
    assert dm21.SecurityEvents.FirmwareUpdated.critical and not dm21.SecurityEvents.InvalidMessages.critical
    assert dm21.ReasonCodes.TxInProgress.group == "Transactions"
    assert dm201.ReasonCodes.TxInProgress.group is None
    assert dm21.ConnectorTypes.cGBT_DC == "cGBT-DC"
    assert dm21.SigningMethods.ECDSA_secp256r1_SHA256.key_length == 256


def test_rules_of_the_data_files() -> None:
    assert attribute_split("ACCurrent.min/maxSet") == ("ACCurrent", ("MinSet", "MaxSet"))
    assert attribute_split("StateOfCharge.actual") == ("StateOfCharge", ("Actual",))
    assert attribute_split("Power") == ("Power", ())
    assert [data_type(t) for t in ("DateTime", "passwordString", "identifierString", "")] == [
        "dateTime",
        "string",
        "string",
        None,
    ]
    assert units("Celsius, Fahrenheit") == ("Celsius", "Fahrenheit") and units("W,kW") == ("W", "kW")
    assert mutability("RW/RO") == ("ReadWrite", "ReadOnly") and mutability("") == ()


def test_build_rejects_unusable_or_repeated_names() -> None:
    with pytest.raises(BuildError, match="is defined twice"):
        check_names("x.py", [("Ns", "Power"), ("Ns", "Power")])
    with pytest.raises(BuildError, match="not a usable Python identifier"):
        check_names("x.py", [("module", "class")])
    check_names("x.py", [("A", "Power"), ("B", "Power")])


# --- against the reference documents ------------------------------------------------------


def _dt(text: str) -> str | None:
    return {"": None, "datetime": "dateTime", "passwordstring": "string", "identifierstring": "string"}.get(
        text.lower(), text
    )


def _units(text: str) -> tuple[str, ...]:
    return tuple(u.strip() for u in text.split(",") if u.strip())


def _split(variable: str) -> tuple[str, tuple[str, ...]]:
    """The CSV writes some 2.1 ConnectedEV rows as variable.attribute ("Power.maxSet")."""
    if "." not in variable:
        return variable, ()
    name, attr = variable.split(".", 1)
    spelled = {"min/maxSet": ("MinSet", "MaxSet"), "maxSet": ("MaxSet",), "minSet": ("MinSet",)}
    return name, spelled.get(attr, (attr[0].upper() + attr[1:],))


def _generated(version: str) -> dict[tuple[str | None, str, tuple[str, ...], str], Any]:
    return {
        (cv.component, cv.variable, tuple(cv.attribute_types), cv.instance or ""): cv
        for cv in DM[version].COMPONENT_VARIABLES
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_components_match_the_csv(version: str) -> None:
    require_shared_spec()
    rows = spec.read_csv(version, "components.csv")
    assert rows[0][0] == "Component"
    assert list(DM[version].COMPONENTS) == [r[0] for r in rows[1:] if r and r[0]]


@pytest.mark.parametrize("version", VERSIONS)
def test_variables_match_the_csv(version: str) -> None:
    require_shared_spec()
    first: dict[str, list[str]] = {}
    repeated = []
    for row in spec.read_csv(version, "variables.csv")[1:]:
        if row and row[0]:
            if row[0] in first:
                repeated.append(row[0])
            first.setdefault(row[0], row)
    assert repeated == ({"2.1": ["Timeout", "VehicleId"]}.get(version, []))
    assert [v.name for v in DM[version].VARIABLES] == list(first)
    for var in DM[version].VARIABLES:
        row = first[var.name]
        assert (var.data_type, var.units) == (_dt(row[1]), _units(row[2])), row


@pytest.mark.parametrize("version", VERSIONS)
def test_component_variables_match_the_csv(version: str) -> None:
    require_shared_spec()
    rows = spec.read_csv(version, "dm_components_vars.csv")
    assert rows[0][:6] == ["Specific Component", "Variable", "Instance", "Required?", "DataType", "Unit"]
    generated = _generated(version)
    expected_keys = []
    for row in rows[1:]:
        if not any(row):
            continue  # 2.1's line 218 is empty
        comp, variable, instance, required, dtype, unit = row[:6]
        judged = JUDGED[version].get((comp, variable, instance), {})
        if comp == "NetworkConfiguration":
            instance = SLOT  # judged: Part 2 §2.1.8, see test_network_configuration_instances
        name, attributes = _split(variable)
        key = (None if comp == "<generic>" else comp, name, attributes, instance)
        expected_keys.append(key)
        cv = generated[key]
        expected = {
            "required": required.lower() in ("yes", "v2x"),
            "required_if": "V2X" if required == "V2X" else None,
            "data_type": _dt(dtype),
            "units": _units(unit),
        } | judged
        got = {
            "required": cv.required,
            "required_if": cv.required_if,
            "data_type": cv.data_type,
            "units": cv.units,
        }
        assert got == expected, row
    assert len(set(expected_keys)) == len(expected_keys)
    added = {(c, v, i) for c, v, _, i in set(generated) - set(expected_keys)}
    assert added == set(ADDITIONS[version])
    assert [k for k in generated if k in set(expected_keys)] == expected_keys  # CSV order kept


@pytest.mark.parametrize("version", VERSIONS)
def test_reason_codes_match_the_csv(version: str) -> None:
    require_shared_spec()
    rows = spec.read_csv(version, "reason_codes.csv")
    expected: list[tuple[str, str | None]] = []
    if version == "2.0.1":
        assert rows[0] == ["Reason Code", "Description", "Typically used for"]
        expected = [(r[0], None) for r in rows[1:] if r and r[0]]
    else:  # 2.1 adds a Group column and puts each group's name on a row of its own
        assert rows[0] == ["Group", "Reason code", "Description", "Typically used for"]
        group = None
        for r in rows[1:]:
            if r and r[0]:
                group = r[0]
            elif r and r[1]:
                expected.append((r[1], group))
    assert [(r.value, r.group) for r in DM[version].REASON_CODES] == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_security_events_and_units_match_the_csv(version: str) -> None:
    require_shared_spec()
    rows = spec.read_csv(version, "security_events.csv")
    assert rows[0] == ["Security Event", "Description", "Critical"]
    expected = [(r[0], {"Yes": True, "No": False}[r[2]]) for r in rows[1:] if r and r[0]]
    assert [(e.value, e.critical) for e in DM[version].SECURITY_EVENTS] == expected
    units_rows = spec.read_csv(version, "units_of_measure.csv")
    assert list(DM[version].UNITS_OF_MEASURE) == [r[0] for r in units_rows[1:] if r and r[0]]


def test_open_enum_values_match_the_csv() -> None:
    require_shared_spec()
    for table, file in [
        ("CONNECTOR_TYPES", "connectorenumtype.csv"),
        ("ID_TOKEN_TYPES", "idtokenenumtype.csv"),
        ("CHARGING_LIMIT_SOURCES", "charginglimitsourceenumtype.csv"),
        ("PAYMENT_BRANDS", "paymentbrand.csv"),
        ("PAYMENT_RECOGNITIONS", "paymentrecognition.csv"),
        ("ADDITIONAL_INFO_TYPES", "additional_info_types.csv"),
        ("ADHOC_PAYMENT_ADDITIONAL_INFO_TYPES", "additional_info_types_adhoc.csv"),
    ]:
        assert list(getattr(dm21, table)) == [
            r[0] for r in spec.read_csv("2.1", file)[1:] if r and r[0]
        ], file
    rows = spec.read_csv("2.1", "signingmethod.csv")
    assert rows[0] == ["SigningMethod", "Algorithm", "Curve", "Key Length", "Hash Algorithm"]
    expected = [(r[0], r[1], r[2], f"{r[3]}", r[4]) for r in rows[1:] if r and r[0]]
    got = [
        (m.value, m.algorithm, m.curve, f"{m.key_length} bits", m.hash_algorithm)
        for m in dm21.SIGNING_METHODS
    ]
    assert got == expected


def test_the_21_component_variable_csv_is_not_utf8_and_is_read_anyway() -> None:
    root = require_shared_spec()
    raw = (root / spec.CSV_DIRS["2.1"] / "dm_components_vars.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    bad = [i for i, line in enumerate(raw.split(b"\n"), 1) if not _is_utf8(line)]
    assert len(bad) == 3
    rows = spec.read_csv("2.1", "dm_components_vars.csv")
    assert all(len(r) == 7 for r in rows if r)


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- mutability and the other Part 2 facts --------------------------------------------------

# Names the transcriptions spell differently from the CSV (character recognition errors).
TRANSCRIPTION = {
    "AdditionallInfoItemsPerMessage": "AdditionalInfoItemsPerMessage",
    "AdditionallyInfolItemsPerMessage": "AdditionalInfoItemsPerMessage",
    "LocalAuthorizationOffline": "LocalAuthorizeOffline",
    "TxEndInterval": "TxEndedInterval",
    "CentralValidationAllowed": "CentralContractValidationAllowed",
    "AuthorizationDirectPayment": "AuthorizeDirectPayment",
    "SampleDataCtrl": "SampledDataCtrlr",
}
# Names 2.1's Part 2 spells differently from its CSV (the generated name is the CSV's).
SPELLINGS_21 = {"NotificationMaxDelay": "NotificationDelay", "SupportedIdTokenTypes": "SupportedIdTokenType"}
ANY_COMPONENT = {"*", "<any>", "<any>>", '<any="">'}


def _norm(name: str) -> str:
    name = TRANSCRIPTION.get(name, name)
    return re.sub(r"[^a-z0-9]", "", name.lower()).replace("l", "i")


def _norm_component(name: str | None) -> str | None:
    if name is None or name in ANY_COMPONENT:
        return None
    return _norm(name).removesuffix("r")


def _placeholder(instance: str) -> bool:
    return not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", instance)


def _instance_matches(ours: str, text: str) -> bool:
    if ours.lower() == text.lower():
        return True
    # The text may describe the instance ("<for number of protocols supported>") where the CSV
    # leaves it empty or writes its own placeholder.
    return bool(text) and _placeholder(text) and (not ours or _placeholder(ours) or ours in text)


def _record_key(version: str, r: spec.Record) -> tuple[str, str]:
    variable, instance = r.variable, r.instance
    if version == "2.1":
        variable = SPELLINGS_21.get(variable, variable)
        if variable == "SupportsFeature":  # the CSV names these Supports<Feature>, no instance
            variable, instance = "Supports" + instance, ""
    return variable, instance


def _text_mutability(version: str, cv: Any) -> tuple[str, set[str]] | None:
    """Where the text states this row's mutability, and what it states: the errata over Part
    4 over Part 2; None if no definition table names the row."""
    for doc in ("Errata 2025-09", "Part 4", "Part 2"):
        found = set()
        for r in spec.doc_records(version, doc):
            variable, instance = _record_key(version, r)
            if (
                r.mutability
                and _norm(variable) == _norm(cv.variable)
                and any(_norm_component(c) == _norm_component(cv.component) for c in r.components)
                and _instance_matches(cv.instance or "", instance)
            ):
                found |= spec.mutabilities(r.mutability)
        if found:
            return doc, found
    for row in spec.doc_access_rows(version):
        if (
            _norm(row.title).startswith(_norm_component(cv.component) or "-")
            and _norm(row.variable) == _norm(cv.variable)
            and row.instance == (cv.instance or "")
        ):
            return "Part 2", spec.access_mutabilities(row.access)
    return None


@pytest.mark.parametrize("version", VERSIONS)
def test_every_mutability_is_the_one_the_text_states(version: str) -> None:
    """Both ways: a row whose definition table states a mutability has exactly that one, and a
    row with a mutability has a definition table stating it."""
    require_shared_spec()
    wrong = []
    stated = 0
    for cv in DM[version].COMPONENT_VARIABLES:
        text = _text_mutability(version, cv)
        expected = text[1] if text else set()
        stated += bool(text)
        if set(cv.mutability) != expected:
            wrong.append((cv.component, cv.variable, cv.instance, cv.mutability, text))
    assert wrong == []
    assert stated == {"2.0.1": 155, "2.1": 268}[version]


# Part 2 headings that name a variable by a "simplified name" not containing its variable name.
SIMPLIFIED_TITLES = {
    "AuthCacheDisablePostAuthorization",
    "OfflineMonitoringEventQueuingSeverity",
    "ChargingProfileMaxStackLevel",
    "SupportsLocalTime",
    "v2xSupportedEnergyTransferMode",
    "FrequencySimulatorSchedule",
    "ISO15118NotificationMaxDelay",
}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_cite_names_a_section_about_its_row(version: str) -> None:
    require_shared_spec()
    data = DATA[version]
    titles = {doc: spec.headings(spec.read_doc(version, doc)) for doc in spec.DOCS[version]}
    for row in data.COMPONENT_VARIABLES + data.ADDITIONS:
        if not row.cite:
            assert not row.mutability, row
            continue
        m = re.match(r"(Part 2|Part 4|Errata 2025-09) §([\d.]+)", row.cite)
        assert m, row.cite
        title = titles[m.group(1)][m.group(2)]
        variable = attribute_split(row.variable)[0]
        if title in SIMPLIFIED_TITLES or _norm_component(title) == _norm_component(row.component):
            continue  # an R/W table under its component's heading (2.1 §2.4.1, §2.4.2)
        spellings = [variable, variable.removeprefix("Supports")] + [
            k for k, v in TRANSCRIPTION.items() if v == variable
        ]
        about = any(re.sub(r"[^a-z0-9]", "", s.lower()).replace("l", "i") in _norm(title) for s in spellings)
        assert about or m.group(1) == "Errata 2025-09", (row, title)


@pytest.mark.parametrize("version", VERSIONS)
def test_additions_match_their_sections(version: str) -> None:
    require_shared_spec()
    generated = {(cv.component, cv.variable, cv.instance or ""): cv for cv in DM[version].COMPONENT_VARIABLES}
    for key, (doc, section) in ADDITIONS[version].items():
        cv = generated[key]
        found = [
            r
            for r in spec.doc_records(version, doc)
            if r.section == section and _norm(r.variable) == _norm(cv.variable) and r.instance == key[2]
        ]
        assert len(found) == 1, key
        r = found[0]
        assert any(_norm_component(c) == _norm_component(cv.component) for c in r.components)
        assert set(cv.mutability) == spec.mutabilities(r.mutability)
        assert cv.data_type == _dt(r.data_type) and cv.units == _units(r.unit)
        assert cv.required == (r.required.lower() == "yes")


def test_judged_21_values_are_what_part_2_states() -> None:
    require_shared_spec()
    part2 = spec.read_doc("2.1", "Part 2")
    for r in spec.doc_records("2.1", "Part 2"):
        if r.variable in ("SignStartedReadings", "SignUpdatedReadings"):
            assert (r.required, r.data_type) == ("no", "boolean")
            cv = getattr(dm21.SampledDataCtrlr, r.variable)
            assert (cv.required, cv.data_type) == (False, "boolean")
    # §2.17.1 (ConnectedEV for ISO 15118) gives DCCurrent.target in A.
    section = part2[part2.index("2.17.1. ConnectedEV for ISO 15118") : part2.index("2.17.2.")]
    assert re.search(r"<td>DCCurrent\.target</td><td>A</td>", section)
    assert dm21.ConnectedEV.DCCurrent_Target.units == ("A",)


def test_network_configuration_instances() -> None:
    """Part 2 §2.1.8 lists every NetworkConfiguration variable with instance [configurationSlot];
    the CSV leaves the instance empty; the generated rows carry the slot placeholder."""
    require_shared_spec()
    part2 = spec.read_doc("2.1", "Part 2")
    table = part2[part2.index("2.1.8. NetworkConfiguration") :]
    table = table[table.index("<table>") : table.index("</table>")]
    rows = [spec.cells(r) for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    listed = {r[3].replace(" ", ""): r[2] for r in rows[1:] if len(r) == 5}
    generated = {cv.variable: cv for cv in dm21.COMPONENT_VARIABLES if cv.component == "NetworkConfiguration"}
    assert set(listed) == set(generated)
    assert set(listed.values()) == {"[configurationSlot]"}
    assert {cv.instance for cv in generated.values()} == {SLOT}
    # The secret ones are the password, shared secret and PIN of a slot.
    comments = {r[3].replace(" ", ""): r[4] for r in rows[1:] if len(r) == 5}
    for _, variable in sorted(SECRETS["2.1"]):
        if variable in comments:
            assert re.search(r"password|shared secret|PIN", comments[variable]), variable


def test_write_only_sources_of_the_secrets() -> None:
    require_shared_spec()
    for version in VERSIONS:
        stated = _text_mutability(version, DM[version].SecurityCtrlr.BasicAuthPassword)
        assert stated is not None and stated[1] == {"WriteOnly"}
    stated = _text_mutability("2.1", dm21.WebPaymentsCtrlr.SharedSecret)
    assert stated == ("Part 2", {"WriteOnly"})


def test_table_modules_are_laid_out_as_black_formats_them() -> None:
    """render_tables lays the long modules out itself, so that black (run on every build) has
    nothing to change: from one-line calls it took seconds per build. The committed modules
    are black's output (the drift check), so the unformatted rendering must equal them."""
    from ocppgen.render_tables import render_tables_unformatted

    root = ROOT / "generated"
    for version, key in [("1.6", "v16"), ("2.0.1", "v201"), ("2.1", "v21")]:
        for path, source in render_tables_unformatted(version, key, "ocppgen.generated").items():
            assert source == (root / path).read_text(encoding="utf-8"), path
