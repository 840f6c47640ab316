"""Density models: normalisation, progress callbacks, interruption, resuming."""
import itertools
import os
import signal
import threading

import numpy as np
import pytest

import made
from conftest import binary_data, same_bits


def test_bernoulli_sums_to_one():
    x = binary_data(300, 5)
    m = made.fit(x, hidden_units=[7], epochs=2, seed=1)
    every = np.array(list(itertools.product([0, 1], repeat=5)), np.float32)
    total = np.exp(m.log_prob(every)).sum()
    assert abs(total - 1) < 1e-6
    # nll is the mean of -log_prob.
    assert abs(m.nll(x) + m.log_prob(x).mean()) < 1e-9
    assert m.log_prob(x.reshape(3, 100, 5)).shape == (3, 100)


def test_categorical_sums_to_one_for_every_mask():
    rs = np.random.RandomState(0)
    x = rs.randint(0, 3, size=(200, 3)).astype(np.float32)
    m = made.fit(x, "categorical:3", hidden_units=[6], epochs=1, masks=2,
                 input_order="random", seed=2)
    every = np.array(list(itertools.product(range(3), repeat=3)), np.float32)
    for k in (1, 2):
        assert abs(np.exp(m.log_prob(every, masks=k)).sum() - 1) < 1e-6


def test_samples_follow_the_model():
    # A model fitted to nearly-constant data samples that constant.
    x = np.tile(np.array([[1, 0, 1, 1]], np.float32), (400, 1))
    m = made.fit(x, hidden_units=[4], epochs=30, lr=0.05, seed=0)
    s = m.sample(200, seed=5)
    assert s.shape == (200, 4) and s.dtype == np.float32
    assert (s == x[0]).all(axis=1).mean() > 0.9
    assert same_bits(s, m.sample(200, seed=5)) and not same_bits(s, m.sample(200, seed=6))


def test_progress_callback_sees_every_batch_and_epoch():
    seen = []
    made.fit(binary_data(100, 4), hidden_units=[3], epochs=2, batch_size=30, val_fraction=0.2,
             progress=seen.append)
    ends = [p for p in seen if p.epoch_done]
    assert [p.epoch for p in ends] == [1, 2] and all(p.val_nll is not None for p in ends)
    batches = [p for p in seen if not p.epoch_done]
    assert len(batches) == 2 * 3 and batches[-1].batches == 3 and batches[-1].step == 6


def test_exception_in_callback_stops_and_is_reraised():
    calls = []

    def stop(p):
        calls.append(p)
        if p.step == 2:
            raise RuntimeError("enough")
    with pytest.raises(RuntimeError, match="enough"):
        made.fit(binary_data(100, 4), hidden_units=[3], epochs=5, batch_size=10, progress=stop)
    assert calls[-1].step == 2


def test_any_exception_in_the_callback_is_reraised():
    with pytest.raises(ZeroDivisionError):
        made.fit(binary_data(50, 3), hidden_units=[2], epochs=1, progress=lambda p: 1 / 0)


def test_interrupt_writes_a_checkpoint_that_resumes_bit_for_bit(tmp_path):
    x = binary_data(400, 6)
    kw = dict(hidden_units=[10], epochs=4, batch_size=20, seed=3, val_fraction=0.1)
    whole = made.fit(x, **kw)
    ckpt = tmp_path / "run.ckpt"

    def ctrl_c(p):
        if p.step == 27:  # mid-epoch
            os.kill(os.getpid(), signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        made.fit(x, checkpoint=ckpt, progress=ctrl_c, **kw)
    assert ckpt.exists()
    resumed = made.fit(x, resume=ckpt, val_fraction=0.1)
    assert all(same_bits(a, b) for a, b in zip(whole.get_weights(), resumed.get_weights()))
    with pytest.raises(ValueError, match="cannot be changed when resuming"):
        made.fit(x, resume=ckpt, epochs=9)


def test_sigint_from_another_thread_stops_training(tmp_path):
    x = binary_data(2000, 20)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            made.fit(x, hidden_units=[64], epochs=1500, batch_size=10)  # ~30 s uninterrupted
    finally:
        timer.cancel()


def test_order_agnostic_ensemble_and_mask_index():
    x = binary_data(200, 4)
    m = made.fit(x, hidden_units=[8], epochs=1, masks=3, input_order="random",
                 hidden_degrees="random", seed=4)
    assert m.num_masks == 3 and m.mask_index == 0
    single = m.log_prob(x, masks=1)
    mix = m.log_prob(x)
    lps = []
    for k in range(3):
        m.mask_index = k
        lps.append(m.log_prob(x, masks=0))
    m.mask_index = 0
    ref = np.logaddexp.reduce(np.stack(lps), axis=0) - np.log(3)
    np.testing.assert_allclose(mix, ref, rtol=0, atol=1e-9)
    assert same_bits(single, lps[0])
    assert abs(m.nll(x, masks=0) + lps[0].mean()) < 1e-9


def test_fit_reads_files_and_saves(tmp_path):
    x = binary_data(100, 4)
    np.save(tmp_path / "x.npy", x)
    m = made.fit(str(tmp_path / "x.npy"), hidden_units=[3], epochs=1)
    m.save(tmp_path / "m.safetensors")
    back = made.load(tmp_path / "m.safetensors")
    assert isinstance(back, made.DensityModel) and back.dist == "bernoulli"
    assert same_bits(back.log_prob(x), m.log_prob(x))
