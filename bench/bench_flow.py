#!/usr/bin/env python3
"""make bench-flow: made's MAF against a PyTorch MAF of identical architecture
(and nflows' MAF), plus made's single-Gaussian MADE and MADE MoG, on the same
data, side by side.

  /usr/bin/python3 bench/bench_flow.py --made bin/made [options]

Two data sets:

  moons   two moons from `made toy moons` (seeded), E = 2, hidden [64, 64].
  fmnist  Fashion-MNIST (Debian's dataset-fashion-mnist, IDX files), the MAF
          paper's MNIST protocol: pixels p in 0..255 plus uniform noise u,
          v = p + u, modelled as z = logit(L + (1 - 2L) v / 256) with
          L = 1e-6 (the paper's lambda for MNIST); NLL and bits/dim are
          reported in pixel space (densities of v in [0, 256]^784, the
          Jacobian of the logit transform included).
          E = 784, hidden [512] (one layer; --fmnist-hidden), batch norm
          between the MADEs (the paper's MAF; without it an untrained
          exp-scale stack overflows on logit data at the first batch).

made's MAF reads the 8-bit pixels and dequantises them itself
(`--dequantize --logit 1e-6`, noise seeded by --seed). This script draws the
very same noise (made's generator, reproduced in numpy: `dequantize` below)
and hands the logit data to the PyTorch models and made's MADEs, whose NLLs it
moves to pixel space with the same Jacobian. A check at the start trains a
small made MAF both ways (pixels with --dequantize, and this script's logit
data without) and requires the same test NLL, so "the same data" is verified,
not assumed.

Every model gets the same data, epochs, batch size (100), optimiser (Adam,
lr 1e-3 unless --lr) and thread count (--threads, default 1). Threads as in
bench/bench.py: OMP_NUM_THREADS=T, MKL_NUM_THREADS=T, OPENBLAS_NUM_THREADS=1,
OMP_WAIT_POLICY=PASSIVE for every process, torch.set_num_threads(T), made -t T;
each PyTorch model trains in its own process. PyTorch samples under
torch.inference_mode().

Reported: test NLL (nats, bits/dim), training examples/s (all epochs' examples
over their wall time; made: from --log-json, the final batch-norm pass over the
training set excluded on both sides), sampling examples/s (made: `made sample`,
one degree-ordered pass per layer; PyTorch and nflows: E network passes per
layer, timed on few rows at E = 784), and the load average next to each row
(the machine may be shared: the speeds are noisy).

The plain PyTorch MAF (the peer of the targets): K MADE layers with TFP's masks
(left-to-right order, 'equal' hidden degrees, bench/bench.py's tfp_masks),
ReLU, glorot-uniform kernels and zero biases (made's and TFP's defaults),
shift and log-scale with exp, reverse permutations between layers, and with
--batch-norm made's batch norm exactly: after each layer in the density
direction, v = (u - mean) / sqrt(var + eps) exp(gamma) + beta, batch mean and
biased variance while training, running averages (momentum 0.9) otherwise, and
at the end of training the statistics set from the whole training set, top
layer first, as made does. Standard normal base.

nflows (0.14, when it installs beside Debian's torch: a virtual environment
build/bench-flow-venv with the system's site packages and `pip install
--no-deps nflows`): its MaskedAutoregressiveFlow as its users build it, the
closest configuration (hidden_features H, num_blocks = len(hidden) - 1,
use_residual_blocks=False, batch_norm_between_layers as above). It is not
identical: cyclic hidden degrees, scale softplus(u) + 1e-3, a permutation before
every layer, PyTorch's default initialisation, its own batch norm (no final
pass). Its row shows what an nflows user gets; the targets compare with the
plain PyTorch MAF.
"""
import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
BATCH = 100


# --------------------------------------------------------------------------
# Data: made's dequantisation noise, the logit transform and its Jacobian
# --------------------------------------------------------------------------

def read_idx_images(path, rows):
    """The first `rows` images of an IDX3 file (gzip or not) as float32 [N, 784]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(16)
        n, h, w = (int.from_bytes(head[i:i + 4], "big") for i in (4, 8, 12))
        rows = n if rows is None else min(rows, n)
        x = np.frombuffer(f.read(rows * h * w), np.uint8)
    return x.reshape(rows, h * w).astype(np.float32)


def dequantize(x, seed):
    """x + u, u uniform in [0, 1), exactly as made's cli_dequantize
    (cli/flow_opts.c): splitmix64 from seed ^ 0x6465717561, one draw per value
    in row-major order, (next >> 11) * 2^-53 rounded to float, added in float."""
    out = np.empty_like(x)
    flat, res = x.reshape(-1), out.reshape(-1)
    s0 = np.uint64(seed ^ 0x6465717561)
    chunk = 1 << 22
    with np.errstate(over="ignore"):
        for a in range(0, flat.size, chunk):
            k = np.arange(a + 1, min(a + chunk, flat.size) + 1, dtype=np.uint64)
            z = s0 + k * np.uint64(0x9e3779b97f4a7c15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xbf58476d1ce4e5b9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94d049bb133111eb)
            z ^= z >> np.uint64(31)
            u = ((z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53).astype(np.float32)
            res[a:a + k.size] = flat[a:a + k.size] + u
    return out


def logit_transform(v, lam, levels=256.0):
    """z = logit(lam + (1 - 2 lam) v / levels) as float32, and per row
    log|dz/dv| (made's src/flow/preprocess.c, in double)."""
    p = lam + (1.0 - 2.0 * lam) * (v.astype(np.float64) / levels)
    z = (np.log(p) - np.log1p(-p)).astype(np.float32)
    ld = (np.log1p(-2.0 * lam) - np.log(levels) - np.log(p) - np.log1p(-p)).sum(axis=1)
    return z, ld


# --------------------------------------------------------------------------
# made
# --------------------------------------------------------------------------

def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench-flow: %s failed (%d):\n%s" % (" ".join(cmd), r.returncode, r.stderr))
    return r


def made_row(a, tmp, name, train, test, opts, sample_n, jac=0.0, seed=0):
    """Trains, evaluates and samples (unless sample_n is 0) one made model.
    jac: mean log|dz/dv| of the test rows, subtracted from the NLL when the
    model sees logit data (MADEs)."""
    out = os.path.join(tmp, "%s-%d.safetensors" % (name, seed))
    log = os.path.join(tmp, "%s-%d.jsonl" % (name, seed))
    load0, t0 = os.getloadavg()[0], time.time()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    run([a.made, "train", train, "-o", out, "--epochs", str(a.epochs), "--batch-size", str(BATCH),
         "--lr", str(a.lr), "--seed", str(seed), "-q", "-t", str(a.threads), "--log-json", log, *opts])
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.time() - t0
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    ep = [json.loads(line) for line in open(log)]
    examples = sum(e["examples_per_sec"] * e["seconds"] for e in ep)
    eps = examples / sum(e["seconds"] for e in ep)
    # per CPU-second: the epochs' rate scaled by the whole process's share of
    # a core (bench_made --clock cpu in spirit; the process also loads data,
    # runs the final batch-norm pass and writes the model, so approximate).
    eps_cpu = eps * wall / cpu / a.threads if cpu > 0 else float("nan")
    r = run([a.made, "eval", out, test, "--json", "-t", str(a.threads)])
    nll = json.loads(r.stdout)["nll_nats"] - jac
    sps = None
    if sample_n:
        r = run([a.made, "sample", out, "-n", str(sample_n), "-o", os.path.join(tmp, name + "-s.npy"),
                 "-t", str(a.threads)])
        sps = float(r.stderr.split("(")[1].split()[0])
    note(a, "made %s, seed %d" % (" ".join(opts), seed), nll, t0)
    return {"nll": nll, "train_eps": eps, "train_eps_cpu": eps_cpu, "sample_eps": sps, "load": load0,
            "model": out}


def note(a, what, nll, t0):
    """One progress line on stderr per model."""
    sys.stderr.write("bench-flow: %-60s test NLL %10.4f  %5.0f s\n" % (what[:60], nll, time.time() - t0))


# --------------------------------------------------------------------------
# PyTorch workers (own process each): plain MAF and nflows' MAF
# --------------------------------------------------------------------------

def worker(a):
    """Trains one PyTorch MAF on --train, evaluates --test, times sampling;
    prints one JSON line."""
    import torch
    torch.set_num_threads(a.threads)
    xtr = torch.from_numpy(np.load(a.train))
    xte = torch.from_numpy(np.load(a.test))
    E = xtr.shape[1]
    hidden = [int(h) for h in a.hidden.split(",")]
    torch.manual_seed(a.seed)
    if a.worker == "plain":
        from bench_flow_torch import MAF
        f = MAF(E, a.layers, hidden, a.batch_norm)
    else:
        from nflows.flows.autoregressive import MaskedAutoregressiveFlow
        f = MaskedAutoregressiveFlow(features=E, hidden_features=hidden[0], num_layers=a.layers,
                                     num_blocks_per_layer=len(hidden) - 1,
                                     use_residual_blocks=False,
                                     batch_norm_between_layers=a.batch_norm)
    opt = torch.optim.Adam(f.parameters(), lr=a.lr)
    g = torch.Generator().manual_seed(a.seed)
    f.train()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.epochs):
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(xtr), BATCH):
            loss = -f.log_prob(xtr[perm[i:i + BATCH]]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    f.eval()
    with torch.inference_mode():
        if a.worker == "plain" and a.batch_norm:
            f.batchnorm_from_data(xtr)
        nll = -torch.cat([f.log_prob(xte[i:i + 1000]) for i in range(0, len(xte), 1000)]).mean().item()
        sps = None
        if a.sample_rows:
            f.sample(1)  # warm-up
            t0 = time.perf_counter()
            f.sample(a.sample_rows)
            sps = a.sample_rows / (time.perf_counter() - t0)
    print(json.dumps({"nll": nll, "train_eps": a.epochs * len(xtr) / train_s,
                      "train_eps_cpu": a.epochs * len(xtr) / train_cpu / a.threads,
                      "sample_eps": sps}))


def torch_row(a, tmp, python, kind, train, test, hidden, sample_rows, jac=0.0, seed=0):
    out = os.path.join(tmp, "%s-%d.json" % (kind, seed))
    load0, t0 = os.getloadavg()[0], time.time()
    cmd = [python, os.path.abspath(__file__), "--worker", kind, "--train", train, "--test", test,
           "--hidden", hidden, "--layers", "5", "--epochs", str(a.epochs), "--lr", str(a.lr),
           "--threads", str(a.threads), "--sample-rows", str(sample_rows), "--seed", str(seed)]
    if a.batch_norm_now:
        cmd.append("--batch-norm")
    r = run(cmd)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["nll"] -= jac
    res["load"] = load0
    note(a, "%s MAF(5) [%s], seed %d" % (kind, hidden, seed), res["nll"], t0)
    with open(out, "w") as f:
        json.dump(res, f)
    return res


def nflows_python(a):
    """build/bench-flow-venv/bin/python with nflows beside Debian's torch
    (created once: venv --system-site-packages, pip install --no-deps nflows);
    None when it cannot be had."""
    if a.no_nflows:
        return None
    venv = os.path.join(ROOT, "build", "bench-flow-venv")
    py = os.path.join(venv, "bin", "python")
    check = [py, "-c", "import torch, nflows.flows.autoregressive"]
    if os.path.exists(py) and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    sys.stderr.write("bench-flow: creating %s with nflows beside Debian's torch (once)\n" % venv)
    # nflows imports matplotlib (nflows/nn/nde/made.py) and nothing else
    # beyond torch and numpy; the constraint keeps Debian's numpy, which
    # Debian's torch was built against.
    cons = os.path.join(venv, "numpy-constraint.txt")
    steps = [[sys.executable, "-m", "venv", "--system-site-packages", venv],
             [py, "-m", "pip", "install", "-q", "--no-deps", "nflows==0.14"],
             [py, "-m", "pip", "install", "-q", "matplotlib", "-c", cons]]
    for i, cmd in enumerate(steps):
        if i == 1:
            with open(cons, "w") as f:
                f.write("numpy==%s\n" % np.__version__)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write("bench-flow: %s failed: no nflows row\n%s" % (" ".join(cmd), r.stderr))
            return None
    return py if subprocess.run(check, capture_output=True).returncode == 0 else None


# --------------------------------------------------------------------------
# The two data sets
# --------------------------------------------------------------------------

def table(title, rows, E, out):
    out.append(title)
    out.append("")
    out.append("| model | test NLL (nats) | bits/dim | training ex/s | training ex/CPU-s | "
               "sampling ex/s | load avg |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        if r is None:
            continue
        sd = lambda v, d: " ± %.*f" % (d, v) if r["n"] > 1 else ""
        b, d = E * np.log(2), 2 if E > 2 else 4
        out.append("| %s | %.*f%s | %.4f%s | %s | %s | %s | %.1f |" % (
            name, d, r["nll"], sd(r["nll_sd"], d), r["nll"] / b, sd(r["nll_sd"] / b, 4),
            fmt(r["train_eps"]), fmt(r["train_eps_cpu"]), fmt(r["sample_eps"]), r["load"]))
    out.append("")


def fmt(v):
    if v is None:
        return "-"
    return "%.3g" % v if v < 10 else "{:,.0f}".format(v)


def combine(runs):
    """One row from the runs of several seeds: NLL mean and sample standard
    deviation, speeds and load as medians."""
    runs = [r for r in runs if r]
    if not runs:
        return None
    med = lambda k: (float(np.median([r[k] for r in runs if r.get(k) is not None]))
                     if any(r.get(k) is not None for r in runs) else None)
    nll = [r["nll"] for r in runs]
    return {"nll": float(np.mean(nll)), "nll_sd": float(np.std(nll, ddof=1)) if len(nll) > 1 else 0.0,
            "n": len(runs), "nll_runs": nll, "train_eps": med("train_eps"),
            "train_eps_cpu": med("train_eps_cpu"), "sample_eps": med("sample_eps"), "load": med("load")}


def moons(a, tmp, nf, out):
    d = os.path.join(tmp, "moons")
    os.makedirs(d)
    tr, te = os.path.join(d, "train.npy"), os.path.join(d, "test.npy")
    run([a.made, "toy", "moons", "-n", str(a.moons_rows), "-o", tr, "--seed", "1"])
    run([a.made, "toy", "moons", "-n", "5000", "-o", te, "--seed", "2"])
    a.epochs, a.batch_norm_now = a.moons_epochs, False
    h = "64,64"
    runs = {}
    for seed in range(a.moons_seeds):
        n = 20000 if seed == 0 else 0  # sampling timed on the first seed's models
        for name, fn in (
                ("made MAF(5) [64,64]", lambda: made_row(a, d, "maf", tr, te, ["--flow", "maf:5", "--hidden", h],
                                                         n, seed=seed)),
                ("PyTorch MAF(5) [64,64]", lambda: torch_row(a, d, sys.executable, "plain", tr, te, h, n,
                                                             seed=seed)),
                ("nflows MAF(5) [64,64]", lambda: nf and torch_row(a, d, nf, "nflows", tr, te, h, n, seed=seed)),
                ("made MADE gaussian [64,64]", lambda: made_row(a, d, "gauss", tr, te,
                                                                ["--dist", "gaussian", "--hidden", h], n,
                                                                seed=seed)),
                ("made MADE mog:5 [64,64]", lambda: made_row(a, d, "mog", tr, te,
                                                             ["--dist", "mog:5", "--hidden", h], n, seed=seed))):
            runs.setdefault(name, []).append(fn())
    rows = [(name, combine(r)) for name, r in runs.items()]
    table("two moons, %d training rows, 5000 test rows, %d epochs, batch %d, Adam lr %g, %d thread(s); "
          "NLL: mean ± standard deviation over %d seeds (seeds 0..%d: initial weights and shuffling)"
          % (a.moons_rows, a.epochs, BATCH, a.lr, a.threads, a.moons_seeds, a.moons_seeds - 1), rows, 2, out)
    return dict(rows)


def check_same_data(a, tmp, raw_tr, raw_te, z_tr, z_te, jac_te):
    """A small made MAF trained on the pixels with --dequantize and on this
    script's logit data without: the same floats in, so the same NLL out."""
    n = 500
    d = os.path.join(tmp, "check")
    os.makedirs(d)
    for name, arr in (("p-tr", raw_tr[:n]), ("p-te", raw_te[:n]), ("z-tr", z_tr[:n]), ("z-te", z_te[:n])):
        np.save(os.path.join(d, name + ".npy"), arr)
    common = ["--flow", "maf:2", "--hidden", "32", "--batch-norm", "--epochs", "1", "--seed", "0",
              "-q", "-t", str(a.threads)]
    p = os.path.join(d, "p.safetensors")
    z = os.path.join(d, "z.safetensors")
    run([a.made, "train", os.path.join(d, "p-tr.npy"), "-o", p, "--dequantize", "--logit", str(a.lam), *common])
    run([a.made, "train", os.path.join(d, "z-tr.npy"), "-o", z, *common])
    nll_p = json.loads(run([a.made, "eval", p, os.path.join(d, "p-te.npy"), "--json"]).stdout)["nll_nats"]
    nll_z = json.loads(run([a.made, "eval", z, os.path.join(d, "z-te.npy"), "--json"]).stdout)["nll_nats"]
    nll_z -= float(np.mean(jac_te[:n]))
    # The same floats give the same NLL up to the Jacobian's summation order
    # (about 1e-8 relative); other noise moves it by about 1e-4.
    if abs(nll_p - nll_z) > 1e-6 * abs(nll_p):
        sys.exit("bench-flow: the dequantised data differ from made's: pixel-space NLL %.6f "
                 "(made --dequantize) against %.6f (this script's logit data)" % (nll_p, nll_z))
    return nll_p, nll_z


def fmnist(a, tmp, nf, out):
    d = os.path.join(tmp, "fmnist")
    os.makedirs(d)
    raw_tr = read_idx_images(os.path.join(a.fmnist_dir, "train-images-idx3-ubyte.gz"), a.fmnist_rows)
    raw_te = read_idx_images(os.path.join(a.fmnist_dir, "t10k-images-idx3-ubyte.gz"), a.fmnist_test_rows)
    # made eval dequantises its DATA with --seed (default 0): the test data is
    # the same for every seed; made train dequantises DATA with --seed + 0.
    z_te, jac_te = logit_transform(dequantize(raw_te, 0), a.lam)
    jac = float(np.mean(jac_te))
    paths = {"p-tr": os.path.join(d, "p-tr.npy"), "p-te": os.path.join(d, "p-te.npy"),
             "z-te": os.path.join(d, "z-te.npy")}
    np.save(paths["p-tr"], raw_tr)
    np.save(paths["p-te"], raw_te)
    np.save(paths["z-te"], z_te)
    a.epochs, a.batch_norm_now = a.fmnist_epochs, True
    h = a.fmnist_hidden
    runs = {}
    chk = None
    for seed in range(a.fmnist_seeds):
        z_tr, _ = logit_transform(dequantize(raw_tr, seed), a.lam)
        if seed == 0:
            chk = check_same_data(a, tmp, raw_tr, raw_te, z_tr, z_te, jac_te)
        ztr = os.path.join(d, "z-tr-%d.npy" % seed)
        np.save(ztr, z_tr)
        del z_tr
        ms, ts = (a.made_samples, a.torch_samples) if seed == 0 else (0, 0)
        maf = ["--flow", "maf:5", "--hidden", h, "--batch-norm", "--dequantize", "--logit", str(a.lam)]
        mog = "mog:%d" % a.mog
        for name, fn in (
                ("made MAF(5) [%s]" % h, lambda: made_row(a, d, "maf", paths["p-tr"], paths["p-te"], maf, ms,
                                                          seed=seed)),
                ("PyTorch MAF(5) [%s]" % h, lambda: torch_row(a, d, sys.executable, "plain", ztr, paths["z-te"],
                                                              h, ts, jac, seed=seed)),
                ("nflows MAF(5) [%s]" % h, lambda: nf and torch_row(a, d, nf, "nflows", ztr, paths["z-te"], h,
                                                                    ts, jac, seed=seed)),
                ("made MADE gaussian [%s]" % h, lambda: made_row(a, d, "gauss", ztr, paths["z-te"],
                                                                 ["--dist", "gaussian", "--hidden", h], ms, jac,
                                                                 seed=seed)),
                ("made MADE %s [%s]" % (mog, h), lambda: made_row(a, d, "mog", ztr, paths["z-te"],
                                                                  ["--dist", mog, "--hidden", h], ms, jac,
                                                                  seed=seed))):
            runs.setdefault(name, []).append(fn())
        os.remove(ztr)
    rows = [(name, combine(r)) for name, r in runs.items()]
    out.append("Same data check: a made MAF(2) [32] trained on the pixels with --dequantize and on "
               "this script's logit data: pixel-space test NLL %.6f and %.6f." % chk)
    out.append("")
    table("Fashion-MNIST, %d training and %d test images, dequantised, logit space (lambda %g), "
          "NLL in pixel space; MAFs with batch norm; %d epochs, batch %d, Adam lr %g, %d thread(s); "
          "%d seed(s); PyTorch sampling timed on %d rows"
          % (len(raw_tr), len(raw_te), a.lam, a.epochs, BATCH, a.lr, a.threads, a.fmnist_seeds,
             a.torch_samples), rows, 784, out)
    return dict(rows)


def verdicts(res, out):
    """The issue's targets, on Fashion-MNIST (E = 784) when it ran, else moons."""
    for key, E in (("fmnist", 784), ("moons", 2)):
        if key not in res:
            continue
        r = res[key]
        maf = next(v for k, v in r.items() if k.startswith("made MAF"))
        pt = next(v for k, v in r.items() if k.startswith("PyTorch MAF"))
        ga = next(v for k, v in r.items() if k.startswith("made MADE gaussian"))
        bpd = lambda x: x / (E * np.log(2))
        out.append("Targets (%s):" % key)
        out.append("")
        out.append("| target | made | PyTorch MAF / MADE gaussian | verdict |")
        out.append("|---|---:|---:|---|")
        gap = bpd(maf["nll"]) - bpd(pt["nll"])
        spread = bpd(max(maf["nll_sd"], pt["nll_sd"]))
        if gap <= 0:
            verdict = "met by %.4f bits/dim" % -gap
        elif maf["n"] > 1 and gap < spread:
            verdict = ("MISSED by %.4f bits/dim, within the seeds' spread (sd up to %.4f): a tie"
                       % (gap, spread))
        else:
            verdict = "MISSED by %.4f bits/dim%s" % (gap, " (one seed)" if maf["n"] == 1 else "")
        out.append("| MAF(5) test NLL no worse than the PyTorch MAF's | %.4f bits/dim | %.4f | %s |"
                   % (bpd(maf["nll"]), bpd(pt["nll"]), verdict))
        ok = maf["nll"] < ga["nll"]
        out.append("| MAF(5) test NLL better than MADE gaussian | %.4f bits/dim | %.4f | %s by %.4f bits/dim |"
                   % (bpd(maf["nll"]), bpd(ga["nll"]), "met" if ok else "MISSED",
                      abs(bpd(maf["nll"]) - bpd(ga["nll"]))))
        x = maf["train_eps"] / pt["train_eps"]
        out.append("| training >= 2x the PyTorch MAF's examples/s (wall clock) | %s | %s | %s (%.2fx) |"
                   % (fmt(maf["train_eps"]), fmt(pt["train_eps"]), "met" if x >= 2 else "MISSED", x))
        x = maf["train_eps_cpu"] / pt["train_eps_cpu"]
        out.append("| the same per CPU-second | %s | %s | %s (%.2fx) |"
                   % (fmt(maf["train_eps_cpu"]), fmt(pt["train_eps_cpu"]), "met" if x >= 2 else "MISSED", x))
        x = maf["sample_eps"] / pt["sample_eps"]
        verdict = ("met" if x >= 50 else "MISSED") if E == 784 else "the target is at E = 784"
        out.append("| MAF sampling >= 50x the PyTorch MAF's E-pass sampling at E = %d | %s | %s | %s (%sx) |"
                   % (E, fmt(maf["sample_eps"]), fmt(pt["sample_eps"]), verdict, fmt(x)))
        out.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--made", default=os.path.join(ROOT, "bin", "made"), help="the made program (default bin/made)")
    ap.add_argument("--threads", type=int, default=1, help="threads for every model (default 1)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    ap.add_argument("--data", default="moons,fmnist", help="moons, fmnist or both (default)")
    ap.add_argument("--moons-rows", type=int, default=10000, help="two moons training rows (default 10000)")
    ap.add_argument("--moons-epochs", type=int, default=10, help="epochs on two moons (default 10)")
    ap.add_argument("--moons-seeds", type=int, default=3, help="seeds (runs) per model on two moons (default 3)")
    ap.add_argument("--fmnist-dir", default=FMNIST_DIR, help="directory of the Fashion-MNIST IDX files")
    ap.add_argument("--fmnist-rows", type=int, default=10000,
                    help="first N training images (default 10000; 60000 for the full set)")
    ap.add_argument("--fmnist-test-rows", type=int, default=2000,
                    help="first N test images (default 2000; 10000 for the full set)")
    ap.add_argument("--fmnist-epochs", type=int, default=3, help="epochs on Fashion-MNIST (default 3)")
    ap.add_argument("--fmnist-seeds", type=int, default=1, help="seeds (runs) per model on Fashion-MNIST (default 1)")
    ap.add_argument("--fmnist-hidden", default="512",
                    help="hidden layers of every MADE on Fashion-MNIST (default 512; the MAF paper: 1024)")
    ap.add_argument("--lambda", dest="lam", type=float, default=1e-6, help="logit lambda (default 1e-6)")
    ap.add_argument("--mog", type=int, default=10, help="MADE MoG components on Fashion-MNIST (default 10)")
    ap.add_argument("--made-samples", type=int, default=1000, help="rows made samples at E = 784 (default 1000)")
    ap.add_argument("--torch-samples", type=int, default=2,
                    help="rows PyTorch samples at E = 784 (E passes per layer; default 2)")
    ap.add_argument("--no-nflows", action="store_true", help="no nflows row")
    ap.add_argument("--json-out", help="also write the results as JSON")
    # worker mode (internal)
    ap.add_argument("--worker", choices=["plain", "nflows"], help=argparse.SUPPRESS)
    ap.add_argument("--train", help=argparse.SUPPRESS)
    ap.add_argument("--test", help=argparse.SUPPRESS)
    ap.add_argument("--hidden", help=argparse.SUPPRESS)
    ap.add_argument("--layers", type=int, default=5, help=argparse.SUPPRESS)
    ap.add_argument("--epochs", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--batch-norm", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--sample-rows", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    t = str(a.threads)
    os.environ.update({"OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": "1",
                       "OMP_WAIT_POLICY": "PASSIVE"})
    if a.worker:
        sys.path.insert(0, HERE)
        return worker(a)
    sets = a.data.split(",")
    if not set(sets) <= {"moons", "fmnist"}:
        ap.error("--data: expected moons, fmnist or moons,fmnist")
    if "fmnist" in sets and not os.path.exists(os.path.join(a.fmnist_dir, "train-images-idx3-ubyte.gz")):
        sys.exit("bench-flow: no Fashion-MNIST in %s (Debian package dataset-fashion-mnist, or --fmnist-dir)"
                 % a.fmnist_dir)
    t0 = time.time()
    nf = nflows_python(a)
    out = ["command: %s" % " ".join([os.path.basename(sys.executable)] + sys.argv),
           "load average at start: %s" % " ".join("%.2f" % x for x in os.getloadavg()),
           "nproc: %d; threads per model: %d" % (os.cpu_count(), a.threads), ""]
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        if "moons" in sets:
            res["moons"] = moons(a, tmp, nf, out)
        if "fmnist" in sets:
            res["fmnist"] = fmnist(a, tmp, nf, out)
    verdicts(res, out)
    out.append("total time: %.0f s; load average at the end: %s" % (
        time.time() - t0, " ".join("%.2f" % x for x in os.getloadavg())))
    print("\n".join(out))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({k: {n: {x: y for x, y in r.items() if x != "model"} for n, r in v.items() if r}
                       for k, v in res.items()}, f, indent=1)


if __name__ == "__main__":
    main()
