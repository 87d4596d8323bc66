#!/usr/bin/env bash
# DIP through the C ABI (drg-ffi/src/dip.rs): examples/c/dip_cases.c groups
# and scores the 20,000 DIP period cases from 4 threads sharing one handle
# (the first 2,000 again under valgrind when it is installed: no errors, no
# leaks), and every row
# must agree with ../shared/testdata/dip/expected-published (status, group,
# severity; category; points within 1e-4). Run by scripts/test-c.sh after it
# has built target/release/libdrg.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dip=$root/../shared/testdata/dip
out=$root/target/c
mkdir -p "$out"
[ -f target/release/libdrg.so ] || cargo build --release --locked -p drg-ffi
gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -pthread -I include examples/c/dip_cases.c \
  -L target/release -ldrg "-Wl,-rpath,$root/target/release" -o "$out/dip_cases"

run=("$out/dip_cases" "$dip/policy.toml" "$dip/expected/catalogue.csv" "$root/../shared/rulepacks/chs-drg-1.1")
echo "== C: DIP, 20,000 cases from 4 threads sharing one handle"
"${run[@]}" "$dip/period.csv" 4 > "$out/dip.csv"
if command -v valgrind >/dev/null; then
  # Valgrind is slow: the first 2,000 cases, also from 4 threads.
  echo "== C: DIP, 2,000 cases from 4 threads under valgrind"
  head -2001 "$dip/period.csv" > "$out/dip_period_2k.csv"
  valgrind -q --error-exitcode=3 --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "${run[@]}" "$out/dip_period_2k.csv" 4 > "$out/dip_2k.csv"
  cmp "$out/dip_2k.csv" <(head -2001 "$out/dip.csv")
fi

tr -d '\r' < "$dip/expected-published/groups.csv" > "$out/dip_groups.csv"
tr -d '\r' < "$dip/expected-published/case_points.csv" > "$out/dip_points.csv"
awk -F, '
  FILENAME == ARGV[1] && FNR > 1 { g[$1] = $2 "," $3 "," $4; next }
  FILENAME == ARGV[2] && FNR > 1 { cat[$1] = $4; pts[$1] = $7; next }
  FNR > 1 {
    rows++
    if ((($2 "," $3 "," $4) != g[$1]) || ($5 != cat[$1]) || ($5 != "" && (($6 - pts[$1]) > 1e-4 || (pts[$1] - $6) > 1e-4))) {
      bad++
      if (bad <= 20) print "differs: " $0 " expected " g[$1] " " cat[$1] " " pts[$1]
    }
  }
  END {
    if (rows != 20000) { print rows " rows, expected 20000"; exit 1 }
    if (bad) { print bad " of " rows " DIP cases differ from expected-published"; exit 1 }
    print rows " DIP cases agree with expected-published"
  }' "$out/dip_groups.csv" "$out/dip_points.csv" "$out/dip.csv"
