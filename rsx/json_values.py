"""Values for JSON files people and other tools read: NaN and infinity become null.

Python's json writes a non-finite float as a bare `NaN`/`Infinity`, which is not JSON (a
browser, `jq` or pandas refuse the whole file). A metric that is missing or non-finite means
"no value", which JSON spells null.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every non-finite float (at any depth of dicts, lists, tuples) as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps` that writes non-finite floats as null and never a bare NaN."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
