"""What the row banks share: equipment detectors of one kind, stacked by signal count.

A row bank (`detectors.relations_bank`, `detectors.shift_bank`) holds one equipment detector per
member. Members with the same number of signals form a group whose state is one array per field,
one row (or matrix) per member; a batch of rows of any members is processed in rounds, each
member at most once per round (as `detectors.bank` does for streams), and each round is scored,
handed to `on_scored` and only then learned, so that whoever decides on a score sees (through
`detector(member)`) the state that gave it, as with the object detector.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from detectors.bank import _rounds
from detectors.base import EquipmentDetector

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

D = TypeVar("D", bound=EquipmentDetector)
Scored = Callable[[FloatArray], None]
OnScored = Callable[[list[int], list[float]], None]
"""Called with the positions (in the lists given to `process`) of a round's rows and their
scores, after scoring and before learning them."""


class RowGroup(ABC, Generic[D]):
    """The members with `k` signals: `arrays` holds their state, one row per member."""

    def __init__(self, k: int, detectors: Sequence[D]) -> None:
        self.k = k
        self.prototypes = list(detectors)
        self.arrays: dict[str, FloatArray] = {}
        self.build(self.prototypes)

    @abstractmethod
    def build(self, detectors: Sequence[D]) -> None:
        """Fill `arrays` from the detectors' parameters and learned state."""

    @abstractmethod
    def detector(self, position: int) -> D:
        """The object form of one member, with its learned state."""

    @abstractmethod
    def step(
        self, p: IntArray, x: FloatArray, learn: BoolArray, score: bool, scored: Scored
    ) -> None:
        """One round: rows `x` of members `p` (each once); `scored` gets their scores (0.0 where
        not scored, and everywhere unless `score`) before the rows with `learn` are learned."""


class RowBank(ABC, Generic[D]):
    """Equipment detectors of one kind for many equipment, scored and learned in rounds.

    Members are numbered in the order given; `process` takes rows as each member's signals in its
    detector's `signals` order.
    """

    detector_type: ClassVar[type[EquipmentDetector]]
    group_type: ClassVar[type[RowGroup]]  # type: ignore[type-arg]

    @staticmethod
    def accepts(detector: EquipmentDetector) -> bool:
        """Whether the bank can hold `detector` (the engine keeps the others as objects)."""
        return True

    def __init__(self, detectors: Sequence[D]) -> None:
        self._where: list[tuple[int, int]] = []
        """Each member's group (by signal count) and position in it."""
        by_k: dict[int, list[D]] = {}
        for detector in detectors:
            if not self.accepts(detector):
                raise ValueError(f"a {type(self).__name__} cannot hold {detector!r}")
            k = len(detector.signals)  # type: ignore[attr-defined]
            members = by_k.setdefault(k, [])
            self._where.append((k, len(members)))
            members.append(detector)
        self._groups: dict[int, RowGroup[D]] = {
            k: self.group_type(k, members) for k, members in by_k.items()
        }

    def __len__(self) -> int:
        return len(self._where)

    @property
    def nbytes(self) -> int:
        """Bytes held by the bank's arrays."""
        return sum(a.nbytes for g in self._groups.values() for a in g.arrays.values())

    def detector(self, member: int) -> D:
        """The object form of one member, with its learned state."""
        k, position = self._where[member]
        return self._groups[k].detector(position)

    def process(
        self,
        members: Sequence[int],
        rows: Sequence[Sequence[float]],
        learn: Sequence[bool],
        score: bool = True,
        on_scored: OnScored | None = None,
    ) -> list[float]:
        """Score (unless not `score`) and then learn (where `learn`) each row; rows of one member
        in time order. Returns one score per row (0.0 where not scored)."""
        scores = [0.0] * len(members)
        by_k: dict[int, list[int]] = {}
        for i, member in enumerate(members):
            by_k.setdefault(self._where[member][0], []).append(i)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for k, positions in by_k.items():
                group = self._groups[k]
                at = np.array(positions, dtype=np.intp)
                p = np.array([self._where[members[i]][1] for i in positions], dtype=np.intp)
                x = np.array([rows[i] for i in positions], dtype=np.float64).reshape(-1, k)
                mask = np.array([learn[i] for i in positions], dtype=np.bool_)
                for sel in _rounds(p):
                    r = slice(None) if sel is None else sel
                    where = at[r].tolist()

                    def scored(got: FloatArray, where: list[int] = where) -> None:
                        values = got.tolist()
                        for i, s in zip(where, values, strict=True):
                            scores[i] = s
                        if on_scored is not None:
                            on_scored(where, values)

                    group.step(p[r], x[r], mask[r], score, scored)
        return scores
