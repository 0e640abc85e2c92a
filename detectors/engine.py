"""The detection engine: every signal and equipment of the plant, its detectors and their decisions.

Pure and synchronous: batches of `Reading`s (or `ReadingColumns`: `Engine.process_columns`) in,
`Finding`s out, no I/O. The composition root feeds it from a source and hands its findings to
ticketing; it can snapshot its whole state and resume.

Signal detectors see each reading of their stream. Equipment detectors see rows: the latest value
of every signal of the equipment, one row per source timestamp, scored once every signal reported
at that time (or, if one did not, when a newer reading of that equipment arrives).

Two paths give the same results. The reference path goes reading by reading (`_process_readings`).
The vectorised path takes the common batch by columns, so that a plant's cost is its banks'
arithmetic rather than Python per reading: the checks and rejects as array operations; the
signals' bank (`detectors.bank`) scores every reading; a stream with a hot score or a decision
under way goes reading by reading for its evidence, trend and decisions (its findings carry both up
to their reading), the others' evidence and trend are appended at once to the engine's arrays
(`EvidenceRings`, `TrendStore`); equipment rows are built per run of one equipment's readings at
one time, or gathered by columns when every run is a whole row. A batch goes by the reference path
when per-reading scores or training are asked for, when a stream's readings are not later than
its last one and each other (the clock judge, `ClockWatch`, is sequential), and when a stream has
detectors outside the banks (e.g. `onset` on a signal without limits) or its equipment checks
outside the row banks that are not idle. `Engine(vectorised=False)` takes it for every batch.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, cast

import numpy as np

from detectors.bank import BANKED, BoolArray, IntArray, UnivariateBank
from detectors.base import Detector, EquipmentDetector
from detectors.decision import DEBOUNCE_FIELDS, Debounce, Transition
from detectors.errors import DetectorConfigError, DetectorError, SnapshotError
from detectors.evidence import Evidence, EvidenceRings
from detectors.prediction import MIN_BUCKETS, Forecast, forecast, forecast_trend
from detectors.regime import regime_signal_of
from detectors.registry import (
    DEFAULT,
    REGISTRY,
    build_for_equipment,
    build_for_signal,
    is_equipment_detector,
)
from detectors.relations import RelationsDetector
from detectors.relations_bank import RelationsBank
from detectors.row_bank import RowBank
from detectors.shift import ShiftDetector
from detectors.shift_bank import ShiftBank
from detectors.surprise import FloatArray
from detectors.trend import PER_STREAM as TREND_PER_STREAM
from detectors.trend import Bucket, TrendHistory, TrendStore, running_settled
from devices import (
    QUALITIES,
    ClockVerdict,
    ClockWatch,
    DetectorConfig,
    Equipment,
    Finding,
    FindingKind,
    Plant,
    Point,
    Quality,
    Reading,
    ReadingColumns,
    Severity,
    Signal,
    StreamKey,
)

SNAPSHOT_VERSION = 4
ROW_BANKS: tuple[type[RowBank[Any]], ...] = (RelationsBank, ShiftBank)
"""The equipment detectors with a vectorised form, which judges every equipment's rows at once."""
MAX_CLOCK_REJECTS = 10_000
"""Clock rejects kept between two `take_clock_rejects` calls (the counter counts them all)."""
MACHINE_KINDS = frozenset((FindingKind.LIMIT, FindingKind.DRIFT, FindingKind.ANOMALY))
"""What findings about the machine (not its sensors or links) are."""
SILENCE_CHECK_INTERVAL = 1.0
"""Seconds of source time between two checks for signals that went silent."""
_STREAM_KEY = operator.attrgetter("equipment_id", "signal")
_TS = operator.attrgetter("ts")
_VALUE = operator.attrgetter("value")
_QUALITY = operator.attrgetter("quality")
_BAD_CODE = QUALITIES.index(Quality.BAD)
_GOOD_CODE = QUALITIES.index(Quality.GOOD)


def common_score(score: float, on_threshold: float) -> float:
    """`score` of a detector whose conditions start at `on_threshold`, rescaled (piecewise
    linearly, monotone) so that they start at 0.5, as `detectors.base` has it: the scores of an
    ensemble rank on one scale."""
    if on_threshold == 0.5:
        return score
    if score <= on_threshold:
        return 0.5 * score / on_threshold
    return 0.5 + 0.5 * (score - on_threshold) / (1.0 - on_threshold)


@dataclass
class _Check:
    detector: Detector
    decision: Debounce


@dataclass
class _BankCheck:
    """A detector of the vectorised family: its state lives in the engine's `UnivariateBank`."""

    column: int
    prototype: Detector
    """As configured; gives kind, thresholds and severity (which depend on the score alone)."""
    decision: Debounce


@dataclass
class _Stream:
    index: int
    """The stream's position in the engine's bank."""
    equipment_id: str
    signal: Signal
    checks: list[_Check]
    bank_checks: list[_BankCheck]
    unit: _Unit
    evidence: Evidence
    """A window on the engine's `EvidenceRings`."""
    history: TrendHistory
    """A view of the engine's `TrendStore`."""
    clocks: memoryview[float]
    """The engine's array of every stream's `last_ts` (the one truth of it)."""
    deciding: bool = False
    """A bank check's condition is active or pending: every score must reach its decision."""

    @property
    def last_ts(self) -> float:
        """The source time of the stream's last accepted reading (-inf: none yet)."""
        ts: float = self.clocks[self.index]
        return ts

    @last_ts.setter
    def last_ts(self, ts: float) -> None:
        self.clocks[self.index] = ts


@dataclass
class _EquipmentCheck:
    detector: EquipmentDetector
    """Outside the relations bank, the detector; in it, as configured (or last synchronised)."""
    decision: Debounce
    bank: int = -1
    """Which of the engine's row banks (`ROW_BANKS`) holds its state, or -1 (an object)."""
    member: int = -1
    """Its place in that bank."""
    signals: tuple[str, ...] = ()
    """In a row bank, the detector's signals: the order of a row's values in the bank."""


@dataclass(slots=True)
class _PendingRow:
    """A row of an equipment whose relations are judged in the bank, at the end of the batch."""

    unit: _Unit
    check: _EquipmentCheck
    values: list[float]
    ts: float
    learn: bool
    row: dict[str, float]
    slot: int
    """Where the score of the reading that completed the row goes in `scores`, or -1."""


@dataclass(frozen=True)
class _RowLayout:
    """How one row bank's rows are gathered from complete runs (`Engine._complete_rows`): per
    unit (by its place in `Engine._unit_list`), its check in the bank (or None), and that check's
    signals as positions among its equipment's signals (padded to the widest)."""

    checks: list[_EquipmentCheck | None]
    columns: IntArray
    width: IntArray
    """Signals of each unit's check (0: none)."""


@dataclass
class _Unit:
    """One equipment's row under construction and the detectors that score its rows."""

    equipment: Equipment
    checks: list[_EquipmentCheck]
    row: dict[str, float] = field(default_factory=dict)
    row_ts: float = -math.inf
    reported: set[str] = field(default_factory=set)
    """Signals that reported at `row_ts`."""
    row_good: bool = True
    """Every reading of the row was of good quality (the row may be learned)."""


@dataclass(frozen=True)
class _Columns:
    """A batch as columns: each reading's stream (its index, -1 if the plant has none), source
    time, value, and whether its quality is BAD, and GOOD (learned)."""

    stream: IntArray
    ts: FloatArray
    value: FloatArray
    bad: BoolArray
    good: BoolArray

    def take(self, mask: BoolArray) -> _Columns:
        return _Columns(
            self.stream[mask], self.ts[mask], self.value[mask], self.bad[mask], self.good[mask]
        )


@dataclass(frozen=True)
class _StreamOrder:
    """Where each reading of a batch stands among its stream's readings."""

    sorted: IntArray
    """The readings' positions ordered by stream (in batch order within one)."""
    streams: IntArray
    """The stream of each reading in that order."""
    first: BoolArray
    """In that order, which reading is its stream's first in the batch."""
    rank: IntArray
    """In batch order, each reading's place among its stream's readings (0, 1, ...)."""
    last: BoolArray
    """In batch order, which reading is its stream's last in the batch."""

    @classmethod
    def of(cls, streams: IntArray) -> _StreamOrder:
        size = streams.size
        order = np.argsort(streams, kind="stable")
        ordered = streams[order]
        first = np.ones(size, dtype=np.bool_)
        first[1:] = ordered[1:] != ordered[:-1]
        starts = np.flatnonzero(first)
        rank = np.empty(size, dtype=np.intp)
        rank[order] = np.arange(size) - np.repeat(starts, np.diff(np.append(starts, size)))
        last = np.zeros(size, dtype=np.bool_)
        last[order[np.append(starts[1:], size) - 1] if size else order] = True
        return cls(order, ordered, first, rank, last)


@dataclass
class EngineStats:
    readings: int = 0
    findings: int = 0
    unknown_stream: int = 0
    out_of_order: int = 0
    clock_went_back: int = 0
    """Readings older than their stream's last one by more than the clock tolerance (rejected;
    see `Engine.take_clock_rejects`)."""
    clock_reanchored: int = 0
    """Streams that went on from a device's earlier clock after a sustained jump back."""
    bad_quality: int = 0
    not_finite: int = 0


class Engine:
    """Scores every reading before learning from it, and reports condition episodes as findings.

    `detectors` names the ensemble every equipment gets when the plant file names none
    (default: `registry.DEFAULT`). With `vectorised` false, every batch takes the reference path
    (reading by reading), which the vectorised one must match exactly.
    """

    def __init__(
        self, plant: Plant, detectors: Sequence[str] | None = None, *, vectorised: bool = True
    ) -> None:
        self.plant = plant
        self.stats = EngineStats()
        self.vectorised = vectorised
        default = tuple(DetectorConfig(name) for name in (detectors or DEFAULT))
        streams = sum(len(equipment.signals) for equipment in plant)
        self._evidence = EvidenceRings(streams)
        self._trends = TrendStore(streams)
        self._last_ts = np.full(streams, -math.inf)
        """Each stream's `last_ts`."""
        self._heard = np.full(streams, -math.inf)
        """Each stream's newest accepted reading, for judging silence (unlike `last_ts`, it does
        not go back when a stream is re-anchored on an earlier clock)."""
        clocks = cast("memoryview[float]", self._last_ts.data)
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._units: dict[str, _Unit] = {}
        banked: list[dict[str, Detector]] = []
        first_streams: list[int] = []
        for equipment in plant:
            try:
                unit = _unit(equipment, equipment.detectors or default)
            except DetectorError as exc:
                raise DetectorConfigError(
                    f"{plant.source}: equipment {equipment.id}: {exc}"
                ) from exc
            self._units[equipment.id] = unit
            first_streams.append(len(banked))
            for signal in equipment.signals.values():
                configs = signal.detectors or equipment.detectors or default
                try:
                    detectors_of_signal = _signal_detectors(signal, configs)
                except DetectorError as exc:
                    raise DetectorConfigError(
                        f"{plant.source}: equipment {equipment.id}, signal {signal.name}: {exc}"
                    ) from exc
                in_bank = {d.name: d for d in detectors_of_signal if d.name in BANKED}
                index = len(banked)
                stream = _Stream(
                    index=index,
                    equipment_id=equipment.id,
                    signal=signal,
                    checks=[
                        _Check(d, _decision_for(d))
                        for d in detectors_of_signal
                        if d.name not in BANKED
                    ],
                    bank_checks=[_BankCheck(-1, d, _decision_for(d)) for d in in_bank.values()],
                    unit=unit,
                    evidence=self._evidence.window(index),
                    history=self._trends.history(index),
                    clocks=clocks,
                )
                banked.append(in_bank)
                self._streams[(equipment.id, signal.name)] = stream
        # Only the detectors some stream has: each costs a pass over every batch.
        names = tuple(name for name in BANKED if any(name in b for b in banked))
        for stream in self._streams.values():
            for bank_check in stream.bank_checks:
                bank_check.column = names.index(bank_check.prototype.name)
        self._bank = UnivariateBank(names)
        self._bank.add_streams(banked)
        self._by_index = list(self._streams.values())
        self._index = {key: stream.index for key, stream in self._streams.items()}
        """Each stream's index by (equipment, signal): how a batch's columns name streams."""
        regimes = {
            equipment.id: self._index.get((equipment.id, regime_signal_of(equipment) or ""), -1)
            for equipment in plant
        }
        self._regime_of = np.array(
            [regimes[s.equipment_id] for s in self._by_index], dtype=np.intp
        ).reshape(streams)
        """Each stream's equipment's regime signal's stream (-1: none): its trend tells when the
        equipment runs (`_trend`)."""
        self._keys = plant.streams
        """The plant's table of streams, which numbers them as this engine does."""
        if list(self._keys) != list(self._index):
            raise DetectorError(f"{plant.source}: the plant numbers its streams differently")
        self._resolved: tuple[Sequence[StreamKey], IntArray] | None = None
        """The last other table of streams a batch came with, and its streams' numbers here."""
        self._unit_list = list(self._units.values())
        unit_numbers = {id(unit): k for k, unit in enumerate(self._unit_list)}
        self._unit_of = np.array(
            [
                unit_numbers[id(stream.unit)] if stream.unit.checks else -1
                for stream in self._by_index
            ],
            dtype=np.intp,
        ).reshape(streams)
        """Each stream's unit (its place in `_unit_list`), or -1 if no equipment check has it."""
        self._first_stream = np.array(first_streams, dtype=np.intp).reshape(len(self._unit_list))
        """Each unit's first stream: its streams follow in the order of its signals."""
        self._signal_count = np.array(
            [len(u.equipment.signals) for u in self._unit_list], dtype=np.intp
        )
        self._row_layouts: list[_RowLayout] | None = None
        """Per row bank, for gathering rows by columns (None: a unit has two checks in a bank)."""
        self._objects = np.array([bool(s.checks) for s in self._by_index], dtype=np.bool_)
        """Streams with detectors outside the bank, judged reading by reading."""
        self._plain = np.zeros(streams, dtype=np.bool_)
        """Streams the vectorised path may take (see `_refresh_plain`)."""
        self._row_banks: list[RowBank[EquipmentDetector]] = []
        self._rebuild_row_banks()
        self._pending: list[_PendingRow] = []
        self._on = np.array([REGISTRY[name].on_threshold for name in names])
        self._watch_silence = [
            (stream, check)
            for stream in self._streams.values()
            for check in stream.checks
            if type(check.detector).score_silence is not Detector.score_silence
        ]
        """Detectors of missing data outside the bank (the bank judges its own, `stale`)."""
        self._deciding: set[int] = set()
        """Streams whose `deciding` is set."""
        self._clock = -math.inf
        self._clocks = ClockWatch()
        self._clock_rejects: list[tuple[Reading, float]] = []
        self._silence_checked = -math.inf
        self._resuming = False
        """Restored from a snapshot and no reading since."""
        self._resumed_at = -math.inf
        """Source time of the first reading after a restore: silence before it is the time the
        service was down (and the readings it lost), not the sensors'."""

    def process(
        self, batch: Iterable[Reading], scores: list[float] | None = None, *, train: bool = False
    ) -> list[Finding]:
        """Score, learn and decide on `batch`, in order; returns the findings it gave rise to.

        With `scores`, one score per reading is appended to it: the highest of its signal's
        detectors and, for the reading that completes an equipment row, of the equipment's (0.0
        for a rejected reading), each on the common scale where a detector's own `on_threshold`
        is 0.5 (`common_score`), leaving out each detector whose condition was already active
        before the reading: an episode scores at its start, as its alarm is raised there, and its
        persistence does not rank as new evidence. With `train`, detectors only learn: nothing is
        scored or decided.

        Without `scores` and `train`, the batch goes by columns (`process_columns`).
        """
        readings = batch if isinstance(batch, list) else list(batch)
        if scores is not None or train or not self.vectorised:
            findings = self._process_readings(readings, scores, train)
            if train:
                self._refresh_plain()  # a baseline learned may have woken an idle detector
            return findings
        size = len(readings)
        columns = _Columns(
            np.fromiter(
                map(self._index.get, map(_STREAM_KEY, readings), repeat(-1)), np.intp, size
            ),
            np.fromiter(map(_TS, readings), np.float64, size),
            np.fromiter(map(_VALUE, readings), np.float64, size),
            np.fromiter(
                map(operator.is_, map(_QUALITY, readings), repeat(Quality.BAD)), bool, size
            ),
            np.fromiter(
                map(operator.is_, map(_QUALITY, readings), repeat(Quality.GOOD)), bool, size
            ),
        )
        return self._process_columns(columns, lambda: readings)

    def process_columns(self, batch: ReadingColumns) -> list[Finding]:
        """`process` of a batch that came as columns (what the sources hand out): no `Reading`
        is built unless the batch takes the reference path. Its streams are numbered by the
        plant's table (`Plant.streams`) or by any other, resolved here once per table."""
        qualities = batch.quality
        columns = _Columns(
            self._numbers(batch.keys)[batch.stream]
            if batch.keys is not self._keys
            else batch.stream,
            batch.ts,
            batch.value,
            qualities == _BAD_CODE,
            qualities == _GOOD_CODE,
        )
        return self._process_columns(columns, lambda: list(batch))

    def _numbers(self, keys: Sequence[StreamKey]) -> IntArray:
        """Each stream of the table `keys`, as this engine numbers them (-1: none)."""
        cached = self._resolved
        if cached is None or cached[0] is not keys:
            index = self._index
            numbers = np.array([index.get(key, -1) for key in keys], dtype=np.intp)
            cached = self._resolved = (keys, numbers)
        return cached[1]

    def _process_columns(
        self, batch: _Columns, readings: Callable[[], list[Reading]]
    ) -> list[Finding]:
        """The vectorised path, or the reference path (`_process_readings`) for a batch it does
        not take: see `_vectorisable`."""
        known = batch.stream >= 0
        finite = np.isfinite(batch.value) & np.isfinite(batch.ts)
        taken = known & finite & ~batch.bad
        accepted = batch if taken.all() else batch.take(taken)
        order = _StreamOrder.of(accepted.stream)
        if not self._vectorisable(accepted, order):
            return self._process_readings(readings(), None, False)
        stats = self.stats
        stats.unknown_stream += int(np.count_nonzero(~known))
        stats.not_finite += int(np.count_nonzero(known & ~finite))
        stats.bad_quality += int(np.count_nonzero(known & finite & batch.bad))
        findings: list[Finding] = []
        if accepted.stream.size:
            self._accept_columns(accepted, order, findings)
        if self._clock - self._silence_checked >= SILENCE_CHECK_INTERVAL:
            self._check_silence(findings)
        stats.findings += len(findings)
        return self._from_other_signals(findings)

    def _vectorisable(self, batch: _Columns, order: _StreamOrder) -> bool:
        """Whether the accepted readings of a batch may go by columns: every stream's readings
        later than its last one and than each other (the clock judge has sequential semantics,
        left to the reference path), and no equipment detector outside the row banks on their
        way."""
        if not self._plain[batch.stream].all():
            return False
        ts = batch.ts[order.sorted]
        previous = np.where(order.first, self._last_ts[order.streams], np.roll(ts, 1))
        return bool((ts > previous).all())

    def _accept_columns(
        self, batch: _Columns, order: _StreamOrder, findings: list[Finding]
    ) -> None:
        """`_accept` of every reading of `batch`, vectorised: the bank scores them all; a stream
        with a hot score or a decision under way goes reading by reading (its findings carry its
        evidence and forecast up to their reading), the others' evidence and history at once;
        then the equipment rows."""
        self.stats.readings += batch.stream.size
        if self._resuming:
            self._resuming = False
            self._resumed_at = float(batch.ts[0])
        self._clock = max(self._clock, float(batch.ts.max()))
        last = order.last
        self._last_ts[batch.stream[last]] = batch.ts[last]
        banked = self._bank.process(batch.stream, batch.value, batch.ts, batch.good)
        np.maximum.at(self._heard, batch.stream, batch.ts)
        hot = np.any(banked >= self._on, axis=1)
        deciding = np.isin(
            batch.stream, self._in_order(batch.stream[hot | self._objects[batch.stream]])
        )
        if deciding.any():
            self._decide_in_order(batch, np.flatnonzero(deciding), hot, banked, findings)
            rest = ~deciding
            streams, ts, values = batch.stream[rest], batch.ts[rest], batch.value[rest]
            self._evidence.append(streams, ts, values, order.rank[rest], last[rest])
        else:
            streams, ts, values = batch.stream, batch.ts, batch.value
            self._evidence.append(streams, ts, values, order.rank, last)
        self._trends.add(streams, ts, values)
        self._fill_rows(batch, findings)

    def _in_order(self, hot: IntArray) -> IntArray:
        """The streams whose readings of a batch go in order: those with a decision under way or
        a hot score, and their equipment's regime streams, whose trend a finding's forecast reads
        as it stood at the finding's reading (`_trend`)."""
        if not self._deciding and not hot.size:
            return hot
        streams = np.union1d(np.fromiter(self._deciding, np.intp, len(self._deciding)), hot)
        regimes = self._regime_of[streams]
        return np.union1d(streams, regimes[regimes >= 0])

    def _decide_in_order(
        self,
        batch: _Columns,
        positions: IntArray,
        hot: BoolArray,
        banked: FloatArray,
        findings: list[Finding],
    ) -> None:
        """Evidence, history, banked decisions and the detectors outside the bank (`_check`) of
        the readings at `positions`, in order."""
        by_index = self._by_index
        for k, index, ts, value, is_hot, learn in zip(
            positions.tolist(),
            batch.stream[positions].tolist(),
            batch.ts[positions].tolist(),
            batch.value[positions].tolist(),
            hot[positions].tolist(),
            batch.good[positions].tolist(),
            strict=True,
        ):
            stream = by_index[index]
            stream.evidence.append(ts, value)
            stream.history.add(ts, value)
            if is_hot or stream.deciding:
                self._decide_banked(stream, value, ts, banked[k], findings)
            for check in stream.checks:
                self._check(stream, check, value, ts, learn, False, findings)

    def _fill_rows(self, batch: _Columns, findings: list[Finding]) -> None:
        """The equipment rows of the batch's readings, as `_accept` builds them reading by
        reading, but a run of one equipment's readings at one time at once; then judged.

        Within such a run a signal reports at most once (its stream's readings are strictly
        later than each other), so the row can only be complete at the run's end and closes only
        at its start or end; the rows go to the row banks in the order of the readings that
        closed them. Commonly every run is a whole row and each unit's last row is closed: then
        the rows are gathered by columns (`_complete_rows`)."""
        unit_of = self._unit_of[batch.stream]
        rowed = np.flatnonzero(unit_of >= 0)
        if not rowed.size:
            return
        positions = rowed[np.argsort(unit_of[rowed], kind="stable")]
        units, ts = unit_of[positions], batch.ts[positions]
        first = np.ones(positions.size, dtype=np.bool_)
        first[1:] = (units[1:] != units[:-1]) | (ts[1:] != ts[:-1])
        starts = np.flatnonzero(first)
        run_units = units[starts]
        whole = np.diff(np.append(starts, positions.size)) == self._signal_count[run_units]
        if (
            self._row_layouts is not None
            and whole.all()
            and all(map(self._whole, np.unique(run_units).tolist()))
        ):
            self._complete_rows(batch, positions, starts, run_units, findings)
            return
        self._rows_by_run(batch, positions, starts)
        self._judge_rows(False, findings, None)

    def _whole(self, unit_number: int) -> bool:
        """Whether a unit's row has every signal and nothing reported since it was closed (its
        next run, if whole, is a row of its own; the row's signals keep their order)."""
        unit = self._unit_list[unit_number]
        return not unit.reported and len(unit.row) == len(unit.equipment.signals)

    def _rows_by_run(self, batch: _Columns, positions: IntArray, starts: IntArray) -> None:
        """`_fill_rows` run by run, into `_pending`: `positions` are the batch's readings of
        units with checks ordered by unit, `starts` where each run begins among them."""
        positions_l = positions.tolist()
        units_l = self._unit_of[batch.stream[positions]].tolist()
        ts_l = batch.ts[positions].tolist()
        names = [self._by_index[i].signal.name for i in batch.stream[positions].tolist()]
        values = batch.value[positions].tolist()
        good = batch.good[positions].tolist()
        closed: list[tuple[int, int, list[_PendingRow]]] = []
        bounds = starts.tolist()
        for a, b in zip(bounds, [*bounds[1:], len(positions_l)], strict=True):
            unit, run_ts = self._unit_list[units_l[a]], ts_l[a]
            if run_ts > unit.row_ts and unit.reported:
                closed.append((positions_l[a], 0, self._take_row(unit, -1)))
            unit.row_ts = run_ts
            unit.row.update(zip(names[a:b], values[a:b], strict=True))
            unit.reported.update(names[a:b])
            unit.row_good = unit.row_good and all(good[a:b])
            if len(unit.reported) == len(unit.equipment.signals):
                closed.append((positions_l[b - 1], 1, self._take_row(unit, -1)))
        closed.sort(key=lambda c: (c[0], c[1]))
        for _, _, rows in closed:
            self._pending.extend(rows)

    def _complete_rows(
        self,
        batch: _Columns,
        positions: IntArray,
        starts: IntArray,
        run_units: IntArray,
        findings: list[Finding],
    ) -> None:
        """`_fill_rows` when every run is a whole row and each unit's last row closed: each run
        closes at its last reading with its values only (`row_good` stays true). The rows of each
        bank are gathered by columns, scored and learned, and decided on (a `_PendingRow` built)
        only where a score is high or a decision under way; each unit's row is left as its last
        run."""
        assert self._row_layouts is not None
        streams = batch.stream[positions]
        run = np.repeat(np.arange(starts.size), np.diff(np.append(starts, positions.size)))
        full = np.zeros((starts.size, int(self._signal_count.max())))
        full[run, streams - self._first_stream[run_units[run]]] = batch.value[positions]
        closing = positions[np.append(starts[1:], positions.size) - 1]
        ts = batch.ts[closing]
        learn = np.logical_and.reduceat(batch.good[positions], starts)
        by_closing = np.argsort(closing, kind="stable")
        self._leave_rows(run_units, full, ts)
        for bank, layout in enumerate(self._row_layouts):
            runs = by_closing[layout.width[run_units[by_closing]] > 0]
            if not runs.size:
                continue
            self._judge_complete(
                bank, layout, run_units[runs], full[runs], ts[runs], learn[runs], findings
            )

    def _leave_rows(self, run_units: IntArray, full: FloatArray, ts: FloatArray) -> None:
        """Each unit's row and time after its runs of a batch of whole rows: its last run's."""
        last = np.append(run_units[1:] != run_units[:-1], True)
        for k in np.flatnonzero(last).tolist():
            unit = self._unit_list[run_units[k]]
            signals = unit.equipment.signals
            unit.row.update(zip(signals, full[k, : len(signals)].tolist(), strict=True))
            unit.row_ts = float(ts[k])

    def _judge_complete(
        self,
        bank: int,
        layout: _RowLayout,
        units: IntArray,
        full: FloatArray,
        ts: FloatArray,
        learn: BoolArray,
        findings: list[Finding],
    ) -> None:
        """Score, learn and decide on one bank's whole rows (in closing order), as `_judge_rows`."""
        columns = layout.columns[units]
        values = np.take_along_axis(full, columns, axis=1).tolist()
        widths = layout.width[units]
        if (widths != columns.shape[1]).any():  # narrower than the bank's widest check
            values = [row[:k] for row, k in zip(values, widths.tolist(), strict=True)]
        checks = [layout.checks[u] for u in units.tolist()]
        ts_l, learn_l, units_l = ts.tolist(), learn.tolist(), units.tolist()

        def decide(positions: list[int], got: list[float]) -> None:
            for i, score in zip(positions, got, strict=True):
                check = checks[i]
                assert check is not None
                decision = check.decision
                if score < decision.on and not decision.active and decision.since is None:
                    continue  # `decision.update` would change nothing
                unit = self._unit_list[units_l[i]]
                signals = unit.equipment.signals
                row = dict(zip(signals, full[i, : len(signals)].tolist(), strict=True))
                pending = _PendingRow(
                    unit, check, values[i], ts_l[i], learn_l[i], {k: row[k] for k in unit.row}, -1
                )
                self._decide_row(pending, score, findings, None)

        self._row_banks[bank].process(
            [cast(_EquipmentCheck, c).member for c in checks], values, learn_l, on_scored=decide
        )

    def _process_readings(
        self, readings: list[Reading], scores: list[float] | None, train: bool
    ) -> list[Finding]:
        """The reference path: `process`, reading by reading."""
        findings: list[Finding] = []
        stats = self.stats
        accepted: list[tuple[_Stream, float, float, bool]] = []
        slots: list[int] = []
        """Where each accepted reading's score goes in `scores`."""
        first_slot = len(scores) if scores is not None else 0
        for position, reading in enumerate(readings):
            stream = self._streams.get((reading.equipment_id, reading.signal))
            value, ts = reading.value, reading.ts
            if stream is None:
                stats.unknown_stream += 1
            elif not (math.isfinite(value) and math.isfinite(ts)):
                stats.not_finite += 1
            elif reading.quality is Quality.BAD:
                stats.bad_quality += 1
            elif ts <= stream.last_ts:
                verdict = self._clocks.judge(stream.index, stream.last_ts, ts)
                if verdict is ClockVerdict.OUT_OF_ORDER:
                    stats.out_of_order += 1
                elif verdict is ClockVerdict.CLOCK_WENT_BACK:
                    stats.clock_went_back += 1
                    if len(self._clock_rejects) < MAX_CLOCK_REJECTS:
                        self._clock_rejects.append((reading, stream.last_ts))
                else:
                    stats.clock_reanchored += 1
                    stream.last_ts = ts
                    accepted.append((stream, value, ts, reading.quality is Quality.GOOD))
                    slots.append(first_slot + position)
            else:
                stream.last_ts = ts
                accepted.append((stream, value, ts, reading.quality is Quality.GOOD))
                slots.append(first_slot + position)
            if scores is not None:
                scores.append(0.0)
        if accepted and self._resuming:
            self._resuming = False
            self._resumed_at = accepted[0][2]
        if accepted:
            indices = np.fromiter((a[0].index for a in accepted), np.intp, len(accepted))
            times = np.fromiter((a[2] for a in accepted), np.float64, len(accepted))
            banked = self._bank.process(
                indices,
                np.fromiter((a[1] for a in accepted), np.float64, len(accepted)),
                times,
                np.fromiter((a[3] for a in accepted), np.bool_, len(accepted)),
            )
            np.maximum.at(self._heard, indices, times)
            hot: list[bool] = np.any(banked >= self._on, axis=1).tolist()
            tops: list[float] = np.max(banked, axis=1, initial=0.0).tolist()
            for k, (stream, value, ts, learn) in enumerate(accepted):
                deciding = not train and (hot[k] or stream.deciding)
                slot = slots[k] if scores is not None and not train else -1
                top = self._accept(
                    stream, value, ts, learn, banked[k] if deciding else None, train, findings, slot
                )
                if slot >= 0 and scores is not None:
                    # Deciding, `top` has the bank's scores of inactive conditions; otherwise none
                    # is active and the bank's highest counts.
                    scores[slot] = top if deciding else max(top, tops[k])
            self._judge_rows(train, findings, scores)
        if not train and self._clock - self._silence_checked >= SILENCE_CHECK_INTERVAL:
            self._check_silence(findings)
        stats.findings += len(findings)
        return self._from_other_signals(findings)

    def _accept(
        self,
        stream: _Stream,
        value: float,
        ts: float,
        learn: bool,
        banked: FloatArray | None,
        train: bool,
        findings: list[Finding],
        slot: int,
    ) -> float:
        """Evidence, the banked detectors' decisions (`banked`: this reading's bank scores, when
        one is high or a condition is active or pending), the other detectors, the equipment row.

        Returns the highest score of the detectors whose condition was not active before this
        reading: outside the bank, of the equipment row and, with `banked`, in the bank.
        """
        stream.evidence.append(ts, value)
        stream.history.add(ts, value)
        self.stats.readings += 1
        if ts > self._clock:
            self._clock = ts
        top = 0.0
        if banked is not None:
            top = self._decide_banked(stream, value, ts, banked, findings)
        for check in stream.checks:
            top = max(top, self._check(stream, check, value, ts, learn, train, findings))
        unit = stream.unit
        if unit.checks:
            if ts > unit.row_ts and unit.reported:
                top = max(top, self._close_row(unit, train, findings, slot))
            unit.row_ts = ts
            unit.row[stream.signal.name] = value
            unit.reported.add(stream.signal.name)
            unit.row_good = unit.row_good and learn
            if len(unit.reported) == len(unit.equipment.signals):
                top = max(top, self._close_row(unit, train, findings, slot))
        return top

    def _check(
        self,
        stream: _Stream,
        check: _Check,
        value: float,
        ts: float,
        learn: bool,
        train: bool,
        findings: list[Finding],
    ) -> float:
        """One reading through one of the stream's detectors outside the bank: scored and
        decided (unless training), then learned (a GOOD reading). Returns its common score if
        its condition was not active before, else 0."""
        detector = check.detector
        top = 0.0
        if not train:
            score = detector.score_one(value, ts)
            if not check.decision.active:
                top = common_score(score, detector.on_threshold)
            severity = detector.severity(score)
            transition = check.decision.update(score, ts, int(severity))
            if transition is not None:
                findings.append(
                    self._signal_finding(
                        stream, detector, check.decision, transition, value, ts, score, severity
                    )
                )
        if learn:
            detector.learn_one(value, ts)
        return top

    def _decide_banked(
        self, stream: _Stream, value: float, ts: float, banked: FloatArray, findings: list[Finding]
    ) -> float:
        """The decisions of the stream's banked detectors on one reading's bank scores; returns
        the highest score of those whose condition was not active before."""
        top = 0.0
        deciding = False
        for bank_check in stream.bank_checks:
            score = float(banked[bank_check.column])
            decision = bank_check.decision
            if not decision.active:
                top = max(top, score)
            severity = bank_check.prototype.severity(score)
            transition = decision.update(score, ts, int(severity))
            if transition is not None:
                findings.append(
                    self._signal_finding(
                        stream,
                        self._banked(stream, bank_check),
                        decision,
                        transition,
                        value,
                        ts,
                        score,
                        severity,
                    )
                )
            deciding = deciding or decision.under_way
        self._set_deciding(stream, deciding)
        return top

    def _close_row(self, unit: _Unit, train: bool, findings: list[Finding], slot: int) -> float:
        """Score and learn the equipment's row at `unit.row_ts` (its relations, at the end of the
        batch for the detectors in a row bank: `_judge_rows`); start the next one."""
        ts, row, learn = unit.row_ts, unit.row, unit.row_good
        self._pending.extend(self._take_row(unit, slot))
        if len(row) < len(unit.equipment.signals):
            return 0.0
        top = 0.0
        for check in unit.checks:
            detector = check.detector
            if check.bank >= 0 or (not train and detector.idle()):
                continue
            if not train:
                score = detector.score_one(row, ts)
                if not check.decision.active:
                    top = max(top, common_score(score, detector.on_threshold))
                severity = detector.severity(score)
                transition = check.decision.update(score, ts, int(severity))
                if transition is not None:
                    findings.append(
                        self._row_finding(unit, check, transition, ts, score, severity, row)
                    )
            if train and learn:
                detector.learn_baseline(row, ts)
            elif learn:
                detector.learn_one(row, ts)
        return top

    def _take_row(self, unit: _Unit, slot: int) -> list[_PendingRow]:
        """Start the equipment's next row; the row at `unit.row_ts` for each of its row banks'
        detectors (none while some signal has never reported: no complete row yet)."""
        ts, row, learn = unit.row_ts, unit.row, unit.row_good
        unit.reported.clear()
        unit.row_good = True
        if len(row) < len(unit.equipment.signals):
            return []
        return [
            _PendingRow(
                unit,
                check,
                [row[s] for s in check.signals],
                ts,
                learn,
                dict(row),
                slot,
            )
            for check in unit.checks
            if check.bank >= 0
        ]

    def _judge_rows(self, train: bool, findings: list[Finding], scores: list[float] | None) -> None:
        """Score and learn the batch's pending rows in their row banks, deciding on each row's
        score before it is learned (so a finding is explained by the state that scored it)."""
        pending, self._pending = self._pending, []
        by_bank: dict[int, list[_PendingRow]] = {}
        for row in pending:
            by_bank.setdefault(row.check.bank, []).append(row)
        for bank, rows in by_bank.items():

            def decide(
                positions: list[int], got: list[float], rows: list[_PendingRow] = rows
            ) -> None:
                for i, score in zip(positions, got, strict=True):
                    self._decide_row(rows[i], score, findings, scores)

            self._row_banks[bank].process(
                [row.check.member for row in rows],
                [row.values for row in rows],
                [row.learn for row in rows],
                score=not train,
                on_scored=None if train else decide,
            )

    def _decide_row(
        self, row: _PendingRow, score: float, findings: list[Finding], scores: list[float] | None
    ) -> None:
        decision, prototype = row.check.decision, row.check.detector
        if scores is not None and row.slot >= 0 and not decision.active:
            scores[row.slot] = max(scores[row.slot], common_score(score, prototype.on_threshold))
        severity = prototype.severity(score)
        transition = decision.update(score, row.ts, int(severity))
        if transition is not None:
            findings.append(
                self._row_finding(row.unit, row.check, transition, row.ts, score, severity, row.row)
            )

    def _row_detector(self, check: _EquipmentCheck) -> EquipmentDetector:
        """The equipment check's detector with its learned state."""
        if check.bank < 0:
            return check.detector
        return self._row_banks[check.bank].detector(check.member)

    def _sync_row_banks(self) -> None:
        """Each banked check's `detector` becomes its learned object form."""
        for unit in self._units.values():
            for check in unit.checks:
                check.detector = self._row_detector(check)

    def _rebuild_row_banks(self) -> None:
        """The row banks from the checks' `detector`s: each takes the detectors of its type
        that it accepts (a shift detector once fitted); the others stay objects."""
        checks = [check for unit in self._units.values() for check in unit.checks]
        self._row_banks = []
        for check in checks:
            check.bank = check.member = -1
        for bank, kind in enumerate(ROW_BANKS):
            members = [
                c
                for c in checks
                if type(c.detector) is kind.detector_type and kind.accepts(c.detector)
            ]
            for member, check in enumerate(members):
                check.bank, check.member = bank, member
                check.signals = cast(RelationsDetector | ShiftDetector, check.detector).signals
            self._row_banks.append(kind([c.detector for c in members]))
        self._row_layouts = self._layouts()
        self._refresh_plain()

    def _layouts(self) -> list[_RowLayout] | None:
        layouts = []
        for bank in range(len(self._row_banks)):
            checks: list[_EquipmentCheck | None] = []
            for unit in self._unit_list:
                in_bank = [c for c in unit.checks if c.bank == bank]
                if len(in_bank) > 1:
                    return None
                checks.append(in_bank[0] if in_bank else None)
            positions = [
                [list(unit.equipment.signals).index(s) for s in check.signals] if check else []
                for unit, check in zip(self._unit_list, checks, strict=True)
            ]
            widest = max(map(len, positions), default=0)
            columns = np.zeros((len(positions), widest), dtype=np.intp)
            for k, row in enumerate(positions):
                columns[k, : len(row)] = row
            width = np.array([len(row) for row in positions], dtype=np.intp)
            layouts.append(_RowLayout(checks, columns, width.reshape(len(positions))))
        return layouts

    def _refresh_plain(self) -> None:
        """Which streams the vectorised path may take: those of an equipment whose checks are
        all in row banks or idle (while not training, an idle detector is handed no row: see
        `EquipmentDetector.idle`). A stream's detectors outside the bank go reading by reading
        within that path (`_decide_in_order`)."""
        plain = [
            all(c.bank >= 0 or c.detector.idle() for c in unit.checks) for unit in self._unit_list
        ]
        units = np.array([*plain, True], dtype=np.bool_)  # [-1]: no equipment check
        self._plain = units[self._unit_of]

    def check_silence(self, elapsed: float) -> list[Finding]:
        """Judge silence while nothing arrives: `elapsed` seconds (wall clock) since the last
        batch, taken as that much source time past the newest reading (the source clock is not
        assumed to run faster than the wall while it sends nothing). The pipeline calls it on a
        timer, so that a source gone silent is noticed during the outage, not when it returns."""
        findings: list[Finding] = []
        if math.isfinite(self._clock) and elapsed > 0:
            self._check_silence(findings, self._clock + elapsed)
        self.stats.findings += len(findings)
        return findings

    def _check_silence(self, findings: list[Finding], now: float | None = None) -> None:
        now = self._clock if now is None else now
        self._silence_checked = now
        # A stream not heard since the restore is silent since then, not since the snapshot.
        at: float | np.ndarray[Any, np.dtype[np.float64]] = now
        if math.isfinite(self._resumed_at):
            unheard = self._resumed_at - self._heard
            at = np.where(unheard > 0.0, now - unheard, now)
        for stream, check in self._watch_silence:
            detector = check.detector
            unheard_s = self._resumed_at - stream.last_ts
            score = detector.score_silence(now - unheard_s if unheard_s > 0 else now)
            severity = detector.severity(score)
            transition = check.decision.update(score, now, int(severity))
            if transition is not None:
                findings.append(
                    self._silence_finding(
                        stream, detector, check.decision, transition, now, score, severity
                    )
                )
        for name, silence in self._bank.silence(at).items():
            column = self._bank.names.index(name)
            on = REGISTRY[name].on_threshold
            # A decision that is neither active nor pending stays so under a low score.
            judged = set(np.flatnonzero(silence >= on).tolist()) | self._deciding
            for index in sorted(judged):
                stream = self._by_index[index]
                banked = next((c for c in stream.bank_checks if c.column == column), None)
                if banked is None:
                    continue
                score = float(silence[index])
                decision = banked.decision
                severity = banked.prototype.severity(score)
                transition = decision.update(score, now, int(severity))
                if transition is not None:
                    findings.append(
                        self._silence_finding(
                            stream,
                            self._banked(stream, banked),
                            decision,
                            transition,
                            now,
                            score,
                            severity,
                        )
                    )
                if decision.under_way:
                    self._set_deciding(stream, True)

    def _silence_finding(
        self,
        stream: _Stream,
        detector: Detector,
        decision: Debounce,
        transition: Transition,
        now: float,
        score: float,
        severity: Severity,
    ) -> Finding:
        value = stream.evidence.last()[1] if stream.evidence else math.nan
        return self._signal_finding(
            stream, detector, decision, transition, value, now, score, severity
        )

    def _set_deciding(self, stream: _Stream, deciding: bool) -> None:
        stream.deciding = deciding
        if deciding:
            self._deciding.add(stream.index)
        else:
            self._deciding.discard(stream.index)

    def _signal_finding(
        self,
        stream: _Stream,
        detector: Detector,
        decision: Debounce,
        transition: Transition,
        value: float,
        ts: float,
        score: float,
        severity: Severity,
    ) -> Finding:
        signal = stream.signal
        active = transition is not Transition.CLEARED
        evidence = stream.evidence.points()
        prediction = self._time_to_limit(
            stream.unit.equipment, {signal.name: evidence}, detector.kind, active
        )
        return Finding(
            equipment_id=stream.equipment_id,
            signals=(signal.name,),
            kind=detector.kind,
            severity=_severity(decision, severity, active),
            score=score,
            ts=ts,
            detector=detector.name,
            summary=detector.describe(signal, value, score),
            active=active,
            time_to_limit=prediction.seconds if prediction else None,
            time_to_limit_range=(prediction.earliest, prediction.latest) if prediction else None,
            evidence={signal.name: evidence},
        )

    def _row_finding(
        self,
        unit: _Unit,
        check: _EquipmentCheck,
        transition: Transition,
        ts: float,
        score: float,
        severity: Severity,
        row: Mapping[str, float],
    ) -> Finding:
        detector, equipment = self._row_detector(check), unit.equipment
        active = transition is not Transition.CLEARED
        signals = detector.explain(row)
        evidence = {name: self._streams[(equipment.id, name)].evidence.points() for name in signals}
        soonest = self._time_to_limit(equipment, evidence, detector.kind, active)
        return Finding(
            equipment_id=equipment.id,
            signals=signals,
            kind=detector.kind,
            severity=_severity(check.decision, severity, active),
            score=score,
            ts=ts,
            detector=detector.name,
            summary=detector.describe(equipment, row, score),
            active=active,
            time_to_limit=soonest.seconds if soonest else None,
            time_to_limit_range=(soonest.earliest, soonest.latest) if soonest else None,
            evidence=evidence,
        )

    def _time_to_limit(
        self,
        equipment: Equipment,
        evidence: Mapping[str, Sequence[Point]],
        kind: FindingKind,
        active: bool,
    ) -> Forecast | None:
        """The soonest alarm-limit crossing forecast of the finding's signals (`evidence`'s); not
        asked of a broken sensor."""
        if not active or kind is FindingKind.SENSOR:
            return None
        return _soonest(
            self._forecast(self._streams[(equipment.id, name)], points)
            for name, points in evidence.items()
            if points and _has_alarm_limit(equipment.signals[name])
        )

    def _forecast(self, stream: _Stream, evidence: Sequence[Point]) -> Forecast | None:
        """When the signal will cross its alarm limit, from its long trend once it has one, else
        from the evidence window."""
        buckets = self._trend(stream)
        if len(buckets) >= MIN_BUCKETS:
            return forecast_trend(buckets, stream.signal.limits, evidence[-1][0])
        return forecast(evidence, stream.signal.limits)

    def _trend(self, stream: _Stream) -> list[Bucket]:
        """The stream's long trend: the buckets of its history taken while its equipment ran
        settled at its usual level when the equipment has a regime signal (`running_settled`),
        else all of them."""
        buckets = stream.history.buckets()
        regime = int(self._regime_of[stream.index])
        if regime < 0:
            return buckets
        history = self._by_index[regime].history
        return running_settled(buckets, history.buckets(), history.width)

    def _from_other_signals(self, findings: list[Finding]) -> list[Finding]:
        """Each active machine finding whose signals head to no alarm limit, told the soonest
        crossing of its equipment's other signals that have a long trend: the order is about the
        machine, and the signal that will cross first (a bearing's temperature) need not be one
        that looked unusual (its belt's slip). Judged on the trends at the batch's end, so both
        of `process`'s paths tell the same."""
        told = []
        for finding in findings:
            if (
                finding.active
                and not finding.is_notice
                and finding.time_to_limit is None
                and finding.kind in MACHINE_KINDS
                and (soonest := self._soonest_elsewhere(finding)) is not None
            ):
                finding = dataclasses.replace(
                    finding,
                    time_to_limit=soonest.seconds,
                    time_to_limit_range=(soonest.earliest, soonest.latest),
                )
            told.append(finding)
        return told

    def _soonest_elsewhere(self, finding: Finding) -> Forecast | None:
        """The soonest crossing forecast of the long trends of the finding's equipment's signals
        that it does not name."""
        equipment = self.plant.equipment[finding.equipment_id]
        others = (
            self._streams[(equipment.id, name)]
            for name in equipment.signals
            if name not in finding.signals
        )
        return _soonest(
            forecast_trend(self._trend(other), other.signal.limits, other.last_ts)
            for other in others
            if _has_alarm_limit(other.signal)
        )

    def end_warmup(self) -> None:
        """What every detector has learned so far is the healthy baseline: from the next reading
        on, each judges (see `Detector.end_warmup`)."""
        banked = []
        for stream in self._streams.values():
            for check in stream.checks:
                check.detector.end_warmup()
            objects = {c.prototype.name: self._banked(stream, c) for c in stream.bank_checks}
            for detector in objects.values():
                detector.end_warmup()
            banked.append(objects)
        self._sync_row_banks()
        for unit in self._units.values():
            for equipment_check in unit.checks:
                equipment_check.detector.end_warmup()
        self._rebuild_row_banks()
        self._bank = UnivariateBank(self._bank.names)
        self._bank.add_streams(banked)

    @property
    def nbytes(self) -> int:
        """Bytes of the detectors' vectorised state: the signals' bank and the row banks (not
        the evidence windows and trend histories every stream keeps for its findings)."""
        return self._bank.nbytes + sum(bank.nbytes for bank in self._row_banks)

    def take_clock_rejects(self) -> list[tuple[Reading, float]]:
        """The readings rejected because their stream's clock went back since the last call, each
        with the stream's last timestamp then (for the dead letters)."""
        rejects, self._clock_rejects = self._clock_rejects, []
        return rejects

    def snapshot(self) -> dict[str, Any]:
        """The whole learned state: JSON-compatible data, and for the bulk of it (the streams'
        evidence, trend histories, clocks, banked detectors and their decisions) numpy arrays
        over the streams in the order of `"streams"` (copies: the engine may go on meanwhile).
        `forewarn.snapshots` stores the arrays as raw little-endian bytes."""
        return {
            "version": SNAPSHOT_VERSION,
            "streams": [f"{eq}/{sig}" for eq, sig in self._streams],
            "last_ts": self._last_ts.copy(),
            "evidence": self._evidence.state(),
            "trend": self._trends.state(),
            "bank": self._bank.state(),
            "decisions": self._bank_decisions(),
            "checks": {
                f"{eq}/{sig}": [_check_snapshot(c.detector, c.decision) for c in stream.checks]
                for (eq, sig), stream in self._streams.items()
                if stream.checks
            },
            "equipment": {
                eq: {
                    "row": unit.row,
                    "checks": [
                        _check_snapshot(self._row_detector(c), c.decision) for c in unit.checks
                    ],
                }
                for eq, unit in self._units.items()
            },
        }

    def _bank_decisions(self) -> dict[str, FloatArray]:
        """The decisions of the banked checks: per detector of the bank, an array of streams x
        `DEBOUNCE_FIELDS` (`Debounce.row`; NaN where the detector does not apply)."""
        table = np.full((len(self._bank.names), len(self._by_index), len(DEBOUNCE_FIELDS)), np.nan)
        rows = [
            (check.column, stream.index, *check.decision.row())
            for stream in self._by_index
            for check in stream.bank_checks
        ]
        if rows:
            found = np.array(rows, dtype=np.float64)
            where = found[:, :2].astype(np.intp)
            table[where[:, 0], where[:, 1]] = found[:, 2:]
        return {name: table[k] for k, name in enumerate(self._bank.names)}

    def restore(self, snapshot: dict[str, Any]) -> int:
        """Resume from `snapshot()` (or from a snapshot of version 3, forewarn's JSON one);
        streams not in the plant are ignored, new ones start anew.

        Returns the number of signal streams restored.
        """
        version = snapshot.get("version")
        if version == 3:
            return self._restore_v3(snapshot)
        if version != SNAPSHOT_VERSION:
            raise SnapshotError(
                f"snapshot version {version!r} is neither {SNAPSHOT_VERSION} nor 3; "
                "delete the snapshot file to start learning afresh"
            )
        saved_of = np.full(len(self._by_index), -1, dtype=np.intp)
        for saved, key in enumerate(snapshot["streams"]):
            equipment_id, _, signal = key.rpartition("/")
            index = self._index.get((equipment_id, signal))
            if index is not None:
                saved_of[index] = saved
        _check_shapes(snapshot, len(snapshot["streams"]))
        picks = np.flatnonzero(saved_of >= 0)
        last_ts = np.asarray(snapshot["last_ts"], dtype=np.float64)[saved_of[picks]]
        self._last_ts[picks] = self._heard[picks] = last_ts
        self._clock = max(self._clock, float(last_ts.max(initial=-math.inf)))
        self._evidence.restore_state(snapshot["evidence"], saved_of)
        self._trends.restore_state(snapshot["trend"], saved_of)
        self._bank.restore_state(snapshot["bank"], saved_of)
        decisions = {
            name: np.asarray(table, dtype=np.float64)
            for name, table in snapshot["decisions"].items()
        }
        saved_checks = snapshot["checks"]
        for index in picks.tolist():
            stream, saved = self._by_index[index], int(saved_of[index])
            for check in stream.bank_checks:
                table = decisions.get(check.prototype.name)
                if table is not None and not math.isnan(table[saved, 0]):
                    check.decision = Debounce.from_row(table[saved].tolist())
            self._set_deciding(stream, any(c.decision.under_way for c in stream.bank_checks))
            key = f"{stream.equipment_id}/{stream.signal.name}"
            _restore_checks(stream.checks, saved_checks.get(key, ()))
        self._restore_equipment(snapshot["equipment"])
        self._resuming = picks.size > 0
        return int(picks.size)

    def _restore_equipment(self, saved_equipment: Mapping[str, Any]) -> None:
        self._sync_row_banks()
        for equipment_id, saved in saved_equipment.items():
            unit = self._units.get(equipment_id)
            if unit is None:
                continue
            _restore_checks(unit.checks, saved["checks"])
            unit.row = {k: v for k, v in saved["row"].items() if k in unit.equipment.signals}
        self._rebuild_row_banks()

    def _restore_v3(self, snapshot: dict[str, Any]) -> int:
        """Resume from a snapshot of version 3: every stream's state as JSON data."""
        restored = 0
        banked = [
            {c.prototype.name: self._banked(stream, c) for c in stream.bank_checks}
            for stream in self._streams.values()
        ]
        for key, saved in snapshot["streams"].items():
            equipment_id, _, signal = key.rpartition("/")
            stream = self._streams.get((equipment_id, signal))
            if stream is None:
                continue
            _restore_checks(stream.checks, saved["checks"])
            by_name = {entry["detector"]: entry for entry in saved["checks"]}
            for check in stream.bank_checks:
                entry = by_name.get(check.prototype.name)
                if entry is not None:
                    banked[stream.index][check.prototype.name] = type(check.prototype).restore(
                        entry["state"]
                    )
                    check.decision = Debounce(**entry["decision"])
            self._set_deciding(stream, any(c.decision.under_way for c in stream.bank_checks))
            stream.last_ts = saved["last_ts"] if saved["last_ts"] is not None else -math.inf
            self._heard[stream.index] = stream.last_ts
            stream.evidence.extend((t, v) for t, v in saved["evidence"])
            if "history" in saved:
                self._trends.restore(stream.index, saved["history"])
            self._clock = max(self._clock, stream.last_ts)
            restored += 1
        self._restore_equipment(snapshot["equipment"])
        self._bank = UnivariateBank(self._bank.names)
        self._bank.add_streams(banked)
        self._resuming = restored > 0
        return restored

    def _banked(self, stream: _Stream, check: _BankCheck) -> Detector:
        """The object form of a banked detector, with its learned state."""
        detector = self._bank.detector(stream.index, check.prototype.name)
        assert detector is not None, "a bank check exists only where its detector applies"
        return detector


def _signal_detectors(signal: Signal, configs: Sequence[DetectorConfig]) -> list[Detector]:
    detectors = []
    for config in configs:
        if is_equipment_detector(config.name):
            if signal.detectors is not None:
                build_for_signal(config, signal)  # raises: names the mistake
            continue
        detector = build_for_signal(config, signal)
        if detector is not None:
            detectors.append(detector)
    return detectors


def _unit(equipment: Equipment, configs: Sequence[DetectorConfig]) -> _Unit:
    checks = []
    for config in configs:
        if not is_equipment_detector(config.name):
            continue
        detector = build_for_equipment(config, equipment)
        if detector is not None:
            checks.append(_EquipmentCheck(detector, _decision_for(detector)))
    return _Unit(equipment, checks)


def _decision_for(detector: Detector | EquipmentDetector) -> Debounce:
    return Debounce(
        on=detector.on_threshold,
        off=detector.off_score(),
        on_delay=detector.on_delay,
        off_delay=detector.off_delay,
    )


def _check_snapshot(detector: Detector | EquipmentDetector, decision: Debounce) -> dict[str, Any]:
    return {
        "detector": detector.name,
        "state": detector.snapshot(),
        "decision": decision.snapshot(),
    }


def _restore_checks(
    checks: Sequence[_Check | _EquipmentCheck], saved: Sequence[Mapping[str, Any]]
) -> None:
    by_name = {entry["detector"]: entry for entry in saved}
    for check in checks:
        entry = by_name.get(check.detector.name)
        if entry is None:
            continue
        check.detector = type(check.detector).restore(entry["state"])
        check.decision = Debounce(**entry["decision"])


def _severity(decision: Debounce, severity: Severity, active: bool) -> Severity:
    return Severity(max(decision.level, int(severity))) if active else severity


def _has_alarm_limit(signal: Signal) -> bool:
    return signal.limits.alarm_high is not None or signal.limits.alarm_low is not None


def _soonest(forecasts: Iterable[Forecast | None]) -> Forecast | None:
    """The forecast that crosses first, of those there are."""
    return min(filter(None, forecasts), key=lambda f: f.seconds, default=None)


def _check_shapes(snapshot: Mapping[str, Any], streams: int) -> None:
    """A `SnapshotError` for a snapshot whose arrays do not fit its `streams` streams (one
    damaged, or not written by `Engine.snapshot`), before anything is restored from it."""

    def shape(array: Any) -> tuple[int, ...]:
        found: tuple[int, ...] = np.shape(array)
        return found

    evidence, trend = snapshot["evidence"], snapshot["trend"]
    per_stream = [
        ("last_ts", snapshot["last_ts"]),
        ("evidence count", evidence["count"]),
        *((f"trend {name}", trend[name]) for name in TREND_PER_STREAM),
        *(
            (f"{name} {field}", values)
            for name, column in snapshot["bank"]["columns"].items()
            for field, values in (("applies", column["applies"]), *column["fields"].items())
        ),
    ]
    wrong = [name for name, array in per_stream if shape(array) != (streams,)]
    wrong += [
        f"{name} decisions"
        for name, table in snapshot["decisions"].items()
        if shape(table) != (streams, len(DEBOUNCE_FIELDS))
    ]
    points = int(np.sum(evidence["count"])) if not wrong else -1
    if not wrong and (shape(evidence["ts"]) != (points,) or shape(evidence["value"]) != (points,)):
        wrong.append("evidence points")
    buckets = int(np.sum(trend["closed_count"])) if not wrong else -1
    if not wrong and shape(trend["closed"]) != (buckets, 4):
        wrong.append("trend buckets")
    if not wrong and (
        np.min(evidence["count"], initial=0) < 0 or np.min(trend["closed_count"], initial=0) < 0
    ):
        wrong.append("counts")
    if wrong:
        raise SnapshotError(
            f"the snapshot's {', '.join(wrong)} do not fit its {streams} streams (damaged?); "
            "delete the snapshot file to start learning afresh"
        )
