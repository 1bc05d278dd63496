# pyrt developer entry points. `make test` and `make demo` do all set-up on a
# fresh machine (a virtualenv in .venv, cbindgen in .tools) and then run.

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
PIP         := $(VENV)/bin/pip
CBINDGEN_VERSION := 0.29.0
CBINDGEN    := .tools/bin/cbindgen
CMAKE_BUILD := build/cmake
# Cargo shares one target dir between pip, cargo test and CMake, so the core
# is compiled once per profile.
export CARGO_TARGET_DIR := $(CURDIR)/target

.PHONY: all deps tools header catalog check-catalog check-header check-generated proto check-proto build cargo-test pytest ctest test demo bench fuzz clean bindings bindings-lib go-test java-test node-test bindings-test bench-bindings

all: build

$(VENV)/.deps: requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements/dev.txt
	touch $@

deps: $(VENV)/.deps

$(CBINDGEN):
	cargo install --quiet --locked cbindgen --version $(CBINDGEN_VERSION) --root .tools

tools: $(CBINDGEN)

## Regenerates include/pyrt.h from rust/ffi.
header: $(CBINDGEN)
	$(CBINDGEN) --quiet --config cbindgen.toml --crate pyrt --output include/pyrt.h

## Fails when the committed header differs from a fresh cbindgen run.
check-header: $(CBINDGEN)
	@mkdir -p build
	$(CBINDGEN) --quiet --config cbindgen.toml --crate pyrt --output build/pyrt.h.fresh
	@diff -u include/pyrt.h build/pyrt.h.fresh || { echo "include/pyrt.h is stale: run 'make header' and commit it"; exit 1; }
	@echo "include/pyrt.h matches cbindgen $(CBINDGEN_VERSION)"

## Regenerates everything the indicator catalog drives (tools/gen_catalog.py
## reads rust/indicators/catalog.toml), then the header.
catalog:
	$(PYTHON) tools/gen_catalog.py
	$(MAKE) header

## Fails when a file generated from the catalog differs from a fresh run.
check-catalog:
	$(PYTHON) tools/gen_catalog.py --check

check-generated: check-catalog check-header check-proto

# The test peers' protobuf classes (tests/proto/messages_pb2.py) come from the
# protoc bundled in grpcio-tools, kept in its own virtualenv: its gencode
# (protoc 35.1) is no newer than the protobuf runtime the tests use.
PROTO_VENV  := build/proto-venv
GRPCIO_TOOLS_VERSION := 1.85.1
PROTOC      := $(PROTO_VENV)/bin/python -m grpc_tools.protoc

$(PROTO_VENV)/.deps:
	$(PYTHON) -m venv $(PROTO_VENV)
	$(PROTO_VENV)/bin/pip install --quiet grpcio-tools==$(GRPCIO_TOOLS_VERSION)
	touch $@

## Regenerates tests/proto/messages_pb2.py from proto/messages.proto.
proto: $(PROTO_VENV)/.deps
	$(PROTOC) -Iproto --python_out=tests/proto proto/messages.proto

## Fails when the committed messages_pb2.py differs from a fresh protoc run.
check-proto: $(PROTO_VENV)/.deps
	@mkdir -p build/proto-fresh
	$(PROTOC) -Iproto --python_out=build/proto-fresh proto/messages.proto
	@diff -u tests/proto/messages_pb2.py build/proto-fresh/messages_pb2.py || { echo "tests/proto/messages_pb2.py is stale: run 'make proto' and commit it"; exit 1; }

## Builds the Rust core and installs the Python package into .venv.
build: deps
	@rm -rf build/lib.* build/bdist.*  # no stale extension from an older build into the wheel
	$(PIP) install --quiet --no-build-isolation --no-deps .

cargo-test:
	cargo test --quiet

pytest: build
	$(VENV)/bin/pytest -q

ctest: build
	cmake -S . -B $(CMAKE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	    -DPYRT_CARGO_TARGET_DIR=$(CARGO_TARGET_DIR) -DPython3_EXECUTABLE=$(CURDIR)/$(PY)
	cmake --build $(CMAKE_BUILD)
	ctest --test-dir $(CMAKE_BUILD) --output-on-failure

test: deps check-generated cargo-test pytest ctest bindings-test

demo: build
	$(PY) examples/demo.py

bench: build
	$(PIP) install --quiet -r requirements/bench.txt
	$(PY) bench/indicators.py
	$(PY) bench/ipc.py
	$(PY) bench/backtest.py
	$(PY) bench/messaging.py
	$(PY) bench/sweep.py

# libFuzzer targets for what pyrt parses from outside the process (fuzz/):
# a ring's shared-memory file, protobuf frames from peers, saved stream
# state. libfuzzer-sys compiles libFuzzer itself; the coverage
# instrumentation flags below are stable rustc options (no nightly, no
# cargo-fuzz). Each target runs FUZZ_SECONDS from fuzz/corpus/<target>;
# inputs that reach new code are merged back into fuzz/corpus/<target>,
# which tests/stress/test_stress_fuzz_corpus.py replays on every `make test`.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := ring_open message_decode stream_load
FUZZ_TRIPLE := $(shell rustc -vV | sed -n 's/^host: //p')
FUZZ_BIN := $(CARGO_TARGET_DIR)/fuzz/$(FUZZ_TRIPLE)/release
FUZZ_RUSTFLAGS := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks

fuzz:
	cd fuzz && CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)/fuzz RUSTFLAGS="$(FUZZ_RUSTFLAGS)" \
	    cargo build --quiet --release --bins --target $(FUZZ_TRIPLE)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p build/fuzz/$$t fuzz/corpus/$$t || exit 1; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_BIN)/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/$$t- build/fuzz/$$t fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1 \
	        || { tail -40 build/fuzz/$$t.log; echo "fuzz: $$t failed; the input is in build/fuzz/"; exit 1; }; \
	    grep -E '^stat::number_of_executed_units|DONE' build/fuzz/$$t.log; \
	    $(FUZZ_BIN)/$$t -merge=1 fuzz/corpus/$$t build/fuzz/$$t > build/fuzz/$$t-merge.log 2>&1 || exit 1; \
	done

# ---- Go, Java and Node bindings (bindings/) --------------------------------
# They use the library `make build` compiled (the one cargo target dir), found
# through a pkg-config file for this tree (Go), PYRT_LIBRARY (Java, Node);
# their tests reach Python through PYRT_PYTHON. Each tool fetches what its
# suite needs itself (Go modules, Maven Central, npm ci).
PYRT_SO      := $(CARGO_TARGET_DIR)/release/libpyrt.so
BINDINGS_PC  := $(CURDIR)/build/pkgconfig
# Go's build cache keys a cgo package on its own files and CGO_* flags, not on
# the headers it includes from elsewhere: the header's hash in CGO_CPPFLAGS
# makes a changed pyrt.h rebuild the package.
PYRT_HEADER_ID = $(shell cat include/*.h | sha1sum | cut -c1-16)
BINDINGS_ENV := PKG_CONFIG_PATH=$(BINDINGS_PC) PYRT_LIBRARY=$(PYRT_SO) PYRT_PYTHON=$(CURDIR)/$(PY) \
                CGO_CPPFLAGS=-DPYRT_HEADER_ID=$(PYRT_HEADER_ID)
MVN          := mvn -B -q
JDK22         = JAVA_HOME="$$(bindings/java/find-jdk.sh)" || exit 1; export JAVA_HOME;

bindings-lib: build
	@mkdir -p $(BINDINGS_PC)
	@# Programs linked in-tree record the soname: give it a file to resolve to.
	ln -sf libpyrt.so $(CARGO_TARGET_DIR)/release/libpyrt.so.0
	@printf '%s\n' 'Name: pyrt' 'Description: pyrt built in this tree' \
	    "Version: $$(sed -n 's/^version = \"\(.*\)\"/\1/p' Cargo.toml | head -1)" \
	    'Cflags: -I$(CURDIR)/include' \
	    'Libs: -L$(CARGO_TARGET_DIR)/release -Wl,-rpath,$(CARGO_TARGET_DIR)/release -lpyrt' > $(BINDINGS_PC)/pyrt.pc

## Builds the three bindings (Go package, Java jar, Node package).
bindings: bindings-lib
	cd bindings/go && $(BINDINGS_ENV) go build ./...
	$(JDK22) cd bindings/java && $(MVN) package -DskipTests
	cd bindings/node && npm ci --no-audit --no-fund --loglevel=error

go-test: bindings-lib
	cd bindings/go && $(BINDINGS_ENV) go vet ./... && $(BINDINGS_ENV) go test -count=1 ./...

java-test: bindings-lib
	$(JDK22) cd bindings/java && $(BINDINGS_ENV) $(MVN) test

node-test: bindings-lib
	cd bindings/node && npm ci --no-audit --no-fund --loglevel=error && $(BINDINGS_ENV) npm test --silent

bindings-test: go-test java-test node-test

## Per-call overhead of each binding against its language's own loop and the C call.
bench-bindings: bindings
	$(BINDINGS_ENV) $(PY) bench/bindings/run.py

clean:
	rm -rf build target $(VENV) .tools bindings/java/target bindings/node/node_modules
