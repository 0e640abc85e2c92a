"""Memory of a burst: RSS of a process running forewarn's `MqttSource` before, at the peak of and
after a burst of large messages that a slow consumer cannot keep up with.

    python bench/queue_memory.py [--messages 200] [--samples 3000] [--queue-mb 64]

A private mosquitto (forewarn's deployment settings) on a free port. A burst of JSON batched
messages (each `--samples` samples x 5 signals of one pump, about 400 KB) is published at QoS 1
while the consumer takes one batch (one message) every 0.5 s for 15 s; then it drains at full
speed. Run once with the byte bound (`--queue-mb`) and once with the bound effectively off (what
a count bound of 10,000 messages allowed), each in a fresh process. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_throughput import HEALTHY, SIGNALS, Mosquitto, plant

from ingest import BrokerAddress, MqttSource


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def payload(samples: int, start_ms: int) -> bytes:
    docs = [
        {"ts": start_ms + k, "values": dict(zip(SIGNALS, HEALTHY, strict=True))}
        for k in range(samples)
    ]
    return json.dumps(docs).encode()


async def run(port: int, messages: int, samples: int, queue_bytes: int) -> dict[str, float]:
    site = f"mem{uuid.uuid4().hex[:6]}"
    p = plant(site)
    topic = next(iter(p)).signals["flow"].topic
    source = MqttSource(
        p,
        BrokerAddress("127.0.0.1", port),
        client_id=f"mem-{uuid.uuid4().hex[:6]}",
        queue_bytes=queue_bytes,
        max_batch=samples * len(SIGNALS),
    )
    body = payload(samples, int(time.time() * 1000))
    result = {"before": rss_mb(), "peak": 0.0, "payload_kb": len(body) / 1024}
    expected = messages * samples * len(SIGNALS)
    async with source:
        await asyncio.wait_for(source.connected(), 10)
        result["before"] = rss_mb()
        pub = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:6]}")
        pub.connect("127.0.0.1", port)
        pub.loop_start()

        def burst() -> None:
            for _ in range(messages):
                pub.publish(topic, body, qos=1)
            pub.loop_stop()

        publisher = threading.Thread(target=burst)
        publisher.start()
        started, got, slow_until = time.monotonic(), 0, time.monotonic() + 15
        async for batch in source.batches():
            got += len(batch)
            result["peak"] = max(result["peak"], rss_mb())
            result["queue_mb_peak"] = max(
                result.get("queue_mb_peak", 0.0), source.stats.queue_bytes / 2**20
            )
            if time.monotonic() < slow_until:
                await asyncio.sleep(0.5)
            if got >= expected:
                break
        result["seconds"] = time.monotonic() - started
        publisher.join()
        pub.disconnect()
    await asyncio.sleep(1)
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    result["after"] = rss_mb()
    result["readings"] = got
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--queue-mb", type=int, default=64)
    parser.add_argument("--child", nargs=2, metavar=("PORT", "QUEUE_BYTES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        port, queue_bytes = map(int, args.child)
        out = asyncio.run(run(port, args.messages, args.samples, queue_bytes))
        print(json.dumps(out))
        return
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp))
        rows = []
        try:
            for label, queue_bytes in (
                (f"{args.queue_mb} MB byte bound", args.queue_mb << 20),
                ("no byte bound (old 10,000-message bound)", 1 << 40),
            ):
                print(f"running: {label} ...", file=sys.stderr, flush=True)
                child = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--messages",
                        str(args.messages),
                        "--samples",
                        str(args.samples),
                        "--child",
                        str(broker.port),
                        str(queue_bytes),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                rows.append((label, json.loads(child.stdout.strip().splitlines()[-1])))
        finally:
            broker.stop()
    print(f"burst: {args.messages} messages x {args.samples * len(SIGNALS)} readings")
    print("| queue | payload KB | RSS before MB | RSS peak MB | RSS after MB | queue peak MB |")
    print("|---|---|---|---|---|---|")
    for label, r in rows:
        print(
            f"| {label} | {r['payload_kb']:.0f} | {r['before']:.0f} | {r['peak']:.0f} | "
            f"{r['after']:.0f} | {r['queue_mb_peak']:.0f} |"
        )


if __name__ == "__main__":
    main()
