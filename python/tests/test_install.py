"""`pip install ./python` builds libmade with the repository's Makefile and the
installed package computes the same bits as the program. Needs the venv module;
builds offline (--no-build-isolation, setuptools from the system)."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, same_bits


@pytest.mark.skipif(os.environ.get("MADE_SKIP_INSTALL_TEST") == "1",
                    reason="MADE_SKIP_INSTALL_TEST=1")
def test_pip_install_into_a_venv(cli, tmp_path):
    venv = tmp_path / "venv"
    r = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("no working venv module (Debian: apt-get install python3-venv): " + r.stderr)
    py = str(venv / "bin" / "python")
    r = subprocess.run([py, "-c", "import setuptools, wheel"], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("an offline build needs setuptools and wheel beside %s (Debian: "
                    "python3-setuptools python3-wheel)" % sys.executable)
    # A copy of the sources, so the build writes nowhere in the repository.
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build*", "bin", "libmade.*", "fuzz", "tests", "*.egg-info", "__pycache__",
        "demo-out", "r"))
    env = {k: v for k, v in os.environ.items() if k not in ("MADE_LIBRARY", "PYTHONPATH")}
    r = subprocess.run([py, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps",
                        str(src / "python")], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    cli("init", "-o", tmp_path / "m.safetensors", "--event-size", 4, "--hidden", "5",
        "--activation", "relu", "--seed", 3)
    x = np.random.RandomState(0).randn(9, 4).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    cli("forward", tmp_path / "m.safetensors", "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    code = ("import made, numpy as np, sys; d = sys.argv[1]; "
            "print(made.__file__); "
            "np.save(d + '/py.npy', made.load(d + '/m.safetensors')(np.load(d + '/x.npy')))")
    r = subprocess.run([py, "-c", code, str(tmp_path)], capture_output=True, text=True,
                       env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert str(venv) in r.stdout
    assert same_bits(np.load(tmp_path / "py.npy"), np.load(tmp_path / "y.npy"))
