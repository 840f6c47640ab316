# made - one Makefile for the library, the CLI, tests, benchmarks and the demo.
#
#   make                 libmade.a, libmade.so and bin/made
#   make test            build and run every test (ends with "N passed, N failed, N skipped"),
#                        including scripts/check-cycles.sh (no include/call cycles)
#   make test SANITIZE=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make MPI=1           the MPI-enabled build (mpicc; data-parallel `mpirun made
#                        train`) in build-mpi/; make test builds it too when mpicc
#                        is installed and runs the MPI tests with it
#   make demo            train on binarized Fashion-MNIST, print test NLL, write samples
#   make demo-flow       a MAF on two moons: data and learned density side by side (PNG)
#   make bench           made vs PyTorch (Debian's and PyPI's) and TFP, side by side;
#                        BENCH_ARGS='--tfp-python VENV/bin/python ...' adds options
#   make bench-flow      made's MAF vs a PyTorch MAF (and nflows'), and made's MADEs, on two
#                        moons and dequantised Fashion-MNIST (a reduced run, ~10 minutes);
#                        BENCH_FLOW_ARGS='--fmnist-rows 60000 ...' for more (BENCHMARKS.md)
#   make install PREFIX=/usr/local DESTDIR=
#
# Missing Debian packages are installed with apt-get when run as root, otherwise
# the exact command to run is printed (scripts/deps.sh).

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build
OPT     ?= -O2

CFLAGS  ?= $(OPT) -g
# -fno-math-errno lets sqrt vectorise and -fvect-cost-model=dynamic lets -O2
# vectorise loops of unknown length; neither changes a result (made never reads
# errno, and vectorised loops keep each value's order of operations). No
# -ffast-math: IEEE semantics are kept. -fno-trapping-math lets branch-free
# selects in loops (the losses) vectorise; made never enables floating-point
# traps, and no value changes. -ffp-contract=off: a*b+c is never
# fused behind the code's back; the kernels' fused multiply-adds are explicit
# (fmaf, or FMA intrinsics in src/net/kernel_avx2.c, the only file built for
# AVX2, chosen at run time; the naive sampler's layer function also has an FMA
# build, chosen at load time, where fmaf is one instruction), so every build
# and kernel path gives the same bits.
CFLAGS  += -std=c11 -Wall -Wextra -Werror -fPIC -fopenmp -fno-math-errno -fvect-cost-model=dynamic -fno-trapping-math -ffp-contract=off
CPPFLAGS += -D_POSIX_C_SOURCE=200809L
LDLIBS  += -lz -lm -fopenmp

ifeq ($(SANITIZE),1)
BUILD   := build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# The library's own files include each other relative to src/ ("net/model.h");
# everything else (cli/, examples/, bench/) sees only the public header.
LIB_INC  := -Iinclude -Isrc
# Every non-static function of the library is declared in a header.
LIB_WARN := -Wmissing-prototypes
PUB_INC  := -Iinclude
# MPI=1: the same library and program plus data-parallel training over MPI
# (src/train/mpi.c, include/made_mpi.h), compiled with mpicc into its own
# build directory (kept apart even when BUILD is given). Without it nothing
# depends on MPI.
MPICC ?= mpicc
ifeq ($(MPI),1)
ifeq ($(shell command -v $(MPICC) 2>/dev/null),)
$(error MPI=1 needs $(MPICC), from Open MPI: sudo apt-get install openmpi-bin libopenmpi-dev (or sh scripts/deps.sh mpi as root))
endif
CC      := $(MPICC)
override BUILD := $(BUILD)-mpi
CPPFLAGS += -DMADE_MPI
endif
MPI_SRC  := src/train/mpi.c cli/train_mpi.c

LIB_SRC  := $(sort $(wildcard src/*/*.c))
ifneq ($(MPI),1)
LIB_SRC  := $(filter-out $(MPI_SRC),$(LIB_SRC))
endif
LIB_HDR  := $(wildcard src/*/*.h)
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/src/%.o)
CLI_SRC  := $(sort $(wildcard cli/*.c))
ifneq ($(MPI),1)
CLI_SRC  := $(filter-out $(MPI_SRC),$(CLI_SRC))
endif
CLI_OBJ  := $(CLI_SRC:cli/%.c=$(BUILD)/cli/%.o)
EX_SRC   := $(sort $(wildcard examples/*.c))
EX_BIN   := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

# The plain build puts the libraries at the top and the program in bin/; any
# other build directory (SANITIZE=1's build-san, or e.g. BUILD=build-O0 OPT=-O0)
# keeps everything inside itself.
BIN := bin/made
TOP_LIBS := libmade.a libmade.so
ifneq ($(BUILD),build)
BIN := $(BUILD)/bin/made
TOP_LIBS :=
endif

.PHONY: all deps test demo demo-flow bench bench-flow install clean check-deps examples print-libs r-build r-check
all: check-deps $(BUILD)/libmade.a $(BUILD)/libmade.so $(BIN) $(TOP_LIBS)

check-deps:
	@sh scripts/deps.sh build

# check-deps is order-only: with make -j the packages are in place before the
# first compile.
$(BUILD)/src/%.o: src/%.c include/made.h $(LIB_HDR) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LIB_WARN) $(LIB_INC) -c -o $@ $<

# The program uses only the public API.
$(BUILD)/cli/%.o: cli/%.c include/made.h $(wildcard cli/*.h) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PUB_INC) -c -o $@ $<

$(BUILD)/libmade.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libmade.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libmade.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)

libmade.a: $(BUILD)/libmade.a
	@cp $< $@
libmade.so: $(BUILD)/libmade.so
	@cp $< $@

$(BIN): $(CLI_OBJ) $(BUILD)/libmade.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libmade.a $(LDLIBS)

# Tests may use internal headers (src/) as well as the public one.
$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(BUILD)/libmade.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LIB_INC) $(LDFLAGS) -o $@ $< $(BUILD)/libmade.a $(LDLIBS)

# Examples use only the public header, like any program built against made.
$(BUILD)/examples/%: examples/%.c include/made.h $(BUILD)/libmade.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PUB_INC) $(LDFLAGS) -o $@ $< $(BUILD)/libmade.a $(LDLIBS)
examples: $(EX_BIN)

# What a program linking libmade.a needs after it (used in the README).
print-libs:
	@echo -lz -lm -fopenmp

# I/O failure injection for the CLI tests (tests/iofail.c, used with LD_PRELOAD).
IOFAIL_SO := $(BUILD)/tests/libiofail.so
$(IOFAIL_SO): tests/iofail.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -O2 -g -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl

# The MPI build for the MPI tests, when mpicc is installed (else they report
# themselves skipped).
HAVE_MPICC := $(shell command -v $(MPICC) 2>/dev/null)
ifneq ($(MPI),1)
ifneq ($(HAVE_MPICC),)
MPI_BIN  := $(BUILD)-mpi/bin/made
mpi-bin: all
	@$(MAKE) --no-print-directory MPI=1 SANITIZE=$(SANITIZE) $(MPI_BIN)
else
mpi-bin: ; @:
endif
endif
.PHONY: mpi-bin

test: all $(TEST_BIN) $(EX_BIN) $(IOFAIL_SO) mpi-bin
	@sh scripts/deps.sh test
	@BUILD=$(BUILD) MADE=$(BIN) MADE_MPI=$(MPI_BIN) sh tests/run.sh $(TEST_BIN) scripts/check-cycles.sh

demo: all
	@sh scripts/deps.sh demo
	@MADE=$(BIN) sh scripts/demo.sh

demo-flow: all
	@sh scripts/deps.sh demo-flow
	@MADE=$(BIN) sh scripts/demo-flow.sh

bench: all
	@sh scripts/deps.sh bench
	@$(MAKE) -s $(BUILD)/bench/bench_made
	@/usr/bin/python3 bench/bench.py --made $(BUILD)/bench/bench_made $(BENCH_ARGS)

bench-flow: all
	@sh scripts/deps.sh bench-flow
	@/usr/bin/python3 bench/bench_flow.py --made $(BIN) $(BENCH_FLOW_ARGS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libmade.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PUB_INC) $(LDFLAGS) -o $@ $< $(BUILD)/libmade.a $(LDLIBS)

# Generated at every install, so it always names the PREFIX being installed to.
$(BUILD)/made.pc: FORCE
	@mkdir -p $(dir $@)
	@printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: made\nDescription: masked autoregressive density estimation (MADE)\nVersion: %s\nLibs: -L$${libdir} -lmade\nLibs.private: -lz -lm -fopenmp\nCflags: -I$${includedir}\n' \
	  '$(PREFIX)' "$$(sed -n 's/^#define MADE_VERSION_STRING "\(.*\)"/\1/p' include/made.h)" > $@
FORCE:

install: all $(BUILD)/made.pc
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/made.h $(DESTDIR)$(PREFIX)/include/
	$(if $(filter 1,$(MPI)),install -m 644 include/made_mpi.h $(DESTDIR)$(PREFIX)/include/)
	install -m 644 $(BUILD)/libmade.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libmade.so $(DESTDIR)$(PREFIX)/lib/libmade.so.0
	ln -sf libmade.so.0 $(DESTDIR)$(PREFIX)/lib/libmade.so
	install -m 644 $(BUILD)/made.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/made

clean:
	rm -rf build build-san build-* bin libmade.a libmade.so

# ---- Python and R packages (python/, r/; docs/bindings.md) ----
#
#   pip install ./python  builds libmade with this Makefile and bundles it
#   R CMD INSTALL r       builds libmade with this Makefile into the package
#   make r-build          a self-contained R source tarball ($(BUILD)/r-pkg/made_*.tar.gz):
#                         r/ plus a copy of the library sources in src/made-lib
#   make r-check          R CMD check on that tarball (its tests compare with $(BIN))
#
# `make test` runs both packages' tests (tests/bindings/) when python3/numpy/
# pytest and R/testthat are installed.
R_PKG := $(BUILD)/r-pkg
# A make that runs R must not hand its own variables (SANITIZE=1, BUILD) down:
# command-line variables reach recipes' environments.
R_ENV := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u SANITIZE -u BUILD -u OPT \
         -u CFLAGS -u CPPFLAGS -u LDFLAGS -u LDLIBS
r-build: check-deps
	@sh scripts/deps.sh test
	rm -rf $(R_PKG) && mkdir -p $(R_PKG)/made/src/made-lib/scripts
	cp -R r/. $(R_PKG)/made
	cd $(R_PKG)/made && sh ./cleanup && rm -rf src/made-lib && mkdir -p src/made-lib/scripts
	cp -R Makefile include src $(R_PKG)/made/src/made-lib/
	cp scripts/deps.sh $(R_PKG)/made/src/made-lib/scripts/
	cd $(R_PKG) && $(R_ENV) R CMD build --no-manual made

r-check: r-build $(BIN)
	cd $(R_PKG) && $(R_ENV) MADE_BIN=$(CURDIR)/$(BIN) R CMD check --no-manual made_*.tar.gz

# ---- Fuzzing (fuzz/; results and commands in docs/testing.md, "Fuzzing") ----
#
#   make fuzz          builds the libFuzzer targets with clang into build-fuzz/ and
#                      runs each for FUZZ_SECONDS (default 60); make -j2 fuzz runs
#                      two at a time. Extra libFuzzer flags: FUZZ_ARGS='-runs=N'.
#   make fuzz-replay   builds the same targets without libFuzzer (cc, ASan + UBSan)
#                      and runs them over fuzz/corpus/ and fuzz/crashes/ (in CI)
#
# The fuzz build leaves out OpenMP (nothing fuzzed is threaded, and clang's
# OpenMP runtime is not a dependency): the pragmas are ignored, omp.h comes from
# gcc's include directory if clang has none, and libgomp provides the omp_*
# functions the library calls. Each build has its own archive of
# the library plus the CLI's option parsing (cli/parse.c, cli/model_opts.c).
FUZZ_TARGETS := model npy csv idx json cli
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_GCC_INC := $(shell gcc -print-file-name=include 2>/dev/null)
FUZZ_SAN     := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -Wall -Wextra -Wno-unknown-pragmas -Wno-unused-parameter -D_POSIX_C_SOURCE=200809L \
                -Iinclude -Isrc -Icli -Ifuzz -idirafter $(FUZZ_GCC_INC)
FUZZ_LIBS    := -lz -lm -lgomp
FUZZ_LIB_OBJ := $(LIB_SRC:src/%.c=$(FUZZ_BUILD)/obj/src/%.o)
FUZZ_CLI_SRC := cli/parse.c cli/model_opts.c
FUZZ_CLI_OBJ := $(FUZZ_CLI_SRC:cli/%.c=$(FUZZ_BUILD)/obj/cli/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

# Replay: the project's compiler, float-cast-overflow added because gcc's
# -fsanitize=undefined leaves it out and clang's (the fuzzer's) does not.
REPLAY_BUILD := $(FUZZ_BUILD)/replay
REPLAY_SAN   := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow \
                -fno-sanitize-recover=all
REPLAY_CFLAGS := -std=c11 -Wall -Wextra -fopenmp -D_POSIX_C_SOURCE=200809L -DFUZZ_REPLAY \
                 -Iinclude -Isrc -Icli -Ifuzz
REPLAY_LIB_OBJ := $(LIB_SRC:src/%.c=$(REPLAY_BUILD)/obj/src/%.o)
REPLAY_CLI_OBJ := $(FUZZ_CLI_SRC:cli/%.c=$(REPLAY_BUILD)/obj/cli/%.o)
REPLAY_BINS  := $(FUZZ_TARGETS:%=$(REPLAY_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-bins fuzz-replay fuzz-replay-build fuzz-replay-bins fuzz-seeds clean-fuzz $(FUZZ_TARGETS:%=fuzz-run-%)

# build-fuzz/ ignores itself, so a campaign's corpus never shows up in git.
$(FUZZ_BUILD)/.gitignore:
	@mkdir -p $(FUZZ_BUILD)
	@printf '*\n' > $@

$(FUZZ_BUILD)/obj/src/%.o: src/%.c include/made.h $(LIB_HDR) | $(FUZZ_BUILD)/.gitignore
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_BUILD)/obj/cli/%.o: cli/%.c include/made.h $(wildcard cli/*.h) | $(FUZZ_BUILD)/.gitignore
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_BUILD)/libmade.a: $(FUZZ_LIB_OBJ) $(FUZZ_CLI_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.c $(wildcard fuzz/*.h) $(FUZZ_BUILD)/libmade.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< fuzz/fuzz_util.c \
	  $(FUZZ_BUILD)/libmade.a $(FUZZ_LIBS)

# deps.sh runs first, then the build (in a sub-make, so -j applies to it).
fuzz-build:
	@sh scripts/deps.sh build
	@sh scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-bins
fuzz-bins: $(FUZZ_BINS) ; @:

$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%: fuzz-build
	@sh fuzz/run.sh $(FUZZ_BUILD) $*

fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

$(REPLAY_BUILD)/obj/src/%.o: src/%.c include/made.h $(LIB_HDR) | $(FUZZ_BUILD)/.gitignore
	@mkdir -p $(dir $@)
	$(CC) $(REPLAY_CFLAGS) $(REPLAY_SAN) -c -o $@ $<
$(REPLAY_BUILD)/obj/cli/%.o: cli/%.c include/made.h $(wildcard cli/*.h) | $(FUZZ_BUILD)/.gitignore
	@mkdir -p $(dir $@)
	$(CC) $(REPLAY_CFLAGS) $(REPLAY_SAN) -c -o $@ $<
$(REPLAY_BUILD)/libmade.a: $(REPLAY_LIB_OBJ) $(REPLAY_CLI_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(REPLAY_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.c fuzz/replay.c $(wildcard fuzz/*.h) $(REPLAY_BUILD)/libmade.a
	$(CC) $(REPLAY_CFLAGS) $(REPLAY_SAN) -Werror -o $@ $< fuzz/fuzz_util.c fuzz/replay.c \
	  $(REPLAY_BUILD)/libmade.a $(LDLIBS)

fuzz-replay-build: check-deps
	@$(MAKE) --no-print-directory fuzz-replay-bins
fuzz-replay-bins: $(REPLAY_BINS) ; @:

# Each target's output is kept in a log and shown only when it fails. A target
# with no crash on record has no fuzz/crashes/ directory (git keeps no empty
# directories), so only the directories that exist are passed. Like
# libFuzzer's -malloc_limit_mb, a single allocation above 2 GiB is a finding.
fuzz-replay: fuzz-replay-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  log=$(REPLAY_BUILD)/$$t.log; \
	  if ASAN_OPTIONS=detect_leaks=1:max_allocation_size_mb=2048 UBSAN_OPTIONS=print_stacktrace=1 \
	     $(REPLAY_BUILD)/fuzz_$$t $$(for d in fuzz/corpus/$$t fuzz/crashes/$$t; do \
	       [ -d $$d ] && echo $$d; done) > $$log 2>&1; then \
	    tail -n 1 $$log; \
	  else \
	    echo "fuzz_$$t: FAILED"; tail -n 60 $$log | sed 's/^/  /'; fail=1; \
	  fi; \
	done; exit $$fail

# Rewrites the seeds made's own writers produce (fuzz/seeds.c); the numpy-made
# .npy seeds come from fuzz/npy_seeds.py. Existing files are overwritten, none
# are removed.
fuzz-seeds: $(REPLAY_BUILD)/libmade.a
	$(CC) $(REPLAY_CFLAGS) $(REPLAY_SAN) -Werror -o $(REPLAY_BUILD)/seeds fuzz/seeds.c \
	  $(REPLAY_BUILD)/libmade.a $(LDLIBS)
	$(REPLAY_BUILD)/seeds fuzz/corpus

clean-fuzz:
	rm -rf $(FUZZ_BUILD)
