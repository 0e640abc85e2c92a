"""Ctrl-C stops `forewarn demo` within seconds, whenever it comes: starting, running or
already stopping. A terminal sends SIGINT to its whole foreground process group, so the test
runs the demo in a group of its own and signals the group, as a terminal would.

FOREWARN_DEMO_INTERRUPTS=20 runs 20 random moments instead of 3."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

INTERRUPTS = int(os.environ.get("FOREWARN_DEMO_INTERRUPTS", "3"))
STOP_WITHIN = 15.0
"""Seconds from Ctrl-C to exit; the demo's own shutdown deadlines add up to less."""


def _demo(tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "forewarn", "demo", "--port", "0", "--speed", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        process_group=0,
    )


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _ctrl_c(process: subprocess.Popen[str], after: float) -> tuple[float, str]:
    """Signal the demo's process group after `after` seconds; how long it took to exit after."""
    time.sleep(after)
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=STOP_WITHIN * 3)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        pytest.fail(f"forewarn demo did not stop after Ctrl-C at {after:.1f} s:\n{out}")
    return time.monotonic() - sent, out


@pytest.mark.parametrize("attempt", range(INTERRUPTS))
def test_one_ctrl_c_stops_the_demo_within_seconds(tmp_path: Path, attempt: int) -> None:
    after = random.Random(attempt).uniform(0.5, 12.0)
    process = _demo(tmp_path)
    took, out = _ctrl_c(process, after)
    print(f"Ctrl-C at {after:.1f} s: stopped in {took:.2f} s, exit {process.returncode}")
    assert took < STOP_WITHIN, f"Ctrl-C at {after:.1f} s took {took:.1f} s to stop:\n{out}"
    # -SIGINT: the signal came before Python had started (nothing to stop yet)
    assert process.returncode in (0, 130, -signal.SIGINT), out
    assert "Traceback" not in out, out
    broker = re.search(r"Embedded MQTT broker on mqtt://127\.0\.0\.1:(\d+)", out)
    if broker is not None:
        assert not _listening(int(broker.group(1))), "the embedded broker outlived the demo"


def test_a_second_ctrl_c_forces_the_exit(tmp_path: Path) -> None:
    process = _demo(tmp_path)
    assert process.stdout is not None
    for line in process.stdout:
        if "Ctrl-C stops" in line:
            break
    os.killpg(process.pid, signal.SIGINT)
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("a second Ctrl-C did not end forewarn demo")
    assert process.returncode in (0, 130)
