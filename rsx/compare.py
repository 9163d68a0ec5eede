"""`python -m rsx.compare`: which backend and model won a sweep, at what speed.

Reads the runs of a sweep (its MLflow parent run: the children, plus the earlier runs that
jobs skipped as already finished) or of a whole experiment, prints one table

    run | status | backend | keras | model | main metric | examples/s | wall time

and writes `comparison.json` (the data), `comparison.png` (learning curves per model; bars
of each model's main metric and of every run's throughput) and `comparison.html` (the table
and the figure in one self-contained page). For a sweep they are also logged to its parent
run under `comparison/`.

- main metric: the validation twin of the model's `ModelSpec.main_metric` (ranking: val_rmse,
  lower is better; two_tower: val_recall_at_10, higher is better), final value; runs are
  ranked by it. test: the test metric beside it (`test_rmse`), looked at, never ranked by.
- examples/s: median training throughput over the epochs after the first (the first one
  includes tracing and compilation); the first epoch's when a run has only one.
- wall time: from the run's start to its end in MLflow (data, build, compile, fit, evaluate).

    python -m rsx.compare                        # the latest sweep in ./mlflow.db
    python -m rsx.compare --run <parent run id>  # a given sweep (the summary prints its id)
    python -m rsx.compare --all --experiment rsx # every run of an experiment
    python -m rsx.compare --tracking-uri http://127.0.0.1:5000 --run <id> --out report/

Imports no Keras; matplotlib only to draw.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence

from rsx.errors import RsxError
from rsx.evaluation import test_metric, validation_metric

#: Metrics drawn as learning curves, per epoch.
CURVES = ("loss", "val_loss")
#: Files written, and logged to the parent run under this folder.
ARTIFACT_FOLDER = "comparison"
JSON_FILE, PNG_FILE, HTML_FILE = "comparison.json", "comparison.png", "comparison.html"


@dataclasses.dataclass
class RunRow:
    """One run as the report shows it.

    Args:
        run_id: MLflow run id.
        name: run name (a sweep child is named after its swept overrides).
        status: MLflow status (FINISHED, FAILED, KILLED, RUNNING).
        backend: rsx backend plugin.
        keras_backend: the Keras backend it really ran on.
        model: rsx model plugin.
        dataset: data it trained on.
        main_metric: the metric that ranks runs: `val_` + the model's main metric.
        value: its final value; None when missing.
        test_value: the final test metric beside it (`test_rmse` beside `val_rmse`).
        greater_is_better: direction of `main_metric`.
        examples_per_second: see the module docstring; None without epochs.
        wall_seconds: run start to end; None while running.
        curves: metric -> [[epoch, value], ...] for `CURVES`.
        skipped: the sweep reused this earlier run instead of rerunning an identical job.
    """

    run_id: str
    name: str
    status: str
    backend: str
    keras_backend: str
    model: str
    dataset: str
    main_metric: str
    value: Optional[float]
    greater_is_better: bool
    examples_per_second: Optional[float]
    wall_seconds: Optional[float]
    curves: dict[str, list[list[float]]]
    skipped: bool = False
    test_value: Optional[float] = None


@dataclasses.dataclass
class Comparison:
    """Everything the table, figure and page are drawn from (`comparison.json`)."""

    title: str
    source: dict[str, Any]
    runs: list[RunRow]
    created: float = dataclasses.field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Comparison":
        data = json.loads(text)
        return cls(
            title=data["title"], source=data["source"], created=data["created"],
            runs=[RunRow(**row) for row in data["runs"]],
        )

    def models(self) -> list[str]:
        return sorted({r.model for r in self.runs})


# --------------------------------------------------------------------------- reading MLflow


def _model_spec(model: str) -> tuple[str, bool]:
    from rsx.discovery import discover

    try:
        spec = discover().model(model)
    except RsxError:
        return validation_metric("test_loss"), False
    return validation_metric(spec.main_metric), spec.greater_is_better


def _throughput(history: Sequence[Any]) -> Optional[float]:
    values = [m.value for m in sorted(history, key=lambda m: m.step)]
    if not values:
        return None
    return float(statistics.median(values[1:] if len(values) > 1 else values))


def row_of(client: Any, run: Any, skipped: bool = False) -> RunRow:
    """Reads one MLflow run into a `RunRow` (metric histories included)."""
    tags, metrics, info = run.data.tags, run.data.metrics, run.info
    model = tags.get("model", "?")
    metric, greater = _model_spec(model)
    curves = {}
    for key in CURVES:
        if key in metrics:
            history = client.get_metric_history(info.run_id, key)
            curves[key] = [[m.step, m.value] for m in sorted(history, key=lambda m: m.step)]
    throughput = None
    if "examples_per_second" in metrics:
        throughput = _throughput(client.get_metric_history(info.run_id, "examples_per_second"))
    wall = (info.end_time - info.start_time) / 1000 if info.end_time and info.start_time else None
    return RunRow(
        run_id=info.run_id,
        name=info.run_name or info.run_id[:8],
        status=info.status,
        backend=tags.get("backend", "?"),
        keras_backend=tags.get("keras_backend", "?"),
        model=model,
        dataset=tags.get("dataset", "?"),
        main_metric=metric,
        value=metrics.get(metric),
        greater_is_better=greater,
        examples_per_second=throughput,
        wall_seconds=wall,
        curves=curves,
        skipped=skipped,
        test_value=metrics.get(test_metric(metric)),
    )


def _distinct_names(rows: list[RunRow]) -> list[RunRow]:
    """Runs sharing a name (a job rerun by hand, repeated single runs) get their id appended."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.name] = counts.get(row.name, 0) + 1
    for row in rows:
        if counts[row.name] > 1:
            row.name = f"{row.name} [{row.run_id[:6]}]"
    return rows


def _client(uri: str):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=uri)


def _experiment_id(client: Any, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        raise RsxError(f"no MLflow experiment '{name}' at this tracking URI", "check --experiment and --tracking-uri")
    return found.experiment_id


def latest_sweep(client: Any, experiment: str) -> str:
    """The id of the most recent sweep parent run in `experiment`."""
    from rsx.sweep import ROLE_TAG

    found = client.search_runs(
        [_experiment_id(client, experiment)],
        filter_string=f"tags.`{ROLE_TAG}` = 'sweep'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not found:
        raise RsxError(f"no sweep in experiment '{experiment}'", "run one with `python -m rsx -m ...`, or pass --run or --experiment")
    return found[0].info.run_id


def from_sweep(client: Any, parent_id: str) -> Comparison:
    """The children of a sweep's parent run, plus the earlier runs its skipped jobs reused."""
    from rsx.sweep import PARENT_TAG, SKIPPED_RUNS_TAG, SWEEP_DIR_TAG

    try:
        parent = client.get_run(parent_id)
    except Exception as error:
        raise RsxError(f"no MLflow run '{parent_id}' ({type(error).__name__})", "check --run and --tracking-uri") from error
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`{PARENT_TAG}` = '{parent_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=5000,
    )
    rows = [row_of(client, run) for run in children]
    seen = {r.run_id for r in rows}
    for run_id in filter(None, parent.data.tags.get(SKIPPED_RUNS_TAG, "").split(",")):
        if run_id not in seen:
            rows.append(row_of(client, client.get_run(run_id), skipped=True))
    return Comparison(
        title=parent.info.run_name or f"sweep {parent_id[:8]}",
        source={"kind": "sweep", "run_id": parent_id, "sweep_dir": parent.data.tags.get(SWEEP_DIR_TAG)},
        runs=_distinct_names(rows),
    )


def from_experiment(client: Any, experiment: str) -> Comparison:
    """Every run of an experiment except sweep parents."""
    from rsx.sweep import ROLE_TAG

    runs = client.search_runs(
        [_experiment_id(client, experiment)], order_by=["attributes.start_time ASC"], max_results=5000
    )
    rows = [row_of(client, run) for run in runs if run.data.tags.get(ROLE_TAG) != "sweep"]
    return Comparison(
        title=f"experiment {experiment}", source={"kind": "experiment", "experiment": experiment},
        runs=_distinct_names(rows),
    )


# --------------------------------------------------------------------------- the table


def _number(value: Optional[float], digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}min"


def table_rows(comparison: Comparison) -> list[list[str]]:
    """Header plus one row per run: the best run of each model first within its model."""
    header = ["run", "status", "backend", "keras", "model", "main metric", "test", "examples/s", "wall time"]
    rows = [header]
    for run in sorted(comparison.runs, key=_rank_key):
        metric = f"{run.main_metric}={_number(run.value)}" if run.value is not None else "-"
        test = f"{test_metric(run.main_metric)}={_number(run.test_value)}" if run.test_value is not None else "-"
        rows.append([
            run.name + (" (reused)" if run.skipped else ""), run.status, run.backend, run.keras_backend,
            run.model, metric, test, _number(run.examples_per_second, 0), _duration(run.wall_seconds),
        ])
    return rows


def _rank_key(run: RunRow) -> tuple:
    if run.value is None:
        return (run.model, 1, 0.0)
    return (run.model, 0, -run.value if run.greater_is_better else run.value)


def format_table(comparison: Comparison) -> str:
    rows = table_rows(comparison)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return f"{comparison.title}\n" + "\n".join(lines)


# --------------------------------------------------------------------------- command line


def write(comparison: Comparison, out: Path) -> dict[str, Path]:
    """Writes the JSON, PNG and HTML into `out`; returns their paths."""
    from rsx.report import render_html, render_png

    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / JSON_FILE, "png": out / PNG_FILE, "html": out / HTML_FILE}
    paths["json"].write_text(comparison.to_json())
    render_png(comparison, paths["png"])
    paths["html"].write_text(render_html(comparison, paths["png"].read_bytes(), table_rows(comparison)))
    return paths


def _default_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd().resolve()}/mlflow.db"


def _default_out(comparison: Comparison) -> Path:
    sweep_dir = comparison.source.get("sweep_dir")
    if sweep_dir and Path(sweep_dir).is_dir():
        return Path(sweep_dir) / ARTIFACT_FOLDER
    name = comparison.source.get("run_id") or comparison.source.get("experiment")
    return Path("reports") / str(name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rsx.compare", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--run", help="a sweep's parent run id (default: the latest sweep)")
    which.add_argument("--all", dest="all_runs", action="store_true",
                       help="compare every run of --experiment instead of one sweep")
    parser.add_argument("--experiment", default="rsx", help="MLflow experiment (default: rsx)")
    parser.add_argument("--tracking-uri", default=None, help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or ./mlflow.db)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <sweep dir>/comparison or reports/<id>)")
    parser.add_argument("--no-log", action="store_true", help="do not log the report to the sweep's parent run")
    args = parser.parse_args(argv)

    from rsx.tracking import redact

    uri = args.tracking_uri or _default_uri()
    try:
        client = _client(uri)
        if args.all_runs:
            comparison = from_experiment(client, args.experiment)
        else:
            comparison = from_sweep(client, args.run or latest_sweep(client, args.experiment))
        if not comparison.runs:
            raise RsxError(f"{comparison.title}: no runs to compare", "pick another sweep or experiment")
        comparison.source["tracking_uri"] = redact(uri)
        paths = write(comparison, args.out or _default_out(comparison))
    except RsxError as error:
        print(f"rsx: error: {error}", file=sys.stderr)
        return 2
    print(format_table(comparison))
    print("\n" + "\n".join(f"  {kind:<5} {path}" for kind, path in paths.items()))
    parent = comparison.source.get("run_id")
    if parent and not args.no_log:
        for path in paths.values():
            client.log_artifact(parent, str(path), ARTIFACT_FOLDER)
        print(f"  logged to run {parent} under {ARTIFACT_FOLDER}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
