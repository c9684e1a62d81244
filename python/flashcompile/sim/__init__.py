"""The hardware performance simulator: how a compiled program would run on
devices we do not have, from its own IR (docs/simulator.md).

Layered one way: device (data) <- calibrate (the host, measured) <- registry
(fc.devices) <- model (per-kernel predictions) <- simulate <- placement."""
from .device import Device
from .registry import DeviceRegistry, devices
from .placement import Link, Placement, place
from .simulate import (SimResult, cost_analysis, compare_devices, comparison_table, plot_comparison,
                       plot_roofline, simulate)

__all__ = ["Device", "DeviceRegistry", "devices", "SimResult", "cost_analysis", "simulate",
           "compare_devices", "comparison_table", "plot_comparison", "plot_roofline",
           "place", "Placement", "Link"]
