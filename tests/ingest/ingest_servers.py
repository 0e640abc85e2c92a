"""Servers the ingest tests (and the service's end-to-end tests) talk to: a private
victoria-metrics standing in for InfluxDB's v2 write API."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import wait_for_port


@dataclass
class VictoriaMetrics:
    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("victoria-metrics")
        if binary is None:
            pytest.fail("victoria-metrics is not installed: apt-get install victoria-metrics")
        with (self.workdir / "vm.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"-httpListenAddr=127.0.0.1:{self.port}",
                    f"-storageDataPath={self.workdir / 'data'}",
                    "-retentionPeriod=100y",
                ],
                stdout=log,
                stderr=log,
            )
        wait_for_port(self.port, timeout=30)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def export(self, series: str, **labels: str) -> list[tuple[float, float]]:
        """(ts seconds, value) of every point of a series (with these labels), oldest first."""
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10):
            pass
        selector = ",".join(
            [f'__name__="{series}"'] + [f'{name}="{value}"' for name, value in labels.items()]
        )
        query = urllib.parse.quote(f"{{{selector}}}")
        with urllib.request.urlopen(
            f"{self.url}/api/v1/export?match[]={query}&start=0", timeout=10
        ) as response:
            points: list[tuple[float, float]] = []
            for line in response.read().decode().splitlines():
                row = json.loads(line)
                points += zip([t / 1000 for t in row["timestamps"]], row["values"], strict=True)
        return sorted(points)
