"""Builds libmade with the repository's own Makefile (the same sources and
compiler flags as the `made` program) and bundles it in the package.

    pip install ./python                                 # in a virtual environment
    pip install --break-system-packages ./python         # Debian's python3, system-wide

Environment:
    MADE_SOURCE_DIR  the made repository (default: the directory above this one)
    MADE_LIBMADE     an already built libmade.so to bundle instead of building one
"""
import os
import re
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def source_dir():
    root = os.environ.get("MADE_SOURCE_DIR") or os.path.dirname(HERE)
    for f in ("Makefile", os.path.join("include", "made.h")):
        if not os.path.exists(os.path.join(root, f)):
            sys.exit("made: %s is not the made repository (no %s); build from a clone, or set "
                     "MADE_SOURCE_DIR" % (root, f))
    return root


def version():
    with open(os.path.join(source_dir(), "include", "made.h")) as f:
        return re.search(r'#define MADE_VERSION_STRING "([^"]+)"', f.read()).group(1)


class BuildWithLibmade(build_py):
    """Runs `make` in the repository for libmade.so, then copies it into the package."""

    def run(self):
        super().run()
        lib = os.environ.get("MADE_LIBMADE")
        if not lib:
            root = source_dir()
            build = os.path.abspath(os.path.join(self.get_finalized_command("build").build_temp,
                                                 "libmade"))
            # A make that called us (e.g. `make test SANITIZE=1`, whose
            # command-line variables reach its recipes' environment) must not
            # pass its variables, job server or flags down: the Makefile's
            # own defaults apply, as for the `made` program.
            drop = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "SANITIZE", "BUILD",
                    "OPT", "CFLAGS", "CPPFLAGS", "LDFLAGS", "LDLIBS")
            env = {k: v for k, v in os.environ.items() if k not in drop}
            jobs = str(min(os.cpu_count() or 1, 8))
            subprocess.check_call(["make", "-C", root, "-j" + jobs, "BUILD=" + build,
                                   build + "/libmade.so"], env=env)
            lib = os.path.join(build, "libmade.so")
        dest = os.path.join(self.build_lib, "made")
        os.makedirs(dest, exist_ok=True)
        shutil.copyfile(lib, os.path.join(dest, "libmade.so"))


class BinaryDistribution(Distribution):
    """The package holds a compiled library: platform-specific wheels."""

    def has_ext_modules(self):
        return True


setup(version=version(), cmdclass={"build_py": BuildWithLibmade}, distclass=BinaryDistribution)
