"""Models of the `devices` app: the registry and host-level time series."""

from devices.models.configs import (
    ConfigContent,
    ConfigFile,
    ConfigFileStatus,
    ConfigVersion,
    WatchedPath,
    WatchedPathSource,
)
from devices.models.device import AuthMethod, Device, DeviceStatus, DeviceType, Transport
from devices.models.drives import Drive, DriveSample, Verdict
from devices.models.metrics import (
    CounterState,
    DiskSample,
    FilesystemSample,
    InterfaceSample,
    SystemSample,
)
from devices.models.ports import Exposure, ListeningPort, Protocol
from devices.models.rollups import (
    DiskRollup,
    DriveRollup,
    FilesystemRollup,
    InterfaceRollup,
    RollupWatermark,
    SystemRollup,
)

__all__ = [
    "AuthMethod",
    "ConfigContent",
    "ConfigFile",
    "ConfigFileStatus",
    "ConfigVersion",
    "CounterState",
    "Device",
    "DeviceStatus",
    "DeviceType",
    "DiskRollup",
    "DiskSample",
    "Drive",
    "DriveRollup",
    "DriveSample",
    "Exposure",
    "FilesystemRollup",
    "FilesystemSample",
    "InterfaceRollup",
    "InterfaceSample",
    "ListeningPort",
    "Protocol",
    "RollupWatermark",
    "SystemRollup",
    "SystemSample",
    "Transport",
    "Verdict",
    "WatchedPath",
    "WatchedPathSource",
]
