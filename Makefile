# made - one Makefile for the library, the CLI, tests, benchmarks and the demo.
#
#   make                 libmade.a, libmade.so and bin/made
#   make test            build and run every test (ends with "N passed, N failed")
#   make test SANITIZE=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo            train on binarized Fashion-MNIST, print test NLL, write samples
#   make bench           made vs PyTorch, side by side
#   make install PREFIX=/usr/local DESTDIR=
#
# Missing Debian packages are installed with apt-get when run as root, otherwise
# the exact command to run is printed (scripts/deps.sh).

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build
OPT     ?= -O2

# made does its own threading (OpenMP, panels computed whole by one thread, so
# results do not depend on the thread count) and calls OpenBLAS single-threaded
# inside it. It links Debian's OpenMP build of OpenBLAS (libopenblas-openmp-dev)
# explicitly, whatever the system default BLAS is: that build is safe to call
# from several threads at once (the serial build is not) and follows OpenMP's
# thread-count setting, which made sets to 1 inside its own parallel regions.
MULTIARCH   := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
BLAS_DIR    ?= /usr/lib/$(MULTIARCH)/openblas-openmp
BLAS_CFLAGS ?= -I/usr/include/$(MULTIARCH)/openblas-openmp
BLAS_LIBS   ?= -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -lopenblas

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -fPIC -fopenmp -Iinclude -Isrc $(BLAS_CFLAGS)
CPPFLAGS += -D_POSIX_C_SOURCE=200809L
LDLIBS  += $(BLAS_LIBS) -lz -lm -fopenmp

ifeq ($(SANITIZE),1)
BUILD   := build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  := $(sort $(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/src/%.o)
CLI_SRC  := $(sort $(wildcard cli/*.c))
CLI_OBJ  := $(CLI_SRC:cli/%.c=$(BUILD)/cli/%.o)
EX_SRC   := $(sort $(wildcard examples/*.c))
EX_BIN   := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

# The plain build puts the libraries at the top and the program in bin/; a
# sanitizer build keeps everything inside its own build directory.
BIN := bin/made
TOP_LIBS := libmade.a libmade.so
ifeq ($(SANITIZE),1)
BIN := $(BUILD)/bin/made
TOP_LIBS :=
endif

.PHONY: all deps test demo bench install clean check-deps examples print-libs
all: check-deps $(BUILD)/libmade.a $(BUILD)/libmade.so $(BIN) $(TOP_LIBS)

check-deps:
	@sh scripts/deps.sh build

$(BUILD)/src/%.o: src/%.c include/made.h $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/cli/%.o: cli/%.c include/made.h $(wildcard cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

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
$(BUILD)/tests/%: tests/%.c tests/harness.h $(BUILD)/libmade.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmade.a $(LDLIBS)

# Examples use only the public header, like any program built against made.
$(BUILD)/examples/%: examples/%.c include/made.h $(BUILD)/libmade.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Iinclude $(LDFLAGS) -o $@ $< $(BUILD)/libmade.a $(LDLIBS)
examples: $(EX_BIN)

# What a program linking libmade.a needs after it (used in the README).
print-libs:
	@echo $(BLAS_LIBS) -lz -lm -fopenmp

test: all $(TEST_BIN) $(EX_BIN)
	@sh scripts/deps.sh test
	@BUILD=$(BUILD) MADE=$(BIN) sh tests/run.sh $(TEST_BIN)

demo: all
	@sh scripts/deps.sh demo
	@MADE=$(BIN) sh scripts/demo.sh

bench: all
	@sh scripts/deps.sh bench
	@$(MAKE) -s $(BUILD)/bench/bench_made
	@/usr/bin/python3 bench/bench.py --made $(BUILD)/bench/bench_made

$(BUILD)/bench/%: bench/%.c $(BUILD)/libmade.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmade.a $(LDLIBS)

made.pc: Makefile
	@printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: made\nDescription: masked autoregressive density estimation (MADE)\nVersion: %s\nLibs: -L$${libdir} -lmade\nLibs.private: %s -lz -lm -fopenmp\nCflags: -I$${includedir}\n' \
	  '$(PREFIX)' "$$(sed -n 's/^#define MADE_VERSION_STRING "\(.*\)"/\1/p' include/made.h)" '$(BLAS_LIBS)' > $@

install: all made.pc
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/made.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/libmade.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libmade.so $(DESTDIR)$(PREFIX)/lib/libmade.so.0
	ln -sf libmade.so.0 $(DESTDIR)$(PREFIX)/lib/libmade.so
	install -m 644 made.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/made

clean:
	rm -rf build build-san bin libmade.a libmade.so made.pc
