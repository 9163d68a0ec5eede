"""Conformance suites every backend and model plugin runs.

Subclass and name your plugin; pytest collects the inherited tests:

```python
from rsx.testing.conformance import BackendConformance

class TestMyBackend(BackendConformance):
    backend = "my_backend"
    overrides = ("backend.cpu_devices=2",)  # optional extra overrides for every run
```

A backend must train every installed model on synthetic data in a fresh process, record a
FINISHED MLflow run with the tags rsx promises, and learn (beat predicting the mean); and it
must realize every feature kind exactly as the NumPy reference does. A
model must declare features that exist in the data and tables sized from it, and train on
the reference backend.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from rsx.discovery import discover
from rsx.testing.cli import SMALL_RUN, explain, run_rsx, runs

#: Tags every run must carry.
REQUIRED_TAGS = (
    "backend", "model", "dataset", "keras_backend", "device_kind", "device_count", "rsx_version",
)


def _installed_models() -> list[str]:
    return discover().names("model")


def _assert_trained(workdir, result, backend: str, model: str) -> None:
    assert result.returncode == 0, explain(result)
    found = runs(workdir)
    assert len(found) == 1, f"expected one MLflow run, found {len(found)}"
    run = found[0]
    assert run.info.status == "FINISHED"
    for tag in REQUIRED_TAGS:
        assert tag in run.data.tags, f"tag {tag!r} missing; tags: {sorted(run.data.tags)}"
    assert run.data.tags["backend"] == backend
    assert run.data.tags["model"] == model
    metrics = run.data.metrics
    for key in ("loss", "val_loss", "test_loss", "epoch_seconds", "examples_per_second"):
        assert key in metrics, f"metric {key!r} missing; metrics: {sorted(metrics)}"
        assert np.isfinite(metrics[key])
    # Synthetic labels have a planted structure: a model that learns beats the mean.
    assert metrics["test_loss"] < metrics.get("baseline_test_mse", np.inf), metrics


class BackendConformance:
    """What every backend plugin must do. Set `backend`; optionally `overrides`."""

    backend: str = ""
    overrides: tuple[str, ...] = ()

    def _spec(self):
        return discover().backend(self.backend)

    def test_discovered(self):
        assert self.backend in discover().names("backend")

    def test_config_fields_have_defaults_and_name(self):
        spec = self._spec()
        fields = {f.name: f for f in dataclasses.fields(spec.config)}
        assert fields["name"].default == self.backend
        for field in fields.values():
            has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
            assert has_default, f"{spec.config.__name__}.{field.name} needs a default"

    def test_environment_names_keras_backend(self):
        spec = self._spec()
        env = spec.environment(spec.config())
        assert env.get("KERAS_BACKEND") in ("tensorflow", "jax", "torch")

    def test_realizes_every_feature_kind(self, tmp_path):
        """id, multi_hot (weighted or not, each combiner), numeric and sequence features, one
        table shared by two features: a model trains, saves, reloads and predicts the same,
        and the backend's lookups equal NumPy's (see `rsx.testing.feature_probe`)."""
        env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
        result = subprocess.run(
            [sys.executable, "-m", "rsx.testing.feature_probe", f"backend={self.backend}", *self.overrides],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert np.isfinite(report["loss"]), report
        assert report["prediction_spread"] > 0, report  # not a constant model
        assert report["reload_max_diff"] < 1e-5, report
        assert report["rows_spread"] > 0, report
        for combiner, diffs in report["reference_max_diff"].items():
            for kind, diff in diffs.items():
                assert diff < 1e-5, f"{kind} with combiner {combiner}: max |backend - NumPy| = {diff}"

    @pytest.mark.parametrize("model", _installed_models())
    def test_trains_every_model(self, tmp_path, model):
        result = run_rsx([f"backend={self.backend}", f"model={model}", *SMALL_RUN, *self.overrides], tmp_path)
        _assert_trained(tmp_path, result, self.backend, model)


class ModelConformance:
    """What every model plugin must do. Set `model`; `reference_backend` trains it."""

    model: str = ""
    reference_backend: str = "cpu_reference"
    overrides: tuple[str, ...] = ()

    def test_discovered(self):
        assert self.model in discover().names("model")

    def test_config_fields_have_defaults_and_name(self):
        spec = discover().model(self.model)
        fields = {f.name: f for f in dataclasses.fields(spec.config)}
        assert fields["name"].default == self.model

    def test_trains_on_reference_backend(self, tmp_path):
        result = run_rsx(
            [f"backend={self.reference_backend}", f"model={self.model}", *SMALL_RUN, *self.overrides], tmp_path
        )
        _assert_trained(tmp_path, result, self.reference_backend, self.model)
