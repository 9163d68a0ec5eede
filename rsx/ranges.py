"""Valid ranges of config values, declared on the dataclass field they belong to.

A field's range sits next to its default (`epochs: int = ranged(5, at_least(1))`), so a key has
one source of truth: `rsx.validation` reads the ranges from the schema of each config section
and rejects an out-of-range value in one line naming the key. Plugins declare theirs the same
way (`rsx.api.ranged`). Framework-free.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple, Optional

#: The metadata key a field's range is stored under.
RANGE = "rsx.range"


class Range(NamedTuple):
    """`test(value)` says whether a value is valid; `wanted` says what valid is, for the fix."""

    test: Callable[[Any], bool]
    wanted: str


def at_least(low: float) -> Range:
    return Range(lambda v: v >= low, f">= {low}")


def between(low: float, high: float) -> Range:
    """Strictly between `low` and `high`."""
    return Range(lambda v: low < v < high, f"between {low} and {high} (exclusive)")


def one_of(*values: Any) -> Range:
    return Range(lambda v: v in values, f"one of {', '.join(map(str, values))}")


def or_null(rule: Range) -> Range:
    return Range(lambda v: v is None or rule.test(v), f"null or {rule.wanted}")


def ranged(default: Any = dataclasses.MISSING, rule: Optional[Range] = None, **kwargs: Any) -> Any:
    """A dataclass field with a default and its valid range (see `range_of`)."""
    return dataclasses.field(default=default, metadata={RANGE: rule}, **kwargs)


def range_of(field: dataclasses.Field) -> Optional[Range]:
    """The range declared on `field`, or None."""
    return field.metadata.get(RANGE)
