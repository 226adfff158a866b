"""The benchmark's CPU reading (bench/run.py): a served process's CPU includes its workers'."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from bench.run import _cpu_seconds

_WORKER = ("import os, time\nend = time.process_time() + 0.5\n"
           "while time.process_time() < end: pass\nprint(os.getpid(), flush=True)\n"
           "time.sleep(30)")
_SERVER = ("import subprocess, sys, time\n"
           f"subprocess.Popen([sys.executable, '-c', {_WORKER!r}])\ntime.sleep(30)")


def _own_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_server_s_cpu_includes_its_workers() -> None:
    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None
    with server.stdout:
        worker = int(server.stdout.readline())  # once it has burnt its half second
        try:
            total = _cpu_seconds(server.pid)
            assert total is not None and total >= 0.5 > _own_cpu_seconds(server.pid)
        finally:
            os.kill(worker, signal.SIGKILL)
            server.kill()
            server.wait()
