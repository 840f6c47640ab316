#!/bin/sh
# cli_mpi.sh - data-parallel training with `mpirun -np N made train` (the MPI
# build, MADE_MPI): the model file is byte-identical to the one-process
# build's (MADE, at 1 and 2 threads) for N = 1, 2, 3, 4, with .npy (read in
# ranges) and CSV data, several mask sets, conditional inputs, --val and
# --val-fraction, --threads 2, --init-from, and a run extended with --resume
# --epochs; `made info` shows the same record. Stopping: SIGTERM to the ranks
# and SIGINT to mpirun (Ctrl-C) leave a checkpoint that --resume (at the same
# and at another number of ranks) finishes with the uninterrupted model.
# Failures stop every rank with a message, never a hang (each mpirun runs
# under a timeout): a rank that cannot read its data, ranks reading different
# files, ranks given different options, a killed rank (rank 0: its last
# checkpoint is intact), --flow (refused, naming the option).
#
# Skipped (and reported as skipped) when mpirun or the MPI build is absent.
#
# Run from the repository root:
#   MADE=bin/made MADE_MPI=build-mpi/bin/made sh tests/cli/cli_mpi.sh
# Prints "cli_mpi: N passed, N failed" last (", N skipped" when skipped).
set -u

MADE_MPI=${MADE_MPI:-}
case $MADE_MPI in /*|'') ;; *) MADE_MPI=$(pwd)/$MADE_MPI ;; esac

if ! command -v mpirun > /dev/null 2>&1 || [ -z "$MADE_MPI" ] || [ ! -x "$MADE_MPI" ]; then
  echo "note: mpirun or the MPI build (make MPI=1) is absent: the MPI tests were skipped" >&2
  echo "cli_mpi: 0 passed, 0 failed, 1 skipped"
  exit 0
fi

# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"
harness_start cli_mpi

# As root (CI), in containers: allow root, more ranks than cores, shared
# memory without the single-copy mechanism containers often forbid, and no
# busy-waiting (the machine may be shared).
MPIRUN="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader \
  --mca btl_vader_single_copy_mechanism none --mca mpi_yield_when_idle 1"
# Sanitizer builds: Open MPI's own allocations at start-up are not leaks of made's.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# made ARGS...: the one-process build; a non-zero status is a failure.
made() {
  "$MADE" "$@" > "$T/out" 2> "$T/err" < /dev/null
  rc=$?
  [ "$rc" -eq 0 ] || bad "made $* -> exit $rc"
}

# mpi N ARGS...: mpirun -np N of the MPI build, at most 120 s; status in $rc.
mpi() {
  n=$1
  shift
  # shellcheck disable=SC2086
  timeout 120 $MPIRUN -np "$n" "$MADE_MPI" "$@" > "$T/out" 2> "$T/err" < /dev/null
  rc=$?
  if sanitizer_report "$T/err"; then bad "sanitizer report: mpirun -np $n made $*"; fi
}

# ---- data ---------------------------------------------------------------------
# 700 rows of 12 correlated binary values; 500 rows of 10 real values with 2
# conditioning columns; a real-valued .npy file sampled from a model.
awk 'BEGIN { s = 5; for (i = 0; i < 700; i++) { line = ""; p = 0;
  for (j = 0; j < 12; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    u = (s % 10000) / 10000; v = (u < (p ? 0.8 : 0.3)) ? 1 : 0; p = v;
    line = line (j ? "," : "") v } print line } }' > "$T/bin.csv"
awk 'BEGIN { s = 9; for (i = 0; i < 500; i++) { line = ""; x = 0; c1 = (i % 7) / 7; c2 = (i % 3) - 1;
  for (j = 0; j < 10; j++) { s = (s * 1103515245 + 12345) % 2147483648;
    x = 0.6 * x + c1 + 0.3 * c2 + (s % 1000) / 1000 - 0.5; line = line (j ? "," : "") x }
  print line > "/dev/stdout"; print c1 "," c2 > "/dev/stderr" } }' > "$T/real.csv" 2> "$T/cond.csv"
head -n 400 "$T/real.csv" > "$T/rtrain.csv"; tail -n 100 "$T/real.csv" > "$T/rval.csv"
head -n 400 "$T/cond.csv" > "$T/ctrain.csv"; tail -n 100 "$T/cond.csv" > "$T/cval.csv"
made train "$T/real.csv" -o "$T/gen.safetensors" --dist gaussian --hidden 32 --epochs 2 -q --seed 1
made sample "$T/gen.safetensors" -n 900 --seed 2 -o "$T/real.npy"
made sample "$T/gen.safetensors" -n 900 --seed 3 -o "$T/other.npy"

# ---- the same model for any number of ranks -------------------------------------
# case NAME DATA "OPTIONS" RANKS...: made train once, then mpirun -np N for each N.
case_same() {
  name=$1; data=$2; opts=$3; shift 3
  # shellcheck disable=SC2086
  made train "$data" -o "$T/$name.ref" $opts -q --checkpoint "$T/$name.ref.ckpt"
  for n in "$@"; do
    # shellcheck disable=SC2086
    mpi "$n" train "$data" -o "$T/$name.np$n" $opts -q --checkpoint "$T/$name.np$n.ckpt"
    if [ "$rc" -ne 0 ]; then bad "$name: mpirun -np $n -> exit $rc"; continue; fi
    same "$T/$name.ref" "$T/$name.np$n" "$name: mpirun -np $n vs one process"
  done
}
# 100 rows a batch: blocks of 32, 32, 32 and 4 rows; 2 and 4 ranks split the tree
# evenly, 3 do not (and still give the same bits).
case_same npy "$T/real.npy" "--dist gaussian --hidden 48,48 --epochs 3 --batch-size 100 --clip-norm 5 --val-fraction 0.1 --seed 3" 1 2 3 4
case_same npy-t2 "$T/real.npy" "--dist mog:2 --hidden 48 --epochs 2 --batch-size 256 --threads 2 --seed 4" 2 4
case_same masks "$T/bin.csv" "--dist bernoulli --hidden 64 --masks 3 --input-order random --epochs 2 --batch-size 64 --optimizer sgd --lr 0.05 --val-fraction 0.2 --patience 5 --seed 5" 2 3
case_same cond "$T/rtrain.csv" "--dist gaussian --hidden 32,32 -c $T/ctrain.csv --val $T/rval.csv --val-conditional $T/cval.csv --epochs 2 --batch-size 50 --lr-schedule cosine --seed 6" 2 4
# More ranks than gradient blocks: some ranks compute nothing.
case_same idle "$T/bin.csv" "--dist bernoulli --hidden 16 --epochs 1 --batch-size 40 --seed 7" 4

# The one-process build at 2 threads, and the MPI build without mpirun, give
# the same file too.
made train "$T/real.npy" -o "$T/npy.t2" --dist gaussian --hidden 48,48 --epochs 3 --batch-size 100 \
  --clip-norm 5 --val-fraction 0.1 --seed 3 -q --threads 2 --checkpoint "$T/npy.t2.ckpt"
same "$T/npy.ref" "$T/npy.t2" "one process: --threads 2 vs 1"
MADE_PLAIN=$MADE
MADE=$MADE_MPI
made train "$T/real.npy" -o "$T/npy.nompi" --dist gaussian --hidden 48,48 --epochs 3 \
  --batch-size 100 --clip-norm 5 --val-fraction 0.1 --seed 3 -q --checkpoint "$T/npy.nompi.ckpt"
MADE=$MADE_PLAIN
same "$T/npy.ref" "$T/npy.nompi" "the MPI build without mpirun vs the plain build"

# made info shows the same record (epochs run, kept epoch, stop reason, NLLs).
"$MADE" info "$T/npy.ref" | grep -v '^model:' > "$T/info.ref"
"$MADE" info "$T/npy.np2" | grep -v '^model:' > "$T/info.np2"
if grep -q '^training: *3 epochs run' "$T/info.ref" && cmp -s "$T/info.ref" "$T/info.np2"; then ok
else bad "made info: the record of an mpirun -np 2 model differs from one process's"; fi

# --init-from (fine-tuning) and a run extended with --resume CKPT --epochs.
made train "$T/real.npy" -o "$T/init.ref" --init-from "$T/npy.ref" --epochs 2 --seed 9 -q \
  --checkpoint "$T/init.ref.ckpt"
mpi 2 train "$T/real.npy" -o "$T/init.np2" --init-from "$T/npy.ref" --epochs 2 --seed 9 -q \
  --checkpoint "$T/init.np2.ckpt"
[ "$rc" -eq 0 ] || bad "--init-from under mpirun -np 2 -> exit $rc"
same "$T/init.ref" "$T/init.np2" "--init-from: mpirun -np 2 vs one process"
EXT="--dist bernoulli --hidden 32 --batch-size 64 --val-fraction 0.2 --seed 10"
# shellcheck disable=SC2086
made train "$T/bin.csv" -o "$T/ext.ref" $EXT --epochs 3 -q --checkpoint "$T/ext.ref.ckpt"
# shellcheck disable=SC2086
mpi 2 train "$T/bin.csv" -o "$T/ext.np2" $EXT --epochs 2 -q --keep-checkpoint \
  --checkpoint "$T/ext.ckpt"
[ "$rc" -eq 0 ] && [ -f "$T/ext.ckpt" ] || bad "--keep-checkpoint under mpirun -np 2: exit $rc"
mpi 3 train "$T/bin.csv" -o "$T/ext.np2" -q --resume "$T/ext.ckpt" --epochs 3
[ "$rc" -eq 0 ] || bad "--resume --epochs 3 under mpirun -np 3 -> exit $rc"
same "$T/ext.ref" "$T/ext.np2" "2 epochs at -np 2 extended to 3 at -np 3 vs 3 epochs in one process"

# Only rank 0 writes: one progress report, one log line per epoch.
mpi 2 train "$T/real.npy" -o "$T/log.model" --dist gaussian --hidden 16 --epochs 2 --log-json "$T/log.json"
if [ "$rc" -eq 0 ] && [ "$(grep -c '^epoch ' "$T/err")" -eq 2 ] && [ "$(wc -l < "$T/log.json")" -eq 2 ]; then ok
else bad "mpirun -np 2: expected 2 epoch lines and 2 log lines (exit $rc)"; fi

# ---- stopping, then --resume ---------------------------------------------------------
# One reference run; each stopped run below resumes to its model, byte for byte.
OPTS="--dist gaussian --hidden 128,128 --epochs 500 --batch-size 32 --seed 8"
# shellcheck disable=SC2086
made train "$T/real.npy" -o "$T/int.ref" $OPTS -q --checkpoint "$T/int.ref.ckpt"

# start NAME: mpirun -np 2 of the long run in the background ($pid: timeout's,
# whose child is mpirun), returning once its first checkpoint exists, so the
# run is in its second epoch (or later) of 500: a run of several seconds, so
# that it is still running when mpirun's SIGTERM comes, a second after Ctrl-C.
start() {
  # shellcheck disable=SC2086
  timeout 120 $MPIRUN -np 2 "$MADE_MPI" train "$T/real.npy" -o "$T/$1.model" $OPTS -q \
    > "$T/out" 2> "$T/err" < /dev/null &
  pid=$!
  i=0
  while [ ! -f "$T/$1.model.ckpt" ] && [ $i -lt 1200 ] && kill -0 "$pid" 2> /dev/null; do
    sleep 0.05; i=$((i + 1))
  done
  mpirun_pid=$(pgrep -P "$pid" | head -n 1)
  ranks=""
  [ -n "$mpirun_pid" ] && ranks=$(pgrep -x made -P "$mpirun_pid")
}
# rank_pid R: the pid of rank R among $ranks (Open MPI sets OMPI_COMM_WORLD_RANK).
rank_pid() {
  for p in $ranks; do
    if tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$p"; return
    fi
  done
}
# resumed NAME N DESC: --resume under mpirun -np N gives the reference model.
resumed() {
  if [ ! -f "$T/$1.model.ckpt" ]; then bad "$3: no checkpoint left"; return; fi
  mpi "$2" train "$T/real.npy" -o "$T/$1.model" -q --resume "$T/$1.model.ckpt"
  [ "$rc" -eq 0 ] || bad "$3: resume under mpirun -np $2 -> exit $rc"
  same "$T/int.ref" "$T/$1.model" "$3, resumed at -np $2, vs uninterrupted one process"
  for f in "$T/$1.model.ckpt.tmp."*; do [ -e "$f" ] && bad "$3: $f left behind"; done
}

# A batch system's cancel (or Ctrl-C reaching the ranks) signals every rank:
# they stop at the same minibatch and rank 0 writes the checkpoint.
start term
if [ -z "$ranks" ]; then bad "SIGTERM to the ranks: no ranks running"
else
  # shellcheck disable=SC2086
  kill -TERM $ranks
  wait "$pid"
  rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "interrupted; checkpoint written" "$T/err"; then ok
  else bad "SIGTERM to the ranks: exit $rc, no 'interrupted' message"; fi
  [ -f "$T/term.model" ] && bad "SIGTERM to the ranks: a model was written"
  cp "$T/term.model.ckpt" "$T/term2.model.ckpt"
  resumed term 2 "SIGTERM to the ranks"
  resumed term2 3 "SIGTERM to the ranks"
fi

# Ctrl-C at mpirun's terminal: mpirun sends SIGTERM to the ranks, and SIGKILL
# to all of them as soon as one exits; the ranks exit together once rank 0 has
# written the checkpoint of that moment. (mpirun sends SIGCONT at once and
# SIGTERM only odls_base_sigkill_timeout = 1 s later: the run must outlast that.)
start int
if [ -z "$mpirun_pid" ]; then bad "SIGINT to mpirun: mpirun is not running"
else
  kill -INT "$mpirun_pid"
  wait "$pid"
  rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "interrupted; checkpoint written" "$T/err"; then ok
  else bad "SIGINT to mpirun: exit $rc, no 'interrupted' message"; fi
  resumed int 2 "SIGINT to mpirun"
fi

# ---- failures: every rank stops, with a message -------------------------------------
# fails "DESC" "EXPECTED MESSAGE" MPIRUN-ARGS...: non-zero exit and the message.
fails() {
  desc=$1; want=$2; shift 2
  # shellcheck disable=SC2086
  timeout 120 $MPIRUN "$@" > "$T/out" 2> "$T/err" < /dev/null
  rc=$?
  if [ "$rc" -eq 124 ]; then bad "$desc: hung (killed by the timeout)"
  elif [ "$rc" -eq 0 ]; then bad "$desc: exit 0"
  elif ! grep -q -F -- "$want" "$T/err"; then bad "$desc: no message \"$want\""
  else ok; fi
}
TR="train -q --dist gaussian --hidden 16 --epochs 2"
# shellcheck disable=SC2086
fails "rank 1 cannot read its data" "missing.npy: cannot open" \
  -np 1 "$MADE_MPI" $TR "$T/real.npy" -o "$T/f1.model" : -np 1 "$MADE_MPI" $TR "$T/missing.npy" -o "$T/f1.model"
grep -q "stopping: rank 1 failed" "$T/err" && ok || bad "rank 0 does not name the failed rank"
# shellcheck disable=SC2086
fails "ranks read different files of the same shape" "differs between rank 0 and rank 1" \
  -np 1 "$MADE_MPI" $TR "$T/real.npy" -o "$T/f2.model" : -np 1 "$MADE_MPI" $TR "$T/other.npy" -o "$T/f2.model"
# shellcheck disable=SC2086
fails "ranks read files of different shapes" "differs between rank 0 and rank 1" \
  -np 1 "$MADE_MPI" $TR "$T/real.csv" -o "$T/f3.model" : -np 1 "$MADE_MPI" $TR "$T/rtrain.csv" -o "$T/f3.model"
# shellcheck disable=SC2086
fails "ranks given different seeds" "rank 1's model, settings or progress differ" \
  -np 1 "$MADE_MPI" $TR "$T/real.npy" -o "$T/f4.model" --seed 1 : -np 1 "$MADE_MPI" $TR "$T/real.npy" -o "$T/f4.model" --seed 2
# shellcheck disable=SC2086
fails "--flow under mpirun" "--flow does not run under mpirun" \
  -np 2 "$MADE_MPI" train -q "$T/real.npy" -o "$T/f5.model" --flow maf:2 --hidden 8 --epochs 1
made train "$T/real.npy" -o "$T/flow.model" --flow maf:2 --hidden 8 --epochs 2 -q --keep-checkpoint
fails "a flow's checkpoint resumed under mpirun" "--flow does not run under mpirun" \
  -np 2 "$MADE_MPI" train -q "$T/real.npy" -o "$T/flow.model" --resume "$T/flow.model.ckpt" --epochs 3
[ -e "$T/f1.model" ] || [ -e "$T/f2.model" ] || [ -e "$T/f4.model" ] && bad "a failed run wrote a model" || ok

# A rank killed outright (rank 0, the writer, too): mpirun ends the job, and
# the last epoch's checkpoint is intact (training resumes from it).
for victim_rank in 1 0; do
  start "kill$victim_rank"
  victim=$(rank_pid $victim_rank)
  if [ -z "$victim" ]; then bad "killed rank $victim_rank: rank not found"; continue; fi
  kill -KILL "$victim"
  wait "$pid"
  rc=$?
  if [ "$rc" -eq 124 ]; then bad "killed rank $victim_rank: the others hung"
  elif [ "$rc" -eq 0 ]; then bad "killed rank $victim_rank: mpirun exit 0"
  else ok; fi
  rm -f "$T/kill$victim_rank.model.ckpt.tmp."* # a write cut short by SIGKILL
  resumed "kill$victim_rank" 2 "rank $victim_rank killed"
done

harness_summary
