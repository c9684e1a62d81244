"""What a name in a device list means for running and for pricing.

A placement or pipeline names devices either by compile target (`host`,
`vulkan`, `nvidia-sm80`, ... from fc.targets()) or by simulator device
(`nvidia-a100-80gb`, `google-tpu-v5e`, ... from fc.devices). Each becomes
an Endpoint: the target its stages compile for (None when FlashCompile has
no code generator for it: such stages are written as StableHLO, the input
XLA compiles for TPUs), the simulator device that prices them, and whether
this process can run them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..compiled import targets
from ..sim.device import Device
from ..sim.registry import devices


@dataclass(frozen=True)
class Endpoint:
    name: str               # as the user wrote it
    target: str | None      # compile target, or None (StableHLO only)
    device: Device          # prices its stages
    runs_here: bool
    note: str = ""


def _vulkan_device() -> Device:
    """Vulkan here is Mesa's lavapipe: SPIR-V compiled to this CPU. Its
    stages are priced by vulkan_model (a roofline measured on it); this
    Device stands for it in the placement's links: a copy through host
    memory."""
    host = devices["host"]
    return dataclasses.replace(host, name="vulkan", display="Vulkan (Mesa lavapipe, this CPU)",
                               host_link="host memory copy",
                               host_link_gbs=max(1.0, host.memory_gbs / 2))


def endpoint(name) -> Endpoint:
    if isinstance(name, Endpoint):
        return name
    if isinstance(name, Device):
        name = name.name
    by_target = {t["name"]: t for t in targets()}
    if name in by_target:
        info = by_target[name]
        if name == "host":
            return Endpoint(name, "host", devices["host"], True)
        if name == "vulkan":
            return Endpoint(name, "vulkan", _vulkan_device(), info["runs_here"],
                            "" if info["runs_here"] else "no Vulkan device in this process")
        return Endpoint(name, name, devices[info["device"]], False,
                        f"built for {name}; priced as {info['device']}")
    try:
        device = devices[name]
    except KeyError:
        known = sorted({*by_target, *devices.names()})
        raise ValueError(f"unknown device {name!r}: one of {', '.join(known)}") from None
    target = target_for(device)
    if target:
        return Endpoint(name, target, device, False, f"built for {target}")
    why = f"no FlashCompile target for {device.arch}" if device.arch else \
        "no FlashCompile code generator"
    return Endpoint(name, None, device, False, f"{why}: its stages are written as StableHLO")


def target_for(device: Device) -> str | None:
    """The target whose code runs on `device`: its own ISA; for NVIDIA also
    an older minor of the same major (cubins run on later minors: sm_80 on
    sm_89) or, past sm_90, the sm_90 build's PTX (the driver JITs it)."""
    chips = {t["chip"]: t["name"] for t in targets() if t["chip"]}
    if device.arch in chips:
        return chips[device.arch]
    if device.arch.startswith("sm_") and device.arch[3:].isdigit():
        cc = int(device.arch[3:])
        ours = [int(c[3:]) for c in chips if c.startswith("sm_")]
        usable = [c for c in ours if (c // 10 == cc // 10 and c <= cc) or (cc >= 100 and c < cc)]
        if usable:
            return chips[f"sm_{max(usable)}"]
    return None
