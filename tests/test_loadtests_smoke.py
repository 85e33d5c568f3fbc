"""The load tests' smoke run (N=200 per scenario) proves every scenario works: it asserts
zero lost, duplicated or reordered events, never speed (the benchmark reports that)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_every_load_scenario_runs_without_losing_an_event() -> None:
    """`python -m loadtests.bench --smoke` exits 0: every scenario, zero loss."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "loadtests.bench", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "INCORRECT" not in done.stdout


@pytest.mark.slow
def test_the_soak_loses_nothing_through_a_redis_crash_and_a_node_crash() -> None:
    """`python -m loadtests.soak --smoke` exits 0: two nodes, five meetings, Redis and one
    node SIGKILLed mid-round, every acked command in the log, every client converged."""
    done = subprocess.run(
        [sys.executable, "-m", "loadtests.soak", "--smoke"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "correct: nothing acknowledged was lost" in done.stdout
