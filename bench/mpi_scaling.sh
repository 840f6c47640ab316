#!/bin/sh
# mpi_scaling.sh - training throughput of `mpirun -np N made train` for N = 1
# and 2 ranks (each rank one thread) and of the one-process build, on random
# binary data for the configurations of BENCHMARKS.md (E=784 [500],
# E=784 [1000,1000], E=64 [128,128]) at batch 100 and 1000. Prints one line per
# run: configuration, ranks, examples/s of each epoch after the first.
#
#   make && make MPI=1 && sh bench/mpi_scaling.sh [ROWS] [EPOCHS]
#
# Timings on a machine shared with other work are noisy: run it more than once.
set -eu
ROWS=${1:-10000}
EPOCHS=${2:-3}
MADE=${MADE:-bin/made}
MADE_MPI=${MADE_MPI:-build-mpi/bin/made}
MPIRUN="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader \
  --mca btl_vader_single_copy_mechanism none --mca mpi_yield_when_idle 1"
T=$(mktemp -d "${TMPDIR:-/tmp}/made_mpi_bench.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
for E in 784 64; do
  /usr/bin/python3 -c "import numpy as np; np.save('$T/d$E.npy', (np.random.default_rng(0).random(($ROWS, $E)) < 0.5).astype(np.float32))"
done
# eps LOG: examples/s of the epochs after the first, from --log-json.
eps() { sed -n 's/.*"examples_per_sec":\([0-9.e+]*\).*/\1/p' "$1" | tail -n +2 | tr '\n' ' '; }
for cfg in 784:500 784:1000,1000 64:128,128; do
  E=${cfg%%:*}; H=${cfg#*:}
  for B in 100 1000; do
    OPTS="$T/d$E.npy -o $T/m --dist bernoulli --hidden $H --batch-size $B --epochs $EPOCHS --threads 1 -q"
    # shellcheck disable=SC2086
    OMP_WAIT_POLICY=passive "$MADE" train $OPTS --log-json "$T/l0"
    echo "E=$E [$H] batch $B  one process:  $(eps "$T/l0")"
    for N in 1 2; do
      # shellcheck disable=SC2086
      $MPIRUN -x OMP_WAIT_POLICY=passive -np $N "$MADE_MPI" train $OPTS --log-json "$T/l$N"
      echo "E=$E [$H] batch $B  mpirun -np $N: $(eps "$T/l$N")"
    done
  done
done
