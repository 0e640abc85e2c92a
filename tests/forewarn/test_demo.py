"""`forewarn demo` itself, as a user runs it: embedded broker, simulated plant, orders printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from ticketing import Role, WorkOrderStore


def test_demo_opens_the_orders_of_both_faults_and_summarises(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "forewarn",
            "demo",
            "--duration",
            "60",
            "--speed",
            "600",
            "--port",
            "0",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "COLUMNS": "200"},
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr + out
    opened = re.findall(r"(WO-\d{6}) opened\s+(P-\d{3})\s+\(\S+\)\s+(\w+)", out)
    assert {equipment for _, equipment, _ in opened} == {"P-103", "P-204"}, out
    assert ("P-103", "VIB") in {(eq, mode) for _, eq, mode in opened}
    assert ("P-204", "PDE") in {(eq, mode) for _, eq, mode in opened}
    assert "Summary" in out
    assert re.search(r"[\d,]+ readings processed", out)
    assert "2 faults injected" in out
    # the orders were stored where --db said, and the API served them while the demo ran
    assert db.exists()
    assert re.search(r"API on http://127\.0\.0\.1:\d+", out)
    # a new user gets straight in: the sign-in link carries a planner token stored (hashed) in
    # the demo's database
    link = re.search(r"Sign in as a planner: (http://127\.0\.0\.1:\d+/#token=(fwt_\S+))", out)
    assert link is not None, out
    with WorkOrderStore.sqlite(db) as store:
        principal = store.access.authenticate(link.group(2))
    assert (principal.name, principal.role) == ("demo planner", Role.PLANNER)


def test_demo_reports_a_busy_port_clearly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "forewarn", "demo", "--duration", "5", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    assert f"cannot serve the API on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
