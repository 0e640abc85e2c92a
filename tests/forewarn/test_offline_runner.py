"""Which findings count as a raised alarm in `forewarn score`'s output."""

from __future__ import annotations

import pytest

from detectors import EquipmentDetector
from detectors import registry as detector_registry
from devices import Finding, FindingKind, Severity
from forewarn.offline.runner import _raised


class _Joint(EquipmentDetector):
    name = "joint_test"


def finding(detector: str, signals: tuple[str, ...], *, active: bool = True) -> Finding:
    return Finding(
        equipment_id="csv",
        signals=signals,
        kind=FindingKind.ANOMALY,
        severity=Severity.WARNING,
        score=0.6,
        ts=0.0,
        detector=detector,
        summary="",
        active=active,
    )


def test_one_alarm_per_episode_of_each_signal_detector() -> None:
    active: set[tuple[str, str, tuple[str, ...]]] = set()
    assert _raised([finding("ewma_drift", ("a",))], active)
    assert not _raised([finding("ewma_drift", ("a",))], active)  # worsened
    assert _raised([finding("ewma_drift", ("b",))], active)  # another signal's episode
    assert not _raised([finding("ewma_drift", ("a",), active=False)], active)
    assert _raised([finding("ewma_drift", ("a",))], active)


def test_an_equipment_episode_is_one_alarm_whatever_signals_it_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(detector_registry.REGISTRY, _Joint.name, _Joint)
    active: set[tuple[str, str, tuple[str, ...]]] = set()
    assert _raised([finding("joint_test", ("a", "b"))], active)
    assert not _raised([finding("joint_test", ("b",))], active)
    assert not _raised([finding("joint_test", ("c",), active=False)], active)
    assert _raised([finding("joint_test", ("c",))], active)
