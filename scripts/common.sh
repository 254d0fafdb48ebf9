# Shared settings for the rvs scripts. Source it; it defines paths only.
# The cache lives outside the repository so that fresh clones (and CI on the
# same machine) reuse the downloaded sources, tools and built kernels.
RVS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RVS_CACHE=${RVS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rvs}
KERNEL_VERSION=7.3.4
KERNEL_PKG=linux-source-7.3
BINDGEN_VERSION=0.73.2
VIRTME_NG_VERSION=1.42
# rustup's toolchain, even where a login shell's PATH is not set up.
[ -d "$HOME/.cargo/bin" ] && case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH=$HOME/.cargo/bin:$PATH ;; esac
command -v rustc >/dev/null || { echo "[rvs] error: rustc not found (rustup's toolchain is expected)" >&2; exit 1; }
RUSTC_VERSION=$(rustc --version | awk '{print $2}')
RUST_LIB_SRC=$RVS_CACHE/rust-src-$RUSTC_VERSION/usr/lib/rustlib/src/rust/library
KERNEL_SRC=$RVS_CACHE/linux-$KERNEL_VERSION
PATH=$RVS_CACHE/tools/bin:$RVS_CACHE/venv/bin:/usr/lib/llvm-19/bin:$PATH
export RVS_TOP RVS_CACHE RUST_LIB_SRC KERNEL_SRC PATH

# How the guest gets the host's root (virtme-ng): over 9p (its virtiofs needs
# the Rust virtiofsd, which Debian 12 lacks; trying it first costs seconds
# and, on a busy machine, sometimes the root file system), with
# cache=loose: the guest keeps what it has read, since nothing on the host
# changes under a run. Under TCG that halves the cost of starting a
# process (rvsadm -v: 0.22 s to 0.10 s).
VNG_ROOT=(--force-9p --append "rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose")

say() { printf '\033[1m[rvs]\033[0m %s\n' "$*" >&2; }
die() { printf '[rvs] error: %s\n' "$*" >&2; exit 1; }

# kernel_build_dir VARIANT: where the test kernel of that variant is built,
# keyed by kernel version and a hash of the config fragments it uses.
kernel_build_dir() {
	local variant=${1:-base} frags hash
	frags=$(kernel_fragments "$variant")
	hash=$(cat $frags | sha256sum | cut -c1-12)
	echo "$RVS_CACHE/kernel/$KERNEL_VERSION-$variant-$hash"
}

kernel_fragments() {
	case ${1:-base} in
	base) echo "$RVS_TOP/qemu/base.config" ;;
	debug) echo "$RVS_TOP/qemu/base.config $RVS_TOP/qemu/debug.config" ;;
	*) die "unknown kernel variant '$1' (base or debug)" ;;
	esac
}
