"""Checks helm/flywheel without a cluster.

helm lint --strict, then helm template for the default values and each file
in helm/flywheel/ci/, compared with the golden files in golden/ and
validated offline by kubectl-validate against Kubernetes' own schemas and
the CRDs the chart uses. Then what a platform team relies on: the
restricted Pod Security profile on every pod, Secrets referenced and never
rendered, gRPC health probes, disruption budgets that let nodes drain, and
wrong values refused at install time with the value named.

  python3 chart_test.py [--build BUILD_DIR]
                                  run the checks (with the services' binaries
                                  from BUILD_DIR, also their configs)
  python3 chart_test.py --update  rewrite golden/ from the chart as it is
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(ROOT, "helm", "flywheel")
GOLDEN = os.path.join(HERE, "golden")


def tool_versions():
    versions = {}
    with open(os.path.join(HERE, "tools.env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                key, value = line.split("=", 1)
                versions[key] = value
    return versions


VERSIONS = tool_versions()
GOBIN = os.path.join(
    subprocess.run(["go", "env", "GOPATH"], check=True, capture_output=True, text=True).stdout.strip(),
    "bin")
HELM = os.path.join(GOBIN, "helm")
VALIDATE = os.path.join(GOBIN, "kubectl-validate")
# The monitoring CRDs are there only when the cluster has the operator;
# helm template is told so, as an install into such a cluster would be.
API_VERSIONS = ["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule"]


def crd_dirs():
    cache = subprocess.run(["go", "env", "GOMODCACHE"], check=True, capture_output=True,
                           text=True).stdout.strip()
    return [
        os.path.join(cache, "github.com", "prometheus-operator",
                     "prometheus-operator@" + VERSIONS["prometheus_operator_version"],
                     "example", "prometheus-operator-crd"),
        os.path.join(cache, "github.com", "kedacore", "keda", "v2@" + VERSIONS["keda_version"],
                     "config", "crd", "bases"),
        os.path.join(HERE, "crds"),
    ]


def cases():
    """(name, values file or None) for every render the chart is checked with."""
    out = [("default", None)]
    for path in sorted(glob.glob(os.path.join(CHART, "ci", "*-values.yaml"))):
        out.append((os.path.basename(path)[:-len("-values.yaml")], path))
    return out


def helm(*args, check=True):
    return subprocess.run([HELM, *args], capture_output=True, text=True, check=check)


def render(values_file, *extra, check=True):
    args = ["template", "flywheel", CHART, "--namespace", "marketing"]
    for api in API_VERSIONS:
        args += ["--api-versions", api]
    if values_file:
        args += ["-f", values_file]
    return helm(*args, *extra, check=check)


def documents(text):
    return [d for d in yaml.safe_load_all(text) if d]


def pod_specs(docs):
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


class ChartTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.rendered = {name: render(path).stdout for name, path in cases()}

    def test_lint_is_clean_for_every_values_file(self):
        for name, path in cases():
            args = ["lint", "--strict", CHART] + (["-f", path] if path else [])
            out = helm(*args, check=False)
            self.assertEqual(out.returncode, 0, f"{name}: {out.stdout}{out.stderr}")

    def test_renders_match_the_golden_files(self):
        for name, text in self.rendered.items():
            golden = os.path.join(GOLDEN, name + ".yaml")
            self.assertTrue(os.path.exists(golden), f"no {golden}: run chart_test.py --update")
            with open(golden) as f:
                self.assertEqual(text, f.read(),
                                 f"{name} renders differently from golden/{name}.yaml; if the "
                                 "change is meant, run python3 tests/deploy/chart_test.py --update")

    def test_every_render_is_valid_kubernetes_offline(self):
        with tempfile.TemporaryDirectory() as scratch:
            for name, text in self.rendered.items():
                path = os.path.join(scratch, name + ".yaml")
                with open(path, "w") as f:
                    f.write(text)
            args = [VALIDATE, "--version", VERSIONS["kubernetes_version"]]
            for d in crd_dirs():
                self.assertTrue(os.path.isdir(d), f"no CRDs at {d}: run ./flywheel deps")
                args.append("--local-crds=" + d)
            out = subprocess.run(args + [scratch], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_every_pod_meets_the_restricted_pod_security_profile(self):
        for name, text in self.rendered.items():
            for pod, spec in pod_specs(documents(text)):
                where = f"{name}: {pod}"
                self.assertTrue(spec["securityContext"]["runAsNonRoot"], where)
                self.assertEqual(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
                                 where)
                self.assertFalse(spec.get("automountServiceAccountToken", True), where)
                tmp = [v for v in spec["volumes"] if v["name"] == "tmp"]
                self.assertTrue(tmp and "emptyDir" in tmp[0], f"{where}: no emptyDir for /tmp")
                for container in spec["containers"]:
                    sc = container["securityContext"]
                    self.assertFalse(sc["allowPrivilegeEscalation"], where)
                    self.assertTrue(sc["readOnlyRootFilesystem"], where)
                    self.assertEqual(sc["capabilities"]["drop"], ["ALL"], where)
                    self.assertNotIn("add", sc["capabilities"], where)
                    mounts = {m["mountPath"] for m in container["volumeMounts"]}
                    self.assertIn("/tmp", mounts, where)
                    self.assertIn("limits", container["resources"], where)

    def test_secrets_are_referenced_never_rendered(self):
        for name, text in self.rendered.items():
            docs = documents(text)
            self.assertNotIn("Secret", {d["kind"] for d in docs}, name)
            for doc in docs:
                if doc["kind"] == "ConfigMap":
                    for key, value in doc["data"].items():
                        self.assertNotRegex(value, r"(?i)password:\s*\S+[^e]$", f"{name}: {key}")

    def test_services_are_probed_on_grpc_health_unless_grpc_uses_tls(self):
        for name, text in self.rendered.items():
            tls = name == "secured-kafka"
            for doc in documents(text):
                if doc["kind"] != "Deployment":
                    continue
                container = doc["spec"]["template"]["spec"]["containers"][0]
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    if tls:
                        self.assertIn("tcpSocket", container[probe], f"{name}: {probe}")
                    else:
                        self.assertEqual(container[probe]["grpc"]["port"], 8080, f"{name}: {probe}")

    def test_every_component_has_its_labels_service_and_disruption_budget(self):
        for name, text in self.rendered.items():
            docs = documents(text)
            by_kind = {}
            for doc in docs:
                by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
            for deployment_name, deployment in by_kind["Deployment"].items():
                labels = deployment["spec"]["template"]["metadata"]["labels"]
                component = labels["app.kubernetes.io/component"]
                self.assertTrue(deployment_name.endswith("-" + component))
                for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                            "app.kubernetes.io/version", "app.kubernetes.io/managed-by"):
                    self.assertIn(key, labels, f"{name}: {deployment_name}")
                self.assertIn(deployment_name, by_kind["Service"], name)
                self.assertIn(deployment_name, by_kind["ConfigMap"], name)
                budget = by_kind["PodDisruptionBudget"][deployment_name]["spec"]
                self.assertNotIn("minAvailable", budget, "minAvailable can block a drain")
                self.assertNotIn(budget["maxUnavailable"], (0, "0%"))

    def test_monitoring_objects_need_the_operator_in_the_cluster(self):
        path = os.path.join(CHART, "ci", "strimzi-monitoring-values.yaml")
        kinds = {d["kind"] for d in documents(self.rendered["strimzi-monitoring"])}
        self.assertTrue({"ServiceMonitor", "PrometheusRule"} <= kinds)
        without = helm("template", "flywheel", CHART, "-f", path).stdout
        kinds = {d["kind"] for d in documents(without)}
        self.assertFalse({"ServiceMonitor", "PrometheusRule"} & kinds,
                         "rendered for a cluster without the Prometheus Operator")

    def test_wrong_values_are_refused_naming_the_value(self):
        # Helm names the value by its JSON pointer.
        for setting, named in [
            ("kafka.brokers=kafka", "/kafka/brokers"),
            ("redis.url=rediss://redis:6380", "/redis/url"),
            ("redis.keyPrefix={tag}", "/redis/keyPrefix"),
            ("podDisruptionBudget.maxUnavailable=0", "/podDisruptionBudget/maxUnavailable"),
            ("services.intake.replicas=-1", "/services/intake/replicas"),
            ("auth.issuer=", "/auth/issuer"),
            ("image.pullPolicy=Sometimes", "/image/pullPolicy"),
            ("servics.intake.enabled=true", "servics"),
            ("kafka.sasl.enabled=true", "/kafka/sasl/username"),
        ]:
            out = render(None, "--set", setting, check=False)
            self.assertNotEqual(out.returncode, 0, f"--set {setting} was accepted")
            self.assertIn(named, out.stderr, f"--set {setting}: {out.stderr}")


class RenderedConfigTest(unittest.TestCase):
    """Every config the chart renders is one the services accept: run each
    service's binary on it. Outside a pod the files it names (keys,
    certificates) are missing, so a service stops there; what must never
    appear is a key it does not know or a value it refuses."""

    def test_every_service_accepts_every_config_the_chart_renders(self):
        self.assertTrue(BUILD_DIR, "chart_test.py --build BUILD_DIR runs this check")
        with tempfile.TemporaryDirectory() as scratch:
            for name, path in cases():
                for doc in documents(render(path).stdout):
                    if doc["kind"] != "ConfigMap" or "config.yaml" not in doc.get("data", {}):
                        continue
                    service = doc["metadata"]["labels"]["app.kubernetes.io/component"]
                    config = os.path.join(scratch, f"{name}-{service}.yaml")
                    with open(config, "w") as f:
                        f.write(doc["data"]["config.yaml"])
                    binary = os.path.join(BUILD_DIR, "services", service, "flywheel-" + service)
                    out = subprocess.run([binary, "--config", config], capture_output=True,
                                         text=True, timeout=60, stdin=subprocess.DEVNULL)
                    where = f"{name}: {service}"
                    self.assertNotEqual(out.returncode, 0, f"{where} started outside a pod?")
                    for line in out.stderr.splitlines():
                        if line.startswith("config: "):
                            self.assertIn("cannot be read", line, where)
                    self.assertNotIn("unknown key", out.stderr, where)


def update_golden():
    os.makedirs(GOLDEN, exist_ok=True)
    for path in glob.glob(os.path.join(GOLDEN, "*.yaml")):
        os.remove(path)
    for name, values in cases():
        with open(os.path.join(GOLDEN, name + ".yaml"), "w") as f:
            f.write(render(values).stdout)
        print("wrote", os.path.relpath(os.path.join(GOLDEN, name + ".yaml"), ROOT))


BUILD_DIR = None

if __name__ == "__main__":
    if "--update" in sys.argv:
        update_golden()
    else:
        if "--build" in sys.argv:
            i = sys.argv.index("--build")
            BUILD_DIR = sys.argv[i + 1]
            del sys.argv[i:i + 2]
        unittest.main()
