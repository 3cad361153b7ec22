"""Process helpers the Python tests and benchmarks share: a free loopback port, starting a
server and waiting until it accepts connections, and running a command timed with its peak
memory."""
import os
import socket
import subprocess
import sys
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(cmd, port, seconds=10, **popen_args):
    """Starts `cmd` and returns its Popen once 127.0.0.1:port accepts connections. Exits with
    the server's stderr (when piped) if it dies or does not listen within `seconds`."""
    proc = subprocess.Popen(cmd, **popen_args)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    sys.exit(f"{cmd[0]} did not start on port {port}: {err}")


def timed_run(cmd):
    """Runs `cmd` to the end; returns (wall seconds, peak RSS in MB, stdout text). Exits
    naming the command when it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024, out.decode()
