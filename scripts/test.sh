#!/usr/bin/env bash
# README command 2: run every check and test. Prints the closing line `N passed, N failed` that CI reads.
source "$(dirname "$0")/bootstrap.sh"
set +e
mkdir -p .tmp
passed=0
failed=0
check() {
  local name="$1"; shift
  echo "── $name: $*"
  if "$@"; then passed=$((passed + 1)); echo "── $name: ok"; else failed=$((failed + 1)); echo "── $name: FAILED"; fi
}
check lint npm run --silent lint
check typecheck npm run --silent typecheck
check build npm run --silent build
check crds npm run --silent check:crds
# The operator tests run against a real kube-apiserver built from Debian's source package (cached after the first run).
check kube-control-plane bash scripts/kube/control-plane.sh build

rm -f .tmp/jest-results.json
NODE_OPTIONS=--experimental-vm-modules jest --ci --json --outputFile=.tmp/jest-results.json "$@"
jest_rc=$?
if [ -f .tmp/jest-results.json ]; then
  read -r jp jf < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(".tmp/jest-results.json", "utf8"));
    // A suite that fails to load has no test results: count it as a failure so it cannot hide.
    const broken = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
    console.log(r.numPassedTests, r.numFailedTests + broken);')
  passed=$((passed + jp))
  failed=$((failed + jf))
  [ "$jest_rc" -ne 0 ] && [ "$jf" -eq 0 ] && failed=$((failed + 1))
else
  failed=$((failed + 1))
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
