"""Every bad argument gives ValueError (TypeError for a wrong kind of object,
which is also a ValueError), OSError or MemoryError with a message naming it;
nothing crashes the interpreter."""
import os
import shutil
import tempfile

import numpy as np
import pytest

import made
from conftest import binary_data

NET_BAD = [
    (dict(params=0), "params"),
    (dict(params=1.5), "params"),
    (dict(params=True), "params"),
    (dict(params=None), "params"),
    (dict(event_shape=0), "event_shape"),
    (dict(event_shape=[2, 3]), "rank-1"),
    (dict(event_shape="3"), "event_shape"),
    (dict(event_shape=[-1]), "event_shape"),
    (dict(hidden_units=5), "hidden_units"),
    (dict(hidden_units=[4, 0]), r"hidden_units\[1\]"),
    (dict(hidden_units=[4.0]), r"hidden_units\[0\]"),
    (dict(hidden_units=[1] * 33), "at most 32"),
    (dict(input_order="up"), "input_order"),
    (dict(input_order=[0, 1, 2]), "1-based"),
    (dict(input_order=[1, 1, 2]), "input_order"),
    (dict(input_order=[1, 2]), "2 entries"),
    (dict(input_order=[1.0, 2.0, 3.0]), r"input_order\[0\]"),
    (dict(input_order=5), "input_order"),
    (dict(hidden_degrees="uniform"), "hidden_degrees"),
    (dict(activation="nope"), "activation"),
    (dict(activation=np.tanh), "activation"),
    (dict(use_bias="yes"), "use_bias"),
    (dict(kernel_initializer="magic"), "kernel_initializer"),
    (dict(kernel_initializer="constant:x"), "kernel_initializer"),
    (dict(bias_initializer="random_uniform:1,0"), "bias_initializer"),
    (dict(bias_initializer=3), "bias_initializer"),
    (dict(validate_args=2), "validate_args"),
    (dict(conditional_event_shape=[0]), "conditional_event_shape"),
    (dict(conditional_event_shape=2, event_shape=None), "event_shape must be given"),
    (dict(conditional_event_shape=2, conditional=False), "exactly when"),
    (dict(conditional=True), "exactly when"),
    (dict(conditional_input_layers="last"), "conditional_input_layers"),
    (dict(seed=-1), "seed"),
    (dict(seed=2 ** 32), "seed"),
    (dict(seed="1"), "seed"),
    (dict(kernel_regularizer="l2"), "kernel_regularizer"),
]


@pytest.mark.parametrize("kw,match", NET_BAD)
def test_constructor(kw, match):
    args = dict(params=2, event_shape=[3], hidden_units=[4])
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        made.AutoregressiveNetwork(**args)


def net(**kw):
    return made.AutoregressiveNetwork(2, event_shape=[3], hidden_units=[4], **kw)


@pytest.mark.parametrize("x,match", [
    (None, "expected an array"),
    ("abc", "numbers"),
    (np.array(["1", "2", "3"]), "numbers"),
    (np.array([1 + 2j, 0, 0]), "numbers"),
    (np.array([object(), 1, 2], dtype=object), "numbers"),
    (np.ones((2, 4)), "3 values"),
    (np.float32(1.0), "dimension"),
    ([[1, 2, 3], [1, 2]], "rectangular array"),
])
def test_forward_bad_input(x, match):
    with pytest.raises(ValueError, match=match):
        net()(x)


def test_forward_conditional_mismatches():
    c = made.AutoregressiveNetwork(1, event_shape=[3], conditional_event_shape=[2])
    with pytest.raises(ValueError, match="conditional_input must be passed"):
        c(np.ones((2, 3)))
    with pytest.raises(ValueError, match="2 values"):
        c(np.ones((2, 3)), conditional_input=np.ones((2, 3)))
    with pytest.raises(ValueError, match="broadcast"):
        c(np.ones((2, 3)), conditional_input=np.ones((3, 2)))
    with pytest.raises(ValueError, match="not conditional"):
        net()(np.ones((2, 3)), conditional_input=np.ones((2, 2)))


def test_validate_args_names_row_and_column():
    x = np.ones((3, 3), np.float32)
    x[1, 0] = np.nan
    y = net()(x)  # as TFP: NaN flows through without validate_args
    assert np.isnan(y[1]).any()
    with pytest.raises(ValueError, match="row 2, column 1") as e:
        net(validate_args=True)(x)
    assert e.value.status == "MADE_E_NONFINITE"


def test_huge_sizes_are_memory_errors():
    with pytest.raises((MemoryError, ValueError)):
        made.AutoregressiveNetwork(1, event_shape=[1 << 30], hidden_units=[1 << 30])
    m = made.fit(binary_data(50, 3), hidden_units=[2], epochs=1)
    with pytest.raises(MemoryError):
        m.sample(1 << 40)


def test_files(tmp_path):
    with pytest.raises(OSError, match="missing"):
        made.load(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 40)
    with pytest.raises(OSError) as e:
        made.load(tmp_path / "junk.safetensors")
    assert e.value.status in ("MADE_E_FORMAT", "MADE_E_IO")
    with pytest.raises(OSError):
        net().save(tmp_path)  # a directory
    with pytest.raises(OSError):
        net().save(tmp_path / "no" / "such" / "dir.safetensors")
    with pytest.raises(ValueError, match="NUL"):
        net().save("a\0b")
    with pytest.raises(ValueError):
        made.load(12)
    with pytest.raises(OSError):
        made.read_data(tmp_path / "missing.npy")
    (tmp_path / "bad.csv").write_text("1,2\n3,NA\n")
    with pytest.raises(OSError, match="row 2, column 2"):
        made.fit(tmp_path / "bad.csv")
    # An existing file is left alone when saving fails (a read-only directory;
    # as root the attempt runs in a child process as the user nobody).
    ro = tempfile.mkdtemp()
    keep = os.path.join(ro, "keep")
    with open(keep, "w") as f:
        f.write("precious")
    os.chmod(ro, 0o555)
    try:
        if os.geteuid() != 0:
            with pytest.raises(OSError):
                net().save(keep)
        else:
            n = net()
            pid = os.fork()
            if pid == 0:  # the child: drop to nobody, try, report by exit status
                code = 3
                try:
                    os.setgroups([])
                    os.setgid(65534)
                    os.setuid(65534)
                    n.save(keep)
                    code = 1
                except OSError:
                    code = 0
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        with open(keep) as f:
            assert f.read() == "precious"
        assert os.listdir(ro) == ["keep"]
    finally:
        os.chmod(ro, 0o700)
        shutil.rmtree(ro)


def test_set_weights_bad():
    n = net()
    for bad in (None, np.ones(3), 5, "w"):
        with pytest.raises(ValueError):
            n.set_weights(bad)
    ws = n.get_weights()
    ws[0] = ws[0].astype(str)
    with pytest.raises(ValueError, match="numbers"):
        n.set_weights(ws)


FIT_BAD = [
    (dict(dist="poisson"), "dist"),
    (dict(dist="categorical"), "count"),
    (dict(dist=5), "dist"),
    (dict(epochs=0), "epochs"),
    (dict(batch_size=0), "batch_size"),
    (dict(lr=0), "lr"),
    (dict(lr="fast"), "lr"),
    (dict(optimizer="rmsprop"), "optimizer"),
    (dict(momentum=1), "momentum"),
    (dict(weight_decay=-1), "weight_decay"),
    (dict(clip_norm=-1), "clip_norm"),
    (dict(lr_schedule="step:0:0.5"), "lr_schedule"),
    (dict(lr_schedule="step:2:1.5"), "lr_schedule"),
    (dict(lr_schedule="linear"), "lr_schedule"),
    (dict(val_fraction=1.0), "val_fraction"),
    (dict(val_fraction=0.001), "leaves no validation"),
    (dict(val_fraction=0.1, val=np.ones((2, 4))), "not both"),
    (dict(patience=2), "patience needs validation"),
    (dict(resample_every=0), "resample_every"),
    (dict(binarize="x"), "binarize"),
    (dict(threads=0), "threads"),
    (dict(threads=5000), "threads"),
    (dict(masks=0), "masks"),
    (dict(masks=2), "identical"),
    (dict(seed=2 ** 32), "seed"),
    (dict(input_order=[1, 2]), "2 entries"),
    (dict(params=0), "params"),
    (dict(progress=5), "progress"),
    (dict(val=np.ones((2, 5))), "5 values"),
    (dict(val=np.full((2, 4), 0.5)), "val"),
    (dict(val_conditional=np.ones((2, 1))), "val_conditional"),
    (dict(conditional=np.ones((7, 1))), "7 rows"),
]


@pytest.mark.parametrize("kw,match", FIT_BAD)
def test_fit_bad(kw, match):
    x = binary_data(40, 4)
    kw = dict(kw)
    dist = kw.pop("dist", "bernoulli")
    with pytest.raises(ValueError, match=match):
        made.fit(x, dist, hidden_units=[3], epochs=kw.pop("epochs", 1), **kw)


def test_resume_missing_checkpoint():
    with pytest.raises(OSError, match="nonexistent"):
        made.fit(binary_data(40, 4), resume="/nonexistent/ckpt")


@pytest.mark.parametrize("data,match", [
    (np.array([[0, 1, 2]], np.float32), "row 1, column 3"),
    (np.array([[0, 1], [np.inf, 0]], np.float32), "row 2, column 1"),
    (np.ones(5), "2 dimensions"),
    (np.zeros((0, 3)), "no rows"),
    (None, "expected an array"),
    ([["a"]], "numbers"),
])
def test_fit_bad_data(data, match):
    with pytest.raises(ValueError, match=match):
        made.fit(data, hidden_units=[2], epochs=1)


def test_scoring_and_sampling_bad():
    m = made.fit(binary_data(50, 3), hidden_units=[2], epochs=1)
    with pytest.raises(ValueError, match="row 1, column 2") as e:
        m.log_prob(np.array([[0, 0.5, 1]], np.float32))
    assert e.value.status == "MADE_E_DOMAIN"
    with pytest.raises(ValueError, match="masks"):
        m.log_prob(np.zeros((1, 3)), masks=2)
    with pytest.raises(ValueError, match="3 values"):
        m.nll(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="no examples"):
        m.nll(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="not conditional"):
        m.sample(2, conditional=np.ones(2))
    for bad in (-1, 2.5, None, "3"):
        with pytest.raises(ValueError):
            m.sample(bad)
    with pytest.raises(ValueError, match="seed"):
        m.sample(2, seed=-3)
    with pytest.raises(ValueError):
        m.sample(2, mask=1)
    with pytest.raises(ValueError):
        m.mask_index = 5
    assert m.sample(0).shape == (0, 3)
    m.close()
    for use in (lambda: m.sample(1), lambda: m.log_prob(np.zeros((1, 3))),
                lambda: m.nll(np.zeros((1, 3)))):
        with pytest.raises(ValueError, match="closed"):
            use()
