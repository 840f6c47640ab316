#!/usr/bin/env python3
"""npy_seeds.py - .npy seeds written by numpy itself (np.lib.format), for the
dtypes, byte orders and format versions made's own writer never produces:

    python3 fuzz/npy_seeds.py fuzz/corpus/npy      (needs numpy)

Some are files made must reject (Fortran order, a structured dtype, float128)
so that the fuzzer starts from those error paths too.
"""
import os
import sys

import numpy as np
from numpy.lib import format as npf

out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/npy"
os.makedirs(out, exist_ok=True)


def save(name, arr, version=None):
    with open(os.path.join(out, name + ".npy"), "wb") as f:
        npf.write_array(f, arr, version=version, allow_pickle=False)


base = np.arange(-3, 3).reshape(2, 3)
for code in ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]:
    for order in "<>":
        if code[1] == "1" and order == ">":
            continue  # one-byte types have no byte order ('|')
        dt = np.dtype(order + code)
        a = np.abs(base) if code[0] == "u" else base
        save(f"{code}-{'le' if order == '<' else 'be'}", a.astype(dt))
save("bool", np.array([[True, False, True], [False, False, True]]))
save("f8-v2", np.linspace(-1, 1, 4), version=(2, 0))
save("i4-v3-3d", np.arange(8, dtype="<i4").reshape(2, 2, 2), version=(3, 0))
save("f8-scalar", np.array(3.5))
save("f8-empty", np.zeros((0, 2)))
save("f8-special", np.array([np.inf, -np.inf, np.nan, -0.0, 5e-324]))
save("f4-fortran", np.asfortranarray(np.ones((2, 3), dtype="<f4")))
save("structured", np.zeros(2, dtype=[("x", "<f4"), ("y", "<i8")]))
save("structured-v3-unicode", np.zeros(1, dtype=[("\u00e9t\u00e9", "<f4")]), version=(3, 0))
