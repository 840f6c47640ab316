"""_keras.py - converting between made networks and TensorFlow Probability's
tfp.bijectors.AutoregressiveNetwork. TensorFlow Probability is imported only
here, and only when a conversion is asked for."""
import warnings

import numpy as np

from . import _args


def _tfp():
    try:
        import tensorflow_probability as tfp
        from tensorflow_probability.python.internal import tf_keras
    except ImportError as e:
        raise ImportError("made: converting to or from Keras needs TensorFlow Probability "
                          "(pip install tensorflow tf-keras tensorflow-probability): %s" % e)
    return tfp, tf_keras


def _activation_name(act, tf_keras):
    if act is None or isinstance(act, str):
        return act
    name = tf_keras.activations.serialize(act)
    if not isinstance(name, str):
        name = getattr(act, "__name__", None)
    if not isinstance(name, str):
        raise ValueError("activation %r has no Keras name made knows" % (act,))
    return name


def _initializer(v, name, tf_keras):
    if isinstance(v, (str, dict)):
        return v
    return tf_keras.initializers.serialize(v)


def from_keras(network, seed=None):
    """A made AutoregressiveNetwork with the configuration, masks and weights
    of a built tfp.bijectors.AutoregressiveNetwork.

    Networks with hidden_degrees='random' draw their degrees from numpy's
    global random state; pass the seed given to np.random.seed before the TFP
    network was built. The masks are compared after conversion, and a mismatch
    is a ValueError."""
    from ._network import AutoregressiveNetwork
    _, tf_keras = _tfp()
    net = network
    if getattr(net, "_masks", None) is None or getattr(net, "_input_order", None) is None:
        raise ValueError("from_keras: the TFP network is not built yet (call it once)")
    for attr in ("_kernel_regularizer", "_bias_regularizer", "_bias_constraint"):
        if getattr(net, attr, None) is not None:
            warnings.warn("from_keras: %s is not carried over to made" % attr[1:])
    degrees = net._hidden_degrees
    order = [int(o) for o in np.asarray(net._input_order).reshape(-1)]
    if degrees == "random":
        if seed is None:
            raise ValueError("from_keras: hidden_degrees='random' depends on numpy's global "
                             "random state; pass seed= (the np.random.seed value used before "
                             "the TFP network was built)")
        param = net._input_order_param
        order_arg = param if isinstance(param, str) else order
    else:
        order_arg = order
    cond = bool(net._conditional)
    made_net = AutoregressiveNetwork(
        int(net._params), event_shape=[int(net._event_size)],
        hidden_units=[int(u) for u in net._hidden_units], input_order=order_arg,
        hidden_degrees=degrees, activation=_activation_name(net._activation, tf_keras),
        use_bias=bool(net._use_bias),
        kernel_initializer=_initializer(net._kernel_initializer, "kernel_initializer", tf_keras),
        bias_initializer=_initializer(net._bias_initializer, "bias_initializer", tf_keras),
        validate_args=bool(net._validate_args),
        conditional_event_shape=[int(net._conditional_size)] if cond else None,
        conditional_input_layers=net._conditional_layers if cond else "all_layers",
        seed=seed)
    tfp_masks = [np.asarray(m).astype(bool) for m in net._masks]
    ours = made_net.masks
    if len(ours) != len(tfp_masks) or any(
            a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(ours, tfp_masks)):
        raise ValueError("from_keras: the masks made builds differ from the TFP network's "
                         "(for hidden_degrees='random', is seed the np.random.seed value "
                         "used before building it?)")
    weights = net.get_weights()
    names = made_net.weight_names
    masks = iter(ours)
    for w, name in zip(weights, names):
        if name.endswith(".kernel") and not name.endswith("conditional_kernel"):
            m = next(masks)
            if np.any(np.asarray(w)[~m] != 0):
                raise ValueError("from_keras: %s has non-zero entries where its mask is zero "
                                 "(the TFP network is not autoregressive)" % name)
    made_net.set_weights(weights)
    return made_net


def _keras_initializer(text, tf_keras):
    kind, _, args = text.partition(":")
    if not args:
        return kind
    if kind == "constant":
        return tf_keras.initializers.Constant(float(args))
    if kind == "random_uniform":
        lo, hi = (float(a) for a in args.split(","))
        return tf_keras.initializers.RandomUniform(lo, hi)
    if kind in ("random_normal", "truncated_normal"):
        mean, sd = (float(a) for a in args.split(","))
        cls = (tf_keras.initializers.RandomNormal if kind == "random_normal"
               else tf_keras.initializers.TruncatedNormal)
        return cls(mean, sd)
    if kind == "variance_scaling":
        kv = dict(a.split("=") for a in args.split(","))
        return tf_keras.initializers.VarianceScaling(scale=float(kv["scale"]), mode=kv["mode"],
                                                     distribution=kv["distribution"])
    raise ValueError("initializer %r has no Keras form" % text)


def to_keras(made_net):
    """A built tfp.bijectors.AutoregressiveNetwork with made_net's configuration
    and weights (the masks are checked to be identical)."""
    tfp, tf_keras = _tfp()
    cfg = made_net.get_config()
    e = cfg["event_shape"][0] if cfg["event_shape"] else None
    if e is None:
        raise ValueError("to_keras: the network is not built yet")
    order = [int(o) for o in made_net.input_order]
    random_degrees = cfg["hidden_degrees"] == "random"
    kw = dict(
        event_shape=[e], hidden_units=cfg["hidden_units"],
        input_order=cfg["input_order"] if random_degrees else order,
        hidden_degrees=cfg["hidden_degrees"], activation=cfg["activation"],
        use_bias=cfg["use_bias"],
        kernel_initializer=_keras_initializer(cfg["kernel_initializer"], tf_keras),
        bias_initializer=_keras_initializer(cfg["bias_initializer"], tf_keras),
        validate_args=cfg["validate_args"])
    if cfg["conditional_event_shape"]:
        kw.update(conditional=True, conditional_event_shape=cfg["conditional_event_shape"],
                  conditional_input_layers=cfg["conditional_input_layers"])
    net = tfp.bijectors.AutoregressiveNetwork(cfg["params"], **kw)
    state = np.random.get_state()
    try:
        # TFP draws 'random' orders and degrees from numpy's global state when built.
        np.random.seed(cfg["seed"])
        x = np.zeros((1, e), dtype=np.float32)
        if cfg["conditional_event_shape"]:
            net(x, conditional_input=np.zeros((1, cfg["conditional_event_shape"][0]), np.float32))
        else:
            net(x)
    finally:
        np.random.set_state(state)
    theirs = [np.asarray(m).astype(bool) for m in net._masks]
    if any(not np.array_equal(a, b) for a, b in zip(made_net.masks, theirs)):
        raise ValueError("to_keras: TFP built different masks")
    net.set_weights(made_net.get_weights())
    return net


# ---- flows -------------------------------------------------------------------------
def _layer_names(kind, k):
    return ("maf_%d" % k) if kind == "maf" else ("iaf_%d" % k)


def flow_to_tfp(flow):
    """tfd.TransformedDistribution(MultivariateNormalDiag(zeros(E)),
    tfb.Chain([L_K-1, Permute_K-2, ..., Permute_0, L_0])) with L_k =
    tfb.MaskedAutoregressiveFlow(net_k, name='maf_k') or, for an IAF,
    tfb.Invert(it, name='iaf_k'); the networks are layer.to_keras()."""
    tfp, _ = _tfp()
    tfb, tfd = tfp.bijectors, tfp.distributions
    cfg = flow.get_config()
    for name, ok in (("batch_norm", not cfg["batch_norm"]), ("scale", cfg["scale"] == "exp"),
                     ("preprocessing", flow.preprocess == "none")):
        if not ok:
            raise ValueError("to_tfp: the flow's %s has no exact counterpart in TFP's "
                             "MaskedAutoregressiveFlow (only scale='exp', no batch norm, no "
                             "preprocessing convert)" % name)
    perms = flow.permutations
    chain = []
    for k, layer in enumerate(flow.layers):
        maf = tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=layer.to_keras(),
                                           name="maf_%d" % k)
        chain.append(maf if cfg["kind"] == "maf" else tfb.Invert(maf, name="iaf_%d" % k))
        if k < len(perms):
            chain.append(tfb.Permute(permutation=perms[k].astype(np.int32), name="permute_%d" % k))
    e = cfg["event_shape"][0]
    base = tfd.MultivariateNormalDiag(loc=np.zeros(e, np.float32))
    return tfd.TransformedDistribution(distribution=base, bijector=tfb.Chain(chain[::-1]))


def tfp_bijector_kwargs(flow, conditional):
    """The bijector_kwargs that hand one conditional input to every layer of
    flow_to_tfp's result (log_prob(y, bijector_kwargs=...))."""
    kind = flow.kind
    return {_layer_names(kind, k): {"conditional_input": conditional}
            for k in range(flow.num_layers)}


def _is(obj, name):
    """Whether obj is a TFP `name` (tfb.Chain and others are built as private
    non-composite twins, _Chain ..., which are not subclasses of the public class)."""
    return any(c.__name__.lstrip("_") == name for c in type(obj).__mro__)


def _flow_layers_of(dist):
    """(kind, [network per layer], [permutation per gap]) of a TFP flow."""
    if not (hasattr(dist, "bijector") and hasattr(dist, "distribution")):
        raise ValueError("from_tfp: expected a tfd.TransformedDistribution, got %r" % (dist,))
    bij = dist.bijector
    items = list(bij.bijectors)[::-1] if _is(bij, "Chain") else [bij]
    kinds, nets, perms = [], [], []
    for i, b in enumerate(items):
        want_layer = i % 2 == 0
        if not want_layer:
            if not _is(b, "Permute"):
                raise ValueError("from_tfp: bijector %d (in application order) is %s; made's "
                                 "flows alternate autoregressive layers and tfb.Permute"
                                 % (i, type(b).__name__.lstrip("_")))
            perms.append(np.asarray(b.permutation).astype(np.int64))
            continue
        kind = "maf"
        if _is(b, "Invert"):
            kind, b = "iaf", b.bijector
        if not _is(b, "MaskedAutoregressiveFlow"):
            raise ValueError("from_tfp: bijector %d (in application order) is %s; expected "
                             "tfb.MaskedAutoregressiveFlow or tfb.Invert of one"
                             % (i, type(b).__name__.lstrip("_")))
        net = getattr(b, "_shift_and_log_scale_fn", None)
        if not _is(net, "AutoregressiveNetwork") or int(net._params) != 2:
            raise ValueError("from_tfp: layer %d's shift_and_log_scale_fn is not an "
                             "AutoregressiveNetwork with params=2" % len(nets))
        kinds.append(kind)
        nets.append(net)
    if len(set(kinds)) != 1:
        raise ValueError("from_tfp: the layers mix MAF and inverted (IAF) layers")
    if len(items) % 2 == 0:
        raise ValueError("from_tfp: the chain ends with a permutation; made's flows end with a layer")
    return kinds[0], nets, perms


def flow_from_tfp(dist, seed=None):
    """A made.Flow equal to a TFP flow (see flow_to_tfp for the form). Every
    layer's network must have the same configuration (made's flow layers share
    one) and every gap the same permutation; networks with 'random' orders or
    degrees need seed: layer k's network built after np.random.seed(seed + k),
    as made seeds its layers. The masks are compared after conversion."""
    from ._flow import Flow
    _tfp()
    kind, nets, perms = _flow_layers_of(dist)
    k_layers = len(nets)
    random_order = [getattr(n, "_input_order_param", None) == "random" for n in nets]
    randomness = any(random_order) or any(n._hidden_degrees == "random" for n in nets)
    if randomness and seed is None:
        raise ValueError("from_tfp: a layer has 'random' input order or degrees, drawn from "
                         "numpy's global state; pass seed= (layer k's network built after "
                         "np.random.seed(seed + k))")
    made_nets = [from_keras(n, seed=None if seed is None else seed + k) for k, n in enumerate(nets)]
    configs = [m.get_config() for m in made_nets]
    base = dict(configs[0])
    if randomness:
        base["input_order"] = "random" if all(random_order) else base["input_order"]
    for k, c in enumerate(configs[1:], 1):
        c = dict(c)
        c["seed"] = base["seed"]
        if randomness and all(random_order):
            c["input_order"] = "random"
        if c != base:
            diff = sorted(n for n in c if c[n] != base[n])
            raise ValueError("from_tfp: layer %d's network differs from layer 0's in %s; made's "
                             "flow layers share one configuration" % (k, ", ".join(diff)))
    e = base["event_shape"][0]
    if perms and any(not np.array_equal(p, perms[0]) for p in perms):
        raise ValueError("from_tfp: the permutations between layers differ; made's flows use "
                         "one permutation for every gap")
    perm = "reverse" if not perms else perms[0].tolist()
    _check_standard_normal(dist.distribution, e)
    del base["params"], base["event_shape"]
    base["seed"] = 0 if seed is None else seed
    flow = Flow(event_shape=[e], num_layers=k_layers, kind=kind, permutation=perm, **base)
    for k, (layer, m, n) in enumerate(zip(flow.layers, made_nets, nets)):
        theirs = [np.asarray(mask).astype(bool) for mask in n._masks]
        if any(not np.array_equal(a, b) for a, b in zip(layer.masks, theirs)):
            raise ValueError("from_tfp: layer %d's masks differ from the TFP network's (with "
                             "'random' orders or degrees, was it built after "
                             "np.random.seed(seed + %d)?)" % (k, k))
        layer.set_weights(m.get_weights())
    return flow


def _check_standard_normal(base, e):
    """The base must be the standard normal on R^E (checked numerically)."""
    z = np.random.RandomState(0).randn(5, e).astype(np.float32)
    try:
        lp = np.asarray(base.log_prob(z), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - any TF error: not a base made can use
        raise ValueError("from_tfp: the base distribution cannot score events of size %d (%s)"
                         % (e, exc))
    want = -0.5 * (z.astype(np.float64) ** 2).sum(-1) - 0.5 * e * np.log(2 * np.pi)
    if lp.shape != (5,) or np.max(np.abs(lp - want)) > 1e-4:
        raise ValueError("from_tfp: the base distribution is not the standard normal on R^%d" % e)
