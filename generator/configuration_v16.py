"""OCPP 1.6 configuration keys: the reviewed facts of the three documents that standardize them.

Sources (the OCA's documents, CC BY-ND 4.0, not part of this project; see ../shared/spec):

- "1.6 §9.x": OCPP 1.6 edition 2, chapter 9 "Standard Configuration Key Names & Values", one
  section per key, grouped by feature profile (Core, LocalAuthListManagement, Reservation,
  SmartCharging). Each gives required/optional, accessibility (R or RW), type and unit.
- "Whitepaper §7.x": OCPP 1.6 Security Whitepaper edition 3, chapter 7 "Configuration Keys".
  Its keys belong to no 1.6 feature profile (``profile`` is empty).
- "OCPP-J 1.6 §7": the OCPP-J 1.6 specification, chapter 7 "Configuration", which introduced
  WebSocketPingInterval (1.6 edition 2 lists it as §9.1.34 too).

Units are the spec's words ("seconds", "times", "%", "Wh"). Types are the spec's words, with
the whitepaper's "String" written "string". A row's ``judged`` field says which value is not
stated as such by its source, and why it is what it is.

``SECRETS`` is the reviewed list of keys whose values frame logs must not show.
tests/test_configuration16.py checks every row against the three documents whenever
../shared/spec is present.
"""

from __future__ import annotations

from .devicemodel import Key

__all__ = ["KEYS", "SECRETS", "SOURCE"]

SOURCE = "OCPP 1.6 edition 2 chapter 9, Security Whitepaper edition 3 chapter 7, OCPP-J 1.6 chapter 7"

CORE = "Core"
LOCAL = "LocalAuthListManagement"
RESERVATION = "Reservation"
SMART = "SmartCharging"

_CASE = "casing: the transcription's heading has a lowercase letter; 1.6 keys are CiString50 (compared without case)"

# One key per line, for review against the specification.
# fmt: off
KEYS: tuple[Key, ...] = (
    Key("AllowOfflineTxForUnknownId", "boolean", "", "RW", False, CORE, "1.6 §9.1.1"),
    Key("AuthorizationCacheEnabled", "boolean", "", "RW", False, CORE, "1.6 §9.1.2"),
    Key("AuthorizeRemoteTxRequests", "boolean", "", "R/RW", True, CORE, "1.6 §9.1.3", f"{_CASE}; spelled as §5.11 of the 1.6 text spells it"),
    Key("BlinkRepeat", "integer", "times", "RW", False, CORE, "1.6 §9.1.4"),
    Key("ClockAlignedDataInterval", "integer", "seconds", "RW", True, CORE, "1.6 §9.1.5"),
    Key("ConnectionTimeOut", "integer", "seconds", "RW", True, CORE, "1.6 §9.1.6"),
    Key("ConnectorPhaseRotation", "CSL", "", "RW", True, CORE, "1.6 §9.1.7"),
    Key("ConnectorPhaseRotationMaxLength", "integer", "", "R", False, CORE, "1.6 §9.1.8"),
    Key("GetConfigurationMaxKeys", "integer", "", "R", True, CORE, "1.6 §9.1.9"),
    Key("HeartbeatInterval", "integer", "seconds", "RW", True, CORE, "1.6 §9.1.10"),
    Key("LightIntensity", "integer", "%", "RW", False, CORE, "1.6 §9.1.11"),
    Key("LocalAuthorizeOffline", "boolean", "", "RW", True, CORE, "1.6 §9.1.12", f"{_CASE}; spelled as 2.0.1's AuthCtrlr variable"),
    Key("LocalPreAuthorize", "boolean", "", "RW", True, CORE, "1.6 §9.1.13", f"{_CASE}; spelled as 2.0.1's AuthCtrlr variable"),
    Key("MaxEnergyOnInvalidId", "integer", "Wh", "RW", False, CORE, "1.6 §9.1.14"),
    Key("MeterValuesAlignedData", "CSL", "", "RW", True, CORE, "1.6 §9.1.15"),
    Key("MeterValuesAlignedDataMaxLength", "integer", "", "R", False, CORE, "1.6 §9.1.16"),
    Key("MeterValuesSampledData", "CSL", "", "RW", True, CORE, "1.6 §9.1.17"),
    Key("MeterValuesSampledDataMaxLength", "integer", "", "R", False, CORE, "1.6 §9.1.18"),
    Key("MeterValueSampleInterval", "integer", "seconds", "RW", True, CORE, "1.6 §9.1.19"),
    Key("MinimumStatusDuration", "integer", "seconds", "RW", False, CORE, "1.6 §9.1.20"),
    Key("NumberOfConnectors", "integer", "", "R", True, CORE, "1.6 §9.1.21"),
    Key("ResetRetries", "integer", "times", "RW", True, CORE, "1.6 §9.1.22"),
    Key("StopTransactionOnEVSideDisconnect", "boolean", "", "RW", True, CORE, "1.6 §9.1.23"),
    Key("StopTransactionOnInvalidId", "boolean", "", "RW", True, CORE, "1.6 §9.1.24"),
    Key("StopTxnAlignedData", "CSL", "", "RW", True, CORE, "1.6 §9.1.25"),
    Key("StopTxnAlignedDataMaxLength", "integer", "", "R", False, CORE, "1.6 §9.1.26"),
    Key("StopTxnSampledData", "CSL", "", "RW", True, CORE, "1.6 §9.1.27"),
    Key("StopTxnSampledDataMaxLength", "integer", "", "R", False, CORE, "1.6 §9.1.28"),
    Key("SupportedFeatureProfiles", "CSL", "", "R", True, CORE, "1.6 §9.1.29"),
    Key("SupportedFeatureProfilesMaxLength", "integer", "", "R", False, CORE, "1.6 §9.1.30"),
    Key("TransactionMessageAttempts", "integer", "times", "RW", True, CORE, "1.6 §9.1.31"),
    Key("TransactionMessageRetryInterval", "integer", "seconds", "RW", True, CORE, "1.6 §9.1.32"),
    Key("UnlockConnectorOnEVSideDisconnect", "boolean", "", "RW", True, CORE, "1.6 §9.1.33"),
    Key("WebSocketPingInterval", "integer", "seconds", "RW", False, CORE, "1.6 §9.1.34; OCPP-J 1.6 §7"),
    Key("LocalAuthListEnabled", "boolean", "", "RW", True, LOCAL, "1.6 §9.2.1"),
    Key("LocalAuthListMaxLength", "integer", "", "R", True, LOCAL, "1.6 §9.2.2"),
    Key("SendLocalListMaxLength", "integer", "", "R", True, LOCAL, "1.6 §9.2.3"),
    Key("ReserveConnectorZeroSupported", "boolean", "", "R", False, RESERVATION, "1.6 §9.3.1"),
    Key("ChargeProfileMaxStackLevel", "integer", "", "R", True, SMART, "1.6 §9.4.1"),
    Key("ChargingScheduleAllowedChargingRateUnit", "CSL", "", "R", True, SMART, "1.6 §9.4.2"),
    Key("ChargingScheduleMaxPeriods", "integer", "", "R", True, SMART, "1.6 §9.4.3"),
    Key("ConnectorSwitch3to1PhaseSupported", "boolean", "", "R", False, SMART, "1.6 §9.4.4"),
    Key("MaxChargingProfilesInstalled", "integer", "", "R", True, SMART, "1.6 §9.4.5"),
    Key("AdditionalRootCertificateCheck", "boolean", "", "R", False, "", "Whitepaper §7.1"),
    Key("AuthorizationKey", "string", "", "W", False, "", "Whitepaper §7.2"),
    Key("CertificateSignedMaxChainSize", "integer", "", "R", False, "", "Whitepaper §7.3"),
    Key("CertificateStoreMaxLength", "integer", "", "R", False, "", "Whitepaper §7.4"),
    Key("CpoName", "string", "", "RW", False, "", "Whitepaper §7.5"),
    Key("SecurityProfile", "integer", "", "RW", False, "", "Whitepaper §7.6"),
    Key("SupportedFileTransferProtocols", "CSL", "", "R", False, "", "Whitepaper N01 (remark); L01 (remark)",
        "no table: N01 names it an optional key that reports the supported protocols (so R, a list: CSL); L01 calls it required"),
)
# fmt: on

SECRETS: dict[str, str] = {
    "AuthorizationKey": "Whitepaper §7.2: write-only (W), the HTTP Basic authentication password; A01.FR.12 forbids logging it",
}
