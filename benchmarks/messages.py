"""Realistic OCPP-J frames for the benchmarks, one per message the issue names."""

from __future__ import annotations

import json

SAMPLED_201 = [
    {"value": 1234.5, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "kWh", "multiplier": 0}, "context": "Sample.Periodic"},
    {"value": 11.2, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW"}, "context": "Sample.Periodic"},
    {"value": 16.1, "measurand": "Current.Import", "phase": "L1", "unitOfMeasure": {"unit": "A"}},
    {"value": 16.0, "measurand": "Current.Import", "phase": "L2", "unitOfMeasure": {"unit": "A"}},
    {"value": 15.9, "measurand": "Current.Import", "phase": "L3", "unitOfMeasure": {"unit": "A"}},
    {"value": 231.0, "measurand": "Voltage", "phase": "L1-N", "unitOfMeasure": {"unit": "V"}},
    {"value": 67.0, "measurand": "SoC", "location": "EV", "unitOfMeasure": {"unit": "Percent"}},
]
TRANSACTION_EVENT_201 = {
    "eventType": "Updated",
    "timestamp": "2024-05-06T10:15:30.123Z",
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 42,
    "transactionInfo": {"transactionId": "b9d1c1c0-5a0e-4d64-9d8e-2c1d1f5e7a10", "chargingState": "Charging"},
    "evse": {"id": 1, "connectorId": 1},
    "meterValue": [{"timestamp": "2024-05-06T10:15:30.123Z", "sampledValue": SAMPLED_201}],
}
SAMPLED_16 = [
    {"value": "1234.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh", "context": "Sample.Periodic"},
    {"value": "11.2", "measurand": "Power.Active.Import", "unit": "kW", "context": "Sample.Periodic"},
    {"value": "16.1", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
    {"value": "16.0", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
    {"value": "15.9", "measurand": "Current.Import", "phase": "L3", "unit": "A"},
    {"value": "231", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
]

# (name, version, action, payload)
CALLS = [
    ("2.0.1 TransactionEvent (7 sampled values)", "2.0.1", "TransactionEvent", TRANSACTION_EVENT_201),
    ("2.0.1 BootNotification", "2.0.1", "BootNotification", {"reason": "PowerUp", "chargingStation": {"model": "SingleSocketCharger", "vendorName": "VendorX", "serialNumber": "SN-0001", "firmwareVersion": "1.2.3"}}),
    ("2.0.1 Heartbeat", "2.0.1", "Heartbeat", {}),
    ("2.0.1 Authorize", "2.0.1", "Authorize", {"idToken": {"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"}}),
    ("2.0.1 StatusNotification", "2.0.1", "StatusNotification", {"timestamp": "2024-05-06T10:15:30Z", "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}),
    ("1.6 MeterValues (6 sampled values)", "1.6", "MeterValues", {"connectorId": 1, "transactionId": 42, "meterValue": [{"timestamp": "2024-05-06T10:15:30Z", "sampledValue": SAMPLED_16}]}),
    ("1.6 StartTransaction", "1.6", "StartTransaction", {"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 123456, "timestamp": "2024-05-06T10:15:30Z"}),
    ("2.1 TransactionEvent (7 sampled values)", "2.1", "TransactionEvent", TRANSACTION_EVENT_201),
]


def frame(message_id: str, action: str, payload: dict) -> str:
    return json.dumps([2, message_id, action, payload], separators=(",", ":"))

# The CSMS's answers to the CALLS above, by (version, action): the outbound benchmark's typed responses.
RESPONSES = {
    ("2.0.1", "TransactionEvent"): {"totalCost": 12.5, "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": "2024-05-07T10:15:30Z"}},
    ("2.0.1", "BootNotification"): {"currentTime": "2024-05-06T10:15:30.123Z", "interval": 300, "status": "Accepted"},
    ("2.0.1", "Heartbeat"): {"currentTime": "2024-05-06T10:15:30.123Z"},
    ("2.0.1", "Authorize"): {"idTokenInfo": {"status": "Accepted"}},
    ("2.0.1", "StatusNotification"): {},
    ("1.6", "MeterValues"): {},
    ("1.6", "StartTransaction"): {"idTagInfo": {"status": "Accepted", "expiryDate": "2024-05-07T10:15:30Z"}, "transactionId": 42},
    ("2.1", "TransactionEvent"): {"totalCost": 12.5, "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": "2024-05-07T10:15:30Z"}},
}
