#!/usr/bin/env python3
"""make bench-flow: made's MAF against a plain PyTorch MAF of identical
architecture, plus made's single-Gaussian MADE and MADE MoG on the same data.

  python3 bench/bench_flow.py --made bin/made [--epochs 5] [--rows 20000]

Data: two moons from `made toy` (seeded; train and test sets). Every model
gets the same data, epochs, batch size (100), optimiser (Adam, lr 1e-3) and
one thread. Reported: test NLL (nats, bits/dim), training examples/s,
sampling examples/s. Then sampling speed at E = 784 (MAF(5), hidden 512):
made's one-pass sweep against PyTorch's E-pass inversion, on untrained
networks (speed only).

The PyTorch MAF: 5 MADE layers (hidden [64, 64], ReLU, left-to-right
degrees as TFP's 'equal'), glorot-uniform kernels and zero biases (made's and
TFP's defaults), reverse permutations between layers, shift and log-scale with
exp, standard normal base; sampling inverts each layer with E
passes, as TFP and nflows do."""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import torch

torch.set_num_threads(1)


def masks(E, hidden):
    """TFP 'equal' degrees, left-to-right order; output layer for 2 params."""
    deg_in = np.arange(1, E + 1)
    degs = [deg_in]
    for h in hidden:
        k = np.arange(h)
        d = (k * (E - 1) + h) // (h + 1) if E > 1 else np.zeros(h, int)
        d = np.maximum(d, degs[-1].min() if len(degs) > 1 else 1) if E > 1 else d
        degs.append(d)
    ms = []
    for a, b in zip(degs[:-1], degs[1:]):
        ms.append((a[:, None] <= b[None, :]).astype(np.float32))
    out = np.repeat(deg_in, 2)
    ms.append((degs[-1][:, None] < out[None, :]).astype(np.float32))
    return ms


class MaskedLinear(torch.nn.Linear):
    def __init__(self, mask):
        super().__init__(mask.shape[0], mask.shape[1])
        self.register_buffer("mask", torch.tensor(mask.T))
        # TFP's (and made's) defaults: glorot_uniform kernels, zero biases.
        torch.nn.init.xavier_uniform_(self.weight)
        torch.nn.init.zeros_(self.bias)

    def forward(self, x):
        return torch.nn.functional.linear(x, self.weight * self.mask, self.bias)


class MADE(torch.nn.Module):
    def __init__(self, E, hidden):
        super().__init__()
        layers = []
        for i, m in enumerate(masks(E, hidden)):
            layers.append(MaskedLinear(m))
            if i < len(hidden):
                layers.append(torch.nn.ReLU())
        self.net = torch.nn.Sequential(*layers)
        self.E = E

    def forward(self, y):
        out = self.net(y).view(-1, self.E, 2)
        return out[..., 0], out[..., 1]


class MAF(torch.nn.Module):
    def __init__(self, E, K, hidden):
        super().__init__()
        self.layers = torch.nn.ModuleList(MADE(E, hidden) for _ in range(K))
        self.E = E

    def log_prob(self, y):
        ld = torch.zeros(y.shape[0])
        for k in reversed(range(len(self.layers))):
            if k < len(self.layers) - 1:
                y = y.flip(-1)  # reverse permutation is its own inverse
            s, u = self.layers[k](y)
            y = (y - s) * torch.exp(-u)
            ld = ld - u.sum(-1)
        return -0.5 * (y ** 2).sum(-1) - 0.5 * self.E * np.log(2 * np.pi) + ld

    @torch.no_grad()
    def sample(self, n):
        x = torch.randn(n, self.E)
        for k, layer in enumerate(self.layers):
            y = torch.zeros_like(x)
            for i in range(self.E):  # E passes
                s, u = layer(y)
                y[:, i] = s[:, i] + torch.exp(u[:, i]) * x[:, i]
            x = y.flip(-1) if k < len(self.layers) - 1 else y
        return x


def made(args, *a, capture=False):
    r = subprocess.run([args.made, *a], check=True, capture_output=True, text=True)
    return r


def made_model(args, tmp, name, opts):
    out = os.path.join(tmp, name + ".safetensors")
    log = os.path.join(tmp, name + ".jsonl")
    made(args, "train", os.path.join(tmp, "train.csv"), "-o", out, "--epochs", str(args.epochs),
         "--batch-size", "100", "--lr", "1e-3", "--seed", "0", "-q", "--log-json", log, *opts)
    eps = [json.loads(line)["examples_per_sec"] for line in open(log)]
    r = made(args, "eval", out, os.path.join(tmp, "test.csv"), "--json")
    nll = json.loads(r.stdout)["nll_nats"]
    r = made(args, "sample", out, "-n", "20000", "-o", os.path.join(tmp, "s.csv"))
    sps = float(r.stderr.split("(")[1].split()[0])
    return nll, float(np.median(eps)), sps


def torch_maf(args, tmp):
    xtr = torch.tensor(np.loadtxt(os.path.join(tmp, "train.csv"), delimiter=",", dtype=np.float32))
    xte = torch.tensor(np.loadtxt(os.path.join(tmp, "test.csv"), delimiter=",", dtype=np.float32))
    torch.manual_seed(0)
    f = MAF(2, 5, [64, 64])
    opt = torch.optim.Adam(f.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(xtr), 100):
            loss = -f.log_prob(xtr[perm[i:i + 100]]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    eps = args.epochs * len(xtr) / (time.perf_counter() - t0)
    with torch.no_grad():
        nll = -f.log_prob(xte).mean().item()
    t0 = time.perf_counter()
    f.sample(20000)
    sps = 20000 / (time.perf_counter() - t0)
    return nll, eps, sps


def sampling_784(args, tmp):
    rng = np.random.RandomState(0)
    np.savetxt(os.path.join(tmp, "w.csv"), rng.normal(size=(200, 784)), delimiter=",", fmt="%.4f")
    out = os.path.join(tmp, "w.safetensors")
    made(args, "train", os.path.join(tmp, "w.csv"), "-o", out, "--flow", "maf:5", "--hidden", "512",
         "--epochs", "1", "--scale", "softclip", "-q")
    r = made(args, "sample", out, "-n", "1000", "-o", os.path.join(tmp, "w-s.npy"))
    made_sps = float(r.stderr.split("(")[1].split()[0])
    f = MAF(784, 5, [512])
    t0 = time.perf_counter()
    f.sample(5)  # 3920 network passes: a few rows are enough to time it
    torch_sps = 5 / (time.perf_counter() - t0)
    return made_sps, torch_sps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--made", default="bin/made")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        made(args, "toy", "moons", "-n", str(args.rows), "-o", os.path.join(tmp, "train.csv"), "--seed", "1")
        made(args, "toy", "moons", "-n", "5000", "-o", os.path.join(tmp, "test.csv"), "--seed", "2")
        rows = [
            ("made MAF(5) [64,64]", made_model(args, tmp, "maf", ["--flow", "maf:5", "--hidden", "64,64"])),
            ("PyTorch MAF(5) [64,64]", torch_maf(args, tmp)),
            ("made MADE gaussian [64,64]", made_model(args, tmp, "gauss", ["--dist", "gaussian", "--hidden", "64,64"])),
            ("made MADE mog:5 [64,64]", made_model(args, tmp, "mog", ["--dist", "mog:5", "--hidden", "64,64"])),
        ]
        print(f"two moons, {args.rows} training rows, 5000 test rows, {args.epochs} epochs, batch 100, "
              f"Adam lr 1e-3, 1 thread")
        print("| model | test NLL (nats) | bits/dim | training ex/s | sampling ex/s |")
        print("|---|---|---|---|---|")
        for name, (nll, eps, sps) in rows:
            print(f"| {name} | {nll:.4f} | {nll / (2 * np.log(2)):.4f} | {eps:,.0f} | {sps:,.0f} |")
        m, t = sampling_784(args, tmp)
        print()
        print("sampling at E = 784, MAF(5), hidden [512], untrained, 1 thread:")
        print(f"| made one-pass | {m:,.0f} samples/s |")
        print(f"| PyTorch E-pass | {t:,.1f} samples/s |")
        print(f"| ratio | {m / t:,.0f}x |")


if __name__ == "__main__":
    main()
