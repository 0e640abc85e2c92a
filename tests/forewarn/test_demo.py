"""`forewarn demo` itself, as a user runs it: embedded broker, simulated plant, orders printed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from ticketing import Role, Status, WorkOrderStore

HOUR = 3600.0


@pytest.mark.timeout(600)  # about a minute alone; it waits for simulated time, however loaded
def test_demo_opens_the_orders_of_both_faults_and_summarises(tmp_path: Path) -> None:
    """Also the loop a planner closes: the P-103 order closed with its cause confirmed repairs
    the simulated pump, so no new order opens on it in the two simulated hours after; and the
    demo keeps one clock, simulated. Runs until then (Ctrl-C), however loaded the machine."""
    db = tmp_path / "demo.db"
    port = free_port()
    options = ["--speed", "600", "--port", str(port), "--db", str(db)]
    demo = subprocess.Popen(
        [sys.executable, "-m", "forewarn", "demo", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    closed: dict[str, object] = {}
    repaired_at: float | None = None
    stopping = False
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            link = re.search(r"Sign in as a planner: \S+/#token=(fwt_\S+)", line)
            if link:
                closed["token"] = link.group(1)
            opened = re.search(r"(WO-\d{6}) opened\s+P-103\s", line)
            if opened and "number" not in closed:
                closed.update(_close_confirmed(port, str(closed["token"]), opened.group(1)))
            if "P-103 repaired" in line:
                repaired_at = _sim_now(port, str(closed["token"]))
            seen = "".join(lines)
            if repaired_at is not None and re.search(r"opened\s+P-204", seen) and not stopping:
                stopping = True
                while _sim_now(port, str(closed["token"])) < repaired_at + 2 * HOUR:
                    time.sleep(0.5)
                demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0, demo.stderr.read() if demo.stderr else ""
    finally:
        if demo.poll() is None:
            demo.kill()
        demo.communicate()
    out = "".join(lines)
    opened = re.findall(r"(WO-\d{6}) opened\s+(P-\d{3})\s+\(\S+\)\s+(\w+)", out)
    assert {equipment for _, equipment, _ in opened} == {"P-103", "P-204"}, out
    assert ("P-103", "VIB") in {(eq, mode) for _, eq, mode in opened}
    assert ("P-204", "PDE") in {(eq, mode) for _, eq, mode in opened}
    assert "Summary" in out
    assert re.search(r"[\d,]+ readings processed", out)
    assert "2 faults injected" in out
    assert "every time shown (here, on the page, in the API) is simulated time" in out
    # the loop closed: the repaired pump opened no order after its order was closed
    assert closed.get("number"), out
    assert re.search(rf"P-103 repaired \({closed['number']} closed, cause confirmed\)", out), out
    assert [eq for _, eq, _ in opened].count("P-103") == 1, out
    # one clock: the service said its clock is simulated, and the order was created on the
    # simulated clock of its findings: after the first one (an onset may precede the order by
    # simulated hours, a few wall seconds at x600), never before it as the wall clock would be
    assert closed["clock"] == {"simulated": True, "note": "simulated time ×600"}
    created = datetime.fromisoformat(str(closed["created_at"])).timestamp()
    first_finding = datetime.fromisoformat(str(closed["first_finding_ts"])).timestamp()
    assert 0 <= created - first_finding < 4 * HOUR
    assert created > closed["wall"] + 600  # type: ignore[operator]
    # the orders were stored where --db said, and the API served them while the demo ran
    assert db.exists()
    assert re.search(r"API on http://127\.0\.0\.1:\d+", out)
    # a new user gets straight in: the sign-in link carries a planner token stored (hashed) in
    # the demo's database
    with WorkOrderStore.sqlite(db) as store:
        principal = store.access.authenticate(str(closed["token"]))
        order = store.orders.get(str(closed["number"]))
    assert (principal.name, principal.role) == ("demo planner", Role.PLANNER)
    assert (order.status, order.found_cause) == (Status.CLOSED, "DE bearing worn; replaced")


def _sim_now(port: int, token: str) -> float:
    clock = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/clock", headers={"Authorization": f"Bearer {token}"}
    ).json()
    return datetime.fromisoformat(clock["now"]).timestamp()


def _close_confirmed(port: int, token: str, number: str) -> dict[str, object]:
    """What a planner does on the page: read the order, close it with the cause confirmed."""
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    with api:
        clock = api.get("/clock").json()
        order = api.get(f"/work-orders/{number}").json()
        findings = api.get(f"/work-orders/{number}/findings").json()
        response = api.post(
            f"/work-orders/{number}/close",
            json={"outcome": "confirmed", "cause": "DE bearing worn; replaced"},
        )
        assert response.status_code == 200, response.text
    return {
        "number": number,
        "clock": {"simulated": clock["simulated"], "note": clock["note"]},
        "created_at": order["created_at"],
        "first_finding_ts": findings[0]["ts"],
        "wall": time.time(),
    }


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
