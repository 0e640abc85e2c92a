"""Optional history: readings and findings to InfluxDB (line protocol over the v2 write API, plain
influxdb-client, so InfluxDB 2 / 3 and compatible servers take it unchanged).

Writes are batched; memory is bounded (`max_buffer` lines), and whatever cannot be written (the
server is unreachable, or the buffer is full) goes to spool files on local disk, which are drained,
oldest first, once the server answers again: nothing is lost while the disk lasts. Retries back off
from 1 s to `retry_max_delay`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from devices import Finding, Reading

log = logging.getLogger(__name__)


def _escape_tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _escape_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def reading_lines(readings: Iterable[Reading]) -> list[str]:
    """Line protocol of readings (measurement `readings`); a reading without a value is skipped."""
    return [
        f"readings,equipment={_escape_tag(r.equipment_id)},signal={_escape_tag(r.signal)},"
        f"quality={r.quality.value} value={r.value!r} {round(r.ts * 1e9)}"
        for r in readings
        if math.isfinite(r.value)
    ]


def finding_lines(findings: Iterable[Finding]) -> list[str]:
    """Line protocol of findings (measurement `findings`): score, active, time to limit, summary."""
    lines = []
    for f in findings:
        fields = [f"score={float(f.score)!r}", f"active={'true' if f.active else 'false'}"]
        if f.time_to_limit is not None and math.isfinite(f.time_to_limit):
            fields.append(f"time_to_limit={float(f.time_to_limit)!r}")
        fields.append(f'summary="{_escape_string(f.summary)}"')
        lines.append(
            f"findings,equipment={_escape_tag(f.equipment_id)},kind={f.kind.value},"
            f"severity={f.severity.label},detector={_escape_tag(f.detector)},"
            f"signals={_escape_tag('+'.join(f.signals) or '-')} {','.join(fields)} "
            f"{round(f.ts * 1e9)}"
        )
    return lines


class Historian:
    """A background writer; `write_*` never block on the network."""

    def __init__(
        self,
        url: str,
        *,
        token: str,
        org: str,
        bucket: str,
        spool_dir: Path,
        batch_size: int = 5_000,
        flush_interval: float = 1.0,
        max_buffer: int = 100_000,
        retry_max_delay: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.bucket = bucket
        self.org = org
        self.written = 0
        self.spooled = 0
        self.failures = 0
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout * 1000))
        self._write = self._client.write_api(write_options=SYNCHRONOUS)
        self._spool = spool_dir
        self._spool.mkdir(parents=True, exist_ok=True)
        self._buffer: deque[str] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._max_buffer = max_buffer
        self._retry_max_delay = retry_max_delay
        self._segment = 0
        self._thread = threading.Thread(target=self._run, name="historian", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is buffered (or spool it) and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        with self._lock:
            rest = list(self._buffer)
            self._buffer.clear()
        if rest:
            self._to_spool(rest)
        self._client.close()  # type: ignore[no-untyped-call]

    def write_readings(self, readings: Iterable[Reading]) -> None:
        self._add(reading_lines(readings))

    def write_findings(self, findings: Iterable[Finding]) -> None:
        self._add(finding_lines(findings))

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def spool_files(self) -> list[Path]:
        return sorted(self._spool.glob("*.lp"))

    def _add(self, lines: list[str]) -> None:
        if not lines:
            return
        overflow: list[str] = []
        with self._lock:
            self._buffer.extend(lines)
            while len(self._buffer) > self._max_buffer:
                overflow.append(self._buffer.popleft())
        if overflow:
            self._to_spool(overflow)
        if len(self._buffer) >= self._batch_size:
            self._wake.set()

    # ---- the writer thread ----

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            if self._flush():
                delay = 1.0
            else:
                self._stop.wait(delay)
                delay = min(delay * 2, self._retry_max_delay)

    def _flush(self) -> bool:
        """Spool first (oldest data), then the buffer; False if the server did not take it."""
        for path in self.spool_files():
            lines = path.read_text(encoding="utf-8").splitlines()
            for start in range(0, len(lines), self._batch_size):
                if not self._send(lines[start : start + self._batch_size]):
                    if start:
                        path.write_text("\n".join(lines[start:]) + "\n", encoding="utf-8")
                    return False
            path.unlink()
            log.info("historian: drained %s (%d points)", path.name, len(lines))
        while True:
            with self._lock:
                batch = [
                    self._buffer.popleft() for _ in range(min(self._batch_size, len(self._buffer)))
                ]
            if not batch:
                return True
            if not self._send(batch):
                self._to_spool(batch)
                return False

    def _send(self, lines: list[str]) -> bool:
        try:
            self._write.write(bucket=self.bucket, org=self.org, record=lines)  # precision: ns
        except Exception as exc:  # the client raises urllib3, HTTP and API errors alike
            self.failures += 1
            log.warning(
                "historian: cannot write to %s (%s); keeping points on disk until it answers",
                self.url,
                exc,
            )
            return False
        self.written += len(lines)
        return True

    def _to_spool(self, lines: list[str]) -> None:
        self._segment += 1
        path = self._spool / f"{time.time_ns():020d}-{self._segment:06d}.lp"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.spooled += len(lines)
