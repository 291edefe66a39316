"""Checks deploy/image/Dockerfile without a container engine.

Parsed with dockerfile-parse (PyPI). What a `docker build` would find out
late, this finds out here: a package name Debian 12 does not have, a COPY of
a file the build does not produce, a runtime stage missing a shared library
a service links, or a runtime that runs as root or without an init.

  python3 image_test.py BUILD_DIR

BUILD_DIR is a configured and built tree (the dev preset's will do): it is
installed into a scratch prefix, which is what the image's build stage does.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest

from dockerfile_parse import DockerfileParser

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKERFILE = os.path.join(ROOT, "deploy", "image", "Dockerfile")
BUILD_DIR = None  # set from the command line

# In every Debian 12 image, slim included (Priority: required, or what apt
# itself needs), so the runtime stage need not name them.
BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}


def services():
    return sorted(
        name for name in os.listdir(os.path.join(ROOT, "services"))
        if os.path.isfile(os.path.join(ROOT, "services", name, "main.cc")))


def stages():
    """The Dockerfile's instructions, grouped by stage name."""
    parser = DockerfileParser(path=DOCKERFILE)
    out, current = {}, None
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            words = instruction["value"].split()
            current = words[2] if len(words) >= 3 and words[1].upper() == "AS" else words[0]
            out[current] = {"from": words[0], "steps": []}
        elif current is not None:
            out[current]["steps"].append((instruction["instruction"], instruction["value"]))
    return out


def apt_installs(stage):
    """The packages a stage's `apt-get install` lines name."""
    packages = []
    for kind, value in stage["steps"]:
        if kind != "RUN":
            continue
        for command in re.split(r"&&|;", value):
            words = shlex.split(command)
            if "apt-get" in words and "install" in words:
                packages += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return packages


def depends_closure(packages):
    """Every package `packages` pull in, themselves included (Depends and
    PreDepends; Recommends are not installed by the Dockerfile)."""
    out = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + packages,
        check=True, capture_output=True, text=True).stdout
    closure = set()
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        if ":" in line and line.split(":")[0] in ("Depends", "PreDepends"):
            line = line.split(":", 1)[1].strip()
        closure.add(line.strip("<>").split(":")[0])
    return closure


def owning_package(path):
    """The package that installed `path`. With Debian's merged /usr, dpkg
    may know a library by its /lib or its /usr/lib name, and the loader
    reports either, through symlinks; try each."""
    real = os.path.realpath(path)
    candidates = [path, real]
    for p in (path, real):
        candidates.append(p[len("/usr"):] if p.startswith("/usr/") else "/usr" + p)
    for candidate in candidates:
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":")[0].strip()
    return None


class DockerfileTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stages = stages()
        cls.scratch = tempfile.TemporaryDirectory()
        cls.prefix = os.path.join(cls.scratch.name, "opt", "flywheel")
        subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", cls.prefix],
                       check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def test_builds_on_debian_12_in_two_stages(self):
        self.assertEqual(list(self.stages), ["build", "runtime"])
        for name, stage in self.stages.items():
            self.assertRegex(stage["from"], r"^debian:(12|bookworm)(-slim)?$", name)

    def test_every_package_named_exists_in_debian_12(self):
        for name, stage in self.stages.items():
            packages = apt_installs(stage)
            self.assertTrue(packages, f"stage {name} installs nothing")
            shown = subprocess.run(["apt-cache", "show", "--no-all-versions"] + packages,
                                   capture_output=True, text=True)
            self.assertEqual(shown.returncode, 0, f"stage {name}: {shown.stderr.strip()}")

    def test_the_build_stage_installs_what_flywheel_deps_installs_for_a_build(self):
        with open(os.path.join(ROOT, "flywheel")) as script:
            listed = re.search(r"apt_packages=\((.*?)\)", script.read(), re.S).group(1).split()
        build = set(apt_installs(self.stages["build"]))
        # The rest of `./flywheel deps` runs tests, the broker and tools.
        for package in listed:
            if package.startswith("lib") and package.endswith("-dev"):
                self.assertIn(package, build, "a library the build needs is missing")

    def test_every_file_copied_from_the_context_exists(self):
        for kind, value in self.stages["build"]["steps"]:
            if kind == "COPY" and not value.startswith("--from"):
                for source in shlex.split(value)[:-1]:
                    self.assertTrue(os.path.exists(os.path.join(ROOT, source)), source)

    def test_every_service_is_installed_where_the_runtime_copies_from(self):
        copies = [shlex.split(v) for k, v in self.stages["runtime"]["steps"]
                  if k == "COPY" and v.startswith("--from=build")]
        self.assertTrue(copies)
        for words in copies:
            source = words[1]
            self.assertTrue(source.startswith("/opt/flywheel/"), source)
            self.assertTrue(os.path.isdir(os.path.join(self.prefix, source[len("/opt/flywheel/"):])),
                            f"cmake --install makes no {source}")
        for service in services():
            self.assertTrue(os.access(os.path.join(self.prefix, "bin", "flywheel-" + service), os.X_OK),
                            service)
            if os.path.isdir(os.path.join(ROOT, "services", service, "policy")):
                self.assertTrue(os.path.isfile(
                    os.path.join(self.prefix, "share", "flywheel", service, "policy.yaml")),
                    service)

    def test_the_runtime_carries_every_shared_library_the_services_link(self):
        closure = depends_closure(apt_installs(self.stages["runtime"])) | BASE_PACKAGES
        for service in services():
            binary = os.path.join(self.prefix, "bin", "flywheel-" + service)
            ldd = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
            for line in ldd.splitlines():
                match = re.search(r"=> (/\S+)", line)
                if not match:
                    continue
                package = owning_package(match.group(1))
                self.assertIsNotNone(package, f"{service}: {match.group(1)} is in no package")
                self.assertIn(package, closure,
                              f"{service} links {match.group(1)} from {package}, "
                              "which the runtime stage does not install")

    def test_the_runtime_is_non_root_and_starts_under_tini(self):
        steps = self.stages["runtime"]["steps"]
        users = [v for k, v in steps if k == "USER"]
        self.assertTrue(users, "no USER: the container would run as root")
        self.assertRegex(users[-1], r"^[1-9][0-9]*(:[1-9][0-9]*)?$",
                         "a numeric non-root user, so runAsNonRoot can verify it")
        entrypoint = [v for k, v in steps if k == "ENTRYPOINT"][-1]
        self.assertEqual(json.loads(entrypoint)[0], "/usr/bin/tini")
        self.assertIn("tini", apt_installs(self.stages["runtime"]))


if __name__ == "__main__":
    BUILD_DIR = sys.argv.pop(1)
    unittest.main()
