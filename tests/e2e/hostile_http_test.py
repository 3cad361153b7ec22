#!/usr/bin/env python3
"""Both servers (`plinth server`, `plinth serve`) against what a hostile client sends, over
real sockets: values nested 100,000 deep in every JSON body that reached a recursive writer
(a short 400, the server alive after), a client sending its headers a byte a second (closed
when the request timeout has passed, and with --max-connections full of them, other clients
are served again once they are closed), a body framed by a transfer coding other than
chunked (400 and close: the body is never read as a second request), HTTP/1.1 without Host
(400), and HEAD (headers only).

usage: hostile_http_test.py PLINTH DATASETS_DIR
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, free_port, start_server, train_adult  # noqa: E402

PLINTH, DATA = sys.argv[1:3]
check = Checks("hostile_http_test")
work = tempfile.mkdtemp(prefix="plinth-hostile-")


def exchange(port, data, timeout=20):
    """Sends raw bytes, reads until the server closes; returns (bytes read, closed by server)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            piece = s.recv(65536)
            if not piece:
                return out, True
            out += piece
    except socket.timeout:
        return out, False
    finally:
        s.close()


def post(port, path, body, content_type="application/json"):
    """One POST on its own connection: (status, body text)."""
    data = body if isinstance(body, bytes) else body.encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode()
    out, _ = exchange(port, head + data)
    status_line, _, rest = out.partition(b"\r\n")
    status = int(status_line.split()[1]) if status_line.startswith(b"HTTP/1.1 ") else 0
    return status, rest.partition(b"\r\n\r\n")[2].decode(errors="replace")


def alive(port, path):
    out, _ = exchange(port, f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                      .encode())
    return out.startswith(b"HTTP/1.1 200")


def deep(n, leaf="1"):
    return '{"a":' * n + leaf + "}" * n


def check_deep(port, path, body, what, health):
    status, text = post(port, path, body)
    check(status == 400 and "nested deeper than 64 levels" in text and len(text) < 400,
          f"{what}: 400 naming the nesting limit in a short message, got {status} "
          f"{text[:200]!r} ({len(text)} bytes)")
    check(alive(port, health), f"{what}: the server answers after it")


def check_protocol(port, health, label):
    # Transfer-Encoding other than chunked on a kept-alive connection: 400, closed, and the
    # body (a second request) never answered.
    smuggled = f"GET {health} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
    out, closed = exchange(port, b"POST /predict HTTP/1.1\r\nHost: t\r\n"
                           b"Transfer-Encoding: gzip\r\n\r\n" + smuggled)
    check(out.startswith(b"HTTP/1.1 400") and out.count(b"HTTP/1.1 ") == 1 and closed,
          f"{label}: Transfer-Encoding gzip gets one 400 and a close, got {out[:300]!r}")
    out, _ = exchange(port, f"GET {health} HTTP/1.1\r\n\r\n".encode())
    check(out.startswith(b"HTTP/1.1 400") and b"Host" in out,
          f"{label}: HTTP/1.1 without Host gets 400, got {out[:200]!r}")
    out, _ = exchange(port, f"HEAD {health} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                      .encode())
    head, _, body = out.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200") and body == b"" and b"Content-Length: " in head,
          f"{label}: HEAD answers headers only, got {out[:300]!r}")


def check_slow_headers(cmd, port, label):
    """20 clients at --max-connections 20 send a header byte a second: each is closed once
    the request timeout (2 s) has passed, and then others are served again."""
    server = start_server(cmd, port, stderr=subprocess.PIPE, text=True)
    try:
        socks, closed_after = [], []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            socks.append(s)
        start = time.monotonic()

        def dribble(s):
            try:
                for b in b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: yes\r\n\r\n":
                    s.send(bytes([b]))
                    time.sleep(1)
                    s.settimeout(0.01)
                    try:
                        if s.recv(1) == b"":
                            break
                    except socket.timeout:
                        pass
                    finally:
                        s.settimeout(30)
            except OSError:
                pass
            closed_after.append(time.monotonic() - start)

        threads = [threading.Thread(target=dribble, args=(s,)) for s in socks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        check(len(closed_after) == 20 and max(closed_after) < 10,
              f"{label}: every slow client closed within 10 s (request timeout 2 s), "
              f"got {sorted(round(x, 1) for x in closed_after)}")
        check(alive(port, "/health"), f"{label}: served again once the slow clients are gone")
        for s in socks:
            s.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


# plinth serve, on a small adult model.
bundle = train_adult(PLINTH, DATA, work, epochs=5)
port = free_port()
server = start_server([PLINTH, "serve", bundle, "--port", str(port), "--prediction-log", "off"],
                      port, stderr=subprocess.PIPE, text=True)
try:
    body = '{"data":[{"age":' + deep(100000) + "}]}"
    check_deep(port, "/predict", body, "serve /predict", "/health")
    check_deep(port, "/invocations", '{"dataframe_records":[{"age":' + deep(100000) + "}]}",
               "serve /invocations", "/health")
    check_deep(port, "/v2/models/adult-income/infer",
               '{"inputs":[{"name":"age","datatype":"INT64","shape":[1],"data":' +
               deep(20000) + "}]}", "serve /v2 infer", "/health")
    # Under the limit, a nested value is still refused by the schema, quoting only a prefix.
    status, text = post(port, "/predict", '{"data":[{"age":' + deep(60) + "}]}")
    check(status == 400 and len(text) < 400, f"serve: 60 deep gets a short 400, got {status} "
          f"{text[:200]!r}")
    check_protocol(port, "/health", "serve")
finally:
    server.terminate()
    server.wait(timeout=30)
check_slow_headers([PLINTH, "serve", bundle, "--port", str(port), "--prediction-log", "off",
                    "--max-connections", "20", "--request-timeout", "2", "--keep-alive", "60"],
                   port, "serve")

# plinth server: the MLflow API's bodies that held a value written back as text.
store = os.path.join(work, "mlflow.db")
artifacts = os.path.join(work, "artifacts")
port = free_port()
server = start_server([PLINTH, "server", "--store", f"sqlite:///{store}", "--artifacts-root",
                       artifacts, "--port", str(port)], port, stderr=subprocess.PIPE, text=True)
try:
    status, text = post(port, "/api/2.0/mlflow/experiments/create", '{"name":"hostile"}')
    experiment = json.loads(text)["experiment_id"]
    status, text = post(port, "/api/2.0/mlflow/runs/create",
                        json.dumps({"experiment_id": experiment, "start_time": 1}))
    run = json.loads(text)["run"]["info"]["run_id"]
    api = "/api/2.0/mlflow"
    check_deep(port, f"{api}/runs/log-metric",
               '{"run_id":"' + run + '","key":"m","timestamp":1,"value":' + deep(100000) + "}",
               "server log-metric value", "/health")
    check_deep(port, f"{api}/runs/log-batch",
               '{"run_id":"' + run + '","tags":[' + deep(100000) + "]}",
               "server log-batch tags", "/health")
    check_deep(port, f"{api}/runs/log-model",
               '{"run_id":"' + run + '","model_json":' + deep(100000) + "}",
               "server log-model model_json", "/health")
    check_protocol(port, "/health", "server")
finally:
    server.terminate()
    server.wait(timeout=30)
check_slow_headers([PLINTH, "server", "--store", f"sqlite:///{store}", "--artifacts-root",
                    artifacts, "--port", str(port), "--max-connections", "20",
                    "--request-timeout", "2", "--keep-alive", "60"], port, "server")

check.done()
