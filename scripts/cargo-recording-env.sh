#!/bin/sh
# Stands in for `cargo` in cargo-leptos's server build (LEPTOS_BIN_CARGO_COMMAND): records the
# LEPTOS_* variables it passes, then runs cargo. Leptos reads some of them with option_env!,
# so they are part of each crate's build fingerprint: `cargo xtask test` builds the tests with
# the same values, and the release build's crates are reused instead of compiled again.
set -eu
out="${STRATA_LEPTOS_ENV_FILE:-target/leptos-server.env}"
mkdir -p "$(dirname "$out")"
env | grep -E '^(LEPTOS_|SERVER_FN_|DISABLE_SERVER_FN_HASH=|RUSTFLAGS=)' | sort > "$out" || true
exec cargo "$@"
