#!/usr/bin/env bash
# Start PgBouncer in transaction-pooling mode on 127.0.0.1:6432 in front of the local
# PostgreSQL (the way Neon's pooled endpoint behaves). Idempotent.
set -euo pipefail
PORT="${PGBOUNCER_PORT:-6432}"
DIR=/tmp/chatsite-pgbouncer
if pg_isready -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
  echo "pgbouncer: already listening on 127.0.0.1:$PORT"
  exit 0
fi
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (apt-get install -y pgbouncer)"; exit 1; }
mkdir -p "$DIR"
cat > "$DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
server_idle_timeout = 10
ignore_startup_parameters = extra_float_digits,options
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
unix_socket_dir =
INI
echo '"postgres" ""' > "$DIR/userlist.txt"
chown -R postgres "$DIR" 2>/dev/null || true
if [ "$(id -u)" = 0 ]; then
  su postgres -s /bin/sh -c "pgbouncer -d $DIR/pgbouncer.ini"
else
  pgbouncer -d "$DIR/pgbouncer.ini"
fi
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p "$PORT" && { echo "pgbouncer: started on 127.0.0.1:$PORT (transaction pooling)"; exit 0; }
  sleep 0.1
done
echo "pgbouncer did not start; see $DIR/pgbouncer.log"; exit 1
