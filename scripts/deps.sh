#!/bin/sh
# Makes sure the Debian packages a make target needs are installed.
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails. Optional packages (the Python and R
# packages' test tools and Open MPI for `make test`) are installed the same way as root;
# otherwise the command is printed and the suites that need them are skipped.
#
#   sh scripts/deps.sh build|test|mpi|demo|demo-flow|bench|bench-flow
set -u
optional=""
case "${1:-build}" in
  build) pkgs="gcc make pkg-config zlib1g-dev libgomp1" ;;
  test)  pkgs="gcc make pkg-config zlib1g-dev libgomp1"
         optional="python3 python3-dev python3-venv python3-numpy python3-pytest python3-setuptools
                   python3-wheel r-base-core r-cran-testthat openmpi-bin libopenmpi-dev" ;;
  mpi)   pkgs="gcc make pkg-config zlib1g-dev libgomp1 openmpi-bin libopenmpi-dev" ;;
  demo)  pkgs="gcc make pkg-config zlib1g-dev libgomp1 dataset-fashion-mnist" ;;
  demo-flow) pkgs="gcc make pkg-config zlib1g-dev libgomp1 python3" ;;
  # Debian's PyTorch with OpenBLAS (OpenMP build) behind its libblas.so.3, as
  # a user after speed sets it up: alone, apt gives it the reference BLAS.
  bench) pkgs="gcc make pkg-config zlib1g-dev libgomp1 python3 python3-numpy python3-torch
               libopenblas0-openmp" ;;
  bench-flow) pkgs="gcc make pkg-config zlib1g-dev libgomp1 python3 python3-numpy python3-torch
                    libopenblas0-openmp python3-venv dataset-fashion-mnist" ;;
  fuzz)  pkgs="clang libclang-rt-14-dev" ;;
  *) echo "deps.sh: unknown target '$1' (expected build, test, mpi, demo, demo-flow, bench, bench-flow or fuzz)" >&2; exit 2 ;;
esac

missing_of() {
  for p in "$@"; do
    case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" in
      *"install ok installed"*) ;;
      *) printf ' %s' "$p" ;;
    esac
  done
}
missing=$(missing_of $pkgs)
missing_opt=$(missing_of $optional)
if [ -n "$missing_opt" ] && [ "$(id -u)" != 0 ]; then
  echo "made: the Python, R and MPI tests need:$missing_opt (skipped without them)" >&2
  echo "made: install them with:  sudo apt-get install -y$missing_opt" >&2
else
  missing="$missing$missing_opt"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
  echo "made: installing Debian packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q $missing >&2; then
    apt-get update -q >&2 && apt-get install -y -q $missing >&2 || {
      echo "made: apt-get could not install:$missing" >&2; exit 1; }
  fi
  exit 0
fi
echo "made: missing Debian packages:$missing" >&2
echo "made: install them with:  sudo apt-get install -y$missing" >&2
exit 1
