#!/usr/bin/env bash
# A hot standby of the machine's PostgreSQL on 127.0.0.1:5433 (streaming replication:
# `pg_basebackup -R` into a second cluster), for the read-replica tests. Idempotent:
# creates it once, starts it when it is down. Run as root (PostgreSQL commands as postgres).
set -euo pipefail
version="$(ls /etc/postgresql | sort -V | tail -1)"
hba="/etc/postgresql/$version/main/pg_hba.conf"
as_postgres() { runuser -u postgres -- "$@"; }

if ! grep -q '^host[[:space:]]\+replication[[:space:]]\+all[[:space:]]\+127.0.0.1/32' "$hba"; then
  echo "host replication all 127.0.0.1/32 trust" >> "$hba"
  as_postgres psql -h 127.0.0.1 -p 5432 -qAtc "SELECT pg_reload_conf()" >/dev/null
fi

if ! pg_lsclusters -h | awk '{print $2}' | grep -qx standby; then
  pg_createcluster "$version" standby -p 5433 >/dev/null
  data="/var/lib/postgresql/$version/standby"
  find "$data" -mindepth 1 -delete
  as_postgres pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D "$data" -R -X stream
  conf="/etc/postgresql/$version/standby/conf.d/standby.conf"
  cat > "$conf" <<CONF
listen_addresses = '127.0.0.1'
hot_standby = on
# Long reads on the standby are not cancelled by the primary's vacuum.
hot_standby_feedback = on
CONF
  chown postgres:postgres "$conf"
  # The same client rules as the primary (trust on 127.0.0.1 on this CI machine).
  install -o postgres -g postgres -m 640 "$hba" "/etc/postgresql/$version/standby/pg_hba.conf"
fi

if ! pg_isready -h 127.0.0.1 -p 5433 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$version" standby start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5433 -q && break; sleep 1; done
fi
as_postgres psql -h 127.0.0.1 -p 5433 -qAtc "SELECT pg_is_in_recovery()" | grep -qx t
