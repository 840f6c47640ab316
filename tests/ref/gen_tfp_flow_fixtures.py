#!/usr/bin/env python3
"""Generate flow fixtures from the real tfp.bijectors.MaskedAutoregressiveFlow.

How to run (from the repo root; TensorFlow is only needed to REGENERATE):

    python3.11 -m venv /work/venv-tfp
    /work/venv-tfp/bin/pip install -r tests/ref/requirements.txt
    TF_USE_LEGACY_KERAS=1 /work/venv-tfp/bin/python tests/ref/gen_tfp_flow_fixtures.py

Each case is a stack
    tfd.TransformedDistribution(N(0, I_E),
        tfb.Chain([L_{K-1}, Permute(p_{K-2}), ..., Permute(p_0), L_0]))
with L_k = tfb.MaskedAutoregressiveFlow(AutoregressiveNetwork(params=2, ...))
(MAF) or tfb.Invert of it (IAF), one conditional input handed to every layer.
Permutations are made's kinds: 'reverse', or 'random' where gap k is
np.random.RandomState(perm_seed + k).permutation(E), or 'explicit'.

Writes tests/fixtures/tfp-flows/<name>.json and index.txt. JSON per case:
  name, kind (maf|iaf), K, E, C, hidden, activation, permutation
  (reverse|random|explicit), perm_seed, permutations [[...]] (K-1 lists),
  layers: [[{shape, data}, ...]] each network's get_weights() (kernels masked),
  y {shape [N,E], data}, c {shape [N,C], data} or null, log_prob [N],
  z {shape [M,E]} base noise, cz (conditions for z) or null, forward [M,E].
"""
import json
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402
from importlib import metadata  # noqa: E402

tfb, tfd = tfp.bijectors, tfp.distributions
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "tfp-flows"))


def case(name, kind, K, E, C=0, hidden=(8,), act="relu", perm="reverse", perm_seed=0,
         explicit=None, seed=0):
    return dict(name=name, kind=kind, K=K, E=E, C=C, hidden=list(hidden), act=act,
                perm=perm, perm_seed=perm_seed, explicit=explicit, seed=seed)


CASES = []
for kind in ("maf", "iaf"):
    for K in (1, 2, 3, 4):
        CASES.append(case(f"{kind}{K}-reverse", kind, K, 4, seed=K))
        CASES.append(case(f"{kind}{K}-random-cond", kind, K, 5, C=2, hidden=(6, 5),
                          act="tanh", perm="random", perm_seed=10 + K, seed=20 + K))
    CASES.append(case(f"{kind}3-explicit-cond1", kind, 3, 3, C=1, hidden=(7,), act="relu",
                      perm="explicit", explicit=[2, 0, 1], seed=31))
    CASES.append(case(f"{kind}2-E1-cond", kind, 2, 1, C=2, hidden=(4,), act="tanh", seed=41))


def permutations(c):
    E, K = c["E"], c["K"]
    out = []
    for k in range(K - 1):
        if c["perm"] == "reverse":
            out.append(list(range(E - 1, -1, -1)))
        elif c["perm"] == "random":
            out.append([int(v) for v in np.random.RandomState(c["perm_seed"] + k).permutation(E)])
        else:
            out.append(list(c["explicit"]))
    return out


def tensor(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def build(c, rng):
    """K networks with random weights (masked entries stay 0) and the chain."""
    E, C, K = c["E"], c["C"], c["K"]
    nets, layers = [], []
    for k in range(K):
        kw = dict(params=2, event_shape=[E], hidden_units=c["hidden"], activation=c["act"],
                  name=f"net{k}")
        if C:
            kw.update(conditional=True, conditional_event_shape=[C])
        net = tfb.AutoregressiveNetwork(**kw)
        net.build([None, E])  # builds the masked layers
        ws = []
        for w in net.get_weights():
            # Kernels come masked by their initializer: keep zeros at zero.
            # Halved glorot kernels and small random biases: log-scales of
            # order one, so densities stay in a range float32 computes well.
            noise = rng.normal(0.0, 0.2, w.shape).astype(np.float32)
            if w.ndim == 2:
                ws.append(np.where(w != 0, 0.5 * w + 0.1 * noise, 0.0).astype(np.float32))
            else:
                ws.append((w + noise).astype(np.float32))
        net.set_weights(ws)
        nets.append(net)
        layers.append([tensor(w) for w in ws])
    return nets, layers


def chain(c, nets, perms):
    bs = []
    for k in range(c["K"]):
        maf = tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=nets[k], name=f"maf{k}")
        bs.append(tfb.Invert(maf, name=f"layer{k}") if c["kind"] == "iaf" else maf)
        if k < c["K"] - 1:
            bs.append(tfb.Permute(permutation=perms[k], name=f"perm{k}"))
    return tfb.Chain(list(reversed(bs)))


def kwargs(c, cond):
    if not c["C"]:
        return {}
    inner = {"conditional_input": cond}
    if c["kind"] == "iaf":
        return {f"layer{k}": inner for k in range(c["K"])}
    return {f"maf{k}": inner for k in range(c["K"])}


def run(c):
    rng = np.random.RandomState(c["seed"])
    E, C = c["E"], c["C"]
    nets, layers = build(c, rng)
    perms = permutations(c)
    ch = chain(c, nets, perms)
    dist = tfd.TransformedDistribution(tfd.MultivariateNormalDiag(loc=tf.zeros(E)), ch)
    N, M = 6, 5
    y = rng.normal(0.0, 1.0, (N, E)).astype(np.float32)
    cy = rng.normal(0.0, 1.0, (N, C)).astype(np.float32) if C else None
    z = rng.normal(0.0, 1.0, (M, E)).astype(np.float32)
    cz = rng.normal(0.0, 1.0, (M, C)).astype(np.float32) if C else None
    lp = dist.log_prob(y, bijector_kwargs=kwargs(c, cy)).numpy()
    fw = ch.forward(z, **kwargs(c, cz)).numpy()
    return {
        "name": c["name"], "kind": c["kind"], "K": c["K"], "E": E, "C": C,
        "hidden": c["hidden"], "activation": c["act"], "permutation": c["perm"],
        "perm_seed": c["perm_seed"], "permutations": perms, "layers": layers,
        "y": tensor(y), "c": tensor(cy) if C else None, "log_prob": [float(v) for v in lp],
        "z": tensor(z), "cz": tensor(cz) if C else None, "forward": tensor(fw),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    names = []
    for c in CASES:
        d = run(c)
        if not np.all(np.isfinite(d["log_prob"])) or not np.all(np.isfinite(d["forward"]["data"])):
            raise SystemExit(f"{c['name']}: non-finite reference values")
        with open(os.path.join(OUT, c["name"] + ".json"), "w") as f:
            json.dump(d, f, separators=(",", ":"))
        names.append(c["name"] + ".json")
    with open(os.path.join(OUT, "index.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    with open(os.path.join(OUT, "VERSIONS.txt"), "w") as f:
        for p in ("tensorflow-cpu", "tf-keras", "tensorflow-probability", "numpy"):
            f.write(f"{p} {metadata.version(p)}\n")
        f.write(f"python {platform.python_version()}\n")
    print(f"wrote {len(names)} cases to {OUT}")


if __name__ == "__main__":
    main()
