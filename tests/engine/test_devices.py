"""Device tags and `backend.require_accelerator`: the checks themselves (no framework needed),
and through the CLI on this CPU-only machine (one line before training)."""

import logging

import pytest

from rsx.engine import devices
from rsx.engine.devices import DeviceReport, check_accelerator
from rsx.errors import RsxError
from rsx.testing.cli import SMALL_RUN, explain, run_rsx, runs


class FakeJaxDevice:
    def __init__(self, platform, kind, stats):
        self.platform, self.device_kind, self._stats = platform, kind, stats

    def memory_stats(self):
        return self._stats


def test_a_gpu_is_described_by_model_count_and_memory():
    gpus = [FakeJaxDevice("gpu", "NVIDIA H200", {"bytes_limit": 150 * 2**30})] * 8
    report = DeviceReport.from_jax(gpus)
    assert (report.platform, report.count, report.is_accelerator) == ("gpu", 8, True)
    assert report.tags() == {"device_model": "NVIDIA H200", "device_memory_gib": "150.0"}


def test_a_cpu_has_no_memory_tag():
    report = DeviceReport.from_jax([FakeJaxDevice("cpu", "cpu", None)])
    assert report.tags() == {"device_model": "cpu"} and not report.is_accelerator


def test_required_accelerator_on_a_cpu_is_one_line_naming_the_key(monkeypatch):
    monkeypatch.setattr(devices, "gpu_build_installed", lambda: False)
    with pytest.raises(RsxError) as error:
        check_accelerator(DeviceReport("cpu", "cpu", 1), required=True)
    text = str(error.value)
    assert text.startswith("backend.require_accelerator=true but this run found only a CPU")
    assert "pip install -e '.[gpu]'" in text and "\n" not in text


def test_required_accelerator_on_a_gpu_passes(monkeypatch):
    check_accelerator(DeviceReport("gpu", "NVIDIA H200", 1), required=True)


def test_gpu_build_without_gpu_warns_once_with_jaxs_reason(monkeypatch, caplog):
    monkeypatch.setattr(devices, "gpu_build_installed", lambda: True)
    devices.hold_back_jax_plugin_errors()
    jax_logger = logging.getLogger(devices.JAX_PLUGIN_LOGGER)
    try:
        raise RuntimeError("operation cuInit(0) failed")
    except RuntimeError:
        jax_logger.exception("Jax plugin configuration error: Exception when calling initialize()")
    with caplog.at_level(logging.WARNING):
        check_accelerator(DeviceReport("cpu", "cpu", 1), required=False)
    assert not any("plugin configuration" in r.getMessage() for r in caplog.records)  # JAX's traceback held back
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "rsx"]
    assert "trains on the CPU (no GPU visible: operation cuInit(0) failed)" in warning


def test_cpu_asked_for_does_not_warn(monkeypatch, caplog):
    monkeypatch.setattr(devices, "gpu_build_installed", lambda: True)
    with caplog.at_level(logging.WARNING):
        check_accelerator(DeviceReport("cpu", "cpu", 2), required=False, cpu_by_choice="backend.cpu_devices=2")
    assert not [r for r in caplog.records if r.name == "rsx"]


def test_no_gpu_build_no_warning(monkeypatch, caplog):
    monkeypatch.setattr(devices, "gpu_build_installed", lambda: False)
    with caplog.at_level(logging.WARNING):
        check_accelerator(DeviceReport("cpu", "cpu", 1), required=False)
    assert not [r for r in caplog.records if r.name == "rsx"]


@pytest.mark.parametrize(
    "backend, found",
    [
        (["backend=cpu_reference"], "found only a CPU"),
        (["backend=jax_dataparallel", "backend.cpu_devices=2"], "found only the CPU that backend.cpu_devices=2 asks for"),
    ],
)
def test_cli_require_accelerator_on_a_cpu_fails_before_training(tmp_path, backend, found):
    result = run_rsx([*backend, "backend.require_accelerator=true", *SMALL_RUN], tmp_path)
    assert result.returncode == 2, explain(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("rsx: error:")]
    assert len(errors) == 1 and found in errors[0], explain(result)
    assert "Traceback" not in result.stderr
    (run,) = runs(tmp_path)
    assert run.info.status == "FAILED" and "loss" not in run.data.metrics  # nothing trained
