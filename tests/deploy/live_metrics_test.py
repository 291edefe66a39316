#!/usr/bin/env python3
"""The dashboards and alert rules ask only for metrics the services export.

Runs the platform as `./flywheel dev` does, with its demo (a request
submitted, routed, approved, an SLA timer warned and breached), then reads
every service's /metrics: promtool check metrics must find nothing wrong in
any of them, and every metric a dashboard panel or a rule queries must be
among the families they serve. The list of metrics is the live output of
this run, never one kept by hand.

  live_metrics_test.py --testbed T --run deploy/dev/run.sh --build BUILD_DIR
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "dev"))
import dev_test  # noqa: E402  (DevRun, ports, checks: the same harness as the supervisor's test)

from dev_test import Failure, check, http_get, step  # noqa: E402

RULES = os.path.join(ROOT, "deploy", "observability", "prometheus", "flywheel.rules.yaml")
DASHBOARDS = os.path.join(ROOT, "deploy", "observability", "grafana", "dashboards")
# Series Prometheus makes itself, and our recording rules' outputs.
NOT_EXPORTED = re.compile(r"^(up|scrape_.*|flywheel:.*)$")
# PromQL words that look like metric names.
PROMQL_WORDS = {
    "sum", "by", "without", "rate", "irate", "increase", "histogram_quantile", "max", "min",
    "avg", "count", "scalar", "and", "or", "unless", "on", "ignoring", "group_left",
    "group_right", "label_values", "offset", "bool", "topk", "bottomk", "abs", "absent",
    "le", "inf", "nan",
}


def queried_names(expr):
    """Metric names an expression selects: bare names before { or [ or at
    word ends, and the regex alternatives of __name__ matchers."""
    names = set()
    for match in re.finditer(r'__name__=~"([^"]+)"', expr):
        names.add(("regex", match.group(1)))
    stripped = re.sub(r'\{[^}]*\}', '{}', expr)
    stripped = re.sub(r'"[^"]*"', '""', stripped)
    stripped = re.sub(r'\[[^\]]*\]', '[]', stripped)
    stripped = re.sub(r'\bby \([^)]*\)|\bwithout \([^)]*\)|\bon \([^)]*\)', '', stripped)
    for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", stripped):
        if word.lower() in PROMQL_WORDS or NOT_EXPORTED.match(word):
            continue
        if re.fullmatch(r"[0-9a-z]+[smhdwy]", word):  # durations
            continue
        names.add(("name", word))
    return names


def queries():
    """(where, expression) for every rule and every dashboard target."""
    out = []
    with open(RULES) as f:
        for group in yaml.safe_load(f)["groups"]:
            for rule in group["rules"]:
                out.append((f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]))
    for path in sorted(glob.glob(os.path.join(DASHBOARDS, "*.json"))):
        with open(path) as f:
            dashboard = json.load(f)
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                out.append((f"{os.path.basename(path)}: {panel['title']}", target["expr"]))
    return out


def families(text):
    """Metric families in a Prometheus text exposition, and every series name."""
    names = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    names |= set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M))
    return names


def served(name, exported):
    if name in exported:
        return True
    # A histogram's series are its family plus _bucket, _count, _sum.
    base = re.sub(r"_(bucket|count|sum)$", "", name)
    return base in exported


def unexported(exported):
    """What the rules and dashboards query that is not in `exported`."""
    missing = set()
    for where, expr in queries():
        for kind, name in queried_names(expr):
            if kind == "regex":
                if not any(re.fullmatch(name, e) for e in exported):
                    missing.add(f"{where}: nothing matches __name__=~{name}")
            elif not served(name, exported):
                missing.add(f"{where}: {name}")
    return sorted(missing)


def check_metrics(args):
    ports = dev_test.free_ports()
    state = tempfile.mkdtemp(prefix="flywheel-live-metrics-")
    args.logs = tempfile.mkdtemp(prefix="flywheel-live-metrics-logs-")
    run = dev_test.DevRun(args, state, ports, extra_env={"FLYWHEEL_DEV_DEMO": "1"})
    try:
        step("the platform with its demo")
        addresses, _, _, _ = run.banner(seconds=400)
        check(set(addresses) >= set(dev_test.SERVICES), f"banner lists {sorted(addresses)}")
        check("flywheel demo:" in run.text(), "the demo did not run (is grpcurl installed?)")
        check("the demo request did not go through" not in run.text(),
              "the demo failed:\n" + run.lines()[-4000:])
        # Some series appear on a service's first periodic pass (approval's
        # inbox sizes every 30 s): scrape until none is missing, or give up.
        missing = []

        def nothing_missing():
            exported = set()
            for name in dev_test.SERVICES:
                status, text = http_get(addresses[name][1])
                check(status == 200, f"{name} /metrics answered {status}")
                lint = subprocess.run(["promtool", "check", "metrics"], input=text,
                                      capture_output=True, text=True)
                check(lint.returncode == 0 and not (lint.stdout + lint.stderr).strip(),
                      f"promtool check metrics on {name}:\n{lint.stdout}{lint.stderr}")
                exported |= families(text)
            missing[:] = unexported(exported)
            if missing:
                time.sleep(1)  # between scrapes: four promtool runs each
            return not missing

        try:
            dev_test.wait_for("every queried metric", 90, nothing_missing)
        except Failure:
            raise Failure("queried but not exported:\n  " + "\n  ".join(missing))
        run.signal(signal.SIGTERM)
        check(run.wait_exit(90) == 0, f"exit code after SIGTERM: {run.proc.returncode}")
    except BaseException:
        print(run.lines()[-6000:], flush=True)
        raise
    finally:
        run.kill_everything()
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(args.logs, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--testbed")
    parser.add_argument("--run")
    parser.add_argument("--build")
    args = parser.parse_args()
    try:
        check_metrics(args)
    except Failure as failure:
        print(f"live_metrics_test: FAILED: {failure}", flush=True)
        return 1
    step("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
