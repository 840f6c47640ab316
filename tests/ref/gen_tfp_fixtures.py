#!/usr/bin/env python3
"""Generate reference fixtures from the real tfp.bijectors.AutoregressiveNetwork.

How to run (from the repo root; TensorFlow is only needed to REGENERATE):

    python3.11 -m venv /work/venv-tfp
    /work/venv-tfp/bin/pip install -r tests/ref/requirements.txt
    /work/venv-tfp/bin/python tests/ref/gen_tfp_fixtures.py

Writes one JSON file per case into tests/fixtures/tfp/<case-name>.json,
tests/fixtures/tfp/index.txt (file names, one per line) and
tests/fixtures/tfp/VERSIONS.txt.

JSON layout per case:
  name, config{event_size, params, hidden_units, input_order, hidden_degrees,
  activation, use_bias, conditional_size, conditional_layers, seed},
  input_order (1-based), degrees (one list per hidden layer),
  masks [{shape:[in,out], data:[0/1 row-major]}] (one per autoregressive Dense),
  weights [{shape, data}] (exactly layer.get_weights() order),
  x {shape:[N,E], data}, c {shape:[N,C], data} or null,
  y {shape:[N,E,P], data}.

Big cases (big_cases(): E >= 100, layers wider than 64 and 256 units, more
than 256 rows, conditional, random/explicit orders, random degrees) keep the
JSON small: "masks" is the string "weights" (every unmasked kernel entry is
non-zero, so the kernels' non-zero pattern is the mask), "weight_shapes" lists
the shapes and "weights", "x", "c", "y" are {"npy": FILE}: float32 .npy files
<case-name>.weights.npy (all weights flattened and concatenated in
get_weights() order), .x.npy, .c.npy, .y.npy in the same directory.

Weight order of get_weights() (verified below against the variables' Dense
layers, for every case):
  unconditional:            [W_1, b_1, ..., W_out, b_out]
  conditional 'all_layers': [W_1, b_1, V_1, ..., W_out, b_out, V_out]
  conditional 'first_layer':[W_1, b_1, V_1, W_2, b_2, ..., W_out, b_out]
  (b_k absent when use_bias=False; with no hidden layer V belongs to the
  output layer.)
"""
import json
import os
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402
from tensorflow_probability.python.bijectors import masked_autoregressive as ma  # noqa: E402
from tensorflow_probability.python.internal import tf_keras  # noqa: E402
import math  # noqa: E402
from importlib import metadata  # noqa: E402

erf = np.vectorize(math.erf)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "tfp"))

# ---------------------------------------------------------------------------
# Case grid
# ---------------------------------------------------------------------------


def case(name, E, P=2, hidden=(), order="left-to-right", degrees="equal",
         act="relu", bias=True, C=0, cl="all_layers", seed=0, N=4, xs=3.0, big=False):
    return dict(name=name, E=E, P=P, hidden=list(hidden), order=order,
                degrees=degrees, act=act, bias=bias, C=C, cl=cl, seed=seed,
                N=N, xs=xs, big=big)


def big_cases():
    """Networks that take every code path of made's kernels: E >= 100, layers
    wider than a 64-column panel and than 256 units, batches of more than one
    256-row chunk, conditional inputs, random and explicit orders, random
    degrees. Their tensors go to .npy files (see write_big)."""
    perm = [int(v) for v in np.random.default_rng(77).permutation(120) + 1]
    return [
        case("big-E100-h300-order-random-degrees-random", 100, P=2, hidden=[300],
             order="random", degrees="random", seed=7, N=300, xs=1.0, big=True),
        case("big-E120-h80-70-cond-all-explicit-tanh", 120, P=1, hidden=[80, 70],
             order=perm, C=5, cl="all_layers", act="tanh", N=260, xs=1.0, big=True),
        case("big-E100-h260-40-cond-first-r2l-degrees-random-P3", 100, P=3, hidden=[260, 40],
             order="right-to-left", degrees="random", seed=3, C=4, cl="first_layer",
             act="gelu", N=257, xs=1.0, big=True),
        case("big-E128-h96-order-random-s11-N513", 128, P=1, hidden=[96], order="random",
             seed=11, act="sigmoid", N=513, xs=1.0, big=True),
    ]


def build_cases():
    cs = []
    # --- input orders / hidden degrees (E=4, hidden [5,3]) ---
    cs.append(case("order-l2r-equal", 4, hidden=[5, 3]))
    cs.append(case("order-r2l-equal", 4, hidden=[5, 3], order="right-to-left"))
    cs.append(case("order-explicit-3142-equal", 4, hidden=[5, 3], order=[3, 1, 4, 2]))
    cs.append(case("order-explicit-231-h4", 3, hidden=[4], order=[2, 3, 1], N=3))
    cs.append(case("order-explicit-2413-r2l-like-h6", 4, hidden=[6], order=[2, 4, 1, 3], P=1))
    for s in (0, 1, 42, 12345):
        cs.append(case("order-random-s%d-equal" % s, 4, hidden=[5, 3], order="random", seed=s))
    for s in (0, 1, 42, 12345):
        cs.append(case("degrees-random-s%d-l2r" % s, 4, hidden=[5, 3], degrees="random", seed=s))
    cs.append(case("order-random-degrees-random-s0", 5, hidden=[6, 6], order="random",
                   degrees="random", seed=0))
    cs.append(case("order-random-degrees-random-s42", 5, hidden=[6, 4, 5], order="random",
                   degrees="random", seed=42, P=3))
    cs.append(case("order-explicit-degrees-random-s1", 4, hidden=[5, 3], order=[3, 1, 4, 2],
                   degrees="random", seed=1))
    cs.append(case("order-r2l-degrees-random-s12345", 6, hidden=[7], order="right-to-left",
                   degrees="random", seed=12345))
    # --- hidden unit variations ---
    cs.append(case("hidden-none-E4", 4, hidden=[]))
    cs.append(case("hidden-4-E4", 4, hidden=[4]))
    cs.append(case("hidden-6-6-E4", 4, hidden=[6, 6]))
    cs.append(case("hidden-4-5-3-E4", 4, hidden=[4, 5, 3]))
    cs.append(case("hidden-3-20-E10", 10, hidden=[3, 20], N=3))
    cs.append(case("hidden-3-20-E10-degrees-random-s42", 10, hidden=[3, 20], degrees="random",
                   seed=42, N=3))
    cs.append(case("hidden-2-E5-small", 5, hidden=[2]))
    cs.append(case("hidden-12-E10", 10, hidden=[12], N=3, P=1))
    cs.append(case("hidden-12-8-E10-order-random-s12345", 10, hidden=[12, 8], order="random",
                   seed=12345, N=3))
    cs.append(case("hidden-3-E6-r2l-tanh", 6, hidden=[3], order="right-to-left", act="tanh"))
    cs.append(case("hidden-2-2-2-E3", 3, hidden=[2, 2, 2], act="tanh", N=5))
    # --- E=1, E=2 ---
    cs.append(case("E1-hidden-none-P1", 1, hidden=[], P=1))
    cs.append(case("E1-hidden-none-P2", 1, hidden=[], P=2))
    cs.append(case("E1-hidden-3-P2", 1, hidden=[3], P=2))
    cs.append(case("E1-hidden-2-2-P3", 1, hidden=[2, 2], P=3, N=3))
    cs.append(case("E1-hidden-3-degrees-random-s0", 1, hidden=[3], degrees="random", seed=0))
    cs.append(case("E1-order-random-s1", 1, hidden=[2], order="random", seed=1))
    cs.append(case("E1-cond-C2-all-h3", 1, hidden=[3], C=2, cl="all_layers"))
    cs.append(case("E1-cond-C1-first-none", 1, hidden=[], C=1, cl="first_layer"))
    cs.append(case("E1-nobias-hidden-none", 1, hidden=[], bias=False))
    cs.append(case("E2-hidden-none", 2, hidden=[]))
    cs.append(case("E2-hidden-3", 2, hidden=[3]))
    cs.append(case("E2-r2l-hidden-4-4", 2, hidden=[4, 4], order="right-to-left"))
    cs.append(case("E2-order-random-s42", 2, hidden=[3], order="random", seed=42))
    cs.append(case("E2-degrees-random-s1", 2, hidden=[4], degrees="random", seed=1, P=3))
    # --- params ---
    for p in (1, 2, 3):
        cs.append(case("params-%d-E3-h5" % p, 3, hidden=[5], P=p))
    cs.append(case("params-3-E4-r2l-h6-5", 4, hidden=[6, 5], P=3, order="right-to-left"))
    # --- conditional ---
    for C in (1, 2, 3):
        for cl, tag in (("all_layers", "all"), ("first_layer", "first")):
            for hidden in ([], [4], [5, 3]):
                htag = "none" if not hidden else "-".join(str(h) for h in hidden)
                cs.append(case("cond-C%d-%s-h%s" % (C, tag, htag), 3 if C != 2 else 4,
                               hidden=hidden, C=C, cl=cl, act="tanh" if C == 3 else "relu"))
    cs.append(case("cond-C2-all-order-random-s42", 4, hidden=[5, 3], C=2, order="random",
                   degrees="random", seed=42))
    cs.append(case("cond-C3-first-nobias-h6", 4, hidden=[6], C=3, cl="first_layer", bias=False))
    cs.append(case("cond-C2-all-nobias-h4-4", 3, hidden=[4, 4], C=2, bias=False, act="elu"))
    # --- activations (E=4, hidden [6,5], inputs in [-3, 3]) ---
    for act in (None, "linear", "relu", "tanh", "sigmoid", "elu", "selu", "softplus",
                "softsign", "swish", "gelu", "exponential", "hard_sigmoid"):
        tag = "none" if act is None else act.replace("_", "-")
        xs = 1.0 if act == "exponential" else 3.0
        cs.append(case("act-%s" % tag, 4, hidden=[6, 5], act=act, xs=xs, N=5))
    cs.append(case("act-hard-sigmoid-h1-wide", 3, hidden=[8], act="hard_sigmoid", xs=3.0, N=5))
    cs.append(case("act-gelu-cond-C2", 3, hidden=[6], act="gelu", C=2, N=5))
    # --- use_bias False ---
    cs.append(case("nobias-l2r-h5-3", 4, hidden=[5, 3], bias=False))
    cs.append(case("nobias-hidden-none", 4, hidden=[], bias=False))
    cs.append(case("nobias-order-random-s1", 4, hidden=[4, 4], order="random", seed=1,
                   bias=False, act="sigmoid"))
    return cs


# ---------------------------------------------------------------------------
# Numpy float64 reference of the forward pass (independent cross-check)
# ---------------------------------------------------------------------------

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def np_act(name, v):
    if name in (None, "linear"):
        return v
    if name == "relu":
        return np.maximum(v, 0)
    if name == "tanh":
        return np.tanh(v)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-v))
    if name == "elu":
        return np.where(v > 0, v, np.expm1(v))
    if name == "selu":
        return SELU_SCALE * np.where(v > 0, v, SELU_ALPHA * np.expm1(v))
    if name == "softplus":
        return np.logaddexp(0, v)
    if name == "softsign":
        return v / (1 + np.abs(v))
    if name == "swish":
        return v / (1 + np.exp(-v))
    if name == "gelu":  # exact (erf) form, tf.nn.gelu(approximate=False)
        return 0.5 * v * (1 + erf(v / np.sqrt(2.0)))
    if name == "exponential":
        return np.exp(v)
    if name == "hard_sigmoid":  # tf_keras 2.x: clip(0.2 x + 0.5, 0, 1)
        return np.clip(0.2 * v + 0.5, 0, 1)
    raise ValueError(name)


# ---------------------------------------------------------------------------


def arr(a, dtype=float):
    a = np.asarray(a)
    if dtype is float:
        data = [repr(float(v)) for v in a.astype(np.float32).ravel()]
        data = [float(s) for s in data]
    else:
        data = [int(v) for v in a.ravel()]
    return {"shape": [int(s) for s in a.shape], "data": data}


def weight_roles(layer, E, P, hidden, C, cl, bias):
    """Return the documented role list, e.g. [('W',0),('b',0),('V',0),...]."""
    roles = []
    n = len(hidden) + 1
    for k in range(n):
        roles.append(("W", k))
        if bias:
            roles.append(("b", k))
        if C and (cl == "all_layers" or k == 0):
            roles.append(("V", k))
    return roles


def actual_roles(layer):
    """Roles derived from the real graph: which Dense each variable is in."""
    net = layer._network
    cond_in = net.inputs[1] if isinstance(net.inputs, list) and len(net.inputs) > 1 else None
    dense = [d for d in net.layers if isinstance(d, tf_keras.layers.Dense)]
    var_role = {}
    k = 0
    for d in dense:  # net.layers is in creation / topological order
        if cond_in is not None and d.input is cond_in:
            # conditional Dense feeds the same Add as the preceding autoregressive one
            var_role[id(d.kernel)] = ("V", k - 1)
        else:
            var_role[id(d.kernel)] = ("W", k)
            if d.bias is not None:
                var_role[id(d.bias)] = ("b", k)
            k += 1
    return [var_role[id(v)] for v in layer.weights]


def run_case(cfg, rng):
    E, P, hidden, C = cfg["E"], cfg["P"], cfg["hidden"], cfg["C"]
    kwargs = dict(params=P, event_shape=[E], hidden_units=hidden,
                  input_order=cfg["order"], hidden_degrees=cfg["degrees"],
                  activation=cfg["act"], use_bias=cfg["bias"])
    if C:
        kwargs.update(conditional=True, conditional_event_shape=[C],
                      conditional_input_layers=cfg["cl"])
    layer = tfp.bijectors.AutoregressiveNetwork(**kwargs)
    N = cfg["N"]
    x = rng.uniform(-cfg["xs"], cfg["xs"], size=(N, E)).astype(np.float32)
    c = rng.uniform(-cfg["xs"], cfg["xs"], size=(N, C)).astype(np.float32) if C else None
    is_random = cfg["order"] == "random" or cfg["degrees"] == "random"
    seed = cfg["seed"] if is_random else 0
    # Build (first call) right after seeding the legacy global RNG.
    np.random.seed(seed)
    if C:
        layer(x, conditional_input=c)
    else:
        layer(x)

    # Reconstruct degrees exactly like build() does.
    np.random.seed(seed)
    order = ma._create_input_order(E, cfg["order"])
    degs = ma._create_degrees(input_size=E, hidden_units=hidden, input_order=order,
                              hidden_degrees=cfg["degrees"])
    masks = ma._create_masks(degs)
    masks[-1] = np.reshape(np.tile(masks[-1][..., np.newaxis], [1, 1, P]),
                           [masks[-1].shape[0], E * P])
    assert np.array_equal(np.asarray(order), np.asarray(layer._input_order)), cfg["name"]
    assert len(masks) == len(layer._masks), cfg["name"]
    for m1, m2 in zip(masks, layer._masks):
        assert m1.shape == m2.shape and np.array_equal(m1, np.asarray(m2)), cfg["name"]

    # Weight order check.
    roles = weight_roles(layer, E, P, hidden, C, cfg["cl"], cfg["bias"])
    aroles = actual_roles(layer)
    assert roles == aroles, (cfg["name"], roles, aroles)

    # Replace weights with known values (big networks: scaled so the sums over
    # hundreds of inputs stay of order one).
    old = layer.get_weights()
    new = []
    for (kind, k), w in zip(roles, old):
        scale = 1.0 / np.sqrt(w.shape[0]) if cfg["big"] and kind != "b" else 0.5
        v = rng.normal(0.0, scale, size=w.shape)
        if kind == "W" and cfg["big"]:
            # The C test reads the mask back from the non-zero pattern.
            v = np.where(v == 0.0, 1e-3, v)
        if kind == "W":
            m = np.asarray(layer._masks[k])
            assert m.shape == w.shape
            v = np.where(m, v, 0.0)  # masked entries exactly +0.0
        new.append(v.astype(np.float32))
    layer.set_weights(new)
    got = layer.get_weights()
    for a, b in zip(got, new):
        assert np.array_equal(a, b)

    y = layer(x, conditional_input=c) if C else layer(x)
    y = np.asarray(y, dtype=np.float32)
    assert y.shape == (N, E, P), (cfg["name"], y.shape)

    # Independent float64 forward pass.
    h = x.astype(np.float64)
    nl = len(hidden) + 1
    byk = {r: w.astype(np.float64) for r, w in zip(roles, new)}
    for k in range(nl):
        z = h @ byk[("W", k)]
        if ("b", k) in byk:
            z = z + byk[("b", k)]
        if ("V", k) in byk:
            z = z + c.astype(np.float64) @ byk[("V", k)]
        h = np_act(cfg["act"], z) if k + 1 < nl else z
    yref = h.reshape(N, E, P)
    err = np.max(np.abs(yref - y) / (1 + np.abs(yref)))
    assert err < 1e-5, (cfg["name"], err)

    if cfg["big"]:
        return write_big(cfg, layer, degs, seed, x, c, y), err

    cfg_json = {
        "event_size": E,
        "params": P,
        "hidden_units": hidden,
        "input_order": cfg["order"] if isinstance(cfg["order"], str) else [int(i) for i in cfg["order"]],
        "hidden_degrees": cfg["degrees"],
        "activation": "linear" if cfg["act"] is None else cfg["act"],
        "use_bias": bool(cfg["bias"]),
        "conditional_size": C,
        "conditional_layers": cfg["cl"],
        "seed": seed,
    }
    out = {
        "name": cfg["name"],
        "config": cfg_json,
        "input_order": [int(i) for i in np.asarray(layer._input_order)],
        "degrees": [[int(d) for d in dg] for dg in degs[1:]],
        "masks": [arr(np.asarray(m).astype(np.int64), int) for m in layer._masks],
        "weights": [arr(w) for w in layer.get_weights()],
        "x": arr(x),
        "c": arr(c) if C else None,
        "y": arr(y),
    }
    return out, err


def config_json(cfg, seed):
    return {
        "event_size": cfg["E"],
        "params": cfg["P"],
        "hidden_units": cfg["hidden"],
        "input_order": cfg["order"] if isinstance(cfg["order"], str) else [int(i) for i in cfg["order"]],
        "hidden_degrees": cfg["degrees"],
        "activation": "linear" if cfg["act"] is None else cfg["act"],
        "use_bias": bool(cfg["bias"]),
        "conditional_size": cfg["C"],
        "conditional_layers": cfg["cl"],
        "seed": seed,
    }


def write_big(cfg, layer, degs, seed, x, c, y):
    """A big case: JSON for the config, order and degrees; float32 .npy files
    for the weights (get_weights() order, flattened and concatenated, shapes
    in the JSON), x, c and y. Masks are not stored: every unmasked weight is
    non-zero, so the kernels' non-zero pattern is TFP's mask."""
    name = cfg["name"]
    ws = layer.get_weights()
    flat = np.concatenate([np.asarray(w, np.float32).ravel() for w in ws])
    files = {"weights": flat, "x": x, "y": y}
    if cfg["C"]:
        files["c"] = c
    out = {
        "name": name,
        "config": config_json(cfg, seed),
        "input_order": [int(i) for i in np.asarray(layer._input_order)],
        "degrees": [[int(d) for d in dg] for dg in degs[1:]],
        "masks": "weights",
        "weight_shapes": [[int(d) for d in w.shape] for w in ws],
        "weights": {"npy": name + ".weights.npy"},
        "x": {"npy": name + ".x.npy"},
        "c": {"npy": name + ".c.npy"} if cfg["C"] else None,
        "y": {"npy": name + ".y.npy"},
    }
    for key, arr_ in files.items():
        np.save(os.path.join(OUT, "%s.%s.npy" % (name, key)), np.asarray(arr_, np.float32))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240601)
    cases = build_cases() + big_cases()
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    files = []
    maxerr = 0.0
    for cfg in cases:
        out, err = run_case(cfg, rng)
        maxerr = max(maxerr, err)
        fn = cfg["name"] + ".json"
        with open(os.path.join(OUT, fn), "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        files.append(fn)
    with open(os.path.join(OUT, "index.txt"), "w") as f:
        f.write("\n".join(files) + "\n")
    with open(os.path.join(OUT, "VERSIONS.txt"), "w") as f:
        f.write("tensorflow-cpu %s\n" % metadata.version("tensorflow-cpu"))
        f.write("python %s\n" % platform.python_version())
        f.write("tensorflow %s\n" % tf.__version__)
        f.write("tf-keras %s\n" % metadata.version("tf-keras"))
        f.write("tensorflow-probability %s\n" % tfp.__version__)
        f.write("numpy %s\n" % np.__version__)
    print("wrote %d cases to %s (max rel err vs float64 numpy: %.3g)"
          % (len(files), OUT, maxerr))


if __name__ == "__main__":
    sys.exit(main())
