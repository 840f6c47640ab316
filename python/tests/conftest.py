"""Shared fixtures: the `made` program built from the same sources, and a way
to run it."""
import os
import subprocess

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def made_program():
    path = os.environ.get("MADE_BIN") or os.path.join(ROOT, "bin", "made")
    return path if os.path.exists(path) else None


@pytest.fixture
def cli():
    """cli(args...) runs the made program and returns its stdout; fails on error."""
    prog = made_program()
    if prog is None:
        pytest.skip("the made program is not built (make, or set MADE_BIN)")

    def run(*args, ok=True):
        p = subprocess.run([prog] + [str(a) for a in args], capture_output=True, text=True)
        if ok and p.returncode != 0:
            raise AssertionError("made %s failed (%d): %s" % (" ".join(map(str, args)),
                                                               p.returncode, p.stderr))
        return p
    return run


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def binary_data(n, e, seed=0):
    """Correlated binary data (so training has something to learn)."""
    rs = np.random.RandomState(seed)
    z = rs.rand(n, 1)
    return (rs.rand(n, e) < 0.2 + 0.6 * z).astype(np.float32)
