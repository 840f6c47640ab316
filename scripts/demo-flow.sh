#!/bin/sh
# make demo-flow: a MAF of 5 layers (softclip scales, batch norm) on two moons
# (made's own seeded toy data), with the data, the learned density and samples
# side by side in one PNG.
#
#   MADE=bin/made sh scripts/demo-flow.sh        (outputs in demo-flow-out/)
set -eu
MADE=${MADE:-bin/made}
OUT=${OUT:-demo-flow-out}
EPOCHS=${EPOCHS:-60}
mkdir -p "$OUT"
HERE=$(dirname "$0")

echo "== made demo-flow: MAF(5) on two moons"
start=$(date +%s)
"$MADE" toy moons -n 4000 -o "$OUT/moons.csv" --seed 1
"$MADE" toy moons -n 1000 -o "$OUT/moons-test.csv" --seed 2
"$MADE" train "$OUT/moons.csv" -o "$OUT/maf.safetensors" --flow maf:5 --hidden 64,64 \
    --batch-norm --scale softclip --epochs "$EPOCHS" --batch-size 100 --lr 3e-3 --lr-schedule cosine \
    --val-fraction 0.1 --seed 0 -q
trained=$(date +%s)
"$MADE" eval "$OUT/maf.safetensors" "$OUT/moons-test.csv" | tee "$OUT/test-nll.txt"

# The density on a 200 x 200 grid over [-1.5, 2.5] x [-1, 1.5], and samples.
python3 "$HERE/flow_grid.py" grid "$OUT/grid.csv"
"$MADE" logprob "$OUT/maf.safetensors" "$OUT/grid.csv" -o "$OUT/grid-logprob.csv"
"$MADE" sample "$OUT/maf.safetensors" -n 4000 --seed 3 -o "$OUT/samples.csv"
python3 "$HERE/flow_grid.py" png "$OUT/moons.csv" "$OUT/grid-logprob.csv" "$OUT/samples.csv" \
    "$OUT/moons-maf.png"
end=$(date +%s)
echo "training took $((trained - start)) s; everything $((end - start)) s"
echo "picture (data | learned density | samples): $OUT/moons-maf.png"
