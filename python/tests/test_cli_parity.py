"""The package and the `made` program compute the same bits: networks built
from the same options, forward passes, training runs, scores and samples."""
import json

import numpy as np
import pytest

import made
from conftest import binary_data, same_bits

INIT_CASES = [
    ([], {}),
    (["--params", 2, "--hidden", "7,6", "--activation", "tanh", "--input-order", "random",
      "--hidden-degrees", "random", "--seed", 11, "--kernel-initializer", "he_normal",
      "--bias-initializer", "random_normal:0,0.1"],
     dict(params=2, hidden_units=[7, 6], activation="tanh", input_order="random",
          hidden_degrees="random", seed=11, kernel_initializer="he_normal",
          bias_initializer="random_normal:0,0.1")),
    (["--params", 3, "--hidden", "9", "--input-order", "3,1,5,2,4", "--no-bias",
      "--activation", "swish", "--seed", 4294967295,
      "--kernel-initializer", "variance_scaling:scale=2,mode=fan_avg,distribution=uniform"],
     dict(params=3, hidden_units=[9], input_order=[3, 1, 5, 2, 4], use_bias=False,
          activation="swish", seed=4294967295,
          kernel_initializer={"class_name": "VarianceScaling",
                              "config": {"scale": 2.0, "mode": "fan_avg",
                                         "distribution": "uniform"}})),
    (["--params", 2, "--hidden", "6,6", "--conditional-size", 3, "--conditional-layers",
      "first_layer", "--activation", "elu", "--seed", 2],
     dict(params=2, hidden_units=[6, 6], conditional_event_shape=[3],
          conditional_input_layers="first_layer", activation="elu", seed=2)),
]


@pytest.mark.parametrize("args,kw", INIT_CASES)
def test_init_and_forward(cli, tmp_path, args, kw):
    kw = dict(kw)
    params = kw.pop("params", 1)
    m = tmp_path / "m.safetensors"
    cli("init", "-o", m, "--event-size", 5, *args)
    ours = made.AutoregressiveNetwork(params, event_shape=[5], **kw)
    theirs = made.load(m)
    assert theirs.get_config() == ours.get_config()
    assert all(same_bits(a, b) for a, b in zip(theirs.get_weights(), ours.get_weights()))
    rs = np.random.RandomState(3)
    x = rs.randn(3, 4, 5).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    fwd = ["forward", m, "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy"]
    c = None
    if "conditional_event_shape" in kw:
        c = rs.randn(4, 3).astype(np.float32)
        np.save(tmp_path / "c.npy", c)
        fwd += ["-c", tmp_path / "c.npy"]
    cli(*fwd)
    want = np.load(tmp_path / "y.npy")
    assert same_bits(ours(x, conditional_input=c), want)
    # And a file written by the package is read by the program.
    ours.save(tmp_path / "p.safetensors")
    info = json.loads(cli("info", tmp_path / "p.safetensors", "--json").stdout)
    assert info["config"]["seed"] == ours.get_config()["seed"]


TRAIN_CASES = [
    # (CLI options, fit() keywords, dist)
    (["--hidden", "16", "--epochs", 3, "--seed", 3, "--val-fraction", 0.2, "--batch-size", 32],
     dict(hidden_units=[16], epochs=3, seed=3, val_fraction=0.2, batch_size=32), "bernoulli"),
    (["--hidden", "12,12", "--epochs", 2, "--masks", 3, "--input-order", "random",
      "--optimizer", "sgd", "--lr", 0.05, "--momentum", 0.8, "--lr-schedule", "step:1:0.5",
      "--seed", 9, "--clip-norm", 1.5, "--weight-decay", 0.01, "--threads", 2],
     dict(hidden_units=[12, 12], epochs=2, masks=3, input_order="random", optimizer="sgd",
          lr=0.05, momentum=0.8, lr_schedule="step:1:0.5", seed=9, clip_norm=1.5,
          weight_decay=0.01, threads=2), "bernoulli"),
    (["--hidden", "10", "--epochs", 4, "--lr-schedule", "cosine", "--patience", 1,
      "--val-fraction", 0.25, "--activation", "tanh", "--seed", 5],
     dict(hidden_units=[10], epochs=4, lr_schedule="cosine", patience=1, val_fraction=0.25,
          activation="tanh", seed=5), "gaussian"),
    (["--hidden", "8", "--epochs", 2, "--seed", 1], dict(hidden_units=[8], epochs=2, seed=1),
     "mog:2"),
    (["--hidden", "8", "--epochs", 2, "--seed", 1, "--resample-every", 3, "--masks", 2,
      "--hidden-degrees", "random"],
     dict(hidden_units=[8], epochs=2, seed=1, resample_every=3, masks=2,
          hidden_degrees="random"), "categorical:3"),
]


def _data(dist, n=240, e=6):
    rs = np.random.RandomState(7)
    if dist == "bernoulli":
        return binary_data(n, e, seed=7)
    if dist.startswith("categorical"):
        return rs.randint(0, 3, size=(n, e)).astype(np.float32)
    return (rs.randn(n, e) + np.arange(e)).astype(np.float32)


@pytest.mark.parametrize("args,kw,dist", TRAIN_CASES)
def test_train_score_sample(cli, tmp_path, args, kw, dist):
    x = _data(dist)
    np.save(tmp_path / "x.npy", x)
    m = tmp_path / "m.safetensors"
    cli("train", tmp_path / "x.npy", "-o", m, "--dist", dist, "-q", *args)
    ours = made.fit(x, dist, **kw)
    theirs = made.load(m)
    assert isinstance(theirs, made.DensityModel) and theirs.dist == dist
    assert all(same_bits(a, b) for a, b in zip(ours.get_weights(), theirs.get_weights()))
    # Scores and samples from the program equal the package's.
    cli("logprob", m, tmp_path / "x.npy", "-o", tmp_path / "lp.npy")
    assert same_bits(ours.log_prob(x).astype(np.float32), np.load(tmp_path / "lp.npy"))
    ev = json.loads(cli("eval", m, tmp_path / "x.npy", "--json").stdout)
    assert "%.9g" % ours.nll(x) == "%.9g" % ev["nll_nats"]
    cli("sample", m, "-n", 7, "--seed", 12, "-o", tmp_path / "s.npy")
    assert same_bits(ours.sample(7, seed=12), np.load(tmp_path / "s.npy"))
    cli("sample", m, "-n", 5, "--seed", 3, "--naive", "-o", tmp_path / "s2.npy")
    assert same_bits(ours.sample(5, seed=3, naive=True), np.load(tmp_path / "s2.npy"))


def test_conditional_training_with_validation_files(cli, tmp_path):
    rs = np.random.RandomState(2)
    c = rs.randn(200, 2).astype(np.float32)
    x = (rs.rand(200, 5) < 1 / (1 + np.exp(-c[:, :1]))).astype(np.float32)
    for name, a in (("x", x[:150]), ("c", c[:150]), ("xv", x[150:]), ("cv", c[150:])):
        np.save(tmp_path / (name + ".npy"), a)
    m = tmp_path / "m.safetensors"
    cli("train", tmp_path / "x.npy", "-c", tmp_path / "c.npy", "--val", tmp_path / "xv.npy",
        "--val-conditional", tmp_path / "cv.npy", "-o", m, "--dist", "bernoulli", "--hidden",
        "8", "--epochs", 3, "--patience", 2, "--conditional-layers", "first_layer", "-q")
    ours = made.fit(tmp_path / "x.npy", conditional=c[:150], val=x[150:],
                    val_conditional=tmp_path / "cv.npy", hidden_units=[8], epochs=3,
                    patience=2, conditional_input_layers="first_layer")
    theirs = made.load(m)
    assert all(same_bits(a, b) for a, b in zip(ours.get_weights(), theirs.get_weights()))
    cli("sample", m, "-n", 4, "-c", tmp_path / "c.npy", "--seed", 1, "-o", tmp_path / "s.npy",
        ok=False)  # 150 rows for 4 samples: the program refuses; use one row
    np.save(tmp_path / "c1.npy", c[:1])
    cli("sample", m, "-n", 4, "-c", tmp_path / "c1.npy", "--seed", 1, "-o", tmp_path / "s.npy")
    assert same_bits(ours.sample(4, seed=1, conditional=c[0]), np.load(tmp_path / "s.npy"))


def test_binarize_and_data_files(cli, tmp_path):
    rs = np.random.RandomState(0)
    g = rs.randint(0, 256, size=(120, 3, 3)).astype(np.uint8)
    np.save(tmp_path / "g.npy", g)
    m = tmp_path / "m.safetensors"
    cli("train", tmp_path / "g.npy", "-o", m, "--dist", "bernoulli", "--binarize", 127.5,
        "--hidden", "5", "--epochs", 2, "-q")
    ours = made.fit(g, binarize=127.5, hidden_units=[5], epochs=2)
    assert all(same_bits(a, b) for a, b in zip(ours.get_weights(), made.load(m).get_weights()))
    assert same_bits(made.read_data(tmp_path / "g.npy"), g.astype(np.float32))
    np.savetxt(tmp_path / "d.csv", g.reshape(120, 9)[:5], delimiter=",", fmt="%d")
    assert same_bits(made.read_data(tmp_path / "d.csv"), g.reshape(120, 9)[:5].astype(np.float32))


def test_record_is_made_info(cli, tmp_path):
    rs = np.random.RandomState(4)
    np.save(tmp_path / "x.npy", rs.rand(80, 6).astype(np.float32))
    m = tmp_path / "m.safetensors"
    cli("train", tmp_path / "x.npy", "-o", m, "-q", "--dist", "bernoulli", "--binarize", 0.5,
        "--hidden", "8", "--epochs", 2, "--val-fraction", 0.25, "--seed", 1)
    want = json.loads(cli("info", m, "--json").stdout)["record"]
    got = made.load(m).record
    assert got["binarize"] == want["binarize"] == 0.5
    assert got["epochs_run"] == want["epochs_run"] == 2
    assert got["best_epoch"] == want["best_epoch"] and got["stop"] == want["stop"]
    assert "%.9g" % got["train_nll"] == "%.9g" % want["train_nll"]
    assert "%.9g" % got["val_nll"] == "%.9g" % want["val_nll"]
