"""Finds backend, model and dataset plugins through Python entry points and registers their configs.

Built-in plugins are declared in rsx's own pyproject exactly as third-party ones are, so a
plugin pip-installed from elsewhere appears in `backend=` / `model=` / `data=` with no edit to rsx. A
plugin that fails to load is reported by name and skipped; the others keep working, and
selecting the broken one raises a `PluginError` that says why it is unusable.

Loading an entry point imports only the plugin's spec module, never Keras or a framework.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from importlib import metadata
from typing import Optional, Union

from hydra.core.config_store import ConfigStore

from rsx.contract import BackendSpec, ModelSpec
from rsx.data.spec import DatasetSpec
from rsx.errors import PluginError

log = logging.getLogger("rsx")

#: Config group -> entry-point group -> expected spec type.
ENTRY_POINT_GROUPS = {
    "backend": ("rsx.backends", BackendSpec),
    "model": ("rsx.models", ModelSpec),
    "data": ("rsx.datasets", DatasetSpec),
}

Spec = Union[BackendSpec, ModelSpec, DatasetSpec]

#: The config field that names the plugin: `backend.name`, `model.name`, `data.dataset` (a
#: dataset's `name` is the run's label, so presets such as movielens_100k can differ from it).
SELECTOR = {"backend": "name", "model": "name", "data": "dataset"}


@dataclasses.dataclass(frozen=True)
class PluginRecord:
    """One discovered plugin and where it came from.

    Args:
        kind: "backend", "model" or "data" (the config group).
        name: the entry point's name, which users select.
        target: the entry point's value ("module:attribute").
        distribution: the installed distribution that declares it, e.g. "rsx".
        version: that distribution's version.
        spec: the loaded spec; None when loading failed.
        error: why loading failed, as one line; None when it worked.
    """

    kind: str
    name: str
    target: str
    distribution: str
    version: str
    spec: Optional[Spec] = None
    error: Optional[str] = None

    @property
    def origin(self) -> str:
        return f"{self.distribution} {self.version}"


@dataclasses.dataclass(frozen=True)
class Registry:
    """Every discovered plugin, by kind and name."""

    records: dict[str, dict[str, PluginRecord]]

    def names(self, kind: str, include_broken: bool = False) -> list[str]:
        return sorted(
            name for name, r in self.records[kind].items() if include_broken or r.error is None
        )

    def record(self, kind: str, name: str) -> PluginRecord:
        records = self.records[kind]
        if name not in records:
            raise PluginError(
                f"unknown {kind} '{name}' (key: {kind})",
                f"choose one of: {', '.join(self.names(kind)) or 'none installed'}",
            )
        record = records[name]
        if record.error is not None:
            raise PluginError(
                f"{kind} '{name}' from {record.origin} is installed but failed to load: "
                f"{record.error}",
                f"fix or reinstall {record.distribution}, or choose one of: "
                f"{', '.join(self.names(kind))}",
            )
        return record

    def backend(self, name: str) -> BackendSpec:
        return self.record("backend", name).spec  # type: ignore[return-value]

    def model(self, name: str) -> ModelSpec:
        return self.record("model", name).spec  # type: ignore[return-value]

    def dataset(self, name: str) -> DatasetSpec:
        return self.record("data", name).spec  # type: ignore[return-value]


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _load(kind: str, entry_point: metadata.EntryPoint, expected: type) -> PluginRecord:
    dist = entry_point.dist
    base = dict(
        kind=kind,
        name=entry_point.name,
        target=entry_point.value,
        distribution=dist.metadata["Name"] if dist else "?",
        version=dist.version if dist else "?",
    )
    try:
        spec = entry_point.load()
        if not isinstance(spec, expected):
            raise TypeError(f"{entry_point.value} is a {type(spec).__name__}, not a {expected.__name__}")
        if spec.name != entry_point.name:
            raise ValueError(f"entry point '{entry_point.name}' names a spec called '{spec.name}'")
        defaults = {f.name: f.default for f in dataclasses.fields(spec.config)}
        selector = SELECTOR[kind]
        if defaults.get(selector) != spec.name:
            raise ValueError(
                f"{spec.config.__name__} needs a field `{selector}: str = \"{spec.name}\"`"
            )
    except Exception as error:  # A broken plugin must not take the host down.
        record = PluginRecord(**base, error=_one_line(error))
        log.warning(
            "rsx: %s plugin '%s' (%s) failed to load and is skipped: %s",
            kind, record.name, record.origin, record.error,
        )
        return record
    return PluginRecord(**base, spec=spec)


@functools.lru_cache(maxsize=None)
def discover() -> Registry:
    """Loads every `rsx.backends` / `rsx.models` / `rsx.datasets` entry point once per process."""
    records: dict[str, dict[str, PluginRecord]] = {}
    for kind, (group, expected) in ENTRY_POINT_GROUPS.items():
        found: dict[str, PluginRecord] = {}
        for entry_point in metadata.entry_points(group=group):
            if entry_point.name in found:  # The same plugin installed twice: keep the first.
                continue
            found[entry_point.name] = _load(kind, entry_point, expected)
        records[kind] = found
    return Registry(records)


def register_plugin_configs(registry: Registry, store: ConfigStore | None = None) -> None:
    """Stores each plugin's config dataclass as `<kind>/<name>` in Hydra's ConfigStore.

    A broken plugin gets a placeholder node so that selecting it composes and then fails
    with the reason (`Registry.record`), instead of Hydra's "could not find" message. A
    dataset's dataclass is also stored as `data/_schema_<name>`, which presets in
    `conf/data/*.yaml` extend; where rsx ships a preset named like the plugin
    (`conf/data/movielens.yaml`), that file is what `data=<name>` selects, so no node of the
    same name is stored (Hydra would match them by name, a deprecated behaviour).
    """
    store = store or ConfigStore.instance()
    presets = _data_presets()
    for kind, records in registry.records.items():
        for name, record in records.items():
            node = record.spec.config if record.spec else {SELECTOR[kind]: name, "name": name}
            if not (kind == "data" and name in presets):
                store.store(group=kind, name=name, node=node, provider=record.distribution)
            if kind == "data" and record.spec:
                store.store(group=kind, name=f"_schema_{name}", node=node, provider=record.distribution)


def _data_presets() -> set[str]:
    """Names of the YAML files in rsx's own `conf/data/`."""
    from importlib import resources

    try:
        folder = resources.files("rsx.conf") / "data"
        return {entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".yaml")}
    except (ModuleNotFoundError, FileNotFoundError):
        return set()
