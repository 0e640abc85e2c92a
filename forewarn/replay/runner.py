"""Replay a scenario (or a recorded CSV) through the real pipeline and score it.

The pipeline is the one `forewarn run` serves (`forewarn.service.serve`): the MQTT source, the
detection engine, the work-order store and the API, here on a temporary SQLite database and a
fresh detector state. The simulated machines publish to an MQTT broker (an embedded one unless a
URL is given) exactly as real ones would; every finding the pipeline records on a work order is
kept, the signals are bucketed for the charts, and at the end the run is scored against its
ground truth.

The simulation never runs more than `window` messages ahead of what the pipeline has received,
so no broker queue overflows however fast the simulation goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from devices import Finding, Plant
from forewarn.embedded_broker import EmbeddedBroker
from forewarn.errors import ForewarnError
from forewarn.replay.events import OrderEvent
from forewarn.replay.scoring import Score, score
from forewarn.replay.telemetry import DEFAULT_BUCKETS, Series, TelemetryRecorder
from forewarn.service import Running, serve
from forewarn.settings import ApiSettings, MqttSettings, Settings
from ingest import BrokerAddress
from simulators import MqttPublisher, Publisher, RunStats, RunTruth, Sample, SimClock, run
from simulators.csv_replay import CsvReplay
from simulators.ground_truth import MachineTruth
from simulators.publishers import Tee
from simulators.runner import play
from simulators.scenario import Scenario
from ticketing import Recorded

log = logging.getLogger(__name__)

STALL_TIMEOUT = 120.0
"""Seconds without a message reaching the pipeline, after the simulation ended, before giving up."""


@dataclass
class ReplayOptions:
    speed: float | None = None
    """Simulated seconds per real second; None: the scenario's (as fast as possible for a CSV)."""
    broker: str | None = None
    """MQTT broker URL (mqtt://host:port); None: an embedded broker on a free port."""
    buckets: int = DEFAULT_BUCKETS
    """Time buckets per signal in the charts."""
    window: int = 500
    """Messages the simulation may run ahead of the pipeline; keep it below the broker's queue
    per client (mosquitto drops QoS 1 messages beyond `max_queued_messages`, 1000 by default)."""
    workdir: Path | None = None
    """Where the work-order database and detector state go; None: a temporary directory."""


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    sim_ts: float
    fraction: float
    """Share of the simulated time done, 0..1."""
    readings: int
    """Readings the pipeline has processed."""
    orders: int
    """Work orders opened so far."""


@dataclass
class ReplayResult:
    name: str
    description: str
    source: str
    plant: Plant
    truth: RunTruth
    events: list[OrderEvent]
    telemetry: dict[str, dict[str, Series]]
    score: Score
    speed: float
    broker: str
    wall_seconds: float
    sim_seconds: float
    samples: int
    messages: int
    readings: int
    """Readings the pipeline processed."""
    rejected: int
    """Messages or values the pipeline's source set aside (dead letters)."""
    run: RunStats | None = None
    extra: dict[str, str] = field(default_factory=dict)


T = TypeVar("T")
OnProgress = Callable[[ReplayProgress], None]
Feed = Callable[[Publisher, SimClock], Awaitable[RunStats]]


async def replay_scenario(
    scenario: Scenario, options: ReplayOptions | None = None, on_progress: OnProgress | None = None
) -> ReplayResult:
    """Run `scenario` through the pipeline and score it."""
    options = options or ReplayOptions()
    fleet = scenario.fleet()

    def feed(publisher: Publisher, clock: SimClock) -> Awaitable[RunStats]:
        return run(fleet, clock, publisher, period=scenario.period, until=scenario.end)

    result = await _replay(
        name=scenario.name,
        description=scenario.description,
        source=scenario.source,
        plant=scenario.plant,
        start=scenario.start,
        end=scenario.end,
        speed=options.speed if options.speed is not None else scenario.speed,
        samples_per_message=scenario.samples_per_message,
        feed=feed,
        truth=lambda: fleet.truth(scenario.name),
        options=options,
        on_progress=on_progress,
    )
    return result


async def replay_csv(
    recording: CsvReplay,
    plant: Plant,
    options: ReplayOptions | None = None,
    on_progress: OnProgress | None = None,
    *,
    samples_per_message: int = 1,
) -> ReplayResult:
    """Replay a recorded machine (no ground truth: every work order is reported, none scored as
    false, since nobody knows what really happened)."""
    options = options or ReplayOptions()
    equipment = plant.equipment[recording.equipment_id]
    period = recording.period

    def feed(publisher: Publisher, clock: SimClock) -> Awaitable[RunStats]:
        return play(recording.samples, clock, publisher)

    def truth() -> RunTruth:
        return RunTruth(
            scenario=recording.path.name,
            seed=0,
            start=recording.start,
            end=recording.end,
            period=period,
            machines=(MachineTruth(equipment.id, equipment.type, equipment.path, "recorded"),),
            faults=(),
            sensor_faults=(),
        )

    return await _replay(
        name=recording.path.stem,
        description=f"Recorded telemetry of {equipment.id} from {recording.path.name}.",
        source=str(recording.path),
        plant=plant,
        start=recording.start,
        end=recording.end + period,
        speed=options.speed if options.speed is not None else math.inf,
        samples_per_message=samples_per_message,
        feed=feed,
        truth=truth,
        options=options,
        on_progress=on_progress,
        extra={"recording": "no ground truth: orders are listed, not judged"},
    )


async def _replay(
    *,
    name: str,
    description: str,
    source: str,
    plant: Plant,
    start: float,
    end: float,
    speed: float,
    samples_per_message: int,
    feed: Feed,
    truth: Callable[[], RunTruth],
    options: ReplayOptions,
    on_progress: OnProgress | None,
    extra: dict[str, str] | None = None,
) -> ReplayResult:
    with contextlib.ExitStack() as stack:
        if options.broker is None:
            broker_url = stack.enter_context(EmbeddedBroker()).url
            broker_label = f"embedded ({broker_url})"
        else:
            broker_url = broker_label = options.broker
        workdir = options.workdir
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forewarn-")))
        tag = uuid.uuid4().hex[:8]
        settings = Settings(
            database=f"sqlite:///{workdir / f'replay-{tag}.db'}",
            state_dir=workdir / f"state-{tag}",
            mqtt=MqttSettings(url=broker_url, client_id=f"forewarn-replay-{tag}"),
            api=ApiSettings(port=0),
        )
        events: list[OrderEvent] = []

        def on_recorded(finding: Finding, recorded: Recorded) -> None:
            events.append(OrderEvent.of(finding, recorded))

        recorder = TelemetryRecorder(start, end, options.buckets)
        wall_start = time.monotonic()
        stats, published, running = await _run_pipeline(
            plant,
            settings,
            broker_url,
            tag,
            feed=feed,
            recorder=recorder,
            clock=SimClock(start=start, speed=speed),
            end=end,
            samples_per_message=samples_per_message,
            window=options.window,
            on_recorded=on_recorded,
            events=events,
            on_progress=on_progress,
        )
        wall = time.monotonic() - wall_start
    run_truth = truth()
    return ReplayResult(
        name=name,
        description=description,
        source=source,
        plant=plant,
        truth=run_truth,
        events=events,
        telemetry=recorder.series(),
        score=score(run_truth, events),
        speed=speed,
        broker=broker_label,
        wall_seconds=wall,
        sim_seconds=stats.sim_end - stats.sim_start + (run_truth.period or 0.0),
        samples=stats.samples,
        messages=published,
        readings=running.pipeline.stats.readings,
        rejected=running.source.stats.dead_letters.total,
        run=stats,
        extra=dict(extra or {}),
    )


async def _run_pipeline(
    plant: Plant,
    settings: Settings,
    broker_url: str,
    tag: str,
    *,
    feed: Feed,
    recorder: TelemetryRecorder,
    clock: SimClock,
    end: float,
    samples_per_message: int,
    window: int,
    on_recorded: Callable[[Finding, Recorded], None],
    events: Sequence[OrderEvent],
    on_progress: OnProgress | None,
) -> tuple[RunStats, int, Running]:
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    service = asyncio.create_task(
        serve(plant, settings, stop=stop, on_recorded=on_recorded, on_started=started.set_result)
    )
    try:
        running = await _first(started, service)
        async with asyncio.timeout(30):
            await _first(running.source.connected(), service)
        broker = BrokerAddress.parse(broker_url)
        async with MqttPublisher(
            plant,
            host=broker.host,
            port=broker.port,
            client_id=f"forewarn-replay-sim-{tag}",
            username=broker.username,
            password=broker.password,
            samples_per_message=samples_per_message,
        ) as mqtt:
            received = running.source.stats

            async def report() -> None:
                while True:
                    _report(on_progress, clock, end, running, events)
                    await asyncio.sleep(0.25)

            reporter = asyncio.create_task(report())
            try:
                throttle = _Throttle(mqtt, lambda: received.messages, window)
                stats = await _first(feed(Tee(recorder, throttle), clock), service)
                await _drained(lambda: received.messages, mqtt.published, service)
            finally:
                reporter.cancel()
            published = mqtt.published
        stop.set()
        await service
        _report(on_progress, clock, end, running, events, done=True)
        return stats, published, running
    finally:
        stop.set()
        if not service.done():
            service.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await service


def _report(
    on_progress: OnProgress | None,
    clock: SimClock,
    end: float,
    running: Running,
    events: Sequence[OrderEvent],
    *,
    done: bool = False,
) -> None:
    if on_progress is None:
        return
    span = max(end - clock.start, 1e-9)
    fraction = 1.0 if done else min(1.0, max(0.0, (clock.now - clock.start) / span))
    on_progress(
        ReplayProgress(
            sim_ts=clock.now,
            fraction=fraction,
            readings=running.pipeline.stats.readings,
            orders=sum(e.created for e in events),
        )
    )


class _Throttle:
    """Holds the simulation back while it is more than `window` messages ahead of the pipeline."""

    def __init__(self, inner: MqttPublisher, received: Callable[[], int], window: int) -> None:
        self.inner = inner
        self.received = received
        self.window = window

    async def publish(self, samples: Sequence[Sample]) -> None:
        # The count is kept by the source's network thread: there is no event to wait on.
        while self.inner.published - self.received() > self.window:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        await self.inner.publish(samples)

    async def flush(self) -> None:
        await self.inner.flush()


async def _drained(
    received: Callable[[], int], published: int, service: asyncio.Task[Running]
) -> None:
    """Wait until the pipeline has received every published message."""
    last, since = received(), time.monotonic()
    while received() < published:
        if service.done():
            service.result()
            raise ForewarnError("the pipeline stopped before it received every message")
        now = received()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > STALL_TIMEOUT:
            raise ForewarnError(
                f"the pipeline received {now} of {published} messages and nothing more for "
                f"{STALL_TIMEOUT:g} s; is the broker dropping messages (its queue limit)?"
            )
        await asyncio.sleep(0.02)


async def _first(waiter: Awaitable[T], service: asyncio.Task[Running]) -> T:
    """`waiter`'s result, or the service's error if it fails first."""
    task = asyncio.ensure_future(waiter)
    done, _ = await asyncio.wait({task, service}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        return task.result()
    task.cancel()
    service.result()
    raise ForewarnError("the pipeline stopped unexpectedly")
