"""Flows from Python: made.fit(..., flow='maf:K') and made.Flow give the same
bits as `made train --flow` and the program's eval, logprob and sample; the
bijector runs both ways with log-determinants; layers are AutoregressiveNetwork
views; files round-trip; bad arguments are refused with a message naming them."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import made
from conftest import same_bits


def moons(n=240, seed=0):
    rs = np.random.RandomState(seed)
    t = rs.rand(n) * np.pi
    up = rs.rand(n) < 0.5
    x = np.where(up, np.cos(t), 1 - np.cos(t))
    y = np.where(up, np.sin(t), 0.5 - np.sin(t))
    return (np.stack([x, y], 1) + 0.1 * rs.randn(n, 2)).astype(np.float32)


def wide(n=200, e=4, seed=1):
    rs = np.random.RandomState(seed)
    z = rs.randn(n, 1)
    return (rs.randn(n, e) * 0.5 + z * np.arange(1, e + 1) + 3).astype(np.float32)


def same_flows(a, b):
    assert a.get_config() == b.get_config()
    for la, lb in zip(a.layers, b.layers):
        assert all(same_bits(u, v) for u, v in zip(la.get_weights(), lb.get_weights()))
    if a.batch_norm:
        for k in range(a.num_layers):
            ba, bb = a.get_batch_norm(k), b.get_batch_norm(k)
            assert all(same_bits(ba[n], bb[n]) for n in ba)
    if a.preprocess == "standardize":
        assert all(same_bits(u, v) for u, v in zip(a.standardization, b.standardization))
    return True


# (CLI options, fit keywords, data, conditional columns)
CASES = [
    (["--flow", "maf:3", "--hidden", "16,16", "--batch-norm", "--epochs", 2,
      "--val-fraction", 0.2, "--batch-size", 32, "--seed", 3],
     dict(flow="maf:3", hidden_units=[16, 16], batch_norm=True, epochs=2, val_fraction=0.2,
          batch_size=32, seed=3), "moons", 0),
    (["--flow", "maf:2", "--hidden", "12", "--permutation", "random", "--scale", "softplus",
      "--standardize", "--epochs", 2, "--activation", "tanh", "--seed", 7, "--threads", 2,
      "--conditional-layers", "first_layer", "--lr-schedule", "cosine"],
     dict(flow="maf:2", hidden_units=[12], permutation="random", scale="softplus",
          standardize=True, epochs=2, activation="tanh", seed=7, threads=2,
          conditional_input_layers="first_layer", lr_schedule="cosine"), "wide", 2),
    (["--flow", "maf:2", "--hidden", "10,8", "--permutation", "2,0,3,1", "--scale", "softclip",
      "--epochs", 3, "--input-order", "random", "--hidden-degrees", "random", "--seed", 5,
      "--optimizer", "sgd", "--lr", 0.01, "--clip-norm", 2, "--batch-norm"],
     dict(flow="maf:2", hidden_units=[10, 8], permutation=[2, 0, 3, 1], scale="softclip",
          epochs=3, input_order="random", hidden_degrees="random", seed=5, optimizer="sgd",
          lr=0.01, clip_norm=2, batch_norm=True), "wide", 0),
    (["--flow", "maf:1", "--hidden", "9", "--dequantize", "--logit", 1e-6, "--epochs", 2,
      "--seed", 2, "--val-fraction", 0.25],
     dict(flow="maf:1", hidden_units=[9], dequantize=True, logit=1e-6, epochs=2, seed=2,
          val_fraction=0.25), "pixels", 0),
    (["--flow", "maf:2", "--hidden", "8", "--logit", 0.01, "--permutation", "identity",
      "--epochs", 2, "--seed", 4, "--no-bias"],
     dict(flow="maf:2", hidden_units=[8], logit=0.01, permutation="identity", epochs=2, seed=4,
          use_bias=False), "unit", 0),
    (["--flow", "iaf:2", "--hidden", "10", "--batch-norm", "--epochs", 2, "--seed", 8,
      "--scale", "softclip", "--val-fraction", 0.2],
     dict(flow="iaf:2", hidden_units=[10], batch_norm=True, epochs=2, seed=8, scale="softclip",
          val_fraction=0.2), "moons", 0),
    (["--flow", "maf:3", "--hidden", "12", "--share-weights", "--standardize", "--epochs", 2,
      "--seed", 9, "--conditional-layers", "first_layer"],
     dict(flow="maf:3", hidden_units=[12], share_weights=True, standardize=True, epochs=2,
          seed=9, conditional_input_layers="first_layer"), "wide", 1),
    (["--flow", "iaf:3", "--hidden", "6", "--share-weights", "--epochs", 1, "--seed", 10],
     dict(flow="iaf:3", hidden_units=[6], share_weights=True, epochs=1, seed=10), "unit", 0),
]


def data_for(kind):
    rs = np.random.RandomState(11)
    if kind == "moons":
        return moons()
    if kind == "wide":
        return wide()
    if kind == "pixels":
        z = rs.rand(160, 1)
        return np.clip(rs.randn(160, 9) * 40 + 255 * z, 0, 255).round().astype(np.float32)
    return (rs.rand(150, 3) * 0.8 + 0.1).astype(np.float32)


@pytest.mark.parametrize("args,kw,kind,ccols", CASES)
def test_train_score_sample_same_bits_as_the_program(cli, tmp_path, args, kw, kind, ccols):
    x = data_for(kind)
    np.save(tmp_path / "x.npy", x)
    cargs, c = [], None
    if ccols:
        c = np.random.RandomState(5).randn(x.shape[0], ccols).astype(np.float32)
        np.save(tmp_path / "c.npy", c)
        cargs = ["-c", tmp_path / "c.npy"]
    m = tmp_path / "f.safetensors"
    cli("train", tmp_path / "x.npy", "-o", m, "-q", *cargs, *args)
    ours = made.fit(x, conditional=c, **kw)
    theirs = made.load(m)
    assert isinstance(ours, made.Flow) and isinstance(theirs, made.Flow)
    assert same_flows(ours, theirs)
    cli("logprob", m, tmp_path / "x.npy", "-o", tmp_path / "lp.npy", "--seed", 9, *cargs)
    assert same_bits(ours.log_prob(x, conditional=c, seed=9).astype(np.float32),
                     np.load(tmp_path / "lp.npy"))
    ev = json.loads(cli("eval", m, tmp_path / "x.npy", "--json", *cargs).stdout)
    assert "%.9g" % ours.nll(x, conditional=c) == "%.9g" % ev["nll_nats"]
    sargs = []
    if ccols:
        np.save(tmp_path / "c1.npy", c[:1])
        sargs = ["-c", tmp_path / "c1.npy"]
    cli("sample", m, "-n", 6, "--seed", 12, "-o", tmp_path / "s.npy", *sargs)
    assert same_bits(ours.sample(6, seed=12, conditional=None if c is None else c[0]),
                     np.load(tmp_path / "s.npy"))
    # A flow saved by the package is the program's file.
    ours.save(tmp_path / "p.safetensors")
    info = json.loads(cli("info", tmp_path / "p.safetensors", "--json").stdout)
    assert info["flow"] == ours.kind and info["num_layers"] == ours.num_layers
    assert info["permutations"] == [p.tolist() for p in ours.permutations]


def test_validation_files_and_threads_same_bits(cli, tmp_path):
    x = data_for("pixels")
    np.save(tmp_path / "x.npy", x[:120])
    np.save(tmp_path / "v.npy", x[120:])
    m = tmp_path / "f.safetensors"
    cli("train", tmp_path / "x.npy", "--val", tmp_path / "v.npy", "-o", m, "-q", "--flow",
        "maf:2", "--hidden", "8", "--dequantize", "--logit", 1e-4, "--epochs", 3,
        "--patience", 1, "--seed", 6, "--batch-norm", "-t", 2, "--log-json", tmp_path / "log")
    ends = []
    ours = made.fit(tmp_path / "x.npy", val=x[120:], flow="maf:2", hidden_units=[8],
                    dequantize=True, logit=1e-4, epochs=3, patience=1, seed=6, batch_norm=True,
                    threads=1, progress=lambda p: ends.append(p) if p.epoch_done else None)
    assert same_flows(ours, made.load(m))
    # The validation rows' noise (its own stream) shows in every epoch's val NLL.
    log = [json.loads(line) for line in open(tmp_path / "log")]
    assert ["%.9g" % p.val_nll for p in ends] == ["%.9g" % e["val_nll"] for e in log]
    assert ["%.9g" % p.train_nll for p in ends] == ["%.9g" % e["train_nll"] for e in log]


def test_constructor_bijector_and_round_trips(tmp_path):
    f = made.Flow(event_shape=[3], num_layers=3, hidden_units=[8, 8], activation="relu",
                  conditional_event_shape=[2], seed=4, permutation="random",
                  kernel_initializer="random_normal:0,0.5", bias_initializer="random_normal:0,0.5")
    rs = np.random.RandomState(0)
    z = rs.randn(4, 5, 3).astype(np.float32)
    c = rs.randn(5, 2).astype(np.float32)          # broadcast over the first axis
    y, fldj = f.forward_and_log_det(z, conditional=c)
    assert y.shape == (4, 5, 3) and fldj.shape == (4, 5)
    x, ildj = f.inverse_and_log_det(y, conditional=c)
    assert np.allclose(x, z, atol=1e-4) and np.allclose(fldj, -ildj, atol=1e-4)
    assert same_bits(f.forward(z, c), y) and same_bits(f.inverse_log_det_jacobian(y, c), ildj)
    # log_prob is the base density of the inverse plus its log-determinant.
    base = -0.5 * (x.astype(np.float64) ** 2).sum(-1) - 1.5 * np.log(2 * np.pi)
    assert np.allclose(f.log_prob(y, conditional=c), base + ildj, atol=1e-5)
    # The layers are the flow's networks, in Keras order, seeded seed + k.
    layers = f.layers
    assert len(layers) == 3 and all(isinstance(l, made.AutoregressiveNetwork) for l in layers)
    assert [l.get_config()["seed"] for l in layers] == [4, 5, 6]
    alone = made.AutoregressiveNetwork(2, event_shape=[3], hidden_units=[8, 8], activation="relu",
                                       conditional_event_shape=[2], seed=5,
                                       kernel_initializer="random_normal:0,0.5",
                                       bias_initializer="random_normal:0,0.5")
    assert all(same_bits(a, b) for a, b in zip(alone.get_weights(), layers[1].get_weights()))
    # set_weights on a layer changes the flow.
    w = layers[0].get_weights()
    layers[0].set_weights([a * 0.5 for a in w])
    assert not same_bits(f.forward(z, c), y)
    layers[0].set_weights(w)
    assert same_bits(f.forward(z, c), y)
    # Files: the same bits back, made.load returns a Flow.
    f.save(tmp_path / "f.safetensors")
    g = made.load(tmp_path / "f.safetensors")
    assert isinstance(g, made.Flow) and same_flows(f, g)
    assert same_bits(g.forward(z, c), y)
    assert f.count_params() == 3 * layers[0].count_params()
    # Closing the flow closes its layers' views.
    f.close()
    with pytest.raises(ValueError, match="closed"):
        layers[0].get_weights()
    with pytest.raises(ValueError, match="closed"):
        f.sample(1, conditional=c[0])


def test_batch_norm_and_standardization_accessors():
    f = made.Flow(event_shape=2, num_layers=2, hidden_units=[4], batch_norm=True, standardize=True)
    bn = f.get_batch_norm(1)
    assert set(bn) == {"mean", "variance", "gamma", "beta"}
    assert same_bits(bn["mean"], np.zeros(2, np.float32))
    f.set_batch_norm(1, mean=[1, 2], variance=[4, 9], gamma=[0, 0], beta=[0.5, 0])
    assert same_bits(f.get_batch_norm(1)["variance"], np.array([4, 9], np.float32))
    assert len(f.batch_norm_layers) == 2
    f.standardization = ([1.0, 2.0], [2.0, 4.0])
    mean, std = f.standardization
    assert mean.tolist() == [1.0, 2.0] and std.tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match="variance"):
        f.set_batch_norm(0, [0, 0], [1, 1, 1], [0, 0], [0, 0])
    with pytest.raises(ValueError, match="k"):
        f.get_batch_norm(2)
    with pytest.raises(ValueError, match="no batch normalisation"):
        made.Flow(event_shape=2).get_batch_norm(0)
    assert made.Flow(event_shape=2).standardization is None


def test_progress_stop_and_resume_same_bits(tmp_path):
    x = moons()
    kw = dict(flow="maf:2", hidden_units=[8], batch_norm=True, epochs=3, batch_size=40, seed=1)
    whole = made.fit(x, **kw)

    def stop(p):
        if p.epoch == 2 and p.batch == 2:
            raise KeyboardInterrupt
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        made.fit(x, checkpoint=ckpt, progress=stop, **kw)
    resumed = made.fit(x, resume=ckpt)
    assert isinstance(resumed, made.Flow) and same_flows(whole, resumed)
    with pytest.raises(ValueError, match="batch_norm cannot be changed"):
        made.fit(x, resume=ckpt, batch_norm=True)


def test_shared_weights_are_one_network():
    f = made.Flow(event_shape=3, num_layers=3, hidden_units=[5], share_weights=True, seed=2)
    a, b = f.layers[0], f.layers[2]
    assert all(same_bits(u, v) for u, v in zip(a.get_weights(), b.get_weights()))
    b.set_weights([w * 0 for w in b.get_weights()])
    assert all(not w.any() for w in a.get_weights())
    assert f.get_config()["share_weights"] is True
    assert f.count_params() == a.count_params()


BAD_FIT = [
    (dict(flow="maf"), "flow"),
    (dict(flow="maf:0"), "flow"),
    (dict(flow="maf:1025"), "flow"),
    (dict(flow="glow:2"), "flow"),
    (dict(flow=3), "flow"),
    (dict(flow="maf:2", dist="gaussian"), "do not apply"),
    (dict(flow="maf:2", params=2), "do not apply"),
    (dict(flow="maf:2", masks=2), "do not apply"),
    (dict(flow="maf:2", permutation="sideways"), "permutation"),
    (dict(flow="maf:2", permutation="explicit"), "permutation"),
    (dict(flow="maf:2", permutation=[0, 0]), "twice"),
    (dict(flow="maf:2", permutation=[0, 2]), "permutation"),
    (dict(flow="maf:2", permutation=[1]), "1 entries"),
    (dict(flow="maf:2", permutation=[1.0, 0.0]), r"permutation\[0\]"),
    (dict(flow="maf:2", permutation=7), "permutation"),
    (dict(flow="maf:2", batch_norm="yes"), "batch_norm"),
    (dict(flow="maf:2", share_weights=2), "share_weights"),
    (dict(flow="maf:2", scale="tanh"), "scale"),
    (dict(flow="maf:2", scale=None), "scale"),
    (dict(flow="maf:2", standardize=2), "standardize"),
    (dict(flow="maf:2", logit=0.5), "logit"),
    (dict(flow="maf:2", logit=-1e-3), "logit"),
    (dict(flow="maf:2", logit="1e-6"), "logit"),
    (dict(flow="maf:2", standardize=True, logit=1e-6), "not both"),
    (dict(flow="maf:2", dequantize=True), "dequantize needs logit"),
    (dict(flow="maf:2", logit=1e-6), "outside"),               # data outside [0, 1]
    (dict(flow="maf:2", logit=1e-6, dequantize=True), "integers 0..255"),
    (dict(flow="maf:2", batch_norm=True, batch_size=1), "batch"),
    (dict(batch_norm=True), "applies to flows"),
    (dict(flow="maf:2", hidden_units=[0]), r"hidden_units\[0\]"),
    (dict(flow="maf:2", input_order=[1, 2, 3]), "3 entries"),
]


@pytest.mark.parametrize("kw,match", BAD_FIT)
def test_fit_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        made.fit(moons(40) * 3, epochs=1, hidden_units=kw.pop("hidden_units", [4]), **kw)


def test_fit_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="shuffle"):
        made.fit(moons(40), flow="maf:1", shuffle=True)


def cflow():
    return made.Flow(event_shape=[3], num_layers=2, hidden_units=[4], conditional_event_shape=[2])


BAD_CALLS = [
    (lambda f: f.log_prob(np.zeros((2, 3))), "layer 0"),
    (lambda f: f.log_prob(np.zeros((2, 3)), conditional=np.zeros((2, 3))), "layer 0"),
    (lambda f: f.log_prob(np.zeros((2, 3)), conditional=np.zeros((3, 2))), "broadcast"),
    (lambda f: f.log_prob(np.zeros((2, 4)), conditional=np.zeros(2)), "3 values"),
    (lambda f: f.log_prob(np.full((1, 3), np.nan), conditional=np.zeros(2)), "is nan"),
    (lambda f: f.log_prob("abc", conditional=np.zeros(2)), "numbers"),
    (lambda f: f.inverse(np.zeros((2, 3))), "layer 0"),
    (lambda f: f.forward(np.zeros((2, 3)), conditional=np.zeros((2, 5))), "layer 0"),
    (lambda f: f.forward(np.zeros(2), conditional=np.zeros(2)), "3 values"),
    (lambda f: f.sample(3), "layer 0"),
    (lambda f: f.sample(3, conditional=np.zeros((2, 2))), "one row"),
    (lambda f: f.sample(3, conditional=np.zeros(4)), "layer 0"),
    (lambda f: f.sample(-1, conditional=np.zeros(2)), "n"),
    (lambda f: f.sample(2, seed=-1, conditional=np.zeros(2)), "seed"),
    (lambda f: f.nll(np.zeros((0, 3)), conditional=np.zeros(2)), "no examples"),
    (lambda f: f.set_batch_norm(0, [0] * 3, [1] * 3, [0] * 3, [0] * 3), "no batch"),
    (lambda f: f.save(""), "path"),
    (lambda f: f.save("/nonexistent-dir/f.safetensors"), "nonexistent"),
]


@pytest.mark.parametrize("call,match", BAD_CALLS)
def test_bad_calls(call, match):
    with pytest.raises((ValueError, OSError), match=match):
        call(cflow())


def test_unconditional_flow_refuses_a_condition():
    f = made.Flow(event_shape=2, hidden_units=[3])
    for call in (lambda: f.log_prob(np.zeros((1, 2)), conditional=np.zeros(1)),
                 lambda: f.sample(1, conditional=np.zeros(1)),
                 lambda: f.forward(np.zeros((1, 2)), conditional=np.zeros(1))):
        with pytest.raises(ValueError, match="not conditional"):
            call()


BAD_CONSTRUCTOR = [
    (dict(event_shape=None), "event_shape"),
    (dict(num_layers=0), "num_layers"),
    (dict(kind="realnvp"), "kind"),
    (dict(hidden_units=[2], activation="nope"), "activation"),
    (dict(scale="cube"), "scale"),
    (dict(nonsense=1), "nonsense"),
]


@pytest.mark.parametrize("kw,match", BAD_CONSTRUCTOR)
def test_constructor_bad_arguments(kw, match):
    args = dict(event_shape=[2])
    args.update(kw)
    with pytest.raises((ValueError, TypeError), match=match):
        made.Flow(**args)


def test_load_errors(tmp_path):
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(OSError):
        made.load(tmp_path / "bad.safetensors")
    with pytest.raises(OSError):
        made.Flow.load(tmp_path / "missing.safetensors")
    made.AutoregressiveNetwork(2, event_shape=[2]).save(tmp_path / "net.safetensors")
    with pytest.raises(OSError):
        made.Flow.load(tmp_path / "net.safetensors")


SCRIPT = r"""
import sys
import numpy as np
a = np.random.RandomState(0).randn(300, 300)
np.dot(a, a)                      # numpy's BLAS is loaded and has run
import made
threads, d = int(sys.argv[1]), sys.argv[2]
x = np.load(d + "/x.npy")
f = made.fit(x, flow="maf:3", hidden_units=[32, 32], batch_norm=True, epochs=2, batch_size=20,
             seed=4, threads=threads)
f.save(d + "/py_%d.safetensors" % threads)
np.save(d + "/py_s_%d.npy" % threads, f.sample(50, seed=2))
np.save(d + "/py_lp_%d.npy" % threads, f.log_prob(x).astype(np.float32))
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_numpy_first_same_bits_as_the_program(cli, tmp_path, threads):
    x = wide(300, 6)
    np.save(tmp_path / "x.npy", x)
    m = tmp_path / "f.safetensors"
    cli("train", tmp_path / "x.npy", "-o", m, "--flow", "maf:3", "--hidden", "32,32",
        "--batch-norm", "--epochs", 2, "--batch-size", 20, "--seed", 4, "-t", threads, "-q")
    cli("sample", m, "-n", 50, "--seed", 2, "-o", tmp_path / "s.npy", "-t", threads)
    cli("logprob", m, tmp_path / "x.npy", "-o", tmp_path / "lp.npy", "-t", threads)
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(threads), str(tmp_path)],
                       capture_output=True, text=True, env=dict(os.environ))
    assert p.returncode == 0, p.stderr
    assert same_flows(made.load(tmp_path / ("py_%d.safetensors" % threads)), made.load(m))
    assert same_bits(np.load(tmp_path / ("py_s_%d.npy" % threads)), np.load(tmp_path / "s.npy"))
    assert same_bits(np.load(tmp_path / ("py_lp_%d.npy" % threads)), np.load(tmp_path / "lp.npy"))


def reference_log_prob(flow, y):
    """log p(y) of an unconditional flow (exp scale, no preprocessing)
    recomputed with numpy from what the package exposes: each layer's Keras
    weights and masks, the permutations and the batch norms, following the
    documented chain (density direction: undo P_k, layer k's inverse, then its
    batch norm's normalisation)."""
    acts = {None: lambda h: h, "relu": lambda h: np.maximum(h, 0), "tanh": np.tanh}
    cfg = flow.get_config()
    act = acts[cfg["activation"]]
    x = y.astype(np.float64)
    ld = np.zeros(len(y))
    perms = flow.permutations
    for k in reversed(range(flow.num_layers)):
        if k < flow.num_layers - 1:
            x = x[:, np.argsort(perms[k])]
        layer = flow.layers[k]
        w, masks = layer.get_weights(), layer.masks
        h = x
        for l, m in enumerate(masks):
            h = h @ (w[2 * l].astype(np.float64) * m) + w[2 * l + 1]
            if l < len(masks) - 1:
                h = act(h)
        out = h.reshape(len(y), flow.event_size, 2)
        x = (x - out[..., 0]) * np.exp(-out[..., 1])
        ld -= out[..., 1].sum(-1)
        if flow.batch_norm:
            bn = {n: v.astype(np.float64) for n, v in flow.get_batch_norm(k).items()}
            sd = np.sqrt(bn["variance"] + 1e-5)
            x = (x - bn["mean"]) / sd * np.exp(bn["gamma"]) + bn["beta"]
            ld += (bn["gamma"] - np.log(sd)).sum()
    return -0.5 * (x ** 2).sum(-1) - 0.5 * flow.event_size * np.log(2 * np.pi) + ld


@pytest.mark.parametrize("batch_norm", [False, True])
def test_log_prob_against_a_numpy_reference(batch_norm):
    rs = np.random.RandomState(7)
    f = made.Flow(event_shape=4, num_layers=3, hidden_units=[6, 5], activation="tanh",
                  permutation="random", seed=3, batch_norm=batch_norm,
                  kernel_initializer="random_normal:0,0.4", bias_initializer="random_normal:0,0.3")
    if batch_norm:
        for k in range(3):
            f.set_batch_norm(k, rs.randn(4), rs.rand(4) + 0.5, 0.3 * rs.randn(4), rs.randn(4))
    y = rs.randn(20, 4).astype(np.float32)
    want = reference_log_prob(f, y)
    got = f.log_prob(y)
    assert np.max(np.abs(got - want) / (1 + np.abs(want))) < 1e-5


def test_record_is_made_info(cli, tmp_path):
    x = wide(60, 4)
    np.save(tmp_path / "x.npy", x[:40])
    np.save(tmp_path / "v.npy", x[40:])
    m = tmp_path / "f.safetensors"
    cli("train", tmp_path / "x.npy", "--val", tmp_path / "v.npy", "-o", m, "-q", "--flow",
        "maf:2", "--hidden", "8", "--standardize", "--epochs", 3, "--seed", 2)
    want = json.loads(cli("info", m, "--json").stdout)["record"]
    got = made.load(m).record
    assert list(got) == ["binarize", "epochs_run", "best_epoch", "stop", "train_nll", "val_nll"]
    assert got["binarize"] is None and want["binarize"] is None
    assert got["epochs_run"] == want["epochs_run"] == 3
    assert got["best_epoch"] == want["best_epoch"] and got["stop"] == want["stop"]
    assert "%.9g" % got["train_nll"] == "%.9g" % want["train_nll"]
    assert "%.9g" % got["val_nll"] == "%.9g" % want["val_nll"]
    fresh = made.Flow(event_shape=[4], num_layers=2).record
    assert (fresh["epochs_run"], fresh["best_epoch"], fresh["stop"]) == (0, 0, "none")
