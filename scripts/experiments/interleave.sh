#!/bin/bash
# Times ex_6_1 builds against each other, interleaved: interleave.sh ROUNDS BIN:VARIANT...
# Each run is one process (`--repeat 1`, as `cargo xtask run` times a row); each round starts
# one row further on, so that no row always runs first. Prints, per row, the geometric mean
# and its ratio to the first row's, with a 95% bootstrap interval.
set -euo pipefail
if [ $# -lt 3 ] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: interleave.sh ROUNDS BIN:VARIANT BIN:VARIANT... (ROUNDS a positive whole number, two rows or more)" >&2
  exit 2
fi
rounds=$1; shift; rows=("$@"); n=${#rows[@]}
for row in "${rows[@]}"; do
  if [[ $row != *:* ]] || ! [ -x "${row%:*}" ] || [ -z "${row##*:}" ]; then
    echo "interleave.sh: '$row' is not BIN:VARIANT with BIN an executable ex_6_1 build (e.g. target/release/ex_6_1:spawn)" >&2
    exit 2
  fi
done
times=$(mktemp); trap 'rm -f "$times"' EXIT
for ((r = 0; r < rounds; r++)); do
  for ((j = 0; j < n; j++)); do
    row=${rows[$(((r + j) % n))]}
    t=$("${row%:*}" --variant "${row##*:}" --repeat 1 | awk '/It took/ {print $3}')
    echo "$row $t" >> "$times"
  done
done
python3 - "$times" "${rows[0]}" <<'PY'
import collections, math, random, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    row, t = line.rsplit(maxsplit=1)
    runs[row].append(float(t))
gm = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
base = runs[sys.argv[2]]
random.seed(1)
for row, xs in runs.items():
    boot = sorted(gm(random.choices(xs, k=len(xs))) / gm(random.choices(base, k=len(base)))
                  for _ in range(2000))
    print(f"{row}: {len(xs)} runs, {gm(xs) * 1e3:.1f} ms, "
          f"{gm(xs) / gm(base):.3f}x [{boot[50]:.3f}, {boot[1949]:.3f}]")
PY
