#!/usr/bin/env bash
# Import speed of `vigil hashset import`, and start-up time of the match index (snapshot vs database).
#
#   VIGIL=.build/release/vigil bench/hashset/run.sh
#
# Generates, under $WORK (deleted afterwards): an md5sum file of $MD5_LINES lines, a VICS 2.0 file of
# $VICS_RECORDS Media records (MD5 + SHA1 + category + series + flags), and a ThreatExchange file of
# $PDQ_LINES PDQ hashes; imports each into a fresh SQLite data directory (and, with DATABASE_URL set, the md5sum
# file into that PostgreSQL database, which must be empty), printing records per second. Then, when PDQ_LINES > 0,
# starts `vigil serve` twice on the PDQ set and prints the "match index ready" lines: the first start reads the
# database and writes the snapshot, the second loads the snapshot.
#
# Environment: VIGIL (the binary; required, build it with `swift build -c release --product vigil`),
# MD5_LINES (200000), VICS_RECORDS (100000), PDQ_LINES (100000), BATCH (importer default), WORK (a temporary
# folder), DATABASE_URL (unset: SQLite only), PYTHON (python3).
set -euo pipefail
: "${VIGIL:?set VIGIL to the vigil binary (swift build -c release --product vigil)}"
MD5_LINES="${MD5_LINES:-200000}"
VICS_RECORDS="${VICS_RECORDS:-100000}"
PDQ_LINES="${PDQ_LINES:-100000}"
PYTHON="${PYTHON:-python3}"
WORK="${WORK:-$(mktemp -d /tmp/vigil-hashset-bench.XXXXXX)}"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
BATCH_ARGS=()
if [ -n "${BATCH:-}" ]; then BATCH_ARGS=(--batch "$BATCH"); fi

"$PYTHON" - "$WORK" "$MD5_LINES" "$VICS_RECORDS" "$PDQ_LINES" <<'PY'
import os, sys
work, md5_lines, vics, pdq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def hexes(n, nbytes):
    # random digests in blocks, fast enough for tens of millions of lines
    size = nbytes * 4096
    while n > 0:
        block = os.urandom(size).hex()
        k = min(n, 4096)
        step = nbytes * 2
        for i in range(k):
            yield block[i * step:(i + 1) * step]
        n -= k
with open(os.path.join(work, "set.md5"), "w") as f:
    for i, h in enumerate(hexes(md5_lines, 16)):
        f.write(f"{h}  ./evidence/dir{i % 1000}/file{i}.jpg\n")
with open(os.path.join(work, "set.vics.json"), "w") as f:
    f.write('{"@odata.context":"http://github.com/ICMEC/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media","value":[')
    sha = hexes(vics, 20)
    for i, h in enumerate(hexes(vics, 16)):
        if i: f.write(",")
        f.write('{"MediaID":%d,"Category":%d,"MD5":"%s","SHA1":"%s","VictimIdentified":%s,"Series":"Series %d"}'
                % (i + 1, i % 5, h.upper(), next(sha).upper(), "true" if i % 7 == 0 else "false", i % 97))
    f.write("]}\n")
with open(os.path.join(work, "set.te"), "w") as f:
    for h in hexes(pdq, 32):
        f.write(f"pdq {h}\n")
PY

rate() {  # name records file format data-args...
    local name="$1" n="$2" file="$3" format="$4"
    shift 4
    local start end
    start=$(date +%s.%N)
    "$VIGIL" hashset import --format "$format" "${BATCH_ARGS[@]}" "$@" "$file" >"$WORK/out.txt"
    end=$(date +%s.%N)
    "$PYTHON" -c "import sys; n=$n; t=$end-$start; print(f'$name: {n} records in {t:.1f} s = {n/t:,.0f} records/s  ('+open('$WORK/out.txt').read().strip()+')')"
}

if [ "$MD5_LINES" -gt 0 ]; then
    rate "sqlite md5sum" "$MD5_LINES" "$WORK/set.md5" md5sum --data-dir "$WORK/d-md5"
    rate "sqlite md5sum again (all unchanged)" "$MD5_LINES" "$WORK/set.md5" md5sum --data-dir "$WORK/d-md5"
    rm -rf "$WORK/d-md5"
fi
if [ "$VICS_RECORDS" -gt 0 ]; then
    rate "sqlite vics" "$VICS_RECORDS" "$WORK/set.vics.json" vics --data-dir "$WORK/d-vics"
    rm -rf "$WORK/d-vics"
fi
if [ -n "${DATABASE_URL:-}" ] && [ "$MD5_LINES" -gt 0 ]; then
    rate "postgres md5sum" "$MD5_LINES" "$WORK/set.md5" md5sum --data-dir "$WORK/d-pg" --database-url "$DATABASE_URL"
fi
if [ "$PDQ_LINES" -gt 0 ]; then
    rate "sqlite pdq (te)" "$PDQ_LINES" "$WORK/set.te" te --data-dir "$WORK/d-pdq"
    for run in "database, writes the snapshot" "snapshot"; do
        port=$(( 20000 + RANDOM % 20000 ))
        "$VIGIL" serve --data-dir "$WORK/d-pdq" --port "$port" >"$WORK/serve.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 600); do
            grep -q "match index" "$WORK/serve.log" 2>/dev/null && break
            sleep 0.5
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        echo "serve start ($run): $(grep -o 'match index.*' "$WORK/serve.log" | head -1)"
    done
fi
