"""The worker's side of a job: `python -m rsx.worker <output_dir>/rsx_job.yaml`.

A fresh process, started by `rsx.launch` with its backend's environment already set, reads the
job file (`rsx.job_files`), trains through `rsx.job`, and writes the job's result. It stops
with its run KILLED (resumable) on SIGINT, SIGTERM or its launcher's death, whatever signal
dispositions it inherited (`rsx.stopping`). It runs from the directory the job was launched
in, so every path (`rsx.paths`) is the launcher's.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import IO, Any, Mapping, Optional, Sequence

from omegaconf import DictConfig

from rsx import stopping
from rsx.errors import RsxError
from rsx.job_files import FAILED, FINISHED, JOB_ID_ENV, KILLED, JobResult, load_job_file, main_metric_of
from rsx.paths import JobFiles

log = logging.getLogger("rsx")


def _run_id_of(cfg: DictConfig, output_dir: str, since: float, status: str) -> Optional[str]:
    """The MLflow run this worker just recorded (tagged with its output directory).

    A job that did not finish ends that run `status` here if it is still RUNNING: a stop can
    land while MLflow is creating the run, after the run exists but before `rsx.job` knows
    its id, and only this process can still tell (its launcher trusts the result file).
    """
    if not cfg.tracking.enabled:
        return None
    from rsx.tracking import end_orphaned_run, find_job_run

    uri, experiment = cfg.tracking.uri, cfg.tracking.experiment
    if status == FINISHED:
        run = find_job_run(uri, experiment, output_dir, since)
        return run.run_id if run else None
    try:
        reason = f"the job ended {status} before it could end its run"
        return end_orphaned_run(uri, experiment, output_dir, since, status, reason)
    except Exception as error:  # The result must be written whatever MLflow says.
        log.warning("rsx: could not end this job's MLflow run: %s", error)
        run = find_job_run(uri, experiment, output_dir, since)
        return run.run_id if run else None


class _TolerantStream:
    """Our stdout/stderr, read by the launcher through a pipe. If the launcher dies, writing
    raises BrokenPipeError; that must not be what ends the job (`rsx.stopping` does)."""

    def __init__(self, stream: IO[str]):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, ValueError):
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        print("usage: python -m rsx.worker <output_dir>/rsx_job.yaml", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s", stream=sys.stdout
    )
    # Stop paths that work whatever signal dispositions this process inherited (rsx.stopping).
    sys.stdout, sys.stderr = _TolerantStream(sys.stdout), _TolerantStream(sys.stderr)
    stopping.install()
    stopping.stop_when_launcher_dies()
    cfg, document = load_job_file(argv[0])
    expected = os.environ.get(JOB_ID_ENV)
    if expected and document.get("job_id") != expected:
        print(
            f"rsx: error: {argv[0]} is not the job this worker was started for (another launch "
            "rewrote it) -> give each run its own hydra.run.dir",
            file=sys.stderr,
        )
        return 2
    if os.path.isdir(document.get("launch_dir") or ""):
        os.chdir(document["launch_dir"])  # Its data cache, checkpoints and MLflow artifacts.
    output_dir = document["output_dir"]
    result_file = JobFiles.of(output_dir).result
    context = document.get("context") or {}
    started = time.time()

    from rsx import job

    opened: list[str] = []  # The MLflow run `job.run` opened or resumed, once it exists.

    def finish(status: str, metrics: Mapping[str, float] | None = None, error: str | None = None, code: int = 0) -> int:
        from rsx.tracking import where_line

        name, value = main_metric_of(cfg.model, metrics or {})
        if opened and status == FINISHED:  # `job.run` ended it and said which it was.
            run_id = opened[-1]
        else:  # Looked up by output dir, which also ends a run a stop orphaned.
            found = _run_id_of(cfg, output_dir, started, status)
            run_id = opened[-1] if opened else found  # A resumed run started before this worker.
        JobResult(
            status=status,
            metrics=dict(metrics or {}),
            main_metric=name,
            value=value,
            run_id=run_id,
            error=error,
            exit_code=code,
            context=context,
        ).save(result_file)
        print(where_line(cfg.tracking.uri, cfg.tracking.experiment, run_id, status, cfg.tracking.enabled), flush=True)
        return code

    try:
        metrics = job.run(cfg, overrides=list(document.get("overrides") or []), output_dir=output_dir,
                          on_run=opened.append)
    except RsxError as error:
        print(f"rsx: error: {error}", file=sys.stderr)
        return finish(FAILED, error=str(error), code=2)
    except KeyboardInterrupt as stop:
        print(f"rsx: {stop or 'interrupted'}", file=sys.stderr)
        return finish(KILLED, error=str(stop) or "interrupted", code=stopping.exit_code(stop))
    except Exception as error:
        import traceback

        traceback.print_exc()
        return finish(FAILED, error=f"{type(error).__name__}: {' '.join(str(error).split())[:500]}", code=1)
    log.info("final metrics: %s", ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())))
    return finish(FINISHED, metrics)


if __name__ == "__main__":
    sys.exit(main())
