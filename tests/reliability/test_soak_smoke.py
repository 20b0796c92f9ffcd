"""The soak benchmark itself runs for minutes and is not part of the suite (`make soak`);
this keeps it working: a few seconds of it must report sane numbers and exit 0."""

from __future__ import annotations

import subprocess
import sys

import orjson

from tests.conftest import ROOT


def test_soak_runs_briefly_and_reports_rss_and_fds() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "soak.py"),
            "--seconds",
            "3",
            "--rate",
            "20",
            "--sample-every",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = orjson.loads(proc.stdout)
    assert report["requests"] >= 50 and report["one_record_per_request"] is True
    assert len(report["samples"]) >= 3
    assert all(s["rss_mb"] > 0 and s["fds"] > 0 for s in report["samples"])
    assert report["exit_code"] == 0 and report["stderr_errors"] == 0
