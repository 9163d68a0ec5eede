"""A plugin's presets live beside it: `<plugin package>/conf/<group>/<name>.yaml`.

Hydra finds `SearchPathPlugin`s in the `hydra_plugins` namespace; this one appends, for every
rsx plugin found through its entry point (built-in or third-party), the `conf` folder of the
package that holds its spec, when there is one. So `experiment=seed_ranking` is
`rsx_plugins/ranking/conf/experiment/seed_ranking.yaml`, and a third-party model can ship
`experiment=...` presets without touching rsx. rsx's own `conf/` comes first: a plugin cannot
shadow a core preset. Loading the specs imports no framework.
"""

from __future__ import annotations

import importlib.resources
import importlib.util

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


def preset_packages() -> list[str]:
    """Dotted names of `<plugin package>.conf` packages, one per plugin package that has one."""
    from rsx.discovery import discover

    found = []
    for records in discover().records.values():
        for record in records.values():
            if record.spec is None:
                continue  # a broken plugin: reported by discovery, no presets
            package = record.target.partition(":")[0]
            conf = f"{package}.conf"
            if conf not in found and _is_package(conf):
                found.append(conf)
    return found


def _is_package(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None and importlib.resources.files(name).is_dir()
    except (ImportError, ValueError, TypeError):
        return False


class RsxPluginPresets(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        for package in preset_packages():
            search_path.append(provider=f"rsx-plugin:{package}", path=f"pkg://{package}")
