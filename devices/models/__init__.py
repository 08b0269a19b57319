"""Models of the `devices` app: the registry and host-level time series."""

from devices.models.device import AuthMethod, Device, DeviceStatus, DeviceType, Transport
from devices.models.drives import Drive, DriveSample, Verdict
from devices.models.metrics import (
    CounterState,
    DiskSample,
    FilesystemSample,
    InterfaceSample,
    SystemSample,
)

__all__ = [
    "AuthMethod",
    "CounterState",
    "Device",
    "DeviceStatus",
    "DeviceType",
    "DiskSample",
    "Drive",
    "DriveSample",
    "FilesystemSample",
    "InterfaceSample",
    "SystemSample",
    "Transport",
    "Verdict",
]
