#!/usr/bin/env bash
# A whole Atelier cluster on this machine's loopback, no Docker: redis-server (AOF on),
# three `atelier serve --redis` processes, and nginx in front where it is installed.
#
#   deploy/cluster.sh start     start everything, wait until it answers, print the URLs
#   deploy/cluster.sh stop      stop everything it started (SIGTERM, then SIGKILL)
#   deploy/cluster.sh status    which of its processes are running
#
# Settings (environment):
#   CLUSTER_DIR         where pids, logs and data go   (default: /tmp/atelier-cluster)
#   CLUSTER_PORTS       the Atelier processes' ports   (default: "8001 8002 8003")
#   CLUSTER_REDIS_PORT  redis-server's port            (default: 6390)
#   CLUSTER_NGINX_PORT  nginx's port                   (default: 8080)
#   CLUSTER_NGINX       auto (if installed) or no      (default: auto)
#   ATELIER             the atelier command            (default: .venv/bin/atelier, else PATH)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${CLUSTER_DIR:-${TMPDIR:-/tmp}/atelier-cluster}
PORTS=${CLUSTER_PORTS:-"8001 8002 8003"}
REDIS_PORT=${CLUSTER_REDIS_PORT:-6390}
NGINX_PORT=${CLUSTER_NGINX_PORT:-8080}
NGINX=${CLUSTER_NGINX:-auto}
if [ -n "${ATELIER:-}" ]; then
    atelier=$ATELIER
elif [ -x "$ROOT/.venv/bin/atelier" ]; then
    atelier=$ROOT/.venv/bin/atelier
else
    atelier=$(command -v atelier || true)
fi

say() { printf '%s\n' "$*"; }
die() { printf 'cluster.sh: %s\n' "$*" >&2; exit 1; }

running() { # running PID: the process exists and is not a zombie nobody reaped yet
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

alive() { # alive NAME: the process recorded in NAME.pid is running
    local pid
    [ -f "$DIR/$1.pid" ] || return 1
    pid=$(cat "$DIR/$1.pid")
    [ -n "$pid" ] && running "$pid"
}

wait_for() { # wait_for SECONDS WHAT COMMAND...: retry COMMAND until it succeeds
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "$what did not come up (logs in $DIR)"
        sleep 0.1
    done
}

http_ok() { curl -fsS --max-time 2 "$1"; }
redis_ok() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping | grep -q PONG; }

start() {
    command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install redis-server)"
    command -v redis-cli >/dev/null || die "redis-cli is not installed (apt-get install redis-tools)"
    command -v curl >/dev/null || die "curl is not installed"
    [ -n "$atelier" ] || die "no atelier command: pip install . (or set ATELIER)"
    mkdir -p "$DIR/redis"
    for name in redis nginx $(for p in $PORTS; do printf 'atelier-%s ' "$p"; done); do
        ! alive "$name" || die "$name is already running (deploy/cluster.sh stop first)"
    done

    redis-server "$ROOT/deploy/redis.conf" --port "$REDIS_PORT" --bind 127.0.0.1 \
        --dir "$DIR/redis" --daemonize no --logfile "$DIR/redis.log" </dev/null >/dev/null 2>&1 &
    echo $! >"$DIR/redis.pid"
    wait_for 20 "redis-server" redis_ok

    local use_nginx=no
    if [ "$NGINX" = auto ] && command -v nginx >/dev/null; then use_nginx=yes; fi
    local origins=(--origin "http://127.0.0.1:$NGINX_PORT" --origin "http://localhost:$NGINX_PORT")
    for port in $PORTS; do
        mkdir -p "$DIR/data-$port"
        "$atelier" serve --host 127.0.0.1 --port "$port" --data "$DIR/data-$port" \
            --redis "redis://127.0.0.1:$REDIS_PORT/0" "${origins[@]}" \
            --origin "http://127.0.0.1:$port" --origin "http://localhost:$port" \
            </dev/null >"$DIR/atelier-$port.log" 2>&1 &
        echo $! >"$DIR/atelier-$port.pid"
    done
    for port in $PORTS; do
        wait_for 30 "atelier on port $port" http_ok "http://127.0.0.1:$port/readyz"
    done

    if [ "$use_nginx" = yes ]; then
        # The compose config, pointed at the loopback processes and port.
        awk -v ports="$PORTS" -v listen="127.0.0.1:$NGINX_PORT" -v dir="$DIR" '
            /server atelier[0-9]+:8000/ {
                if (!done) {
                    n = split(ports, p, " ")
                    for (i = 1; i <= n; i++)
                        printf "        server 127.0.0.1:%s max_fails=1 fail_timeout=5s;\n", p[i]
                    done = 1
                }
                next
            }
            /^http \{/ { print; printf "    access_log %s/nginx-access.log;\n", dir; next }
            { sub(/listen 80;/, "listen " listen ";"); print }
        ' "$ROOT/deploy/nginx.conf" >"$DIR/nginx.conf"
        nginx -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" \
            -g "daemon off; pid $DIR/nginx.pid.nginx; error_log $DIR/nginx-error.log;" \
            </dev/null >"$DIR/nginx.log" 2>&1 &
        echo $! >"$DIR/nginx.pid"
        wait_for 20 "nginx" http_ok "http://127.0.0.1:$NGINX_PORT/readyz"
    fi

    say "Atelier cluster up (pids, logs and data in $DIR)"
    say "  redis:     redis://127.0.0.1:$REDIS_PORT/0"
    for port in $PORTS; do say "  process:   http://127.0.0.1:$port"; done
    if [ "$use_nginx" = yes ]; then
        say "  open:      http://127.0.0.1:$NGINX_PORT  (nginx, in front of the processes)"
        base="http://127.0.0.1:$NGINX_PORT"
    else
        say "  open:      any process above (nginx is not installed: no single front URL)"
        base="http://127.0.0.1:${PORTS%% *}"
    fi
    say "New workshop: curl -X POST $base/api/workshops -d '{\"title\": \"Atelier\"}'"
    say "Stop:         $0 stop"
}

stop_one() { # stop_one NAME SECONDS: SIGTERM, then SIGKILL after SECONDS
    local name=$1 grace=$2 pid
    [ -f "$DIR/$name.pid" ] || return 0
    pid=$(cat "$DIR/$name.pid")
    if alive "$name"; then
        kill -TERM "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + grace))
        while running "$pid"; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                say "$name did not stop in ${grace}s: SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.1
        done
    fi
    rm -f "$DIR/$name.pid"
}

stop() {
    stop_one nginx 10
    for port in $PORTS; do stop_one "atelier-$port" 15 & done
    wait
    stop_one redis 20 # last: the processes leave checkpoints on their way out
    say "Atelier cluster stopped"
}

status() {
    local code=0 name
    for name in redis $(for p in $PORTS; do printf 'atelier-%s ' "$p"; done) nginx; do
        if alive "$name"; then
            say "$name: running (pid $(cat "$DIR/$name.pid"))"
        elif [ -f "$DIR/$name.pid" ]; then
            say "$name: dead"
            code=1
        fi
    done
    return $code
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
