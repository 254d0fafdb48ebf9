#!/usr/bin/env bash
# Installs everything rvs needs to build and test, idempotently:
#   Debian packages, the kernel source and rust-src (from trixie-backports via
#   a private apt configuration in the cache), bindgen-cli, virtme-ng, and the
#   test kernel. Usage: scripts/setup.sh [--debug] [--no-kernel]
set -euo pipefail
. "$(dirname "$0")/common.sh"

variant=base build_kernel=1
for a in "$@"; do
	case $a in
	--debug) variant=debug ;;
	--no-kernel) build_kernel=0 ;;
	*) die "usage: $0 [--debug] [--no-kernel]" ;;
	esac
done
mkdir -p "$RVS_CACHE"

# --- Debian packages (bookworm) ---
debs=(clang-19 lld-19 llvm-19 libclang-19-dev bison flex libelf-dev bc libssl-dev
	cpio kmod qemu-system-x86 iproute2 socat curl ipvsadm python3-venv
	busybox-static procps iputils-ping ethtool tcpdump keepalived hping3 bc strace linux-perf
	man-db groff-base nftables conntrack)
# The monitoring agents test 406 runs, dkms (tests/host/install.sh) and
# BIRD (490's routing daemon), without what they recommend (the agents'
# textfile collectors, rrdtool, kernel headers).
bare_debs=(collectd-core prometheus-node-exporter dkms bird2)
missing=() missing_bare=()
for p in "${debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
for p in "${bare_debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing_bare+=("$p")
done
if [ $((${#missing[@]} + ${#missing_bare[@]})) -gt 0 ]; then
	say "installing Debian packages: ${missing[*]} ${missing_bare[*]}"
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -q
	[ ${#missing[@]} = 0 ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
	[ ${#missing_bare[@]} = 0 ] ||
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing_bare[@]}"
else
	say "Debian packages: all present"
fi

# --- kernel source and rust-src from trixie-backports, privately ---
apt_dir=$RVS_CACHE/apt
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=-"
	-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
	-o "Debug::NoLocking=1" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
apt_private() {
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	cat >"$apt_dir/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main
SRC
	if [ ! -f "$apt_dir/updated" ]; then
		say "refreshing the private trixie/trixie-backports package lists"
		apt-get "${apt_opts[@]}" update -q >/dev/null
		touch "$apt_dir/updated"
	fi
}
# fetch_deb NAME VERSION-GLOB: download the newest matching .deb into the cache
fetch_deb() {
	local name=$1 glob=$2 ver
	ver=$(apt-cache "${apt_opts[@]}" madison "$name" | awk -v g="$glob" '
		{ v=$3; if (v ~ g) { print v; exit } }')
	[ -n "$ver" ] || die "no $name version matching $glob in trixie-backports"
	local f
	f=$(ls "$apt_dir/debs/${name}_"*.deb 2>/dev/null | head -1 || true)
	if [ -z "$f" ]; then
		mkdir -p "$apt_dir/debs"
		say "downloading $name $ver"
		(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download -q "$name=$ver" >/dev/null)
		f=$(ls "$apt_dir/debs/${name}_"*.deb | head -1)
	fi
	echo "$f"
}

if [ ! -f "$KERNEL_SRC/Makefile" ] || [ ! -d "$RUST_LIB_SRC/core" ]; then
	apt_private
fi
if [ ! -f "$KERNEL_SRC/Makefile" ]; then
	deb=$(fetch_deb "$KERNEL_PKG" "^${KERNEL_VERSION//./\\.}-")
	tmp=$RVS_CACHE/tmp-ksrc; rm -rf "$tmp"; mkdir -p "$tmp"
	say "unpacking $(basename "$deb")"
	dpkg-deb -x "$deb" "$tmp"
	tarball=$(ls "$tmp"/usr/src/linux-source-*.tar.*)
	rm -rf "$KERNEL_SRC.tmp"; mkdir -p "$KERNEL_SRC.tmp"
	tar -xf "$tarball" -C "$KERNEL_SRC.tmp" --strip-components=1
	mv "$KERNEL_SRC.tmp" "$KERNEL_SRC"; rm -rf "$tmp"
fi
say "kernel source: $KERNEL_SRC"
if [ ! -d "$RUST_LIB_SRC/core" ]; then
	deb=$(fetch_deb rust-src "^${RUSTC_VERSION//./\\.}\\+")
	say "unpacking $(basename "$deb")"
	rm -rf "$RVS_CACHE/rust-src-$RUSTC_VERSION"
	dpkg-deb -x "$deb" "$RVS_CACHE/rust-src-$RUSTC_VERSION"
fi
say "rust-src: $RUST_LIB_SRC"

# --- bindgen-cli, pinned ---
if ! "$RVS_CACHE/tools/bin/bindgen" --version 2>/dev/null | grep -q " $BINDGEN_VERSION"; then
	say "installing bindgen-cli $BINDGEN_VERSION (cargo)"
	cargo install -q --locked --root "$RVS_CACHE/tools" "bindgen-cli@$BINDGEN_VERSION"
fi
say "bindgen: $(bindgen --version)"

# --- virtme-ng, pinned, in a venv ---
if ! "$RVS_CACHE/venv/bin/vng" --version 2>/dev/null | grep -q "$VIRTME_NG_VERSION"; then
	say "installing virtme-ng $VIRTME_NG_VERSION (pip, venv)"
	python3 -m venv "$RVS_CACHE/venv"
	"$RVS_CACHE/venv/bin/pip" install -q "virtme-ng==$VIRTME_NG_VERSION"
fi
say "virtme-ng: $("$RVS_CACHE/venv/bin/vng" --version 2>&1 | head -1)"

# --- matplotlib in the same venv, for the benchmarks' ratio plot ---
if ! "$RVS_CACHE/venv/bin/python3" -c 'import matplotlib' 2>/dev/null; then
	say "installing matplotlib (pip, venv)"
	"$RVS_CACHE/venv/bin/pip" install -q matplotlib
fi

if [ $build_kernel = 1 ]; then
	"$RVS_TOP/scripts/build-kernel.sh" "$variant"
fi
