"""The service as the kill test runs it: `forewarn run`'s `serve`, plus a log of every reading the
detectors processed, one line per reading, written (to the OS, which keeps it through a SIGKILL)
before its batch is committed. Usage: python -m tests.forewarn.kill_target PLANT SETTINGS LOG"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from devices import Finding, load_plant
from forewarn.service import serve
from forewarn.settings import load_settings
from ingest import Batch


async def main(plant_file: str, settings_file: str, log_file: str) -> None:
    plant = load_plant(Path(plant_file))
    settings = load_settings(Path(settings_file))
    fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def processed(batch: Batch, findings: list[Finding]) -> None:
        os.write(fd, "".join(f"{r.equipment_id} {r.signal} {r.ts!r}\n" for r in batch).encode())

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await serve(plant, settings, stop=stop, on_processed=processed)
    os.close(fd)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(main(*sys.argv[1:4]))
