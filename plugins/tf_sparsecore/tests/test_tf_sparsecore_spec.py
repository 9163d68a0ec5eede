"""The framework-free half of tf_sparsecore: config checks and the TPU environment.

Nothing here imports TensorFlow in the pytest process; what needs it runs in a subprocess.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from rsx.api import ConfigError
from rsx_plugins import tf_sparsecore
from rsx_plugins.tf_sparsecore import TF_XLA_FLAGS, environment, spec
from rsx_plugins.tf_sparsecore.config import TfSparseCoreConfig

FAKE_LIBRARY = "/opt/fake/libtpu.so"


@pytest.fixture
def fake_libtpu(tmp_path, monkeypatch):
    """A `libtpu` package on sys.path, as on a TPU VM; returns its folder for subprocesses."""
    package = tmp_path / "fake_site" / "libtpu"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f"def get_library_path():\n    return {FAKE_LIBRARY!r}\n")
    monkeypatch.syspath_prepend(str(package.parent))
    sys.modules.pop("libtpu", None)
    yield package.parent
    sys.modules.pop("libtpu", None)


@pytest.fixture
def no_libtpu(monkeypatch):
    monkeypatch.setattr(tf_sparsecore, "libtpu_installed", lambda: False)


def test_environment_without_a_tpu_runtime_is_plain_tensorflow(no_libtpu):
    assert environment(TfSparseCoreConfig()) == {"KERAS_BACKEND": "tensorflow"}


def test_environment_on_a_tpu_vm_sets_the_tutorials_runtime_variables(fake_libtpu):
    assert environment(TfSparseCoreConfig()) == {
        "KERAS_BACKEND": "tensorflow",
        "PJRT_DEVICE": "TPU",
        "NEXT_PLUGGABLE_DEVICE_USE_C_API": "true",
        "TF_PLUGGABLE_DEVICE_LIBRARY_PATH": FAKE_LIBRARY,
        "TF_XLA_FLAGS": TF_XLA_FLAGS,
    }
    # The tutorial's flags, verbatim: the MLIR bridge and its two passes.
    assert TF_XLA_FLAGS.split() == [
        "--tf_mlir_enable_mlir_bridge=true",
        "--tf_mlir_enable_convert_control_to_data_outputs_pass=true",
        "--tf_mlir_enable_merge_control_flow_pass=true",
    ]


def test_tpu_off_sets_no_tpu_variables_even_on_a_tpu_vm(fake_libtpu):
    assert environment(TfSparseCoreConfig(tpu="off")) == {"KERAS_BACKEND": "tensorflow"}


def test_tpu_required_without_a_tpu_runtime_is_one_clear_error(no_libtpu):
    with pytest.raises(ConfigError) as error:
        environment(TfSparseCoreConfig(tpu="required"))
    message = str(error.value)
    assert "backend.tpu=required" in message and "libtpu" in message and "\n" not in message
    assert "backend.tpu=auto" in error.value.fix


@pytest.mark.parametrize(
    "field, value, key",
    [("tpu", "yes", "backend.tpu"), ("table_stacking", "rows", "backend.table_stacking"),
     ("max_ids_per_partition", 0, "backend.max_ids_per_partition"), ("jit_compile", "maybe", "backend.jit_compile"),
     ("sparse_inputs", "maybe", "backend.sparse_inputs")],
)
def test_bad_values_name_their_key(no_libtpu, field, value, key):
    with pytest.raises(ConfigError, match=key):
        spec.check(TfSparseCoreConfig(**{field: value}))


def _run(code: str, pythonpath: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([pythonpath, os.environ.get("PYTHONPATH", "")])}
    env.pop("KERAS_BACKEND", None)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_environment_imports_no_framework(fake_libtpu):
    report = _run(
        """
        import json, sys
        from rsx.discovery import discover
        spec = discover().backend("tf_sparsecore")
        env = spec.environment(spec.config())
        print(json.dumps({"env": env, "imported": sorted(
            m for m in ("tensorflow", "keras", "keras_rs", "jax") if m in sys.modules)}))
        """,
        str(fake_libtpu),
    )
    assert report["imported"] == []
    assert report["env"]["PJRT_DEVICE"] == "TPU"  # The TPU branch really ran.


def test_tpu_variables_are_set_before_tensorflow_is_first_imported(fake_libtpu):
    """rsx's order: spec -> environment applied -> implementation (imports TensorFlow).

    A finder sees the first `import tensorflow`, records the environment at that moment and
    stops the import there, so the TPU runtime is never really started.
    """
    report = _run(
        """
        import importlib.abc, json, os, sys
        from omegaconf import OmegaConf
        seen = {}
        class Watch(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "tensorflow" and not seen:
                    seen.update({k: os.environ.get(k) for k in (
                        "KERAS_BACKEND", "PJRT_DEVICE", "NEXT_PLUGGABLE_DEVICE_USE_C_API",
                        "TF_PLUGGABLE_DEVICE_LIBRARY_PATH", "TF_XLA_FLAGS")})
                    raise ImportError("stopped by the test")
        sys.meta_path.insert(0, Watch())
        from rsx.discovery import discover
        from rsx.environment import apply_environment
        spec = discover().backend("tf_sparsecore")
        apply_environment(spec.environment(OmegaConf.structured(spec.config)))
        try:
            spec.load()
        except ImportError:
            pass
        print(json.dumps(seen))
        """,
        str(fake_libtpu),
    )
    assert report == {
        "KERAS_BACKEND": "tensorflow",
        "PJRT_DEVICE": "TPU",
        "NEXT_PLUGGABLE_DEVICE_USE_C_API": "true",
        "TF_PLUGGABLE_DEVICE_LIBRARY_PATH": FAKE_LIBRARY,
        "TF_XLA_FLAGS": TF_XLA_FLAGS,
    }


def test_spec_names_its_implementation():
    assert spec.name == "tf_sparsecore"
    assert spec.implementation == "rsx_plugins.tf_sparsecore.backend:TfSparseCoreBackend"
