"""Importing rsx, discovering plugins and composing a config must not start a framework.

Keras fixes its backend at import, so if any of these steps imported keras (or TF/JAX),
every job would be stuck with whatever backend that import chose.
"""

import subprocess
import sys

FRAMEWORKS = ("keras", "tensorflow", "jax", "keras_rs", "torch")

PROBE = """
import sys
import rsx, rsx.api, rsx.app, rsx.config, rsx.contract, rsx.discovery, rsx.job, rsx.data, rsx.plugins
from hydra import compose, initialize_config_module
from rsx.app import register_everything
from rsx.discovery import discover

registry = discover()
register_everything(registry)
for kind in ("backend", "model"):
    for name in registry.names(kind):
        registry.record(kind, name).spec.config  # touch every spec
with initialize_config_module("rsx.conf", version_base="1.3"):
    for backend in registry.names("backend"):
        for model in registry.names("model"):
            compose("config", overrides=[f"backend={backend}", f"model={model}", "data=synthetic"])
print(",".join(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)))
"""


def test_import_discovery_and_composition_import_no_framework():
    result = subprocess.run(
        [sys.executable, "-c", PROBE.replace("{FRAMEWORKS!r}", repr(FRAMEWORKS))],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"frameworks imported: {result.stdout.strip()}"


def test_cfg_job_cli_imports_no_framework(tmp_path):
    # -X importtime lists every module the real CLI imports, on stderr.
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rsx", "--cfg", "job"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    top_level = {name.split(".")[0] for name in imported}
    assert "hydra" in top_level  # the probe really saw the imports
    assert not top_level & set(FRAMEWORKS), sorted(top_level & set(FRAMEWORKS))
    assert "backend:" in result.stdout and "model:" in result.stdout
