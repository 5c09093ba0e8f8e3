#!/usr/bin/env bash
# A real Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager) on loopback, for the operator's
# tests. No cluster, no kubelet, no scheduler: pods stay Pending, everything else (CRD validation, defaults, status
# subresource, server-side apply, watches, garbage collection, Deployment → ReplicaSet → Pod) is the real thing.
#
#   control-plane.sh build          ensure the binaries exist (builds them once from Debian's kubernetes source
#                                   package, ≈ 6–11 min on 2 cores) and the runtime packages are installed
#   control-plane.sh start <dir>    start a fresh control plane whose state lives in <dir>; writes <dir>/kubeconfig,
#                                   <dir>/env (shell variables) and waits for /readyz
#   control-plane.sh stop <dir>     stop the control plane started in <dir> (idempotent)
#
# Debian bookworm ships no kube-apiserver binary but ships the source (1.20.2) and Go 1.19; see
# ../shared/TESTING.md. The binaries are cached under ${XDG_CACHE_HOME:-~/.cache}/strata/kube/<debian-version>/ so
# only the first run on a machine pays for the build. Everything listens on 127.0.0.1 only.
#
# Environment: STRATA_KUBE_CACHE (cache root), STRATA_KUBE_VERSION (pick a cached version), STRATA_KUBE_OWNER_PID
# (start: stop the control plane automatically when this process exits, so a crashed test run leaks nothing).
set -euo pipefail

cache_root="${STRATA_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/strata/kube}"
binaries=(kube-apiserver kube-controller-manager)

log() { echo "control-plane: $*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

# Packages the control plane needs at run time and for the build. Installed only when missing, so a prepared machine
# never touches the network.
ensure_packages() {
  local want=()
  command -v etcd >/dev/null || want+=(etcd-server)
  command -v openssl >/dev/null || want+=(openssl)
  command -v curl >/dev/null || want+=(curl)
  [ -x /usr/bin/kubectl ] || want+=(kubernetes-client)
  if [ "${1:-}" = build ]; then
    command -v go >/dev/null || want+=(golang-go)
    command -v rsync >/dev/null || want+=(rsync)
    command -v jq >/dev/null || want+=(jq)
    command -v make >/dev/null || want+=(make)
    command -v dpkg-source >/dev/null || want+=(dpkg-dev)
    command -v xz >/dev/null || want+=(xz-utils)
    command -v patch >/dev/null || want+=(patch)
    [ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ] || want+=(golang-github-modern-go-reflect2-dev)
  fi
  if [ "${#want[@]}" -gt 0 ]; then
    log "installing ${want[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >&2
  fi
}

# The cached version directory to use: STRATA_KUBE_VERSION, else the newest complete one. Empty when none.
cached_dir() {
  local d
  if [ -n "${STRATA_KUBE_VERSION:-}" ]; then
    d="$cache_root/$STRATA_KUBE_VERSION"
    [ -x "$d/kube-apiserver" ] && [ -x "$d/kube-controller-manager" ] && echo "$d"
    return 0
  fi
  for d in $(ls -1d "$cache_root"/*/ 2>/dev/null | sort -V -r); do
    d="${d%/}"
    case "$d" in *.partial | */work) continue ;; esac
    if [ -x "$d/kube-apiserver" ] && [ -x "$d/kube-controller-manager" ]; then echo "$d"; return 0; fi
  done
}

# apt-get with a private configuration that only knows the deb-src entry, so the machine's own sources, lists and
# package cache stay untouched.
private_apt() {
  local dir="$1"; shift
  apt-get -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$dir/sources.list.d" \
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" "$@"
}

build() {
  ensure_packages build
  mkdir -p "$cache_root"
  # One build at a time per cache (two test runs on one machine would share the work directory).
  exec 9>"$cache_root/.build.lock"
  flock 9
  if [ -n "$(cached_dir)" ]; then
    log "binaries cached in $(cached_dir)"
    return 0
  fi
  local started=$SECONDS
  local work="$cache_root/work"
  rm -rf "$work"
  mkdir -p "$work/apt/sources.list.d" "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"

  # The same mirror and keyring as the system's Debian entry, as deb-src.
  local uri="" keyring="" suite
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
    keyring="$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  elif [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)"
  fi
  uri="${uri:-http://deb.debian.org/debian}"
  keyring="${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}"
  suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
  cat >"$work/apt/sources.list.d/strata-kubernetes-src.sources" <<EOF
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: $keyring
EOF
  log "fetching Debian's kubernetes source package from $uri ($suite)"
  private_apt "$work/apt" update -qq >&2
  (cd "$work/src" && private_apt "$work/apt" source --download-only kubernetes >&2)
  local dsc version
  dsc="$(ls -1 "$work/src"/kubernetes_*.dsc | head -n1)"
  version="$(awk '/^Version:/ {print $2; exit}' "$dsc")"
  log "unpacking kubernetes $version"
  # apt already verified the files against the signed Release and Sources indexes, so dpkg-source need not (and
  # cannot, without the uploader's key) check the .dsc signature again.
  (cd "$work/src" && dpkg-source --no-check -x "$(basename "$dsc")" tree >&2)
  local tree="$work/src/tree"

  # The vendored reflect2 v1.0.1 makes the apiserver panic (nil map iteration) on the first custom-resource write
  # under Go ≥ 1.18; Debian's 1.0.2 is fixed.
  rm -rf "$tree/vendor/github.com/modern-go/reflect2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$tree/vendor/github.com/modern-go/reflect2"

  mkdir -p "$tree/.go/src/k8s.io"
  ln -sfn "$tree" "$tree/.go/src/k8s.io/kubernetes"
  log "building kube-apiserver and kube-controller-manager (first build ≈ 6–11 min on 2 cores)"
  (cd "$tree/.go/src/k8s.io/kubernetes" && GOPATH="$tree/.go" CGO_ENABLED=0 GOFLAGS= \
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >&2)

  local out="$cache_root/$version" bin f
  mkdir -p "$out.partial"
  for bin in "${binaries[@]}"; do
    f="$(find "$tree/_output" -type f -name "$bin" -perm -u+x | head -n1)"
    [ -n "$f" ] || die "build produced no $bin"
    install -m 0755 "$f" "$out.partial/$bin"
  done
  echo "$version" >"$out.partial/version"
  rm -rf "$out"
  mv "$out.partial" "$out"
  rm -rf "$work"
  log "built in $((SECONDS - started)) s; binaries cached in $out"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if port_free "$p"; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

# Starts "$@" detached (own session, no inherited stdout) and records its pid in $dir/$name.pid.
spawn() {
  local dir="$1" name="$2"; shift 2
  setsid "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# True when pid is still one of this control plane's processes: every one of them names $dir on its command line,
# so a stale pid file or a reused pid never gets another process killed.
ours() {
  local dir="$1" pid="$2" cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$dir/"* ]]
}

# TERM, a short grace period, then KILL. A test control plane keeps nothing worth a long graceful shutdown.
terminate() {
  local dir="$1" pid any; shift
  local live=()
  for pid in "$@"; do
    if ours "$dir" "$pid"; then live+=("$pid"); fi
  done
  [ "${#live[@]}" -gt 0 ] || return 0
  kill -TERM "${live[@]}" 2>/dev/null || true
  for _ in $(seq 1 10); do
    any=0
    for pid in "${live[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then any=1; fi
    done
    [ "$any" -eq 1 ] || return 0
    sleep 0.1
  done
  for pid in "${live[@]}"; do
    if ours "$dir" "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
}

pids_of() {
  local dir="$1" name
  for name in "${@:2}"; do
    if [ -f "$dir/$name.pid" ]; then cat "$dir/$name.pid"; fi
  done
}

stop() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  dir="$(cd "$dir" && pwd)"
  if alive "$dir/watchdog.pid"; then kill -TERM "$(cat "$dir/watchdog.pid")" 2>/dev/null || true; fi
  # The apiserver and controller manager first (they would log errors without etcd), etcd last.
  # shellcheck disable=SC2046
  terminate "$dir" $(pids_of "$dir" kube-controller-manager kube-apiserver)
  # shellcheck disable=SC2046
  terminate "$dir" $(pids_of "$dir" etcd)
  rm -f "$dir"/{watchdog,kube-controller-manager,kube-apiserver,etcd}.pid
}

wait_ready() {
  local dir="$1" url="$2" token="$3" deadline=$((SECONDS + ${STRATA_KUBE_START_TIMEOUT:-120}))
  while [ $SECONDS -lt $deadline ]; do
    alive "$dir/kube-apiserver.pid" || return 1
    if [ "$(curl -s --cacert "$dir/certs/ca.crt" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/readyz" || true)" = 200 ]; then
      return 0
    fi
    sleep 0.25
  done
  return 1
}

start() {
  local dir="$1"
  ensure_packages
  local bindir
  bindir="$(cached_dir)"
  [ -n "$bindir" ] || die "no kube-apiserver binaries in $cache_root: run 'bash scripts/kube/control-plane.sh build' first"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  stop "$dir"
  rm -rf "$dir/etcd-data" "$dir/certs"
  mkdir -p "$dir/certs"
  local certs="$dir/certs"

  # A CA of our own signs the apiserver's serving certificate, so clients can verify it (kubeconfig carries the CA)
  # and later tests can sign webhook certificates with the same CA ($dir/certs/ca.{crt,key}).
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=strata-test-ca" \
    -keyout "$certs/ca.key" -out "$certs/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$certs/apiserver.key" -out "$certs/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' \
    >"$certs/apiserver.ext"
  openssl x509 -req -in "$certs/apiserver.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" -CAcreateserial \
    -days 3650 -extfile "$certs/apiserver.ext" -out "$certs/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$certs/sa.key" 2048 2>/dev/null
  openssl rsa -in "$certs/sa.key" -pubout -out "$certs/sa.pub" 2>/dev/null
  local token
  token="$(openssl rand -hex 24)"
  echo "$token,admin,admin,system:masters" >"$certs/tokens.csv"
  chmod 600 "$certs"/*.key "$certs/tokens.csv"

  local attempt etcd_port peer_port api_port url
  for attempt in 1 2 3; do
    etcd_port="$(free_port)"; peer_port="$(free_port)"; api_port="$(free_port)"
    url="https://127.0.0.1:$api_port"
    rm -rf "$dir/etcd-data"
    spawn "$dir" etcd etcd --name strata-test --data-dir "$dir/etcd-data" \
      --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
      --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
      --initial-cluster "strata-test=http://127.0.0.1:$peer_port"
    spawn "$dir" kube-apiserver "$bindir/kube-apiserver" \
      --etcd-servers="http://127.0.0.1:$etcd_port" \
      --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" --insecure-port=0 \
      --cert-dir="$certs" --tls-cert-file="$certs/apiserver.crt" --tls-private-key-file="$certs/apiserver.key" \
      --client-ca-file="$certs/ca.crt" --token-auth-file="$certs/tokens.csv" --authorization-mode=RBAC \
      --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$certs/sa.pub" \
      --service-account-signing-key-file="$certs/sa.key" --api-audiences=https://kubernetes.default.svc \
      --service-cluster-ip-range=10.0.0.0/24 --disable-admission-plugins=ServiceAccount \
      --enable-priority-and-fairness=false --profiling=false
    if wait_ready "$dir" "$url" "$token"; then break; fi
    log "kube-apiserver did not become ready (attempt $attempt); tail of its log:"
    tail -n 20 "$dir/kube-apiserver.log" >&2 || true
    stop "$dir"
    [ "$attempt" -lt 3 ] || die "kube-apiserver failed to start; logs in $dir"
  done

  local ca_data
  ca_data="$(base64 -w0 <"$certs/ca.crt")"
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: strata-test
  cluster:
    server: $url
    certificate-authority-data: $ca_data
users:
- name: admin
  user:
    token: $token
contexts:
- name: strata-test
  context:
    cluster: strata-test
    user: admin
current-context: strata-test
EOF
  chmod 600 "$dir/kubeconfig"

  spawn "$dir" kube-controller-manager "$bindir/kube-controller-manager" --kubeconfig="$dir/kubeconfig" \
    --controllers=garbagecollector,deployment,replicaset,statefulset,namespace,serviceaccount,serviceaccount-token \
    --service-account-private-key-file="$certs/sa.key" --root-ca-file="$certs/ca.crt" --leader-elect=false \
    --bind-address=127.0.0.1 --port=0 --secure-port=0 --profiling=false

  cat >"$dir/env" <<EOF
KUBECONFIG=$dir/kubeconfig
KUBE_SERVER=$url
KUBE_TOKEN=$token
KUBE_CA=$certs/ca.crt
KUBE_CA_KEY=$certs/ca.key
ETCD_ENDPOINT=http://127.0.0.1:$etcd_port
EOF

  if [ -n "${STRATA_KUBE_OWNER_PID:-}" ]; then
    # Stops everything when the owning process (a test run) dies without calling stop. It keeps the pids itself,
    # so it still works when the owner already removed $dir.
    local self pids
    self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
    pids="$(pids_of "$dir" kube-controller-manager kube-apiserver etcd | tr '\n' ' ')"
    setsid bash -c '
      while kill -0 "$1" 2>/dev/null; do sleep 1; done
      source "$2" --functions-only
      terminate "$3" $4' \
      watchdog "$STRATA_KUBE_OWNER_PID" "$self" "$dir" "$pids" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/watchdog.pid"
  fi
  log "ready at $url (kubeconfig $dir/kubeconfig)"
}

# `source control-plane.sh --functions-only` (the watchdog) defines the functions and runs nothing.
if [ "${1:-}" = --functions-only ]; then return 0; fi

case "${1:-}" in
  build) build ;;
  start) [ -n "${2:-}" ] || die "usage: $0 start <dir>"; start "$2" ;;
  stop) [ -n "${2:-}" ] || die "usage: $0 stop <dir>"; stop "$2" ;;
  *) die "usage: $0 build | start <dir> | stop <dir>" ;;
esac
