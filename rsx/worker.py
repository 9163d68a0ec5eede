"""One job in a fresh process: `python -m rsx.worker <output_dir>/rsx_job.yaml`.

Keras fixes its backend when it is first imported, so a process can train on one backend only.
rsx therefore trains every job in a fresh process that receives its backend's environment
(KERAS_BACKEND, XLA_FLAGS...) before anything imports Keras, TensorFlow or JAX; the process
that launched it (a single run, or each job of a sweep under any Hydra launcher) imports none
of them.

The two sides talk through two files in the job's output directory:

- `rsx_job.yaml`, written by the launching side (`run_in_fresh_process`): the job's resolved
  config, the schema each section was composed from, its overrides and context. Re-run a job
  by hand, e.g. under a debugger, with `python -m rsx.worker <that file>`.
- `rsx_result.json`, written by the worker (`main`): a `JobResult` with the job's status, final
  metrics and its model's main metric. If the worker dies before writing it, the launching
  side writes it instead and ends the job's MLflow run KILLED.

The worker's stdout and stderr are streamed to the launching side's own streams and copied to
`<output_dir>/train.log`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Mapping, Optional, Sequence

from omegaconf import DictConfig, OmegaConf

from rsx.errors import RsxError

log = logging.getLogger("rsx")

JOB_FILE = "rsx_job.yaml"
RESULT_FILE = "rsx_result.json"
LOG_FILE = "train.log"

#: How long a worker may take to stop after Ctrl-C before it is killed.
_STOP_SECONDS = 30

FINISHED, FAILED, KILLED, SKIPPED = "FINISHED", "FAILED", "KILLED", "SKIPPED"


@dataclasses.dataclass
class JobResult:
    """How one job ended, as `rsx_result.json` records it.

    Args:
        status: FINISHED, FAILED, KILLED, or SKIPPED (an identical job had already finished).
        metrics: the final metrics (empty unless FINISHED or SKIPPED).
        main_metric: the model's `ModelSpec.main_metric` name, when the model is known.
        value: that metric's final value; None when the job did not finish or lacks it.
        run_id: the job's MLflow run (for SKIPPED: the earlier run that finished).
        error: one line saying why the job failed.
        exit_code: the worker's exit code (0 when FINISHED or SKIPPED).
        context: what the launching side passed along (e.g. the job's place in a sweep).
    """

    status: str
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    main_metric: Optional[str] = None
    value: Optional[float] = None
    run_id: Optional[str] = None
    error: Optional[str] = None
    exit_code: int = 0
    context: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in (FINISHED, SKIPPED)

    def save(self, path: Path) -> None:
        tmp = Path(f"{path}.tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2, default=_jsonable))
        os.replace(tmp, path)  # Readers never see half a file.

    @classmethod
    def load(cls, path: Path) -> "JobResult":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in json.loads(Path(path).read_text()).items() if k in fields})


def _jsonable(value: Any) -> Any:
    return str(value)


def main_metric_of(model_name: str, metrics: Mapping[str, float]) -> tuple[Optional[str], Optional[float]]:
    """The model's main metric name and its value in `metrics` (None when unknown/absent)."""
    from rsx.discovery import discover

    try:
        name = discover().model(model_name).main_metric
    except RsxError:
        return None, None
    value = metrics.get(name)
    if value is None or not math.isfinite(float(value)):
        return name, None
    return name, float(value)


# --------------------------------------------------------------------------- launching side


def _schema_path(node: Any) -> Optional[str]:
    """"module:Class" of the dataclass a config section was composed from, if any."""
    kind = OmegaConf.get_type(node)
    if kind is None or not dataclasses.is_dataclass(kind):
        return None
    return f"{kind.__module__}:{kind.__qualname__}"


def write_job_file(
    cfg: DictConfig, overrides: Sequence[str], output_dir: str, context: Mapping[str, Any] | None = None
) -> Path:
    """Writes `<output_dir>/rsx_job.yaml`: everything the worker needs, nothing resolved later.

    The config is resolved here, where Hydra's `${hydra:...}` values are known; each section's
    schema is recorded so the worker restores the same typed (structured) config.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    document = {
        "output_dir": str(out.resolve()),
        "cwd": os.getcwd(),
        "overrides": list(overrides),
        "context": dict(context or {}),
        "schemas": {key: path for key in cfg if (path := _schema_path(cfg[key])) is not None},
        "config": resolved,
    }
    path = out / JOB_FILE
    header = (
        "# One rsx job, written for a fresh process. Re-run it by hand with\n"
        f"#   python -m rsx.worker {path}\n"
    )
    path.write_text(header + OmegaConf.to_yaml(OmegaConf.create(document)))
    return path


def run_in_fresh_process(
    cfg: DictConfig,
    overrides: Sequence[str],
    output_dir: str,
    context: Mapping[str, Any] | None = None,
    prefix: str = "",
) -> JobResult:
    """Trains `cfg` in `python -m rsx.worker` with its backend's environment; returns its result.

    Raises `RsxError` before starting anything when the backend is unknown or rejects its
    config. A worker that fails is reported through the result, not raised.

    Args:
        cfg: the composed job config (may hold `${hydra:...}` interpolations).
        overrides: the job's command-line overrides, recorded with the run.
        output_dir: the job's output directory; the job and result files go there.
        context: copied into the result (the job's place in a sweep).
        prefix: put before every line of the worker's output (e.g. "[job 3] ").
    """
    from rsx.contract import plugin_config
    from rsx.discovery import discover
    from rsx.validation import check_plugins

    check_plugins(cfg)  # The environment below may trust the backend's config.
    environment = dict(discover().backend(cfg.backend.name).environment(plugin_config(cfg.backend)))
    job_file = write_job_file(cfg, overrides, output_dir, context)
    result_file = job_file.parent / RESULT_FILE
    result_file.unlink(missing_ok=True)  # A result left by an earlier attempt is not this one's.

    env = {**os.environ, **environment}
    command = [sys.executable, "-m", "rsx.worker", str(job_file)]
    started = time.time()
    with open(job_file.parent / LOG_FILE, "ab") as log_file:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=os.getcwd()
        )
        copiers = [
            _Copier(process.stdout, sys.stdout, log_file, prefix),
            _Copier(process.stderr, sys.stderr, log_file, prefix),
        ]
        try:
            with _sigterm_forwarded(process):
                code = process.wait()
        except KeyboardInterrupt:
            _stop(process)
            raise
        finally:
            for copier in copiers:
                copier.join()

    if code < 0:
        code = 128 - code  # Killed by signal N: exit 128 + N, as a shell reports it.
    if result_file.exists():
        result = JobResult.load(result_file)
        if result.exit_code != code and code != 0:
            result.exit_code = code
        return result
    # The worker died without a word (SIGKILL, out of memory, a crashed interpreter). Its run
    # ends KILLED, not FAILED: no error was reported, and a rerun resumes it (`rsx.resume`).
    name, _ = main_metric_of(cfg.model.name, {})
    result = JobResult(
        status=KILLED,
        main_metric=name,
        error=f"the worker process died (exit code {code}) without a result; see {job_file.parent / LOG_FILE}",
        exit_code=code or 1,
        context=dict(context or {}),
        run_id=_end_orphaned_run(cfg, str(Path(output_dir).resolve()), started, code),
    )
    result.save(result_file)
    return result


class _Copier(threading.Thread):
    """Copies a worker's stream to our own stream and to the job's log file as it arrives."""

    _lock = threading.Lock()

    def __init__(self, source: IO[bytes], sink: IO[str], log_file: IO[bytes], prefix: str):
        super().__init__(daemon=True)
        self.source, self.sink, self.log_file = source, sink, log_file
        self.prefix = prefix.encode()
        self.start()

    def run(self) -> None:
        sink = getattr(self.sink, "buffer", None)
        at_line_start = True
        while chunk := os.read(self.source.fileno(), 65536):
            with self._lock:
                self.log_file.write(chunk)
                self.log_file.flush()
                if self.prefix:
                    chunk, at_line_start = _prefixed(chunk, self.prefix, at_line_start)
                try:
                    if sink is not None:
                        sink.write(chunk)
                    else:  # A text-only stream (e.g. captured by a test runner).
                        self.sink.write(chunk.decode(errors="replace"))
                    self.sink.flush()
                except (OSError, ValueError):  # Our own stream is closed; keep the log going.
                    pass
        self.source.close()


def _prefixed(chunk: bytes, prefix: bytes, at_line_start: bool) -> tuple[bytes, bool]:
    lines = chunk.split(b"\n")
    out = []
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        if line and (at_line_start or i > 0):
            line = prefix + line
        out.append(line)
        if last:
            at_line_start = line == b""
    return b"\n".join(out), at_line_start


def _stop(process: subprocess.Popen) -> None:
    """Lets the worker close its MLflow run as KILLED; kills it if it does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # A terminal's Ctrl-C already did; harmless twice.
    try:
        process.wait(timeout=_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def _sigterm_forwarded(process: subprocess.Popen):
    """SIGTERM to this process (a scheduler's stop) stops the worker too, instead of orphaning it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # Only the main thread may handle signals.
        return

    def forward(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")  # `_stop` then ends the worker.

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _end_orphaned_run(cfg: DictConfig, output_dir: str, since: float, code: int) -> Optional[str]:
    """Ends KILLED the MLflow run a dead worker left RUNNING; returns its id if found."""
    if not cfg.tracking.enabled:
        return None
    try:
        from rsx.tracking import MlflowTracker

        tracker = MlflowTracker(cfg.tracking.uri, cfg.tracking.experiment)
        found = tracker.client.search_runs(
            [tracker.experiment_id],
            filter_string=f"tags.output_dir = '{output_dir}' and attributes.start_time >= {int(since * 1000)}",
            max_results=1,
        )
        if not found:
            return None
        tracker.run_id = found[0].info.run_id
        if found[0].info.status == "RUNNING":
            tracker.set_tags({"failure": f"the worker process died (exit code {code})"})
            tracker.finish(KILLED)
        return tracker.run_id
    except Exception as error:  # Recording the death must not hide it.
        log.warning("rsx: could not end the dead worker's MLflow run: %s", error)
        return None


# --------------------------------------------------------------------------- worker side


def load_job_file(path: str | Path) -> tuple[DictConfig, dict[str, Any]]:
    """Reads a job file back: the typed config, and the rest of the document."""
    document = OmegaConf.to_container(OmegaConf.load(path))
    sections = {}
    for key, value in document["config"].items():
        schema = document.get("schemas", {}).get(key)
        if schema is not None:
            from rsx.contract import _load_object

            node = OmegaConf.merge(OmegaConf.structured(_load_object(schema)), value)
        else:
            node = OmegaConf.create(value) if isinstance(value, (dict, list)) else value
        sections[key] = node
    cfg = OmegaConf.create(sections)
    OmegaConf.set_struct(cfg, True)
    return cfg, document


def _run_id_of(cfg: DictConfig, output_dir: str, since: float) -> Optional[str]:
    """The MLflow run this worker just recorded (tagged with its output directory)."""
    if not cfg.tracking.enabled:
        return None
    try:
        import mlflow

        client = mlflow.MlflowClient(tracking_uri=cfg.tracking.uri)
        experiment = client.get_experiment_by_name(cfg.tracking.experiment)
        found = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.output_dir = '{output_dir}' and attributes.start_time >= {int(since * 1000)}",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        return found[0].info.run_id if found else None
    except Exception:  # The run id is a convenience for summaries, never worth a failure.
        return None


class _TolerantStream:
    """Our stdout/stderr, read by the launcher through a pipe. If the launcher dies, writing
    raises BrokenPipeError; that must not be what ends the job (see `_stop_when_orphaned`)."""

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


def _stop_when_orphaned(poll_seconds: float = 0.5) -> None:
    """Ends this worker like Ctrl-C (its run KILLED, resumable) if its launcher dies.

    A launcher killed outright (SIGKILL) cannot stop its worker; without this, the worker
    would keep training with nobody to read its output or result.
    """
    import _thread

    parent = os.getppid()
    sys.stdout, sys.stderr = _TolerantStream(sys.stdout), _TolerantStream(sys.stderr)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        _thread.interrupt_main()

    threading.Thread(target=watch, name="rsx-parent-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        print("usage: python -m rsx.worker <output_dir>/rsx_job.yaml", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s", stream=sys.stdout
    )
    _stop_when_orphaned()
    cfg, document = load_job_file(argv[0])
    if os.path.isdir(document.get("cwd") or ""):
        os.chdir(document["cwd"])  # Where the job was launched: its data cache and checkpoints.
    output_dir = document["output_dir"]
    result_file = Path(output_dir) / RESULT_FILE
    context = document.get("context") or {}
    started = time.time()

    from rsx import job

    def finish(status: str, metrics: Mapping[str, float] | None = None, error: str | None = None, code: int = 0) -> int:
        name, value = main_metric_of(cfg.model.name, metrics or {})
        JobResult(
            status=status,
            metrics=dict(metrics or {}),
            main_metric=name,
            value=value,
            run_id=_run_id_of(cfg, output_dir, started),
            error=error,
            exit_code=code,
            context=context,
        ).save(result_file)
        return code

    try:
        metrics = job.run(cfg, overrides=list(document.get("overrides") or []), output_dir=output_dir)
    except RsxError as error:
        print(f"rsx: error: {error}", file=sys.stderr)
        return finish(FAILED, error=str(error), code=2)
    except KeyboardInterrupt:
        print("rsx: interrupted", file=sys.stderr)
        return finish(KILLED, error="interrupted", code=130)
    except Exception as error:
        import traceback

        traceback.print_exc()
        return finish(FAILED, error=f"{type(error).__name__}: {' '.join(str(error).split())[:500]}", code=1)
    log.info("final metrics: %s", ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())))
    return finish(FINISHED, metrics)


if __name__ == "__main__":
    sys.exit(main())
