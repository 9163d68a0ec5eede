"""Checks a composed config before anything expensive starts, one `ConfigError` per problem.

OmegaConf already rejects a wrong type or an unknown key when an override is merged. What is
left for rsx: values of the right type but outside their range (`trainer.epochs=0`, a
negative learning rate, `data.train_fraction=1.5`, NaN), interpolations that do not resolve,
and keys added with `+key=value` that no schema knows (they would be silently ignored).

Imports no framework: it runs before the backend's environment is even set.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rsx.cli_errors import unknown_key
from rsx.errors import ConfigError
from rsx.ranges import Range, at_least, range_of


#: Ranges of keys by leaf name, wherever they appear (plugins' configs included), for fields
#: whose schema declares no range of its own (`rsx.ranges.ranged`).
LEAF_RULES: dict[str, Range] = {
    "learning_rate": Range(lambda v: v > 0, "> 0"),
    "embedding_dim": at_least(1),
    "hidden_units": Range(lambda v: all(u >= 1 for u in v), "a list of widths >= 1"),
}

#: Sections the checks walk; `hydra` is Hydra's own.
SECTIONS = ("backend", "model", "data", "trainer", "tracking")


def resolved(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain containers; an interpolation that fails names its key."""
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "?"
        message = " ".join(str(getattr(error, "msg", None) or error).split("full_key:")[0].split())
        raise ConfigError(
            f"{key}: cannot resolve its value ({message})",
            f"fix the ${{...}} interpolation or give {key} a plain value",
        ) from error


def _unknown_keys(node: Any, path: str) -> None:
    """Keys that the node's schema dataclass does not declare (added with `+key=value`)."""
    if not isinstance(node, DictConfig):
        return
    schema = OmegaConf.get_type(node)
    if schema is not None and dataclasses.is_dataclass(schema):
        known = [f.name for f in dataclasses.fields(schema)]
        for key in node.keys():
            if key not in known:
                line = unknown_key(f"{path}.{key}", known)
                message, _, fix = line.partition(" -> ")
                raise ConfigError(message, fix)
    for key in node.keys():
        try:
            child = node._get_node(key)
        except OmegaConfBaseException:
            continue
        if isinstance(child, DictConfig):
            _unknown_keys(child, f"{path}.{key}")


def _declared_ranges(node: Any, path: str) -> dict[str, Range]:
    """Dotted key -> the range its schema field declares (`rsx.ranges.ranged`), recursively."""
    found: dict[str, Range] = {}
    if not isinstance(node, DictConfig):
        return found
    schema = OmegaConf.get_type(node)
    if schema is not None and dataclasses.is_dataclass(schema):
        for field in dataclasses.fields(schema):
            if (rule := range_of(field)) is not None:
                found[f"{path}.{field.name}"] = rule
    for key in node.keys():
        try:
            child = node._get_node(key)
        except OmegaConfBaseException:
            continue
        if isinstance(child, DictConfig):
            found.update(_declared_ranges(child, f"{path}.{key}"))
    return found


def _walk(node: Any, path: str):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    else:
        yield path, node


def _check(key: str, value: Any, rule: Range) -> None:
    test, wanted = rule
    try:
        ok = test(value)
    except TypeError:
        ok = False
    if not ok:
        raise ConfigError(f"{key}={value!r} is out of range", f"set {key} to {wanted}")


def check_plugins(cfg: DictConfig) -> None:
    """Runs the selected backend's and model's `check(config)` on their typed configs.

    Before any framework import and before the backend's environment is computed: a value
    only the plugin can judge fails here, in one line naming its key.
    """
    from rsx.contract import plugin_config
    from rsx.discovery import discover

    registry = discover()
    for spec, node in ((registry.backend(cfg.backend.name), cfg.backend), (registry.model(cfg.model.name), cfg.model)):
        if spec.check is not None:
            spec.check(plugin_config(node))


def validate(cfg: DictConfig) -> dict[str, Any]:
    """Raises `ConfigError` (one line, naming the key) for the first invalid value; returns
    the resolved config."""
    for section in SECTIONS:
        if section not in cfg or cfg[section] is None:
            raise ConfigError(f"the config has no {section} section", f"keep a {section} group in the defaults (do not remove it with ~{section})")
    container = resolved(cfg)
    for section in SECTIONS:
        if section in cfg:
            _unknown_keys(cfg[section], section)
    declared = {}
    for section in SECTIONS:
        if section in cfg:
            declared.update(_declared_ranges(cfg[section], section))
    for key, value in _walk({s: container[s] for s in SECTIONS if s in container}, ""):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key}={value} is not a finite number", f"set {key} to a finite value")
        rule = declared.get(key) or LEAF_RULES.get(key.rpartition(".")[2])
        if rule is not None and value is not None:
            _check(key, value, rule)
    check_plugins(cfg)
    return container
