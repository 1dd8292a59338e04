#!/usr/bin/env bash
# CI: visemo as users get it. Packs the clone (prepack builds dist/ and the web page), checks the
# tarball (size, no tests, maps, bench, .ci or fixtures), then installs it into a fresh project
# with npm 11 (this machine's) and with npm 10 (Node 20's own, fetched with npx), with no
# environment variables but PATH and a fresh HOME, and in each runs what a newcomer runs:
# `visemo --version`, `visemo doctor`, `predict` on an image (native where the install built it),
# the features of the optional packages (they must name the package to install), the README's library snippet as ESM, a strict TypeScript file using the types, and `serve`
# answering / and one POST /api/recognize. Finally, nothing was written into the installed package.
# Usage: bash scripts/check-package.sh [--keep]   (--keep leaves the work folder for a look)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/visemo-package-XXXXXX")
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [[ " $* " != *" --keep "* ]]; then rm -rf "$WORK"; else echo "check-package: kept $WORK"; fi
}
trap 'cleanup "$@"' EXIT
fail() { echo "check-package: FAILED: $*" >&2; exit 1; }
step() { echo "check-package: [$((SECONDS))s] $*"; }

# --- the tarball -----------------------------------------------------------------------------
step "npm pack"
npm pack --silent --pack-destination "$WORK" > "$WORK/pack.log" || { cat "$WORK/pack.log"; fail "npm pack"; }
TARBALL=$(ls "$WORK"/visemo-*.tgz)
bytes=$(stat -c %s "$TARBALL")
weights=$(cat models/*/weights.bin | wc -c)
tar tzf "$TARBALL" > "$WORK/files.txt"
files=$(wc -l < "$WORK/files.txt")
step "tarball $(basename "$TARBALL"): $bytes bytes ($(( (bytes + 524288) / 1048576 )) MiB, of which model weights $weights bytes), $files files"
(( bytes <= 12 * 1000 * 1000 + weights )) || fail "the tarball is over 12 MB plus the models' weights"
unwanted=$(grep -E '\.test\.|\.map$|\.fixture\.|^package/(test|bench|\.ci|src)/' "$WORK/files.txt" || true)
[[ -z $unwanted ]] || fail "the tarball ships files users do not need: $(echo "$unwanted" | head -5 | tr '\n' ' ')"
grep -qx 'package/dist/web/app.js' "$WORK/files.txt" || fail "the tarball lacks the bundled page dist/web/app.js"
for f in LICENSE README.md docs/README.md dist/train.js dist/server.d.ts; do
  grep -qx "package/$f" "$WORK/files.txt" || fail "the tarball lacks $f"
done

# An image to recognise: a face-sized grey gradient made with the clone's sharp (no face is fine:
# predict still runs the detector and names its backend and model).
node -e "
  const sharp = require('sharp');
  const w = 160, h = 120, d = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) d.fill((i % w) + (i / w | 0), i * 3, i * 3 + 3);
  sharp(d, { raw: { width: w, height: h, channels: 3 } }).png().toFile(process.argv[1]).catch((e) => { console.error(e); process.exit(1); });
" "$WORK/image.png"

free_port() { node -e "const s = require('net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });"; }

# --- one install, with one npm -----------------------------------------------------------------
check_with() {
  local label=$1; shift
  local npm=("$@")
  local app="$WORK/app-$label"
  mkdir -p "$app"
  printf '{ "name": "app-%s", "private": true, "type": "module" }\n' "$label" > "$app/package.json"
  # No environment but PATH and a HOME of its own: what a newcomer's shell gives npm.
  local run=(env -i "PATH=$PATH" "HOME=$WORK/home")
  step "$label: install the tarball with npm $("${run[@]}" "${npm[@]}" --version)"
  (cd "$app" && "${run[@]}" "${npm[@]}" install "$TARBALL" --no-audit --no-fund > install.log 2>&1) || { cat "$app/install.log"; fail "$label: npm install"; }
  grep -E '^visemo: native' "$app/install.log" || true
  local pkg="$app/node_modules/visemo"
  touch "$WORK/marker"; sleep 1
  local expect=wasm
  [[ -f $pkg/native/build/Release/visemo_dnnl.node ]] && expect=native
  du -sh "$app/node_modules" | sed "s|^|check-package: $label: node_modules |"

  local version
  version=$(cd "$app" && "${run[@]}" npx visemo --version) || fail "$label: visemo --version"
  [[ $version == "$(node -p "require('./package.json').version")" ]] || fail "$label: --version printed '$version'"
  step "$label: visemo --version: $version"

  (cd "$app" && "${run[@]}" npx visemo doctor > doctor.txt) || { cat "$app/doctor.txt"; fail "$label: visemo doctor"; }
  sed 's/^/    /' "$app/doctor.txt"
  grep -qx "  --backend auto runs on $expect" "$app/doctor.txt" || fail "$label: doctor does not say auto runs on $expect"

  (cd "$app" && "${run[@]}" npx visemo predict "$WORK/image.png" --backend "$expect" --format json > predict.json 2> predict.err) || { cat "$app/predict.err"; fail "$label: predict --backend $expect"; }
  node -e "
    const r = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
    if (r.model.backend !== process.argv[2]) { console.error('predict ran on ' + r.model.backend); process.exit(1); }
  " "$app/predict.json" "$expect" || fail "$label: predict's JSON does not name backend $expect"
  step "$label: predict: $(tail -1 "$app/predict.err")"

  # The optional packages are not installed by default: the features that need them say what to install.
  local code=0
  (cd "$app" && "${run[@]}" npx visemo predict "$WORK/image.png" --backend onnx > /dev/null 2> onnx.err) || code=$?
  [[ $code == 2 ]] && grep -q 'npm install onnxruntime-node' "$app/onnx.err" || { cat "$app/onnx.err"; fail "$label: predict --backend onnx without onnxruntime-node (exit $code)"; }
  code=0
  (cd "$app" && "${run[@]}" npx visemo worker --until-empty --out results > /dev/null 2> worker.err) || code=$?
  [[ $code == 2 ]] && grep -q 'npm install bullmq' "$app/worker.err" || { cat "$app/worker.err"; fail "$label: visemo worker without bullmq (exit $code)"; }
  step "$label: without the optional packages: $(head -1 "$app/onnx.err" | cut -c1-110); $(head -1 "$app/worker.err" | cut -c1-60)"

  # The README's library snippet, as ESM.
  cat > "$app/snippet.mjs" <<SNIPPET
import { EmotionRecognizer } from 'visemo';
const recognizer = await EmotionRecognizer.load();
const faces = await recognizer.recognize('$WORK/image.png');
for (const f of faces) console.log(f.box, f.emotion, f.confidence, f.scores);
console.log(\`model \${recognizer.modelName} on \${recognizer.modelBackend}: \${faces.length} faces\`);
recognizer.dispose();
SNIPPET
  local said
  said=$(cd "$app" && "${run[@]}" node snippet.mjs) || fail "$label: the library snippet"
  [[ $said == *" on $expect: "* ]] || fail "$label: the snippet printed '$said'"
  step "$label: library snippet: $said"

  # The tooling's subpath exports load, each with its entry function.
  cat > "$app/subpaths.mjs" <<'SUBPATHS'
const want = { 'visemo/train': 'trainRun', 'visemo/evaluate': 'evaluateRun', 'visemo/export': 'exportModel', 'visemo/server': 'startServer', 'visemo/queue': 'runWorker' };
for (const [spec, name] of Object.entries(want)) {
  const mod = await import(spec);
  if (typeof mod[name] !== 'function') throw new Error(`${spec} does not export ${name}`);
}
console.log(Object.keys(want).join(', '));
SUBPATHS
  said=$(cd "$app" && "${run[@]}" node subpaths.mjs) || fail "$label: the subpath exports"
  step "$label: subpath exports load: $said"

  # A strict TypeScript file that uses the types (the clone's compiler and @types/node), the root's and a subpath's.
  cat > "$app/use-types.ts" <<'TS'
import { EmotionRecognizer, type RecognizedFace, type RecognizerOptions } from 'visemo';
import type { TrainOptions } from 'visemo/train';
import type { ServerOptions } from 'visemo/server';
export const trainOptions: TrainOptions = { data: 'faces', out: 'runs/mine', recipe: { epochs: 1 } };
export const serverOptions: ServerOptions = { port: 0 };
const options: RecognizerOptions = { backend: 'auto', detector: 'ssd' };
const recognizer: EmotionRecognizer = await EmotionRecognizer.load(options);
const faces: RecognizedFace[] = await recognizer.recognize('image.png');
const best: string | undefined = faces[0]?.emotion;
const scores: Record<string, number> | undefined = faces[0]?.scores;
export const summary = { best, scores, classes: recognizer.classes };
TS
  printf '{ "compilerOptions": { "strict": true, "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "noEmit": true, "skipLibCheck": true, "types": ["node"], "typeRoots": ["%s"] }, "files": ["use-types.ts"] }\n' "$ROOT/node_modules/@types" > "$app/tsconfig.json"
  (cd "$app" && "$ROOT/node_modules/.bin/tsc" -p tsconfig.json) || fail "$label: the strict TypeScript file does not compile"
  step "$label: strict TypeScript against visemo's types: ok"

  # serve: the page and one recognition, then stop.
  local port; port=$(free_port)
  (cd "$app" && exec "${run[@]}" node node_modules/visemo/dist/cli/main.js serve --port "$port" --quiet > serve.log 2>&1) &
  SERVER_PID=$!
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 120); do
    curl -fs -o /dev/null "$url/" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$app/serve.log"; fail "$label: serve exited"; }
    sleep 0.5
  done
  curl -fs "$url/" | grep -qi '<html' || { cat "$app/serve.log"; fail "$label: GET / is not the page"; }
  curl -fs -o /dev/null "$url/app.js" || fail "$label: GET /app.js"
  local reply
  reply=$(curl -fs --data-binary @"$WORK/image.png" -H 'Content-Type: image/png' "$url/api/recognize") || { cat "$app/serve.log"; fail "$label: POST /api/recognize"; }
  node -e "
    const r = JSON.parse(process.argv[1]);
    if (!Array.isArray(r.faces) || !r.model || !r.backend) { console.error('reply: ' + process.argv[1]); process.exit(1); }
  " "$reply" || fail "$label: /api/recognize's reply lacks faces, model or backend"
  step "$label: serve: GET / and /app.js, POST /api/recognize -> ${reply:0:120}"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""

  local written
  written=$(find "$pkg" -newer "$WORK/marker" | head -5)
  [[ -z $written ]] || fail "$label: files were written into the installed package: $written"
}

check_with npm11 npm
check_with npm10 npx -y npm@10
step "all checks passed"
