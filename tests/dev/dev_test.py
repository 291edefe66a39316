#!/usr/bin/env python3
"""`flywheel dev` survives a crashed service and keeps its data (issue 6, item 8).

Runs the real thing, the way `./flywheel dev` does:
`tests/testbed/testbed.sh run --state DIR -- deploy/dev/run.sh BUILD_DIR`,
on free ports of its own so that it runs next to the other tests.

1. First run: waits for the banner and checks every address in it, writes a
   Redis key, reads Kafka's cluster id and the id of the topic intake made,
   kill -9s routing, and expects the supervisor to say routing was killed by
   SIGKILL, restart it, and routing to answer again while intake runs on
   untouched. SIGTERM then drains everything: exit 0, nothing left running.
2. Second run on the same state directory, with Redis's port taken: the test
   bed says it falls back to another port, the key and Kafka's cluster and
   topic ids are still there. With FLYWHEEL_DEV_MAX_CRASHES=2, two quick
   kill -9s of routing make the supervisor give up: it says so, stops the
   rest and exits 1, again leaving nothing running.
3. `--clean` starts empty: no key, a new cluster id.

Standard library only. Usage (CTest passes these):
  dev_test.py --testbed tests/testbed/testbed.sh --run deploy/dev/run.sh \
      --build build/dev --binary build/dev/services/intake/flywheel-intake ...
  dev_test.py --probe KEY   (inside the test bed: prints what Kafka and Redis hold)
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

TOPIC = "flywheel.intake.requests.v1"
SERVICES = ("intake", "routing", "approval", "scheduler", "lead-scoring", "reporting")
KEY = "flywheel-dev-test:persisted"


class Failure(Exception):
    pass


def step(text):
    print(f"dev_test: {text}", flush=True)


def check(condition, text):
    if not condition:
        raise Failure(text)


def free_port():
    """A free port below Linux's ephemeral range (32768 and up), where the
    other tests' port-0 listeners and outgoing connections do not land while
    this test holds the number without binding it."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


def free_ports():
    """A distinct free port for everything a dev run listens on."""
    names = ["kafka", "controller", "redis", "feeds"] + [f"{n}_{k}" for n in SERVICES
                                                         for k in ("grpc", "metrics")]
    ports = {}
    while len(set(ports.values())) < len(names):
        ports = {name: free_port() for name in names}
    return ports


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(what, seconds, probe):
    """Polls probe() until it returns something true; fails after seconds."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure(f"{what}: not within {seconds}s")
        time.sleep(0.1)


def proc_stat(pid):
    """(state, session id) of a process, or None when it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[3])  # after the name: state, ppid, pgrp, session


def running(pid):
    """The process exists and is not a zombie waiting for its parent."""
    stat = proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def session_members(session):
    """Every live process of a session: all a run started, in whatever group."""
    members = []
    for entry in os.listdir("/proc"):
        stat = proc_stat(entry) if entry.isdigit() else None
        if stat and stat[0] != "Z" and stat[1] == session:
            members.append(int(entry))
    return members


def http_get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode(errors="replace")


def redis(address, *command):
    host, port = address.rsplit(":", 1)
    out = subprocess.run(["redis-cli", "-h", host, "-p", port, *command],
                         capture_output=True, text=True, timeout=10, check=True)
    return out.stdout.strip()


# --- Kafka: one Metadata request (v10), enough to read the cluster id and
# every topic's id without a client library.

class Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        chunk = self.data[self.at:self.at + n]
        check(len(chunk) == n, "kafka: short metadata response")
        self.at += n
        return chunk

    def int(self, fmt):
        return struct.unpack(">" + fmt, self.take(struct.calcsize(fmt)))[0]

    def uvarint(self):
        shift = value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def string(self):  # compact nullable string
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def array(self, item):  # compact array
        n = self.uvarint()
        return [] if n == 0 else [item() for _ in range(n - 1)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def kafka_metadata(address):
    """(cluster id, {topic name: topic id}) from the broker at address."""
    client = b"flywheel-dev-test"
    body = struct.pack(">hhih", 3, 10, 1, len(client)) + client + b"\x00"  # header v2
    body += b"\x00" + b"\x00\x00\x00" + b"\x00"  # all topics, no auto-create, no ACLs, no tags
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", recv_exactly(s, 4))[0]
        r = Reader(recv_exactly(s, size))
    r.int("i")  # correlation id
    r.tags()
    r.int("i")  # throttle time

    def broker():
        r.int("i"), r.string(), r.int("i"), r.string(), r.tags()

    r.array(broker)
    cluster_id = r.string()
    r.int("i")  # controller id

    def partition():
        r.int("h"), r.int("i"), r.int("i"), r.int("i")
        for _ in range(3):  # replicas, in-sync replicas, offline replicas
            r.array(lambda: r.int("i"))
        r.tags()

    def topic():
        error, name, topic_id = r.int("h"), r.string(), uuid.UUID(bytes=r.take(16))
        r.int("b"), r.array(partition), r.int("i"), r.tags()
        return name, topic_id, error

    topics = {name: topic_id for name, topic_id, error in r.array(topic) if error == 0}
    return cluster_id, topics


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        check(chunk, "kafka: connection closed mid-response")
        data += chunk
    return data


def probe(key):
    """Inside the test bed: what Kafka and Redis hold, as one JSON line."""
    cluster_id, topics = kafka_metadata(os.environ["FLYWHEEL_TEST_KAFKA"])
    print("probe: " + json.dumps({
        "cluster_id": cluster_id,
        "topics": sorted(topics),
        "key": redis(os.environ["FLYWHEEL_TEST_REDIS"], "GET", key),
    }), flush=True)


# --- One run of the test bed in dev mode, in the background.

class DevRun:
    def __init__(self, args, state, ports, extra_env=None, command=None, clean=False):
        env = dict(os.environ)
        # Under `./flywheel test` these point at the test bed that ctest runs
        # in; this run must start (and keep) servers of its own.
        env.pop("FLYWHEEL_TEST_KAFKA", None)
        env.pop("FLYWHEEL_TEST_REDIS", None)
        env.pop("FLYWHEEL_DEV_STATE", None)
        env.update({
            "FLYWHEEL_DEV_KAFKA_PORT": str(ports["kafka"]),
            "FLYWHEEL_DEV_KAFKA_CONTROLLER_PORT": str(ports["controller"]),
            "FLYWHEEL_DEV_REDIS_PORT": str(ports["redis"]),
        })
        for name in SERVICES:
            upper = name.upper().replace("-", "_")
            env[f"FLYWHEEL_DEV_{upper}_GRPC_PORT"] = str(ports[f"{name}_grpc"])
            env[f"FLYWHEEL_DEV_{upper}_METRICS_PORT"] = str(ports[f"{name}_metrics"])
        env["FLYWHEEL_DEV_FEEDS_PORT"] = str(ports["feeds"])
        # The supervisor is under test here; tests/deploy runs the demo.
        env["FLYWHEEL_DEV_DEMO"] = "0"
        env.update(extra_env or {})
        argv = [args.testbed, "run", "--state", state] + (["--clean"] if clean else [])
        argv += ["--"] + (command or [args.run, args.build])
        self.log_path = os.path.join(args.logs, f"run-{time.monotonic_ns()}.log")
        self.log = open(self.log_path, "w")
        # A session of its own: the test's cleanup can reach every process.
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def lines(self):
        """Everything but the services' JSON log lines."""
        return "\n".join(l for l in self.text().splitlines() if not l.startswith("{"))

    def wait_line(self, pattern, seconds, after=0):
        """The first match of pattern at or after offset `after` of the output."""
        regex = re.compile(pattern, re.M)

        def seen():
            exited = self.proc.poll() is not None
            match = regex.search(self.text(), after)
            if not match and exited:
                raise Failure(f"exited with {self.proc.returncode} before printing /{pattern}/")
            return match
        return wait_for(f"a line /{pattern}/", seconds, seen)

    def banner(self, seconds=200):
        self.wait_line(r"^  Ctrl-C drains", seconds)
        text = self.text()
        start = text.rindex("flywheel dev: ready")
        banner = text[start:text.index("Ctrl-C drains", start)]
        found = {}
        for name, grpc, metrics in re.findall(
                r"^  ([\w-]+) +gRPC (\S+) +metrics (\S+)$", banner, re.M):
            found[name] = (grpc, metrics)
        kafka = re.search(r"^  kafka +bootstrap (\S+)$", banner, re.M)
        redis_address = re.search(r"^  redis +(\S+)$", banner, re.M)
        state = re.search(r"^  state +(\S+)", banner, re.M)
        check(kafka and redis_address and state, f"banner misses Kafka, Redis or state:\n{banner}")
        return found, kafka.group(1), redis_address.group(1), state.group(1)

    def pids_of(self, name):
        return [int(p) for p in re.findall(rf"started {name} \(pid (\d+)\)", self.text())]

    def every_pid(self):
        """What the run said it started, and whatever else is in its session."""
        logged = {int(p) for p in re.findall(r"\bpid (\d+)", self.text())}
        return logged | {self.proc.pid} | set(session_members(self.proc.pid))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, seconds):
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            raise Failure(f"still running {seconds}s after it was asked to stop")

    def kill_everything(self):
        """After a failure: nothing of the run may outlive the test. A few
        rounds, since a supervisor may start a service between two kills."""
        for _ in range(5):
            pids = [p for p in self.every_pid() if running(p)]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.2)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


def announced_port(run, port, what):
    """The port the test bed took for `what` instead of `port`, if it said so."""
    moved = re.search(rf"port {port} for {what} is in use; using (\d+) instead", run.text())
    return int(moved.group(1)) if moved else port


def expect_banner(run, ports, state, redis_port=None):
    services, kafka, redis_address, shown_state = run.banner()
    # The test bed falls back to a free port when a parallel test took ours.
    kafka_port = announced_port(run, ports["kafka"], "Kafka")
    redis_port = redis_port or announced_port(run, ports["redis"], "Redis")
    for name in SERVICES:
        grpc, metrics = ports[f"{name}_grpc"], ports[f"{name}_metrics"]
        check(services.get(name) == (f"127.0.0.1:{grpc}", f"http://127.0.0.1:{metrics}/metrics"),
              f"banner line for {name}: {services.get(name)}")
        check(answers(grpc), f"{name} gRPC on {grpc} does not answer")
        status, body = http_get(f"http://127.0.0.1:{metrics}/metrics")
        check(status == 200 and "flywheel_" in body, f"{name} /metrics: {status}")
    check(kafka == f"127.0.0.1:{kafka_port}", f"Kafka bootstrap in banner: {kafka}")
    check(redis_address == f"127.0.0.1:{redis_port}",
          f"Redis in banner: {redis_address}")
    check(os.path.realpath(shown_state) == os.path.realpath(state), f"state in banner: {shown_state}")
    return kafka, redis_address


def kill_routing_and_expect_restart(run, ports):
    """kill -9 of routing: the supervisor names it and brings it back."""
    old = run.pids_of("routing")[-1]
    os.kill(old, signal.SIGKILL)
    died = run.wait_line(rf"routing \(pid {old}\) was killed by SIGKILL \(exit status 137\)", 15)
    run.wait_line(r"restarting routing in \d+s", 10, after=died.end())
    new = wait_for("a new routing", 30,
                   lambda: [p for p in run.pids_of("routing") if p != old and running(p)])[-1]
    run.wait_line(rf"routing is back on gRPC 127.0.0.1:{ports['routing_grpc']} \(pid {new}\)", 120)
    check(answers(ports["routing_grpc"]), "routing's gRPC port does not answer after the restart")
    status, _ = http_get(f"http://127.0.0.1:{ports['routing_metrics']}/metrics")
    check(status == 200, "routing's /metrics does not answer after the restart")
    return new


def expect_nothing_left(run, ports):
    """Every process the run started has gone, and so has every listener."""
    pids = run.every_pid()
    wait_for("every process of the run gone", 30,
             lambda: not [p for p in pids if running(p)])
    used = {**ports,
            "kafka": announced_port(run, ports["kafka"], "Kafka"),
            "controller": announced_port(run, ports["controller"], "Kafka's controller"),
            "redis": announced_port(run, ports["redis"], "Redis")}
    for name, port in used.items():
        check(not answers(port), f"port {port} ({name}) still answers after the run")


def first_run(args, state, ports):
    step("first run: start, banner, kill -9 routing, SIGTERM")
    run = DevRun(args, state, ports)
    try:
        kafka, redis_address = expect_banner(run, ports, state)
        redis(redis_address, "SET", KEY, "kept")
        cluster_id, topics = kafka_metadata(kafka)
        check(TOPIC in topics, f"{TOPIC} missing from Kafka: {sorted(topics)}")
        intake = run.pids_of("intake")
        check(len(intake) == 1, f"intake started {len(intake)} times")

        kill_routing_and_expect_restart(run, ports)
        check(running(intake[0]) and run.pids_of("intake") == intake,
              "intake did not keep running while routing restarted")
        check("stopping the rest" not in run.text(), "the supervisor gave up after one crash")

        run.signal(signal.SIGTERM)
        check(run.wait_exit(90) == 0, f"exit code after SIGTERM: {run.proc.returncode}")
        text = run.lines()
        check("draining intake routing" in text and "routing stopped" in text,
              "SIGTERM did not drain the services")
        check("data stays in" in text, "the test bed did not keep the data")
        expect_nothing_left(run, ports)
        return cluster_id, topics[TOPIC]
    except BaseException:
        print(run.lines()[-6000:], flush=True)
        raise
    finally:
        run.kill_everything()


def second_run(args, state, ports, cluster_id, topic_id):
    step("second run: same state, Redis port taken, data kept; two quick crashes give up")
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", ports["redis"]))
        blocker.listen()
        run = DevRun(args, state, ports, {"FLYWHEEL_DEV_MAX_CRASHES": "2"})
        try:
            run.wait_line(rf"port {ports['redis']} for Redis is in use; using \d+ instead", 200)
            other = announced_port(run, ports["redis"], "Redis")
            kafka, redis_address = expect_banner(run, ports, state, redis_port=other)
            check("reusing Kafka's data" in run.text(), "the broker's storage was not reused")
            check(redis(redis_address, "GET", KEY) == "kept", "the Redis key did not survive")
            new_cluster_id, topics = kafka_metadata(kafka)
            check(new_cluster_id == cluster_id, f"cluster id {new_cluster_id} != {cluster_id}")
            check(topics.get(TOPIC) == topic_id,
                  f"{TOPIC} was made again: id {topics.get(TOPIC)} != {topic_id}")

            kill_routing_and_expect_restart(run, ports)
            last = run.pids_of("routing")[-1]
            os.kill(last, signal.SIGKILL)
            run.wait_line(r"routing crashed 2 times in a row, .*giving up, stopping the rest", 15)
            check(run.wait_exit(90) == 1, f"exit code after giving up: {run.proc.returncode}")
            check("intake stopped" in run.lines(), "intake was not drained after giving up")
            expect_nothing_left(run, ports)
        except BaseException:
            print(run.lines()[-6000:], flush=True)
            raise
        finally:
            run.kill_everything()


def clean_run(args, state, ports, cluster_id):
    step("third run: --clean starts empty")
    run = DevRun(args, state, ports, clean=True,
                 command=[sys.executable, os.path.abspath(__file__), "--probe", KEY])
    try:
        check(run.wait_exit(200) == 0, f"probe run exited {run.proc.returncode}")
        text = run.text()
        check("starting clean: wiped" in text, "--clean did not say it wiped the state")
        found = json.loads(re.search(r"^probe: (.*)$", text, re.M).group(1))
        check(found["key"] == "", f"the Redis key survived --clean: {found['key']!r}")
        check(found["cluster_id"] != cluster_id, "--clean kept the old cluster id")
        expect_nothing_left(run, ports)
    except BaseException:
        print(run.lines()[-6000:], flush=True)
        raise
    finally:
        run.kill_everything()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", metavar="KEY")
    parser.add_argument("--testbed")
    parser.add_argument("--run")
    parser.add_argument("--build")
    parser.add_argument("--binary", action="append", default=[])
    args = parser.parse_args()
    if args.probe:
        probe(args.probe)
        return 0
    for binary in args.binary:
        check(os.access(binary, os.X_OK), f"{binary} is not built")
    ports = free_ports()
    state = tempfile.mkdtemp(prefix="flywheel-dev-test-")
    args.logs = tempfile.mkdtemp(prefix="flywheel-dev-test-logs-")
    try:
        cluster_id, topic_id = first_run(args, state, ports)
        second_run(args, state, ports, cluster_id, topic_id)
        clean_run(args, state, ports, cluster_id)
    except Failure as failure:
        print(f"dev_test: FAILED: {failure}", flush=True)
        return 1
    finally:
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(args.logs, ignore_errors=True)
    step("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
