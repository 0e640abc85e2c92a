"""Fixtures for the simulator tests: small plants of pumps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devices import Plant, plant_from_dict


def pump_plant(*ids: str, site: str = "sim", **extra: Any) -> Plant:
    """A plant of centrifugal pumps on one line; `extra` top-level keys go into the plant file."""
    data: dict[str, Any] = {
        "site": {"id": site},
        "areas": [
            {
                "id": "area",
                "lines": [
                    {
                        "id": "line",
                        "equipment": [
                            {"id": i, "type": "centrifugal_pump", "team": "mech"} for i in ids
                        ],
                    }
                ],
            }
        ],
        **extra,
    }
    return plant_from_dict(data)


@pytest.fixture
def make_plant() -> Callable[..., Plant]:
    return pump_plant
