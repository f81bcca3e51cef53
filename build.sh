#!/usr/bin/env bash
# scalelab's one entry point. Each subcommand is idempotent and quick when there is
# nothing to do.
#
#   ./build.sh setup   install what is missing for everything (what serve needs, plus
#                      Chromium + driver and Go + x/time for the tests and benchmarks)
#   ./build.sh dist    the page as a folder for any static host (dist/), with a service
#                      worker that makes it cross-origin isolated where the host sends no headers
#   ./build.sh build   release wasm into www/pkg, chart library into www/vendor, the server
#   ./build.sh serve   install only what building needs (rust-src and the wasm32 target,
#                      wasm-bindgen-cli at the Cargo.lock version, wasm-pack, npm ci),
#                      build, then serve www/ on http://127.0.0.1:${PORT:-8080}/
#                      (--port N to choose; Ctrl-C stops it)
#   ./build.sh test    setup, then every test: format + lint, native cargo tests, loom
#                      models, wasm tests in headless Chromium (threads on), browser
#                      end-to-end tests
#   ./build.sh e2e     only the browser end-to-end tests (after a test build of the
#                      page); extra arguments go to `node --test` (e.g. a file)
#   ./build.sh bench   benchmarks (--quick for a smoke run); tables in bench/RESULTS.md
#                      (browser) and benches/RESULTS.md (native limiter)
#   ./build.sh mutants mutation testing of the concurrent core (cargo-mutants); a table
#                      of caught / missed per file
set -euo pipefail
cd "$(dirname "$0")"

WASM_TARGET=wasm32-unknown-unknown
# -Z build-std (std rebuilt with atomics) and the shared-memory flags live in
# .cargo/config.toml, so a plain `wasm-pack test --headless --chrome` works too.
CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver
FIREFOX=/usr/bin/firefox-esr
GECKODRIVER_VERSION=0.37.1

log() { printf '\033[1m[build.sh]\033[0m %s\n' "$*" >&2; }
die() { printf '[build.sh] error: %s\n' "$*" >&2; exit 1; }
# Drops the warning nightly prints on every threaded-wasm build (see TOOLCHAIN notes);
# used at the end of a pipeline, so with pipefail the builder's exit status still counts.
quiet_nightly_warnings() {
  grep -v -e 'unstable feature specified' -e 'not stably supported' -e '^  |$' -e '^$' \
    -e 'failed to get wasm-pack version' || true
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- setup -------------------------------------------------------------------------

setup_chromium() {
  if [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; then return; fi
  log "installing Debian chromium + chromium-driver"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
}

# Firefox: Debian's firefox-esr for the cross-browser smoke suite and benchmarks, and
# geckodriver (crates.io, pinned) for `wasm-pack test --firefox`.
setup_firefox() {
  if [ ! -x "$FIREFOX" ]; then
    log "installing Debian firefox-esr"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr >/dev/null
  fi
  if [ "$(geckodriver --version 2>/dev/null | awk 'NR == 1 {print $2}')" != "$GECKODRIVER_VERSION" ]; then
    log "installing geckodriver $GECKODRIVER_VERSION (takes ~2 min)"
    (cd /tmp && cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked --force)
  fi
}

# Go and Debian's golang.org/x/time and x/sync: the differential test replays limiter
# scripts on the real x/time/rate, the Go-agreement test runs the generated programs
# (errgroup, semaphore), and the benchmarks run the article's Go code. Bookworm's Go is
# 1.19; the context differential needs 1.21 or later (WithoutCancel, WithDeadlineCause,
# AfterFunc), so Go 1.23 from bookworm-backports goes beside it (/usr/lib/go-1.23).
GO_MODERN=/usr/lib/go-1.23/bin/go
setup_go() {
  if ! { command -v go >/dev/null && [ -f /usr/share/gocode/src/golang.org/x/time/rate/rate.go ] \
    && [ -f /usr/share/gocode/src/golang.org/x/sync/errgroup/errgroup.go ]; }; then
    log "installing Debian golang-go + golang-golang-x-time-dev + golang-golang-x-sync-dev"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go golang-golang-x-time-dev \
      golang-golang-x-sync-dev >/dev/null
  fi
  if [ ! -x "$GO_MODERN" ]; then
    log "installing golang-1.23-go from bookworm-backports (Go 1.21+ for the context differential)"
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo 'deb http://deb.debian.org/debian bookworm-backports main' \
        | as_root tee /etc/apt/sources.list.d/scalelab-backports.list >/dev/null
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports golang-1.23-go >/dev/null
  fi
}

setup_rust() {
  command -v rustup >/dev/null || die "rustup not found; install Rust (https://rustup.rs) first"
  # rust-toolchain.toml selects nightly; add the pieces a preinstalled nightly may lack.
  local installed
  installed=$(rustup component list --installed)
  grep -q '^rust-src' <<<"$installed" || { log "adding rust-src"; rustup component add rust-src; }
  grep -q "^rust-std-$WASM_TARGET" <<<"$installed" || { log "adding $WASM_TARGET"; rustup target add "$WASM_TARGET"; }
  for c in rustfmt clippy; do
    grep -q "^$c" <<<"$installed" || { log "adding $c"; rustup component add "$c"; }
  done
}

# The wasm-bindgen version Cargo.lock pins; the CLI must match it exactly.
locked_wasm_bindgen_version() {
  [ -f Cargo.lock ] || cargo generate-lockfile
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

setup_wasm_tools() {
  local want have
  want=$(locked_wasm_bindgen_version)
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$want" ]; then
    log "installing wasm-bindgen-cli $want (have: ${have:-none}; takes ~4 min)"
    # Not --locked: a locked dependency version is missing from the registry here.
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
  # Pinned: the version whose `wasm-pack test` the README's plain command was checked
  # with (0.15 reads `[build] target` from .cargo/config.toml, so there is none there).
  local pack=0.15.1
  if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$pack" ]; then
    log "installing wasm-pack $pack (takes ~3.5 min)"
    cargo install wasm-pack --version "$pack" --locked --force
  fi
}

setup_npm() {
  command -v npm >/dev/null || die "npm not found; install Node.js 20+ first"
  # npm ci only when package-lock.json changed since the last install.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# What building and serving the page needs: no browser, no Go.
setup_build() {
  setup_rust
  setup_wasm_tools
  setup_npm
}

cmd_setup() {
  setup_build
  setup_chromium
  setup_firefox
  setup_go
}

# --- build -------------------------------------------------------------------------

# Cargo features of the wasm build: none for the page (`build`, `serve`, `bench`);
# `./build.sh test` adds `test-hooks`, the fault injection its crash tests use, which a
# served page never has.
WASM_FEATURES=""

build_wasm() {
  local staging=target/wasm-pkg
  # cargo + wasm-bindgen directly (what `wasm-pack build --target web` runs, without its
  # network checks).
  cargo build --quiet --lib --release --target "$WASM_TARGET" ${WASM_FEATURES:+--features "$WASM_FEATURES"} \
    2>&1 | quiet_nightly_warnings
  rm -rf "$staging"
  wasm-bindgen --target web --out-dir "$staging" --out-name scalelab \
    "target/$WASM_TARGET/release/scalelab.wasm"
  [ -f "$staging/scalelab_bg.wasm" ] || die "wasm build produced no module"
  mkdir -p www/pkg
  # Optimise with binaryen from npm (Debian's older wasm-opt breaks the module), but only
  # when the module changed: the stamp holds the hash of the last unoptimised input.
  local hash
  hash=$(sha256sum "$staging/scalelab_bg.wasm" | cut -d' ' -f1)
  if [ "$(cat www/pkg/.source-hash 2>/dev/null || true)" != "$hash" ] || [ ! -f www/pkg/scalelab_bg.wasm ]; then
    log "wasm-opt -O3"
    node_modules/.bin/wasm-opt -O3 "$staging/scalelab_bg.wasm" -o www/pkg/scalelab_bg.wasm
    echo "$hash" > www/pkg/.source-hash
  fi
  # scalelab-serve sends the .gz to browsers that accept gzip (static hosts compress on
  # their own; dist/ leaves it out). gzip gives it the module's time.
  if [ ! -f www/pkg/scalelab_bg.wasm.gz ] || [ www/pkg/scalelab_bg.wasm -nt www/pkg/scalelab_bg.wasm.gz ]; then
    gzip -9 -k -f www/pkg/scalelab_bg.wasm
  fi
  rm -rf www/pkg/snippets
  cp -r "$staging/snippets" "$staging/scalelab.js" "$staging/scalelab.d.ts" "$staging/scalelab_bg.wasm.d.ts" www/pkg/
  patch_pool_thread_helper
}

# wasm-bindgen-rayon's pool-thread helper, adjusted (the build stops if it changes):
# - it starts each thread from a blob: copy of itself (so a CDN-hosted copy could run);
#   we serve it ourselves, so the thread starts from the file's own URL and the CSP
#   needs no `worker-src blob:`;
# - it initialises the module with positional arguments, which wasm-bindgen now
#   answers with a console warning per thread; it passes them as one object instead.
patch_pool_thread_helper() {
  local helper
  helper=$(ls www/pkg/snippets/wasm-bindgen-rayon-*/src/workerHelpers.no-bundler.js)
  perl -0pi -e 's/let scriptBlob = await fetch\(import\.meta\.url\)\.then\(r => r\.blob\(\)\);\s*let url = URL\.createObjectURL\(scriptBlob\);/let url = import.meta.url; \/\/ scalelab: same origin, no blob: (build.sh)/; s/\s*URL\.revokeObjectURL\(url\);//; s/await pkg\.default\(data\.module, data\.memory\);/await pkg.default({ module_or_path: data.module, memory: data.memory }); \/\/ scalelab: one object (build.sh)/' "$helper"
  grep -q 'scalelab: same origin, no blob:' "$helper" && ! grep -q 'createObjectURL\|revokeObjectURL' "$helper" \
    && grep -q 'scalelab: one object' "$helper" \
    || die "wasm-bindgen-rayon's worker helper changed: update patch_pool_thread_helper in build.sh"
}

build_vendor() {
  mkdir -p www/vendor/uplot www/vendor/workerpool
  cp -u node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css node_modules/uplot/LICENSE www/vendor/uplot/
  # uPlot's own types, beside its ESM build, for the page's type check (tsc).
  cp -u node_modules/uplot/dist/uPlot.d.ts www/vendor/uplot/uPlot.esm.d.ts
  # workerpool: only the benchmark harness loads it (the peer the dispatch cost is compared with).
  cp -u node_modules/workerpool/dist/workerpool.min.js node_modules/workerpool/dist/worker.min.js \
    node_modules/workerpool/LICENSE www/vendor/workerpool/
}

# The server, copied to one fixed path for serve and the end-to-end tests.
SERVER_BIN=target/bin/scalelab-serve
build_server() {
  cargo build --quiet --release -p scalelab-serve
  mkdir -p target/bin
  cp -u target/release/scalelab-serve "$SERVER_BIN"
}

cmd_build() {
  build_wasm
  build_vendor
  build_server
  log "built: www/pkg (wasm), www/vendor (uPlot), $SERVER_BIN"
}

# --- dist --------------------------------------------------------------------------

# dist/: the page for any static host (GitHub Pages, Netlify, an S3 bucket), including
# hosts that cannot send COOP/COEP: coi-serviceworker (pinned in package-lock.json)
# installs a service worker that adds them and reloads the page once. The policy the
# server would send comes along as a <meta> tag (from scalelab-serve, written once);
# `_headers` sends the real headers where a host reads it (Netlify, Cloudflare Pages).
assemble_dist() {
  rm -rf dist
  mkdir -p dist
  cp -r www/app www/lib www/pkg www/vendor www/css www/favicon.svg dist/
  rm -f dist/vendor/workerpool/*.js dist/pkg/*.gz # the harness's workerpool; hosts compress on their own
  cp node_modules/coi-serviceworker/coi-serviceworker.min.js dist/coi-serviceworker.js
  cp node_modules/coi-serviceworker/LICENSE dist/coi-serviceworker.LICENSE
  local csp
  csp=$("$SERVER_BIN" --print-meta-csp)
  awk -v csp="$csp" '
    { print }
    /<meta charset="utf-8">/ {
      print "  <meta http-equiv=\"Content-Security-Policy\" content=\"" csp "\">"
      print "  <script src=\"coi-serviceworker.js\"></script>"
    }' www/index.html > dist/index.html
  touch dist/.nojekyll
  printf '/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n' > dist/_headers
}

cmd_dist() {
  setup_build
  cmd_build
  assemble_dist
  log "dist/ is ready: upload the folder to any static host (see the README)"
}

# --- serve -------------------------------------------------------------------------

cmd_serve() {
  local port="${PORT:-8080}"
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) port="${2:?--port needs a number}"; shift 2 ;;
      --port=*) port="${1#--port=}"; shift ;;
      *) die "serve: unknown option $1 (use --port N)" ;;
    esac
  done
  setup_build
  cmd_build
  exec "$SERVER_BIN" --root www --port "$port"
}

# --- test --------------------------------------------------------------------------

cmd_test() {
  cmd_setup
  log "format and lint"
  cargo fmt --all --check
  cargo clippy --quiet --workspace --all-targets -- -D warnings
  cargo clippy --quiet --workspace --all-targets --features test-hooks -- -D warnings
  cargo clippy --quiet --target "$WASM_TARGET" --lib --tests -- -D warnings 2>&1 | quiet_nightly_warnings
  log "native tests (pure core, server)"
  cargo test --quiet --workspace --features test-hooks
  test_loom
  log "wasm tests in headless Chromium (threads, dedicated worker)"
  # The runner gives the whole suite 20 s by default; on a loaded 2-core machine the 13
  # tests (a minute of CPU cancelled, 200 short runs) can take longer. A hang still fails.
  export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
  wasm-pack test --headless --chrome --chromedriver "$CHROMEDRIVER" --mode no-install \
    . 2>&1 | quiet_nightly_warnings
  log "wasm tests in headless Firefox (threads, dedicated worker)"
  wasm-pack test --headless --firefox --geckodriver "$(command -v geckodriver)" --mode no-install \
    . 2>&1 | quiet_nightly_warnings
  WASM_FEATURES=test-hooks cmd_build
  assemble_dist
  log "JavaScript: format + lint (Biome), types (tsc --checkJs, strict, all of www/lib and www/app) against the generated www/pkg/scalelab.d.ts"
  node_modules/.bin/biome ci
  node_modules/.bin/tsc -p tsconfig.json
  run_e2e
  log "all tests passed"
}

run_e2e() {
  log "end-to-end tests (the served page in headless Chromium)"
  node --test --test-reporter=spec "${@:-tests/e2e/}"
}

cmd_e2e() {
  setup_build
  setup_chromium
  setup_firefox
  WASM_FEATURES=test-hooks cmd_build
  assemble_dist
  run_e2e "$@"
}

# loom models of the concurrent core (src/sync.rs): every interleaving of each
# `loom_*` test. Their own target dir, since `--cfg loom` rebuilds everything.
test_loom() {
  log "loom models (cancellation tree, job channel, elastic pool, abort slot)"
  RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test --quiet --release --lib loom_ -- --test-threads=2
}

# --- bench -------------------------------------------------------------------------

bench_limiter() {
  log "limiter benchmark (criterion, scalelab vs governor)"
  rm -rf target/criterion
  cargo bench --quiet --bench limiter -- --warm-up-time 1 --measurement-time 3 >/dev/null
  node benches/report.mjs
}

bench_browser() {
  log "browser benchmarks (headless Chromium)"
  cmd_build
  node bench/run.mjs "$@"
}

cmd_bench() {
  cmd_setup
  # The native limiter table first: the browser report includes it.
  bench_limiter
  bench_browser "$@"
}

# --- mutants -----------------------------------------------------------------------

# Mutation testing of the concurrent core with cargo-mutants: each file with the tests
# that exercise it (unit tests; the engine's integration tests for the run state and the
# elastic pool).
# A mutant that survives is a missing test or dead code. Not part of `test` (it takes
# a while); the scores go in the README. Outcomes land in target/mutants/<file>/.
# `./build.sh mutants --iterate` retests only what an earlier run did not catch.
MUTANTS_VERSION=27.1.0
cmd_mutants() {
  setup_rust
  if [ "$(cargo mutants --version 2>/dev/null | awk '{print $2}')" != "$MUTANTS_VERSION" ]; then
    log "installing cargo-mutants $MUTANTS_VERSION (takes ~3 min)"
    (cd /tmp && cargo install cargo-mutants --version "$MUTANTS_VERSION" --locked --force)
  fi
  local failed=0 file tests out
  for file in src/cancel.rs src/limiter/bucket.rs src/engine/chan.rs src/engine/state.rs src/engine/pool.rs; do
    case "$file" in
      # The overload outcomes (rejected, shed) are the open-loop tests'; their Erlang C
      # check runs millions of jobs and says nothing about the run state, so it is skipped.
      src/engine/state.rs) tests="--lib --test engine --test elastic --test crash --test load -- --skip mmc_mean" ;;
      src/engine/pool.rs) tests="--lib --test elastic" ;;
      *) tests="--lib" ;;
    esac
    log "mutants: $file (cargo test $tests)"
    out="target/mutants/$(basename "$file" .rs)"
    mkdir -p "$out"
    # shellcheck disable=SC2086 # $tests is a list of arguments
    cargo mutants --no-shuffle --jobs 2 --file "$file" --features test-hooks \
      --output "$out" "$@" -- $tests || failed=1
  done
  node tools/mutants-report.mjs target/mutants
  [ "$failed" = 0 ] || die "some mutants were missed (see above)"
}

case "${1:-}" in
  setup) shift; cmd_setup "$@" ;;
  build) shift; setup_build; cmd_build "$@" ;;
  dist) shift; cmd_dist "$@" ;;
  serve) shift; cmd_serve "$@" ;;
  test) shift; cmd_test "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  e2e) shift; cmd_e2e "$@" ;;
  mutants) shift; cmd_mutants "$@" ;;
  *) echo "usage: ./build.sh {setup|build|dist|serve [--port N]|test|e2e [files]|bench|mutants}" >&2; exit 2 ;;
esac
