"""A config error in a sweep is found once, by the orchestrator, before any job or run exists.

Without this each job would start (a worker, for some launchers a machine), fail on the same
error, and leave a result per job; here the sweep ends at once with one line and exit 2.
The fixed part of the sweep's config and, with Hydra's basic sweeper, every swept value are
checked (composed into the fixed config) — whichever holds the error.
"""

from __future__ import annotations

import pytest

from rsx.testing.cli import explain, runs

SMALL = ("data=synthetic", "data.num_users=200", "data.num_items=100", "data.num_interactions=8000")

CASES = {
    # The example: an error every job shares.
    "fixed value": (["trainer.epochs=-1", "trainer.seed=1,2,3"], "trainer.epochs=-1 is out of range"),
    # One bad value among the swept ones: the other jobs do not start either.
    "swept value": (["trainer.epochs=1", "trainer.seed=1,2", "model.optimizer.learning_rate=0.1,-0.1"], "learning_rate=-0.1"),
    "swept range": (["trainer.epochs=1", "data.train_fraction=0.5,1.5"], "data.train_fraction=1.5 is out of range"),
    "swept choice": (["trainer.epochs=1", "data.split=chronological,random"], "data.split='chronological' is out of range"),
    "swept group option": (["trainer.epochs=1", "backend=cpu_reference,nope"], "unknown backend 'nope'"),
    "swept backend key": (["trainer.epochs=1", "backend=jax_dataparallel", "backend.cpu_devices=2,-3"], "backend.cpu_devices"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_sweep_with_a_config_error_starts_nothing(tmp_path, run_sweep, case):
    overrides, expected = CASES[case]
    result = run_sweep(["-m", *SMALL, *overrides], tmp_path, timeout=120)
    assert result.returncode == 2, explain(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rsx: error: ") and " -> " in lines[0], explain(result)
    if expected:
        assert expected in lines[0]
    assert runs(tmp_path) == [], "no parent and no child run"
    assert not (tmp_path / "multirun").exists(), "no job started"
