# SPDX-License-Identifier: GPL-2.0
# Top-level build: `make` builds rvs.ko against the cached test kernel and
# rvsadm with cargo. `make setup` installs the toolchain and test kernel.
# `make install` (then `make uninstall`) puts what `make` built in place:
# see Documentation/install.md.
SHELL := /bin/bash
VARIANT ?= base
KDIR ?= $(shell bash -c '. scripts/common.sh && kernel_build_dir $(VARIANT)')
RUST_LIB_SRC ?= $(shell bash -c '. scripts/common.sh && echo $$RUST_LIB_SRC')
# Deferred, like KDIR: `make install KDIR=...` runs no toolchain check.
TOOLPATH = $(shell bash -c '. scripts/common.sh && echo $$PATH')
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 RUST_LIB_SRC=$(RUST_LIB_SRC) PATH=$(TOOLPATH)

.PHONY: all module rvsadm tools setup clean test host-test vm-test demo install uninstall

# Where `make install` puts things (DESTDIR prefixes them all, for staging).
# /usr/local by default, as for anything built from source; PREFIX=/usr
# for a distribution-style layout. Configuration is in /etc either way
# (modprobe and systemd read it there), modules in /lib/modules.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
LIBEXECDIR ?= $(PREFIX)/lib/rvs
DATADIR ?= $(PREFIX)/share/rvs
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
INSTALL_VARS = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SBINDIR='$(SBINDIR)' MANDIR='$(MANDIR)' \
	LIBEXECDIR='$(LIBEXECDIR)' DATADIR='$(DATADIR)' UNITDIR='$(UNITDIR)' SYSCONFDIR='$(SYSCONFDIR)'

all: module rvsadm tools

module:
	@test -f $(KDIR)/.rvs-built || { echo "no test kernel at $(KDIR): run scripts/setup.sh"; exit 1; }
	$(KMAKE) modules

rvsadm:
	cargo build --release -p rvsadm

# Reliability tools for the VM tests (the netlink fuzzer and churner).
tools:
	cargo build --release -p rvsfuzz
	clang-19 -O2 -Wall -static -o target/release/nsrun tests/vm/nsrun.c

setup:
	scripts/setup.sh

host-test:
	cargo test --workspace

# Installs what `make` built (it builds nothing: run `make` first, as the
# user who builds); rvs.ko goes to /lib/modules/<KDIR's release>/extra.
# KDIR is passed only when given: install.sh works out the default itself,
# quietly, since under sudo root may have no toolchain for common.sh.
install:
	$(INSTALL_VARS) KDIR='$(if $(filter file,$(origin KDIR)),,$(KDIR))' VARIANT='$(VARIANT)' scripts/install.sh install

# Removes exactly what install put (its list: $(DATADIR)/installed-files).
uninstall:
	$(INSTALL_VARS) scripts/install.sh uninstall

test:
	scripts/test.sh

demo:
	scripts/demo.sh

clean:
	-$(KMAKE) clean
	cargo clean
