"""The benchmark's CPU reading (bench/run.py): a served process's CPU includes its workers'."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from bench.run import _cpu_seconds, process_cpu

_WORKER = ("import os, time\nend = time.process_time() + 0.5\n"
           "while time.process_time() < end: pass\nprint(os.getpid(), flush=True)\n"
           "time.sleep(30)")
_SERVER = ("import subprocess, sys, time\n"
           f"subprocess.Popen([sys.executable, '-c', {_WORKER!r}])\ntime.sleep(30)")


def test_a_server_s_cpu_includes_its_workers() -> None:
    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None
    with server.stdout:
        worker = int(server.stdout.readline())  # once it has burnt its half second
        try:
            total = _cpu_seconds(server.pid)
            assert total is not None and total >= 0.5 > process_cpu(server.pid)[0]
        finally:
            os.kill(worker, signal.SIGKILL)
            server.kill()
            server.wait()
