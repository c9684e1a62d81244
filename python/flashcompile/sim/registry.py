"""`fc.devices`: the registry of every device file, looked up by name
("nvidia-a100-40gb"), with a class per device (`fc.devices.NvidiaA10040gb()`,
short aliases such as `fc.devices.NvidiaA100()`) and `fc.devices.host()`,
this machine from its calibration (sim/calibrate.py).
"""
from __future__ import annotations

import glob
import os
import re

from .calibrate import host_device
from .device import _DIR, Device, load


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", name))


class DeviceRegistry:
    """`fc.devices`: iterate, `fc.devices["nvidia-a100-40gb"]`,
    `fc.devices.names()`, `fc.devices.of_kind("tpu")`, `fc.devices.host()`,
    and a constructor per device: `fc.devices.NvidiaA10040gb()`."""

    # Short names for the most used entries.
    ALIASES = {"nvidia-a100": "nvidia-a100-40gb", "nvidia-h100": "nvidia-h100-sxm",
               "amd-mi300": "amd-mi300x", "tpu-v4": "google-tpu-v4", "tpu-v5e": "google-tpu-v5e",
               "edge-tpu": "google-edge-tpu"}

    def __init__(self, folder: str = _DIR):
        self._folder = folder
        self._devices: dict | None = None

    def _all(self) -> dict:
        if self._devices is None:
            devices = {}
            for path in sorted(glob.glob(os.path.join(self._folder, "*.toml"))):
                d = load(path)
                devices[d.name] = d
            self._devices = devices
        return self._devices

    def names(self) -> list:
        return sorted(self._all())

    def __iter__(self):
        return iter(self._all()[n] for n in self.names())

    def __len__(self):
        return len(self._all())

    def of_kind(self, kind: str) -> list:
        return [d for d in self if d.kind == kind]

    def __getitem__(self, name: str) -> Device:
        if isinstance(name, Device):
            return name
        if name == "host":
            return self.host()
        key = self.ALIASES.get(name, name)
        try:
            return self._all()[key]
        except KeyError:
            close = [n for n in self.names() if name.split("-")[-1] in n][:5]
            raise KeyError(f"no device {name!r}; known: {', '.join(self.names())}"
                           + (f" (did you mean {', '.join(close)}?)" if close else "")) from None

    get = __getitem__

    def host(self, recalibrate: bool = False) -> Device:
        """This machine, from its stored calibration (measured on first use)."""
        return host_device(recalibrate=recalibrate)

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        by_class = {_class_name(n): n for n in self.names()}
        by_class.update({_class_name(a): t for a, t in self.ALIASES.items()})
        if attr in by_class:
            name = by_class[attr]
            return lambda: self[name]
        raise AttributeError(f"fc.devices has no device class {attr!r}; classes: "
                             f"{', '.join(sorted(by_class))}")

    def __dir__(self):
        return sorted(set(super().__dir__()) | {_class_name(n) for n in self.names()})


devices = DeviceRegistry()
