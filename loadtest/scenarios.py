#!/usr/bin/env python3
"""Runs the load-test scenarios against the test bed and writes one JSON line
per scenario to a results file, and the machine's description beside it.

Called by loadtest/run.sh inside `tests/testbed/testbed.sh run`, which exports
FLYWHEEL_TEST_KAFKA, FLYWHEEL_TEST_REDIS and FLYWHEEL_TEST_KAFKA_PID. Drives
the services as a user would: gRPC calls, Kafka topics, their /metrics.

    scenarios.py --build BUILD_DIR --results DIR --work DIR [--quick] [--only GROUP,...]

writes DIR/results.jsonl and DIR/machine.json; services' logs and scratch
files go to the work directory.

Groups, in the order they run: empty (the empty-method limits), routed
(submit -> routed at 1,000/s and the sweep), submit (SubmitRequest closed
loop), backlog (routing draining request.submitted), consume (no-op batch
handler against kcat), approval (Decide, VerifyAudit, version -> step
started, and submit -> stage advanced through a whole approval), timers
(the scheduler beside BullMQ), leads (lead scoring on a million leads
beside kcat on the same topic, activity -> lead.qualified, Redis memory per
lead).

With --only, the results of the groups not run are kept from the existing
results file, each with the date of the run that measured it.
"""
import argparse
import json
import math
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
REQUESTS_TOPIC = "flywheel.intake.requests.v1"
NOOP_TOPIC = "loadtest.noop.v1"
GROUPS = ["empty", "routed", "submit", "backlog", "consume", "approval", "timers", "leads",
          "reporting"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BULLMQ = os.path.join(ROOT, "loadtest", "bullmq")
# The scheduler's targets (issue 11).
TIMER_ARM_TARGET = 50_000
TIMER_BYTES_TARGET = 200
TIMER_DUE_RATE = 10_000
TIMER_LAG_P99_MS = 50.0
# Lead scoring's targets (issue 12); its input topic and the prefixes the
# group runs it on.
LEADS_RATE_TARGET = 50_000
LEADS_QUALIFY_RATE = 10_000
LEADS_QUALIFY_P99_MS = 200.0
LEAD_ACTIVITY_TOPIC = "flywheel.leadscoring.lead-activity.v1"
LEADS_PREFIX = "lt-leads."
# Reporting's targets (issue 13) and the prefixes the group runs it on.
REPORTING_RATE_TARGET = 50_000
REPORTING_QUERY_P99_MS = 50.0
REPORTING_FRESH_P99_MS = 1000.0
REPORTING_PREFIX = "lt-rep."
REPORTING_QUERIES = ("operational", "outcomes", "work")
ROUTING_APPROVAL_FIRST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policies",
                                      "routing-approval-first.yaml")
# Approval's targets (issue 10) and the peer the end-to-end rate is put beside:
# Temporal's published ceiling for workflows with a human step on a machine
# like this one.
DECIDE_RATE_TARGET = 3000
TEMPORAL_WORKFLOWS_PER_SECOND = 19
E2E_RATES = (250, 500, 1000)
E2E_P99_LIMIT_MS = 200.0

# What a scenario's size is, full and --quick.
SIZES = {
    "full": {"warmup": 3, "seconds": 20, "step_seconds": 20, "backlog": 200_000,
             "topic_events": 1_000_000, "sweep_steps": 6, "catch_up": 180,
             "decide_chains": 60_000, "verify_calls": 1000, "armed_timers": 1_000_000,
             "leads": 1_000_000, "history_requests": 1_000_000, "fresh_samples": 300},
    "quick": {"warmup": 1, "seconds": 5, "step_seconds": 5, "backlog": 20_000,
              "topic_events": 100_000, "sweep_steps": 3, "catch_up": 60,
              "decide_chains": 10_000, "verify_calls": 200, "armed_timers": 100_000,
              "leads": 100_000, "history_requests": 100_000, "fresh_samples": 100},
}
CONCURRENCY = 64        # closed loop: calls in flight
OPEN_CONCURRENCY = 512  # open loop: most calls in flight
ROUTED_P99_LIMIT_MS = 1000.0


def say(*words):
    print("loadtest:", *words, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- CPU time

def process_cpu(pid):
    """User + system CPU seconds of a running process, all threads; None once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def machine_busy():
    """CPU seconds the whole machine spent busy (not idle or waiting for I/O)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICK


def own_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class CpuMeter:
    """CPU seconds per process over one scenario: the long-running ones by
    pid, the tools the scenario ran by their rusage, and whatever else ran on
    the machine meanwhile ("other")."""

    def __init__(self, processes):
        self.processes = dict(processes)  # name -> pid
        self.tools = {}
        self.start = {name: process_cpu(pid) for name, pid in self.processes.items()}
        self.busy = machine_busy()
        self.own = own_cpu()
        self.wall = time.monotonic()

    def add_tool(self, name, seconds):
        self.tools[name] = self.tools.get(name, 0.0) + seconds

    def result(self):
        cpu = {}
        for name, pid in self.processes.items():
            now = process_cpu(pid)
            if now is not None and self.start[name] is not None:
                cpu[name] = round(now - self.start[name], 2)
        for name, seconds in self.tools.items():
            cpu[name] = round(seconds, 2)
        cpu["harness"] = round(own_cpu() - self.own, 2)
        other = machine_busy() - self.busy - sum(cpu.values())
        cpu["other"] = round(max(0.0, other), 2)
        return {"cpu_seconds": cpu, "wall_seconds": round(time.monotonic() - self.wall, 2)}


def run_tool(args, meter=None, name=None, stdin=None, stdout=subprocess.PIPE, stderr=None):
    """Runs a tool to its end; returns (exit code, stdout text, wall seconds)
    and adds its CPU time to `meter` under `name`."""
    started = time.monotonic()
    child = subprocess.Popen(args, stdin=stdin, stdout=stdout, stderr=stderr, text=True)
    out = child.stdout.read() if stdout == subprocess.PIPE else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if meter is not None:
        meter.add_tool(name or os.path.basename(args[0]), usage.ru_utime + usage.ru_stime)
    return child.returncode, out, wall


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


# ---------------------------------------------------------------- services

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Service:
    """A Flywheel service as its own process, as deploy/dev/run.sh runs it."""

    def __init__(self, name, build, logs, env=None):
        self.name = name
        self.grpc_port = free_port()
        self.metrics_port = free_port()
        env = dict(os.environ,
                   FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS=os.environ["FLYWHEEL_TEST_KAFKA"],
                   FLYWHEEL_REDIS_ENDPOINT=os.environ["FLYWHEEL_TEST_REDIS"],
                   FLYWHEEL_LOG_LEVEL="warn",
                   # Loopback only; the figures leave out token verification.
                   FLYWHEEL_AUTH_DEV_MODE="true",
                   FLYWHEEL_GRPC_LISTEN=f"127.0.0.1:{self.grpc_port}",
                   FLYWHEEL_METRICS_LISTEN=f"127.0.0.1:{self.metrics_port}",
                   **(env or {}))
        self.log = open(os.path.join(logs, f"{name}.log"), "a")
        self.started = time.monotonic()
        self.process = subprocess.Popen([os.path.join(build, "services", name, f"flywheel-{name}")],
                                        env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 120
        # A service binds /metrics only once fully started.
        while not (port_open(self.grpc_port) and port_open(self.metrics_port)):
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.process.returncode} while starting "
                                   f"(see {self.log.name})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} does not answer after 120 s")
            time.sleep(0.1)
        say(f"{name} up on gRPC 127.0.0.1:{self.grpc_port}")

    @property
    def pid(self):
        return self.process.pid

    @property
    def target(self):
        return f"127.0.0.1:{self.grpc_port}"

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            return r.read().decode()

    def handled_events(self):
        """Events the service's consumers have finished with (any outcome but retried)."""
        total = 0.0
        for line in self.metrics().splitlines():
            if line.startswith("flywheel_kafka_handled_events_total{") and \
                    'outcome="retried"' not in line:
                total += float(line.rsplit(" ", 1)[1])
        return int(total)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class EmptyServer:
    def __init__(self, build, api, logs):
        self.log = open(os.path.join(logs, f"empty-{api}.log"), "a")
        self.process = subprocess.Popen(
            [os.path.join(build, "loadtest", "flywheel-loadtest-empty"), f"--api={api}"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.port = int(self.process.stdout.readline())

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


def redis_command(*args):
    """One command to the test bed's Redis; its reply's first line."""
    host, port = os.environ["FLYWHEEL_TEST_REDIS"].rsplit(":", 1)
    payload = f"*{len(args)}\r\n" + "".join(f"${len(str(a))}\r\n{a}\r\n" for a in args)
    with socket.create_connection((host, int(port)), timeout=60) as s:
        s.sendall(payload.encode())
        return s.recv(65536).split(b"\r\n", 1)[0].decode()


def redis_info(section):
    """Redis's INFO `section` as a dict of its fields."""
    host, port = os.environ["FLYWHEEL_TEST_REDIS"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=60) as s:
        s.sendall(f"*2\r\n$4\r\nINFO\r\n${len(section)}\r\n{section}\r\n".encode())
        data = b""
        while b"\r\n" not in data:
            data += s.recv(65536)
        head, rest = data.split(b"\r\n", 1)
        length = int(head[1:])
        while len(rest) < length:
            rest += s.recv(65536)
    fields = {}
    for line in rest[:length].decode().splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value
    return fields


def redis_used_memory():
    return int(redis_info("memory")["used_memory"])


def redis_pid():
    host, port = os.environ["FLYWHEEL_TEST_REDIS"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"INFO server\r\n")
        data = b""
        while b"process_id:" not in data or not data.endswith(b"\r\n"):
            data += s.recv(65536)
    return int(re.search(rb"process_id:(\d+)", data).group(1))


# ---------------------------------------------------------------- Kafka

def kafka():
    return os.environ["FLYWHEEL_TEST_KAFKA"]


def topic_records(topic):
    """Records in `topic`: the sum of its partitions' high watermarks (the
    test bed's broker is fresh and deletes nothing)."""
    for _ in range(20):
        code, out, _ = run_tool(["kcat", "-b", kafka(), "-L", "-J", "-t", topic],
                                stderr=subprocess.DEVNULL)
        if code != 0:
            time.sleep(0.5)
            continue
        partitions = [p["partition"] for t in json.loads(out)["topics"]
                      for p in t.get("partitions", [])]
        if not partitions:
            return 0  # no such topic yet
        args = ["kcat", "-b", kafka(), "-Q"]
        for p in partitions:
            args += ["-t", f"{topic}:{p}:-1"]
        code, out, _ = run_tool(args, stderr=subprocess.DEVNULL)
        offsets = re.findall(r"offset (-?\d+)", out)
        if code == 0 and len(offsets) == len(partitions):
            return sum(int(m) for m in offsets)
        time.sleep(0.5)  # a fresh topic's leaders may not be known yet
    raise RuntimeError(f"cannot read the offsets of {topic}")


# ---------------------------------------------------------------- scenarios

# Groups of results written before records said their group.
OLD_SCENARIO_GROUPS = {"limit_empty_unary": "empty", "limit_empty_unary_sync": "empty",
                       "submit_to_routed": "routed", "submit_to_routed_max_rate": "routed",
                       "submit_closed_loop": "submit", "routing_backlog_drain": "backlog",
                       "limit_kcat_consume": "consume", "noop_batch_consume": "consume"}


def group_of(record):
    name = record.get("scenario", "")
    if name.endswith("_failed"):
        return name[:-len("_failed")]
    return record.get("group") or OLD_SCENARIO_GROUPS.get(name)


def kept_results(path, groups, date):
    """The records of `path` for groups other than `groups`, each with the
    date of its run (the machine file's, for records that do not say)."""
    kept = []
    try:
        with open(path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    if group_of(record) not in groups:
                        record.setdefault("run_date", date)
                        record["group"] = group_of(record)
                        kept.append(record)
    except OSError:
        pass
    return kept


class Run:
    def __init__(self, args, groups, date):
        self.build = args.build
        self.work = args.work
        self.quick = args.quick
        self.size = SIZES["quick" if args.quick else "full"]
        self.logs = os.path.join(args.work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.results_path = os.path.join(args.results, "results.jsonl")
        self.date = date
        self.group = None
        kept = []
        if set(groups) != set(GROUPS):
            try:
                with open(os.path.join(args.results, "machine.json")) as f:
                    earlier = json.load(f).get("date")
            except (OSError, ValueError):
                earlier = None
            kept = kept_results(self.results_path, groups, earlier)
        self.results = open(self.results_path, "w")
        for record in kept:
            self.results.write(json.dumps(record) + "\n")
        self.base = {"kafka": int(os.environ["FLYWHEEL_TEST_KAFKA_PID"]), "redis": redis_pid()}
        self.limits = {}
        self.intake = None
        self.routing = None

    def tool(self, name):
        return os.path.join(self.build, "loadtest", name)

    def write(self, record):
        record.setdefault("quick", self.quick)
        record.setdefault("group", self.group)
        record.setdefault("run_date", self.date)
        self.results.write(json.dumps(record) + "\n")
        self.results.flush()
        say(json.dumps(record))

    def meter(self, **processes):
        return CpuMeter({**self.base, **processes})

    def loadgen(self, meter, target, method="submit", rate=None, follow=False, requests=None,
                seconds=None):
        args = [self.tool("flywheel-loadtest-submit"), f"--target={target}", f"--method={method}",
                "--json"]
        if requests:
            args += [f"--requests={requests}", f"--concurrency={CONCURRENCY}"]
        else:
            args += [f"--warmup={self.size['warmup']}s",
                     f"--duration={seconds or self.size['seconds']}s"]
        if rate:
            args += [f"--rate={rate}", f"--concurrency={OPEN_CONCURRENCY}"]
        elif not requests:
            args += [f"--concurrency={CONCURRENCY}"]
        if follow:
            args += [f"--kafka={kafka()}"]
        _, out, _ = run_tool(args, meter, "loadgen")
        result = last_json(out)
        if result is None:
            raise RuntimeError(f"the load generator printed no result: {' '.join(args)}")
        return result

    @staticmethod
    def latency(result):
        return {k: result[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")}

    def call_record(self, scenario, result, meter, **extra):
        return {"scenario": scenario, "offered_rate": result["offered_rate"],
                "achieved_rate": result["achieved_rate"], **self.latency(result),
                "concurrency": result["concurrency"], "calls_ok": result["ok"],
                "calls_failed": result["failed"], "measured_seconds": result["seconds"],
                **meter.result(), **extra}

    # -- the empty-method limits
    def empty(self):
        for api in ("callback", "sync"):
            server = EmptyServer(self.build, api, self.logs)
            meter = self.meter(empty_server=server.process.pid)
            result = self.loadgen(meter, f"127.0.0.1:{server.port}", method="empty")
            record = self.call_record("limit_empty_unary" + ("" if api == "callback" else "_sync"),
                                      result, meter, server_api=api)
            server.stop()
            self.limits[record["scenario"]] = record["achieved_rate"]
            self.write(record)

    def start_services(self, *names):
        for name in names:
            if getattr(self, name) is None:
                setattr(self, name, Service(name, self.build, self.logs))

    def stop_service(self, name):
        service = getattr(self, name)
        if service is not None:
            service.stop()
            setattr(self, name, None)

    def alone(self):
        """Stops intake and routing, which the first groups run: each later
        group measures its own service with nothing else consuming."""
        for name in ("intake", "routing"):
            self.stop_service(name)

    def caught_up(self, deadline_seconds):
        """Waits until routing has handled every record on the requests topic."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.routing.handled_events() >= topic_records(REQUESTS_TOPIC):
                return True
            time.sleep(1)
        return False

    # -- submit -> routed at 1,000/s, then the sweep
    def routed(self):
        self.start_services("intake", "routing")
        steps = []

        def step(rate):
            meter = self.meter(intake=self.intake.pid, routing=self.routing.pid)
            result = self.loadgen(meter, self.intake.target, rate=rate, follow=True,
                                  seconds=self.size["step_seconds"])
            routed = result["routed"]
            caught_up = self.caught_up(self.size["catch_up"])
            passed = (routed["p99_ms"] is not None and routed["p99_ms"] < ROUTED_P99_LIMIT_MS
                      and routed["never_routed"] == 0
                      and result["achieved_rate"] >= 0.95 * rate)
            record = {"scenario": "submit_to_routed", "offered_rate": rate,
                      "achieved_rate": result["achieved_rate"],
                      **{k: routed[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")},
                      "never_routed": routed["never_routed"], "routed_samples": routed["samples"],
                      "submit_call": self.latency(result), "calls_failed": result["failed"],
                      "measured_seconds": result["seconds"],
                      "p99_under_1s": passed, "routing_caught_up_after": caught_up,
                      **meter.result()}
            self.write(record)
            steps.append(record)
            return passed and caught_up

        # The figure the target names, then up or down by doubling until p99
        # crosses 1 s, then one step between the last pass and the first fail.
        passed_rates, failed_rates = [], []
        rate = 1000
        while len(steps) < self.size["sweep_steps"]:
            (passed_rates if step(rate) else failed_rates).append(rate)
            if failed_rates and passed_rates:
                break
            if not steps[-1]["routing_caught_up_after"]:
                break  # a backlog left behind would spoil every later step
            rate = rate * 2 if not failed_rates else rate // 2
            if rate < 125:
                break
        if passed_rates and failed_rates and len(steps) < self.size["sweep_steps"] \
                and steps[-1]["routing_caught_up_after"]:
            low, high = max(passed_rates), min(r for r in failed_rates if r > max(passed_rates))
            middle = int(round(math.sqrt(low * high) / 50) * 50)
            if low < middle < high:
                (passed_rates if step(middle) else failed_rates).append(middle)
        self.write({"scenario": "submit_to_routed_max_rate",
                    "offered_rate": None,
                    "achieved_rate": max(passed_rates) if passed_rates else None,
                    "max_rate_p99_under_1s": max(passed_rates) if passed_rates else None,
                    "lowest_failing_rate": min(failed_rates) if failed_rates else None,
                    "rates_tried": [s["offered_rate"] for s in steps],
                    "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None,
                    "cpu_seconds": {}, "wall_seconds": sum(s["wall_seconds"] for s in steps)})

    # -- SubmitRequest closed loop, routing stopped; then the backlog's fill
    def submit(self):
        self.start_services("intake")
        self.stop_service("routing")
        self.backlog_base = topic_records(REQUESTS_TOPIC)
        meter = self.meter(intake=self.intake.pid)
        result = self.loadgen(meter, self.intake.target)
        limit = self.limits.get("limit_empty_unary")
        self.write(self.call_record(
            "submit_closed_loop", result, meter, routing_running=False,
            limit="limit_empty_unary", limit_rate=limit,
            share_of_limit=round(result["achieved_rate"] / limit, 4) if limit else None))

    def backlog(self):
        self.start_services("intake")
        self.stop_service("routing")
        if not hasattr(self, "backlog_base"):
            self.backlog_base = topic_records(REQUESTS_TOPIC)
        wanted = self.size["backlog"]
        have = topic_records(REQUESTS_TOPIC) - self.backlog_base
        if have < wanted:
            say(f"submitting {wanted - have} requests with routing stopped")
            self.loadgen(None, self.intake.target, requests=wanted - have)
        deadline = time.monotonic() + 60
        while topic_records(REQUESTS_TOPIC) - self.backlog_base < wanted \
                and time.monotonic() < deadline:
            time.sleep(1)
        backlog = topic_records(REQUESTS_TOPIC) - self.backlog_base
        self.stop_service("intake")  # routing alone drains it

        started = time.monotonic()
        self.start_services("routing")
        meter = self.meter(routing=self.routing.pid)
        rate, handled, took = self.drain(self.routing, backlog, started=started)
        self.write({"scenario": "routing_backlog_drain", "offered_rate": None,
                    "achieved_rate": rate, "p50_ms": None, "p90_ms": None, "p99_ms": None,
                    "max_ms": None, "backlog_events": backlog, "handled_events": handled,
                    "complete": handled >= backlog, "seconds_start_to_drained": took,
                    "target_rate": 10_000, **meter.result()})
        self.stop_service("routing")

    def kcat_run(self, topic, events):
        """kcat reading `events` of `topic` from the start, output discarded:
        events/s over its whole process."""
        meter = self.meter()
        with open(os.devnull, "w") as sink:
            code, _, wall = run_tool(["kcat", "-C", "-b", kafka(), "-t", topic,
                                      "-o", "beginning", "-e", "-q", "-c", str(events),
                                      "-f", "%o\n"], meter, "kcat", stdout=sink)
        return {"rate": round(events / wall, 1), "seconds": round(wall, 3), "ok": code == 0,
                **meter.result()}

    # -- a no-op batch handler against kcat on the same topic
    def consume(self):
        events = self.size["topic_events"]
        code, _, _ = run_tool([self.tool("flywheel-loadtest-consume"), f"--kafka={kafka()}",
                               f"--topic={NOOP_TOPIC}", "--create", "--partitions=12"])
        if code != 0:
            raise RuntimeError(f"cannot create {NOOP_TOPIC}")
        missing = events - topic_records(NOOP_TOPIC)
        if missing > 0:
            say(f"producing {missing} events to {NOOP_TOPIC} with kcat")
            path = os.path.join(self.work, "noop-events.txt")
            payload = "x" * 200
            with open(path, "w") as f:
                for i in range(missing):
                    f.write(f"req-{i:08d}\t{payload}\n")
            with open(path) as f:
                code, _, wall = run_tool(
                    ["kcat", "-P", "-b", kafka(), "-t", NOOP_TOPIC, "-K", "\t",
                     "-H", "ce_specversion=1.0", "-H", "ce_id=loadtest-noop",
                     "-H", "ce_source=/loadtest", "-H", "ce_type=loadtest.noop",
                     "-H", "content-type=application/protobuf", "-X", "linger.ms=20"],
                    stdin=f)
            os.remove(path)
            if code != 0:
                raise RuntimeError("kcat could not produce the topic")
            say(f"produced in {wall:.1f} s")
        events = topic_records(NOOP_TOPIC)

        kcat_runs, noop_runs = [], []
        for _ in range(2):
            kcat_runs.append(self.kcat_run(NOOP_TOPIC, events))
            meter = self.meter()
            _, out, _ = run_tool([self.tool("flywheel-loadtest-consume"), f"--kafka={kafka()}",
                                  f"--topic={NOOP_TOPIC}", f"--events={events}"],
                                 meter, "noop_consumer")
            noop_runs.append({**(last_json(out) or {"rate": None}), **meter.result()})

        def best(runs):
            return max((r for r in runs if r.get("rate")), key=lambda r: r["rate"], default=None)

        kcat_best, noop_best = best(kcat_runs), best(noop_runs)
        limit = kcat_best["rate"] if kcat_best else None
        self.write({"scenario": "limit_kcat_consume", "offered_rate": None, "achieved_rate": limit,
                    "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None,
                    "events": events, "partitions": 12, "runs": kcat_runs,
                    "cpu_seconds": kcat_best["cpu_seconds"] if kcat_best else {},
                    "wall_seconds": kcat_best["wall_seconds"] if kcat_best else None})
        rate = noop_best["rate"] if noop_best else None
        self.write({"scenario": "noop_batch_consume", "offered_rate": None, "achieved_rate": rate,
                    "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None,
                    "events": events, "partitions": 12, "runs": noop_runs,
                    "limit": "limit_kcat_consume", "limit_rate": limit,
                    "share_of_limit": round(rate / limit, 4) if rate and limit else None,
                    "cpu_seconds": noop_best["cpu_seconds"] if noop_best else {},
                    "wall_seconds": noop_best["wall_seconds"] if noop_best else None})

    # -- approval: Decide, VerifyAudit, version -> step started, submit -> stage advanced
    def approval_tool(self, meter, *flags):
        args = [self.tool("flywheel-loadtest-approval"), f"--kafka={kafka()}", "--json", *flags]
        code, out, _ = run_tool(args, meter, "loadgen")
        result = last_json(out)
        if result is None:
            raise RuntimeError(f"the approval load generator printed no result: {' '.join(args)}")
        result["exit_code"] = code
        return result

    def approval(self):
        # Topics and keys of their own: the workflows topic already holds the
        # earlier groups' request.routed events, which a fresh approval group
        # would read from the start and open chains for.
        self.alone()
        env = {"FLYWHEEL_KAFKA_TOPIC_PREFIX": "lt-approval.",
               "FLYWHEEL_REDIS_KEY_PREFIX": "lt-approval:"}
        prefix = f"--topic_prefix={env['FLYWHEEL_KAFKA_TOPIC_PREFIX']}"
        empty = EmptyServer(self.build, "callback", self.logs)
        approval = Service("approval", self.build, self.logs, env)
        try:
            # The peers first: the empty method closed loop (64 in flight) and
            # one call at a time.
            peers = {}
            for concurrency, calls in ((CONCURRENCY, None), (1, self.size["verify_calls"])):
                meter = self.meter(empty_server=empty.process.pid)
                if calls:
                    args = [self.tool("flywheel-loadtest-submit"),
                            f"--target=127.0.0.1:{empty.port}", "--method=empty", "--json",
                            f"--requests={calls}", "--concurrency=1"]
                    _, out, _ = run_tool(args, meter, "loadgen")
                    result = last_json(out)
                else:
                    result = self.loadgen(meter, f"127.0.0.1:{empty.port}", method="empty")
                peers[concurrency] = result
                self.write(self.call_record(f"limit_empty_unary_c{concurrency}", result, meter,
                                            server_api="callback"))

            chains = self.size["decide_chains"]
            for rate in (0, DECIDE_RATE_TARGET):
                count = chains if rate == 0 else DECIDE_RATE_TARGET * self.size["seconds"]
                meter = self.meter(approval=approval.pid)
                result = self.approval_tool(meter, f"--approval={approval.target}", prefix,
                                            "--scenario=decide", f"--chains={count}",
                                            f"--rate={rate}", f"--concurrency={CONCURRENCY}")
                decide = result["decide"]
                limit = peers[CONCURRENCY]["achieved_rate"]
                self.write({"scenario": "approval_decide" + ("_closed_loop" if rate == 0 else ""),
                            "offered_rate": rate or None, "achieved_rate": decide["achieved_rate"],
                            **self.latency(decide), "concurrency": CONCURRENCY,
                            "calls_ok": decide["ok"], "calls_failed": decide["failed"],
                            "chains": count, "prepare_seconds": result.get("prepare_seconds"),
                            "submit_version": result.get("submit_version"),
                            "limit": "limit_empty_unary_c64", "limit_rate": limit,
                            "share_of_limit": round(decide["achieved_rate"] / limit, 4),
                            **meter.result()})

            meter = self.meter(approval=approval.pid)
            result = self.approval_tool(meter, f"--approval={approval.target}", prefix,
                                        "--scenario=verify", "--entries=1000",
                                        f"--calls={self.size['verify_calls']}")
            verify = result["verify_audit"]
            peer = peers[1]
            self.write({"scenario": "approval_verify_audit", "offered_rate": None,
                        "achieved_rate": verify["achieved_rate"], **self.latency(verify),
                        "concurrency": 1, "calls_ok": verify["ok"],
                        "calls_failed": verify["failed"], "entries": result.get("entries"),
                        "intact": bool(result.get("intact")),
                        "limit": "limit_empty_unary_c1", "limit_p99_ms": peer["p99_ms"],
                        "times_limit_p99": round(verify["p99_ms"] / peer["p99_ms"], 1),
                        **meter.result()})

            rate = 1000
            meter = self.meter(approval=approval.pid)
            result = self.approval_tool(meter, f"--approval={approval.target}", prefix,
                                        "--scenario=started",
                                        f"--chains={rate * self.size['seconds']}",
                                        f"--rate={rate}", f"--concurrency={OPEN_CONCURRENCY}")
            started, call = result["step_started"], result["submit_version"]
            self.write({"scenario": "approval_version_to_step_started", "offered_rate": rate,
                        "achieved_rate": call["achieved_rate"], **self.latency(started),
                        "never_started": result.get("never_started"),
                        "submit_version_call": self.latency(call),
                        "calls_failed": call["failed"], **meter.result()})
        finally:
            approval.stop()
            empty.stop()

        # The whole pipeline, in topics and keys of its own again, routing on a
        # policy whose template begins with the approval stage.
        env = {"FLYWHEEL_KAFKA_TOPIC_PREFIX": "lt-e2e.", "FLYWHEEL_REDIS_KEY_PREFIX": "lt-e2e:"}
        services = {}
        try:
            services["approval"] = Service("approval", self.build, self.logs, env)
            services["routing"] = Service("routing", self.build, self.logs,
                                          {**env, "FLYWHEEL_ROUTING_POLICY_FILE":
                                           ROUTING_APPROVAL_FIRST})
            services["intake"] = Service("intake", self.build, self.logs, env)
            # Rising, so a backlog the highest rate leaves behind spoils nothing.
            for rate in E2E_RATES:
                meter = self.meter(**{name: s.pid for name, s in services.items()})
                result = self.approval_tool(
                    meter, f"--approval={services['approval'].target}",
                    f"--intake={services['intake'].target}",
                    f"--topic_prefix={env['FLYWHEEL_KAFKA_TOPIC_PREFIX']}", "--scenario=e2e",
                    f"--rate={rate}", f"--concurrency={OPEN_CONCURRENCY}",
                    f"--warmup={self.size['warmup']}s", f"--duration={self.size['seconds']}s")
                advanced = result["stage_advanced"]
                call = result["submit_request"]
                passed = (advanced["p99_ms"] is not None and advanced["p99_ms"] < E2E_P99_LIMIT_MS
                          and not result.get("never_advanced")
                          and call["achieved_rate"] >= 0.95 * rate)
                self.write({"scenario": "approval_end_to_end", "offered_rate": rate,
                            "achieved_rate": call["achieved_rate"], **self.latency(advanced),
                            "p99_under_200ms": passed,
                            "hops": {hop: self.latency(result[hop])
                                     for hop in ("routed", "step_started", "completed",
                                                 "stage_advanced", "routed_to_step_started")},
                            "submit_call": self.latency(call), "calls_failed": call["failed"],
                            "never_advanced": result.get("never_advanced"),
                            "version_retries": result.get("version_retries"),
                            "decide_retries": result.get("decide_retries"),
                            "reaction_failures": result.get("reaction_failures"),
                            "peer": "Temporal", "peer_rate": TEMPORAL_WORKFLOWS_PER_SECOND,
                            "times_peer_rate": round(rate / TEMPORAL_WORKFLOWS_PER_SECOND, 1),
                            **meter.result()})
        finally:
            for service in services.values():
                service.stop()

    # -- timers: arming, memory per timer, fire lag, two replicas, beside BullMQ
    def timers_tool(self, meter, *flags):
        return self.json_tool(meter, "timer", [
            self.tool("flywheel-loadtest-timers"), f"--redis={os.environ['FLYWHEEL_TEST_REDIS']}",
            f"--kafka={kafka()}", "--json", *flags])

    @staticmethod
    def json_tool(meter, what, args):
        """Runs a load generator as `loadgen`; its last JSON line."""
        code, out, _ = run_tool(args, meter, "loadgen")
        result = last_json(out)
        if result is None or code != 0:
            raise RuntimeError(f"the {what} load generator failed: {' '.join(args)}")
        return result

    def bullmq(self, meter, *args):
        code, out, _ = run_tool(["node", os.path.join(BULLMQ, "timers.mjs"), *args,], meter,
                                "bullmq")
        result = last_json(out)
        if result is None or code != 0:
            raise RuntimeError(f"BullMQ's script failed: {' '.join(args)}")
        return result

    def timers(self):
        self.alone()
        if not os.path.isdir(os.path.join(BULLMQ, "node_modules", "bullmq")):
            say("installing BullMQ (npm ci)")
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BULLMQ, check=True,
                           stdout=subprocess.DEVNULL)
        redis = os.environ["FLYWHEEL_TEST_REDIS"]
        count = self.size["armed_timers"]
        # Each side on an empty Redis, so used_memory counts its own keys.
        redis_command("FLUSHALL")
        meter = self.meter()
        ours = self.timers_tool(meter, "--mode=arm", f"--timers={count}", "--key_prefix=lt-arm:")
        ours_cpu = meter.result()
        redis_command("FLUSHALL")
        meter = self.meter()
        theirs = self.bullmq(meter, "arm", redis, str(count))
        theirs_cpu = meter.result()
        redis_command("FLUSHALL")
        self.write({"scenario": "timers_arm", "offered_rate": None, "achieved_rate": ours["rate"],
                    "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None,
                    "timers": count, "bytes_per_timer": round(ours["bytes_per_timer"], 1),
                    "peer": "BullMQ delayed jobs", "peer_rate": round(theirs["rate"], 1),
                    "peer_bytes": round(theirs["bytes_per_job"], 1),
                    "times_peer_rate": round(ours["rate"] / theirs["rate"], 2),
                    "share_of_peer_bytes": round(ours["bytes_per_timer"] / theirs["bytes_per_job"], 2),
                    "peer_cpu_seconds": theirs_cpu["cpu_seconds"], **ours_cpu})

        seconds = self.size["seconds"]
        env = {"FLYWHEEL_KAFKA_TOPIC_PREFIX": "lt-timers.", "FLYWHEEL_REDIS_KEY_PREFIX": "lt-timers:"}
        # One replica firing one batch after another (claim, publish, complete),
        # the peer of the same replica pipelining batches; then two replicas.
        steps = [("timers_fire_lag_1_replica_one_batch_at_a_time", 1,
                  {"FLYWHEEL_SCHEDULER_CLAIMER_IN_FLIGHT": "1"}),
                 ("timers_fire_lag_1_replica", 1, {"FLYWHEEL_SCHEDULER_CLAIMER_IN_FLIGHT": "4"}),
                 ("timers_fire_lag_2_replicas", 2, {"FLYWHEEL_SCHEDULER_CLAIMER_IN_FLIGHT": "4"})]
        replicas = []
        try:
            for scenario, wanted, extra in steps:
                if extra or (replicas and replicas[0].extra):
                    for r in replicas:
                        r.stop()
                    replicas = []
                while len(replicas) < wanted:
                    # Each its own static group member, as each pod is.
                    member = {"FLYWHEEL_KAFKA_GROUP_INSTANCE_ID":
                              f"loadtest-scheduler-{len(replicas) + 1}"}
                    replicas.append(Service("scheduler", self.build, self.logs,
                                            {**env, **extra, **member}))
                    replicas[-1].extra = extra
                before = [self.fired(r) for r in replicas]
                stages_before = [self.fire_stages(r) for r in replicas]
                meter = self.meter(**{f"scheduler_{i + 1}": r.pid for i, r in enumerate(replicas)})
                result = self.timers_tool(meter, "--mode=due", f"--rate={TIMER_DUE_RATE}",
                                          f"--seconds={seconds}", "--key_prefix=lt-timers:",
                                          "--topic_prefix=lt-timers.")
                shares = [self.fired(r) - b for r, b in zip(replicas, before)]
                stages = self.stage_means([self.fire_stages(r) for r in replicas], stages_before)
                batches = stages.pop("batches")
                lag = result["lag"]
                self.write({"scenario": scenario,
                            "offered_rate": TIMER_DUE_RATE, "achieved_rate": None,
                            **{k: lag[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")},
                            "timers": result["timers"], "fired": result["fired"],
                            "never_fired": result["never_fired"],
                            "fired_twice": result["fired_twice"], "fired_per_replica": shares,
                            "batches_in_flight":
                                int(extra.get("FLYWHEEL_SCHEDULER_CLAIMER_IN_FLIGHT", 4)),
                            "batches": batches,
                            "points_per_batch": round(sum(shares) / batches, 1) if batches else None,
                            "stage_mean_ms": stages,
                            **meter.result()})
        finally:
            for r in replicas:
                r.stop()
        redis_command("FLUSHALL")
        meter = self.meter()
        theirs = self.bullmq(meter, "due", redis, str(TIMER_DUE_RATE), str(seconds))
        lag = theirs["lag"]
        self.write({"scenario": "bullmq_fire_lag", "offered_rate": TIMER_DUE_RATE,
                    "achieved_rate": None,
                    **{k: lag[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")},
                    "timers": theirs["jobs"], "fired": theirs["fired"],
                    "never_fired": theirs["never_fired"], **meter.result()})

    @staticmethod
    def fire_stages(service):
        """{stage: [sum of seconds, batches]} of the scheduler's fire stages."""
        stages = {}
        for line in service.metrics().splitlines():
            if not line.startswith("flywheel_scheduler_fire_stage_seconds_"):
                continue
            name, value = line.rsplit(" ", 1)
            stage = name.split('stage="', 1)[1].split('"', 1)[0]
            if name.startswith("flywheel_scheduler_fire_stage_seconds_sum"):
                stages.setdefault(stage, [0.0, 0])[0] = float(value)
            elif name.startswith("flywheel_scheduler_fire_stage_seconds_count"):
                stages.setdefault(stage, [0.0, 0])[1] = int(float(value))
        return stages

    @staticmethod
    def stage_means(after, before):
        """Mean ms per batch of each stage over every replica, and the batches claimed."""
        out = {"batches": 0}
        for a, b in zip(after, before):
            for stage, (total, count) in a.items():
                was = b.get(stage, [0.0, 0])
                sums = out.setdefault(stage, [0.0, 0])
                sums[0] += total - was[0]
                sums[1] += count - was[1]
        for stage in [k for k in out if k != "batches"]:
            total, count = out[stage]
            if stage == "claim":
                out["batches"] = count
            out[stage] = round(1000 * total / count, 2) if count else None
        return out

    @staticmethod
    def fired(service):
        total = 0.0
        for line in service.metrics().splitlines():
            if line.startswith("flywheel_scheduler_fired_total{"):
                total += float(line.rsplit(" ", 1)[1])
        return int(total)

    # -- leads: lead scoring on a million leads, beside kcat on the same topic
    def leads_tool(self, meter, *flags):
        return self.json_tool(meter, "lead", [
            self.tool("flywheel-loadtest-leads"), f"--kafka={kafka()}",
            f"--topic_prefix={LEADS_PREFIX}", "--json", *flags])

    @staticmethod
    def metric_total(service, name):
        total = 0.0
        for line in service.metrics().splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return int(total)

    @staticmethod
    def drain(service, backlog, on_first=None, started=None):
        """Polls the service's handled events every 0.2 s until `backlog`
        are handled (or nothing moves for 60 s); returns (events/s between
        the first poll that sees work and the one that sees the backlog
        done, events handled, seconds from `started` (default now) to
        done). `on_first` runs once the first work is seen."""
        started = started if started is not None else time.monotonic()
        first, last, stalled_since = None, (started, 0), started
        while True:
            handled = service.handled_events()
            now = time.monotonic()
            if handled > 0 and first is None:
                first = (now, handled)
                if on_first:
                    on_first()
            if handled > last[1]:
                stalled_since = now
            last = (now, handled)
            if handled >= backlog or now - stalled_since > 60:
                break
            time.sleep(0.2)
        rate = None
        if first is not None and last[0] > first[0]:
            rate = round((last[1] - first[1]) / (last[0] - first[0]), 1)
        return rate, last[1], round(last[0] - started, 2)

    def profile_start(self, pid, name):
        """perf record of one process at 499 Hz until profile_stop; None
        when perf is missing or may not attach."""
        path = os.path.join(self.work, f"{name}.perf")
        try:
            child = subprocess.Popen(["perf", "record", "-F", "499", "-e", "cpu-clock", "-o", path,
                                      "-p", str(pid)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        except OSError:
            return None
        return child, path

    @staticmethod
    def profile_stop(profile, top=15):
        """The profile's largest shares: by shared object, and by symbol."""
        if profile is None:
            return None
        child, path = profile
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            return None
        out = {}
        for key, sort in (("by_object", "dso"), ("by_symbol", "dso,sym")):
            text = command_output("perf", "report", "-i", path, "--stdio", "--no-children",
                                  "--sort", sort)
            rows = []
            for line in text.splitlines():
                m = re.match(r"^\s*([\d.]+)%\s+(\S+)(?:\s+\[.\]\s+(.+?))?\s*$", line)
                if m and not line.lstrip().startswith("#"):
                    row = {"share": round(float(m.group(1)) / 100, 4), "object": m.group(2)}
                    if m.group(3):
                        row["symbol"] = m.group(3)[:80]
                    rows.append(row)
            out[key] = rows[:top]
            samples = re.search(r"# Samples: (\S+) of event", text)
            if samples:
                out["samples"] = samples.group(1)
        return out if out.get("by_object") else None

    def kcat_leads(self, topic, events):
        runs = [self.kcat_run(topic, events) for _ in range(2)]
        return max((r for r in runs if r["ok"]), key=lambda r: r["rate"], default=None), runs

    def leads(self):
        self.alone()
        count = self.size["leads"]
        warmup, seconds = self.size["warmup"], self.size["seconds"]
        # The last leads are kept for the hand-off latency; the mix goes to
        # the others.
        qualify_leads = int(LEADS_QUALIFY_RATE * (warmup + seconds))
        mix_leads = count - qualify_leads
        topic = LEADS_PREFIX + LEAD_ACTIVITY_TOPIC
        env = {"FLYWHEEL_KAFKA_TOPIC_PREFIX": LEADS_PREFIX,
               "FLYWHEEL_REDIS_KEY_PREFIX": "lt-leads:"}
        redis_command("FLUSHALL")
        memory_empty = redis_used_memory()

        # 1. The leads: one demo request each, produced before the service
        # runs, then drained (this creates their state in Redis), profiled.
        say(f"producing {count} preload activities")
        meter = self.meter()
        produced = self.leads_tool(meter, "--mode=preload", f"--leads={count}")
        produce_cpu = meter.result()
        service = Service("lead-scoring", self.build, self.logs, env)
        try:
            meter = self.meter(lead_scoring=service.pid)
            holder = {}
            rate, handled, took = self.drain(
                service, count,
                on_first=lambda: holder.update(p=self.profile_start(service.pid, "lead-scoring")))
            profile = self.profile_stop(holder.get("p"))
            time.sleep(1)
            memory_leads = redis_used_memory()
            self.write({"scenario": "leads_preload", "offered_rate": None, "achieved_rate": rate,
                        "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None,
                        "leads": count, "handled_events": handled, "complete": handled >= count,
                        "seconds_start_to_drained": took, "produce_rate": produced["rate"],
                        "produce_cpu_seconds": produce_cpu["cpu_seconds"], "profile": profile,
                        **meter.result()})
        finally:
            service.stop()

        # 2. The measured figure: a backlog of the mix on those leads,
        # produced with the service stopped, drained by a fresh start.
        say(f"producing {count} mixed activities over {mix_leads} leads")
        meter = self.meter()
        produced = self.leads_tool(meter, "--mode=mix", f"--leads={mix_leads}",
                                   f"--events={count}")
        service = Service("lead-scoring", self.build, self.logs, env)
        try:
            meter = self.meter(lead_scoring=service.pid)
            rate, handled, took = self.drain(service, count)
            scored_cpu = meter.result()
            band_changes = self.metric_total(service, "flywheel_lead_scoring_band_changes_total")
            qualified = self.metric_total(service, "flywheel_lead_scoring_qualified_total")
            conflicts = self.metric_total(service, "flywheel_lead_scoring_write_conflicts_total")

            # 3. kcat on the same topic (both passes), in the same run.
            events = topic_records(topic)
            kcat_best, kcat_runs = self.kcat_leads(topic, events)
            limit = kcat_best["rate"] if kcat_best else None
            self.write({"scenario": "limit_kcat_leads_consume", "offered_rate": None,
                        "achieved_rate": limit, "p50_ms": None, "p90_ms": None, "p99_ms": None,
                        "max_ms": None, "events": events, "partitions": 12, "runs": kcat_runs,
                        "cpu_seconds": kcat_best["cpu_seconds"] if kcat_best else {},
                        "wall_seconds": kcat_best["wall_seconds"] if kcat_best else None})
            self.write({"scenario": "leads_scored", "offered_rate": None, "achieved_rate": rate,
                        "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None,
                        "leads": count, "events": count, "mix_leads": mix_leads,
                        "handled_events": handled, "complete": handled >= count,
                        "seconds_start_to_drained": took, "band_changes": band_changes,
                        "qualified": qualified, "write_conflicts": conflicts,
                        "produce_rate": produced["rate"], "target_rate": LEADS_RATE_TARGET,
                        "limit": "limit_kcat_leads_consume", "limit_rate": limit,
                        "share_of_limit": round(rate / limit, 4) if rate and limit else None,
                        **scored_cpu})

            # 4. activity -> lead.qualified at an offered 10,000/s, on
            # preloaded leads the mix left alone.
            meter = self.meter(lead_scoring=service.pid)
            result = self.leads_tool(meter, "--mode=qualify", f"--first={mix_leads}",
                                     f"--rate={LEADS_QUALIFY_RATE}", f"--warmup={warmup}",
                                     f"--seconds={seconds}")
            lag = result["latency"]
            self.write({"scenario": "leads_activity_to_qualified",
                        "offered_rate": LEADS_QUALIFY_RATE,
                        "achieved_rate": result["achieved_rate"],
                        **{k: lag[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")},
                        "leads": count, "measured_events": result["measured_events"],
                        "qualified": result["qualified"],
                        "never_qualified": result["never_qualified"],
                        "qualified_twice": result.get("qualified_twice"),
                        "target_p99_ms": LEADS_QUALIFY_P99_MS, **meter.result()})
        finally:
            service.stop()
        memory_end = redis_used_memory()
        self.write({"scenario": "leads_redis_memory", "offered_rate": None, "achieved_rate": None,
                    "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None,
                    "leads": count,
                    "bytes_per_lead": round((memory_leads - memory_empty) / count, 1),
                    "bytes_per_lead_at_end": round((memory_end - memory_empty) / count, 1),
                    "activities_per_lead_at_end": round((2 * count + qualify_leads) / count, 2),
                    "used_memory_empty": memory_empty, "used_memory_leads": memory_leads,
                    "used_memory_end": memory_end, "cpu_seconds": {}, "wall_seconds": None})
        redis_command("FLUSHALL")

    # -- reporting: a million requests' history, queries over it, freshness
    def reporting_tool(self, meter, *flags):
        return self.json_tool(meter, "reporting", [
            self.tool("flywheel-loadtest-reporting"), f"--kafka={kafka()}",
            f"--topic_prefix={REPORTING_PREFIX}", "--json", *flags])

    def reporting(self):
        self.alone()
        requests = self.size["history_requests"]
        warmup, seconds = self.size["warmup"], self.size["seconds"]
        env = {"FLYWHEEL_KAFKA_TOPIC_PREFIX": REPORTING_PREFIX,
               "FLYWHEEL_REDIS_KEY_PREFIX": "lt-rep:"}
        redis_command("FLUSHALL")
        memory_empty = redis_used_memory()

        # 1. The history, produced before the service runs, then drained by
        # it: the ingest figure (mixed workflow and lead events), profiled.
        say(f"producing the history of {requests} requests")
        meter = self.meter()
        produced = self.reporting_tool(meter, "--mode=preload", f"--requests={requests}")
        produce_cpu = meter.result()
        events = produced["events"]
        service = Service("reporting", self.build, self.logs, env)
        empty = None
        try:
            meter = self.meter(reporting=service.pid)
            holder = {}
            rate, handled, took = self.drain(
                service, events,
                on_first=lambda: holder.update(p=self.profile_start(service.pid, "reporting")))
            profile = self.profile_stop(holder.get("p"))
            ingest_cpu = meter.result()
            time.sleep(1)
            memory_history = redis_used_memory()

            # 2. kcat reading the same topics from the start, right after,
            # twice; the faster pass counts.
            topics = ["flywheel.intake.requests.v1", "flywheel.routing.workflows.v1",
                      "flywheel.scheduler.publish-results.v1", LEAD_ACTIVITY_TOPIC,
                      "flywheel.leadscoring.scores.v1", "flywheel.reporting.revenue.v1"]
            passes = []
            for _ in range(2):
                total, wall, cpu = 0, 0.0, 0.0
                for topic in topics:
                    count = topic_records(REPORTING_PREFIX + topic)
                    if count == 0:
                        continue
                    run = self.kcat_run(REPORTING_PREFIX + topic, count)
                    total += count
                    wall += run["seconds"]
                    cpu += run["cpu_seconds"].get("kcat", 0.0)
                passes.append({"events": total, "seconds": round(wall, 3),
                               "rate": round(total / wall, 1) if wall else None,
                               "kcat_cpu_seconds": round(cpu, 2)})
            best = max(passes, key=lambda p: p["rate"] or 0)
            limit = best["rate"]
            self.write({"scenario": "limit_kcat_reporting_consume", "offered_rate": None,
                        "achieved_rate": limit, "p50_ms": None, "p90_ms": None, "p99_ms": None,
                        "max_ms": None, "events": best["events"], "topics": len(topics),
                        "runs": passes, "cpu_seconds": {"kcat": best["kcat_cpu_seconds"]},
                        "wall_seconds": best["seconds"]})
            self.write({"scenario": "reporting_ingest", "offered_rate": None,
                        "achieved_rate": rate, "p50_ms": None, "p90_ms": None, "p99_ms": None,
                        "max_ms": None, "requests": requests, "events": events,
                        "handled_events": handled, "complete": handled >= events,
                        "seconds_start_to_drained": took, "produce_rate": produced["rate"],
                        "produce_seconds": produced["seconds"],
                        "produce_cpu_seconds": produce_cpu["cpu_seconds"],
                        "preload_seconds": round(produced["seconds"] + took, 1),
                        "target_rate": REPORTING_RATE_TARGET,
                        "limit": "limit_kcat_reporting_consume", "limit_rate": limit,
                        "share_of_limit": round(rate / limit, 4) if rate and limit else None,
                        "redis_bytes_per_request":
                            round((memory_history - memory_empty) / requests, 1),
                        "profile": profile, **ingest_cpu})

            # 3. The queries over the history, one call at a time, beside the
            # empty method one call at a time in the same run.
            empty = EmptyServer(self.build, "callback", self.logs)
            meter = self.meter(empty_server=empty.process.pid)
            _, out, _ = run_tool([self.tool("flywheel-loadtest-submit"),
                                  f"--target=127.0.0.1:{empty.port}", "--method=empty", "--json",
                                  "--concurrency=1", f"--warmup={warmup}s",
                                  f"--duration={seconds}s"], meter, "loadgen")
            peer = last_json(out)
            self.write(self.call_record("limit_empty_unary_reporting_c1", peer, meter,
                                        server_api="callback"))
            for query in REPORTING_QUERIES:
                meter = self.meter(reporting=service.pid)
                result = self.reporting_tool(meter, "--mode=query", f"--target={service.target}",
                                             f"--query={query}", "--concurrency=1",
                                             f"--warmup={warmup}", f"--seconds={seconds}")
                lat = result["latency"]
                self.write({"scenario": f"reporting_query_{query}", "offered_rate": None,
                            "achieved_rate": result["achieved_rate"],
                            **{k: lat[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")},
                            "concurrency": 1, "calls_ok": result["ok"],
                            "calls_failed": result["failed"], "requests": requests,
                            "target_p99_ms": REPORTING_QUERY_P99_MS,
                            "limit": "limit_empty_unary_reporting_c1",
                            "limit_p99_ms": peer["p99_ms"],
                            "times_limit_p99": round(lat["p99_ms"] / peer["p99_ms"], 1)
                            if lat["p99_ms"] and peer["p99_ms"] else None,
                            **meter.result()})

            # 4. event -> visible in a query, one event after the other.
            meter = self.meter(reporting=service.pid)
            result = self.reporting_tool(meter, "--mode=fresh", f"--target={service.target}",
                                         f"--samples={self.size['fresh_samples']}")
            lat = result["latency"]
            self.write({"scenario": "reporting_event_to_visible", "offered_rate": None,
                        "achieved_rate": None,
                        **{k: lat[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")},
                        "samples": result["samples"], "never_visible": result["never_visible"],
                        "target_p99_ms": REPORTING_FRESH_P99_MS, **meter.result()})
        finally:
            if empty is not None:
                empty.stop()
            service.stop()
        redis_command("FLUSHALL")

    def close(self):
        for name in ("routing", "intake"):
            try:
                self.stop_service(name)
            except Exception as e:  # keep stopping the rest
                say(f"stopping {name}: {e}")
        self.results.close()


# ---------------------------------------------------------------- the machine

def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def command_output(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def describe_machine(build, root):
    cpuinfo = read("/proc/cpuinfo")
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    mhz = re.search(r"cpu MHz\s*:\s*(.*)", cpuinfo)
    mem = re.search(r"MemTotal:\s*(\d+) kB", read("/proc/meminfo"))
    os_name = re.search(r'PRETTY_NAME="(.*)"', read("/etc/os-release"))
    cache = read(os.path.join(build, "CMakeCache.txt"))
    build_type = re.search(r"CMAKE_BUILD_TYPE:STRING=(.*)", cache)
    compiler = re.search(r"CMAKE_CXX_COMPILER:\w+=(.*)", cache)
    pom = read(os.path.join(root, "tests", "testbed", "pom.xml"))
    kafka_version = re.search(r"<kafka.version>(.*)</kafka.version>", pom)
    kcat = re.search(r"Version (\S+)", command_output("kcat", "-V"))
    redis = re.search(r"v=(\S+)", command_output("redis-server", "--version"))
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    versions = {}
    for name, module in (("librdkafka", "rdkafka"), ("gRPC", "grpc++"), ("protobuf", "protobuf"),
                         ("hiredis", "hiredis")):
        versions[name] = command_output("pkg-config", "--modversion", module)
    commit = command_output("git", "-C", root, "rev-parse", "--short=12", "HEAD")
    # The page and results this run rewrites do not count as changes to what is measured.
    dirty = command_output("git", "-C", root, "status", "--porcelain", "--untracked-files=no",
                           "--", ".", ":!docs/benchmarks.md", ":!docs/benchmarks")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "cpu_mhz": round(float(mhz.group(1))) if mhz else None,
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "kernel": platform.release(),
        "os": os_name.group(1) if os_name else platform.platform(),
        "compiler": (command_output(compiler.group(1) if compiler else "c++", "--version")
                     .splitlines() or [""])[0],
        "build_type": build_type.group(1) if build_type else "",
        "kafka": f"Apache Kafka {kafka_version.group(1) if kafka_version else '?'} (KRaft, one "
                 f"node, test bed, JVM -Xmx768m)",
        "java": java.splitlines()[0] if java else "",
        "redis": f"redis-server {redis.group(1) if redis else '?'} (test bed, no persistence)",
        "kcat": kcat.group(1) if kcat else "",
        "libraries": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(GROUPS))
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    groups = [g for g in args.only.split(",") if g]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups {sorted(unknown)}; known: {GROUPS}")
    os.makedirs(args.results, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    machine = describe_machine(args.build, root)
    run = Run(args, groups, machine["date"])
    busy, started = machine_busy(), time.monotonic()
    failed = []
    try:
        for group in GROUPS:
            if group in groups:
                say(f"== {group} ==")
                run.group = group
                try:
                    getattr(run, group)()
                except Exception as e:  # record it and go on with the next group
                    say(f"{group} failed: {e}")
                    failed.append(group)
                    run.write({"scenario": f"{group}_failed", "error": str(e)})
    finally:
        run.close()
    elapsed = time.monotonic() - started
    machine["run_seconds"] = round(elapsed, 1)
    machine["mean_busy_cores"] = round((machine_busy() - busy) / elapsed, 2)
    machine["quick"] = args.quick
    with open(os.path.join(args.results, "machine.json"), "w") as f:
        json.dump(machine, f, indent=2)
        f.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
