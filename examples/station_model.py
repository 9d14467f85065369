"""The example station's device model (2.0.1, 2.1) and configuration keys (1.6): what the
simulator implements, declared from the generated standard constants, values persisted by the
runtime's store (docs/device-model.md)."""

from __future__ import annotations

from types import ModuleType

from ocppgen.generated.runtime.configuration_store import ConfigurationStore, KeySpec, declare_key
from ocppgen.generated.runtime.device_model import DeviceModel, VariableSpec, declare
from ocppgen.generated.runtime.values import ValueStore
from ocppgen.generated.v16.configuration import Keys
from ocppgen.generated.v201 import devicemodel as dm201
from ocppgen.generated.v21 import devicemodel as dm21

AVAILABILITY = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
ENERGY = "Energy.Active.Import.Register"  # the one measurand the simulator samples
MEASURANDS = (ENERGY,)
TX_POINTS = ("ParkingBayOccupancy", "EVConnected", "Authorized", "DataSigned", "PowerPathClosed", "EnergyTransfer")


def variables(dm: ModuleType) -> list[VariableSpec]:
    """The simulator's component-variables for one version's ``devicemodel`` module."""
    comm, data, auth, sec, tx = dm.OCPPCommCtrlr, dm.DeviceDataCtrlr, dm.AuthCtrlr, dm.SecurityCtrlr, dm.TxCtrlr
    specs: list[VariableSpec] = [
        declare(comm.HeartbeatInterval, "300", min_limit=0, max_limit=86400),
        declare(comm.WebSocketPingInterval, "0", min_limit=0, max_limit=3600),
        declare(comm.OfflineThreshold, "60", min_limit=0),
        declare(comm.MessageTimeout_Default, "30"),
        declare(comm.MessageAttempts_TransactionEvent, "3", min_limit=0, max_limit=10),
        declare(comm.MessageAttemptInterval_TransactionEvent, "60", min_limit=0),
        declare(comm.RetryBackOffWaitMinimum, "1", min_limit=0),
        declare(comm.RetryBackOffRandomRange, "2", min_limit=0),
        declare(comm.RetryBackOffRepeatTimes, "3", min_limit=0),
        declare(comm.ResetRetries, "1", min_limit=0),
        declare(comm.FileTransferProtocols, "HTTPS", values_list=("FTP", "FTPS", "HTTP", "HTTPS", "SFTP")),
        declare(comm.NetworkConfigurationPriority, "0"),  # the one connection (its URL), slot 0
        declare(comm.NetworkProfileConnectionAttempts, "3", min_limit=0),
        declare(comm.UnlockOnEVSideDisconnect, "true", mutability="ReadOnly"),
        declare(data.ItemsPerMessage_GetVariables, "32"),
        declare(data.BytesPerMessage_GetVariables, "16384"),
        declare(data.ItemsPerMessage_SetVariables, "16"),
        declare(data.BytesPerMessage_SetVariables, "8192"),
        declare(data.ItemsPerMessage_GetReport, "8"),
        declare(data.BytesPerMessage_GetReport, "4096"),
        declare(auth.AuthorizeRemoteStart, "false", mutability="ReadWrite"),
        declare(auth.Enabled, "true"),
        declare(auth.LocalAuthorizeOffline, "true"),
        declare(auth.LocalPreAuthorize, "false"),
        declare(sec.BasicAuthPassword, min_limit=16, max_limit=40),  # A00.FR.205: 16 to 40 characters
        declare(sec.SecurityProfile, "1"),
        declare(sec.CertificateEntries, "0"),
        declare(sec.OrganizationName, "ocppgen", max_limit=64),
        declare(tx.EVConnectionTimeOut, "60", min_limit=0),
        declare(tx.StopTxOnInvalidId, "true"),
        declare(tx.StopTxOnEVSideDisconnect, "true", mutability="ReadOnly"),
        declare(tx.TxStartPoint, "PowerPathClosed", mutability="ReadWrite", values_list=TX_POINTS),
        declare(tx.TxStopPoint, "EVConnected,Authorized", mutability="ReadWrite", values_list=TX_POINTS),
        declare(dm.SampledDataCtrlr.TxUpdatedInterval, "10", min_limit=0),
        declare(dm.SampledDataCtrlr.TxEndedInterval, "0", min_limit=0),
        declare(dm.SampledDataCtrlr.TxStartedMeasurands, ENERGY, values_list=MEASURANDS),
        declare(dm.SampledDataCtrlr.TxUpdatedMeasurands, ENERGY, values_list=MEASURANDS),
        declare(dm.SampledDataCtrlr.TxEndedMeasurands, ENERGY, values_list=MEASURANDS),
        declare(dm.ChargingStation.AvailabilityState, "Available", values_list=AVAILABILITY),
        declare(dm.ChargingStation.Available, "true"),
        declare(dm.ChargingStation.SupplyPhases, "3"),
        declare(dm.EVSE.AvailabilityState, "Available", evse=1, values_list=AVAILABILITY),
        declare(dm.EVSE.Available, "true", evse=1),
        declare(dm.EVSE.Power, "22000", evse=1, max_limit=22000),
        declare(dm.EVSE.SupplyPhases, "3", evse=1),
        declare(dm.Connector.AvailabilityState, "Available", evse=1, connector=1, values_list=AVAILABILITY),
        declare(dm.Connector.Available, "true", evse=1, connector=1),
        declare(dm.Connector.ConnectorType, "cType2", evse=1, connector=1),
        declare(dm.Connector.SupplyPhases, "3", evse=1, connector=1),
    ]
    return specs


def device_model(version: str, values: ValueStore | None = None) -> DeviceModel:
    return DeviceModel(variables(dm201 if version == "2.0.1" else dm21), values=values)


KEYS_16: list[KeySpec] = [
    declare_key(Keys.HeartbeatInterval, "300", min_limit=0),
    declare_key(Keys.MeterValueSampleInterval, "10", min_limit=0),
    declare_key(Keys.WebSocketPingInterval, "0", min_limit=0),
    declare_key(Keys.AuthorizeRemoteTxRequests, "false", accessibility="RW"),
    declare_key(Keys.GetConfigurationMaxKeys, "32"),
    declare_key(Keys.NumberOfConnectors, "1"),
    declare_key(Keys.ConnectionTimeOut, "60", min_limit=0),
    declare_key(Keys.TransactionMessageAttempts, "3", min_limit=0),
    declare_key(Keys.TransactionMessageRetryInterval, "60", min_limit=0),
    declare_key(Keys.SupportedFeatureProfiles, "Core,RemoteTrigger"),
    declare_key(Keys.MeterValuesSampledData, "Energy.Active.Import.Register", max_items=4),
    declare_key(Keys.AuthorizationKey),
    declare_key(Keys.SecurityProfile, "0", reboot_required=True, min_limit=0, max_limit=3),
]


def configuration(values: ValueStore | None = None) -> ConfigurationStore:
    return ConfigurationStore(KEYS_16, values=values)
