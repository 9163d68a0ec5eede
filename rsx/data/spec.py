"""`DatasetSpec`: what a dataset plugin publishes through the `rsx.datasets` entry point group.

A dataset is the third plugin axis beside backends and models. Its spec is light (a config
dataclass and the dotted path of a framework-free `prepare(config) -> PreparedData`), so
discovery, `--help` and `python -m rsx.plugins` never import pandas, TFDS or TensorFlow.

```python
# my_dataset/__init__.py
from rsx.api import DatasetSpec
from .config import ClicksConfig        # a dataclass extending rsx.api.SplitConfig

spec = DatasetSpec(name="clicks", config=ClicksConfig,
                   implementation="my_dataset.prepare:prepare",
                   description="click logs of our shop")
# pyproject.toml:  [project.entry-points."rsx.datasets"]  clicks = "my_dataset:spec"
```
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from rsx.data.prepared import PreparedData


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A dataset plugin.

    Args:
        name: the entry point's name; `data=<name>` selects it. Its config's `dataset` field
            defaults to it (`name` there is the run's label, e.g. a preset "movielens_100k").
        config: the config dataclass (extends `rsx.api.SplitConfig`); every field has a default.
        implementation: "module:function" of `prepare(config) -> PreparedData`, imported only
            when data is actually prepared (not on a cache hit).
        description: one line for `--help` and `python -m rsx.plugins`.
        cache_key: config -> JSON-serialisable dict of everything that changes the prepared
            arrays, file contents included (see `rsx.data.fingerprint`); None = every config
            field but `cache_dir`.
    """

    name: str
    config: type
    implementation: str
    description: str = ""
    cache_key: Optional[Callable[[Any], dict]] = None

    def load(self) -> Callable[[Any], "PreparedData"]:
        """Imports and returns the `prepare` function."""
        module, _, attribute = self.implementation.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def prepare(self, config: Any) -> "PreparedData":
        """Prepares the data `config` describes (no cache; see `rsx.data.load_prepared`)."""
        return self.load()(config)

    def key(self, config: Any) -> dict:
        """What identifies the prepared arrays of `config` (the cache file name hashes it)."""
        if self.cache_key is not None:
            return {"dataset": self.name, **self.cache_key(config)}
        fields = dataclasses.asdict(config)
        fields.pop("cache_dir", None)
        return {"dataset": self.name, **fields}
