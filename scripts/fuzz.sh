#!/usr/bin/env bash
# Fuzzes drg with cargo-fuzz (libFuzzer): the pack loader (pack.json, the TSV
# files, the compiled format, and whole pack directories with links and odd
# files), the case readers (CSV, JSONL, drg_group_json, and the guarded CSV
# reader with small limits against the csv crate), code normalisation, the
# points policy, and point calculation with extreme numbers.
#
#   bash scripts/fuzz.sh                      # a 30-second smoke run of every target
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh     # the 10-minute runs
#   bash scripts/fuzz.sh read_csv policy      # some targets only
#
# Runs two targets at a time (JOBS=2). Findings are written to
# fuzz/artifacts/TARGET/; reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…
# and keep it as a regression test. Not part of the test command: it needs
# minutes, and cargo-fuzz (installed here with `cargo install cargo-fuzz`).
# cargo-fuzz asks for nightly flags; RUSTC_BOOTSTRAP=1 lets this stable
# toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-2}
export RUSTC_BOOTSTRAP=1

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(normalize pack_json pack_tsv pack_compiled read_csv read_jsonl group_json policy csv_limits pack_dir points_extreme)

# Seed inputs, from the project's own demo pack and examples.
cargo build --release --locked -p drg-cli >/dev/null
seed() { mkdir -p "fuzz/corpus/$1"; cat > "fuzz/corpus/$1/$2"; }
printf 'K35.800x001' | seed normalize a
printf ' ｋ３５．８００X001|I10.X05、-;d48.900x014+h36.8*' | seed normalize b
seed pack_json demo < drg-core/demo-pack/pack.json
for f in cc.tsv cc_exclusions.tsv or_procedures.tsv codes/diagnoses.tsv codes/procedures.tsv codes/diagnosis_map.tsv codes/procedure_map.tsv; do
  cat "drg-core/demo-pack/$f"; printf '\xff'
done | seed pack_tsv demo
target/release/drg pack compile drg-core/demo-pack -o fuzz/corpus/demo.drgpack >/dev/null
seed pack_compiled demo < fuzz/corpus/demo.drgpack
seed read_csv example < examples/cases.csv
seed csv_limits example < examples/cases.csv
printf 'id,sex,age_years,diagnoses\n1,1,30,"K35.800\n|E11.900"\n2,1,30,K3"5\n3,1,30,"K""35"\r\n\n4,1,"30,K35.800\n' | seed csv_limits quotes
printf '\x00pack.json is fuzzed' | seed pack_dir a
for i in $(seq 1 120); do
  printf "\\x$(printf %02x "$i")A19\tx\n" | seed pack_dir "kind$i"
done
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<8d", 1e305, 3.0, 1e300, 2.0, 1e308, 0.85, 0.9, 1e-310) + struct.pack("<24d", *([1e305, 5e-324] * 12)))' | seed points_extreme a
printf '{"id":"1","sex":"1","age_years":30,"diagnoses":["K35.800","E11.900"],"procedures":"47.0901"}\n[{"id":2,"sex":2,"age_years":0,"age_days":3,"weight_g":1800,"diagnoses":"P07.100"}]\n' | seed read_jsonl a
printf '{"id":"1","sex":"女","age_years":"0","age_days":3,"weight_g":1800.5,"diagnoses":["P07.100","P59.900"],"dept":"NICU"}' | seed group_json a
printf '[calibration]\ntrim = "sd"\ntrim_k = 3.0\nmin_cases = 5\nscale = 100.0\n[scoring]\nhigh_multiples = [[100.0, 3.0], [300.0, 2.0], [1e308, 1.5]]\nlow_ratio = 0.4\nbase_groups = ["A19"]\n[coefficients]\nlevel = { "1" = 0.85, "2" = 0.92 }\nhospital = { "H2" = 1.1 }\n[settlement]\nbudget = 100000.0\nshare_ratio = 0.85\nprepay_ratio = 0.9\n' | seed policy a

# Findings kept as regressions (fuzz/regressions/TARGET/) are replayed first.
for d in fuzz/regressions/*/; do
  [ -d "$d" ] && mkdir -p "fuzz/corpus/$(basename "$d")" && cp "$d"* "fuzz/corpus/$(basename "$d")/"
done
(cd fuzz && cargo fuzz build --release >/dev/null 2>&1) || (cd fuzz && cargo fuzz build --release)
run() {
  local t=$1
  if (cd fuzz && cargo fuzz run --release "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        > "artifacts-$t.log" 2>&1); then
    echo "$t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "fuzz/artifacts-$t.log" | tail -1), no finding"
  else
    echo "$t: FINDING, see fuzz/artifacts/$t/ and fuzz/artifacts-$t.log"; return 1
  fi
}
status=0
pids=()
for t in "${targets[@]}"; do
  run "$t" & pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
