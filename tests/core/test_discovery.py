"""Plugins are found through entry points: built-ins and third-party ones alike."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rsx.discovery import discover
from rsx.testing.cli import explain, run_rsx, runs

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A directory with the tiny and broken plugins pip-installed into it (`--target`)."""
    target = tmp_path_factory.mktemp("site")
    for name in ("tiny_backend", "broken_plugin", "tiny_dataset", "broken_dataset"):
        source = tmp_path_factory.mktemp("src") / name
        shutil.copytree(FIXTURES / name, source)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
             "--target", str(target), str(source)],
            check=True, capture_output=True, timeout=300,
        )
    return target


def _with_site(site):
    return {"PYTHONPATH": str(site)}


def test_builtins_are_entry_points_of_the_rsx_distribution():
    registry = discover()
    for kind, name in (("backend", "cpu_reference"), ("model", "ranking")):
        record = registry.record(kind, name)
        assert record.distribution == "rsx"
        assert record.target.startswith("rsx_plugins.")


def test_plugin_listing_names_origin(site):
    result = subprocess.run(
        [sys.executable, "-m", "rsx.plugins", "--json"],
        env={"PATH": "/usr/bin:/bin", **_with_site(site)}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(result.stdout)}
    assert rows[("backend", "tiny")]["distribution"] == "rsx-tiny-backend"
    assert rows[("backend", "tiny")]["version"] == "0.0.1"
    assert rows[("model", "broken")]["status"] == "broken"
    assert "a_dependency_that_is_not_installed" in rows[("model", "broken")]["about"]
    assert rows[("backend", "cpu_reference")]["status"] == "ok"
    assert rows[("data", "tiny")]["distribution"] == "rsx-tiny-dataset"
    assert rows[("data", "broken_data")]["status"] == "broken"
    assert "a_reader_that_is_not_installed" in rows[("data", "broken_data")]["about"]
    assert rows[("data", "movielens")]["status"] == "ok"


def test_broken_plugin_is_reported_by_name_and_others_still_work(site, tmp_path):
    result = run_rsx(["--cfg", "job", "backend=tiny"], tmp_path, env=_with_site(site))
    assert result.returncode == 0, explain(result)
    assert "model plugin 'broken' (rsx-broken-plugin 0.0.2) failed to load" in result.stderr
    assert "name: tiny" in result.stdout


def test_selecting_the_broken_plugin_is_one_clear_error(site, tmp_path):
    result = run_rsx(["model=broken", "tracking.enabled=false"], tmp_path, env=_with_site(site))
    assert result.returncode == 2, explain(result)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("rsx: error: model 'broken' from rsx-broken-plugin 0.0.2 is installed but failed")
    assert "Traceback" not in result.stderr


def test_out_of_tree_backend_composes_and_trains(site, tmp_path):
    result = run_rsx(
        ["backend=tiny", "backend.flavour=mint", "data=synthetic", "data.num_interactions=4000",
         "data.num_users=100", "data.num_items=50", "trainer.epochs=1", "trainer.verbose=0"],
        tmp_path, env=_with_site(site),
    )
    assert result.returncode == 0, explain(result)
    (run,) = runs(tmp_path)
    assert run.info.status == "FINISHED"
    assert run.data.tags["backend"] == "tiny"
    assert run.data.tags["tiny_flavour"] == "mint"
    assert run.data.params["backend.flavour"] == "mint"
    assert "test_loss" in run.data.metrics


def test_out_of_tree_dataset_appears_in_data_and_trains(site, tmp_path):
    result = run_rsx(["data=tiny", "trainer.epochs=1", "trainer.verbose=0"], tmp_path, env=_with_site(site))
    assert result.returncode == 0, explain(result)
    # The broken dataset next to it is one warning line, nothing more.
    assert "data plugin 'broken_data' (rsx-broken-dataset 0.0.4) failed to load" in result.stderr
    (run,) = runs(tmp_path)
    assert run.info.status == "FINISHED"
    assert run.data.tags["dataset"] == "tiny"
    assert run.data.params["data.rows"] == "3000"
    assert "test_loss" in run.data.metrics and "val_loss" in run.data.metrics


def test_selecting_the_broken_dataset_is_one_clear_error(site, tmp_path):
    result = run_rsx(["data=broken_data", "tracking.enabled=false"], tmp_path, env=_with_site(site))
    assert result.returncode == 2, explain(result)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("rsx: error: data 'broken_data' from rsx-broken-dataset 0.0.4 is installed but failed")
    assert "Traceback" not in result.stderr


def test_out_of_tree_v1_model_still_trains_and_is_told_what_to_change(site, tmp_path):
    """A model written against contract v1 (`build(self, embeddings)`, reading
    `self.global_batch_size`) trains on the v1 out-of-tree backend; rsx warns once, in one
    line, with the v2 signature."""
    result = run_rsx(
        ["backend=tiny", "model=tiny_v1", "data=synthetic", "data.num_interactions=2000",
         "data.num_users=50", "data.num_items=30", "trainer.epochs=1", "trainer.verbose=0"],
        tmp_path, env=_with_site(site),
    )
    assert result.returncode == 0, explain(result)
    output = result.stdout + result.stderr
    assert output.count("TinyV1Model.build(embeddings) is the v1 signature; declare "
                        "build(self, embeddings, global_batch_size)") == 1
    (run,) = runs(tmp_path)
    assert run.info.status == "FINISHED" and "test_loss" in run.data.metrics
