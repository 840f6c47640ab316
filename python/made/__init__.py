"""made: masked autoregressive density estimation (MADE) from Python.

The networks behave like TensorFlow Probability's
tfp.bijectors.AutoregressiveNetwork (same arguments, orders, degrees, masks,
output layout [..., E, params] and weight order) and call the same compiled
libmade as the `made` command line, so every number agrees with it bit for bit.

    import numpy as np, made
    net = made.AutoregressiveNetwork(params=2, event_shape=[3], hidden_units=[4],
                                     activation='relu', seed=7)
    y = net(np.ones((5, 3), np.float32))          # shape (5, 3, 2)
    model = made.fit(data, dist='bernoulli', hidden_units=[64], epochs=5)
    model.log_prob(data), model.sample(10, seed=1)
    flow = made.fit(x, flow='maf:5', hidden_units=[64, 64], batch_norm=True)
    flow.log_prob(x), flow.sample(10, seed=1), flow.inverse_and_log_det(x)

Errors from the library become ValueError (arguments, data, shapes), OSError
(files) or MemoryError, with made's message.
"""
from ._lib import VERSION as __version__
from ._network import AutoregressiveNetwork, load
from ._density import DensityModel, Progress, fit, read_data
from ._flow import Flow


def from_keras(network, seed=None):
    """A made AutoregressiveNetwork equal to a built TFP AutoregressiveNetwork
    (needs TensorFlow Probability, imported only now)."""
    from ._keras import from_keras as convert
    return convert(network, seed=seed)


def from_tfp(distribution, seed=None):
    """A made.Flow equal to a TFP flow: a tfd.TransformedDistribution over a
    standard normal whose bijector is a tfb.Chain of tfb.MaskedAutoregressiveFlow
    (or tfb.Invert of one) around built AutoregressiveNetworks, with tfb.Permute
    between them (needs TensorFlow Probability, imported only now)."""
    from ._keras import flow_from_tfp
    return flow_from_tfp(distribution, seed=seed)


__all__ = ["AutoregressiveNetwork", "DensityModel", "Flow", "Progress", "fit", "load",
           "read_data", "from_keras", "from_tfp", "__version__"]
