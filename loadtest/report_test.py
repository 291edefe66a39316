#!/usr/bin/env python3
"""Smoke check of report.py: a results file becomes a page with every
scenario's figures, and hand-written text below the marker survives a
regeneration. Runs in ctest (label unit); it needs no matplotlib."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def generate(doc, plots=False):
    args = [sys.executable, os.path.join(HERE, "report.py"),
            "--results", os.path.join(HERE, "testdata", "results.jsonl"),
            "--machine", os.path.join(HERE, "testdata", "machine.json"),
            "--doc", doc, "--plots", os.path.join(os.path.dirname(doc), "benchmarks")]
    if not plots:
        args.append("--no-plots")
    subprocess.run(args, check=True)
    with open(doc) as f:
        return f.read()


class ReportTest(unittest.TestCase):
    def test_every_scenario_is_on_the_page(self):
        with tempfile.TemporaryDirectory() as tmp:
            page = generate(os.path.join(tmp, "benchmarks.md"))
        self.assertIn("| SubmitRequest, closed loop, 64 in flight | ≥ 5,000/s, p99 < 20 ms | "
                      "4,000/s, p50 14 ms, p99 30 ms | empty unary method: 12,000/s "
                      "(sync API: 9,000/s) | 33 % | missed (20 % short on rate, p99 1.5× the target) |",
                      page)
        self.assertIn("p50 8.0 ms, p99 150 ms", page)
        self.assertIn("1,400/s (tried 1,000, 2,000, 1,400/s)", page)
        self.assertIn("6,000 events/s", page)
        self.assertIn("missed (40 % short)", page)
        self.assertIn("consume did not run to its end**: kcat could not produce the topic", page)
        self.assertIn("Test CPU, 2 cores", page)
        self.assertIn("librdkafka 2.0.2", page)
        self.assertIn("| 20,000 events/s | kcat on the same topic: 400,000 events/s | 5 % | "
                      "missed (60 % short) |", page)
        self.assertIn("activity → lead.qualified at an offered 10,000/s | p99 < 200 ms | "
                      "p50 40 ms, p99 450 ms", page)
        self.assertIn("700 bytes with one activity each", page)
        self.assertIn("redis-server runs its scripts on one thread", page)
        # Sorted by offered rate in the sweep table.
        self.assertLess(page.index("| 1,000 | 999 |"), page.index("| 1,400 | 1,398 |"))

    def test_text_below_the_marker_is_kept(self):
        with tempfile.TemporaryDirectory() as tmp:
            doc = os.path.join(tmp, "benchmarks.md")
            generate(doc)
            with open(doc, "a") as f:
                f.write("\n## Notes written by hand\n\nKeep me.\n")
            page = generate(doc)
        self.assertEqual(page.count("Keep me."), 1)
        self.assertEqual(page.count("# Benchmarks\n"), 1)

    def test_plots_are_drawn(self):
        with tempfile.TemporaryDirectory() as tmp:
            page = generate(os.path.join(tmp, "benchmarks.md"), plots=True)
            self.assertTrue(os.path.exists(os.path.join(tmp, "benchmarks", "latency_vs_load.png")),
                            "no plot drawn: matplotlib is missing (./flywheel deps installs it)")
            self.assertIn("](benchmarks/throughput.png)", page)


if __name__ == "__main__":
    unittest.main()
