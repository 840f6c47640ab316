#!/usr/bin/python3
"""made vs PyTorch and TFP, side by side, on the same configurations.

    /usr/bin/python3 bench/bench.py --made build/bench/bench_made [options]

For every configuration (event size E, hidden layers, batch size) and thread
count, each framework's measurement runs in its own subprocess (so peak RSS is
that framework's own):

  made        build/bench/bench_made (C, include/made.h only), one JSON line
  torch-deb   Debian's python3-torch (/usr/bin/python3) on OpenBLAS's OpenMP
              build (libopenblas0-openmp, which make bench installs), this file
              in --torch-worker mode
  torch-pypi  a current PyTorch from PyPI, the same worker under
              --pypi-torch-python PATH, or in a virtual environment this script
              creates under build/bench-venv when PyPI is reachable (unless
              --no-pypi-torch)
  tfp         TFP's own network (tfp.bijectors.AutoregressiveNetwork),
              bench/bench_tfp.py under --tfp-python PATH (TF_USE_LEGACY_KERAS=1)

The PyTorch peer is set up as a PyTorch user would on a small machine: the
masks built the same way (TFP 'equal' degrees, left-to-right), for forward and
sampling the masked weights W * mask computed once and the passes run under
torch.inference_mode(); for training F.linear(x, W * mask, b) per layer (the
mask inside the graph, so gradients stay masked), ReLU, Bernoulli loss (BCE
with logits, summed over dimensions, mean over the batch), Adam. Threads:
torch.set_num_threads(T) with OMP_NUM_THREADS=T, MKL_NUM_THREADS=T,
OPENBLAS_NUM_THREADS=1 (no second thread pool competing with OpenMP's) and
OMP_WAIT_POLICY=PASSIVE (threads sleep instead of spinning at barriers: on a
2-core machine spinning threads steal the core the other thread needs).

Figures are examples per second: forward, training step (forward + loss +
backward + Adam), sampling (made: its one-pass sampler and its naive E-pass
sampler; PyTorch: the usual loop of E full-network passes, drawing
x[:, d] ~ Bernoulli(sigmoid(logit_d)) after pass d). Each measurement is
calibrated on warm calls (after an untimed warm-up call) to about --run-time
seconds per run and repeated --runs times; the median is reported. A PyTorch
sampling run longer than --run-time is timed once.
With --rounds R the whole table is measured R times, one round after another,
and each figure is its median over the rounds (a slow phase of the machine
then falls on the rows it spans in one round only). Each ratio is then the
median of the rounds' own ratios: in a round made and its peers are measured
back to back, so a slow phase that spans the row cancels out of that round's
ratio.
The verdicts compare made with the fastest peer of the same row.
"""

import argparse
import json
import math
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time

DEFAULT_CONFIGS = [
    (784, [500], [100, 1000]),
    (784, [1000, 1000], [100, 1000]),
    (64, [128, 128], [100, 1000]),
]
QUICK_CONFIGS = [
    (784, [500], [100]),
    (64, [128, 128], [100]),
]


def samples_for(e):
    """Samples drawn per sampling run: 100 for image-sized E, 1000 for small E."""
    return 100 if e >= 256 else 1000


def naive_samples_for(e):
    """made's naive (E-pass) reference sampler is slow: few rows for large E."""
    return 10 if e >= 256 else 100


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------

def time_work(fn, run_time, runs):
    """Seconds per call of fn: calibrated so one run lasts about run_time,
    median over runs (also returns min and max)."""
    fn()  # warm-up: the first call also allocates (and TF traces its graph)
    # Calibrated on warm calls: the warm-up alone would leave a slow step one
    # call per run.
    k = 0
    t0 = time.perf_counter()
    while True:
        fn()
        k += 1
        if time.perf_counter() - t0 >= 0.02:
            break
    once = (time.perf_counter() - t0) / k
    iters = max(1, int(run_time / once + 0.5))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        times.append((time.perf_counter() - t0) / iters)
    return statistics.median(times), min(times), max(times)


def tfp_degrees_equal(e, hidden):
    """TFP's _create_degrees(input_order='left-to-right', hidden_degrees='equal')."""
    import numpy as np
    degrees = [np.arange(1, e + 1)]
    for units in hidden:
        min_degree = min(int(np.min(degrees[-1])), e - 1)
        d = np.maximum(min_degree,
                       np.ceil(np.arange(1, units + 1) * (e - 1) / float(units + 1)).astype(np.int32))
        degrees.append(d)
    return degrees


def tfp_masks(e, hidden, params=1):
    """Masks [in, out] as TFP's _create_masks, output layer with params per event."""
    import numpy as np
    degrees = tfp_degrees_equal(e, hidden)
    masks = [(d0[:, None] <= d1[None, :]) for d0, d1 in zip(degrees[:-1], degrees[1:])]
    out = (degrees[-1][:, None] < degrees[0][None, :])
    out = np.repeat(out, params, axis=1)  # [in, E*params], event-major like TFP's layout
    masks.append(out)
    return [m.astype(np.float32) for m in masks]


def rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --------------------------------------------------------------------------
# PyTorch worker (runs in its own process)
# --------------------------------------------------------------------------

def torch_worker(a):
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rss_import = rss_kb()
    e, hidden, batch = a.event_size, a.hidden, a.batch
    masks_np = tfp_masks(e, hidden)
    rng = np.random.default_rng(a.seed)
    weights, biases, masks = [], [], []
    for m in masks_np:
        fan_in, fan_out = m.shape
        limit = (6.0 / (fan_in + fan_out)) ** 0.5  # glorot_uniform, as made and TFP
        w = rng.uniform(-limit, limit, size=(fan_out, fan_in)).astype(np.float32)
        mt = torch.from_numpy(np.ascontiguousarray(m.T))
        weights.append(torch.nn.Parameter(torch.from_numpy(w) * mt))
        biases.append(torch.nn.Parameter(torch.zeros(fan_out)))
        masks.append(mt)
    n_layers = len(weights)

    def net(x, ws):
        h = x
        for l in range(n_layers):
            h = F.linear(h, ws[l], biases[l])
            if l < n_layers - 1:
                h = F.relu(h)
        return h

    def masked():
        return [weights[l] * masks[l] for l in range(n_layers)]

    # Inference: the masked weights computed once, as a user would.
    with torch.inference_mode():
        w_inf = [w.contiguous() for w in masked()]

    x = torch.from_numpy((rng.random((batch, e)) < 0.5).astype(np.float32))
    res = {"framework": "torch", "version": torch.__version__, "event_size": e,
           "hidden": hidden, "batch": batch, "threads": a.threads,
           "torch_threads": torch.get_num_threads(),
           "free_params": int(sum(m.sum() for m in masks_np) + sum(b.numel() for b in biases))}
    meas = set(a.measure.split(","))

    if "forward" in meas:
        def fwd():
            with torch.inference_mode():
                net(x, w_inf)
        t, lo, hi = time_work(fwd, a.run_time, a.runs)
        res.update(forward_eps=batch / t, forward_eps_min=batch / hi, forward_eps_max=batch / lo)

    if "sample" in meas:
        n = a.samples

        def sample():
            with torch.inference_mode():
                xs = torch.zeros(n, e)
                for d in range(e):
                    logits = net(xs, w_inf)
                    xs[:, d] = torch.bernoulli(torch.sigmoid(logits[:, d]))
            return xs

        with torch.inference_mode():  # warm-up: a few passes of the network
            for _ in range(3):
                net(torch.zeros(n, e), w_inf)
        t0 = time.perf_counter()
        sample()
        once = time.perf_counter() - t0
        if once >= a.run_time:
            res.update(samples=n, sample_eps=n / once, sample_runs=1)
        else:
            t, lo, hi = time_work(sample, a.run_time, a.runs)
            res.update(samples=n, sample_eps=n / t, sample_eps_min=n / hi,
                       sample_eps_max=n / lo, sample_runs=a.runs)

    if "train" in meas:
        params = weights + biases
        opt = torch.optim.Adam(params, lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            logits = net(x, masked())
            loss = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1).mean()
            loss.backward()
            opt.step()
        t, lo, hi = time_work(step, a.run_time, a.runs)
        res.update(train_eps=batch / t, train_eps_min=batch / hi, train_eps_max=batch / lo)

    res["peak_rss_kb"] = rss_kb()
    res["rss_after_import_kb"] = rss_import
    # Which BLAS this torch really calls (Debian's is built against the system one).
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if "blas" in os.path.basename(p) or "mkl" in os.path.basename(p):
                    libs.add(os.path.realpath(p))
    except OSError:
        pass
    res["blas_libs"] = sorted(libs)
    print(json.dumps(res))


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def parse_config(text):
    """E:H1,H2:B1,B2  e.g. 784:1000,1000:100,1000"""
    try:
        e, h, b = text.split(":")
        return (int(e), [int(v) for v in h.split(",") if v], [int(v) for v in b.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError("expected E:H1[,H2...]:B1[,B2...], got %r" % text)


def hidden_str(h):
    return "[" + ", ".join(str(v) for v in h) + "]"


def cpu_busy_seconds():
    """Busy CPU time of the whole machine so far (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


RETRY = {"busy": 0.25, "tries": 3, "wait": 10.0, "wait_budget": 60.0, "waited": 0.0,
         "retry_budget": 60.0, "retried": 0.0}


def wait_for_quiet():
    """Waits (at most RETRY["wait"] s per call and RETRY["wait_budget"] s in all)
    until other processes use less than RETRY["busy"] cores over half a second."""
    t_end = time.perf_counter() + min(RETRY["wait"], RETRY["wait_budget"] - RETRY["waited"])
    t_start = time.perf_counter()
    while True:
        b0, o0, t0 = cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter()
        if b0 is None:
            return
        time.sleep(0.5)
        b1, o1, t1 = cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter()
        if ((b1 - b0) - (o1 - o0)) / (t1 - t0) <= RETRY["busy"] or t1 >= t_end:
            break
    RETRY["waited"] += time.perf_counter() - t_start


def run_json(cmd, env_extra=None, timeout=900):
    """Runs one measurement subprocess and returns its JSON line as a dict.
    Other processes on the machine distort the figures (with 2 threads a busy
    core stalls made's and torch's barriers), so the CPU time used by others
    during the run is measured from /proc/stat ("other_load", in cores), and a
    run with more than RETRY["busy"] cores of it is repeated (up to
    RETRY["tries"] runs in all), keeping the quietest."""
    best = None
    for _ in range(max(1, RETRY["tries"])):
        wait_for_quiet()
        r = run_json_once(cmd, env_extra, timeout)
        if r is None:
            return best
        if best is None or r["other_load"] < best["other_load"]:
            best = r
        if best["other_load"] <= RETRY["busy"]:
            break
        if RETRY["retried"] + r["wall_s"] > RETRY["retry_budget"]:
            break  # a machine that stays busy: keep what we have
        RETRY["retried"] += r["wall_s"]
        sys.stderr.write("bench:   other processes used %.2f cores during that run; "
                         "running it again\n" % r["other_load"])
    return best


def run_json_once(cmd, env_extra=None, timeout=900):
    env = dict(os.environ)
    if env_extra:
        env.update(env_extra)
    busy0, own0 = cpu_busy_seconds(), own_cpu_seconds()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                       timeout=timeout)
    dt = time.perf_counter() - t0
    busy1, own1 = cpu_busy_seconds(), own_cpu_seconds()
    other = max(0.0, (busy1 - busy0) - (own1 - own0)) / dt if busy0 is not None else 0.0
    if p.returncode != 0:
        sys.stderr.write("bench: command failed (%d): %s\n%s" %
                         (p.returncode, " ".join(shlex.quote(c) for c in cmd), p.stderr[-4000:]))
        return None
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        sys.stderr.write("bench: no JSON from %s\n%s" % (cmd[0], p.stdout[-2000:]))
        return None
    r = json.loads(lines[-1])
    r["wall_s"] = dt
    r["other_load"] = other
    return r


def thread_env(t):
    """The peers' threading as a user would set it on a small machine (see the
    module docstring)."""
    return {"OMP_NUM_THREADS": str(t), "MKL_NUM_THREADS": str(t), "OPENBLAS_NUM_THREADS": "1",
            "OMP_WAIT_POLICY": "PASSIVE"}


def pypi_torch_python(here, quiet):
    """build/bench-venv/bin/python with a current PyTorch from PyPI: created
    (python3 -m venv, pip install torch numpy) when missing and PyPI is
    reachable; None otherwise."""
    venv = os.path.join(os.path.dirname(here), "build", "bench-venv")
    py = os.path.join(venv, "bin", "python")
    check = [py, "-c", "import torch, numpy"]
    if os.path.exists(py) and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    try:
        import urllib.request
        urllib.request.urlopen("https://pypi.org/simple/torch/", timeout=10).close()
    except Exception as ex:  # offline, proxy, DNS ...
        sys.stderr.write("bench: PyPI is not reachable (%s): no torch-pypi column\n" % ex)
        return None
    if not quiet:
        sys.stderr.write("bench: creating %s with a current PyTorch from PyPI (once)\n" % venv)
    steps = [[sys.executable, "-m", "venv", venv],
             [py, "-m", "pip", "install", "-q", "torch", "numpy"]]
    for cmd in steps:
        if subprocess.run(cmd).returncode != 0:
            sys.stderr.write("bench: %s failed: no torch-pypi column\n" % " ".join(cmd))
            return None
    return py if subprocess.run(check, capture_output=True).returncode == 0 else None


def machine_info():
    cpu = "?"
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu == "?":
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    fl = line.split(":", 1)[1].split()
                    flags = " ".join(x for x in ("avx", "avx2", "fma", "avx512f") if x in fl)
    except OSError:
        pass
    try:
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
    except OSError:
        load = ["?"] * 3
    return {"cpu": cpu, "flags": flags, "nproc": os.cpu_count(), "load": load,
            "kernel": platform.release(), "python": platform.python_version()}


def source_revision(here):
    """ ", source <commit>[-dirty]" when bench/ sits in a git work tree."""
    try:
        p = subprocess.run(["git", "-C", here, "describe", "--always", "--dirty"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=10)
        return ", source %s" % p.stdout.strip() if p.returncode == 0 and p.stdout.strip() else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def fmt(v, digits=3):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.*g" % (digits, v)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    """Two decimals below 10x, rounded down, so a ratio just short of the 2x
    target (1.97x, 1.996x) never reads as 2x."""
    if r is None:
        return "-"
    if r < 10:
        return "%.2fx" % (math.floor(r * 100 + 1e-9) / 100)  # 2.01 * 100 is 200.99999...
    return "%.1fx" % r if r < 100 else "%.0fx" % r


def render_table(header, rows, markdown):
    if markdown:
        out = ["| " + " | ".join(header) + " |",
               "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def over_rounds(rs):
    """One result from a measurement's results in several rounds: each
    figure's median over the rounds (for an odd count, one round's figure),
    other_load the largest. A value every round shares (the configuration:
    batch, samples, ...) is kept as it is, an int staying an int."""
    if len(rs) == 1:
        return rs[0]
    out = dict(rs[0])
    for k, v in rs[0].items():
        vals = [r[k] for r in rs if is_number(r.get(k))]
        if is_number(v) and len(vals) == len(rs) and len(set(vals)) > 1:
            out[k] = max(vals) if k == "other_load" else statistics.median(vals)
    out["rounds"] = len(rs)
    return out


def paired_ratio(made_rs, peer_rs, key):
    """made / the fastest peer for a figure: the median of each round's own
    ratio, made and its peers measured back to back in that round (a slow
    phase of the machine that spans a row then cancels out), over the rounds
    where both were measured (with one round, its ratio); None when there are
    none."""
    ratios = []
    for r in made_rs:
        peers = {n: x for n, rs in peer_rs.items() for x in rs if x.get("round") == r.get("round")}
        bv, _ = best_peer(peers, key)
        rt = ratio(r.get(key), bv)
        if rt is not None:
            ratios.append(rt)
    return statistics.median(ratios) if ratios else None


def best_peer(peers, key):
    """(value, name) of the fastest peer for a figure, or (None, None)."""
    vals = [(r.get(key), name) for name, r in peers.items() if r and r.get(key)]
    return max(vals) if vals else (None, None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--made", default="build/bench/bench_made", help="bench_made binary")
    ap.add_argument("--config", action="append", type=parse_config, metavar="E:H:B",
                    help="configuration E:H1[,H2..]:B1[,B2..] (repeatable); default: the "
                         "six configurations of BENCHMARKS.md")
    ap.add_argument("--threads", default="1,2", help="thread counts, comma separated (1,2)")
    ap.add_argument("--quick", action="store_true",
                    help="about one minute: E=784 [500] and E=64 [128,128] at batch 100, "
                         "shorter runs, no naive sampler")
    ap.add_argument("--run-time", type=float, default=None,
                    help="seconds per timed run (0.2; 0.1 with --quick)")
    ap.add_argument("--runs", type=int, default=None, help="timed runs per figure (5; 3 with --quick)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure the whole table this many times, one round after another, "
                         "and report each figure's median over the rounds, each ratio the "
                         "median of the rounds' own ratios (%(default)s)")
    ap.add_argument("--no-torch", action="store_true", help="no PyTorch peer at all")
    ap.add_argument("--deb-torch-python", default="/usr/bin/python3", metavar="PATH",
                    help="python with Debian's python3-torch (%(default)s; 'none' to skip)")
    ap.add_argument("--pypi-torch-python", metavar="PATH",
                    help="python with a current PyTorch from PyPI (default: build/bench-venv, "
                         "created when PyPI is reachable)")
    ap.add_argument("--no-pypi-torch", action="store_true",
                    help="no torch-pypi column (and no virtual environment)")
    ap.add_argument("--no-sample", action="store_true", help="skip the sampling measurements")
    ap.add_argument("--no-naive", action="store_true", help="skip made's naive sampler")
    ap.add_argument("--tfp-python", metavar="PATH",
                    help="python with tensorflow + tf-keras + tensorflow-probability: also run "
                         "bench/bench_tfp.py")
    ap.add_argument("--markdown", action="store_true", help="print the tables in Markdown")
    ap.add_argument("--json-out", metavar="FILE", help="also write every raw result to FILE")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--busy", type=float, default=RETRY["busy"], metavar="CORES",
                    help="repeat a measurement when other processes used more than this many "
                         "cores during it (%(default)s)")
    ap.add_argument("--tries", type=int, default=RETRY["tries"],
                    help="runs of a measurement at most, keeping the quietest (%(default)s)")
    ap.add_argument("--wait", type=float, default=RETRY["wait"], metavar="SEC",
                    help="before each measurement, wait up to SEC seconds for other processes "
                         "to go quiet (%(default)s)")
    ap.add_argument("--wait-budget", type=float, default=RETRY["wait_budget"], metavar="SEC",
                    help="total waiting allowed over the whole run (%(default)s)")
    ap.add_argument("--retry-budget", type=float, default=RETRY["retry_budget"], metavar="SEC",
                    help="total time of repeated runs allowed over the whole run (%(default)s)")
    # worker mode (internal)
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--event-size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--hidden", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--samples", type=int, default=100, help=argparse.SUPPRESS)
    ap.add_argument("--measure", default="forward,train", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.run_time is None:
        a.run_time = 0.1 if a.quick else 0.2
    if a.runs is None:
        a.runs = 3 if a.quick else 5

    if a.rounds < 1:
        ap.error("--rounds must be at least 1, not %d" % a.rounds)

    if a.torch_worker:
        a.hidden = [int(v) for v in a.hidden.split(",") if v]
        a.threads = int(a.threads)
        torch_worker(a)
        return 0

    RETRY["busy"], RETRY["tries"] = a.busy, a.tries
    RETRY["wait"], RETRY["wait_budget"] = a.wait, a.wait_budget
    RETRY["retry_budget"] = a.retry_budget
    configs = a.config or (QUICK_CONFIGS if a.quick else DEFAULT_CONFIGS)
    threads = [int(t) for t in a.threads.split(",")]
    no_naive = a.no_naive or a.quick
    here = os.path.dirname(os.path.abspath(__file__))
    cmdline = " ".join(shlex.quote(c) for c in [sys.executable] + sys.argv)
    mi = machine_info()
    t_start = time.perf_counter()
    if float(mi["load"][0]) > 0.5:
        sys.stderr.write("bench: warning: load average is %s: other processes are running and "
                         "will slow the figures down\n" % mi["load"][0])

    # The peers: name -> (command prefix, extra environment).
    peers = {}
    if not a.no_torch:
        if a.deb_torch_python != "none":
            peers["torch-deb"] = ([a.deb_torch_python, os.path.abspath(__file__), "--torch-worker"], {})
        pypi = None if a.no_pypi_torch else (a.pypi_torch_python or pypi_torch_python(here, False))
        if pypi:
            peers["torch-pypi"] = ([pypi, os.path.abspath(__file__), "--torch-worker"], {})
    if a.tfp_python:
        peers["tfp"] = ([a.tfp_python, os.path.join(here, "bench_tfp.py")],
                        {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_USE_LEGACY_KERAS": "1"})
    sampling_peers = [p for p in peers if p.startswith("torch")]

    results = []  # raw dicts
    made_rows, peer_rows, samp_made, samp_peer = {}, {}, {}, {}
    common = ["--run-time", str(a.run_time), "--runs", str(a.runs)]

    def progress(msg):
        sys.stderr.write("[%6.1fs] %s\n" % (time.perf_counter() - t_start, msg))
        sys.stderr.flush()

    def one_round(rnd, rtag):
        """Every row of the table once: made, then each peer; then sampling."""
        for e, hidden, batches in configs:
            hs = ",".join(str(v) for v in hidden)
            for t in threads:
                for b in batches:
                    key = (e, tuple(hidden), b, t)
                    shape = ["--event-size", str(e), "--hidden", hs, "--batch", str(b),
                             "--threads", str(t), "--seed", str(a.seed)] + common
                    row = "E=%d hidden=%s batch=%d threads=%d" % (e, hidden_str(hidden), b, t)
                    progress("%smade  %s" % (rtag, row))
                    # made runs under the same thread environment as the peers.
                    r = run_json([a.made, "--measure", "forward,train,peak"] + shape, thread_env(t))
                    if r:
                        r["round"] = rnd
                        made_rows.setdefault(key, []).append(r)
                        results.append(r)
                    for name, (cmd, env) in peers.items():
                        progress("%s%-5s %s" % (rtag, name, row))
                        extra = ["--measure", "forward,train"] if name.startswith("torch") else []
                        r = run_json(cmd + extra + shape, dict(thread_env(t), **env))
                        if r:
                            r["peer"] = name
                            r["round"] = rnd
                            peer_rows.setdefault(key, {}).setdefault(name, []).append(r)
                            results.append(r)
                if a.no_sample:
                    continue
                skey = (e, tuple(hidden), t)
                ns = samples_for(e)
                shape = ["--event-size", str(e), "--hidden", hs, "--batch", "1",
                         "--threads", str(t), "--samples", str(ns), "--seed", str(a.seed)] + common
                row = "sampling E=%d hidden=%s samples=%d threads=%d" % (e, hidden_str(hidden),
                                                                         ns, t)
                progress("%smade  %s" % (rtag, row))
                meas = "sample" if no_naive else "sample,naive"
                r = run_json([a.made, "--measure", meas, "--naive-samples",
                              str(naive_samples_for(e))] + shape, thread_env(t))
                if r:
                    samp_made.setdefault(skey, []).append(r)
                    results.append(r)
                for name in sampling_peers:
                    cmd, env = peers[name]
                    progress("%s%-5s %s" % (rtag, name, row))
                    r = run_json(cmd + ["--measure", "sample"] + shape, dict(thread_env(t), **env))
                    if r:
                        r["peer"] = name
                        samp_peer.setdefault(skey, {}).setdefault(name, []).append(r)
                        results.append(r)

    # Each round measures the whole table, so a slow phase of the machine
    # (memory-bound figures here moved by up to 40% within minutes) falls on
    # the rows it spans in one round, and each figure's median over the
    # rounds leaves it out.
    for rnd in range(a.rounds):
        one_round(rnd, "round %d/%d: " % (rnd + 1, a.rounds) if a.rounds > 1 else "")
    made_raw, peer_raw = made_rows, peer_rows
    made_rows = {k: over_rounds(v) for k, v in made_rows.items()}
    peer_rows = {k: {n: over_rounds(v) for n, v in pr.items()} for k, pr in peer_rows.items()}
    samp_made = {k: over_rounds(v) for k, v in samp_made.items()}
    samp_peer = {k: {n: over_rounds(v) for n, v in pr.items()} for k, pr in samp_peer.items()}

    elapsed = time.perf_counter() - t_start
    any_made = next(iter(made_rows.values()), None) or next(iter(samp_made.values()), None)
    any_peer = {}
    for rows in list(peer_rows.values()) + list(samp_peer.values()):
        for name, r in rows.items():
            any_peer.setdefault(name, r)
    peer_names = list(peers)

    md = a.markdown
    out = []
    h = (lambda s: out.append("### " + s)) if md else (lambda s: out.append("== " + s))
    h("made vs PyTorch and TFP")
    info = [
        ("command", cmdline),
        ("cpu", "%s (%s), nproc %s" % (mi["cpu"], mi["flags"], mi["nproc"])),
        ("load average at start", " ".join(mi["load"])),
        ("priority", "nice %d" % os.nice(0)),
        ("kernel / python", "%s / %s" % (mi["kernel"], mi["python"])),
        ("made", ("%s%s, kernel path %s" % (any_made["version"], source_revision(here),
                                             any_made.get("kernel", "?"))) if any_made else "-"),
    ]
    for name in peer_names:
        r = any_peer.get(name)
        if name == "tfp":
            v = ("tensorflow %s, tensorflow-probability %s (%s)" %
                 (r["tf_version"], r["tfp_version"], a.tfp_python)) if r else "failed"
        else:
            v = ("%s (%s), BLAS: %s" % (r["version"], peers[name][0][0],
                                        ", ".join(r["blas_libs"]) or "?")) if r else "failed"
        info.append((name, v))
    if not a.tfp_python:
        info.append(("tfp", "skipped (give --tfp-python PATH to run bench/bench_tfp.py)"))
    info += [
        ("threads", "made_model_set_threads(T) / torch.set_num_threads(T) / TF intra-op T; "
                    "every framework runs with OMP_NUM_THREADS=T, MKL_NUM_THREADS=T, "
                    "OPENBLAS_NUM_THREADS=1, OMP_WAIT_POLICY=PASSIVE"),
        ("timing", ("median of %d runs of ~%.2f s each; examples/s" % (a.runs, a.run_time)) +
         ("; the table measured %d times, one round after another, each figure the median "
          "over the rounds, and each ratio the median of the rounds' own ratios (made and "
          "its peers measured back to back)" % a.rounds if a.rounds > 1 else "")),
        ("other load", "CPU used by other processes during each measurement, in cores "
                       "(from /proc/stat); each measurement waits up to %.0f s for a quiet "
                       "machine, and runs above %.2f were repeated, up to %d tries, keeping the "
                       "quietest" % (a.wait, a.busy, a.tries)),
        ("total time", "%.0f s (%.0f s of it waiting for other processes to go quiet, "
         "%.0f s in repeated runs)" % (elapsed, RETRY["waited"], RETRY["retried"])),
    ]
    if md:
        out += ["- %s: `%s`" % (k, v) if k == "command" else "- %s: %s" % (k, v) for k, v in info]
    else:
        out += ["%-22s %s" % (k + ":", v) for k, v in info]
    out.append("")

    verdict = {"fwd": [], "train": []}
    for what, key in (("Forward", "forward_eps"), ("Training", "train_eps")):
        h("%s (examples/s; ratio = made / the fastest peer of the row%s)" % (
            what, ", the median of its rounds' own ratios" if a.rounds > 1 else ""))
        header = ["config", "batch", "thr", "made"] + peer_names + ["fastest peer", "ratio",
                                                                      "other load"]
        rows = []
        for k, r in made_rows.items():
            e, hid, b, t = k
            pr = peer_rows.get(k, {})
            _, bn = best_peer(pr, key)
            rt = paired_ratio(made_raw[k], peer_raw.get(k, {}), key)
            if rt is not None:
                verdict["fwd" if key == "forward_eps" else "train"].append((k, rt))
            load = max([r.get("other_load", 0)] + [x.get("other_load", 0) for x in pr.values()])
            rows.append(["E=%d %s" % (e, hidden_str(hid)), str(b), str(t), fmt(r.get(key))] +
                        [fmt(pr.get(n, {}).get(key)) for n in peer_names] +
                        [bn or "-", fmt_ratio(rt), "%.2f" % load])
        out += [render_table(header, rows, md), ""]

    h("Forward GFLOP/s and peak RSS (MiB)")
    out.append("unmasked = 2 x batch x unmasked kernel entries / time (the work that is "
               "needed); dense-eq. = 2 x batch x all kernel entries / time (what a dense "
               "product needs); FMA peak = one core's measured peak (bench_made, 12 chains of "
               "256-bit FMAs); RSS: peak, and for peers also above the RSS right after their "
               "imports.")
    out.append("")
    header = ["config", "batch", "thr", "unmasked", "dense-eq.", "FMA peak (1 core)",
              "unmasked / (T x peak)", "RSS made"] + ["RSS %s (above import)" % n for n in peer_names]
    rows = []
    eff = []
    for k, r in made_rows.items():
        e, hid, b, t = k
        pr = peer_rows.get(k, {})
        um, pk = r.get("forward_gflops_unmasked"), r.get("fma_peak_gflops")
        frac = um / (t * pk) if um and pk else None
        if frac is not None and t == 1:
            eff.append((k, frac))
        cells = []
        for n in peer_names:
            x = pr.get(n)
            cells.append("%s (%s)" % (fmt(x["peak_rss_kb"] / 1024.0),
                                      fmt((x["peak_rss_kb"] - x["rss_after_import_kb"]) / 1024.0))
                         if x else "-")
        rows.append(["E=%d %s" % (e, hidden_str(hid)), str(b), str(t), fmt(um),
                     fmt(r.get("forward_gflops_dense")), fmt(pk),
                     "-" if frac is None else "%.0f%%" % (100 * frac),
                     fmt(r.get("peak_rss_kb", 0) / 1024.0)] + cells)
    out += [render_table(header, rows, md), ""]

    if samp_made or samp_peer:
        h("Sampling (examples/s; made: one-pass sampler and its naive E-pass sampler; "
          "PyTorch: the E-pass loop)")
        header = (["config", "samples", "thr", "made", "made naive (rows)"] +
                  ["%s E-pass" % n for n in sampling_peers] +
                  ["made / fastest torch", "made / made naive", "other load"])
        rows = []
        for k in list(dict.fromkeys(list(samp_made) + list(samp_peer))):
            e, hid, t = k
            r, pr = samp_made.get(k, {}), samp_peer.get(k, {})
            naive = ("%s (%d)" % (fmt(r["naive_eps"]), r["naive_samples"])) if "naive_eps" in r else "-"
            bv, _ = best_peer(pr, "sample_eps")
            load = max([r.get("other_load", 0)] + [x.get("other_load", 0) for x in pr.values()])
            rows.append(["E=%d %s" % (e, hidden_str(hid)),
                         str(r.get("samples", next(iter(pr.values()), {}).get("samples"))), str(t),
                         fmt(r.get("sample_eps")), naive] +
                        [fmt(pr.get(n, {}).get("sample_eps")) for n in sampling_peers] +
                        [fmt_ratio(ratio(r.get("sample_eps"), bv)),
                         fmt_ratio(ratio(r.get("sample_eps"), r.get("naive_eps"))),
                         "%.2f" % load])
        out += [render_table(header, rows, md), ""]

    h("Verdicts (fastest peer of each row)")
    for name, lst, goal in (("forward >= 2x", verdict["fwd"], 2.0),
                            ("training >= 2x", verdict["train"], 2.0)):
        if not lst:
            out.append("- %s: no peer measured" % name)
            continue
        miss = [(k, v) for k, v in lst if v < goal]
        (e, hid, b, t), low = min(lst, key=lambda kv: kv[1])
        out.append("- %s: %s (%d of %d rows met; lowest %s at E=%d %s batch %d, %d thread%s)" % (
            name, "met" if not miss else "MISSED in %d rows" % len(miss), len(lst) - len(miss),
            len(lst), fmt_ratio(low), e, hidden_str(hid), b, t, "" if t == 1 else "s"))
    e784 = [(k, f) for k, f in eff if k[0] == 784]
    if e784:
        out.append("- >= 80%% of the FMA peak on unmasked work, 1 thread, E=784: %s (%s)" % (
            "met" if all(f >= 0.8 for _, f in e784) else "MISSED",
            ", ".join("%s b%d %.0f%%" % (hidden_str(k[1]), k[2], 100 * f) for k, f in e784)))

    if made_rows and peer_rows:
        same = all(x.get("free_params") == made_rows[k].get("free_params")
                   for k, pr in peer_rows.items() if k in made_rows
                   for n, x in pr.items() if n.startswith("torch"))
        out.append("")
        out.append("Mask check: made's and PyTorch's unmasked parameter counts %s." %
                   ("agree in every configuration" if same else "DIFFER"))
    print("\n".join(out))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"command": cmdline, "machine": mi, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
