"""Pieces of a sweep that need no training: naming, results, summary, skip lookup, the report."""

from __future__ import annotations

import json
import re

import mlflow
import pytest
from omegaconf import OmegaConf

from rsx.compare import Comparison, RunRow, format_table, from_sweep, table_rows, write
from rsx.tracking import RunStore
from rsx.tracking.vocabulary import PARENT_TAG, SKIPPED_RUNS_TAG
from rsx.sweep import ( SweepInfo, _finished_run, best_per_model, collect_results, format_summary,
    job_name, swept_keys,
)
from rsx.job_files import FAILED, FINISHED, KILLED, SKIPPED, JobResult
from rsx.paths import RESULT_FILE

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_swept_keys_come_from_sweep_overrides_and_sweeper_params():
    config = OmegaConf.create({"hydra": {
        "overrides": {"task": ["backend=a,b", "data=synthetic", "trainer.seed=range(1,3)", "+x=1"]},
        "sweeper": {"params": {"model.embedding_dim": "choice(16, 32)", "backend": "a,b"}},
    }})
    assert swept_keys(config) == ["backend", "trainer.seed", "model.embedding_dim"]


def test_a_job_is_named_after_the_values_of_its_swept_keys():
    overrides = ["backend=jax_dataparallel", "data=synthetic", "model=two_tower", "trainer.epochs=1"]
    assert job_name(overrides, ["backend", "model"]) == "backend=jax_dataparallel model=two_tower"
    assert job_name(overrides, []) == ""


def _result(num, status, model="ranking", value=None, sweep_id="s1", test=None, **extra):
    # Jobs rank by the validation twin of the model's main metric; the test value rides along.
    metric = {"ranking": "val_rmse", "two_tower": "val_recall_at_10"}[model]
    metrics = {metric: value, metric.replace("val_", "test_"): test} if test is not None else {}
    return JobResult(status=status, main_metric=metric, value=value, metrics=metrics, context={
        "sweep_id": sweep_id, "job_num": num, "name": f"job={num}", "model": model, "overrides": [f"job={num}"],
    }, **extra)


def test_collect_results_reads_this_sweeps_results_in_job_order(tmp_path):
    for num, sweep_id in ((2, "s1"), (0, "s1"), (1, "other")):
        (tmp_path / str(num)).mkdir()
        _result(num, FINISHED, value=0.3, sweep_id=sweep_id).save(tmp_path / str(num) / RESULT_FILE)
    sweep = SweepInfo(id="s1", dir=str(tmp_path), swept=["job"], started=0.0)
    assert [r.context["job_num"] for r in collect_results(sweep)] == [0, 2]


def test_best_job_per_model_follows_each_models_direction():
    results = [
        _result(0, FINISHED, "ranking", 0.30), _result(1, FINISHED, "ranking", 0.25),
        _result(2, FAILED, "ranking"), _result(3, SKIPPED, "ranking", 0.20, run_id="old"),
        _result(4, FINISHED, "two_tower", 0.40), _result(5, FINISHED, "two_tower", 0.55),
    ]
    best = best_per_model(results)
    assert best["ranking"].context["job_num"] == 3  # lower RMSE; a skipped job counts with its old result
    assert best["two_tower"].context["job_num"] == 5  # higher recall


def test_summary_shows_every_job_its_status_metric_and_failure():
    results = [
        _result(0, FINISHED, value=0.2512, test=0.2611), _result(1, FAILED, error="trainer.batch_size exceeds the rows"),
        _result(2, SKIPPED, value=0.2400, run_id="abc123"), _result(3, KILLED, error="worker died"),
    ]
    text = format_summary(SweepInfo(id="s1", dir="/sweeps/x", swept=["job"], started=0.0), results, "parent run p")
    lines = text.splitlines()
    assert lines[0] == "rsx sweep: 4 jobs: 1 finished, 1 failed, 1 skipped, 1 killed"
    assert any(re.search(r"^\s+0\s+FINISHED\s+val_rmse=0.2512 \(test_rmse=0.2611\)\s+job=0$", l) for l in lines), text
    failed = next(i for i, l in enumerate(lines) if re.search(r"^\s+1\s+FAILED", l))
    assert "exceeds the rows" in lines[failed + 1]
    assert any("already finished as run abc123" in l for l in lines)
    assert lines[-1].startswith("  best ranking: job 2 val_rmse=0.2400")


def test_summary_of_a_long_sweep_fits_one_screen():
    results = [_result(i, FINISHED, value=1.0 + i) for i in range(60)] + [_result(60, FAILED, error="x")]
    lines = format_summary(SweepInfo(id="s1", dir="/d", swept=[], started=0.0), results).splitlines()
    assert len(lines) < 40
    assert any("FAILED" in l for l in lines) and any("50 more jobs" in l for l in lines)


def test_skip_lookup_finds_only_a_finished_run_of_the_same_config(tmp_path):
    cfg = OmegaConf.create({
        "backend": {"name": "cpu_reference"}, "model": {"name": "ranking"}, "trainer": {"epochs": 1},
        "data": {"dataset": "synthetic", "name": "synthetic"},
        "tracking": {"enabled": True, "uri": f"sqlite:///{tmp_path}/mlflow.db", "experiment": "rsx"},
    })
    from rsx.job import job_key

    client = mlflow.MlflowClient(cfg.tracking.uri)
    experiment = client.create_experiment("rsx")
    assert _finished_run(cfg) is None
    failed = client.create_run(experiment, tags={"rsx.job_key": job_key(cfg)})
    client.set_terminated(failed.info.run_id, "FAILED")
    other = client.create_run(experiment, tags={"rsx.job_key": "0" * 16})
    client.set_terminated(other.info.run_id, "FINISHED")
    assert _finished_run(cfg) is None
    done = client.create_run(experiment, tags={"rsx.job_key": job_key(cfg)})
    client.set_terminated(done.info.run_id, "FINISHED")
    assert _finished_run(cfg).run_id == done.info.run_id


def _row(run_id, model, backend, keras, value, speed, epochs=2, **extra):
    metric, greater = {"ranking": ("val_rmse", False), "two_tower": ("val_recall_at_10", True)}[model]
    curves = {"loss": [[e, 0.5 / e] for e in range(1, epochs + 1)], "val_loss": [[e, 0.6 / e] for e in range(1, epochs + 1)]}
    return RunRow(run_id=run_id, name=f"backend={backend} model={model}", status="FINISHED" if value else "FAILED",
                  backend=backend, keras_backend=keras, model=model, dataset="synthetic", main_metric=metric,
                  value=value, greater_is_better=greater, examples_per_second=speed, wall_seconds=12.5,
                  curves=curves if value else {}, **extra)


@pytest.fixture
def comparison():
    return Comparison(title="sweep backend=a,b model=c,d", source={"kind": "sweep", "run_id": "p1"}, runs=[
        _row("r1", "ranking", "cpu_reference", "tensorflow", 0.26, 20000.0),
        _row("r2", "ranking", "jax_dataparallel", "jax", 0.24, 30000.0, test_value=0.25),
        _row("r3", "two_tower", "cpu_reference", "tensorflow", 0.41, 15000.0),
        _row("r4", "two_tower", "jax_dataparallel", "jax", 0.47, 25000.0, skipped=True),
        _row("r5", "ranking", "tf_sparsecore", "tensorflow", None, None),
    ])


def test_table_ranks_each_models_runs_best_first(comparison):
    rows = table_rows(comparison)
    assert rows[0] == ["run", "status", "backend", "keras", "model", "main metric", "test", "examples/s", "wall time"]
    assert [r[2] for r in rows[1:]] == ["jax_dataparallel", "cpu_reference", "tf_sparsecore", "jax_dataparallel", "cpu_reference"]
    assert rows[1][5:] == ["val_rmse=0.2400", "test_rmse=0.2500", "30000", "12.5s"]
    assert rows[2][6] == "-"  # no test value logged
    assert rows[3][5] == "-" and rows[3][1] == "FAILED"
    assert rows[4][0].endswith("(reused)")
    assert format_table(comparison).splitlines()[0] == comparison.title


def test_report_files_are_a_real_png_and_a_page_built_from_the_json(comparison, tmp_path):
    paths = write(comparison, tmp_path)
    png = paths["png"].read_bytes()
    assert png[:8] == PNG_MAGIC and len(png) > 10_000
    assert Comparison.from_json(paths["json"].read_text()) == comparison
    page = paths["html"].read_text()
    embedded = re.search(r'<script type="application/json" id="rsx-comparison">(.*?)</script>', page, re.S).group(1)
    assert json.loads(embedded.replace("<\\/", "</"))["runs"] == json.loads(comparison.to_json())["runs"]
    for run in comparison.runs:
        assert f"<td>{run.name}" in page
    assert "data:image/png;base64," in page


def test_a_sweep_report_includes_the_runs_its_skipped_jobs_reused(tmp_path):
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    experiment = client.create_experiment("rsx")
    old = client.create_run(experiment, tags={"model": "ranking", "backend": "cpu_reference"}, run_name="old")
    client.log_metric(old.info.run_id, "val_rmse", 0.25)
    client.log_metric(old.info.run_id, "test_rmse", 0.27)
    client.set_terminated(old.info.run_id, "FINISHED")
    parent = client.create_run(experiment, tags={"rsx.role": "sweep", SKIPPED_RUNS_TAG: old.info.run_id})
    child = client.create_run(experiment, tags={PARENT_TAG: parent.info.run_id, "model": "ranking",
                                                "backend": "jax_dataparallel"}, run_name="new")
    client.log_metric(child.info.run_id, "examples_per_second", 100.0, step=1)
    client.log_metric(child.info.run_id, "examples_per_second", 300.0, step=2)
    client.log_metric(child.info.run_id, "examples_per_second", 200.0, step=3)
    client.set_terminated(child.info.run_id, "FINISHED")

    comparison = from_sweep(RunStore(f"sqlite:///{tmp_path}/mlflow.db"), parent.info.run_id)
    by_name = {r.name: r for r in comparison.runs}
    assert set(by_name) == {"old", "new"}
    assert by_name["old"].skipped and (by_name["old"].value, by_name["old"].test_value) == (0.25, 0.27)
    assert by_name["new"].examples_per_second == 250.0  # median of the epochs after the first


def _strict_json(text: str):
    """json.loads that refuses NaN/Infinity (which Python writes but JSON does not allow)."""
    def refuse(constant):
        raise ValueError(f"bare {constant} in JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), None])
def test_missing_or_non_finite_main_metrics_show_as_dash_and_null(tmp_path, bad, capsys):
    from rsx.compare import main

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment("rsx")
    for name, value in (("good", 0.4), ("bad", bad)):
        run = client.create_run(experiment, run_name=name, tags={"model": "two_tower", "backend": "cpu_reference",
                                                                  "rsx.main_metric": "test_recall_at_5"})
        if value is not None:  # Ranked by the validation twin; the test value stands beside it.
            client.log_metric(run.info.run_id, "val_recall_at_5", value)
            client.log_metric(run.info.run_id, "test_recall_at_5", value)
        client.log_metric(run.info.run_id, "val_loss", float("nan"), step=1)  # no point in the curve
        client.set_terminated(run.info.run_id, "FINISHED")
    assert main(["--all", "--tracking-uri", uri, "--out", str(tmp_path / "out")]) == 0
    table = capsys.readouterr().out
    row = {line.split()[0]: line for line in table.splitlines() if line.startswith(("good", "bad"))}
    assert "val_recall_at_5=0.4000" in row["good"] and "test_recall_at_5=0.4000" in row["good"]
    assert "recall_at_5" not in row["bad"]
    data = _strict_json((tmp_path / "out" / "comparison.json").read_text())
    assert {r["name"]: r["value"] for r in data["runs"]} == {"good": 0.4, "bad": None}
    assert {r["name"]: r["test_value"] for r in data["runs"]} == {"good": 0.4, "bad": None}
    assert (tmp_path / "out" / "comparison.png").read_bytes()[:8] == PNG_MAGIC


def test_sweep_results_and_summary_with_a_nan_metric_are_valid_json(tmp_path):
    result = JobResult(FINISHED, {"test_rmse": float("nan"), "test_loss": 0.5}, "test_rmse", None,
                       context={"sweep_id": "s", "job_num": 0, "name": "a=1", "model": "ranking"})
    result.save(tmp_path / RESULT_FILE)
    assert _strict_json((tmp_path / RESULT_FILE).read_text())["metrics"] == {"test_rmse": None, "test_loss": 0.5}
    summary = format_summary(SweepInfo("s", str(tmp_path), ["a"], 0.0), [result])
    assert "FINISHED  -" in summary


def test_the_baseline_of_the_same_run_stands_beside_the_model(tmp_path):
    # A retrieval run logs the most-popular baseline's test metric; summary, table and figure show it.
    from rsx.sweep import _metric_text

    job = _result(1, FINISHED, model="two_tower", value=0.19, test=0.191)
    job.metrics["baseline_test_recall_at_10"] = 0.104
    assert _metric_text(job) == "val_recall_at_10=0.1900 (test_recall_at_10=0.1910) [baseline 0.1040]"
    assert "baseline" not in _metric_text(_result(2, FINISHED, model="two_tower", value=0.19, test=0.191))
    runs = [_row("r1", "two_tower", "cpu_reference", "jax", 0.19, 15000.0, test_value=0.191, baseline_value=0.104)]
    comparison = Comparison(title="retrieval", source={"kind": "sweep", "run_id": "p1"}, runs=runs)
    assert table_rows(comparison)[1][6] == "test_recall_at_10=0.1910 (baseline 0.1040)"
    assert write(comparison, tmp_path)["png"].read_bytes()[:8] == PNG_MAGIC


def test_summary_of_a_stopped_sweep_counts_the_jobs_it_never_started():
    results = [_result(0, FINISHED, value=0.25), _result(1, KILLED, error="the sweep was stopped (SIGINT)")]
    sweep = SweepInfo(id="s1", dir="/d", swept=["trainer.seed"], started=0.0, planned=5)
    header = format_summary(sweep, results).splitlines()[0]
    assert header == "rsx sweep: 2 jobs: 1 finished, 0 failed, 0 skipped, 1 killed; 3 of 5 planned never started"
    complete = SweepInfo(id="s1", dir="/d", swept=["trainer.seed"], started=0.0, planned=2)
    assert "never started" not in format_summary(complete, results)


def test_compare_where_nothing_was_recorded_says_so_and_creates_no_store(tmp_path, capsys, monkeypatch):
    from rsx.compare import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main([]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"rsx: error: no MLflow store at {tmp_path / 'mlflow.db'}"), line
    assert list(tmp_path.iterdir()) == []
