"""tf_sparsecore passes rsx's backend conformance suite (every installed model trains on it)
and its CLI runs record the CPU fallback where the MLflow UI shows it."""

from rsx.testing.cli import SMALL_RUN, explain, run_rsx, runs
from rsx.testing.conformance import BackendConformance, assert_realizes_every_feature_kind


class TestTfSparseCoreConformance(BackendConformance):
    backend = "tf_sparsecore"


def test_sparse_inputs_realize_every_feature_kind_on_the_fallback(tmp_path):
    """The tf.SparseTensor form SparseCore gets (padding dropped, static dense shapes), checked
    through the same DistributedEmbedding on CPU: lookups equal NumPy's, save/reload holds."""
    assert_realizes_every_feature_kind("tf_sparsecore", ("backend.sparse_inputs=true",), tmp_path)


def test_cli_run_without_a_tpu_is_tagged_as_a_fallback(tmp_path):
    result = run_rsx(["backend=tf_sparsecore", "model=ranking", *SMALL_RUN, "trainer.epochs=1"], tmp_path)
    assert result.returncode == 0, explain(result)
    output = result.stdout + result.stderr
    assert output.count("tf_sparsecore runs WITHOUT a TPU") == 1
    (run,) = runs(tmp_path)
    tags = run.data.tags
    assert tags["tpu_fallback"] == "true"
    assert tags["embedding_placement"] == "default_device"
    assert tags["device_kind"] == "cpu"
    assert tags["tpu_mode"] == "auto"


def test_cli_tpu_required_without_a_tpu_fails_in_one_line(tmp_path):
    result = run_rsx(["backend=tf_sparsecore", "backend.tpu=required", *SMALL_RUN], tmp_path)
    assert result.returncode == 2, explain(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("rsx: error:")]
    assert len(errors) == 1 and "backend.tpu=required" in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
