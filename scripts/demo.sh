#!/bin/sh
# make demo: train a MADE on binarized Fashion-MNIST (Debian's dataset-fashion-mnist),
# print the test negative log-likelihood, and draw a grid of samples.
#
#   MADE=bin/made sh scripts/demo.sh        (outputs in demo-out/)
set -eu
MADE=${MADE:-bin/made}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
OUT=${OUT:-demo-out}
EPOCHS=${EPOCHS:-20}
THREADS=${THREADS:-$(nproc 2>/dev/null || echo 1)}
mkdir -p "$OUT"

echo "== made demo: MADE on binarized Fashion-MNIST (pixel > 127), $THREADS threads"
start=$(date +%s)
"$MADE" train "$DATA/train-images-idx3-ubyte.gz" -o "$OUT/fashion.safetensors" \
    --dist bernoulli --binarize 127 --hidden 500 --activation relu \
    --epochs "$EPOCHS" --batch-size 100 --lr 1e-3 --val-fraction 0.05 --patience 3 \
    --seed 0 --threads "$THREADS" --log-json "$OUT/train.jsonl"
trained=$(date +%s)

echo "== test set (10000 images)"
"$MADE" eval "$OUT/fashion.safetensors" "$DATA/t10k-images-idx3-ubyte.gz" --binarize 127 \
    --threads "$THREADS" | tee "$OUT/test-nll.txt"
nll=$(cut -d' ' -f1 "$OUT/test-nll.txt")

echo "== 100 samples"
"$MADE" sample "$OUT/fashion.safetensors" -n 100 --seed 1 -o "$OUT/samples.npy" \
    --png "$OUT/samples.png" --image-shape 28x28 --threads "$THREADS"
end=$(date +%s)

echo
echo "test NLL: $nll nats per image"
echo "training took $((trained - start)) s; everything $((end - start)) s"
echo "samples: $OUT/samples.png"
