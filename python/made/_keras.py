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
