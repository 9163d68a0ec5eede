#!/usr/bin/env bash
# The one prepared device check: install rsx's `gpu` extra, show the GPU, train ranking (seed
# preset, large-batch preset) and two_tower (MSE, in-batch softmax when rsx has it) on
# jax_dataparallel, and write benchmarks/results/device_check_<mode>.json. Under 8 minutes
# on one H200 with 16 cores: every step has its own timeout inside a total budget.
#
#   benchmarks/device_check.sh            # gpu mode: a fresh NVIDIA machine (CUDA 12+ driver)
#   benchmarks/device_check.sh cpu        # the same cases on this machine's CPU (small sizes)
#
# Environment:
#   RSX_WHEELS=DIR     install from these wheels only (a machine without PyPI); files split
#                      for transfer as NAME.whl.part-aa, -ab, ... are joined first
#   RSX_NO_INSTALL=1   use the current environment as it is
#   RSX_CHECK_SECONDS  total budget in seconds (default 470: under 8 minutes)
#   PYTHON             the interpreter (default python3)
set -uo pipefail
MODE=${1:-gpu}
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
BUDGET=${RSX_CHECK_SECONDS:-470}
START=$SECONDS
left() { echo $((BUDGET - (SECONDS - START))); }
step() { echo; echo "== $* ($(left) s left)"; }
export PYTHONUNBUFFERED=1

if [ "$MODE" != gpu ] && [ "$MODE" != cpu ]; then
    echo "usage: $0 [gpu|cpu]" >&2
    exit 2
fi

if [ "$MODE" = gpu ] && [ -z "${RSX_NO_INSTALL:-}" ]; then
    step "install rsx with the gpu extra"
    if [ -n "${RSX_WHEELS:-}" ]; then
        for first in "$RSX_WHEELS"/*.part-aa; do
            [ -e "$first" ] || continue
            cat "${first%.part-aa}".part-* > "${first%.part-aa}" && rm -f "${first%.part-aa}".part-*
        done
        # rsx and every wheel given (benchmarks/device_wheels.sh: the gpu extra less the JAX
        # build the machine already has, which stays); setuptools from the machine builds rsx.
        timeout 300 "$PYTHON" -m pip install -q --no-index --find-links "$RSX_WHEELS" --no-build-isolation \
            -e . "$RSX_WHEELS"/*.whl \
            || { echo "rsx: error: installing from $RSX_WHEELS failed -> add the missing wheels it names"; exit 2; }
    else
        timeout 300 "$PYTHON" -m pip install -q -e ".[gpu]" \
            || { echo "rsx: error: pip install -e '.[gpu]' failed (no PyPI here?) -> give wheels: RSX_WHEELS=DIR"; exit 2; }
    fi
fi

if [ "$MODE" = gpu ]; then
    step "nvidia-smi"
    timeout 30 nvidia-smi || echo "nvidia-smi failed"
    step "what JAX sees"
    timeout 120 "$PYTHON" -c "import jax; print(jax.__version__, jax.devices())" || echo "JAX failed to start"
fi

step "runs"
# The runs get what is left, less 20 s for writing up.
# A CPU takes minutes where a GPU takes seconds: in cpu mode only the budget bounds each case.
CAP_FACTOR=1
if [ "$MODE" = cpu ]; then CAP_FACTOR=10; fi
timeout $(( $(left) - 5 )) "$PYTHON" benchmarks/device_check.py --mode "$MODE" --budget-seconds $(( $(left) - 20 )) \
    --cap-factor $CAP_FACTOR
status=$?
echo
echo "device check ($MODE) done in $((SECONDS - START)) s, exit $status: benchmarks/results/device_check_$MODE.json"
exit $status
