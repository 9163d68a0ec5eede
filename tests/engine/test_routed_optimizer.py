"""A table's own optimizer trains it; the dense optimizer trains the rest — on TF and JAX."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("routed_optimizer_probe.py")


@pytest.mark.parametrize("keras_backend", ["tensorflow", "jax"])
def test_each_variable_is_trained_by_its_tables_optimizer(keras_backend):
    env = {**os.environ, "KERAS_BACKEND": keras_backend, "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"] == keras_backend
    moved = report["moved"]
    # The user table has SGD(lr=1): it moves. Everything else follows the dense SGD(lr=0).
    assert moved == {
        "embeddings/user_table/embeddings": True,
        "embeddings/movie_table/embeddings": False,
        "dense/kernel": False,
        "dense/bias": False,
    }
    assert report["iterations"] == 4  # 2 epochs x 2 steps
    assert report["inner_iterations"] == [4, 4]  # Adam-style bias correction sees real steps
