#!/usr/bin/env bash
# The `full` profile (called `seed` when this script was named) on an NVIDIA GPU machine that has JAX but no TensorFlow, so
# that the book can show a GPU energy *measured* by NVML beside a CPU estimate.
#
# Prepared on a CPU machine and checked there with the JAX backend (profile
# smoke); not yet run on a GPU. Before the device call, in the repository root:
#   mkdir -p .device && cp ../shared/data/mnist.npz .device/
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl $(cat bench/device_wheels.txt)
# Then run `bash bench/device_seed.sh` there, carrying `.whl` and `.device`; the
# record comes back under $OUT/records/ and is committed under book/records/.
set -euo pipefail
: "${OUT:?run this on the device machine, where OUT names the folder that comes back}"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD/src" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export CONVCARBON_MNIST="${CONVCARBON_MNIST:-$PWD/.device/mnist.npz}"
nvidia-smi --query-gpu=name,power.draw,power.limit --format=csv | tee "$OUT/nvidia-smi.csv"
python3 -m convcarbon run --profile full --results-dir "$OUT/records" "$@" 2>&1 | tee "$OUT/run.log"
