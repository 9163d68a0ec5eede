"""cpu_reference passes the backend conformance suite, on both of its Keras backends."""

import pytest

from rsx.errors import ConfigError
from rsx.testing.conformance import BackendConformance
from rsx_plugins.cpu_reference import CpuReferenceConfig, environment, spec


class TestCpuReferenceOnTensorFlow(BackendConformance):
    backend = "cpu_reference"


class TestCpuReferenceOnJax(BackendConformance):
    backend = "cpu_reference"
    overrides = ("backend.keras_backend=jax",)


def test_keras_backend_choice_sets_the_environment():
    assert environment(CpuReferenceConfig())["KERAS_BACKEND"] == "tensorflow"
    assert environment(CpuReferenceConfig(keras_backend="jax"))["KERAS_BACKEND"] == "jax"


def test_unsupported_keras_backend_names_the_key():
    with pytest.raises(ConfigError, match="backend.keras_backend='mxnet'"):
        spec.check(CpuReferenceConfig(keras_backend="mxnet"))
