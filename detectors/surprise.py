"""Scores from standardised statistics, for one value and for arrays of them.

`detectors.base.surprise_score` puts 0.5 at |z| 4.4 (a 1-in-100,000 surprise). A detector that
judges every sample of a 1 s signal on its own would then raise a condition about once a day per
signal on pure noise, so the univariate detectors put 0.5 at a `threshold` of their own choosing:
`threshold_score(z, threshold)` is `surprise_score` of z rescaled so that |z| = threshold scores
0.5; it stays monotone, 0 at z = 0 and 1.0 well past the threshold (at 1.47 x threshold).

The array versions give the same numbers (to about 1e-13) without calling `math.erfc` per element:
-log10(erfc(x)) is smooth on the range that matters, so it is replaced by a Chebyshev interpolant
fitted once, at import, to `math.erfc` itself.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numpy.polynomial import chebyshev

from detectors.base import surprise_score

FloatArray = npt.NDArray[np.float64]

_SQRT2 = math.sqrt(2.0)
_X_MAX = 4.6
"""erfc(4.6) < 1e-10: beyond it every score is 1.0."""
_DEGREE = 18


def _onset_z() -> float:
    lo, hi = 0.0, 10.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if math.erfc(mid / _SQRT2) > 1e-5:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


Z_AT_ONSET: float = _onset_z()
"""|z| at which `surprise_score` is 0.5 (about 4.417)."""


def threshold_score(z: float, threshold: float) -> float:
    """`surprise_score` with 0.5 at |z| = `threshold` instead of 4.4."""
    return surprise_score(z * Z_AT_ONSET / threshold)


def _neg_log10_erfc(x: float) -> float:
    return -math.log10(math.erfc(x))


_COEFFICIENTS: FloatArray = np.asarray(
    chebyshev.Chebyshev.interpolate(
        np.vectorize(_neg_log10_erfc), _DEGREE, domain=[0.0, _X_MAX]
    ).coef,
    dtype=np.float64,
)


def surprise_scores(z: FloatArray) -> FloatArray:
    """`surprise_score` of every element."""
    x = np.abs(z) / _SQRT2
    np.minimum(x, _X_MAX, out=x)
    # Clenshaw's recurrence on t in [-1, 1]
    t2 = x * (4.0 / _X_MAX) - 2.0
    b1 = np.zeros_like(x)
    b2 = np.zeros_like(x)
    tmp = np.empty_like(x)
    for c in _COEFFICIENTS[:0:-1]:
        np.multiply(t2, b1, out=tmp)
        tmp -= b2
        tmp += c
        b1, b2, tmp = tmp, b1, b2
    t2 *= 0.5
    t2 *= b1
    t2 -= b2
    t2 += _COEFFICIENTS[0]
    t2 *= 0.1
    np.clip(t2, 0.0, 1.0, out=t2)
    return t2


def threshold_scores(z: FloatArray, threshold: FloatArray) -> FloatArray:
    """`threshold_score` of every element (threshold per element or one for all)."""
    return surprise_scores(z * Z_AT_ONSET / threshold)
