"""Option values that several plugins' configs share, parsed in one place.

Framework-free, so a spec can check them in `environment()`, before any framework starts.
"""

from __future__ import annotations

import dataclasses
from typing import Union

from rsx.errors import ConfigError

_JIT = {"auto": "auto", "true": True, "false": False}


def jit_compile_option(value, key: str = "backend.jit_compile") -> Union[bool, str]:
    """`model.compile(jit_compile=...)` from a config value: "auto", true or false.

    OmegaConf has no `bool | str` type, so configs hold a string and this says what is wrong.
    """
    parsed = _JIT.get(str(value).lower())
    if parsed is None:
        raise ConfigError(f"{key}={value!r} is not auto/true/false", f"set {key}=auto")
    return parsed


@dataclasses.dataclass
class OptimizerConfig:
    """An optimizer in a plugin's config; `OptimizerSpec.from_config` turns it into a spec."""

    # A keras.optimizers identifier: adam, adagrad, sgd, ftrl, ...
    name: str = "adagrad"
    # Learning rate.
    learning_rate: float = 0.001
