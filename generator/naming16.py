"""Names of the inline enums and objects of the OCPP 1.6 core schemas.

The 1.6 core schema files define their enums and objects inline, without names. The names
below are the ones the OCPP 1.6 specification (edition 2, chapter 7 "Types") gives them, keyed
by schema file and JSON pointer. This table is reviewed by hand; an inline type that is not in
it is named from its path, with a warning.
"""

from __future__ import annotations

__all__ = ["INLINE_NAMES_16"]

_SV = "/properties/meterValue/items/properties/sampledValue/items"
_TD = "/properties/transactionData/items/properties/sampledValue/items"
_RS = "/properties/chargingProfile"
_SC = "/properties/csChargingProfiles"

INLINE_NAMES_16: dict[str, str] = {
    # 7.1 AuthorizationData, 7.2 AuthorizationStatus, 7.27 IdTagInfo
    "AuthorizeResponse.json#/properties/idTagInfo": "IdTagInfo",
    "AuthorizeResponse.json#/properties/idTagInfo/properties/status": "AuthorizationStatus",
    "StartTransactionResponse.json#/properties/idTagInfo": "IdTagInfo",
    "StartTransactionResponse.json#/properties/idTagInfo/properties/status": "AuthorizationStatus",
    "StopTransactionResponse.json#/properties/idTagInfo": "IdTagInfo",
    "StopTransactionResponse.json#/properties/idTagInfo/properties/status": "AuthorizationStatus",
    "SendLocalList.json#/properties/localAuthorizationList/items": "AuthorizationData",
    "SendLocalList.json#/properties/localAuthorizationList/items/properties/idTagInfo": "IdTagInfo",
    "SendLocalList.json#/properties/localAuthorizationList/items/properties/idTagInfo/properties/status": (
        "AuthorizationStatus"
    ),
    # 7.3 AvailabilityStatus, 7.4 AvailabilityType
    "ChangeAvailability.json#/properties/type": "AvailabilityType",
    "ChangeAvailabilityResponse.json#/properties/status": "AvailabilityStatus",
    # 7.5 CancelReservationStatus
    "CancelReservationResponse.json#/properties/status": "CancelReservationStatus",
    # 7.6 ChargePointErrorCode, 7.7 ChargePointStatus
    "StatusNotification.json#/properties/errorCode": "ChargePointErrorCode",
    "StatusNotification.json#/properties/status": "ChargePointStatus",
    # 7.8 ChargingProfile, 7.9 ChargingProfileKindType, 7.10 ChargingProfilePurposeType,
    # 7.37 RecurrencyKindType
    f"RemoteStartTransaction.json#{_RS}": "ChargingProfile",
    f"RemoteStartTransaction.json#{_RS}/properties/chargingProfilePurpose": "ChargingProfilePurposeType",
    f"RemoteStartTransaction.json#{_RS}/properties/chargingProfileKind": "ChargingProfileKindType",
    f"RemoteStartTransaction.json#{_RS}/properties/recurrencyKind": "RecurrencyKindType",
    f"SetChargingProfile.json#{_SC}": "ChargingProfile",
    f"SetChargingProfile.json#{_SC}/properties/chargingProfilePurpose": "ChargingProfilePurposeType",
    f"SetChargingProfile.json#{_SC}/properties/chargingProfileKind": "ChargingProfileKindType",
    f"SetChargingProfile.json#{_SC}/properties/recurrencyKind": "RecurrencyKindType",
    "ClearChargingProfile.json#/properties/chargingProfilePurpose": "ChargingProfilePurposeType",
    # 7.12 ChargingRateUnitType, 7.13 ChargingSchedule, 7.14 ChargingSchedulePeriod
    f"RemoteStartTransaction.json#{_RS}/properties/chargingSchedule": "ChargingSchedule",
    f"RemoteStartTransaction.json#{_RS}/properties/chargingSchedule/properties/chargingRateUnit": (
        "ChargingRateUnitType"
    ),
    f"RemoteStartTransaction.json#{_RS}/properties/chargingSchedule/properties/chargingSchedulePeriod/items": (
        "ChargingSchedulePeriod"
    ),
    f"SetChargingProfile.json#{_SC}/properties/chargingSchedule": "ChargingSchedule",
    f"SetChargingProfile.json#{_SC}/properties/chargingSchedule/properties/chargingRateUnit": (
        "ChargingRateUnitType"
    ),
    f"SetChargingProfile.json#{_SC}/properties/chargingSchedule/properties/chargingSchedulePeriod/items": (
        "ChargingSchedulePeriod"
    ),
    "GetCompositeSchedule.json#/properties/chargingRateUnit": "ChargingRateUnitType",
    "GetCompositeScheduleResponse.json#/properties/chargingSchedule": "ChargingSchedule",
    "GetCompositeScheduleResponse.json#/properties/chargingSchedule/properties/chargingRateUnit": (
        "ChargingRateUnitType"
    ),
    "GetCompositeScheduleResponse.json#/properties/chargingSchedule/properties/chargingSchedulePeriod/items": (
        "ChargingSchedulePeriod"
    ),
    # 7.11 ChargingProfileStatus, 7.20 ClearCacheStatus, 7.21 ClearChargingProfileStatus
    "SetChargingProfileResponse.json#/properties/status": "ChargingProfileStatus",
    "ClearCacheResponse.json#/properties/status": "ClearCacheStatus",
    "ClearChargingProfileResponse.json#/properties/status": "ClearChargingProfileStatus",
    # 7.22 ConfigurationStatus, 7.23 DataTransferStatus, 7.24 DiagnosticsStatus
    "ChangeConfigurationResponse.json#/properties/status": "ConfigurationStatus",
    "DataTransferResponse.json#/properties/status": "DataTransferStatus",
    "DiagnosticsStatusNotification.json#/properties/status": "DiagnosticsStatus",
    # 7.25 FirmwareStatus, 7.26 GetCompositeScheduleStatus
    "FirmwareStatusNotification.json#/properties/status": "FirmwareStatus",
    "GetCompositeScheduleResponse.json#/properties/status": "GetCompositeScheduleStatus",
    # 7.29 KeyValue
    "GetConfigurationResponse.json#/properties/configurationKey/items": "KeyValue",
    # 7.30 Location, 7.31 Measurand, 7.32 MessageTrigger, 7.33 MeterValue, 7.34 Phase
    # 7.35 ReadingContext, 7.43 SampledValue, 7.45 UnitOfMeasure, 7.49 ValueFormat
    "MeterValues.json#/properties/meterValue/items": "MeterValue",
    f"MeterValues.json#{_SV}": "SampledValue",
    f"MeterValues.json#{_SV}/properties/context": "ReadingContext",
    f"MeterValues.json#{_SV}/properties/format": "ValueFormat",
    f"MeterValues.json#{_SV}/properties/measurand": "Measurand",
    f"MeterValues.json#{_SV}/properties/phase": "Phase",
    f"MeterValues.json#{_SV}/properties/location": "Location",
    f"MeterValues.json#{_SV}/properties/unit": "UnitOfMeasure",
    "StopTransaction.json#/properties/transactionData/items": "MeterValue",
    f"StopTransaction.json#{_TD}": "SampledValue",
    f"StopTransaction.json#{_TD}/properties/context": "ReadingContext",
    f"StopTransaction.json#{_TD}/properties/format": "ValueFormat",
    f"StopTransaction.json#{_TD}/properties/measurand": "Measurand",
    f"StopTransaction.json#{_TD}/properties/phase": "Phase",
    f"StopTransaction.json#{_TD}/properties/location": "Location",
    f"StopTransaction.json#{_TD}/properties/unit": "UnitOfMeasure",
    "TriggerMessage.json#/properties/requestedMessage": "MessageTrigger",
    # 7.36 Reason, 7.37 RecurrencyKindType, 7.38 RegistrationStatus
    # 7.39 RemoteStartStopStatus, 7.40 ReservationStatus, 7.41 ResetStatus, 7.42 ResetType
    "StopTransaction.json#/properties/reason": "Reason",
    "BootNotificationResponse.json#/properties/status": "RegistrationStatus",
    "RemoteStartTransactionResponse.json#/properties/status": "RemoteStartStopStatus",
    "RemoteStopTransactionResponse.json#/properties/status": "RemoteStartStopStatus",
    "ReserveNowResponse.json#/properties/status": "ReservationStatus",
    "ResetResponse.json#/properties/status": "ResetStatus",
    "Reset.json#/properties/type": "ResetType",
    # 7.44 TriggerMessageStatus, 7.46 UnlockStatus, 7.47 UpdateStatus, 7.48 UpdateType
    "TriggerMessageResponse.json#/properties/status": "TriggerMessageStatus",
    "UnlockConnectorResponse.json#/properties/status": "UnlockStatus",
    "SendLocalListResponse.json#/properties/status": "UpdateStatus",
    "SendLocalList.json#/properties/updateType": "UpdateType",
}
