"""Setting a backend's environment before the first Keras/framework import.

Keras reads KERAS_BACKEND once, at import; JAX reads XLA_FLAGS once, when it starts. A
process that already imported either under other settings cannot switch: that job must run
in a fresh process instead, and silently training on the wrong backend is the one outcome
rsx never allows.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

from rsx.errors import PluginError

#: Variables that stop taking effect once a framework has started.
_FIXED_AT_IMPORT = {"KERAS_BACKEND": "keras", "XLA_FLAGS": "jax"}


def apply_environment(env: Mapping[str, str]) -> None:
    """Sets `env` in os.environ; fails if a framework already started under other values."""
    for key, value in env.items():
        module = _FIXED_AT_IMPORT.get(key)
        if module in sys.modules and os.environ.get(key, "") != value:
            raise PluginError(
                f"this process already imported {module} with {key}={os.environ.get(key, '<unset>')!r}, "
                f"but the backend needs {key}={value!r}",
                "run each backend in a fresh process (python -m rsx ..., or a multirun sweep)",
            )
    if "keras" in sys.modules:
        import keras  # Already imported: free, and tells which backend it fixed.

        wanted = env.get("KERAS_BACKEND")
        if wanted and keras.config.backend() != wanted:
            raise PluginError(
                f"keras is already running on '{keras.config.backend()}' in this process, "
                f"but the backend needs '{wanted}'",
                "run each backend in a fresh process (python -m rsx ..., or a multirun sweep)",
            )
    os.environ.update(env)
