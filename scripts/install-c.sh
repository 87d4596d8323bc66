#!/usr/bin/env bash
# Installs the C library: libdrg.so, libdrg.a, drg.h and a pkg-config file.
#   bash scripts/install-c.sh [PREFIX]     (default /usr/local)
# Then: cc app.c $(pkg-config --cflags --libs drg)
# (with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig for a prefix pkg-config does not search).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

cargo build --release --locked -p drg-ffi
install -d "$prefix/lib/pkgconfig" "$prefix/include"
install -m 0755 target/release/libdrg.so "$prefix/lib/libdrg.so.$version"
ln -sf "libdrg.so.$version" "$prefix/lib/libdrg.so"
install -m 0644 target/release/libdrg.a "$prefix/lib/libdrg.a"
install -m 0644 include/drg.h "$prefix/include/drg.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" drg-ffi/drg.pc.in > "$prefix/lib/pkgconfig/drg.pc"
echo "installed drg $version under $prefix"
