# SPDX-License-Identifier: GPL-2.0
# Top-level build: `make` builds rvs.ko against the cached test kernel and
# rvsadm with cargo. `make setup` installs the toolchain and test kernel.
SHELL := /bin/bash
VARIANT ?= base
KDIR ?= $(shell bash -c '. scripts/common.sh && kernel_build_dir $(VARIANT)')
RUST_LIB_SRC ?= $(shell bash -c '. scripts/common.sh && echo $$RUST_LIB_SRC')
TOOLPATH := $(shell bash -c '. scripts/common.sh && echo $$PATH')
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 RUST_LIB_SRC=$(RUST_LIB_SRC) PATH=$(TOOLPATH)

.PHONY: all module rvsadm tools setup clean test host-test vm-test demo

all: module rvsadm tools

module:
	@test -f $(KDIR)/.rvs-built || { echo "no test kernel at $(KDIR): run scripts/setup.sh"; exit 1; }
	$(KMAKE) modules

rvsadm:
	cargo build --release -p rvsadm

# Reliability tools for the VM tests (the netlink fuzzer and churner).
tools:
	cargo build --release -p rvsfuzz

setup:
	scripts/setup.sh

host-test:
	cargo test --workspace

test:
	scripts/test.sh

demo:
	scripts/demo.sh

clean:
	-$(KMAKE) clean
	cargo clean
