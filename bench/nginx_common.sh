# shellcheck shell=bash
# A private nginx on 127.0.0.1 for the benchmarks (sourced by pacing.sh and delivery.sh,
# never run). It answers 200 to a POST on /webhook after reading the whole body, and logs
# one line per request: "$msec $connection $request_length $status $content_length".
#
# A `return 200` location, or a static file answering POST with 405 turned into 200 by
# error_page, never reads the body: nginx discards it, and $request_length counts the
# headers only. The mirror module reads the whole body before the content phase
# (mirror_request_body on), so /webhook really receives every byte; its subrequest to
# /sink is internal and answers 204 without I/O.
#
# The caller calls nginx_stop from its EXIT trap. nginx_start sets nginx_dir, nginx_pid,
# nginx_port, nginx_url.

nginx_dir=""
nginx_pid=""
nginx_port=""
nginx_url=""

nginx_check() {
  [[ -x /usr/sbin/nginx ]] || {
    echo "no /usr/sbin/nginx (apt-get install nginx-light or nginx)" >&2
    return 1
  }
}

# nginx_start DIR CONNECTIONS WORKERS: DIR a new directory of the caller's (which removes
# it), CONNECTIONS per worker at most, WORKERS a number or auto.
nginx_start() {
  nginx_dir=$1
  local connections=$2 workers=$3 user_line=""
  nginx_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$nginx_dir"/{logs,html,temp}
  echo ok >"$nginx_dir/html/ok"
  echo ok >"$nginx_dir/html/webhook"
  [[ $(id -u) -eq 0 ]] && user_line="user root root;" # else workers would run as nobody
  cat >"$nginx_dir/nginx.conf" <<EOF
$user_line
worker_processes $workers;
worker_rlimit_nofile $((connections + 256));
pid $nginx_dir/nginx.pid;
error_log $nginx_dir/logs/error.log warn;
events { worker_connections $connections; }
http {
  log_format bench '\$msec \$connection \$request_length \$status \$content_length';
  access_log $nginx_dir/logs/access.log bench buffer=256k flush=1s;
  client_body_temp_path $nginx_dir/temp/body;
  proxy_temp_path $nginx_dir/temp/proxy;
  fastcgi_temp_path $nginx_dir/temp/fastcgi;
  uwsgi_temp_path $nginx_dir/temp/uwsgi;
  scgi_temp_path $nginx_dir/temp/scgi;
  client_body_buffer_size 1m;
  client_max_body_size 16m;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    root $nginx_dir/html;
    location = /webhook {
      mirror /sink;
      mirror_request_body on;
      error_page 405 =200 /ok;
    }
    location = /sink { internal; return 204; }
    location = /ok { }
  }
}
EOF
  /usr/sbin/nginx -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -e "$nginx_dir/logs/error.log" || {
    echo "nginx did not start: $(tail -3 "$nginx_dir/logs/error.log" 2>/dev/null)" >&2
    return 1
  }
  for _ in $(seq 50); do [[ -s "$nginx_dir/nginx.pid" ]] && break; sleep 0.1; done
  nginx_pid=$(cat "$nginx_dir/nginx.pid")
  nginx_url="http://127.0.0.1:$nginx_port/webhook"
  local probe
  probe=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '{"probe":1}' "$nginx_url" || true)
  [[ "$probe" == 200 ]] || {
    echo "nginx answers $probe to a POST on $nginx_url, not 200" >&2
    return 1
  }
}

# wrk_post_script BODY LUA: writes LUA, a wrk script that POSTs the file BODY as JSON.
wrk_post_script() {
  cat >"$2" <<EOF
local f = assert(io.open("$1", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
EOF
}

# Our own master only, by its pid; waits for it to go.
nginx_stop() {
  if [[ -n "$nginx_pid" ]] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
  fi
}

nginx_worker_pids() { pgrep -P "$nginx_pid" || true; }

# The machine's CPU steal so far, in seconds summed over its cores (/proc/stat): time
# the hypervisor gave our virtual CPUs to others. On a shared VM it is the noise that
# no change of ours removes; the benchmarks print it beside their timing figures.
machine_steal() {
  awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f\n", $9 / hz; exit }' /proc/stat
}

# CPU seconds (user + sys) of nginx's workers, from /proc.
nginx_cpu() {
  local total=0 ticks pid
  ticks=$(getconf CLK_TCK)
  for pid in $(nginx_worker_pids); do
    [[ -r /proc/$pid/stat ]] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  python3 -c "print($total / $ticks)"
}

# Moves the access log to $1: nginx writes its buffer and reopens on USR1.
rotate_access_log() {
  sleep 1.5 # past flush=1s
  mv "$nginx_dir/logs/access.log" "$1"
  kill -USR1 "$nginx_pid"
  for _ in $(seq 50); do [[ -e "$nginx_dir/logs/access.log" ]] && break; sleep 0.1; done
  sleep 0.2
}
