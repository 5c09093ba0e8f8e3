#!/usr/bin/env bash
# README command 1: install, build and run the engine as a single binary with the embedded default configuration
# (filesystem storage under ./data, auth disabled → tenant `fake`, HTTP on :3100). Extra arguments are passed on,
# e.g. `npm start -- -config.file=loki.yaml`.
source "$(dirname "$0")/bootstrap.sh"
npm run build --silent
exec node engine/dist/main.js -target=all "$@"
