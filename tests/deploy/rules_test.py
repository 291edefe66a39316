"""Checks the alert rules and dashboards in deploy/observability.

promtool check rules and promtool test rules (each alert fires on the
series that should raise it and stays quiet otherwise); every alert says
how bad it is, what is wrong, and links a runbook that exists; the
dashboards parse as Grafana dashboards with unique ids and pick their
Prometheus through a variable. tests/deploy/live_metrics_test.py checks
that what they query is exported.
"""

import glob
import json
import os
import subprocess
import unittest

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROMETHEUS = os.path.join(ROOT, "deploy", "observability", "prometheus")
RULES = os.path.join(PROMETHEUS, "flywheel.rules.yaml")
DASHBOARDS = os.path.join(ROOT, "deploy", "observability", "grafana", "dashboards")
RUNBOOKS = os.path.join(ROOT, "docs", "runbooks")
TEST_FILES = ("flywheel.rules.test.yaml", "flywheel.rules.slow.test.yaml")


def alerts():
    with open(RULES) as f:
        return [r for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "alert" in r]


class RulesTest(unittest.TestCase):

    def promtool(self, *args):
        out = subprocess.run(["promtool", *args], cwd=PROMETHEUS, capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_rules_load(self):
        self.promtool("check", "rules", "flywheel.rules.yaml")

    def test_rule_unit_tests_pass(self):
        self.promtool("test", "rules", *TEST_FILES)

    def test_every_alert_is_tested_firing(self):
        tests = []
        for name in TEST_FILES:
            with open(os.path.join(PROMETHEUS, name)) as f:
                tests += yaml.safe_load(f)["tests"]
        fired = {case["alertname"] for test in tests for case in test["alert_rule_test"]
                 if case.get("exp_alerts")}
        quiet = {case["alertname"] for test in tests for case in test["alert_rule_test"]
                 if not case.get("exp_alerts")}
        for alert in alerts():
            self.assertIn(alert["alert"], fired, "no test sees it fire")
        for name in ("FlywheelAvailabilityBudgetBurnFast", "FlywheelAvailabilityBudgetBurnSlow",
                     "FlywheelProcessingLatencyBudgetBurnFast", "FlywheelTimerFireLagHigh"):
            self.assertIn(name, quiet, "no test sees it stay quiet")

    def test_every_alert_has_severity_summary_description_and_an_existing_runbook(self):
        for alert in alerts():
            name = alert["alert"]
            self.assertIn(alert.get("labels", {}).get("severity"), ("critical", "warning"), name)
            annotations = alert.get("annotations", {})
            for key in ("summary", "description", "runbook_url"):
                self.assertTrue(annotations.get(key, "").strip(), f"{name}: no {key}")
            link = annotations["runbook_url"]
            self.assertTrue(link.startswith("docs/runbooks/"), f"{name}: {link}")
            self.assertTrue(os.path.isfile(os.path.join(ROOT, link)), f"{name}: no page {link}")

    def test_every_runbook_page_belongs_to_an_alert(self):
        linked = {os.path.basename(a["annotations"]["runbook_url"]) for a in alerts()}
        for page in glob.glob(os.path.join(RUNBOOKS, "*.md")):
            if os.path.basename(page) != "README.md":
                self.assertIn(os.path.basename(page), linked, "a runbook no alert links")

    def test_the_chart_ships_these_rules(self):
        shipped = os.path.join(ROOT, "helm", "flywheel", "files", "flywheel.rules.yaml")
        self.assertEqual(os.path.realpath(shipped), os.path.realpath(RULES))


class DashboardsTest(unittest.TestCase):

    def test_dashboards_parse_with_unique_ids_and_a_datasource_variable(self):
        paths = sorted(glob.glob(os.path.join(DASHBOARDS, "*.json")))
        self.assertGreaterEqual(len(paths), 5, "an overview and one per service")
        uids = set()
        for path in paths:
            with open(path) as f:
                dashboard = json.load(f)
            where = os.path.basename(path)
            self.assertNotIn(dashboard["uid"], uids, where)
            uids.add(dashboard["uid"])
            self.assertTrue(dashboard["title"].startswith("Flywheel / "), where)
            variables = {v["name"]: v for v in dashboard["templating"]["list"]}
            self.assertEqual(variables["datasource"]["type"], "datasource", where)
            ids = set()
            for panel in dashboard["panels"]:
                self.assertNotIn(panel["id"], ids, f"{where}: panel id {panel['id']} twice")
                ids.add(panel["id"])
                for target in panel.get("targets", []):
                    self.assertEqual(target["datasource"]["uid"], "${datasource}", where)
                    self.assertTrue(target["expr"].strip(), f"{where}: {panel['title']}")

    def test_one_dashboard_per_service_and_the_overview(self):
        services = [d for d in os.listdir(os.path.join(ROOT, "services"))
                    if os.path.isfile(os.path.join(ROOT, "services", d, "main.cc"))]
        for name in ["overview"] + services:
            self.assertTrue(os.path.isfile(os.path.join(DASHBOARDS, f"flywheel-{name}.json")), name)


if __name__ == "__main__":
    unittest.main()
