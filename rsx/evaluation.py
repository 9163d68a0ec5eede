"""Which metric ranks runs: the validation twin of the model's main metric, never the test one.

A model declares its main metric as the test metric it reports (`ModelSpec.main_metric`, e.g.
`test_rmse`). Early stopping, Optuna, the sweep summary and `rsx.compare` must choose on the
validation split, so they rank by `validation_metric(main_metric)` (`val_rmse`: Keras' own name
for the same metric on `validation_data`) and show the test value beside it, looked at once.

Imports nothing heavy: the sweep and compare sides use it without Keras.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Optional

VALIDATION_PREFIX, TEST_PREFIX = "val_", "test_"


def validation_metric(name: str) -> str:
    """`test_rmse` -> `val_rmse`; `rmse` -> `val_rmse`; `val_rmse` stays as it is."""
    if name.startswith(VALIDATION_PREFIX):
        return name
    return VALIDATION_PREFIX + name.removeprefix(TEST_PREFIX)


def test_metric(name: str) -> str:
    """The test twin of a (validation or test) metric name: `val_rmse` -> `test_rmse`."""
    if name.startswith(TEST_PREFIX):
        return name
    return TEST_PREFIX + name.removeprefix(VALIDATION_PREFIX)


test_metric.__test__ = False  # A helper, not a pytest test, wherever it is imported.


def finite(metrics: Mapping[str, float], name: Optional[str]) -> Optional[float]:
    """`metrics[name]` as a float, or None when absent or not finite."""
    value = metrics.get(name) if name else None
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)
