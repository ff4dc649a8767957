#!/usr/bin/env bash
# Runs the one-file bundle on a real arm64 Node.js (Debian's nodejs package, as on a
# Raspberry Pi with a 64-bit OS) under qemu user-mode emulation, and checks that it gives
# the same answers as the same bundle on this machine's Node.js (x86):
#   --help, inspect --json, predict --json on the shipped model and sample CSV (also with the
#   WebAssembly SIMD kernels forced, float32 and int8), and,
#   when Mosquitto is installed, `run` against a broker (one prediction per reading), and
#   `demo --no-live` (embedded aedes broker, the shipped model beside the bundle) and the
#   demo's live view in a pseudo-terminal (util-linux `script`); every command's --help of
#   both bundles; and the device bundle (edge-rnn-device.mjs): inspect --json and
#   predict --json on arm64, equal to the full bundle's answers there.
#
# Usage: scripts/check-arm64.sh        (as root, or with sudo, on Debian/Ubuntu with apt)
# Env:   CHECK_ARM64_CACHE  where the downloaded .deb files are kept (default ~/.cache/edge-rnn-arm64)
#        CHECK_ARM64_KEEP=1 keep the temporary folder (sysroot, bundle, outputs)
#        BUNDLE=path        check this bundle instead of building one
#        DEVICE_BUNDLE=path check this device bundle instead of building one
#        CHECK_ARM64_QUICK=1 only --help and predict (skips inspect, run and the timings)
# Needs: the repository's node_modules (npm ci) to build the bundle and publish readings.
# shellcheck disable=SC2016 # the single-quoted snippets are JavaScript, expanded by node
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CHECK_ARM64_CACHE:-${HOME:-/root}/.cache/edge-rnn-arm64}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edge-rnn-arm64.XXXXXX")
SYSROOT=$WORK/sysroot
APP=$WORK/app
MODEL=$REPO/models/example-lstm.msgpack
CSV=$REPO/models/sample-readings.csv
BROKER_PID=
RUN_PID=

cleanup() {
  if [ -n "$RUN_PID" ]; then kill "$RUN_PID" 2>/dev/null || true; fi
  if [ -n "$BROKER_PID" ]; then kill "$BROKER_PID" 2>/dev/null || true; fi
  if [ "${CHECK_ARM64_KEEP:-}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive

now_ms() { echo $(($(date +%s%N) / 1000000)); }
T_START=$(now_ms)
T_LAST=$T_START
lap() { # lap NAME: time since the previous lap
  local t
  t=$(now_ms)
  printf '  %-52s %6.1f s\n' "$1" "$(echo "($t - $T_LAST) / 1000" | bc -l)"
  T_LAST=$t
}
fail() { echo "check-arm64: FAIL: $*" >&2; exit 1; }

echo "== setup"
if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq qemu-user-static >/dev/null
fi
command -v bc >/dev/null 2>&1 || { $SUDO apt-get install -y -qq bc >/dev/null; }
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi
if ! apt-cache policy nodejs:arm64 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  $SUDO apt-get update -qq
fi
lap "qemu, arm64 package lists"

# nodejs:arm64 and, recursively, the shared libraries (and the arch-all node-* JS
# packages Debian's libnode loads) it depends on. Nothing else: no dpkg, perl, debconf.
# One apt-cache call per level of the tree: each call costs about a second here.
resolve_packages() {
  local frontier=("nodejs:arm64") seen=" " next d
  while [ ${#frontier[@]} -gt 0 ]; do
    next=()
    for d in "${frontier[@]}"; do seen="$seen$d "; echo "$d"; done
    while read -r d; do
      case "$d" in lib*:arm64 | zlib1g:arm64 | gcc-*-base:arm64 | node-*) ;; *) continue ;; esac
      case "$seen ${next[*]} " in *" $d "*) continue ;; esac
      next+=("$d")
    done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "${frontier[@]}" |
      awk '/^  (Pre)?Depends: /{ v = $2; if (v ~ /^</) { getline; sub(/^ +/, ""); v = $0 } print v }')
    frontier=("${next[@]}")
  done
}
mapfile -t PACKAGES < <(resolve_packages)
# The exact .deb file names apt would fetch; download only those not in the cache yet.
mapfile -t DEBS < <(apt-get download --print-uris "${PACKAGES[@]}" | awk '{ print $2 }')
[ ${#DEBS[@]} -eq ${#PACKAGES[@]} ] || fail "apt-get download --print-uris named ${#DEBS[@]} files for ${#PACKAGES[@]} packages"
mkdir -p "$CACHE"
MISSING=()
for i in "${!PACKAGES[@]}"; do
  [ -f "$CACHE/${DEBS[$i]}" ] || MISSING+=("${PACKAGES[$i]}")
done
if [ ${#MISSING[@]} -gt 0 ]; then
  (cd "$CACHE" && apt-get download -qq -o APT::Sandbox::User=root "${MISSING[@]}")
fi
mkdir -p "$SYSROOT"
for deb in "${DEBS[@]}"; do dpkg -x "$CACHE/$deb" "$SYSROOT"; done
echo "  packages: ${PACKAGES[*]}"
lap "download + unpack ${#PACKAGES[@]} arm64 packages"

# The guest's dynamic linker and its library paths resolve inside the sysroot (-L).
ARM_NODE=(qemu-aarch64-static -L "$SYSROOT" "$SYSROOT/usr/bin/node")
file -b "$SYSROOT/usr/bin/node" | grep -q 'ARM aarch64' || fail "$SYSROOT/usr/bin/node is not an arm64 binary"

mkdir -p "$APP"
if [ -n "${BUNDLE:-}" ]; then
  cp "$BUNDLE" "$APP/edge-rnn.mjs"
  # The shipped data (demo model, mote data) lives beside the bundle.
  [ ! -d "$(dirname "$BUNDLE")/edge-rnn-data" ] || cp -r "$(dirname "$BUNDLE")/edge-rnn-data" "$APP/"
else
  (cd "$REPO" && node bin/ts.mjs scripts/bundle.ts "$WORK/build/edge-rnn.mjs" | head -1 | sed 's/^.*: /  edge-rnn.mjs: /')
  cp "$WORK/build/edge-rnn.mjs" "$APP/edge-rnn.mjs"
  cp -r "$WORK/build/edge-rnn-data" "$APP/"
fi
if [ -n "${DEVICE_BUNDLE:-}" ]; then
  cp "$DEVICE_BUNDLE" "$APP/edge-rnn-device.mjs"
else
  (cd "$REPO" && node bin/ts.mjs scripts/bundle.ts --device "$WORK/build/edge-rnn-device.mjs" | head -1 | sed 's/^.*: /  edge-rnn-device.mjs: /')
  cp "$WORK/build/edge-rnn-device.mjs" "$APP/edge-rnn-device.mjs"
fi
cp "$MODEL" "$APP/model.msgpack"
cp "$CSV" "$APP/readings.csv"
cp "$REPO/models/mote-forecaster.int8.msgpack" "$APP/int8.msgpack"
lap "bundle"

echo "== arm64 Node.js"
ARM_ID=$(cd "$APP" && "${ARM_NODE[@]}" -p '`Node ${process.version} ${process.platform}-${process.arch}, openssl ${process.versions.openssl}, icu ${process.versions.icu}`')
echo "  arm64: $ARM_ID (Debian nodejs $(apt-cache policy nodejs:arm64 | awk '/Candidate:/{ print $2 }'), qemu-aarch64-static)"
echo "  x86:   $(node -p '`Node ${process.version} ${process.platform}-${process.arch}`') (reference: the same bundle)"
case "$ARM_ID" in *linux-arm64*) ;; *) fail "the emulated node does not report arm64: $ARM_ID" ;; esac
lap "node -p (startup)"

arm() { (cd "$APP" && "${ARM_NODE[@]}" edge-rnn.mjs "$@"); }
x86() { (cd "$APP" && node edge-rnn.mjs "$@"); }

echo "== checks (arm64 vs x86, same bundle; test/bundle checks the bundle against the source)"
arm --help >"$WORK/help.arm"
x86 --help >"$WORK/help.x86"
cmp -s "$WORK/help.arm" "$WORK/help.x86" || { diff "$WORK/help.x86" "$WORK/help.arm" || true; fail "--help differs"; }
grep -q 'predict' "$WORK/help.arm" || fail "--help does not list predict"
lap "--help: identical"

# The WebAssembly SIMD kernels themselves (EDGE_RNN_KERNELS=wasm fails instead of falling
# back to JS when SIMD is missing), float32 and int8, against the x86 run of the same bundle.
for m in model.msgpack int8.msgpack; do
  WASM_PREDICT=(predict --model "$m" --data readings.csv --device-column mote_id --json)
  (cd "$APP" && EDGE_RNN_KERNELS=wasm "${ARM_NODE[@]}" edge-rnn.mjs "${WASM_PREDICT[@]}") >"$WORK/wasm-$m.arm" || fail "WebAssembly kernels do not run on arm64 ($m)"
  (cd "$APP" && EDGE_RNN_KERNELS=wasm node edge-rnn.mjs "${WASM_PREDICT[@]}") >"$WORK/wasm-$m.x86"
  cmp -s "$WORK/wasm-$m.arm" "$WORK/wasm-$m.x86" || fail "WebAssembly kernels give different outputs on arm64 ($m)"
done
lap "predict, WebAssembly SIMD forced, f32 and int8: identical"

# The batched kernels (stepBatch: predict --device-column steps every device's n-th row together;
# the sample has 2 devices, below the batched path's minimum of 4): 70 devices, one chunk of 64
# and a partial one of 6 (not a multiple of the 8-stream blocks), f32 and int8. The baseline
# module on both sides (Debian's Node 18 has no relaxed SIMD; a Node 22 on x86 would pick it).
awk -F, 'NR == 1 { print; next } NR <= 31 { for (d = 1; d <= 70; d++) printf "%d,%.2f,%.2f\n", d, $2 + d * 0.05, $3 - d * 0.1 }' \
  "$APP/readings.csv" >"$APP/fleet.csv"
for m in model.msgpack int8.msgpack; do
  FLEET_PREDICT=(predict --model "$m" --data fleet.csv --device-column mote_id --json)
  (cd "$APP" && EDGE_RNN_KERNELS=wasm EDGE_RNN_WASM=baseline "${ARM_NODE[@]}" edge-rnn.mjs "${FLEET_PREDICT[@]}") >"$WORK/fleet-$m.arm" ||
    fail "batched WebAssembly kernels do not run on arm64 ($m)"
  (cd "$APP" && EDGE_RNN_KERNELS=wasm EDGE_RNN_WASM=baseline node edge-rnn.mjs "${FLEET_PREDICT[@]}") >"$WORK/fleet-$m.x86"
  [ "$(wc -l <"$WORK/fleet-$m.arm")" -eq 2100 ] || fail "batched predict printed $(wc -l <"$WORK/fleet-$m.arm") lines for 2100 rows ($m)"
  cmp -s "$WORK/fleet-$m.arm" "$WORK/fleet-$m.x86" || fail "batched WebAssembly kernels give different outputs on arm64 ($m)"
done
lap "predict, 70 devices batched, f32 and int8: identical"

QUICK=${CHECK_ARM64_QUICK:-}
if [ -z "$QUICK" ]; then
  arm inspect model.msgpack --json >"$WORK/inspect.arm"
  x86 inspect model.msgpack --json >"$WORK/inspect.x86"
  cmp -s "$WORK/inspect.arm" "$WORK/inspect.x86" || fail "inspect --json differs"
  lap "inspect --json: identical"
fi

PREDICT=(predict --model model.msgpack --data readings.csv --device-column mote_id --json)
arm "${PREDICT[@]}" >"$WORK/predict.arm"
x86 "${PREDICT[@]}" >"$WORK/predict.x86"
ROWS=$(wc -l <"$WORK/predict.arm")
[ "$ROWS" -eq "$(($(wc -l <"$CSV") - 1))" ] || fail "predict printed $ROWS lines for $(($(wc -l <"$CSV") - 1)) rows"
if cmp -s "$WORK/predict.arm" "$WORK/predict.x86"; then
  lap "predict --json ($ROWS rows): identical"
else
  # Allowed only if the last float32 digit moves (a different libm); report the largest gap.
  node -e '
    const [a, b] = process.argv.slice(1).map((f) => require("fs").readFileSync(f, "utf8").trim().split("\n").map(JSON.parse));
    let worst = 0;
    a.forEach((r, i) => r.y.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - b[i].y[k]) / Math.max(1, Math.abs(b[i].y[k]))))));
    console.log(`  predict: not byte-identical, largest relative difference ${worst.toExponential(2)}`);
    process.exit(worst <= 1e-6 ? 0 : 1);
  ' "$WORK/predict.arm" "$WORK/predict.x86" || fail "predict outputs differ by more than 1e-6"
  lap "predict --json ($ROWS rows): within 1e-6"
fi

# The device bundle on arm64: only the device commands, and the full bundle's answers.
arm_device() { (cd "$APP" && "${ARM_NODE[@]}" edge-rnn-device.mjs "$@"); }
arm_device --help >"$WORK/help-device.arm" || fail "device bundle: --help fails on arm64"
grep -q '^  predict ' "$WORK/help-device.arm" || fail "device bundle: --help does not list predict"
! grep -q '^  train ' "$WORK/help-device.arm" || fail "device bundle: --help lists train"
arm_device inspect model.msgpack --json >"$WORK/inspect-device.arm" || fail "device bundle: inspect fails on arm64"
[ -n "$QUICK" ] || cmp -s "$WORK/inspect-device.arm" "$WORK/inspect.arm" || fail "device bundle: inspect --json differs from the full bundle"
arm_device "${PREDICT[@]}" >"$WORK/predict-device.arm" || fail "device bundle: predict fails on arm64"
cmp -s "$WORK/predict-device.arm" "$WORK/predict.arm" || fail "device bundle: predict --json differs from the full bundle on arm64"
lap "device bundle: --help (device commands only), inspect, predict: identical to the full bundle"

MOSQUITTO=$(command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null || true)
if [ -n "$QUICK" ]; then
  echo "  run: skipped (CHECK_ARM64_QUICK)"
elif [ -z "$MOSQUITTO" ]; then
  echo "  run: SKIPPED (install mosquitto to check the MQTT runtime on arm64)"
else
  PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_dest none\n' "$PORT" >"$WORK/mosquitto.conf"
  "$MOSQUITTO" -c "$WORK/mosquitto.conf" &
  BROKER_PID=$!
  INSTANCE=arm64-check-$$
  (cd "$APP" && exec "${ARM_NODE[@]}" edge-rnn.mjs run --broker "mqtt://127.0.0.1:$PORT" --model model.msgpack \
    --instance "$INSTANCE" --health-interval 1s --log-level info) >"$WORK/run.log" 2>&1 &
  RUN_PID=$!
  # Publish the first 60 CSV rows as readings (seq per device) once the runtime is online,
  # and print the predictions in row order as predict --json lines ({"row","device","y"}).
  (cd "$REPO" && node --input-type=module -e '
    import mqtt from "mqtt";
    import { readFileSync } from "node:fs";
    const [url, instance, csv, n] = process.argv.slice(1);
    const [header, ...lines] = readFileSync(csv, "utf8").trim().split("\n").slice(0, Number(n) + 1);
    const cols = header.split(",");
    const seqs = new Map(); const rows = new Map();
    const readings = lines.map((line, row) => {
      const cells = line.split(","); const device = cells[cols.indexOf("mote_id")];
      const seq = seqs.get(device) ?? 0; seqs.set(device, seq + 1); rows.set(`${device}/${seq}`, row);
      return { device, seq, values: { temperature: Number(cells[cols.indexOf("temperature")]), humidity: Number(cells[cols.indexOf("humidity")]) } };
    });
    const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
    const out = new Map();
    const online = new Promise((resolve) => client.on("message", (topic, payload) => {
      const doc = JSON.parse(payload.toString());
      if (topic.startsWith("edge-rnn/")) { if (doc.state === "online") resolve(); return; }
      out.set(rows.get(`${doc.device}/${doc.seq}`), { row: rows.get(`${doc.device}/${doc.seq}`), device: doc.device, y: Object.values(doc.y) });
      if (out.size === readings.length) {
        console.log([...out.keys()].sort((a, b) => a - b).map((r) => JSON.stringify(out.get(r))).join("\n"));
        client.end(); clearTimeout(timer);
      }
    }));
    const timer = setTimeout(() => { console.error(`timed out: ${out.size}/${readings.length} predictions`); process.exit(1); }, 120000);
    await client.subscribeAsync(["predictions/+", `edge-rnn/${instance}/status`], { qos: 1 });
    await online;
    for (const r of readings) await client.publishAsync(`sensors/${r.device}/reading`, JSON.stringify({ ts: 1732615200000 + r.seq * 1000, seq: r.seq, values: r.values }), { qos: 1 });
  ' "mqtt://127.0.0.1:$PORT" "$INSTANCE" "$CSV" 60) >"$WORK/run.arm" || { cat "$WORK/run.log" >&2; fail "run: no predictions"; }
  kill -TERM "$RUN_PID"
  RUN_CODE=0
  wait "$RUN_PID" || RUN_CODE=$?
  RUN_PID=
  [ "$RUN_CODE" -eq 0 ] || { cat "$WORK/run.log" >&2; fail "run exited with $RUN_CODE after SIGTERM"; }
  head -n 60 "$WORK/predict.x86" >"$WORK/run.x86"
  cmp -s "$WORK/run.arm" "$WORK/run.x86" || { diff "$WORK/run.x86" "$WORK/run.arm" | head -5; fail "run predictions differ from x86 predict"; }
  # pino's JSON log lines (start, health, shutdown) must parse.
  LOG_LINES=$(node -e 'const ls = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n"); ls.forEach((l) => JSON.parse(l)); console.log(ls.length)' "$WORK/run.log") ||
    { cat "$WORK/run.log" >&2; fail "run: log lines are not JSON"; }
  lap "run via Mosquitto (60 readings, $LOG_LINES log lines): identical to predict"
fi

# Every command's --help, both bundles, on arm64 (two at a time: each is a Node start under
# qemu): exit 0 and the same text as x86.
help_all() { # help_all BUNDLE: --help of each command it lists, arm64 vs x86
  local b=$1 cmds
  cmds=$(sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' "$WORK/help-$b.arm" | grep -vx help)
  [ -n "$cmds" ] || fail "$b: --help lists no command"
  # shellcheck disable=SC2086 # one command name per word
  printf '%s\n' $cmds | xargs -P 2 -I{} sh -c 'cd "$1" && "$2" -L "$3" "$3/usr/bin/node" "$4" {} --help >"$5/help-$4-{}.arm" 2>&1 || { echo "$4 {} --help failed on arm64:"; cat "$5/help-$4-{}.arm"; exit 255; }' \
    _ "$APP" "$(command -v qemu-aarch64-static)" "$SYSROOT" "$b" "$WORK" || fail "$b: a command's --help fails on arm64"
  for c in $cmds; do
    (cd "$APP" && node "$b" "$c" --help) >"$WORK/help-$b-$c.x86"
    cmp -s "$WORK/help-$b-$c.arm" "$WORK/help-$b-$c.x86" || { diff "$WORK/help-$b-$c.x86" "$WORK/help-$b-$c.arm" | head -5; fail "$b $c --help differs"; }
  done
  echo "  $b: $(echo $cmds | wc -w) commands: $(echo $cmds)"
}
cp "$WORK/help.arm" "$WORK/help-edge-rnn.mjs.arm"
cp "$WORK/help-device.arm" "$WORK/help-edge-rnn-device.mjs.arm"
help_all edge-rnn.mjs
help_all edge-rnn-device.mjs
lap "every command's --help, both bundles: identical"

# The demo: embedded aedes broker, simulator and runtime in one process, with the shipped
# model beside the bundle (edge-rnn-data/, no --model).
if [ -z "$QUICK" ] && grep -q '^  demo ' "$WORK/help.arm"; then
  DEMO=(demo --source synthetic --nodes 2 --count 30 --speed max --seed 3 --no-live --json)
  summary() { node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(JSON.stringify(d.summary))'; }
  DEMO_ARM=$(arm "${DEMO[@]}" | summary) || fail "demo failed on arm64"
  DEMO_X86=$(x86 "${DEMO[@]}" | summary) || fail "demo failed on x86"
  [ "$DEMO_ARM" = "$DEMO_X86" ] || fail "demo summaries differ: arm64 $DEMO_ARM, x86 $DEMO_X86"
  case "$DEMO_ARM" in *'"predictions":60'*) ;; *) fail "demo: expected 60 predictions: $DEMO_ARM" ;; esac
  lap "demo --no-live (embedded broker, shipped model, 60 readings): identical"

  # The live view (log-update) in a pseudo-terminal of 40x120, replaying the shipped mote
  # data: it must hide the cursor and redraw the table in place (erase line + cursor up).
  command -v script >/dev/null 2>&1 || fail "no 'script' (util-linux) for the pseudo-terminal"
  LIVE="stty rows 40 cols 120; exec ${ARM_NODE[*]} edge-rnn.mjs demo --motes 1,3 --count 8 --speed 100 --refresh 100"
  (cd "$APP" && TERM=xterm script -qefc "$LIVE" /dev/null) >"$WORK/live.arm" 2>&1 </dev/null || { tail -5 "$WORK/live.arm"; fail "demo live view failed on arm64"; }
  grep -q $'\e\[?25l' "$WORK/live.arm" || fail "demo live view: the cursor was never hidden (no log-update)"
  grep -q $'\e\[2K\e\[1A' "$WORK/live.arm" || fail "demo live view: no redraw in place"
  grep -Eq 'device +seq +reading' "$WORK/live.arm" || fail "demo live view: no table"
  grep -q 'predictions   16' "$WORK/live.arm" || { tail -8 "$WORK/live.arm"; fail "demo live view: expected 16 predictions in the summary"; }
  lap "demo live view in a pty (shipped mote data, 16 readings): rendered"
fi

if [ -z "$QUICK" ]; then
  echo "== arm64 timings (emulated: a real Pi is faster)"
  t0=$(now_ms); (cd "$APP" && "${ARM_NODE[@]}" -e 0); t1=$(now_ms)
  arm predict --model model.msgpack --data readings.csv --json >/dev/null; t2=$(now_ms)
  printf '  node -e 0: %d ms; bundle predict (%d rows): %d ms\n' $((t1 - t0)) "$ROWS" $((t2 - t1))
fi
echo "check-arm64: OK ($(echo "($(now_ms) - $T_START) / 1000" | bc -l | xargs printf '%.1f') s in all)"
