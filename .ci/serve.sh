# Sourced by the CI scripts that drive a real server. start_vane NAME
# [ARGS...] builds vane into a new temporary directory $tmp, starts
# `vane serve --addr 127.0.0.1:0 --data $tmp/data ARGS` (access control on:
# the admin key lands in $tmp/data/admin.key), and waits for its url= log
# line. It sets tmp, pid and url; an EXIT trap stops the server and removes
# $tmp. NAME prefixes the error messages.

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

start_vane() {
	local name=$1
	shift
	go build -o "$tmp/vane" ./cmd/vane
	"$tmp/vane" serve --addr 127.0.0.1:0 --data "$tmp/data" "$@" >"$tmp/server.log" 2>&1 &
	pid=$!
	url=""
	for _ in $(seq 1 100); do
		url=$(sed -n 's/.*msg=listening url=\(http:[^ ]*\).*/\1/p' "$tmp/server.log" | head -n 1)
		[ -n "$url" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$url" ]; then
		echo "$name: the server did not log its url= line:"
		cat "$tmp/server.log"
		exit 1
	fi
}
