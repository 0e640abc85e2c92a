"""How long `forewarn discover opcua` takes to browse a server, per variable.

    python bench/discover_opcua.py [--plant simulators/scenarios/plants/benchmark-50.yaml]

Starts the simulators' OPC UA server for the plant on a free port, browses it as the command
does (ingest.discovery.browse_opcua), maps it (devices.discovery.from_opcua) and writes the plant
file text; prints the counts and the times of both steps.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time
from pathlib import Path

import yaml

from devices import OpcUaServerSpec, load_plant, plant_from_dict
from devices.discovery import from_opcua, plant_file
from ingest.discovery import browse_opcua
from simulators import OpcUaServer

ROOT = Path(__file__).resolve().parents[1]


async def main(plant_path: Path) -> None:
    plant = load_plant(plant_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with OpcUaServer(plant, port=port) as server:
        spec = OpcUaServerSpec(url=server.endpoint, anonymous=True)
        started = time.perf_counter()
        variables, namespaces = await browse_opcua(spec)
        browsed = time.perf_counter()
    discovery = from_opcua(
        variables,
        server="sim",
        connection={"url": spec.url, "anonymous": True},
        namespaces=namespaces,
    )
    text = plant_file(discovery)
    discovered = plant_from_dict(yaml.safe_load(text))
    mapped = time.perf_counter()
    signals = sum(len(eq.signals) for eq in discovered)
    print(
        f"plant {plant_path.name}: {len(plant)} equipment, "
        f"{sum(len(eq.signals) for eq in plant)} signals served"
    )
    print(
        f"browse: {len(variables)} variables in {browsed - started:.2f} s "
        f"({(browsed - started) / max(len(variables), 1) * 1000:.1f} ms per variable)"
    )
    print(
        f"map + write + load: {len(discovered)} equipment, {signals} signals in "
        f"{(mapped - browsed) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plant", type=Path, default=ROOT / "simulators/scenarios/plants/benchmark-50.yaml"
    )
    asyncio.run(main(parser.parse_args().plant))
