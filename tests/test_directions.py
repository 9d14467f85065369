"""The direction tables: complete, and matching what the specification says for every action."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ocppgen.diagnostics import BuildError
from ocppgen.directions import BOTH, CS, CSMS, DIRECTIONS, Direction
from ocppgen.load import default_schema_root, load_set
from ocppgen.pipeline import build_ir
from tests.conftest import require_shared_spec

KEYS = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}
DOCS = {
    "1.6": ["ocpp16/ocpp-1.6 edition 2.md", "ocpp16/OCPP 1.6 security whitepaper edition 3.md"],
    "2.0.1": ["ocpp2/OCPP-2.0.1_edition3_part2_specification.md"],
    "2.1": ["ocpp21/OCPP-2.1_edition1_part2_specification.md"],
}
SIDES = {"charging station": CS, "charge point": CS, "csms": CSMS, "central system": CSMS, "local controller": "LC"}
_SIDE = r"(charging station|charge point|csms|central system|local controller)"


def schema_actions(version: str) -> set[str]:
    names = [f.name[: -len(".json")] for f in load_set(default_schema_root() / KEYS[version]).files]
    return {n.removesuffix("Response").removesuffix("Request") for n in names}


@pytest.mark.parametrize("version", sorted(DIRECTIONS))
def test_table_has_exactly_one_row_per_schema_action(version: str) -> None:
    assert set(DIRECTIONS[version]) == schema_actions(version)


@pytest.mark.parametrize("version", sorted(DIRECTIONS))
def test_every_row_cites_a_section(version: str) -> None:
    for action, row in DIRECTIONS[version].items():
        assert row.initiator in (CS, CSMS, BOTH), action
        assert "§" in row.cite, (action, row.cite)


def test_counts_and_special_rows() -> None:
    def count(version: str, who: str) -> int:
        return sum(r.initiator == who for r in DIRECTIONS[version].values())

    assert [(count(v, CS), count(v, CSMS), count(v, BOTH)) for v in ("1.6", "2.0.1", "2.1")] == [
        (13, 25, 1),
        (24, 39, 1),
        (36, 54, 1),
    ]
    for version in DIRECTIONS:
        assert DIRECTIONS[version]["DataTransfer"].initiator == BOTH
    assert [a for a, r in DIRECTIONS["2.1"].items() if r.send] == ["NotifyPeriodicEventStream"]
    for version in ("2.0.1", "2.1"):
        assert DIRECTIONS[version]["PublishFirmware"].initiator == CSMS
        assert DIRECTIONS[version]["PublishFirmwareStatusNotification"].initiator == CS


def spec_statements(version: str, spec: Path) -> dict[str, set[str]]:
    """Per action, the initiators the specification text states, from its own sentences:
    the messages chapter ("...Request PDU sent by the X to the Y", "sent to X by Y", "Used by the
    X", "The X uses this message") and use cases ("The X sends a ...Request")."""
    actions = schema_actions(version)
    lower = {a.lower(): a for a in actions}
    # Headings the markdown transcription spells differently from the action name.
    lower.update({"authorization": "Authorize", "getinstalledcertificates": "GetInstalledCertificateIds"})
    found: dict[str, set[str]] = {}
    for doc in DOCS[version]:
        text = (spec / doc).read_text(encoding="utf-8")
        lines = text.splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"#+\s*\d+(?:\.\d+)*\.?\s*(.*)", line)
            if m:
                title = re.sub(r"\s+", "", m.group(1))
                t = re.fullmatch(r"(\w+?)(Request|\.req)", title, re.I)
                if t and t.group(1).lower() in lower:
                    action = lower[t.group(1).lower()]
                    body = " ".join(lines[i + 1 : i + 4])
                    s = re.search(r"sent (?:either )?by (?:the |a )?" + _SIDE + r"(?: to (?:the |a )?" + _SIDE + r")?(.{0,30})", body, re.I)
                    if s:
                        who = SIDES[s.group(1).lower()]
                        found.setdefault(action, set()).add(BOTH if "vice versa" in s.group(3) else who)
                    for pat in (r"sent to " + _SIDE + r" by " + _SIDE, r"used by the " + _SIDE, r"The " + _SIDE + r" uses this message"):
                        s2 = re.search(pat, body, re.I)
                        if s2:
                            who = SIDES[s2.group(s2.lastindex or 1).lower()]
                            found.setdefault(action, set()).add(who)
                            break
            for s3 in re.finditer(r"\b(?:The )?" + _SIDE + r" (?:SHALL |MAY |will |optionally |can )?sends? (?:a |an |the )?(\w+?)Request\b", line, re.I):
                a = s3.group(2)
                if a.lower() in lower:
                    found.setdefault(lower[a.lower()], set()).add(SIDES[s3.group(1).lower()])
    return found


@pytest.mark.parametrize("version", sorted(DIRECTIONS))
def test_table_agrees_with_every_statement_in_the_specification(version: str) -> None:
    spec = require_shared_spec()
    stated = spec_statements(version, spec)
    disagreements = []
    for action, row in DIRECTIONS[version].items():
        for who in stated.get(action, set()):
            # A Local Controller relays: to stations it acts as a CSMS, to the CSMS as a
            # station, so what it sends says nothing about the roles; DataTransfer goes
            # either way, so every statement agrees with it.
            if who == "LC" or row.initiator == BOTH:
                continue
            if who != row.initiator:
                disagreements.append((action, row.initiator, who))
    assert disagreements == []
    unstated = sorted(a for a in DIRECTIONS[version] if not stated.get(a, set()) - {"LC"})
    # Every action is stated somewhere in the specification text, except where the
    # transcription lost the sentence; those rows cite a use case that the test checks exists.
    for action in unstated:
        cite = DIRECTIONS[version][action].cite
        ids = re.findall(r"use case ([A-S]\d\d)", cite)
        assert ids, f"{action}: no statement found in the text and no use case cited"
        text = "".join((spec / d).read_text(encoding="utf-8") for d in DOCS[version])
        for uc in ids:
            assert uc in text or uc.replace("O", "0") in text, (action, uc)


def _ir_with(version: str, table: dict[str, Direction]) -> None:
    from ocppgen.pipeline import directions_for  # noqa: F401  (same code path as the build)
    from ocppgen.build import build_version
    from ocppgen.passes import run_passes

    parts, _ = build_version(load_set(default_schema_root() / KEYS[version]))
    run_passes(parts, table, frozenset(table))


def test_build_fails_when_an_action_has_no_row() -> None:
    table = dict(DIRECTIONS["2.0.1"])
    del table["Heartbeat"]
    with pytest.raises(BuildError, match="HeartbeatRequest.json: action Heartbeat has no direction entry"):
        _ir_with("2.0.1", table)


def test_build_fails_when_a_row_names_no_schema() -> None:
    table = {**DIRECTIONS["1.6"], "Teleport": Direction(CS, False, "nowhere §0")}
    with pytest.raises(BuildError, match="direction entry 'Teleport' names no schema"):
        _ir_with("1.6", table)


def test_build_fails_when_send_disagrees_with_the_schemas() -> None:
    table = {**DIRECTIONS["2.1"], "Heartbeat": Direction(CS, True, "x §1")}
    with pytest.raises(BuildError, match="Heartbeat is a SEND but has a response schema"):
        _ir_with("2.1", table)


def test_ir_actions_carry_the_table() -> None:
    ir, _ = build_ir(load_set(default_schema_root() / "v21"))
    by_name = {a.name: a for a in ir.actions}
    assert len(by_name) == 91
    assert by_name["NotifyPeriodicEventStream"].response is None and by_name["NotifyPeriodicEventStream"].send
    assert by_name["BootNotification"].initiator == CS and by_name["BootNotification"].method == "boot_notification"
