"""Secrets never reach a frame log (issue 12): what to blank is derived when the package is
generated from reviewed tables (secret payload fields, secret device-model variables and 1.6
configuration keys), and a scan of all three schema sets proves the field list complete."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from ocppgen.generated.runtime.security import REDACTED, redact
from ocppgen.generated.v16 import routing as r16, station as st16
from ocppgen.generated.v201 import routing as r201
from ocppgen.generated.v21 import routing as r21
from ocppgen.secrets import SECRET_FIELDS
from tests.conftest import ROOT

# Property names that look secret but are not, and why (reviewed; the scan below fails on a new one).
NOT_SECRET = {
    "key": "1.6 ChangeConfiguration.key / KeyValue.key name a configuration key; 2.x VPNType.key is in SECRET_FIELDS",
    "configurationKey": "1.6 GetConfiguration.conf: the list of keys (values blanked by key name)",
    "unknownKey": "1.6 GetConfiguration.conf: names of unknown keys",
    "issuerKeyHash": "a hash of the issuer's public key (certificate hash data)",
    "publicKey": "2.1: an EV's public key",
    "idToken": "identifies a driver's token; exchanged in clear by design",
    "additionalIdToken": "as idToken",
    "groupIdToken": "as idToken",
    "idTokenInfo": "the CSMS's answer about a token",
    "idTokens": "as idToken",
}
LOOKS_SECRET = re.compile(r"pass|secret|pin$|key|token|psk|credential", re.I)


def frame(*parts: Any) -> str:
    return json.dumps(list(parts), separators=(",", ":"))


def properties(node: Any) -> set[str]:
    """Every property name declared anywhere in a schema document."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            found |= set(node["properties"])
        for value in node.values():
            found |= properties(value)
    elif isinstance(node, list):
        for value in node:
            found |= properties(value)
    return found


def test_every_secret_looking_schema_property_is_reviewed() -> None:
    reviewed = {name for table in SECRET_FIELDS.values() for _, name in table} | set(NOT_SECRET)
    scanned = 0
    for folder in ("v16", "v201", "v21"):
        for path in sorted((ROOT / "schemas" / folder).glob("*.json")):
            for name in properties(json.loads(path.read_text())):
                scanned += 1
                if LOOKS_SECRET.search(name):
                    assert name in reviewed, f"{path.name}: property {name!r} is neither a reviewed secret nor reviewed as not secret"
    assert scanned > 1000


def test_2_0_1_network_profile_secrets_and_basic_auth_password() -> None:
    vpn = {"server": "vpn.example", "user": "u", "password": "vpn-password-1", "key": "vpn-shared-key-1", "type": "IPSec"}
    apn = {"apn": "internet", "apnPassword": "apn-password-1", "simPin": 1234, "apnAuthentication": "AUTO"}
    text = frame(2, "1", "SetNetworkProfile", {"configurationSlot": 1, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://csms", "messageTimeout": 30,
        "securityProfile": 2, "ocppInterface": "Wireless0", "vpn": vpn, "apn": apn}})
    out = redact(text, r201.REDACTION)
    for secret in ("vpn-password-1", "vpn-shared-key-1", "apn-password-1", "1234"):
        assert secret not in out
    assert "vpn.example" in out and "internet" in out  # only the secrets go
    setvars = frame(2, "2", "SetVariables", {"setVariableData": [
        {"attributeValue": "hunter2hunter2", "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}},
        {"attributeValue": "300", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})
    out = redact(setvars, r201.REDACTION)
    assert "hunter2" not in out and '"300"' in out


def test_2_1_network_configuration_variables_and_reports() -> None:
    getvars = frame(3, "g", {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "vpn-secret-9",
                                                    "component": {"name": "NetworkConfiguration", "instance": "1"},
                                                    "variable": {"name": "VpnPassword"}}]})
    assert "vpn-secret-9" not in redact(getvars, r21.REDACTION)
    report = frame(2, "r", "NotifyReport", {"requestId": 1, "generatedAt": "2024-01-01T00:00:00Z", "seqNo": 0, "reportData": [
        {"component": {"name": "WebPaymentsCtrlr"}, "variable": {"name": "SharedSecret"},
         "variableAttribute": [{"value": "shared-secret-7"}]}]})
    assert "shared-secret-7" not in redact(report, r21.REDACTION)
    network = frame(2, "n", "SetNetworkProfile", {"configurationSlot": 1, "connectionData": {"basicAuthPassword": "abc123abc123abc1"}})
    assert "abc123" not in redact(network, r21.REDACTION)
    # 2.0.1 has no NetworkConfiguration.VpnPassword variable: the tables are per version
    assert "vpn-secret-9" in redact(getvars, r201.REDACTION)


def test_1_6_authorization_key_by_key_name_not_by_word() -> None:
    change = frame(2, "c", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "0011223344556677"})
    out = redact(change, r16.REDACTION)
    assert "0011223344556677" not in out and "AuthorizationKey" in out  # the key's name stays
    heartbeat = frame(2, "h", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "300"})
    assert redact(heartbeat, r16.REDACTION) == heartbeat  # "key" is a key name, nothing secret
    conf = frame(3, "g", {"configurationKey": [{"key": "authorizationkey", "readonly": False, "value": "aabbccdd"}]})
    assert "aabbccdd" not in redact(conf, r16.REDACTION)
    assert st16.BINDING.redaction is r16.REDACTION


def test_a_signed_payload_holding_a_secret_is_dropped() -> None:
    inner = json.dumps({"setVariableData": [{"attributeValue": "hunter2hunter2", "component": {"name": "SecurityCtrlr"},
                                             "variable": {"name": "BasicAuthPassword"}}]}).encode()
    encoded = base64.urlsafe_b64encode(inner).decode().rstrip("=")
    text = frame(2, "s", "SetVariables-Signed", {"protected": "e30", "payload": encoded, "signature": "c2ln"})
    out = json.loads(redact(text, r201.REDACTION))
    assert out[3]["payload"] == REDACTED and "hunter2" not in json.dumps(out)


def test_the_generated_tables_are_committed() -> None:
    text = Path(ROOT / "generated" / "v21" / "routing.py").read_text()
    assert '("WebPaymentsCtrlr", "SharedSecret")' in text and '"SetNetworkProfile": (' in text
