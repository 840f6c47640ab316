"""Flows to and from TensorFlow Probability on random configurations: made's
Flow.to_tfp() and made.from_tfp() against TFP's own log_prob, forward (from
given base noise) and inverse with log-determinants, MAF and IAF stacks of 1-4
layers, conditional or not. Skipped (and said so) when TFP is not importable."""
import os

import numpy as np
import pytest

import made

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tfp = pytest.importorskip("tensorflow_probability",
                          reason="TensorFlow Probability is not installed: the TFP flow "
                                 "conversion tests are skipped")
tfb, tfd = tfp.bijectors, tfp.distributions

ACTS = [None, "relu", "tanh", "sigmoid", "elu", "swish"]
N_CONFIGS = int(os.environ.get("MADE_TFP_CONFIGS", "16"))
worst = {"to_tfp": 0.0, "from_tfp": 0.0}


def rel(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.max(np.abs(got - want) / (1 + np.abs(want)))) if got.size else 0.0


def random_net(rs, e):
    cfg = dict(hidden_units=[int(rs.randint(2, 9)) for _ in range(rs.randint(1, 3))],
               activation=ACTS[rs.randint(len(ACTS))],
               kernel_initializer="random_normal:0,0.3", bias_initializer="random_normal:0,0.3")
    kind = rs.randint(3)
    cfg["input_order"] = (["left-to-right", "right-to-left"][kind] if kind < 2
                          else [int(v) + 1 for v in rs.permutation(e)])
    if rs.rand() < 0.4:
        cfg.update(conditional_event_shape=[int(rs.randint(1, 4))],
                   conditional_input_layers=["all_layers", "first_layer"][rs.randint(2)])
    return cfg


def compare(flow, dist, rs, which):
    """made's flow against TFP's distribution on the same inputs."""
    e = flow.event_size
    z = rs.randn(7, e).astype(np.float32)
    c = None
    kw = {}
    if flow.conditional:
        c = rs.randn(7, flow.conditional_event_shape[0]).astype(np.float32)
        kw = dict(bijector_kwargs=flow.tfp_bijector_kwargs(c))
    bij = dist.bijector
    y, fldj = flow.forward_and_log_det(z, conditional=c)
    ty = np.asarray(bij.forward(z, **kw.get("bijector_kwargs", {})))
    tfldj = np.asarray(bij.forward_log_det_jacobian(z, event_ndims=1,
                                                    **kw.get("bijector_kwargs", {})))
    x, ildj = flow.inverse_and_log_det(y, conditional=c)
    tx = np.asarray(bij.inverse(y, **kw.get("bijector_kwargs", {})))
    lp = flow.log_prob(y, conditional=c)
    tlp = np.asarray(dist.log_prob(y, **kw))
    err = max(rel(y, ty), rel(fldj, tfldj), rel(x, tx), rel(lp, tlp))
    worst[which] = max(worst[which], err)
    assert err <= 1e-5, err
    assert np.allclose(ildj, -fldj, atol=1e-4)


@pytest.mark.parametrize("k", range(N_CONFIGS))
def test_to_tfp(k):
    rs = np.random.RandomState(3000 + k)
    e = int(rs.randint(1, 6))
    cfg = random_net(rs, e)
    flow = made.Flow(event_shape=[e], num_layers=int(rs.randint(1, 5)),
                     kind=["maf", "iaf"][rs.randint(2)], seed=k,
                     permutation=["reverse", "random", "identity"][rs.randint(3)], **cfg)
    dist = flow.to_tfp()
    compare(flow, dist, rs, "to_tfp")
    perms = flow.permutations
    if all(np.array_equal(p, perms[0]) for p in perms):  # one permutation: it converts back
        back = made.from_tfp(dist)
        assert all(np.array_equal(a, b) for a, b in zip(back.permutations, perms))
        for a, b in zip(back.layers, flow.layers):
            assert all(u.tobytes() == v.tobytes() for u, v in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize("k", range(N_CONFIGS))
def test_from_tfp(k):
    rs = np.random.RandomState(4000 + k)
    e = int(rs.randint(1, 6))
    cfg = random_net(rs, e)
    cond = cfg.pop("conditional_event_shape", None)
    layers = cfg.pop("conditional_input_layers", "all_layers")
    kind = ["maf", "iaf"][rs.randint(2)]
    n_layers = int(rs.randint(1, 5))
    perm = rs.permutation(e).astype(np.int32)
    chain = []
    for j in range(n_layers):
        net = tfb.AutoregressiveNetwork(
            2, event_shape=[e], hidden_units=cfg["hidden_units"], input_order=cfg["input_order"],
            activation=cfg["activation"], kernel_initializer="random_normal",
            bias_initializer="random_normal",
            **(dict(conditional=True, conditional_event_shape=cond,
                    conditional_input_layers=layers) if cond else {}))
        x0 = np.zeros((1, e), np.float32)
        net(x0, conditional_input=np.zeros((1, cond[0]), np.float32)) if cond else net(x0)
        maf = tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=net, name="maf_%d" % j)
        chain.append(maf if kind == "maf" else tfb.Invert(maf, name="iaf_%d" % j))
        if j < n_layers - 1:
            chain.append(tfb.Permute(permutation=perm))
    dist = tfd.TransformedDistribution(tfd.MultivariateNormalDiag(loc=np.zeros(e, np.float32)),
                                       tfb.Chain(chain[::-1]))
    flow = made.from_tfp(dist)
    assert flow.kind == kind and flow.num_layers == n_layers
    assert all(np.array_equal(p, perm) for p in flow.permutations)
    compare(flow, dist, rs, "from_tfp")


def test_what_does_not_convert():
    with pytest.raises(ValueError, match="batch_norm"):
        made.Flow(event_shape=2, batch_norm=True).to_tfp()
    with pytest.raises(ValueError, match="scale"):
        made.Flow(event_shape=2, scale="softplus").to_tfp()
    with pytest.raises(ValueError, match="preprocessing"):
        made.Flow(event_shape=2, standardize=True).to_tfp()
    with pytest.raises(ValueError, match="TransformedDistribution"):
        made.from_tfp(tfd.Normal(0.0, 1.0))
    net = tfb.AutoregressiveNetwork(2, event_shape=[2], hidden_units=[3])
    net(np.zeros((1, 2), np.float32))
    maf = tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=net)
    wide = tfd.TransformedDistribution(tfd.MultivariateNormalDiag(loc=[0.0, 0.0],
                                                                  scale_diag=[2.0, 2.0]), maf)
    with pytest.raises(ValueError, match="standard normal"):
        made.from_tfp(wide)
    shifted = tfd.TransformedDistribution(tfd.MultivariateNormalDiag(loc=[0.0, 0.0]),
                                          tfb.Chain([tfb.Shift([1.0, 1.0]), maf]))
    with pytest.raises(ValueError, match="Permute"):
        made.from_tfp(shifted)
    other = tfb.AutoregressiveNetwork(2, event_shape=[2], hidden_units=[5])
    other(np.zeros((1, 2), np.float32))
    mixed = tfd.TransformedDistribution(
        tfd.MultivariateNormalDiag(loc=[0.0, 0.0]),
        tfb.Chain([tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=other),
                   tfb.Permute([1, 0]), maf]))
    with pytest.raises(ValueError, match="hidden_units"):
        made.from_tfp(mixed)


def test_report_worst_error():
    print("\nTFP flows: max relative |made - TFP| to_tfp %.3g, from_tfp %.3g over %d configs "
          "each (log_prob, forward, inverse, log-determinant)"
          % (worst["to_tfp"], worst["from_tfp"], N_CONFIGS))
