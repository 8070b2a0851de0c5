#!/usr/bin/env bash
# Throwaway PostgreSQL, Redis and a three-node Redis Cluster for the storage tests and benchmarks, bound to 127.0.0.1
# only; it also installs the Chromium the browser tests drive.
#   scripts/servers.sh start   installs them when missing, starts them, prints `export VOXON_TEST_...=` lines
#   scripts/servers.sh stop    stops them and deletes their data
# Ports: VOXON_PG_PORT (55432), VOXON_REDIS_PORT (56379), VOXON_REDIS_CLUSTER_PORT (45379: three free
# ports from there; each node's cluster bus takes port + 10000, so ports stay under 55536). State lives in VOXON_SERVERS_DIR, by default a folder
# under /tmp named after this checkout, so `stop` only ever stops the servers this checkout started.
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${VOXON_SERVERS_DIR:-/tmp/voxon-servers-$(pwd | md5sum | cut -c1-8)}"
pg_port="${VOXON_PG_PORT:-55432}"
redis_port="${VOXON_REDIS_PORT:-56379}"
cluster_port="${VOXON_REDIS_CLUSTER_PORT:-45379}"
log() { echo "servers.sh: $*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_missing() {
  local packages=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
  # The server's browser tests drive Debian's Chromium (Playwright cannot download its own browser offline).
  command -v chromium >/dev/null 2>&1 || packages+=(chromium)
  [ ${#packages[@]} -eq 0 ] && return 0
  log "installing ${packages[*]}"
  if ! DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${packages[@]}" >&2; then
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${packages[@]}" >&2
  fi
}

# A port nothing listens on yet, from the preferred one upwards (another checkout's servers may hold the default).
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p="$1"; while in_use "$p"; do p=$((p + 1)); done; echo "$p"; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  install_missing
  mkdir -p "$dir"
  local bin; bin="$(pg_bin)"
  if [ -n "$bin" ]; then
    if as_pg "$bin/pg_ctl" -D "$dir/pg" status >/dev/null 2>&1; then
      pg_port="$(cat "$dir/pg.port")"
    else
      pg_port="$(free_port "$pg_port")"; echo "$pg_port" >"$dir/pg.port"
      rm -rf "$dir/pg"; mkdir -p "$dir/pg"
      [ "$(id -u)" -eq 0 ] && chown -R postgres "$dir/pg"
      as_pg "$bin/initdb" -D "$dir/pg" -U voxon --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
      as_pg "$bin/pg_ctl" -D "$dir/pg" -l "$dir/pg/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/pg -c fsync=on -c max_connections=200" start >&2
      as_pg "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U voxon voxon_test >&2
    fi
    echo "export VOXON_TEST_POSTGRES='postgresql://voxon@127.0.0.1:$pg_port/voxon_test'"
  else
    log "PostgreSQL is not available"
  fi

  if command -v redis-server >/dev/null 2>&1; then
    if [ -f "$dir/redis.port" ] && redis-cli -p "$(cat "$dir/redis.port")" ping >/dev/null 2>&1; then
      redis_port="$(cat "$dir/redis.port")"
    else
      redis_port="$(free_port "$redis_port")"; echo "$redis_port" >"$dir/redis.port"
      redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >&2
      for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    echo "export VOXON_TEST_REDIS='redis://127.0.0.1:$redis_port'"
    start_cluster
  else
    log "Redis is not available"
  fi
}

# Three masters, no replicas, every slot assigned; a cluster's client follows MOVED/ASK redirects itself.
start_cluster() {
  local ports=() p="$cluster_port" n
  if [ -f "$dir/cluster.ports" ] && redis-cli -p "$(cut -d' ' -f1 "$dir/cluster.ports")" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; then
    read -r -a ports <"$dir/cluster.ports"
  else
    # A cluster that lost a node is not reused: what is left of it stops first.
    local pid
    for pid in "$dir"/cluster-*/redis.pid; do
      [ -f "$pid" ] && { kill "$(cat "$pid")" 2>/dev/null || true; }
    done
    rm -rf "$dir"/cluster-*
    for n in 1 2 3; do
      # The bus port (port + 10000) must be free too.
      while in_use "$p" || in_use "$((p + 10000))"; do p=$((p + 1)); done
      ports+=("$p"); p=$((p + 1))
    done
    echo "${ports[*]}" >"$dir/cluster.ports"
    for p in "${ports[@]}"; do
      mkdir -p "$dir/cluster-$p"
      redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$dir/cluster-$p/nodes.conf" \
        --cluster-node-timeout 5000 --save '' --appendonly no --daemonize yes \
        --pidfile "$dir/cluster-$p/redis.pid" --logfile "$dir/cluster-$p/redis.log" --dir "$dir/cluster-$p" >&2
    done
    for p in "${ports[@]}"; do
      for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
    done
    redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 \
      || { cat "$dir/cluster-create.log" >&2; exit 1; }
    for _ in $(seq 100); do
      redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && break; sleep 0.1
    done
    redis-cli -p "${ports[0]}" cluster info | grep -q '^cluster_state:ok' || { log "the Redis Cluster did not reach cluster_state:ok"; exit 1; }
  fi
  local endpoints; endpoints="$(printf '127.0.0.1:%s,' "${ports[@]}")"
  echo "export VOXON_TEST_REDIS_CLUSTER='${endpoints%,}'"
}

stop() {
  local bin; bin="$(pg_bin)"
  if [ -n "$bin" ] && [ -d "$dir/pg" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  local pid
  for pid in "$dir/redis.pid" "$dir"/cluster-*/redis.pid; do
    [ -f "$pid" ] && { kill "$(cat "$pid")" 2>/dev/null || true; }
  done
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
