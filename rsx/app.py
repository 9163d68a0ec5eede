"""`python -m rsx`: the Hydra application.

Before Hydra composes anything, rsx discovers its plugins and stores their config
dataclasses, so `backend=<name>` / `model=<name>` work for any installed plugin. Composition
imports no framework; the job imports Keras only after its backend's environment is set.
"""

from __future__ import annotations

import logging
import os
import sys

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from rsx import paths, stopping
from rsx.config import register_core_schemas
from rsx.contract import plugin_config
from rsx.discovery import Registry, discover, register_plugin_configs
from rsx.errors import RsxError

log = logging.getLogger("rsx")

HELP = """rsx — train and compare recommender models on any backend.

  python -m rsx backend=<backend> model=<model> [key=value ...]
  python -m rsx -m backend=cpu_reference,jax_dataparallel model=ranking,two_tower
  python -m rsx --cfg job        # print the composed config and exit
  python -m rsx.plugins          # list plugins and where they come from
  python -m rsx.compare          # table and plots of the latest sweep (see --help)

== Config groups (choose one with group=option) ==
{groups}

== Composed config (override any key as key=value) ==
$CONFIG

{flags}
"""


def preset_names(group: str) -> list[str]:
    """The options of a preset group (`experiment`, `hparams_search`): the YAML files in rsx's
    own `conf/<group>/` and in every plugin package's `conf/<group>/`, the same places Hydra
    searches (`hydra_plugins.rsx_plugin_presets`), so `--help` lists exactly what composes."""
    import importlib.resources

    from hydra_plugins.rsx_plugin_presets.presets import preset_packages

    names = set()
    for package in ("rsx.conf", *preset_packages()):
        folder = importlib.resources.files(package) / group
        if folder.is_dir():
            names.update(entry.name[:-5] for entry in folder.iterdir()
                         if entry.name.endswith(".yaml") and not entry.name.startswith("_"))
    return sorted(names)


def _group_listing(registry: Registry) -> str:
    lines = []
    for kind in ("backend", "model", "data"):
        for name in registry.names(kind):
            spec = registry.record(kind, name).spec
            lines.append(f"{kind}={name:<20} {spec.description}")
    # Presets in conf/data/ that are not dataset names (each names its plugin in `dataset`).
    data_presets = [name for name in preset_names("data") if name not in registry.names("data")]
    lines.append(f"data={' | '.join(data_presets)}   (presets; e.g. the tutorials' MovieLens with raw ids as rows)")
    for group, about in (("experiment", "presets: published workloads, tuned models, the GPU recipe"),
                         ("hparams_search", "Optuna searches; run as a multirun")):
        lines.append(f"{group}={' | '.join(preset_names(group))}   ({about})")
    lines.append("hydra/launcher=joblib | slurm | submitit_slurm   (parallel jobs / a SLURM cluster, with -m)")
    return "\n".join(lines)


def register_everything(registry: Registry) -> None:
    """Stores core schemas, plugin configs and the help page in Hydra's ConfigStore."""
    store = ConfigStore.instance()
    register_core_schemas(store)
    register_plugin_configs(registry, store)
    template = HELP.format(groups=_group_listing(registry), flags="$FLAGS_HELP")
    store.store(
        group="hydra/help",
        name="rsx",
        node={"app_name": "rsx", "header": "", "footer": "", "template": template},
    )
    # rsx's Optuna sweeper (`hydra/sweeper=rsx_optuna`). Hydra finds plugins by listing the
    # `hydra_plugins` namespace, which misses an editable install's; registering it directly
    # works for every kind of install.
    # Likewise the search-path plugin that puts each plugin's own presets (`<plugin>/conf/`)
    # on Hydra's search path.
    from hydra.core.plugins import Plugins
    from hydra_plugins.rsx_optuna_sweeper.optuna_sweeper import RsxOptunaSweeper
    from hydra_plugins.rsx_plugin_presets.presets import RsxPluginPresets

    Plugins.instance().register(RsxOptunaSweeper)
    Plugins.instance().register(RsxPluginPresets)


def _task(cfg: DictConfig) -> float | None:
    """One job; returns its model's main metric (what sweepers such as Optuna minimize).

    Every job trains in a fresh process that gets its backend's environment first
    (`rsx.launch`): each job of a multirun as a child of the sweep's parent run (`rsx.sweep`),
    and a single run too unless `trainer.isolate=false`, which trains in this process.
    """
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:
        from rsx.sweep import run_sweep_job  # Deferred: keeps `--cfg`, `--help` and `--info` light.

        return run_sweep_job(cfg)
    overrides = list(hydra_cfg.overrides.task)
    output_dir = hydra_cfg.runtime.output_dir
    try:
        if cfg.trainer.isolate:
            from rsx.launch import run_in_fresh_process

            result = run_in_fresh_process(cfg, overrides, output_dir)
            if not result.ok:
                sys.exit(result.exit_code or 1)  # The worker already said why.
            return result.value
        from rsx import job
        from rsx.job_files import claim
        from rsx.paths import JobFiles

        with claim(JobFiles.of(output_dir)):
            metrics = job.run(cfg, overrides=overrides, output_dir=output_dir)
    except RsxError as error:
        print(f"rsx: error: {error}", file=sys.stderr)
        sys.exit(2)
    main_metric = metrics.get(discover().model(cfg.model.name).main_metric_for(cfg.model))
    log.info("final metrics: %s", ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())))
    return main_metric


#: Hydra re-raises errors instead of printing its multi-line report when this is "1".
FULL_ERROR = "HYDRA_FULL_ERROR"


def main() -> None:
    """Runs the Hydra app; a config or input error ends as one line on stderr (exit 2).

    While Hydra composes the config, rsx sets HYDRA_FULL_ERROR=1 so that Hydra hands the
    exception back instead of printing its own report, and rsx prints it as one line
    (`rsx.cli_errors`). Set HYDRA_FULL_ERROR=1 yourself to get the full traceback instead.
    """
    wants_trace = os.environ.get(FULL_ERROR) == "1"
    os.environ[FULL_ERROR] = "1"
    started = []

    def task(cfg: DictConfig) -> float | None:
        started.append(True)
        # rsx works from the launch directory whatever directory Hydra chose for the job
        # (`hydra.job.chdir=true`), so nothing kept between launches moves into each job's
        # output folder (`rsx.paths`); Hydra returns to its own directory after the job.
        os.chdir(paths.launch_dir())
        try:
            _check_tracking(cfg)
        except RsxError as error:  # Ends here: Hydra would add "Error executing job ..."
            print(f"rsx: error: {error}", file=sys.stderr)
            sys.exit(2)
        # Composition is over: the job (and every process it starts) sees the user's setting.
        _restore_full_error(wants_trace)
        return _task(cfg)

    try:
        register_everything(discover())
        hydra.main(version_base="1.3", config_path="pkg://rsx.conf", config_name="config")(task)()
    except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM (`rsx.stopping`): runs already ended KILLED.
        print(f"rsx: {stop or 'interrupted'}", file=sys.stderr)
        sys.exit(stopping.exit_code(stop))
    except Exception as error:
        from rsx.cli_errors import one_line

        line = None if wants_trace else one_line(error, sys.argv[1:], composing=not started)
        if line is None:
            raise
        print(f"rsx: error: {line}", file=sys.stderr)
        sys.exit(2)
    finally:
        _restore_full_error(wants_trace)


def _check_tracking(cfg: DictConfig) -> None:
    """A single run checks that MLflow answers before it starts anything (a worker, data
    preparation): an unreachable server is reported in seconds, naming the URI. Processes
    other than 0 of a multi-process job never touch MLflow."""
    from hydra.types import RunMode

    if not cfg.tracking.enabled or HydraConfig.get().mode != RunMode.RUN:
        return
    if discover().backend(cfg.backend.name).process_index(plugin_config(cfg.backend)) == 0:
        from rsx.job import make_tracker

        make_tracker(cfg)  # Tag keys, the store (created safely), the experiment (not deleted).


def _restore_full_error(wanted: bool) -> None:
    if wanted:
        os.environ[FULL_ERROR] = "1"
    else:
        os.environ.pop(FULL_ERROR, None)
