"""The spec side of jax_dataparallel: environment, multi-process settings, process index.

All of it runs before any framework starts, so these tests import no framework either.
"""

import subprocess
import sys

import pytest

from rsx.errors import ConfigError
from rsx_plugins.jax_dataparallel import JaxDataParallelConfig, environment, process_index, resolve_cluster, spec


def test_environment_is_jax_and_leaves_devices_alone_by_default(monkeypatch):
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    assert environment(JaxDataParallelConfig()) == {"KERAS_BACKEND": "jax"}


def test_cpu_devices_makes_virtual_cpu_devices_and_keeps_other_xla_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x --xla_force_host_platform_device_count=8")
    env = environment(JaxDataParallelConfig(cpu_devices=2))
    assert env["XLA_FLAGS"] == "--xla_dump_to=/tmp/x --xla_force_host_platform_device_count=2"
    assert env["JAX_PLATFORMS"] == "cpu"
    assert "JAX_CPU_COLLECTIVES_IMPLEMENTATION" not in env  # one process: no cross-process collectives


def test_cpu_devices_below_one_names_the_key():
    with pytest.raises(ConfigError, match=r"backend.cpu_devices=0"):
        spec.check(JaxDataParallelConfig(cpu_devices=0))


def test_several_processes_use_gloo_collectives():
    config = JaxDataParallelConfig(num_processes=2, process_id=1, coordinator_address="127.0.0.1:1234")
    assert environment(config)["JAX_CPU_COLLECTIVES_IMPLEMENTATION"] == "gloo"
    assert process_index(config) == 1


def test_single_process_needs_no_coordinator(monkeypatch):
    for variable in ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                     "KERAS_DISTRIBUTION_PROCESS_ID", "JAX_COORDINATOR_ADDRESS"):
        monkeypatch.delenv(variable, raising=False)
    cluster = resolve_cluster(JaxDataParallelConfig())
    assert (cluster.num_processes, cluster.process_id, cluster.multi_process) == (1, 0, False)
    assert process_index(JaxDataParallelConfig()) == 0


def test_cluster_comes_from_the_keras_environment_variables():
    environ = {
        "KERAS_DISTRIBUTION_JOB_ADDRESSES": "10.0.0.2:1234,10.0.0.3:1234",
        "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
        "KERAS_DISTRIBUTION_PROCESS_ID": "1",
    }
    cluster = resolve_cluster(JaxDataParallelConfig(), environ)
    assert (cluster.num_processes, cluster.process_id, cluster.coordinator_address) == (2, 1, "10.0.0.2:1234")


def test_config_wins_over_environment_and_jax_address_is_a_fallback():
    environ = {"KERAS_DISTRIBUTION_PROCESS_ID": "1", "JAX_COORDINATOR_ADDRESS": "h:9"}
    cluster = resolve_cluster(JaxDataParallelConfig(num_processes=3, process_id=2), environ)
    assert (cluster.num_processes, cluster.process_id, cluster.coordinator_address) == (3, 2, "h:9")


@pytest.mark.parametrize(
    "config, environ, message",
    [
        (JaxDataParallelConfig(num_processes=2, process_id=2, coordinator_address="h:1"), {}, r"backend.process_id=2 is outside 0..1"),
        (JaxDataParallelConfig(num_processes=0), {}, r"backend.num_processes=0"),
        (JaxDataParallelConfig(num_processes=2, process_id=0), {}, r"no coordinator address"),
        (JaxDataParallelConfig(num_processes=2, process_id=0, coordinator_address="nohost"), {}, r"is not host:port"),
        (JaxDataParallelConfig(), {"KERAS_DISTRIBUTION_NUM_PROCESSES": "two"}, r"KERAS_DISTRIBUTION_NUM_PROCESSES='two'"),
    ],
)
def test_bad_cluster_settings_say_which_key(config, environ, message):
    with pytest.raises(ConfigError, match=message):
        resolve_cluster(config, environ)


def test_spec_imports_no_framework():
    code = (
        "import sys, rsx_plugins.jax_dataparallel as p; p.environment(p.JaxDataParallelConfig(cpu_devices=2)); "
        "print(sorted({'keras', 'jax', 'tensorflow'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
