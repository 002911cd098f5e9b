# Shared by the benchmark scripts: temporary folder, ports, podmortem and nginx over TLS.
# Source it; it sets $work and cleans up on exit.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary="$root/build/podmortem"
[[ -x "$binary" ]] || { echo "build first: make build" >&2; exit 2; }
for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh" >&2; exit 2; }
done

work=$(mktemp -d)
mkdir -p "$work/policies"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {
  for _ in $(seq 1 200); do curl -sk "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "not up: $1" >&2; exit 1
}

# start_podmortem EXTRA_FLAGS... : serves on $pm_port with a generated certificate in $work/state.
start_podmortem() {
  start_replica "" "$@"
}

# start_replica NAME EXTRA_FLAGS... : like start_podmortem, with its own folders under
# $work/NAME; sets $pm_port, $pm_metrics and $pm_pid.
start_replica() {
  local name=$1 metrics_port home=$work/${1:-.}
  shift
  pm_port=$(free_port)
  metrics_port=$(free_port)
  mkdir -p "$work/policies" "$home"
  "$binary" serve --listen "127.0.0.1:$pm_port" --metrics-listen "127.0.0.1:$metrics_port" \
    --state-dir "$home/state" --evidence-dir "$home/evidence" --policies-dir "$work/policies" \
    --log-level warn "$@" >"$home/podmortem.log" 2>&1 &
  pm_pid=$!
  pids+=("$pm_pid")
  wait_for "https://127.0.0.1:$pm_port/healthz"
  pm_metrics="http://127.0.0.1:$metrics_port/metrics"
}

# start_nats COUNT : COUNT nats-servers with JetStream (clustered over routes when more than
# one); sets $nats_url (every server, comma-separated).
start_nats() {
  local count=$1 i ports=() routes=""
  command -v nats-server >/dev/null || { echo "missing nats-server: run scripts/install-deps.sh" >&2; exit 2; }
  for ((i = 0; i < count * 3; i++)); do ports+=("$(free_port)"); done
  for ((i = 0; i < count; i++)); do routes+="${routes:+, }nats-route://127.0.0.1:${ports[i * 3 + 1]}"; done
  nats_url=""
  for ((i = 0; i < count; i++)); do
    local dir=$work/nats-$count-$i
    mkdir -p "$dir"
    {
      echo "server_name: n$i"
      echo "listen: 127.0.0.1:${ports[i * 3]}"
      echo "http: 127.0.0.1:${ports[i * 3 + 2]}"
      echo "jetstream { store_dir: \"$dir\", max_file_store: 8GB, max_memory_store: 256MB }"
      if ((count > 1)); then
        echo "cluster { name: bench, listen: 127.0.0.1:${ports[i * 3 + 1]}, routes: [ $routes ] }"
      fi
    } >"$dir/nats.conf"
    nats-server -c "$dir/nats.conf" >"$dir/nats.log" 2>&1 &
    pids+=($!)
    nats_url+="${nats_url:+,}nats://127.0.0.1:${ports[i * 3]}"
  done
  for ((i = 0; i < count; i++)); do
    wait_for "http://127.0.0.1:${ports[i * 3 + 2]}/healthz?js-enabled-only=true"
  done
}

# start_nginx BODY: 2 workers, TLS with podmortem's certificate, answers every request with BODY.
start_nginx() {
  ng_port=$(free_port)
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  client_max_body_size 16m;
  client_body_buffer_size 1m;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$ng_port ssl;
    ssl_certificate $work/state/tls/tls.crt;
    ssl_certificate_key $work/state/tls/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      default_type application/json;
      return 200 '$1';
    }
  }
}
CONF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>"$work/nginx/start.log" &
  pids+=($!)
  wait_for "https://127.0.0.1:$ng_port/"
}
