"""The univariate detectors' arithmetic on arrays: one element per stream, one sample each.

Each kernel is the twin of one object detector and performs the same floating-point operations in
the same order, so the learned state stays bit for bit the same and the scores agree to about
1e-13 (the only difference is `surprise_scores`' interpolant). Changing a detector's arithmetic
means changing its kernel too; `tests/detectors/test_bank.py` fails until both agree.

A kernel gets the gathered parameters, state and derived constants of the streams in a round
(`Columns`, each array holding one element per sample) with the samples' values and timestamps,
and returns the samples' scores (taken before learning) and the state after learning them. Which
samples are actually learned is the bank's business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from detectors.base import Detector
from detectors.cusum import MAX_AUTOCORRELATION, Cusum
from detectors.drift import EwmaDrift
from detectors.ewma import halflife_rate
from detectors.health import Flatline, Noise, PhysicalRange, StaleSensor, noise_factors
from detectors.limits import LimitDetector
from detectors.rate import RateOfChange
from detectors.surprise import FloatArray, surprise_scores, threshold_scores
from detectors.zscore import EwmaZScore

Columns = Mapping[str, FloatArray]
State = dict[str, FloatArray]


@dataclass(frozen=True)
class Kernel:
    detector: type[Detector]
    derive: Callable[[Mapping[str, float]], dict[str, float]]
    """Constants computed once per stream from its parameters, with the object's own functions."""
    step: Callable[[Columns, FloatArray, FloatArray], tuple[FloatArray, State]]
    silence: Callable[[Columns, FloatArray], tuple[FloatArray, State]] | None = None
    """`Detector.score_silence` of every stream at the source times given, for detectors of
    missing data: the scores, and the state that judging them updates."""


def _std(var: FloatArray, level: FloatArray, min_relative_std: FloatArray) -> FloatArray:
    return np.maximum(np.maximum(np.sqrt(var), min_relative_std * np.abs(level)), 1e-12)


def _limits_step(c: Columns, x: FloatArray, ts: FloatArray) -> tuple[FloatArray, State]:
    deadband = c["deadband"]
    high = _side(x, c["warn_high"], c["alarm_high"], deadband)
    low = _side(-x, -c["warn_low"], -c["alarm_low"], deadband)
    return np.maximum(high, low), {}


def _side(x: FloatArray, warn: FloatArray, alarm: FloatArray, deadband: FloatArray) -> FloatArray:
    """`detectors.limits._side_score` with NaN for a missing limit."""
    has_warn = ~np.isnan(warn)
    has_alarm = ~np.isnan(alarm)
    below = _below(x, np.where(has_warn, warn, alarm), deadband)
    past_warn = np.where(has_alarm, np.minimum(1.0, 0.5 + 0.5 * (x - warn) / (alarm - warn)), 0.5)
    warn_side = np.where(x >= warn, past_warn, below)
    alarm_side = np.where(x >= alarm, 1.0, below)
    return np.where(has_warn, warn_side, np.where(has_alarm, alarm_side, 0.0))


def _below(x: FloatArray, limit: FloatArray, deadband: FloatArray) -> FloatArray:
    distance = (limit - x) / deadband
    near = 0.5 - 0.1 * distance
    far = np.maximum(0.0, 0.4 - 0.4 * (distance - 1.0))
    return np.where(deadband <= 0.0, 0.0, np.where(distance <= 1.0, near, far))


def _drift_derive(p: Mapping[str, float]) -> dict[str, float]:
    return {
        "alpha_fast": halflife_rate(p["fast_halflife"]),
        "alpha_slow": halflife_rate(p["slow_halflife"]),
        "alpha_var": halflife_rate(p["slow_halflife"] * p["variance_lag"]),
        "clip_sq": p["clip"] ** 2,
    }


def _drift_step(c: Columns, x: FloatArray, ts: FloatArray) -> tuple[FloatArray, State]:
    n, fast, slow, spread_var = c["n"], c["fast"], c["slow"], c["spread_var"]
    alpha_fast = c["alpha_fast"]
    moved = fast + alpha_fast * (x - fast)
    std = _std(spread_var, slow, c["min_relative_std"])
    z = (np.where(n != 0.0, moved, x) - slow) / std
    scores = np.where(n < c["warmup"], 0.0, surprise_scores(z))

    n1 = n + 1.0
    first = n1 == 1.0
    slow_learned = slow + np.maximum(c["alpha_slow"], 1.0 / n1) * (x - slow)
    spread_sq = (moved - slow_learned) ** 2
    departed = (n1 > c["warmup"]) & (spread_sq > c["clip_sq"] * spread_var)
    rate = np.maximum(c["alpha_var"], 1.0 / n1)
    var_learned = spread_var + rate * (spread_sq - spread_var)
    return scores, {
        "n": n1,
        "fast": np.where(first, x, moved),
        "slow": np.where(first, x, slow_learned),
        "spread_var": np.where(first | departed, spread_var, var_learned),
    }


def _halflife_derive(p: Mapping[str, float]) -> dict[str, float]:
    return {"alpha": halflife_rate(p["halflife"])}


def _zscore_step(c: Columns, x: FloatArray, ts: FloatArray) -> tuple[FloatArray, State]:
    n, mean, var = c["n"], c["mean"], c["var"]
    std = _std(var, mean, c["min_relative_std"])
    deviation = x - mean
    scores = np.where(n < c["warmup"], 0.0, threshold_scores(deviation / std, c["threshold"]))

    n1 = n + 1.0
    first = n1 == 1.0
    rate = np.maximum(c["alpha"], 1.0 / n1)
    limit = c["clip"] * std
    deviation = np.where(
        n1 > c["warmup"], np.minimum(np.maximum(deviation, -limit), limit), deviation
    )
    mean_learned = mean + rate * deviation
    var_learned = (1.0 - rate) * (var + rate * deviation * deviation)
    return scores, {
        "n": n1,
        "mean": np.where(first, x, mean_learned),
        "var": np.where(first, 0.0, var_learned),
    }


def _rate_derive(p: Mapping[str, float]) -> dict[str, float]:
    return {
        "alpha": halflife_rate(p["halflife"]),
        "alpha_var": halflife_rate(p["variance_halflife"]),
    }


def _rate_step(c: Columns, x: FloatArray, ts: FloatArray) -> tuple[FloatArray, State]:
    n, last_value, last_ts = c["n"], c["last_value"], c["last_ts"]
    rate, rate_var, interval = c["rate"], c["rate_var"], c["interval"]
    alpha = c["alpha"]
    dt = ts - last_ts
    slope = (x - last_value) / dt
    moved = np.where(n == 1.0, slope, rate + alpha * (slope - rate))
    later = ts > last_ts
    floor = c["min_relative_std"] * np.abs(last_value) * alpha / interval
    std = np.maximum(np.maximum(np.sqrt(rate_var), floor), 1e-12)
    scored = (n >= np.maximum(c["warmup"], 2.0)) & later
    scores = np.where(scored, threshold_scores(moved / std, c["threshold"]), 0.0)

    started = n != 0.0
    accepted = ~started | later
    update = started & later
    slow = np.maximum(c["alpha_var"], 1.0 / n)
    square = moved * moved
    learn_var = (n < c["warmup"]) | (square <= c["clip"] * c["clip"] * rate_var)
    return scores, {
        "n": np.where(accepted, n + 1.0, n),
        "last_value": np.where(accepted, x, last_value),
        "last_ts": np.where(accepted, ts, last_ts),
        "rate": np.where(update, moved, rate),
        "interval": np.where(update, interval + slow * (dt - interval), interval),
        "rate_var": np.where(update & learn_var, rate_var + slow * (square - rate_var), rate_var),
    }


def _cusum_derive(p: Mapping[str, float]) -> dict[str, float]:
    return {
        "alpha_baseline": halflife_rate(p["baseline_halflife"]),
        "alpha_recent": halflife_rate(p["recent_halflife"]),
    }


def _cusum_step(c: Columns, x: FloatArray, ts: FloatArray) -> tuple[FloatArray, State]:
    n, mean, var, lag_cov = c["n"], c["mean"], c["var"], c["lag_cov"]
    last_deviation, recent, upper, lower = (
        c["last_deviation"],
        c["recent"],
        c["upper"],
        c["lower"],
    )
    k, h, clip = c["k"], c["h"], c["clip"]
    std = _std(var, mean, c["min_relative_std"])
    positive = var > 0.0
    rho = np.where(
        positive,
        np.minimum(np.maximum(lag_cov / np.where(positive, var, 1.0), 0.0), MAX_AUTOCORRELATION),
        0.0,
    )
    deviation = x - mean
    z = deviation / (std * np.sqrt((1.0 + rho) / (1.0 - rho)))
    z = np.minimum(np.maximum(z, -clip), clip)
    cap = 1.5 * h
    new_upper = np.minimum(np.maximum(upper + z - k, 0.0), cap)
    new_lower = np.minimum(np.maximum(lower - z - k, 0.0), cap)
    statistic = np.maximum(new_upper, new_lower)
    scores = np.where(n < c["warmup"], 0.0, threshold_scores(statistic, h))

    n1 = n + 1.0
    first = n1 == 1.0
    recent_learned = recent + c["alpha_recent"] * (x - recent)
    active = (n1 > c["warmup"]) & ~first
    alarmed = np.where(statistic >= h, c["alarmed"] + 1.0, 0.0)
    relearn = active & (alarmed >= c["relearn_after"])
    frozen = active & ~relearn & (statistic > 0.5 * h)
    limit = clip * std
    deviation = np.where(active, np.minimum(np.maximum(deviation, -limit), limit), deviation)
    learning = ~first & ~relearn & ~frozen
    rate = np.maximum(c["alpha_baseline"], 1.0 / n1)
    mean_learned = mean + rate * deviation
    var_learned = (1.0 - rate) * (var + rate * deviation * deviation)
    lag_learned = lag_cov + rate * (deviation * last_deviation - lag_cov)
    restart = active & relearn
    return scores, {
        "n": n1,
        "recent": np.where(first, x, recent_learned),
        "mean": np.where(
            first, x, np.where(relearn, recent_learned, np.where(learning, mean_learned, mean))
        ),
        "var": np.where(learning, var_learned, var),
        "lag_cov": np.where(learning, lag_learned, lag_cov),
        "last_deviation": np.where(
            learning, deviation, np.where(relearn | frozen, 0.0, last_deviation)
        ),
        "upper": np.where(active, np.where(restart, 0.0, new_upper), upper),
        "lower": np.where(active, np.where(restart, 0.0, new_lower), lower),
        "alarmed": np.where(active, np.where(restart, 0.0, alarmed), c["alarmed"]),
    }


def _stale_derive(p: Mapping[str, float]) -> dict[str, float]:
    return {
        "alpha_gap": halflife_rate(p["gap_halflife"]),
        "alpha_lateness": halflife_rate(p["lateness_halflife"]),
    }


def _allowed_silence(c: Columns) -> FloatArray:
    gaps = np.maximum(c["factor"] * np.maximum(c["sample_period"], c["typical_gap"]), c["floor"])
    first_delivery = np.nan_to_num(c["last_ts"] - c["first_ts"])  # NaN before any reading
    lateness = np.where(
        c["deliveries"] > 0.0, c["lateness"], np.minimum(first_delivery, 2.0 * gaps)
    )
    return np.maximum(gaps, c["lateness_factor"] * lateness)


def _stale_step(c: Columns, x: FloatArray, ts: FloatArray) -> tuple[FloatArray, State]:
    last_ts, gaps, typical_gap = c["last_ts"], c["gaps"], c["typical_gap"]
    deliveries, lateness = c["deliveries"], c["lateness"]
    allowed = _allowed_silence(c)
    gap = ts - last_ts  # NaN before the first reading: no comparison holds
    counted = (gap > 0.0) & (gap <= allowed)
    gaps1 = gaps + 1.0
    rate = np.maximum(c["alpha_gap"], 1.0 / gaps1)
    delivered = ~np.isnan(c["judged_at"]) & ~np.isnan(last_ts)
    deliveries1 = deliveries + 1.0
    late = np.minimum(c["judged_at"] - last_ts, 2.0 * allowed)
    late_rate = np.maximum(c["alpha_lateness"], 1.0 / deliveries1)
    return np.zeros_like(x), {
        "gaps": np.where(counted, gaps1, gaps),
        "typical_gap": np.where(counted, typical_gap + rate * (gap - typical_gap), typical_gap),
        "deliveries": np.where(delivered, deliveries1, deliveries),
        "lateness": np.where(delivered, lateness + late_rate * (late - lateness), lateness),
        "first_ts": np.where(np.isnan(last_ts), ts, c["first_ts"]),
        "judged_at": np.full_like(ts, np.nan),
        "last_ts": ts,
    }


def _stale_silence(c: Columns, now: FloatArray) -> tuple[FloatArray, State]:
    last_ts, judged_at = c["last_ts"], c["judged_at"]
    score = np.maximum(0.0, np.minimum(1.0, 0.5 * (now - last_ts) / _allowed_silence(c)))
    noted = (now >= last_ts) & ~(judged_at >= now)  # NaN: never heard, or not judged yet
    return np.where(np.isnan(last_ts), 0.0, score), {"judged_at": np.where(noted, now, judged_at)}


def _flatline_derive(p: Mapping[str, float]) -> dict[str, float]:
    return {"alpha_movement": halflife_rate(1000.0), "forget": 0.5 ** (1.0 / p["memory"])}


def _flatline_step(c: Columns, x: FloatArray, ts: FloatArray) -> tuple[FloatArray, State]:
    n, anchor, run, run_start = c["n"], c["anchor"], c["run"], c["run_start"]
    movement, repeats, moves = c["movement"], c["repeats"], c["moves"]
    first = np.isnan(anchor)
    same = np.abs(x - anchor) <= c["tolerance"] * movement  # False without an anchor
    surprise = run * -np.log10((repeats + 1.0) / (repeats + moves + 2.0))
    judged = (
        (n >= c["warmup"])
        & same
        & ~((c["zero_is_rest"] != 0.0) & (anchor == 0.0))
        & (run + 1.0 >= c["min_samples"])
        & (ts - run_start >= c["min_duration"])
    )
    scores = np.where(judged, np.minimum(1.0, surprise / 10.0), 0.0)

    n1 = n + 1.0
    step = np.abs(x - c["previous"])
    moving = ~first & (step > 0.0) & ~same
    moving_steps = np.where(moving, c["moving_steps"] + 1.0, c["moving_steps"])
    rate = np.maximum(c["alpha_movement"], 1.0 / np.maximum(moving_steps, 1.0))
    forget = c["forget"]
    repeats_kept = np.where(first, repeats, repeats * forget)
    moves_kept = np.where(first, moves, moves * forget)
    surprise_next = run * -np.log10((repeats_kept + 1.0) / (repeats_kept + moves_kept + 2.0))
    counted = same & ((n1 <= c["warmup"]) | (surprise_next < c["learn_below"]))
    return scores, {
        "n": n1,
        "anchor": np.where(same, anchor, x),
        "run": np.where(same, run + 1.0, 1.0),
        "run_start": np.where(same, run_start, ts),
        "previous": x,
        "movement": np.where(moving, movement + rate * (step - movement), movement),
        "moving_steps": moving_steps,
        "repeats": np.where(counted, repeats_kept + 1.0, repeats_kept),
        "moves": np.where(~first & ~same, moves_kept + 1.0, moves_kept),
    }


def _noise_derive(p: Mapping[str, float]) -> dict[str, float]:
    up, down, rise, fall = noise_factors(p["window"], p["rise"], p["memory"], p["sample_period"])
    return {"scale_up": up, "scale_down": down, "rise_factor": rise, "fall": fall}


def _noise_step(c: Columns, x: FloatArray, ts: FloatArray) -> tuple[FloatArray, State]:
    n, scale, reference, loud = c["n"], c["scale"], c["reference"], c["loud"]
    threshold = c["threshold"]
    judging = (
        (n >= c["warmup"])
        & (n >= Noise.BASELINE_WINDOWS * c["window"])
        & (ts - c["first_ts"] >= c["warmup_duration"])
        & (reference > 0.0)
    )
    movement = np.abs(x - c["last"] - c["last_step"])
    moved = np.where(
        movement > scale,
        np.where(scale > 0.0, scale * c["scale_up"], movement),
        np.where((movement > 0.0) & (movement < scale), scale * c["scale_down"], scale),
    )
    floor = np.maximum(np.maximum(reference, c["min_relative_scale"] * np.abs(x)), 1e-12)
    ratio = moved / floor
    level = 0.5 * ratio / threshold
    is_loud = judging & ((ratio >= threshold) | ((loud > 0.0) & (level > Noise.off_threshold)))
    since = np.where(loud > 0.0, c["loud_since"], ts)
    sustained = is_loud & (loud + 1.0 >= c["min_samples"]) & (ts - since >= c["min_duration"])
    scores = np.where(sustained, np.minimum(1.0, level), 0.0)

    n1 = n + 1.0
    first = n1 == 1.0
    scale1 = np.where(n1 >= 3.0, moved, scale)
    settled = n1 > 4.0 * c["window"]
    envelope = reference * np.where(scale1 > reference, c["rise_factor"], c["fall"])
    learned = np.where(judging, envelope, np.maximum(reference, scale1))
    return scores, {
        "n": n1,
        "first_ts": np.where(first, ts, c["first_ts"]),
        "last": x,
        "last_step": np.where(first, c["last_step"], x - c["last"]),
        "scale": scale1,
        "reference": np.where(~is_loud & settled, learned, reference),
        "loud": np.where(is_loud, loud + 1.0, 0.0),
        "loud_since": np.where(is_loud & (loud == 0.0), ts, c["loud_since"]),
    }


def _range_derive(p: Mapping[str, float]) -> dict[str, float]:
    return {"alpha_magnitude": halflife_rate(p["magnitude_halflife"])}


def _range_step(c: Columns, x: FloatArray, ts: FloatArray) -> tuple[FloatArray, State]:
    n, magnitude = c["n"], c["magnitude"]
    slack = np.maximum(c["slack"], c["margin"] * magnitude)
    low = c["low"] - np.where(c["slack_low"] != 0.0, slack, 0.0)
    high = c["high"] + np.where(c["slack_high"] != 0.0, slack, 0.0)
    outside = (x < low) | (x > high)  # NaN bounds: no comparison holds
    n1 = n + 1.0
    rate = np.maximum(c["alpha_magnitude"], 1.0 / n1)
    return np.where(outside, 1.0, 0.0), {
        "n": np.where(outside, n, n1),
        "magnitude": np.where(outside, magnitude, magnitude + rate * (np.abs(x) - magnitude)),
    }


def _nothing(p: Mapping[str, float]) -> dict[str, float]:
    return {}


KERNELS: dict[str, Kernel] = {
    k.detector.name: k
    for k in (
        Kernel(LimitDetector, _nothing, _limits_step),
        Kernel(EwmaDrift, _drift_derive, _drift_step),
        Kernel(EwmaZScore, _halflife_derive, _zscore_step),
        Kernel(RateOfChange, _rate_derive, _rate_step),
        Kernel(Cusum, _cusum_derive, _cusum_step),
        Kernel(StaleSensor, _stale_derive, _stale_step, _stale_silence),
        Kernel(Flatline, _flatline_derive, _flatline_step),
        Kernel(Noise, _noise_derive, _noise_step),
        Kernel(PhysicalRange, _range_derive, _range_step),
    )
}
"""Kernels by detector name: the detectors a `UnivariateBank` can hold."""
