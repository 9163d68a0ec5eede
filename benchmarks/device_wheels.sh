#!/usr/bin/env bash
# Wheels for `benchmarks/device_check.sh` on a GPU machine that reaches no package registry
# (this workplace's H200 image: Python 3.12, its own JAX with CUDA already installed). Run
# here, where pip reaches PyPI:
#
#   benchmarks/device_wheels.sh [DIR]        # default DIR: .whl
#
# Downloads rsx's dependencies and the gpu extra's Keras, keras-rs and TensorFlow (CPU build)
# for CPython 3.12 on manylinux x86_64 into DIR, leaves out what the image already has
# (IMAGE_HAS below, from the device tool's KINDS.md; JAX too: the image's CUDA build is used),
# and splits every file over 56 MiB into NAME.part-aa, -ab, ... (one device call carries at
# most 64 MiB, the repository included). Then carry DIR's files over as many calls as the
# listing below needs (a path carried once stays on a warm machine) and run:
#
#   RSX_WHEELS=DIR benchmarks/device_check.sh
set -euo pipefail
DIR=${1:-.whl}
cd "$(dirname "$0")/.."
mkdir -p "$DIR"
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any)
# Large compiled packages the H200 image already holds in versions rsx's dependencies accept
# (normalized names): not carried, the image's builds are used. Every other wheel is carried
# and installed as downloaded, replacing the image's version: pyarrow and h5py too, since
# mlflow wants pyarrow<26 and TensorFlow h5py<3.15.
IMAGE_HAS="jax jaxlib numpy scipy pandas ml_dtypes grpcio matplotlib pillow scikit_learn contourpy fonttools
kiwisolver"

# hydra-core needs antlr4-python3-runtime 4.9.3, published as source only: build its (pure
# Python) wheel first, where the download below finds it.
python3 -m pip wheel -q --no-deps -w "$DIR" "antlr4-python3-runtime==4.9.3"
python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp "${PLATFORMS[@]}" \
    --find-links "$DIR" -d "$DIR" "hydra-core>=1.3.2,<1.4" "omegaconf>=2.3,<2.4" "mlflow>=3.1,<3.18" "optuna>=4,<6" \
    "hydra-joblib-launcher>=1.2,<1.3" "hydra-submitit-launcher>=1.2,<1.3" "tensorflow-cpu>=2.19,<2.22" \
    "keras>=3.10,<3.16" "keras-rs>=0.3,<0.5" "importlib_resources>=6"

for wheel in "$DIR"/*.whl; do
    name=$(basename "$wheel" | cut -d- -f1 | tr 'A-Z' 'a-z' | tr '.-' '__')
    for have in $IMAGE_HAS; do
        if [ "$name" = "$have" ]; then rm -f "$wheel"; fi
    done
done
rm -f "$DIR"/*.tar.gz
for wheel in "$DIR"/*.whl; do
    if [ "$(stat -c %s "$wheel")" -gt $((56 * 1024 * 1024)) ]; then
        split -b 56M "$wheel" "$wheel.part-" && rm "$wheel"
    fi
done
ls -l "$DIR"
echo "total: $(du -sh "$DIR" | cut -f1) in $(ls "$DIR" | wc -l) files; carry at most 64 MiB per device call"
