"""`forewarn demo`: a simulated water works with two developing faults, the whole pipeline, the API.

Everything runs on this machine: an embedded MQTT broker (unless one is given), ten simulated pumps
publishing over MQTT, the ingester, the detectors, the work-order store and the API. One clock: the
simulation's, for the telemetry and for the work orders (the page labels it). The loop closes: a
pump whose order is closed with the cause confirmed is repaired in the simulation.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from devices import Finding, Plant, load_plant
from forewarn.embedded_broker import EmbeddedBroker
from forewarn.errors import ForewarnError
from forewarn.interrupts import Interrupts
from forewarn.service import Running, serve
from forewarn.settings import ApiSettings, IntakeSettings, MqttSettings, Settings
from ingest import BrokerAddress
from simulators import (
    BearingWear,
    FaultInjection,
    Fleet,
    ImpellerWear,
    MqttPublisher,
    SimClock,
)
from simulators import run as run_simulation
from ticketing import Outcome, Recorded, Role, Status, WorkOrderStore, WorkOrderView

DEMO_PLANT = Path(str(resources.files("forewarn").joinpath("demo/plant.yaml")))

HOUR = 3600.0
CONNECT_DEADLINE = 30.0
SIMULATION_DEADLINE = 2.0
PUBLISHER_DEADLINE = 3.0
SERVICE_DEADLINE = 4.0
"""Seconds each part has to stop after Ctrl-C (at the end of --duration they take what they
need); a second Ctrl-C does not wait for them."""


def demo_faults(start: float) -> list[FaultInjection]:
    """Two developing faults, hours from functional failure when they start, and starting after
    the detectors' first hour of learning what normal looks like."""
    return [
        FaultInjection("P-103", BearingWear(onset=start + 70 * 60, time_to_failure=8 * HOUR)),
        FaultInjection("P-204", ImpellerWear(onset=start + 80 * 60, time_to_failure=3 * HOUR)),
    ]


@dataclass
class DemoOptions:
    duration: float | None = None
    """Wall-clock seconds; None runs until Ctrl-C."""
    speed: float = 120.0
    """Simulated seconds per real second."""
    port: int = 8000
    db: Path | None = None
    broker: str | None = None
    seed: int = 42


@dataclass
class OpenedOrder:
    order: WorkOrderView
    finding: Finding
    wall: float


@dataclass
class DemoResult:
    readings: int
    faults: list[FaultInjection]
    opened: list[OpenedOrder] = field(default_factory=list)
    sim_start: float = 0.0
    sim_end: float = 0.0
    sign_in: str = ""
    """The web page's address with a planner token: opening it signs in."""
    repaired: list[tuple[str, str]] = field(default_factory=list)
    """(equipment, work order) for each machine repaired because its order was closed."""


async def run_demo(options: DemoOptions, console: Console) -> DemoResult:
    plant = load_plant(DEMO_PLANT)
    with contextlib.ExitStack() as stack:
        if options.broker is None:
            broker_url = stack.enter_context(EmbeddedBroker()).url
            console.print(f"Embedded MQTT broker on {broker_url}")
        else:
            broker_url = options.broker
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forewarn-demo-")))
        db = options.db or workdir / "work-orders.db"
        settings = Settings(
            database=f"sqlite:///{db}",
            state_dir=workdir / "state",
            mqtt=MqttSettings(url=broker_url, client_id=f"forewarn-demo-{uuid.uuid4().hex[:8]}"),
            intake=IntakeSettings(timestamp_window=False),  # simulated time runs ahead
            api=ApiSettings(port=options.port),
        )
        return await _run(plant, settings, options, broker_url, console)


async def _run(
    plant: Plant, settings: Settings, options: DemoOptions, broker_url: str, console: Console
) -> DemoResult:
    sim_start = math.floor(time.time())
    faults = demo_faults(sim_start)
    fleet = Fleet(plant, seed=options.seed, faults=faults)
    clock = SimClock(start=sim_start, speed=options.speed)
    result = DemoResult(readings=0, faults=faults, sim_start=sim_start)
    wall_start = time.monotonic()

    def on_recorded(finding: Finding, recorded: Recorded) -> None:
        if not recorded.created:
            return
        order = recorded.order
        result.opened.append(OpenedOrder(order, finding, time.monotonic() - wall_start))
        console.print(
            f"[bold red]{order.number}[/] opened  [bold]{order.equipment_id}[/] "
            f"({order.equipment_path})  {order.failure_mode_code} {order.failure_mode_name}  "
            f"priority [bold]{order.priority}[/]  sim {_clock(finding.ts - sim_start)}\n"
            f"    {finding.summary}"
        )

    def sim_now() -> datetime:
        return datetime.fromtimestamp(clock.now, UTC)

    def on_repaired(number: str, equipment_id: str, faults: tuple[str, ...]) -> None:
        result.repaired.append((equipment_id, number))
        console.print(
            f"[bold green]{equipment_id}[/] repaired ({number} closed, cause confirmed): "
            f"{', '.join(faults)} removed  sim {_clock(clock.now - sim_start)}"
        )

    started = asyncio.Event()
    running: list[Running] = []

    def on_started(service: Running) -> None:
        running.append(service)
        started.set()

    stop_service = asyncio.Event()
    with Interrupts() as interrupts:
        service = asyncio.create_task(
            serve(
                plant,
                settings,
                stop=stop_service,
                on_recorded=on_recorded,
                on_started=on_started,
                clock=sim_now,
                clock_note=f"simulated time ×{options.speed:g}",
            )
        )
        try:
            if await _until(started.wait(), service, interrupts.stop):
                demo = _Demo(
                    plant,
                    options,
                    broker_url,
                    fleet,
                    clock,
                    result,
                    console,
                    wall_start,
                    on_repaired,
                )
                await demo.simulate(running[0], service, interrupts)
        finally:
            interrupts.stop.set()
            stop_service.set()
            await interrupts.finish(service, "the service", SERVICE_DEADLINE)
    result.readings = running[0].pipeline.stats.readings if running else 0
    print_summary(result, fleet, options.speed, console)
    return result


@dataclass(frozen=True)
class _Demo:
    plant: Plant
    options: DemoOptions
    broker_url: str
    fleet: Fleet
    clock: SimClock
    result: DemoResult
    console: Console
    wall_start: float
    on_repaired: Callable[[str, str, tuple[str, ...]], None]

    async def simulate(
        self, service: Running, service_task: asyncio.Task[Running], interrupts: Interrupts
    ) -> None:
        """Publish the simulated plant until Ctrl-C or the end of the duration."""
        options, result, clock, stop = self.options, self.result, self.clock, interrupts.stop
        try:
            async with asyncio.timeout(CONNECT_DEADLINE):
                if not await _until(service.source.connected(), service_task, stop):
                    return
        except TimeoutError:
            raise ForewarnError(
                f"the demo could not connect to the MQTT broker {self.broker_url} "
                f"in {CONNECT_DEADLINE:g} s"
            ) from None
        api = service.api_url
        issued = await asyncio.to_thread(
            service.store.access.create_token, "demo planner", Role.PLANNER, by="forewarn demo"
        )
        result.sign_in = f"{api}/#token={issued.secret}"
        self.console.print(
            f"Sign in as a planner: [bold]{result.sign_in}[/]\n"
            f"API on {api}  (docs: {api}/docs; send 'Authorization: Bearer {issued.secret}')\n"
            f"Simulating {len(self.plant)} pumps at ×{options.speed:g} with "
            f"{len(result.faults)} developing faults; every time shown (here, on the page, in the "
            f"API) is simulated time.\n"
            f"Close an order with the cause confirmed and its pump is repaired. Ctrl-C stops."
        )
        repairs = asyncio.create_task(repair_on_close(service.store, self.fleet, self.on_repaired))
        broker = BrokerAddress.parse(self.broker_url)
        async with MqttPublisher(
            self.plant,
            host=broker.host,
            port=broker.port,
            client_id=f"forewarn-demo-sim-{uuid.uuid4().hex[:8]}",
            username=broker.username,
            password=broker.password,
            close_timeout=PUBLISHER_DEADLINE,
        ) as publisher:
            simulation = asyncio.create_task(
                run_simulation(self.fleet, clock, publisher, stop=stop)
            )
            with self.console.status("") as status:
                while not stop.is_set():
                    elapsed = time.monotonic() - self.wall_start
                    if options.duration is not None and elapsed >= options.duration:
                        break
                    status.update(
                        f"simulated {_clock(clock.now - result.sim_start)} "
                        f"(×{options.speed:g})  {service.pipeline.stats.readings:,} readings  "
                        f"{len(result.opened)} work orders"
                    )
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.5):
                            await stop.wait()
                stop.set()
                status.update("stopping: processing what was received")
                await interrupts.finish(simulation, "the simulation", SIMULATION_DEADLINE)
                repairs.cancel()
                result.sim_end = clock.now


async def repair_on_close(
    store: WorkOrderStore,
    fleet: Fleet,
    on_repaired: Callable[[str, str, tuple[str, ...]], None],
) -> None:
    """The simulated maintenance crew: follow the store's order events and repair the machine of
    every order closed with its cause confirmed (as a technician's repair would), so that the
    fault behind it stops and the order does not come back."""
    wake = asyncio.Event()
    loop = asyncio.get_running_loop()

    def changed() -> None:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(wake.set)

    store.add_listener(changed)
    try:
        after = await asyncio.to_thread(store.access.last_event_id)
        while True:
            wake.clear()
            events = await asyncio.to_thread(store.access.events_after, after)
            for event, order in events:
                after = max(after, event.id)
                confirmed = order.status is Status.CLOSED and order.outcome is Outcome.CONFIRMED
                if event.action == "closed" and confirmed:
                    faults = fleet.repair(order.equipment_id)
                    on_repaired(order.number, order.equipment_id, faults)
            if not events:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await wake.wait()
    finally:
        store.remove_listener(changed)


async def _until(
    waiter: Coroutine[Any, Any, Any], service: asyncio.Task[Running], stop: asyncio.Event
) -> bool:
    """Wait for `waiter` (True) unless `stop` is set first (False); if the service ends first,
    its error surfaces."""
    wait_task = asyncio.ensure_future(waiter)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait(
            {wait_task, stopped, service}, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        wait_task.cancel()
        stopped.cancel()
    if service in done:
        service.result()
    return wait_task in done and not wait_task.cancelled()


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def print_summary(result: DemoResult, fleet: Fleet, speed: float, console: Console) -> None:
    console.print(
        f"\n[bold]Summary[/]: {result.readings:,} readings processed over "
        f"{_clock(result.sim_end - result.sim_start)} simulated; {len(result.faults)} faults "
        f"injected; {len(result.opened)} work orders opened."
    )
    truth = {t.equipment_id: t for t in fleet.ground_truth()}
    table = Table(
        "fault",
        "equipment",
        "onset (sim)",
        "work order",
        "onset → order",
        "order → alarm limit",
        "order → failure",
    )
    for injection in result.faults:
        fault = injection.fault
        gt = truth.get(injection.equipment_id)
        first = next(
            (o for o in result.opened if o.order.equipment_id == injection.equipment_id), None
        )
        onset = _clock(fault.onset - result.sim_start)
        if first is None:
            started = fault.onset <= result.sim_end
            table.add_row(
                type(fault).__name__,
                injection.equipment_id,
                onset,
                "none yet" if started else "not started",
                "",
                "",
                "",
            )
            continue
        delay = first.finding.ts - fault.onset
        alarm_at = gt.alarm_crossed_at if gt is not None else None
        if alarm_at is not None:
            lead = f"{(alarm_at - first.finding.ts) / HOUR:.1f} h"
        else:
            lead = f"> {(result.sim_end - first.finding.ts) / HOUR:.1f} h (not reached)"
        table.add_row(
            type(fault).__name__,
            injection.equipment_id,
            onset,
            first.order.number,
            f"{delay / 60:.0f} min sim, {delay / speed:.0f} s wall",
            lead,
            f"{(fault.failure_at - first.finding.ts) / HOUR:.1f} h",
        )
    console.print(table)
