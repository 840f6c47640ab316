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

Errors from the library become ValueError (arguments, data, shapes), OSError
(files) or MemoryError, with made's message.
"""
from ._lib import VERSION as __version__
from ._network import AutoregressiveNetwork, load
from ._density import DensityModel, Progress, fit, read_data


def from_keras(network, seed=None):
    """A made AutoregressiveNetwork equal to a built TFP AutoregressiveNetwork
    (needs TensorFlow Probability, imported only now)."""
    from ._keras import from_keras as convert
    return convert(network, seed=seed)


__all__ = ["AutoregressiveNetwork", "DensityModel", "Progress", "fit", "load", "read_data",
           "from_keras", "__version__"]
