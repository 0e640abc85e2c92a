"""Vibration severity zones in the style of ISO 10816-3 (broadband velocity, mm/s RMS).

Zone A: newly commissioned machines. B: acceptable for unrestricted long-term operation.
C: not acceptable for long-term operation; plan a repair. D: severe enough to cause damage.
The equipment library sets each type's warning limit at the B/C boundary and its alarm limit at
the C/D boundary of its class; healthy simulated machines run in zone A or low in B.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Zone(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


@dataclass(frozen=True, slots=True)
class ZoneLimits:
    """Upper boundaries of zones A, B and C in mm/s RMS."""

    name: str
    ab: float
    bc: float
    cd: float

    def zone(self, velocity: float) -> Zone:
        if velocity <= self.ab:
            return Zone.A
        if velocity <= self.bc:
            return Zone.B
        if velocity <= self.cd:
            return Zone.C
        return Zone.D


GROUP_1_RIGID = ZoneLimits("ISO 10816-3 group 1 (300 kW-50 MW), rigid", 2.3, 4.5, 7.1)
GROUP_1_FLEXIBLE = ZoneLimits("ISO 10816-3 group 1 (300 kW-50 MW), flexible", 3.5, 7.1, 11.0)
GROUP_2_RIGID = ZoneLimits("ISO 10816-3 group 2 (15-300 kW), rigid", 1.4, 2.8, 4.5)
GROUP_2_FLEXIBLE = ZoneLimits("ISO 10816-3 group 2 (15-300 kW), flexible", 2.3, 4.5, 7.1)
