#!/usr/bin/env bash
# Makes sure a PostgreSQL server runs on 127.0.0.1:5432 with a role and a
# database for Vane's tests, installing Debian's postgresql package when it
# is missing. Prints the connection URL for VANE_TEST_POSTGRES on stdout;
# everything else goes to stderr. Safe to run again.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
	log "installing Debian's postgresql package"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
fi

ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main"' | grep -q .; then
	log "creating cluster $ver/main"
	pg_createcluster "$ver" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
	log "starting cluster $ver/main"
	pg_ctlcluster "$ver" main start >&2
fi

for i in $(seq 1 30); do
	if su postgres -c "psql -qAt -c 'SELECT 1'" >/dev/null 2>&1; then
		break
	fi
	sleep 1
done

su postgres -c "psql -qAt" >&2 <<'SQL'
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vane') THEN
		CREATE ROLE vane LOGIN PASSWORD 'vane' CREATEDB;
	END IF;
END
$$;
SQL
if ! su postgres -c "psql -qAt -c \"SELECT 1 FROM pg_database WHERE datname = 'vane_test'\"" | grep -q 1; then
	su postgres -c "createdb -O vane vane_test" >&2
fi

port=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $3}')
echo "postgres://vane:vane@127.0.0.1:${port}/vane_test?sslmode=disable"
