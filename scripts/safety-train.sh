#!/usr/bin/env bash
# Reproduces the shipped safety model exactly: builds `moerag`, trains on the public
# sets under ../shared/data plus safety/data/seeds.jsonl (see safety/MODEL.md), writes
# safety/model/safety-model.bin and prints the evaluation. Deterministic: the same
# data and code give a byte-identical model (compare the printed sha256).
#   usage: scripts/safety-train.sh [BUILD_DIR] [SHARED_DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
data=${2:-../shared/data}
[ -f "$build/build.ninja" ] || [ -f "$build/Makefile" ] || cmake -S . -B "$build" -DMOERAG_CUDA=OFF
cmake --build "$build" --target moerag -j"${JOBS:-2}"
"$build/moerag" safety train --data "$data" --seeds safety/data/seeds.jsonl --out safety/model/safety-model.bin
# Rebuild so the new model is embedded, then evaluate the binary's own model.
cmake --build "$build" --target moerag -j"${JOBS:-2}"
"$build/moerag" safety eval --data "$data" --seeds safety/data/seeds.jsonl
