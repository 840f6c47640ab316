"""TFP's own MADE (tfp.bijectors.AutoregressiveNetwork) on one configuration.

Run with a python that has tensorflow, tf-keras and tensorflow-probability
(e.g. a virtual environment); bench/bench.py calls it with --tfp-python PATH:

    PATH/python bench/bench_tfp.py --event-size 784 --hidden 500 --batch 100 --threads 1

Prints one JSON line (examples per second, median of --runs runs of about
--run-time seconds each):
  forward_eps  network(x) inside a tf.function
  train_eps    one Keras training step inside a tf.function: forward, Bernoulli
               NLL (sigmoid cross-entropy with logits, summed over dimensions,
               mean over the batch), GradientTape, tf_keras Adam (lr 1e-3)
  peak_rss_kb  getrusage ru_maxrss of this process
Same network as made and the PyTorch peer: params=1, left-to-right order,
'equal' degrees, ReLU, glorot_uniform kernels, zero biases.
"""

import argparse
import json
import os
import resource
import sys

from bench import time_work  # bench.py beside this file: the same timing as the other peers

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--event-size", type=int, required=True)
    ap.add_argument("--hidden", required=True, help="comma separated, e.g. 1000,1000")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--run-time", type=float, default=0.2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    import numpy as np
    import tensorflow as tf
    import tensorflow_probability as tfp
    try:
        import tf_keras as keras
    except ImportError:  # older TF with Keras 2 built in
        keras = tf.keras

    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    tf.random.set_seed(a.seed)
    rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    e, b = a.event_size, a.batch
    hidden = [int(v) for v in a.hidden.split(",") if v]
    net = tfp.bijectors.AutoregressiveNetwork(params=1, event_shape=[e], hidden_units=hidden,
                                              activation="relu")
    rng = np.random.default_rng(a.seed)
    x = tf.constant((rng.random((b, e)) < 0.5).astype(np.float32))
    net(x)  # builds the weights
    opt = keras.optimizers.Adam(learning_rate=1e-3)

    @tf.function
    def forward(x):
        return net(x)

    @tf.function
    def train_step(x):
        with tf.GradientTape() as tape:
            logits = net(x)[..., 0]
            nll = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits),
                                axis=-1)
            loss = tf.reduce_mean(nll)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        return loss

    # .numpy() waits for the result, so each timed call is complete.
    tf_, lo, hi = time_work(lambda: forward(x).numpy(), a.run_time, a.runs)
    res = {"framework": "tfp", "tf_version": tf.__version__, "tfp_version": tfp.__version__,
           "event_size": e, "hidden": hidden, "batch": b, "threads": a.threads,
           "forward_eps": b / tf_, "forward_eps_min": b / hi, "forward_eps_max": b / lo}
    tt, lo, hi = time_work(lambda: train_step(x).numpy(), a.run_time, a.runs)
    res.update(train_eps=b / tt, train_eps_min=b / hi, train_eps_max=b / lo)
    res["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res["rss_after_import_kb"] = rss_import
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
