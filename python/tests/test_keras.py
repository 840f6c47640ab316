"""made.from_keras / net.to_keras against the real TensorFlow Probability, on
random configurations: outputs agree to 1e-5 both ways and weights survive a
round trip exactly. Skipped (and said so) when TFP is not importable."""
import os

import numpy as np
import pytest

import made

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tfp = pytest.importorskip("tensorflow_probability",
                          reason="TensorFlow Probability is not installed: the TFP "
                                 "conversion tests are skipped")

ACTS = [None, "relu", "tanh", "sigmoid", "elu", "softplus", "swish", "gelu", "selu"]
N_CONFIGS = int(os.environ.get("MADE_TFP_CONFIGS", "24"))
worst = {"from_keras": 0.0, "to_keras": 0.0}


def random_config(rs):
    e = int(rs.randint(1, 7))
    cfg = dict(params=int(rs.randint(1, 4)), event_shape=[e],
               hidden_units=[int(rs.randint(1, 10)) for _ in range(rs.randint(0, 3))],
               activation=ACTS[rs.randint(len(ACTS))], use_bias=bool(rs.rand() < 0.8),
               hidden_degrees=["equal", "random"][rs.randint(2)],
               bias_initializer="random_normal")
    kind = rs.randint(4)
    cfg["input_order"] = (["left-to-right", "right-to-left", "random"][kind] if kind < 3
                          else [int(v) + 1 for v in rs.permutation(e)])
    if rs.rand() < 0.4:
        cfg.update(conditional=True, conditional_event_shape=[int(rs.randint(1, 4))],
                   conditional_input_layers=["all_layers", "first_layer"][rs.randint(2)])
    return cfg


def inputs(rs, cfg, n=6):
    x = rs.randn(n, cfg["event_shape"][0]).astype(np.float32)
    c = (rs.randn(n, cfg["conditional_event_shape"][0]).astype(np.float32)
         if cfg.get("conditional") else None)
    return x, c


def call_tfp(net, x, c):
    return np.asarray(net(x, conditional_input=c) if c is not None else net(x))


@pytest.mark.parametrize("k", range(N_CONFIGS))
def test_from_keras(k):
    rs = np.random.RandomState(1000 + k)
    cfg = random_config(rs)
    x, c = inputs(rs, cfg)
    np.random.seed(k)  # TFP's 'random' orders and degrees come from numpy's global state
    tnet = tfp.bijectors.AutoregressiveNetwork(**cfg)
    want = call_tfp(tnet, x, c)
    mnet = made.from_keras(tnet, seed=k)
    got = mnet(x, conditional_input=c)
    assert got.shape == want.shape
    err = float(np.max(np.abs(got - want))) if got.size else 0.0
    worst["from_keras"] = max(worst["from_keras"], err)
    assert err <= 1e-5, (cfg, err)
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(mnet.get_weights(),
                                                                 tnet.get_weights()))


@pytest.mark.parametrize("k", range(N_CONFIGS))
def test_to_keras_and_back(k):
    rs = np.random.RandomState(2000 + k)
    cfg = random_config(rs)
    cfg.pop("conditional", None)
    cfg["bias_initializer"] = "random_normal:0,0.2"
    x, c = inputs(rs, dict(cfg, conditional=bool(cfg.get("conditional_event_shape"))))
    mnet = made.AutoregressiveNetwork(seed=k, **cfg)
    tnet = mnet.to_keras()
    want = mnet(x, conditional_input=c)
    got = call_tfp(tnet, x, c)
    err = float(np.max(np.abs(got - want))) if got.size else 0.0
    worst["to_keras"] = max(worst["to_keras"], err)
    assert err <= 1e-5, (cfg, err)
    back = made.from_keras(tnet, seed=k)
    assert back.get_config() == dict(mnet.get_config(), input_order=back.get_config()["input_order"])
    assert all(a.tobytes() == b.tobytes() for a, b in zip(back.get_weights(), mnet.get_weights()))


def test_random_degrees_need_the_seed():
    np.random.seed(3)
    tnet = tfp.bijectors.AutoregressiveNetwork(2, event_shape=[4], hidden_units=[6],
                                               hidden_degrees="random")
    tnet(np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="seed"):
        made.from_keras(tnet)
    with pytest.raises(ValueError, match="masks"):
        made.from_keras(tnet, seed=4)
    made.from_keras(tnet, seed=3)


def test_unbuilt_and_non_autoregressive_weights():
    tnet = tfp.bijectors.AutoregressiveNetwork(1, event_shape=[3])
    with pytest.raises(ValueError, match="not built"):
        made.from_keras(tnet)
    tnet(np.zeros((1, 3), np.float32))
    w = tnet.get_weights()
    w[0] = np.ones_like(w[0])  # TFP's set_weights accepts entries its mask forbids
    tnet.set_weights(w)
    with pytest.raises(ValueError, match="not autoregressive"):
        made.from_keras(tnet)


def test_report_worst_error():
    print("\nTFP round trip: max |made - TFP| from_keras %.3g, to_keras %.3g over %d configs"
          % (worst["from_keras"], worst["to_keras"], N_CONFIGS))
