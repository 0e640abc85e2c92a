"""When will a signal cross its alarm limit?

`forecast_trend` judges the signal's long trend (`detectors.trend`: 10-minute means over up to two
days). Wear starts at some moment and then grows, steadily (erosion, fouling) or feeding itself
(spalling, failing lubrication), so each candidate model is a flat baseline up to an onset and
then a linear or an exponential rise: onsets from an hour to the whole history back, e-folding
times from half an hour to weeks. Every candidate is a weighted least-squares fit; candidates are
weighted by their likelihood (BIC, with the residuals' autocorrelation counted as fewer
independent points) and their crossing times pooled. The 90 % range comes from that pool: each
draw takes a candidate by weight, its level and rate from their fitted uncertainty, and a limit
lowered by part of the signal's short-term spread (a noisy signal first touches the limit before
its mean does), and a time left scaled by a log-normal `DISCREPANCY` for what no candidate
explains. The point estimate is the pool's median.

Many signals also follow a daily cycle that is not wear: a temperature rises and falls with the
ambient and the shifts' load. Once the history spans `CYCLE_SPAN`, every candidate carries a
24-hour sinusoid too (fitted with its level and rate), so the cycle neither hides in the trend nor
counts as unexplained noise, and the crossing is where the trend plus the cycle reach the limit:
a temperature in its daily upswing gets there sooner than its trend alone says.

`forecast` is the short-window fallback while the history is under `MIN_BUCKETS` buckets.

The short-window trend is Theil-Sen: the median of the slopes between pairs of points. Unlike
least squares, a few spikes or a short glitch in the window barely move it (its breakdown point
is about 29%), which matters because the window that raised a finding is exactly where odd
values are. The uncertainty comes from the rank-based confidence interval of the slope (Sen
1968, from the null variance of Kendall's S): each end of the interval gives its own line, hence
its own crossing time. The interval assumes independent residuals; strongly autocorrelated noise
makes it too narrow.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.trend import Bucket
from devices import Limits, Point

MAX_PAIRS = 6000
"""Pairs of points whose slopes are computed; beyond, a fixed sample of them (all 179,700 pairs
of a 600-point window cost milliseconds, this sample tens of microseconds, and moves the interval
ends by a small fraction of its width)."""

Z_95 = 1.959963984540054
"""Two-sided 95% normal quantile."""

MIN_BUCKETS = 12
"""History buckets (of 10 minutes: two hours) below which the short-window trend is used."""
MIN_AFTER_ONSET = 3
"""Buckets a candidate onset needs after it."""
ONSETS = 48
"""Candidate onsets, spaced geometrically back from `MIN_AFTER_ONSET` buckets to the oldest."""
E_FOLDING_HOURS = np.geomspace(0.5, 500.0, 64)
"""Doubling-ish times of the exponential candidates (hours)."""
DRAWS = 4000
RANGE = (0.05, 0.95)
DISCREPANCY = 0.2
"""Log-scale standard deviation of the time left that no candidate explains: the wear's future
is not exactly any fitted curve (machines change load, damage jumps)."""
CYCLE = 86_400.0
"""Period of the daily cycle (seconds)."""
CYCLE_SPAN = 1.5 * CYCLE
"""History a daily cycle is fitted from: more than a period, or a sinusoid and a trend cannot be
told apart."""
CYCLE_ITERATIONS = 4
"""Refinements of a crossing time with the cycle: the trend must reach the limit less the
cycle's value at the time found."""
NOISE_TOUCH = (0.0, 3.5)
"""How far below the limit (in short-term standard deviations) the mean is when the signal first
touches the limit: drawn uniformly in this interval."""


@dataclass(frozen=True, slots=True)
class Forecast:
    """When the trend reaches `limit`, in seconds after the last point, with its range (95 % for
    the window's trend, 90 % for the long trend's).

    `earliest <= seconds <= latest`; `latest` is infinite when the slope's interval reaches zero
    (the trend may as well be flat). All three are 0.0 when the signal is already past the limit.
    `slope` is in signal units per second.
    """

    seconds: float
    earliest: float
    latest: float
    slope: float
    limit: float


def forecast(
    points: Sequence[Point], limits: Limits, *, min_points: int = 30, confidence_z: float = Z_95
) -> Forecast | None:
    """The forecast of the alarm limit the trend of `points` ((ts, value), time order) heads to.

    None when there are fewer than `min_points` points, they span no time, the trend is exactly
    flat, or there is no alarm limit in its direction.
    """
    n = len(points)
    if n < min_points or n < 3:
        return None
    data = np.fromiter(
        itertools.chain.from_iterable(points), dtype=np.float64, count=2 * n
    ).reshape(n, 2)
    t = data[:, 0] - data[-1, 0]
    y = data[:, 1]
    if t[0] == 0.0:
        return None
    i, j = _pairs(n)
    dt = t[j] - t[i]
    keep = dt != 0.0
    slopes = (y[j] - y[i])[keep] / dt[keep]
    if slopes.size == 0:
        return None
    slope, low, high = _slope_interval(slopes, n, confidence_z)
    if slope == 0.0:
        return None
    limit = limits.alarm_high if slope > 0.0 else limits.alarm_low
    if limit is None:
        return None
    level = _level(t, y, slope)
    past = level >= limit if slope > 0.0 else level <= limit
    if past:
        return Forecast(0.0, 0.0, 0.0, slope, limit)
    seconds = (limit - level) / slope
    # The steeper end of the interval arrives first; an end on the far side of zero never does.
    steep, shallow = (high, low) if slope > 0.0 else (low, high)
    earliest = _crossing(t, y, steep, slope, limit)
    latest = _crossing(t, y, shallow, slope, limit)
    return Forecast(seconds, min(earliest, seconds), max(latest, seconds), slope, limit)


def forecast_trend(buckets: Sequence[Bucket], limits: Limits, now: float) -> Forecast | None:
    """The forecast of the alarm limit the long trend of `buckets` (oldest first) heads to, in
    seconds after `now`, with a 90 % range; None when there are too few buckets, no trend or no
    alarm limit in its direction."""
    n = len(buckets)
    if n < MIN_BUCKETS:
        return None
    t = np.fromiter((b.ts - now for b in buckets), np.float64, n)
    y = np.fromiter((b.mean for b in buckets), np.float64, n)
    counts = np.fromiter((b.count for b in buckets), np.float64, n)
    w = np.minimum(counts / np.median(counts), 1.0)
    spread = float(np.median([b.sd for b in buckets[-6:]]))
    tau, shapes, k = _candidates(t)
    f = _features(tau, k)  # (candidates, n)
    cycle = _cycle(t) if -t[0] >= CYCLE_SPAN else None
    fit = _fit(f, y, w, cycle)
    if fit is None:
        return None
    level, rate, rss, cov, phase = fit
    now_f = f[:, -1]
    slope_now = rate * _derivative(tau[:, -1], k)
    rho = _autocorrelation(f, y, level, rate, phase, cycle)
    inflation = (1.0 + rho) / (1.0 - rho)
    n_eff = max(w.sum() / inflation, 3.0)
    params = np.where(shapes, 4.0, 3.0) + (0.0 if cycle is None else 2.0)
    bic = n_eff * np.log(np.maximum(rss / w.sum(), 1e-300)) + params * math.log(n_eff)
    weight = np.exp(-(bic - bic.min()) / 2.0)
    weight /= weight.sum()
    slope = float(weight @ slope_now)
    if slope == 0.0:
        return None
    limit = limits.alarm_high if slope > 0.0 else limits.alarm_low
    if limit is None:
        return None
    sign = 1.0 if slope > 0.0 else -1.0
    # The cycle's value now (t = 0) is its cosine coefficient.
    if sign * (float(weight @ (level + rate * now_f + phase[:, 1])) - limit) >= 0.0:
        return Forecast(0.0, 0.0, 0.0, slope, limit)
    rng = np.random.default_rng(n)
    pick = rng.choice(weight.size, size=DRAWS, p=weight)
    sd = np.sqrt(np.maximum(cov[pick, :2] * inflation, 0.0))  # of level and rate
    z = rng.standard_normal((DRAWS, 2))
    corr = cov[pick, 2] * inflation / np.maximum(sd[:, 0] * sd[:, 1], 1e-300)
    corr = np.clip(corr, -1.0, 1.0)
    draw_level = level[pick] + sd[:, 0] * z[:, 0]
    draw_rate = rate[pick] + sd[:, 1] * (corr * z[:, 0] + np.sqrt(1.0 - corr**2) * z[:, 1])
    touch = limit - sign * spread * rng.uniform(*NOISE_TOUCH, DRAWS)

    def crossing(cycle_value: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return _crossing_times(
            draw_level, draw_rate, touch - cycle_value, tau[pick, -1], k[pick], now_f[pick], sign
        )

    seconds = crossing(phase[pick, 1])
    if cycle is not None:
        for _ in range(CYCLE_ITERATIONS):
            found = np.isfinite(seconds)
            at = _cycle(np.where(found, seconds, 0.0))
            seconds = np.where(found, crossing(np.einsum("dc,dc->d", phase[pick], at)), seconds)
    seconds = seconds * np.exp(DISCREPANCY * rng.standard_normal(DRAWS))
    seconds[np.isnan(seconds)] = np.inf  # a draw without a defined crossing never crosses
    seconds.sort()  # infinite draws last: np.quantile would turn them into NaN
    low, mid, high = seconds[[round(q * (DRAWS - 1)) for q in (RANGE[0], 0.5, RANGE[1])]]
    return Forecast(float(mid), float(low), float(high), slope, limit)


def _candidates(
    t: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Time since onset of every bucket for every candidate (onset, shape); which candidates are
    exponential; their rates (0 for linear)."""
    n = t.size
    lookbacks = np.unique(np.geomspace(MIN_AFTER_ONSET, n, ONSETS).round().astype(int))
    onsets = t[n - lookbacks]
    rates = np.concatenate(([0.0], math.log(2.0) / (E_FOLDING_HOURS * 3600.0)))
    onset = np.repeat(onsets, rates.size)
    k = np.tile(rates, len(onsets))
    tau = np.maximum(t[None, :] - onset[:, None], 0.0)
    return tau, k > 0.0, k


def _features(tau: npt.NDArray[np.float64], k: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The rise after onset: tau (linear) or expm1(k tau) / k (exponential, unit initial rate)."""
    kk = np.where(k > 0.0, k, 1.0)[:, None]
    return np.where(k[:, None] > 0.0, np.expm1(np.minimum(kk * tau, 700.0)) / kk, tau)


def _derivative(
    tau: npt.NDArray[np.float64], k: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    return np.where(k > 0.0, np.exp(np.minimum(k * tau, 700.0)), 1.0)


def _cycle(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The daily cycle's regressors at times `t` (seconds from now): sine and cosine, (n, 2)."""
    angle = (2.0 * math.pi / CYCLE) * t
    return np.stack((np.sin(angle), np.cos(angle)), axis=-1)


def _fit(
    f: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    cycle: npt.NDArray[np.float64] | None = None,
) -> tuple[npt.NDArray[np.float64], ...] | None:
    """Weighted least squares of y = level + rate * f (+ the daily cycle's sine and cosine) for
    every candidate row of `f`, by the normal equations of each.

    Returns level, rate, residual sum of squares, the covariance (var level, var rate, cov) as
    columns, and the cycle's coefficients (zeros without `cycle`), (candidates, 2).
    """
    m = f.shape[0]
    # Parameters: level, rate, then the cycle's sine and cosine. Every regressor but the
    # candidate's own rise (rate's) is shared by all candidates: their block is computed once.
    shared = np.column_stack([np.ones_like(y), *([] if cycle is None else cycle.T)])
    p = shared.shape[1] + 1
    at = np.array([0, *range(2, p)])
    gram = np.empty((m, p, p))
    moment = np.empty((m, p))
    # Candidates too steep for floating point overflow here; they are left out below.
    with np.errstate(over="ignore", invalid="ignore"):
        gram[:, at[:, None], at[None, :]] = shared.T @ (w[:, None] * shared)
        gram[:, 1, at] = gram[:, at, 1] = f @ (w[:, None] * shared)
        gram[:, 1, 1] = (f * f) @ w
        moment[:, at] = shared.T @ (w * y)
        moment[:, 1] = f @ (w * y)
        scale = np.sqrt(np.einsum("mii->mi", gram))
        norm = gram / np.maximum(scale[:, :, None] * scale[:, None, :], 1e-300)
    finite = np.isfinite(norm).all(axis=(1, 2))
    ok = finite & (np.abs(np.linalg.det(np.where(finite[:, None, None], norm, 0.0))) > 1e-12)
    if not ok.any():
        return None
    inverse = np.linalg.inv(np.where(ok[:, None, None], gram, np.eye(p)))
    beta = np.einsum("mij,mj->mi", inverse, moment)
    rss = np.maximum(float(w @ (y * y)) - np.einsum("mi,mi->m", beta, moment), 0.0)
    # Candidates too steep for floating point (or degenerate) get no weight and no NaNs.
    ok &= np.isfinite(beta).all(axis=1) & np.isfinite(rss)
    beta = np.where(ok[:, None], beta, 0.0)
    beta[:, 0] = np.where(ok, beta[:, 0], float(w @ y) / w.sum())
    rss = np.where(ok, rss, np.inf)
    dof = max(float(y.size) - p, 1.0)
    sigma2 = np.where(ok, rss, 0.0) / dof
    with np.errstate(invalid="ignore", over="ignore"):
        cov = sigma2[:, None] * np.stack(
            (inverse[:, 0, 0], inverse[:, 1, 1], inverse[:, 0, 1]), axis=1
        )
    cov = np.where(ok[:, None] & np.isfinite(cov), cov, 0.0)
    phase = beta[:, 2:] if cycle is not None else np.zeros((m, 2))
    return beta[:, 0], beta[:, 1], rss, cov, phase


def _autocorrelation(
    f: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    level: npt.NDArray[np.float64],
    rate: npt.NDArray[np.float64],
    phase: npt.NDArray[np.float64],
    cycle: npt.NDArray[np.float64] | None,
) -> float:
    """Lag-1 autocorrelation of the residuals of the best candidate, in [0, 0.95]."""
    residuals = y[None, :] - level[:, None] - rate[:, None] * f
    if cycle is not None:
        residuals -= phase @ cycle.T
    best = int(np.nanargmin(np.where(np.isfinite(rate), (residuals**2).sum(axis=1), np.inf)))
    r = residuals[best]
    denominator = float(r @ r)
    if denominator <= 0.0:
        return 0.0
    return min(max(float(r[1:] @ r[:-1]) / denominator, 0.0), 0.95)


def _crossing_times(
    level: npt.NDArray[np.float64],
    rate: npt.NDArray[np.float64],
    limit: npt.NDArray[np.float64],
    tau_now: npt.NDArray[np.float64],
    k: npt.NDArray[np.float64],
    f_now: npt.NDArray[np.float64],
    sign: float,
) -> npt.NDArray[np.float64]:
    """Seconds from now until level + rate * f(tau) reaches `limit`, which lies on the `sign`
    side (+1 above); 0 when it is there already, inf when it heads away."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        past = sign * (level + rate * f_now - limit) >= 0.0
        f_star = (limit - level) / rate
        k_safe = np.where(k > 0.0, k, 1.0)
        reached = np.where(k > 0.0, np.log1p(k * f_star) / k_safe, f_star) - tau_now
        seconds = np.where((sign * rate > 0.0) & np.isfinite(reached), reached, np.inf)
        return np.where(past, 0.0, np.maximum(seconds, 0.0))


def _slope_interval(
    slopes: npt.NDArray[np.float64], n: int, z: float
) -> tuple[float, float, float]:
    """Median slope and the ends of its rank-based confidence interval."""
    total = n * (n - 1) / 2.0
    half_width = z * math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0) / (2.0 * total)
    if slopes.size < total:
        # A sample of the pairs places each quantile only to within sqrt(p (1 - p) / m).
        half_width = math.hypot(half_width, z * 0.5 / math.sqrt(slopes.size))
    q_low = max(0.0, 0.5 - half_width)
    q_high = min(1.0, 0.5 + half_width)
    last = slopes.size - 1
    ranks = [round(q * last) for q in (q_low, 0.5, q_high)]
    low, median, high = np.partition(slopes, ranks)[ranks]
    return float(median), float(low), float(high)


def _level(t: npt.NDArray[np.float64], y: npt.NDArray[np.float64], slope: float) -> float:
    """The line's value at the last point (t = 0): the median intercept for this slope."""
    return float(np.median(y - slope * t))


def _crossing(
    t: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    slope: float,
    trend: float,
    limit: float,
) -> float:
    """When the line of `slope` reaches `limit`; never if it does not head the way `trend` does."""
    if slope * trend <= 0.0:
        return math.inf
    return max(0.0, (limit - _level(t, y, slope)) / slope)


@functools.lru_cache(maxsize=32)
def _pairs(n: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Indices (i < j) of the pairs to take slopes of: all of them, or a fixed sample.

    Seeded by `n` alone so the same window always gives the same forecast.
    """
    total = n * (n - 1) // 2
    if total <= MAX_PAIRS:
        i, j = np.triu_indices(n, k=1)
        return i, j
    rng = np.random.default_rng(n)
    i = rng.integers(0, n, size=2 * MAX_PAIRS)
    j = rng.integers(0, n, size=2 * MAX_PAIRS)
    keep = i != j
    i, j = i[keep][:MAX_PAIRS], j[keep][:MAX_PAIRS]
    return np.minimum(i, j), np.maximum(i, j)
