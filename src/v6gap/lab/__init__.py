"""Throw-away labs of network namespaces: scenarios as data, built and always torn down.

from v6gap.lab import Lab, scenarios
with Lab(scenarios.basic()) as lab:
    assert lab.ping("attacker", lab.addr("server", "ipv6"))
"""

from __future__ import annotations

from v6gap.lab.build import Lab
from v6gap.lab.listeners import Connection, RunningListener
from v6gap.lab.scenario import (
    Address,
    Firewall,
    Host,
    Interface,
    Link,
    Listener,
    Route,
    Scenario,
)
from v6gap.lab.validate import validate

__all__ = [
    "Address",
    "Connection",
    "Firewall",
    "Host",
    "Interface",
    "Lab",
    "Link",
    "Listener",
    "Route",
    "RunningListener",
    "Scenario",
    "validate",
]
