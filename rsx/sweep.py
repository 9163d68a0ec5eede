"""Sweeps: one MLflow parent run per multirun, one child run per job, a summary at the end.

`SweepCallback` is registered in `conf/config.yaml` under `hydra.callbacks`, so it works with
any Hydra sweeper and launcher (basic, joblib, submitit, rsx's Optuna sweeper):

- `on_multirun_start`, in the process that orchestrates the sweep and before any job starts,
  creates the MLflow experiment and the parent run (so parallel jobs never race to create the
  experiment) and writes `<sweep_dir>/rsx_sweep.json`, where every job finds its parent, in
  whatever process or machine the launcher runs it.
- `run_sweep_job`, each job (called by `rsx.app`'s task function), names and tags its run as
  the parent's child, skips itself when an identical config already FINISHED
  (`tracking.skip_finished`), or trains in a fresh process (`rsx.launch`). A failing job
  marks its own run FAILED and the sweep goes on.
- `on_multirun_end` reads every job's `rsx_result.json`, prints a one-screen summary, records
  it on the parent (failed jobs, skipped runs, the best job per model) and ends the parent
  FINISHED when every job finished, FAILED otherwise; the sweep then exits 1.
- Before any of that, `validate_jobs` checks the sweep's config once (one line, exit 2, no job
  and no run), and the orchestrator takes the sweep directory (one live sweep per directory).
- SIGTERM or SIGINT to the orchestrator (`rsx.stopping`) stops every running worker of the
  sweep (`rsx.launch.stop_workers`: their runs end KILLED), marks the sweep stopped so no
  further job starts, and ends the parent KILLED with the summary of what ran.
- Whichever way the sweep ends, it first ends KILLED every child run still RUNNING whose
  job's processes are gone (`SweepCallback._end_orphaned_jobs`): no run it created outlives
  it RUNNING, even when a launcher died with its worker (the joblib launcher's SIGKILL).

Nothing here imports Keras, TensorFlow or JAX.
"""

from __future__ import annotations

import atexit
import copy
import os
import signal
import dataclasses
import json
import logging
import math
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict

from rsx import stopping
from rsx.errors import ConfigError, RsxError
from rsx.job_files import claim_sweep
from rsx.job_files import FAILED, FINISHED, KILLED, SKIPPED, JobResult, main_metric_of
from rsx.launch import run_in_fresh_process, stop_workers
from rsx.paths import RESULT_FILE, JobFiles
from rsx.json_values import dumps as json_dumps
from rsx.tracking.vocabulary import (
    FAILED_JOBS_TAG,
    JOB_NUM_TAG,
    OUTPUT_DIR_TAG,
    OVERRIDES_TAG,
    PARENT_TAG,
    ROLE_TAG,
    SKIPPED_RUNS_TAG,
    SWEEP_DIR_TAG,
    SWEEP_ERROR_TAG,
    SWEEP_ROLE,
)
from rsx.evaluation import baseline_metric, finite, test_metric

log = logging.getLogger("rsx")

SWEEP_FILE = "rsx_sweep.json"
SUMMARY_FILE = "sweep_summary"

#: Keys a sweep may not vary: every job must record into the parent's experiment.
_FIXED_PER_SWEEP = ("tracking.uri", "tracking.experiment", "tracking.enabled", "trainer.isolate")

#: Rows the summary shows before it shortens itself to fit one screen.
_SCREEN_ROWS = 30


@dataclasses.dataclass
class SweepInfo:
    """What every job of one multirun needs to know about it (`<sweep_dir>/rsx_sweep.json`).

    Args:
        id: unique id of this multirun; results of other multiruns in the same folder differ.
        dir: the sweep directory (absolute).
        swept: override keys that vary between jobs; jobs are named after their values.
        started: when the sweep started (seconds since the epoch).
        run_id: the MLflow parent run; None when tracking is disabled.
        overrides: the sweep's command-line overrides.
        stopped: the signal that stopped the sweep (e.g. "SIGTERM"); jobs not yet started
            then end KILLED without starting.
        planned: how many jobs the sweep will launch (the basic sweeper's product of swept
            values, Optuna's n_trials); None when the sweeper does not say. A summary of a
            stopped sweep counts the jobs that never started against it.
    """

    id: str
    dir: str
    swept: list[str]
    started: float
    run_id: Optional[str] = None
    overrides: list[str] = dataclasses.field(default_factory=list)
    stopped: Optional[str] = None
    planned: Optional[int] = None

    def save(self) -> None:
        path = Path(self.dir, SWEEP_FILE)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2))
        os.replace(tmp, path)  # Jobs never read half a file.

    @classmethod
    def load(cls, sweep_dir: str | Path) -> Optional["SweepInfo"]:
        path = Path(sweep_dir, SWEEP_FILE)
        if not path.exists():  # The callback is not registered: jobs run without a parent.
            return None
        return cls(**json.loads(path.read_text()))


# --------------------------------------------------------------------------- naming


def _parse(overrides: Sequence[str]):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(list(overrides))


def swept_keys(config: DictConfig) -> list[str]:
    """Override keys that vary between the jobs of a multirun.

    They come from sweep overrides on the command line (`backend=a,b`) and from the sweeper's
    own `params` (`hydra.sweeper.params`, e.g. an Optuna search space).
    """
    keys = [o.get_key_element() for o in _parse(config.hydra.overrides.task) if o.is_sweep_override()]
    params = OmegaConf.select(config, "hydra.sweeper.params")
    for key in params or {}:
        if key not in keys:
            keys.append(key)
    return keys


def job_name(overrides: Sequence[str], swept: Iterable[str]) -> str:
    """The job's values of the swept keys, e.g. "backend=jax_dataparallel model=two_tower"."""
    swept = set(swept)
    return " ".join(o.input_line for o in _parse(overrides) if o.get_key_element() in swept)


# --------------------------------------------------------------------------- checking a sweep


#: The sweeper whose jobs are known before the first one starts: each swept value is checked.
_BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
#: rsx's Optuna sweeper: its search and study are checked before the parent run exists.
_OPTUNA_SWEEPER = "hydra_plugins.rsx_optuna_sweeper.optuna_sweeper.RsxOptunaSweeper"


def validate_jobs(config: DictConfig) -> Optional[int]:
    """Checks a sweep's config before any job or run exists; raises one `RsxError`.

    Returns the number of jobs the sweep will launch, when the sweeper fixes it up front
    (the basic sweeper: the product of each swept key's value count; Optuna: n_trials).

    The sweep's fixed config is checked as a single run's is (`rsx.validation`, and the
    backend's own checks). With Hydra's basic sweeper, every value a swept key takes is
    checked too, each composed into the fixed config (`trainer.epochs=-1,5` fails on -1 here,
    not in its job); other sweepers (Optuna) choose values as they go, and each job checks its
    own. rsx's Optuna sweeper has its search checked here too (a kept study it cannot
    continue, validation on test: `check_search`), so it fails before the parent run exists.
    Costs one composition per swept value, no framework import.
    """
    from hydra import compose

    from rsx.cli_errors import one_line

    overrides = _parse(config.hydra.overrides.task)
    fixed = [o.input_line for o in overrides if not o.is_sweep_override()]
    candidates: list[list[str]] = [fixed]
    planned = OmegaConf.select(config, "hydra.sweeper.n_trials")
    if OmegaConf.select(config, "hydra.sweeper._target_") == _BASIC_SWEEPER:
        planned = 1
        for override in (o for o in overrides if o.is_sweep_override()):
            key = override.get_key_element()
            values = list(override.sweep_string_iterator())
            planned *= len(values)
            candidates += [[*fixed, f"{key}={value}"] for value in values]
    for job_overrides in candidates:
        try:
            _validate(compose(config.hydra.job.config_name, overrides=job_overrides))
        except RsxError:
            raise
        except Exception as error:  # Composition: e.g. an unknown group option among the swept values.
            line = one_line(error, job_overrides, composing=True)
            if line is None:
                raise
            message, _, fix = line.partition(" -> ")
            raise ConfigError(message, fix or None) from error
    if OmegaConf.select(config, "hydra.sweeper._target_") == _OPTUNA_SWEEPER:
        # Its study (kept in a storage it may not be able to continue) is checked here too.
        from hydra_plugins.rsx_optuna_sweeper._impl import check_search

        check_search(config)
    if OmegaConf.select(config, "hydra.sweeper.params"):  # Swept in a config file: not counted above.
        planned = None
    return int(planned) if isinstance(planned, int) else None


def _validate(cfg: DictConfig) -> None:
    from rsx.validation import validate

    validate(cfg)  # The plugins' own `check`s included.


# --------------------------------------------------------------------------- one job


def _finished_run(cfg: DictConfig):
    """An earlier FINISHED run of the same config (`rsx.job_key`) in the experiment, if any."""
    from rsx.job import job_key
    from rsx.tracking import finished_job

    return finished_job(cfg.tracking.uri, cfg.tracking.experiment, job_key(cfg))


def run_sweep_job(cfg: DictConfig) -> Optional[float]:
    """Runs one job of a multirun; returns its validation main metric (what Optuna
    optimizes), or None when it failed or lacks it.

    Never raises for a failed job: the job's run and result say it failed, and the sweep goes
    on to the next job.
    """
    hydra_cfg = HydraConfig.get()
    output_dir = hydra_cfg.runtime.output_dir
    overrides = list(hydra_cfg.overrides.task)
    num = int(hydra_cfg.job.num)
    # Relative to where the sweep was launched, even if the job runs elsewhere (hydra.job.chdir).
    sweep = SweepInfo.load(Path(hydra_cfg.runtime.cwd) / hydra_cfg.sweep.dir)
    name = job_name(overrides, sweep.swept if sweep else [])
    context = {
        "sweep_id": sweep.id if sweep else None,
        "job_num": num,
        "name": name,
        "overrides": overrides,
        "model": cfg.model.name,
        "backend": cfg.backend.name,
        "output_dir": output_dir,
    }
    cfg = _as_child(cfg, sweep, num, overrides, name)
    if sweep is not None and sweep.stopped:
        result = JobResult(KILLED, error=f"the sweep was stopped ({sweep.stopped}) before this job started", context=context)
        result.save(Path(output_dir) / RESULT_FILE)
        return None

    try:
        earlier = _finished_run(cfg) if cfg.tracking.enabled and cfg.tracking.skip_finished else None
        if earlier is not None:
            metrics = dict(earlier.metrics)
            metric, value = main_metric_of(cfg.model, metrics)
            result = JobResult(SKIPPED, metrics, metric, value, run_id=earlier.run_id, context=context)
            result.save(Path(output_dir) / RESULT_FILE)
            log.info("job %d: an identical job already FINISHED (run %s): skipped", num, earlier.run_id)
            return value
        result = run_in_fresh_process(cfg, overrides, output_dir, context, prefix=f"[job {num}] ")
    except Exception as error:  # Unusable before it started (unknown backend, MLflow down...).
        line = str(error) if isinstance(error, RsxError) else f"{type(error).__name__}: {' '.join(str(error).split())[:500]}"
        print(f"[job {num}] rsx: error: {line}", file=sys.stderr)
        result = JobResult(FAILED, error=line, exit_code=2 if isinstance(error, RsxError) else 1, context=context)
        result.save(Path(output_dir) / RESULT_FILE)
    return result.value if result.ok else None


def _as_child(cfg: DictConfig, sweep: Optional[SweepInfo], num: int, overrides: Sequence[str], name: str) -> DictConfig:
    """The job's config, recording into the sweep's parent run under the job's name."""
    cfg = copy.deepcopy(cfg)
    with open_dict(cfg):
        tags = cfg.tracking.tags
        tags[JOB_NUM_TAG] = str(num)
        tags[OVERRIDES_TAG] = " ".join(overrides)
        if sweep is not None:
            tags[SWEEP_DIR_TAG] = sweep.dir
            if sweep.run_id:
                tags[PARENT_TAG] = sweep.run_id
        if cfg.tracking.run_name is None and name:
            cfg.tracking.run_name = name
    return cfg


# --------------------------------------------------------------------------- the sweep


def collect_results(sweep: SweepInfo) -> list[JobResult]:
    """Every job result of this sweep, by job number."""
    found = []
    for path in Path(sweep.dir).rglob(RESULT_FILE):
        try:
            result = JobResult.load(path)
        except (OSError, ValueError, TypeError):
            continue
        if result.context.get("sweep_id") == sweep.id:
            found.append(result)
    return sorted(found, key=lambda r: r.context.get("job_num", 0))


def best_per_model(results: Sequence[JobResult]) -> dict[str, JobResult]:
    """The best finished (or skipped) job of each model, by its validation main metric."""
    from rsx.discovery import discover

    best: dict[str, JobResult] = {}
    for result in results:
        model = result.context.get("model")
        if not result.ok or result.value is None or model is None:
            continue
        try:
            greater = discover().model(model).greater_is_better
        except RsxError:
            continue
        current = best.get(model)
        if current is None or (result.value > current.value if greater else result.value < current.value):
            best[model] = result
    return best


def _metric_text(result: JobResult) -> str:
    """`val_rmse=0.2400 (test_rmse=0.2410)`: the ranking metric, the test one beside it."""
    if result.value is None or not math.isfinite(result.value):
        return "-"
    test = result.test_value
    beside = f" ({test_metric(result.main_metric)}={test:.4f})" if test is not None else ""
    baseline = finite(result.metrics, baseline_metric(result.main_metric))
    beside += f" [baseline {baseline:.4f}]" if baseline is not None else ""
    return f"{result.main_metric}={result.value:.4f}{beside}"


def format_summary(sweep: SweepInfo, results: Sequence[JobResult], tracking: str = "") -> str:
    """One screen: a line per job (number, status, main metric, swept overrides), then the best."""
    counts = {s: sum(r.status == s for r in results) for s in (FINISHED, FAILED, SKIPPED)}
    others = len(results) - sum(counts.values())
    never = (sweep.planned or 0) - len(results)  # A stopped sweep: jobs it never reached.
    header = (
        f"rsx sweep: {len(results)} jobs: {counts[FINISHED]} finished, {counts[FAILED]} failed, "
        f"{counts[SKIPPED]} skipped" + (f", {others} killed" if others else "")
        + (f"; {never} of {sweep.planned} planned never started" if never > 0 else "")
    )
    lines = [header, f"  sweep dir  {sweep.dir}"]
    if tracking:
        lines.append(f"  MLflow     {tracking}")
    shown = list(results)
    hidden = 0
    if len(shown) > _SCREEN_ROWS:  # Keep failures and the best jobs on screen.
        best = set(id(r) for r in sorted((r for r in results if r.value is not None), key=lambda r: r.value)[:10])
        shown = [r for r in results if not r.ok or id(r) in best]
        hidden = len(results) - len(shown)
    metric_width = max([len(_metric_text(r)) for r in shown] + [11])
    lines.append(f"  {'job':>4}  {'status':<9} {'main metric':<{metric_width}}  overrides")
    for r in shown:
        label = r.context.get("name") or " ".join(r.context.get("overrides", []))
        lines.append(f"  {r.context.get('job_num', '?'):>4}  {r.status:<9} {_metric_text(r):<{metric_width}}  {label}")
        if r.status == SKIPPED:
            lines.append(f"  {'':>4}  {'':<9} identical job already finished as run {r.run_id}")
        elif not r.ok and r.error:
            lines.append(f"  {'':>4}  {'':<9} {r.error[:200]}")
    if hidden:
        lines.append(f"  ... {hidden} more jobs in {Path(sweep.dir, SUMMARY_FILE + '.txt')}")
    for model, r in sorted(best_per_model(results).items()):
        lines.append(f"  best {model}: job {r.context.get('job_num')} {_metric_text(r)}  {r.context.get('name', '')}")
    return "\n".join(lines)


class SweepCallback(Callback):
    """Hydra callback that gives each multirun one MLflow parent run and a summary."""

    def __init__(self) -> None:
        self.sweep: Optional[SweepInfo] = None
        self.tracker: Any = None
        self.experiment = ""
        self._lock: Any = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # Hydra turns an exception raised here into a warning and carries on; a sweep whose
        # parent could not be created must stop instead, with the reason.
        try:
            self._start(config)
        except RsxError as error:
            print(f"rsx: error: {error}", file=sys.stderr)
            raise SystemExit(2) from error

    def _start(self, config: DictConfig) -> None:
        HydraConfig.instance().set_config(config)  # Resolves `${hydra:...}` in tracking.uri.
        swept = swept_keys(config)
        for key in _FIXED_PER_SWEEP:
            if key in swept:
                raise ConfigError(f"a sweep cannot vary {key}", f"give {key} one value for the whole sweep")
        if not config.trainer.isolate:
            raise ConfigError(
                "trainer.isolate=false cannot be used in a multirun: every job needs a fresh process for its backend",
                "drop trainer.isolate=false, or run a single job without -m",
            )
        planned = validate_jobs(config)  # Once, here: a config error starts no job and no run.
        sweep_dir = Path(config.hydra.sweep.dir).resolve()
        self._lock = claim_sweep(sweep_dir)  # Held until this process ends.
        overrides = list(config.hydra.overrides.task)
        self.sweep = SweepInfo(id=uuid.uuid4().hex, dir=str(sweep_dir), swept=swept, started=time.time(), overrides=overrides,
                               planned=planned)
        self.experiment = config.tracking.experiment
        # SIGTERM (a scheduler's stop) or SIGINT first stops every worker (their runs end
        # KILLED), then ends the sweep: summary, parent run KILLED (`_stopped_early`).
        stopping.install(on_stop=self._stop_jobs)
        atexit.register(self._stopped_early)
        if config.tracking.enabled:
            from rsx.job import make_tracker

            self.tracker = make_tracker(config)
            self.sweep.run_id = self.tracker.start(
                _sweep_name(config, overrides, sweep_dir),
                tags={
                    ROLE_TAG: SWEEP_ROLE,
                    SWEEP_DIR_TAG: str(sweep_dir),
                    OVERRIDES_TAG: " ".join(overrides),
                    "rsx.sweeper": str(OmegaConf.select(config, "hydra.sweeper._target_")),
                    "rsx.launcher": str(OmegaConf.select(config, "hydra.launcher._target_")),
                    **dict(config.tracking.tags or {}),
                },
            )
            self.tracker.log_text("\n".join(overrides) + "\n", "overrides.txt")
        self.sweep.save()
        log.info("rsx sweep in %s%s", sweep_dir, f", MLflow parent run {self.sweep.run_id}" if self.sweep.run_id else "")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.sweep is None:
            return
        atexit.unregister(self._stopped_early)
        self._end_orphaned_jobs()
        results = collect_results(self.sweep)
        failed = [r for r in results if not r.ok]
        # A sweep whose jobs finished without their main metric ranked nothing (an Optuna
        # search told every trial FAILED): it failed too, as did one where no job got a result.
        no_objective = sorted({r.main_metric or "?" for r in results if r.ok and r.value is None})
        no_objective = no_objective if results and all(r.value is None for r in results if r.ok) else []
        incomplete = failed or not results or no_objective
        self._end(results, FAILED if incomplete else FINISHED)
        if no_objective:
            print(
                f"rsx: error: no job of this sweep logged its main metric ({', '.join(no_objective)}) -> "
                "check the runs' metrics: the model's config must name a metric it logs (ModelSpec.main_metric)",
                file=sys.stderr, flush=True,
            )
        if incomplete:
            raise SystemExit(1)  # Not an Exception: Hydra would swallow that into a warning.

    def _end(self, results: Sequence[JobResult], status: str, note: str = "") -> None:
        """Writes and prints the summary, records it on the parent run and ends that `status`."""
        tracking = ""
        if self.sweep.run_id:
            tracking = f"parent run {self.sweep.run_id} in experiment '{self.experiment}' at {_uri(self.tracker)}"
        summary = format_summary(self.sweep, results, tracking) + (f"\n  {note}" if note else "")
        Path(self.sweep.dir, SUMMARY_FILE + ".txt").write_text(summary + "\n")
        Path(self.sweep.dir, SUMMARY_FILE + ".json").write_text(
            json_dumps([dataclasses.asdict(r) for r in results], indent=2, default=str)
        )
        if self.tracker is not None:
            try:
                if note:
                    self.tracker.set_tags({SWEEP_ERROR_TAG: note})
                self._record(results, summary)
            except Exception as error:  # The summary is printed whether or not MLflow took it.
                log.warning("rsx: could not record the sweep summary on the parent run: %s", error)
            finally:
                self.tracker.finish(status)
        print("\n" + summary, flush=True)
        if self.sweep.run_id:
            print(f"  compare: python -m rsx.compare --run {self.sweep.run_id}", flush=True)

    def _record(self, results: Sequence[JobResult], summary: str) -> None:
        failed = [r for r in results if not r.ok]
        skipped = [r for r in results if r.status == SKIPPED and r.run_id]
        tags = {
            "rsx.jobs": len(results),
            "rsx.jobs_finished": sum(r.status == FINISHED for r in results),
            "rsx.jobs_failed": len(failed),
            "rsx.jobs_skipped": len(skipped),
        }
        if self.sweep.planned is not None:
            tags["rsx.jobs_planned"] = self.sweep.planned
        if failed:
            tags[FAILED_JOBS_TAG] = "; ".join(f"job {r.context.get('job_num')}: {r.context.get('name') or '-'}" for r in failed)
        if skipped:
            tags[SKIPPED_RUNS_TAG] = ",".join(r.run_id for r in skipped)
        best = best_per_model(results)
        for model, r in best.items():
            tags[f"rsx.best.{model}.job"] = r.context.get("job_num")
            tags[f"rsx.best.{model}.run_id"] = r.run_id or ""
            tags[f"rsx.best.{model}.overrides"] = r.context.get("name") or ""
            tags[f"rsx.best.{model}.{r.main_metric}"] = r.value
            if r.test_value is not None:
                tags[f"rsx.best.{model}.{test_metric(r.main_metric)}"] = r.test_value
        self.tracker.set_tags(tags)
        if len(best) == 1:  # One model: the parent shows the best job's values and metric.
            (r,) = best.values()
            params = {f"best.{o.get_key_element()}": o.input_line.partition("=")[2]
                      for o in _parse(r.context.get("overrides", [])) if o.get_key_element() in self.sweep.swept}
            self.tracker.log_params(params)
            self.tracker.log_metrics({f"best_{r.main_metric}": r.value,
                                      **({f"best_{test_metric(r.main_metric)}": r.test_value}
                                         if r.test_value is not None else {})})
        self.tracker.log_text(summary + "\n", SUMMARY_FILE + ".txt")
        self.tracker.log_dict([dataclasses.asdict(r) for r in results], SUMMARY_FILE + ".json")

    def _stop_jobs(self, signum: int) -> None:
        """On SIGTERM/SIGINT (`rsx.stopping`): no new job starts, every running worker stops."""
        name = signal.Signals(signum).name
        print(f"rsx: {name}: stopping the sweep's jobs (their runs end KILLED, resumable)", file=sys.stderr, flush=True)
        self.sweep.stopped = name
        self.sweep.save()
        stop_workers(self.sweep.dir)

    def _stopped_early(self) -> None:
        """At exit, when the sweep never reached its end: stopped by a signal (the parent ends
        KILLED, like its jobs) or a crashed sweeper (FAILED). The summary still comes."""
        signum = stopping.requested()
        if signum is not None:
            status, note = KILLED, f"the sweep was stopped ({signal.Signals(signum).name}) before all its jobs ended"
        else:
            status, note = FAILED, "the sweep stopped before all its jobs ended"
        try:
            self._end_orphaned_jobs()
            self._end(collect_results(self.sweep), status, note)
        except Exception as error:
            log.warning("rsx: could not end the sweep cleanly: %s", error)

    def _end_orphaned_jobs(self) -> None:
        """Before the summary: no run of this sweep is left RUNNING once the sweep ends.

        A job's own worker ends its run, and its launcher ends it for a worker that died; but
        a launcher can die too. The joblib launcher, stopped, SIGKILLs its loky processes with
        their workers, possibly while a launcher was still recording its worker's death; a
        worker can also start after the stop looked for it. So the sweep, the last process
        to see its jobs, stops any worker still running (when it was stopped), then ends
        KILLED (resumable) every child run left RUNNING by a process that is gone, and writes
        the KILLED result its job never got, so the summary counts it. A job of another
        machine (submitit) counts as gone, as `rsx.resume` takes it: one still running there
        ends its run itself later, over this KILLED. Never raises: the summary must come.
        """
        try:
            if self.sweep.stopped or stopping.requested() is not None:
                stop_workers(self.sweep.dir)
            if not self.sweep.run_id:
                return
            from rsx.resume import is_alive
            from rsx.tracking import end_orphaned_children

            reason = "its job's processes ended without ending it" + (
                f" (the sweep was stopped by {self.sweep.stopped})" if self.sweep.stopped else "")
            for run in end_orphaned_children(self.tracker.uri, self.sweep.run_id, is_alive, KILLED, reason):
                log.warning("rsx: run %s (%s) was left RUNNING by its job: ended KILLED", run.run_id, run.name)
                _write_orphan_result(self.sweep, run, reason)
        except Exception as error:
            log.warning("rsx: could not end the sweep's orphaned runs: %s", error)


def _write_orphan_result(sweep: SweepInfo, run: Any, reason: str) -> None:
    """The KILLED result of the job whose run `run` (a `RunRecord`) was orphaned, unless its
    job wrote one; its context (job number, name...) comes from the job's file."""
    output_dir = run.tags.get(OUTPUT_DIR_TAG)
    if not output_dir:
        return
    files = JobFiles.of(output_dir)
    if files.result.exists():
        return
    try:
        context = OmegaConf.to_container(OmegaConf.load(files.job)).get("context") or {}
    except Exception:  # Missing or unreadable: not a job this sweep can name.
        context = {}
    if context.get("sweep_id") != sweep.id:
        return  # Not this sweep's job: `collect_results` would not count it anyway.
    # Its exit code is unknown (its launcher died with it): 1, as for any job that did not end well.
    JobResult(KILLED, run_id=run.run_id, error=reason, exit_code=1, context=context).save(files.result)


def _sweep_name(config: DictConfig, overrides: Sequence[str], sweep_dir: Path) -> str:
    """"sweep backend=a,b model=c,d", "sweep hparams_search=ranking_optuna", or the folder."""
    swept = [o.input_line for o in _parse(overrides) if o.is_sweep_override()]
    search = OmegaConf.select(config, "hydra.runtime.choices.hparams_search")
    if search:
        swept.insert(0, f"hparams_search={search}")
    return "sweep " + (" ".join(swept) or sweep_dir.name)


def _uri(tracker: Any) -> str:
    from rsx.tracking import redact

    return redact(getattr(tracker, "uri", "") or "")
