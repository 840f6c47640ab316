"""made loaded into a process that already uses numpy's BLAS (imported and
exercised first) gives the same bits as the program, with 1 and 2 threads."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import binary_data, same_bits

SCRIPT = r"""
import sys, json
import numpy as np
a = np.random.RandomState(0).randn(300, 300)
np.dot(a, a)                      # numpy's BLAS is loaded and has run
import made
threads, d = int(sys.argv[1]), sys.argv[2]
x = np.load(d + "/x.npy")
net = made.load(d + "/init.safetensors")
net.threads = threads
np.save(d + "/py_y_%d.npy" % threads, net(x))
m = made.fit(x, hidden_units=[32, 32], epochs=2, batch_size=16, seed=4, threads=threads)
m.save(d + "/py_m_%d.safetensors" % threads)
np.save(d + "/py_s_%d.npy" % threads, m.sample(50, seed=2))
maps = open("/proc/self/maps").read()
libs = sorted({l.split()[-1] for l in maps.splitlines() if "blas" in l.lower() and "/" in l})
print(json.dumps(libs))
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_numpy_first_same_bits_as_the_program(cli, tmp_path, threads):
    x = binary_data(400, 24, seed=3)
    np.save(tmp_path / "x.npy", x)
    cli("init", "-o", tmp_path / "init.safetensors", "--event-size", 24, "--hidden", "40,40",
        "--activation", "relu", "--params", 2, "--seed", 8)
    cli("forward", tmp_path / "init.safetensors", "-i", tmp_path / "x.npy", "-o",
        tmp_path / "y.npy", "-t", threads)
    cli("train", tmp_path / "x.npy", "-o", tmp_path / "m.safetensors", "--dist", "bernoulli",
        "--hidden", "32,32", "--epochs", 2, "--batch-size", 16, "--seed", 4, "-t", threads, "-q")
    cli("sample", tmp_path / "m.safetensors", "-n", 50, "--seed", 2, "-o", tmp_path / "s.npy",
        "-t", threads)
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(threads), str(tmp_path)],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    blas = json.loads(p.stdout.strip().splitlines()[-1])
    print("BLAS libraries in the process:", blas)
    import made
    assert same_bits(np.load(tmp_path / ("py_y_%d.npy" % threads)), np.load(tmp_path / "y.npy"))
    ours = made.load(tmp_path / ("py_m_%d.safetensors" % threads)).get_weights()
    theirs = made.load(tmp_path / "m.safetensors").get_weights()
    assert all(same_bits(a, b) for a, b in zip(ours, theirs))
    assert same_bits(np.load(tmp_path / ("py_s_%d.npy" % threads)), np.load(tmp_path / "s.npy"))
