#!/usr/bin/env bash
# A whole Atelier cluster on this machine's loopback, no Docker: redis-server (AOF on),
# three `atelier serve --redis` processes, and nginx in front where it is installed.
#
#   deploy/cluster.sh start           start whatever of it is not running, wait until it
#                                     answers, print the URLs
#   deploy/cluster.sh stop [NAME]     stop everything it started, or one part
#   deploy/cluster.sh restart NAME    stop one part (if running) and start it again; the
#                                     others keep serving
#   deploy/cluster.sh status          which of its processes are running (exit 1 if one
#                                     it started has died)
# NAME is redis, nginx, or atelier-PORT (or just PORT).
#
# It only ever signals processes it started: their pids are in CLUSTER_DIR, and a pid
# whose command line is not the one it started (a stale file, a reused pid) is left alone.
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

need() { # need: every tool this script uses is here, or say which are missing
    local missing=() tool
    for tool in redis-server redis-cli curl awk sed; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    [ -d /proc/self ] || command -v ps >/dev/null 2>&1 || missing+=("ps (or a mounted /proc)")
    [ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]} (Debian: apt-get install redis-server curl procps)"
    [ -n "$atelier" ] && [ -x "$atelier" ] || die "no atelier command: pip install . (or set ATELIER)"
}

use_nginx() { [ "$NGINX" = auto ] && command -v nginx >/dev/null 2>&1; }

names() { # every part, in start order
    printf 'redis '
    for port in $PORTS; do printf 'atelier-%s ' "$port"; done
    if use_nginx; then printf 'nginx'; fi
}

command_line() { # command_line PID: its command line, or nothing if it is gone
    if [ -r "/proc/$1/cmdline" ]; then
        tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
    elif command -v ps >/dev/null 2>&1; then
        ps -o args= -p "$1" 2>/dev/null || true
    fi
}

running() { # running PID: the process exists and is not a zombie nobody reaped yet
    local state=""
    if [ -r "/proc/$1/stat" ]; then
        state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
    elif command -v ps >/dev/null 2>&1; then
        state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    fi
    [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

marker() { # marker NAME: what the command line of NAME's process contains
    case $1 in
    redis) printf 'redis-server' ;;
    nginx) printf 'nginx' ;;
    atelier-*) printf -- '--port %s ' "${1#atelier-}" ;;
    esac
}

alive() { # alive NAME: the process recorded in NAME.pid runs, and is the one we started
    local pid
    [ -f "$DIR/$1.pid" ] || return 1
    pid=$(cat "$DIR/$1.pid")
    [ -n "$pid" ] && running "$pid" || return 1
    case "$(command_line "$pid") " in
    *"$(marker "$1")"*) return 0 ;;
    *) return 1 ;;
    esac
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

start_redis() {
    mkdir -p "$DIR/redis"
    redis-server "$ROOT/deploy/redis.conf" --port "$REDIS_PORT" --bind 127.0.0.1 \
        --dir "$DIR/redis" --daemonize no --logfile "$DIR/redis.log" </dev/null >/dev/null 2>&1 &
    echo $! >"$DIR/redis.pid"
    wait_for 20 "redis-server" redis_ok
}

start_atelier() { # start_atelier PORT
    local port=$1 front=()
    if use_nginx; then
        # links point at nginx; only nginx's X-Forwarded-For is believed
        front=(--public-url "http://127.0.0.1:$NGINX_PORT" --trusted-proxy 127.0.0.1
            --origin "http://localhost:$NGINX_PORT")
    fi
    mkdir -p "$DIR/data-$port"
    "$atelier" serve --host 127.0.0.1 --port "$port" --data "$DIR/data-$port" \
        --redis "redis://127.0.0.1:$REDIS_PORT/0" "${front[@]}" \
        --origin "http://127.0.0.1:$NGINX_PORT" \
        --origin "http://127.0.0.1:$port" --origin "http://localhost:$port" \
        </dev/null >>"$DIR/atelier-$port.log" 2>&1 &
    echo $! >"$DIR/atelier-$port.pid"
    wait_for 30 "atelier on port $port" http_ok "http://127.0.0.1:$port/readyz"
}

nginx_conf() { # the loopback variant of deploy/nginx.conf: same proxy rules, no TLS
    local options port
    # the upstream's passive-check options, as deploy/nginx.conf sets them
    options=$(sed -n 's/^ *server atelier1:8000 \(.*\);$/\1/p' "$ROOT/deploy/nginx.conf")
    [ -n "$options" ] || die "no 'server atelier1:8000 ...;' line in deploy/nginx.conf"
    mkdir -p "$DIR/nginx-temp"
    cat <<EOF
worker_processes 1;
events { worker_connections 1024; }
http {
    access_log $DIR/nginx-access.log;
    client_body_temp_path $DIR/nginx-temp/body;
    proxy_temp_path $DIR/nginx-temp/proxy;
    fastcgi_temp_path $DIR/nginx-temp/fastcgi;
    uwsgi_temp_path $DIR/nginx-temp/uwsgi;
    scgi_temp_path $DIR/nginx-temp/scgi;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    map \$scheme \$forwarded_proto { default \$scheme; }  # no TLS front on loopback
    upstream atelier {
        least_conn;
$(for port in $PORTS; do printf '        server 127.0.0.1:%s %s;\n' "$port" "$options"; done)
        keepalive 32;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        server_tokens off;
        include $ROOT/deploy/nginx-proxy.conf;
    }
}
EOF
}

start_nginx() {
    nginx_conf >"$DIR/nginx.conf"
    local globals="daemon off; pid $DIR/nginx.pid.nginx; error_log $DIR/nginx-error.log;"
    nginx -t -q -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" -g "$globals" \
        || die "nginx refused $DIR/nginx.conf"
    nginx -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" -g "$globals" \
        </dev/null >"$DIR/nginx.log" 2>&1 &
    echo $! >"$DIR/nginx.pid"
    wait_for 20 "nginx" http_ok "http://127.0.0.1:$NGINX_PORT/readyz"
}

start_one() { # start_one NAME
    case $1 in
    redis) start_redis ;;
    nginx) start_nginx ;;
    atelier-*) start_atelier "${1#atelier-}" ;;
    esac
}

part() { # part NAME-OR-PORT: the part's name, or die
    local name=$1 known
    case $name in [0-9]*) name=atelier-$name ;; esac
    for known in $(names); do
        [ "$known" = "$name" ] && { printf '%s' "$name"; return 0; }
    done
    die "no part named $1 (parts: $(names))"
}

start() {
    need
    mkdir -p "$DIR"
    local name
    for name in $(names); do
        if alive "$name"; then
            say "$name: already running (pid $(cat "$DIR/$name.pid"))"
        else
            start_one "$name"
        fi
    done
    say "Atelier cluster up (pids, logs and data in $DIR)"
    say "  redis:     redis://127.0.0.1:$REDIS_PORT/0"
    for port in $PORTS; do say "  process:   http://127.0.0.1:$port"; done
    if use_nginx; then
        say "  open:      http://127.0.0.1:$NGINX_PORT  (nginx, in front of the processes)"
        base="http://127.0.0.1:$NGINX_PORT"
    else
        say "  open:      any process above (nginx is not installed: no single front URL)"
        base="http://127.0.0.1:${PORTS%% *}"
    fi
    say "New workshop: curl -X POST $base/api/workshops -H 'content-type: application/json' -d '{\"title\": \"Atelier\"}'"
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
    elif running "$pid"; then
        say "$name: pid $pid is not the process this script started; left alone"
    fi
    rm -f "$DIR/$name.pid"
}

grace() { case $1 in redis) echo 20 ;; nginx) echo 10 ;; *) echo 15 ;; esac; }

stop() {
    if [ $# -gt 0 ]; then
        local name
        name=$(part "$1")
        stop_one "$name" "$(grace "$name")"
        say "$name stopped"
        return
    fi
    stop_one nginx 10
    for port in $PORTS; do stop_one "atelier-$port" 15 & done
    wait
    stop_one redis 20 # last: the processes leave checkpoints on their way out
    say "Atelier cluster stopped"
}

restart() {
    [ $# -eq 1 ] || die "usage: $0 restart redis|nginx|atelier-PORT"
    need
    local name
    name=$(part "$1")
    stop_one "$name" "$(grace "$name")"
    start_one "$name"
    say "$name restarted (pid $(cat "$DIR/$name.pid"))"
}

status() {
    local code=0 name
    for name in $(names); do
        if alive "$name"; then
            say "$name: running (pid $(cat "$DIR/$name.pid"))"
        elif [ -f "$DIR/$name.pid" ]; then
            say "$name: dead"
            code=1
        fi
    done
    return $code
}

command=${1:-}
[ $# -eq 0 ] || shift
case $command in
start) start ;;
stop) stop "$@" ;;
restart) restart "$@" ;;
status) status ;;
*) die "usage: $0 start|stop [NAME]|restart NAME|status" ;;
esac
