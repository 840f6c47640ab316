"""AutoregressiveNetwork: shapes, TFP conventions, weights, masks, files,
against an independent numpy evaluation of the same weights."""
import threading

import numpy as np
import pytest

import made
from conftest import same_bits

ACTS = {
    None: lambda a: a, "relu": lambda a: np.maximum(a, 0), "tanh": np.tanh,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "softplus": lambda a: np.log1p(np.exp(a)),
}


def numpy_forward(net, x, c=None):
    """The network computed from get_weights() and masks with plain numpy, in
    float64: out[..., e, p] = dense output unit e * params + p (TFP's reshape)."""
    cfg = net.get_config()
    ws = [w.astype(np.float64) for w in net.get_weights()]
    masks = net.masks
    act = ACTS[cfg["activation"]]
    h = np.asarray(x, np.float64)
    k = 0
    for l, m in enumerate(masks):
        a = h @ (ws[k] * m)
        k += 1
        if cfg["use_bias"]:
            a = a + ws[k]
            k += 1
        if cfg["conditional_event_shape"] and (cfg["conditional_input_layers"] == "all_layers"
                                               or l == 0):
            a = a + np.asarray(c, np.float64) @ ws[k]
            k += 1
        h = act(a) if l + 1 < len(masks) else a
    e = cfg["event_shape"][0]
    return h.reshape(h.shape[:-1] + (e, cfg["params"]))


@pytest.mark.parametrize("act", [None, "relu", "tanh", "sigmoid", "softplus"])
@pytest.mark.parametrize("order", ["left-to-right", "right-to-left", "random", [3, 1, 4, 2]])
def test_forward_matches_numpy(act, order):
    net = made.AutoregressiveNetwork(3, event_shape=4, hidden_units=[6, 5], input_order=order,
                                     activation=act, bias_initializer="random_normal:0,0.3",
                                     seed=5)
    x = np.random.RandomState(1).randn(7, 4).astype(np.float32)
    y = net(x)
    assert y.shape == (7, 4, 3) and y.dtype == np.float32
    np.testing.assert_allclose(y, numpy_forward(net, x), rtol=1e-5, atol=1e-5)


def test_conditional_matches_numpy_and_broadcasts():
    for layers in ("all_layers", "first_layer"):
        net = made.AutoregressiveNetwork(2, event_shape=[3], hidden_units=[5], activation="tanh",
                                         conditional_event_shape=[2],
                                         conditional_input_layers=layers, seed=2)
        rs = np.random.RandomState(0)
        x, c = rs.randn(4, 3).astype(np.float32), rs.randn(4, 2).astype(np.float32)
        np.testing.assert_allclose(net(x, conditional_input=c), numpy_forward(net, x, c),
                                   rtol=1e-5, atol=1e-5)
        # One conditioning row for a batch [2, 4, E]: batch shapes broadcast as in TFP.
        xb = rs.randn(2, 4, 3).astype(np.float32)
        yb = net(xb, conditional_input=c[0])
        assert yb.shape == (2, 4, 3, 2)
        assert same_bits(yb[1, 2], net(xb[1, 2:3], conditional_input=c[:1])[0])


def test_batch_shapes():
    net = made.AutoregressiveNetwork(2, event_shape=3, hidden_units=[4], seed=1)
    rs = np.random.RandomState(0)
    x = rs.randn(2, 5, 3).astype(np.float32)
    y = net(x)
    assert y.shape == (2, 5, 3, 2)
    assert same_bits(y.reshape(10, 3, 2), net(x.reshape(10, 3)))
    assert net(x[0, 0]).shape == (3, 2)
    assert net(np.zeros((0, 3))).shape == (0, 3, 2)
    # float64, non-contiguous and list inputs give the same bits as float32 C order.
    xf = np.asfortranarray(x.reshape(10, 3)).astype(np.float64)
    assert same_bits(net(xf), y.reshape(10, 3, 2))
    assert same_bits(net(x.reshape(10, 3)[::2]), y.reshape(10, 3, 2)[::2])
    assert same_bits(net(x[0, 0].tolist()), y[0, 0])


def test_built_on_first_call_like_tfp():
    net = made.AutoregressiveNetwork(2, hidden_units=[3])
    assert not net.built and net.get_weights() == [] and net.event_shape is None
    with pytest.raises(ValueError, match="not built"):
        net.masks
    y = net(np.ones((2, 4)))
    assert net.built and y.shape == (2, 4, 2) and net.event_shape == [4]
    with pytest.raises(ValueError, match="4 values"):
        net(np.ones((2, 5)))


def test_tfp_defaults_and_degrees():
    net = made.AutoregressiveNetwork(1, event_shape=[3], hidden_units=[4])
    c = net.get_config()
    assert c == {"params": 1, "event_shape": [3], "hidden_units": [4],
                 "input_order": "left-to-right", "hidden_degrees": "equal", "activation": None,
                 "use_bias": True, "kernel_initializer": "glorot_uniform",
                 "bias_initializer": "zeros", "validate_args": False,
                 "conditional_event_shape": None, "conditional_input_layers": "all_layers",
                 "seed": 0}
    # TFP's worked example: E = 3, 4 hidden units, left-to-right, equal degrees.
    assert net.input_order.tolist() == [1, 2, 3]
    assert [d.tolist() for d in net.degrees] == [[1, 2, 3], [1, 1, 2, 2]]
    m1, m2 = net.masks
    assert m1.astype(int).tolist() == [[1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0]]
    assert m2.astype(int).tolist() == [[0, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 1]]
    assert net.count_params() == (3 + 1) * 4 + (4 + 1) * 3
    assert net.weight_names == ["layers.0.kernel", "layers.0.bias", "layers.1.kernel",
                                "layers.1.bias"]


def test_explicit_order_is_one_based():
    net = made.AutoregressiveNetwork(1, event_shape=[3], input_order=[2, 3, 1])
    assert net.input_order.tolist() == [2, 3, 1]
    assert net.get_config()["input_order"] == [2, 3, 1]
    # Without hidden layers, input i feeds output j iff order[j] > order[i].
    (m,) = net.masks
    assert m.astype(int).tolist() == [[0, 1, 0], [0, 0, 0], [1, 1, 0]]
    rl = made.AutoregressiveNetwork(1, event_shape=[3], input_order="right-to-left")
    assert rl.input_order.tolist() == [3, 2, 1]


def test_autoregressive_property():
    net = made.AutoregressiveNetwork(2, event_shape=[5], hidden_units=[8, 8],
                                     input_order="random", hidden_degrees="random",
                                     activation="relu", seed=3)
    order = net.input_order
    x = np.random.RandomState(0).randn(1, 5).astype(np.float32)
    y0 = net(x)
    for j in range(5):
        xj = x.copy()
        xj[0, j] += 1.0
        changed = np.any(net(xj) != y0, axis=-1)[0]
        # Output i may depend on input j only if order[j] < order[i].
        assert not np.any(changed & (order <= order[j]))


def test_weights_round_trip_and_mask_applied():
    net = made.AutoregressiveNetwork(2, event_shape=[3], hidden_units=[4],
                                     conditional_event_shape=[2], seed=1)
    ws = net.get_weights()
    assert [w.shape for w in ws] == [(3, 4), (4,), (2, 4), (4, 6), (6,), (2, 6)]
    new = [np.full(w.shape, 0.5, np.float32) for w in ws]
    net.set_weights(new)
    got = net.get_weights()
    for w, m in zip([got[0], got[3]], net.masks):
        assert np.all(w[~m] == 0) and np.all(w[m] == 0.5)
    assert np.all(got[2] == 0.5) and np.all(got[1] == 0.5)
    net.set_weights(got)
    assert all(same_bits(a, b) for a, b in zip(got, net.get_weights()))


def test_set_weights_is_all_or_nothing():
    net = made.AutoregressiveNetwork(1, event_shape=[3], hidden_units=[4], seed=1)
    before = net.get_weights()
    bad = [w + 1 for w in before]
    bad[3] = np.array([np.nan, 0, 0], np.float32)
    with pytest.raises(ValueError, match="NaN"):
        net.set_weights(bad)
    bad[3] = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="shape"):
        net.set_weights(bad)
    with pytest.raises(ValueError, match="2 arrays given"):
        net.set_weights(before[:2])
    assert all(same_bits(a, b) for a, b in zip(before, net.get_weights()))


def test_save_load_round_trip(tmp_path):
    net = made.AutoregressiveNetwork(3, event_shape=[4], hidden_units=[5], input_order=[4, 2, 1, 3],
                                     activation="gelu", conditional_event_shape=2,
                                     conditional_input_layers="first_layer", seed=9)
    p = tmp_path / "n.safetensors"
    net.save(p)
    back = made.load(p)
    assert type(back) is made.AutoregressiveNetwork
    assert back.get_config() == net.get_config()
    x, c = np.random.RandomState(0).randn(6, 4), np.random.RandomState(1).randn(6, 2)
    assert same_bits(back(x, conditional_input=c), net(x, conditional_input=c))
    assert made.AutoregressiveNetwork.load(str(p)).get_config() == net.get_config()


def test_threads_give_the_same_bits():
    net = made.AutoregressiveNetwork(2, event_shape=[30], hidden_units=[64, 64],
                                     activation="relu", seed=4)
    x = np.random.RandomState(0).randn(1000, 30).astype(np.float32)
    y1 = net(x)
    net.threads = 2
    assert net.threads == 2 and same_bits(net(x), y1)


def test_concurrent_calls_from_python_threads():
    net = made.AutoregressiveNetwork(2, event_shape=[20], hidden_units=[32], activation="relu",
                                     seed=4)
    x = np.random.RandomState(0).randn(500, 20).astype(np.float32)
    want = net(x)
    errors = []

    def work():
        for _ in range(20):
            if not same_bits(net(x), want):
                errors.append("different")
    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []


def test_close_and_context_manager():
    with made.AutoregressiveNetwork(1, event_shape=[2]) as net:
        net(np.ones(2))
    for use in (lambda: net(np.ones(2)), net.get_weights, lambda: net.masks,
                lambda: net.save("x"), lambda: net.set_weights([]), net.count_params):
        with pytest.raises(ValueError, match="closed"):
            use()
    net.close()  # twice is fine
    assert "closed" in repr(net)


def test_float32_c_order_arrays_are_passed_without_a_copy():
    from made import _args
    a = np.zeros((4, 3), np.float32)
    assert _args.floats("x", a) is a
    b = np.zeros((4, 3), np.float64)
    assert _args.floats("x", b) is not b
    f = np.asfortranarray(a)
    assert _args.floats("x", f).flags.c_contiguous
    ro = a.copy()
    ro.flags.writeable = False
    assert net_output_ok(ro)


def net_output_ok(x):
    net = made.AutoregressiveNetwork(1, event_shape=[3])
    return net(x).shape == (4, 3, 1)
