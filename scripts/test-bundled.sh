#!/usr/bin/env bash
# The bundled packs through every shell, and the "no ../shared" promise.
#
# From a temporary directory outside the checkout, with DRG_PACK unset and no
# path to any pack: the built `drg` binary (copied there), a C program linked
# to libdrg and the installed wheel (target/venv, made by test-python.sh)
# open packs by name, default to chs-drg-2.0, and group a few hundred cases
# drawn from each local pack's own lists identically, without an invalid row.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cargo build --release --locked -p drg-cli -p drg-ffi
venv=$root/target/venv
if ! "$venv/bin/python" -c "import drg, pandas; drg.packs" 2>/dev/null; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q pandas
  "$venv/bin/python" -m pip install -q --force-reinstall --no-deps ./drg-py
fi

work=$(mktemp -d /tmp/drg-bundled.XXXXXX)
trap 'rm -rf "$work"' EXIT
unset DRG_PACK
cp target/release/drg "$work/drg"
gcc -std=c11 -Wall -Wextra -Werror -O1 -pthread -I include examples/c/group_cases.c \
  -L target/release -ldrg "-Wl,-rpath,$root/target/release" -o "$work/group_cases"
gcc -std=c11 -Wall -Wextra -Werror -O1 -I include examples/c/list_packs.c \
  -L target/release -ldrg "-Wl,-rpath,$root/target/release" -o "$work/list_packs"

# Synthetic cases of every local pack, from its own lists (read here, from the
# checkout; grouping below never sees the checkout).
python3 - "$root/rulepacks" "$work/cases" <<'PY'
import csv, json, os, random, sys
root, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
stored = {}
for line in open(os.path.join(root, "manifest.tsv"), encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if len(f) == 4 and f[1] == "pack.json":
        stored[f[0]] = f[2]
for pack, path in stored.items():
    if pack in ("chs-drg-2.0", "chs-drg-1.1", "chs-drg-1.0", "zhejiang-2022"):
        continue  # these have reference test data
    lists = json.load(open(os.path.join(root, path), encoding="utf-8"))["lists"]
    dx = [v for k, v in lists.items() if "dx" in k and v]
    proc = [v for k, v in lists.items() if "proc" in k and v]
    rng = random.Random(pack)
    with open(os.path.join(out, pack + ".csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "sex", "age_years", "age_days", "weight_g", "los_days", "diagnoses", "procedures"])
        for i in range(300):
            newborn = rng.random() < 0.1
            d = [rng.choice(rng.choice(dx)) for _ in range(1 + rng.randrange(3))]
            p = [rng.choice(rng.choice(proc)) for _ in range(rng.randrange(3))]
            w.writerow([f"{pack}-{i}", rng.choice("12"), 0 if newborn else rng.randrange(1, 90),
                        rng.randrange(1, 28) if newborn else "", rng.randrange(1500, 4500) if newborn else "",
                        rng.randrange(1, 30), "|".join(d), "|".join(p)])
PY

cd "$work"
checks=0
echo "== bundled packs: the binary, C and Python from $work (DRG_PACK unset)"
# The default pack, in every shell.
./drg group examples-are-not-here.csv 2>/dev/null && { echo "a missing input must fail"; exit 1; }
printf 'id,sex,age_years,diagnoses,procedures\n1,1,45,I10.x00,\n' > one.csv
./drg group one.csv 2> summary.txt > /dev/null
grep -q "(chs-drg-2.0)" summary.txt || { echo "drg group does not default to chs-drg-2.0:"; cat summary.txt; exit 1; }
./list_packs > c_default.txt
tail -1 c_default.txt | grep -q '"id":"chs-drg-2.0"' || { echo "C does not default to chs-drg-2.0"; tail -1 c_default.txt; exit 1; }
[ "$(head -1 c_default.txt | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 27 ] || { echo "drg_packs_json does not list 27 packs"; exit 1; }
"$venv/bin/python" -c 'import drg; assert drg.Grouper().pack_info()["id"] == "chs-drg-2.0"; assert len(drg.packs()) == 27; assert "OpenDRG" in drg.PACKS_NOTICE'
./drg pack list | grep -q "not official releases" || { echo "drg pack list does not say the packs are conversions"; exit 1; }
./drg pack notice | grep -q "Apache License" || { echo "drg pack notice lacks the licence"; exit 1; }
checks=$((checks + 1))

for cases in cases/*.csv; do
  pack=$(basename "$cases" .csv)
  ./drg group -q --pack "$pack" "$cases" | cut -d, -f1-5 > "cli-$pack.csv"
  ./group_cases "$pack" "$cases" 2 > "c-$pack.csv"
  "$venv/bin/python" - "$pack" "$cases" "py-$pack.csv" <<'PY'
import csv, sys
import pandas as pd
import drg
pack, cases, out = sys.argv[1:]
df = drg.Grouper(pack).group_frame(pd.read_csv(cases, dtype=str, keep_default_na=False))
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "status", "mdc", "adrg", "drg"])
    for r in df[["id", "status", "mdc", "adrg", "drg"]].itertuples(index=False):
        w.writerow(["" if v is None or v != v else v for v in r])
PY
  for other in c py; do
    if ! cmp -s "cli-$pack.csv" "$other-$pack.csv"; then
      echo "$pack: $other differs from the CLI:"; diff "cli-$pack.csv" "$other-$pack.csv" | head; exit 1
    fi
  done
  if grep -q ',invalid,' "cli-$pack.csv"; then echo "$pack: invalid rows"; grep ',invalid,' "cli-$pack.csv" | head; exit 1; fi
  grouped=$(grep -c ',grouped,' "cli-$pack.csv" || true)
  [ "$grouped" -ge 100 ] || { echo "$pack: only $grouped of 300 grouped"; exit 1; }
  checks=$((checks + 1))
done
echo "bundled: $checks passed, 0 failed"
