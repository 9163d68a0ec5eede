"""Conformance suites every backend, model and dataset plugin runs.

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
the reference backend. A dataset must prepare, from a small instance its test names
(`fields`, e.g. a fixture file), `PreparedData` that keeps the layout `rsx.data.schema`
promises, deterministically, with a stable cache key, and survive the cache round trip.
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


def assert_realizes_every_feature_kind(backend: str, overrides, workdir) -> None:
    """id, multi_hot (weighted or not, each combiner), numeric and sequence features, one
    table shared by two features: a model trains, saves, reloads and predicts the same, and
    the backend's lookups equal NumPy's (see `rsx.testing.feature_probe`, run in a fresh
    process with the backend's environment)."""
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
    result = subprocess.run(
        [sys.executable, "-m", "rsx.testing.feature_probe", f"backend={backend}", *overrides],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=600,
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
        assert_realizes_every_feature_kind(self.backend, self.overrides, tmp_path)

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


class DatasetConformance:
    """What every dataset plugin must do. Set `dataset` and, for a small offline instance,
    `fields` (config field -> value) or override `fields_for(tmp_path)` to write a fixture."""

    dataset: str = ""
    fields: dict = {}

    def fields_for(self, tmp_path) -> dict:
        return dict(self.fields)

    def _prepare(self, tmp_path):
        from rsx.data.loading import prepare, typed_config

        cfg = typed_config({"dataset": self.dataset, "cache_dir": "", **self.fields_for(tmp_path)})
        return cfg, prepare(cfg)

    def test_discovered(self):
        assert self.dataset in discover().names("data")

    def test_config_fields_have_defaults_and_dataset(self):
        spec = discover().dataset(self.dataset)
        fields = {f.name: f for f in dataclasses.fields(spec.config)}
        assert fields["dataset"].default == self.dataset
        for field in fields.values():
            has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
            assert has_default, f"{spec.config.__name__}.{field.name} needs a default"

    def test_prepared_data_keeps_the_layout(self, tmp_path):
        from rsx.data.prepared import ITEM_ID, LABEL, RATING, USER_ID

        _, data = self._prepare(tmp_path)
        assert data.num_train > 0 and data.num_validation > 0 and data.num_test > 0
        for split in ("train", "validation", "test"):
            columns = data.split(split)
            for id_column in (USER_ID, ITEM_ID):
                ids = columns[id_column]
                assert ids.dtype == np.int32 and ids.min() >= 0
                assert ids.max() < data.vocabulary_sizes[id_column], f"{split}.{id_column} outside its table"
            assert columns[LABEL].dtype == np.float32 and np.isfinite(columns[LABEL]).all()
            assert columns[RATING].dtype == np.float32
            assert len({len(v) for v in columns.values()}) == 1, "columns of one split differ in length"
        # Ids seen in training have rows of their own (0 is out of vocabulary).
        assert (data.train[USER_ID] > 0).all() and (data.train[ITEM_ID] > 0).all()
        for id_column in (USER_ID, ITEM_ID):
            if id_column in data.vocabularies:
                assert len(data.vocabularies[id_column]) == data.vocabulary_sizes[id_column]
        assert len(data.titles) == data.vocabulary_sizes[ITEM_ID]
        for feature in data.schema.features:
            table = {"user": data.user_features, "item": data.item_features}.get(feature.entity, data.train)
            values = table[feature.name]
            rows = data.vocabulary_sizes[USER_ID if feature.entity == "user" else ITEM_ID]
            if feature.entity != "interaction":
                assert len(values) == rows, f"{feature.name}: one row per {feature.entity} row"
            if feature.kind == "numeric":
                assert values.dtype == np.float32 and np.isfinite(values).all()
            else:
                assert values.dtype == np.int32 and values.min() >= 0
                assert values.max() < feature.vocabulary_size, f"{feature.name} outside its vocabulary"
                width = feature.max_length if feature.kind in ("multi_hot", "sequence") else None
                assert values.shape[1:] == ((width,) if width else ())
            data.columns("test", [feature.name])  # gathered per interaction without error

    def test_preparation_is_deterministic_and_survives_the_cache(self, tmp_path):
        from rsx.data.prepared import PreparedData

        _, first = self._prepare(tmp_path)
        _, second = self._prepare(tmp_path)
        assert first.digest() == second.digest()
        first.save(tmp_path / "prepared.npz")
        assert PreparedData.load(tmp_path / "prepared.npz").digest() == first.digest()

    def test_cache_key_is_stable_json(self, tmp_path):
        import json

        from rsx.data.loading import cache_key, typed_config

        cfg = typed_config({"dataset": self.dataset, "cache_dir": "", **self.fields_for(tmp_path)})
        assert json.dumps(cache_key(cfg), sort_keys=True, default=str) == json.dumps(
            cache_key(cfg), sort_keys=True, default=str)
