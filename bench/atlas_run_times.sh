#!/bin/bash
# The atlas's run time per profile (BENCHMARKS.md, "The crossover atlas"): one run of each, one after the other,
# at a higher priority than other work on the machine. Each record's own duration_s is the time spent measuring;
# the wall time printed here adds starting Python and importing Keras and its backend.
#   bash bench/atlas_run_times.sh [PYTHON] [BACKEND]     (default: .venv/bin/python tensorflow)
set -u
python=${1:-.venv/bin/python}
backend=${2:-tensorflow}
store=$(mktemp -d)
for profile in smoke quick full; do
  start=$(date +%s)
  KERAS_BACKEND=$backend nice -n -5 "$python" -m convcarbon atlas --profile "$profile" --refresh \
    --results-dir "$store" > /dev/null 2>&1 || { echo "$profile: failed"; continue; }
  measuring=$("$python" -c "import json, glob; print(round(json.load(open(glob.glob('$store/atlas-$profile-*/record.json')[0]))['duration_s']))")
  echo "$backend $profile: measuring ${measuring} s, wall $(( $(date +%s) - start )) s"
done
rm -rf "$store"
