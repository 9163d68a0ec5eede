"""`python -m rsx.compare`: which backend and model won a sweep, at what speed.

Reads the runs of a sweep (its MLflow parent run: the children, plus the earlier runs that
jobs skipped as already finished) or of a whole experiment, prints one table

    run | status | backend | keras | model | main metric | examples/s | wall time

and writes `comparison.json` (the data), `comparison.png` (learning curves per model; bars
of each model's main metric and of every run's throughput) and `comparison.html` (the table
and the figure in one self-contained page). For a sweep they are also logged to its parent
run under `comparison/`.

- main metric: the validation twin (`val_rmse`) of the main metric the run recorded as its own
  (`rsx.main_metric`: ranking: test_rmse, lower is better; two_tower: test_recall_at_<top_k>,
  higher is better), final value; runs are ranked by it. test: the test metric beside it,
  looked at, never ranked by. "-" (null in the JSON, no bar in the figure) when a value is
  missing or not a finite number.
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
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

from rsx.errors import RsxError
from rsx.tracking import vocabulary as tag

if TYPE_CHECKING:
    from rsx.tracking import RunRecord, RunStore
from rsx.evaluation import baseline_metric, test_metric, validation_metric

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
    baseline_value: Optional[float] = None  # the baseline's test metric in the same run


@dataclasses.dataclass
class Comparison:
    """Everything the table, figure and page are drawn from (`comparison.json`)."""

    title: str
    source: dict[str, Any]
    runs: list[RunRow]
    created: float = dataclasses.field(default_factory=time.time)

    def to_json(self) -> str:
        from rsx.json_values import dumps

        return dumps(dataclasses.asdict(self), indent=2)

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
        return "test_loss", False
    return spec.main_metric_for(None), spec.greater_is_better


def _finite(value: Optional[float]) -> Optional[float]:
    return float(value) if value is not None and math.isfinite(value) else None


def _throughput(history: Sequence[tuple[int, float]]) -> Optional[float]:
    values = [value for _, value in history if math.isfinite(value)]
    if not values:
        return None
    return float(statistics.median(values[1:] if len(values) > 1 else values))


def row_of(store: "RunStore", run: "RunRecord", skipped: bool = False) -> RunRow:
    """Reads one MLflow run into a `RunRow` (metric histories included)."""
    tags, metrics = run.tags, run.metrics
    model = tags.get(tag.MODEL_TAG, "?")
    default_metric, greater = _model_spec(model)
    # Ranked by validation; runs from before the tag existed fall back to the model's default.
    metric = validation_metric(tags.get(tag.MAIN_METRIC_TAG) or default_metric)
    curves = {}
    for key in CURVES:
        if key in metrics:
            curves[key] = [[step, value] for step, value in store.metric_history(run.run_id, key) if math.isfinite(value)]
    throughput = None
    if "examples_per_second" in metrics:
        throughput = _throughput(store.metric_history(run.run_id, "examples_per_second"))
    wall = (run.end_time - run.start_time) / 1000 if run.end_time and run.start_time else None
    return RunRow(
        run_id=run.run_id,
        name=run.name or run.run_id[:8],
        status=run.status,
        backend=tags.get(tag.BACKEND_TAG, "?"),
        keras_backend=tags.get(tag.KERAS_BACKEND_TAG, "?"),
        model=model,
        dataset=tags.get(tag.DATASET_TAG, "?"),
        main_metric=metric,
        value=_finite(metrics.get(metric)),
        greater_is_better=greater,
        examples_per_second=throughput,
        wall_seconds=wall,
        curves=curves,
        skipped=skipped,
        test_value=_finite(metrics.get(test_metric(metric))),
        baseline_value=_finite(metrics.get(baseline_metric(metric))),
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


def _experiment_id(store: "RunStore", name: str) -> str:
    found = store.experiment_id(name)
    if found is None:
        raise RsxError(f"no MLflow experiment '{name}' at this tracking URI", "check --experiment and --tracking-uri")
    return found


def latest_sweep(store: "RunStore", experiment: str) -> str:
    """The id of the most recent sweep parent run in `experiment`."""
    found = store.latest_sweep(_experiment_id(store, experiment))
    if found is None:
        raise RsxError(f"no sweep in experiment '{experiment}'", "run one with `python -m rsx -m ...`, or pass --run or --experiment")
    return found.run_id


def from_sweep(store: "RunStore", parent_id: str) -> Comparison:
    """The children of a sweep's parent run, plus the earlier runs its skipped jobs reused."""
    parent = store.get(parent_id)
    rows = [row_of(store, run) for run in store.children(parent)]
    seen = {r.run_id for r in rows}
    for run_id in filter(None, parent.tags.get(tag.SKIPPED_RUNS_TAG, "").split(",")):
        if run_id not in seen:
            rows.append(row_of(store, store.get(run_id), skipped=True))
    return Comparison(
        title=parent.name or f"sweep {parent_id[:8]}",
        source={"kind": "sweep", "run_id": parent_id, "sweep_dir": parent.tags.get(tag.SWEEP_DIR_TAG)},
        runs=_distinct_names(rows),
    )


def from_experiment(store: "RunStore", experiment: str) -> Comparison:
    """Every run of an experiment except sweep parents."""
    runs = store.experiment_runs(_experiment_id(store, experiment))
    rows = [row_of(store, run) for run in runs if run.tags.get(tag.ROLE_TAG) != tag.SWEEP_ROLE]
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
        test += f" (baseline {_number(run.baseline_value)})" if run.baseline_value is not None else ""
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

    from rsx.tracking import RunStore, redact

    uri = args.tracking_uri or _default_uri()
    try:
        store = RunStore(uri, create=False)  # A reader: never leaves an empty store behind.
        if args.all_runs:
            comparison = from_experiment(store, args.experiment)
        else:
            comparison = from_sweep(store, args.run or latest_sweep(store, args.experiment))
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
            store.log_artifact(parent, str(path), ARTIFACT_FOLDER)
        print(f"  logged to run {parent} under {ARTIFACT_FOLDER}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
