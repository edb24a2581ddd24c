#!/usr/bin/env bash
# Runs a throwaway GNU Mailman 3 core on loopback for the mailman plugin's
# tests (see ../shared/platforms/mailman.md, "Running the package locally").
#
#   .ci/mailman.sh start   install if missing, configure, start, wait, print env
#   .ci/mailman.sh env     print MAILMAN_URL / MAILMAN_USER / MAILMAN_PASSWORD
#   .ci/mailman.sh stop    stop the server and wait until its port is free
#
# `export $(.ci/mailman.sh start)` sets the variables the plugin's tests read
# (`cargo test -p cutover-plugin-mailman`).
# Everything lives under target/mailman/ (override with MAILMAN_HOME, or only
# the venv with MAILMAN_VENV); each subcommand is idempotent, and `start` is
# fast once the venv exists and the server answers.
#
# Why these settings: the Null MTA, because with the default Postfix MTA and
# no `postmap` list creation answers 500; `sqlalchemy<2.1`, because with 2.1
# collection GETs answer 500; hostname 127.0.0.1, because gunicorn failed to
# bind `localhost` on this machine. Status messages go to stderr, the
# variables alone to stdout.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
mailman_home="${MAILMAN_HOME:-$repo_root/target/mailman}"
venv="${MAILMAN_VENV:-$mailman_home/venv}"
var_dir="$mailman_home/var"
config_file="$mailman_home/mailman.cfg"
state_file="$mailman_home/server.env"
mailman_version="3.3.10"
admin_user="${MAILMAN_ADMIN_USER:-restadmin}"
admin_pass="${MAILMAN_ADMIN_PASS:-restpass}"

say() { echo "mailman.sh: $*" >&2; }

port_taken() {
    # /dev/tcp connects succeed only when something listens on the port.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    local port="$1"
    while port_taken "$port"; do
        port=$((port + 1))
    done
    echo "$port"
}

install() {
    if [ -x "$venv/bin/mailman" ] && "$venv/bin/python" -c 'import mailman' 2>/dev/null; then
        return
    fi
    say "installing mailman $mailman_version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "mailman==$mailman_version" 'sqlalchemy<2.1' >&2
}

answers() {
    local url="$1"
    curl --silent --fail --max-time 5 --user "$admin_user:$admin_pass" \
        "$url/3.1/system/versions" >/dev/null 2>&1
}

print_env() {
    # shellcheck disable=SC1090
    . "$state_file"
    echo "MAILMAN_URL=$MAILMAN_URL"
    echo "MAILMAN_USER=$admin_user"
    echo "MAILMAN_PASSWORD=$admin_pass"
}

write_config() {
    local rest_port="$1" lmtp_port="$2"
    mkdir -p "$var_dir"
    cat >"$config_file" <<EOF
[mailman]
layout: here
site_owner: postmaster@example.invalid

[paths.here]
var_dir: $var_dir

[webservice]
hostname: 127.0.0.1
port: $rest_port
admin_user: $admin_user
admin_pass: $admin_pass

[mta]
incoming: mailman.mta.null.NullMTA
lmtp_host: 127.0.0.1
lmtp_port: $lmtp_port
smtp_host: 127.0.0.1
smtp_port: 9
EOF
}

# The master daemon keeps the descriptors it was started with: were they a
# pipe (`$(...)`, `| tail`), the reader would wait for it forever. So its
# output goes to a log file, and only that file's tail is shown.
mailman_cli() {
    local log="$mailman_home/cli.log"
    if MAILMAN_CONFIG_FILE="$config_file" "$venv/bin/mailman" --run-as-root "$@" >"$log" 2>&1 </dev/null; then
        return 0
    fi
    tail -n 5 "$log" >&2
    return 1
}

start() {
    mkdir -p "$mailman_home"
    if [ -f "$state_file" ]; then
        # shellcheck disable=SC1090
        . "$state_file"
        if answers "$MAILMAN_URL"; then
            say "already running at $MAILMAN_URL"
            print_env
            return
        fi
    fi
    install
    local rest_port lmtp_port preferred="${MAILMAN_PORT:-8001}"
    if [ -z "${MAILMAN_PORT:-}" ] && [ -n "${MAILMAN_URL:-}" ]; then
        # Keep the port of the last run, so that printed variables stay true.
        preferred="${MAILMAN_URL##*:}"
    fi
    rest_port="$(free_port "$preferred")"
    lmtp_port="$(free_port 8024)"
    if [ "$lmtp_port" = "$rest_port" ]; then
        lmtp_port="$(free_port $((rest_port + 1)))"
    fi
    write_config "$rest_port" "$lmtp_port"
    echo "MAILMAN_URL=http://127.0.0.1:$rest_port" >"$state_file"
    # A stale master lock from a killed run would make `start` refuse.
    mailman_cli stop >/dev/null 2>&1 || true
    rm -f "$var_dir/locks/master.lck"*
    say "starting on 127.0.0.1:$rest_port"
    mailman_cli start
    local url="http://127.0.0.1:$rest_port" waited=0
    until answers "$url"; do
        if [ "$waited" -ge 120 ]; then
            say "no answer from $url/3.1/system/versions after 120 s; see $var_dir/logs/mailman.log"
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "ready at $url"
    print_env
}

stop() {
    if [ ! -x "$venv/bin/mailman" ] || [ ! -f "$config_file" ]; then
        say "not installed, nothing to stop"
        return
    fi
    mailman_cli stop || say "was not running"
    if [ -f "$state_file" ]; then
        # shellcheck disable=SC1090
        . "$state_file"
        local port="${MAILMAN_URL##*:}" waited=0
        # gunicorn lets go of the port a few seconds after the master stops.
        while port_taken "$port" && [ "$waited" -lt 60 ]; do
            sleep 1
            waited=$((waited + 1))
        done
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env)
        if [ ! -f "$state_file" ]; then
            say "not started; run .ci/mailman.sh start"
            exit 1
        fi
        print_env
        ;;
    *)
        echo "usage: $0 start|stop|env" >&2
        exit 2
        ;;
esac
