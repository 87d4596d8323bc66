#!/usr/bin/env bash
# The C ABI from C: builds libdrg, compiles the examples with -Wall -Wextra
# -Werror, groups the national 1.1 cases from 4 threads and compares with
# `drg group`, groups the 2.0 cases and compares them with the reference, and
# runs the ABI test and the threaded grouping under valgrind (no errors, no
# leaks). Also checks the pkg-config install.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
shared=$root/../shared

if ! command -v valgrind >/dev/null; then
  echo "installing valgrind"
  { apt-get update -qq && apt-get install -y -qq valgrind; } >/dev/null
fi
command -v pkg-config >/dev/null || { apt-get update -qq && apt-get install -y -qq pkg-config >/dev/null; }

cargo build --release --locked -p drg-ffi -p drg-cli
out=$root/target/c
rm -rf "$out" && mkdir -p "$out"
cflags=(-std=c11 -Wall -Wextra -Werror -O1 -g -pthread -I include)
link=(-L target/release -ldrg "-Wl,-rpath,$root/target/release")
gcc "${cflags[@]}" examples/c/group_cases.c "${link[@]}" -o "$out/group_cases"
gcc "${cflags[@]}" examples/c/test_abi.c "${link[@]}" -o "$out/test_abi"
gcc "${cflags[@]}" examples/c/test_hardening.c "${link[@]}" -o "$out/test_hardening"
# The static library links too.
gcc "${cflags[@]}" examples/c/group_cases.c target/release/libdrg.a -lpthread -ldl -lm -o "$out/group_cases_static"

vg=(valgrind -q --error-exitcode=3 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect)

echo "== C: ABI test under valgrind"
mkdir -p "$out/work"
"${vg[@]}" "$out/test_abi" "$out/work"

# Not under valgrind: 40,000 cases on 256 threads take minutes there, and
# what it checks (every result written, nothing on stderr) needs no valgrind.
echo "== C: hardening (absurd thread counts, sex 3); nothing on standard error"
"$out/test_hardening" 2> "$out/hardening.stderr"
if [ -s "$out/hardening.stderr" ]; then
  echo "libdrg wrote to the host's standard error:"; head -20 "$out/hardening.stderr"; exit 1
fi

echo "== C: CHS-DRG 1.1 from 4 threads under valgrind, against drg group"
target/release/drg group -q --pack "$shared/rulepacks/chs-drg-1.1" "$shared/testdata/chs-drg-1.1/cases.csv" \
  | cut -d, -f1-5 > "$out/cli.csv"
"${vg[@]}" "$out/group_cases" "$shared/rulepacks/chs-drg-1.1" "$shared/testdata/chs-drg-1.1/cases.csv" 4 > "$out/c.csv"
# The static library, and a compiled pack file instead of the directory.
target/release/drg pack compile "$shared/rulepacks/chs-drg-1.1" -o "$out/chs-drg-1.1.drgpack" >/dev/null
"$out/group_cases_static" "$out/chs-drg-1.1.drgpack" "$shared/testdata/chs-drg-1.1/cases.csv" 2 > "$out/c_static.csv"
checks=0
for f in c.csv c_static.csv; do
  if ! cmp -s "$out/cli.csv" "$out/$f"; then
    echo "C results ($f) differ from drg group:"; diff "$out/cli.csv" "$out/$f" | head -20
    exit 1
  fi
  checks=$((checks + 1))
done
rows=$(($(wc -l < "$out/c.csv") - 1))
echo "$rows cases agree with drg group: shared library with the directory, static library with the compiled pack"

echo "== C: CHS-DRG 2.0 (if_no_adrg, contradictory ages) from 2 threads, against the reference"
# The 1.1 run under valgrind covers the same code paths; this one checks the
# results of the scheme in force, case by case.
"$out/group_cases" "$shared/rulepacks/chs-drg-2.0" "$shared/testdata/chs-drg-2.0/cases.csv" 2 > "$out/c-2.0.csv"
# expected.csv has CRLF line ends; the rows are in the order of cases.csv.
tr -d '\r' < "$shared/testdata/chs-drg-2.0/expected.csv" > "$out/expected-2.0.csv"
if ! cmp -s "$out/expected-2.0.csv" "$out/c-2.0.csv"; then
  echo "C results of CHS-DRG 2.0 differ from expected.csv; ids:"
  diff "$out/expected-2.0.csv" "$out/c-2.0.csv" | grep '^[<>]' | cut -c3- | cut -d, -f1 | sort -u | tr '\n' ' ' | head -c 4000
  echo
  diff "$out/expected-2.0.csv" "$out/c-2.0.csv" | head -20
  exit 1
fi
checks=$((checks + 1))
echo "$(($(wc -l < "$out/c-2.0.csv") - 1)) cases of CHS-DRG 2.0 agree with expected.csv"

echo "== C: pkg-config install"
bash scripts/install-c.sh "$out/prefix" >/dev/null
# shellcheck disable=SC2046
PKG_CONFIG_PATH=$out/prefix/lib/pkgconfig gcc "${cflags[@]}" examples/c/group_cases.c \
  $(PKG_CONFIG_PATH=$out/prefix/lib/pkgconfig pkg-config --cflags --libs drg) -o "$out/group_cases_installed"
"$out/group_cases_installed" --demo examples/cases.csv > "$out/demo.csv"
grep -q '^D002,grouped,MDCG,GC2,GC23$' "$out/demo.csv"
checks=$((checks + 1))
bash scripts/test-c-dip.sh && checks=$((checks + 1))
echo "c: $((checks)) passed, 0 failed"
