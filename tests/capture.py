"""Loopback captures for the tshark tests, waited on by signals rather than by sleeps.

A sentinel packet (a SYN from a port of our own to the first captured port) marks a point in time:
packets on lo are captured in order, so once tshark finds the sentinel in the file, everything sent
before it is there too.  ``Capture`` returns from ``with`` once a sentinel is in the file (dumpcap's
"Capturing on" comes before its filter sees packets), and leaves it once a last sentinel is.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import need_binary


class Capture:
    def __init__(self, pcap: Path, *ports: int) -> None:
        self.pcap, self.ports = pcap, ports
        self.dumpcap, self.tshark = need_binary("dumpcap"), need_binary("tshark")
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Capture:
        capture_filter = " or ".join(f"tcp port {p}" for p in self.ports)
        self.proc = subprocess.Popen([self.dumpcap, "-q", "-i", "lo", "-f", capture_filter, "-w", str(self.pcap)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        said = []
        for line in self.proc.stderr:                  # dumpcap: "Capturing on 'Loopback: lo'"
            said.append(line.strip())
            if "Capturing on" in line:
                self.settle()
                return self
        self.proc.wait(20)
        message = f"dumpcap cannot capture on lo: {' '.join(said)}"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/setup.d/30-pcrf-capture.sh grants it to a non-root user)")
        pytest.skip(message)

    def peek(self, display_filter: str, *args: str) -> str:
        """What tshark decodes of the file so far (its last packet may be cut short: no check)."""
        return subprocess.run([self.tshark, "-r", str(self.pcap), "-Y", display_filter, *args],
                              capture_output=True, text=True, timeout=60).stdout

    def _sentinel(self) -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            mark: int = s.getsockname()[1]
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", self.ports[0]))    # refused (RST) or accepted: either is captured
            except OSError:
                pass
        return mark

    def settle(self, timeout: float = 30) -> None:
        """Return once a sentinel sent by this call is in the file (a new one every half second:
        while dumpcap is starting, the first ones may not be captured)."""
        marks: list[int] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            marks.append(self._sentinel())
            for _ in range(5):
                if self.peek(" || ".join(f"tcp.port == {m}" for m in marks)).strip():
                    return
                time.sleep(0.1)
        pytest.fail(f"no sentinel packet (ports {marks}) reached {self.pcap}")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self.proc is not None
        try:
            if exc_type is None:
                self.settle()
        finally:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(20)
