"""Which findings are notices (they mark an onset but open no work order by themselves)."""

from __future__ import annotations

import pytest

from devices import Finding, FindingKind, Severity


def finding(kind: FindingKind, severity: Severity, score: float) -> Finding:
    return Finding("P-1", ("flow",), kind, severity, score, 0.0, "onset", "flow unusual")


@pytest.mark.parametrize(
    ("kind", "severity", "score", "notice"),
    [
        (FindingKind.ANOMALY, Severity.WARNING, 0.3, True),
        (FindingKind.DRIFT, Severity.WARNING, 0.49, True),
        (FindingKind.ANOMALY, Severity.WARNING, 0.5, False),
        (FindingKind.ANOMALY, Severity.ALARM, 0.3, False),
        (FindingKind.LIMIT, Severity.WARNING, 0.3, False),
        (FindingKind.SENSOR, Severity.WARNING, 0.3, False),
    ],
)
def test_notice(kind: FindingKind, severity: Severity, score: float, notice: bool) -> None:
    assert finding(kind, severity, score).is_notice is notice
