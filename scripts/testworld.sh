#!/usr/bin/env bash
# scripts/testworld.sh — the "test world" for onestroke's testcontainers-go suites.
#
# Makes sure that
#   1. a Docker engine answers `docker info` (the running one if there is one; on a fresh
#      Debian 12 machine, as root, it installs docker.io from apt and starts dockerd itself);
#   2. a Redis image and a MongoDB-protocol image are available locally:
#        ONESTROKE_TEST_REDIS_IMAGE (default redis:7) and ONESTROKE_TEST_MONGO_IMAGE (default mongo:7)
#      are used when present or pullable; otherwise local stand-ins are built and used:
#        onestroke-test/redis:7-local         Debian's redis-server binary + its libraries
#        onestroke-test/ferretdb:1.24.2-pg15-local FerretDB v1.24.2 on Debian's PostgreSQL 15
#                                             (a throwaway cluster per container), docker/ferretdb/
#      A stand-in is always reported as a stand-in, never as the real image (see docker/README.md);
#   3. the redis-server binary is on the host too (a suite runs a Redis Cluster from local processes).
# It is idempotent: a second run reuses the engine and images and takes a few seconds.
#
# INTERFACE
#   stdout carries ONLY shell `export` lines; all progress goes to stderr. The same lines are
#   written to "$STATE_DIR/env.sh" (default /tmp/onestroke-testworld/env.sh when run as root).
#
#     scripts/testworld.sh -- CMD [ARGS...]   set up, then run CMD with the environment applied
#                                             (exit status is CMD's)
#     scripts/testworld.sh                    set up and print the exports, for
#                                             env_sh="$(scripts/testworld.sh)" && eval "$env_sh"
#                                             (--print-env is accepted as a synonym)
#     scripts/testworld.sh --help
#
#   From a Makefile (every recipe line is its own shell):
#     test-integration:
#     	scripts/testworld.sh -- go test -tags integration ./...
#   Do not write `eval "$(scripts/testworld.sh)"`: eval hides a failure of the script.
#
#   Exported: ONESTROKE_TEST_REDIS_IMAGE, ONESTROKE_TEST_MONGO_IMAGE,
#             ONESTROKE_TEST_REDIS_IS_STANDIN, ONESTROKE_TEST_MONGO_IS_FERRETDB (true|false),
#             TESTCONTAINERS_RYUK_DISABLED=true (the Ryuk image cannot be pulled everywhere),
#             TESTCONTAINERS_HOST_OVERRIDE=localhost (only inside a container — /.dockerenv — whose
#                                                     engine runs in the same machine),
#             DOCKER_HOST (only when the engine is not at the default socket).
#   A variable already set by the caller wins over these defaults.
#
# EXIT STATUS
#   0  ready
#   3  no Docker engine, and this script may not provide one (not root, or not Debian, or
#      ONESTROKE_TESTWORLD_APT=0): the caller decides whether to skip or fail
#   1  anything else went wrong (the message says what)
#   2  bad usage
#
# KNOBS (environment)
#   ONESTROKE_TEST_REDIS_IMAGE / ONESTROKE_TEST_MONGO_IMAGE  images wanted (defaults redis:7, mongo:7)
#   ONESTROKE_TEST_ALLOW_STANDIN=0   fail instead of using a stand-in (e.g. a CI that must test real images)
#   ONESTROKE_TESTWORLD_PULL=auto|always|never   auto (default) skips `docker pull` for 6 h after a
#                                    failed pull of the same image; always retries; never does not pull
#   ONESTROKE_TESTWORLD_PULL_TIMEOUT=20          seconds for one `docker pull` (it can hang offline)
#   ONESTROKE_TESTWORLD_APT=0        never run apt-get (then a missing engine means exit 3)
#   ONESTROKE_TESTWORLD_STATE_DIR    state folder (dockerd.log, env.sh, build folders)
#
# Only host changes it makes, and only as root on Debian: apt packages docker.io (+ ca-certificates,
# and apparmor where the kernel enforces AppArmor), redis-server and, when the MongoDB stand-in
# must be built, postgresql-15 (its binaries go into the image); a dockerd it starts itself
# (`tini -s -- dockerd --storage-driver=overlay2`, left running, log in $STATE_DIR/dockerd.log);
# the redis-server and postgresql services that the packages start are stopped and disabled when
# this script installed the package (suites start their own servers).
set -euo pipefail

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FERRETDB_SRC="$REPO_ROOT/docker/ferretdb"
REDIS_ENTRYPOINT="$REPO_ROOT/docker/redis/docker-entrypoint.sh"

if [ "$(id -u)" = 0 ]; then
	STATE_DIR="${ONESTROKE_TESTWORLD_STATE_DIR:-/tmp/onestroke-testworld}"
else
	STATE_DIR="${ONESTROKE_TESTWORLD_STATE_DIR:-/tmp/onestroke-testworld-$(id -u)}"
fi
ENV_FILE="$STATE_DIR/env.sh"

REDIS_WANTED="${ONESTROKE_TEST_REDIS_IMAGE:-redis:7}"
MONGO_WANTED="${ONESTROKE_TEST_MONGO_IMAGE:-mongo:7}"
REDIS_STANDIN="onestroke-test/redis:7-local"
MONGO_STANDIN="onestroke-test/ferretdb:1.24.2-pg15-local"
ALLOW_STANDIN="${ONESTROKE_TEST_ALLOW_STANDIN:-1}"
PULL_MODE="${ONESTROKE_TESTWORLD_PULL:-auto}"
PULL_TIMEOUT="${ONESTROKE_TESTWORLD_PULL_TIMEOUT:-20}"
PULL_RETRY_AFTER=$((6 * 3600))
APT_ALLOWED="${ONESTROKE_TESTWORLD_APT:-1}"
DOCKERD_TIMEOUT=60

# Bump to force a rebuild of both stand-ins when the recipe below changes in a way the
# input hash does not see.
RECIPE_VERSION=1
LABEL_INPUTS="org.onestroke.testworld.inputs"
LABEL_DESC="org.onestroke.testworld.description"

# ---------------------------------------------------------------------------------------------
# Output plumbing: fd 3 is the real stdout (exports only); everything else goes to stderr.
# Background processes started here must close fds 3 and 9 (the lock), or a caller's
# $(...) would wait for them forever.
# ---------------------------------------------------------------------------------------------
exec 3>&1 1>&2

log() { printf 'testworld: %s\n' "$*" >&2; }
die() {
	local rc="$1"
	shift
	printf '\ntestworld: ERROR: %s\n\n' "$*" >&2
	exit "$rc"
}

now() { date +%s.%N 2>/dev/null | sed 's/N$/0/'; }
T_START="$(now)"
T_STEP="$T_START"
# step_done NAME: log how long the step since the previous step_done took.
step_done() {
	local t
	t="$(now)"
	log "$(awk -v a="$T_STEP" -v b="$t" -v n="$1" 'BEGIN { printf "[time] %-28s %6.1f s", n, b - a }')"
	T_STEP="$t"
}

# run_timeout SECS CMD...: `timeout` where it exists (it does on Debian; not on stock macOS).
run_timeout() {
	local secs="$1"
	shift
	if command -v timeout >/dev/null 2>&1; then
		timeout --kill-after=5 "$secs" "$@"
	else
		"$@"
	fi
}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; }

# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------
EXEC_CMD=()
while [ $# -gt 0 ]; do
	case "$1" in
	--print-env) shift ;;
	-h | --help)
		usage
		exit 0
		;;
	--)
		shift
		[ $# -gt 0 ] || die 2 "'--' must be followed by a command"
		EXEC_CMD=("$@")
		break
		;;
	*)
		usage
		die 2 "unknown argument: $1"
		;;
	esac
done

mkdir -p "$STATE_DIR"

# One run at a time (parallel make targets would otherwise race on apt, dockerd and builds).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$STATE_DIR/lock"
	if ! flock -w 900 9; then
		die 1 "another testworld.sh run holds $STATE_DIR/lock for more than 15 minutes"
	fi
fi

# Containers started only to verify a fresh image; removed on any exit.
VERIFY_CID=""
cleanup() {
	if [ -n "$VERIFY_CID" ]; then
		run_timeout 30 docker rm -f "$VERIFY_CID" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# Helpers: host
# ---------------------------------------------------------------------------------------------
is_debian() { [ -r /etc/os-release ] && grep -qx 'ID=debian' /etc/os-release; }

# may_provision: true when this script may install packages and start daemons here.
may_provision() { [ "$(id -u)" = 0 ] && is_debian && [ "$APT_ALLOWED" != 0 ]; }

APT_UPDATED=0
apt_update() {
	[ "$APT_UPDATED" = 0 ] || return 0
	log "apt-get update"
	run_timeout 600 apt-get -o DPkg::Lock::Timeout=300 update -q ||
		die 1 "apt-get update failed"
	APT_UPDATED=1
}

# apt_install PKG...: installs without recommends (needrestart, git, … are not wanted here).
# Runs `apt-get update` first only when a package has no candidate (no or old lists), or when
# the install fails (stale lists pointing at superseded .debs), then tries once more.
apt_install() {
	local p cand
	export DEBIAN_FRONTEND=noninteractive
	for p in "$@"; do
		cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')"
		if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
			apt_update
			break
		fi
	done
	log "apt-get install $*"
	if ! run_timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$@"; then
		[ "$APT_UPDATED" = 0 ] || die 1 "apt-get install $* failed"
		log "apt-get install failed; refreshing the package lists and trying once more"
		apt_update
		run_timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$@" ||
			die 1 "apt-get install $* failed"
	fi
}

# A redis-server package install starts its own service on 127.0.0.1:6379 under systemd.
# Suites start their own redis-server processes, so stop and disable the one we caused.
quiet_redis_service() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		log "stopping and disabling the redis-server service that the package started"
		run_timeout 60 systemctl disable --now redis-server >/dev/null 2>&1 || true
	fi
}

# Likewise the nginx package's own service (port 80): the system test runs its own nginx.
quiet_nginx_service() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		log "stopping and disabling the nginx service that the package started"
		run_timeout 60 systemctl disable --now nginx >/dev/null 2>&1 || true
	fi
}

# ---------------------------------------------------------------------------------------------
# Step 1: Docker engine (+ the host redis-server and nginx, installed in the same apt call when needed)
# ---------------------------------------------------------------------------------------------
docker_ok() { command -v docker >/dev/null 2>&1 && run_timeout 20 docker info >/dev/null 2>&1; }

DOCKERD_STARTED_HERE=0

start_dockerd() {
	local tini_bin logf pid deadline
	tini_bin="$(command -v tini || true)"
	[ -n "$tini_bin" ] || die 1 "tini not found (it comes with Debian's docker.io package)"
	logf="$STATE_DIR/dockerd.log"
	log "starting: tini -s -- dockerd --storage-driver=overlay2   (log: $logf)"
	# setsid: its own session, so a Ctrl-C in the caller's terminal does not stop the engine.
	# Close fds 3 and 9 (see "Output plumbing" above).
	(cd / && exec setsid "$tini_bin" -s -- dockerd --storage-driver=overlay2 \
		</dev/null >>"$logf" 2>&1 3>&- 9>&-) &
	pid=$!
	echo "$pid" >"$STATE_DIR/dockerd.pid"
	DOCKERD_STARTED_HERE=1

	deadline=$((SECONDS + DOCKERD_TIMEOUT))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if docker_ok; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 30 "$logf" >&2 || true
			die 1 "dockerd exited during start-up; see $logf (last lines above)"
		fi
		sleep 0.5
	done
	tail -n 30 "$logf" >&2 || true
	die 1 "dockerd did not answer \`docker info\` within ${DOCKERD_TIMEOUT}s; see $logf (last lines above). Its process $pid is left running."
}

ensure_engine_and_host_redis() {
	local pkgs=() deadline
	local need_redis=0 need_nginx=0
	[ -x /usr/bin/redis-server ] || need_redis=1
	# nginx in front of two replicas in the scale-out system test (tests/system/scaleout_test.go).
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_nginx=1

	if docker_ok; then
		log "docker engine: running already ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?')), using it"
		if [ "$need_redis" = 1 ] || [ "$need_nginx" = 1 ]; then
			if may_provision; then
				[ "$need_redis" = 0 ] || pkgs+=(redis-server)
				[ "$need_nginx" = 0 ] || pkgs+=(nginx-light)
				apt_install "${pkgs[@]}"
				[ "$need_redis" = 0 ] || quiet_redis_service
				[ "$need_nginx" = 0 ] || quiet_nginx_service
			else
				log "NOTE: no redis-server or nginx binary on this host; the local Redis Cluster suite and the scale-out system test need them (Debian: apt-get install redis-server nginx-light)"
			fi
		fi
		return 0
	fi

	if ! may_provision; then
		cat >&2 <<-EOF

		  ######################################################################################
		  ##  testworld: NO DOCKER ENGINE
		  ##  \`docker info\` does not work here, and this script installs and starts an engine
		  ##  only as root on Debian (and not with ONESTROKE_TESTWORLD_APT=0).
		  ##  Start Docker (or fix your access to its socket / DOCKER_HOST) and run it again.
		  ##  Exit status 3: callers may treat this as "skip the container suites".
		  ######################################################################################

		EOF
		docker info 2>&1 | tail -n 3 >&2 || true
		exit 3
	fi

	# A client may exist without an engine (e.g. /usr/local/bin/docker): look for dockerd.
	command -v dockerd >/dev/null 2>&1 || pkgs+=(docker.io ca-certificates)
	command -v tini >/dev/null 2>&1 || pkgs+=(tini)
	if [ -r /sys/module/apparmor/parameters/enabled ] && grep -q Y /sys/module/apparmor/parameters/enabled &&
		! command -v apparmor_parser >/dev/null 2>&1; then
		# dockerd 20.10 cannot start containers on an AppArmor kernel without apparmor_parser.
		pkgs+=(apparmor)
	fi
	[ "$need_redis" = 0 ] || pkgs+=(redis-server)
	[ "$need_nginx" = 0 ] || pkgs+=(nginx-light)
	if [ "${#pkgs[@]}" -gt 0 ]; then
		apt_install "${pkgs[@]}"
		[ "$need_redis" = 0 ] || quiet_redis_service
		[ "$need_nginx" = 0 ] || quiet_nginx_service
		step_done "apt install"
	fi

	# Under systemd the docker.io package starts the engine itself; give it a moment.
	if [ -d /run/systemd/system ]; then
		deadline=$((SECONDS + 10))
		while [ "$SECONDS" -lt "$deadline" ] && ! docker_ok; do
			sleep 0.5
		done
	fi

	if docker_ok; then
		log "docker engine: started by the system's service manager"
	elif pgrep -x dockerd >/dev/null 2>&1; then
		log "docker engine: a dockerd process exists but does not answer yet; waiting up to ${DOCKERD_TIMEOUT}s"
		deadline=$((SECONDS + DOCKERD_TIMEOUT))
		while [ "$SECONDS" -lt "$deadline" ] && ! docker_ok; do
			sleep 0.5
		done
		docker_ok || die 1 "a dockerd process is running but \`docker info\` fails; look at it (pgrep -a dockerd) rather than starting a second one"
	else
		start_dockerd
	fi
	log "docker engine: ready ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
	step_done "dockerd start"
}

# ---------------------------------------------------------------------------------------------
# Helpers: images
# ---------------------------------------------------------------------------------------------
image_present() { run_timeout 30 docker image inspect "$1" >/dev/null 2>&1; }

image_label() {
	run_timeout 30 docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

REGISTRY_UNREACHABLE=0
# try_pull IMAGE: one bounded `docker pull`, remembering failures for PULL_RETRY_AFTER seconds.
try_pull() {
	local img="$1" mark rc age
	mark="$STATE_DIR/pull-failed.$(printf '%s' "$img" | tr -c 'A-Za-z0-9._-' '_')"
	case "$PULL_MODE" in
	never) return 1 ;;
	auto)
		if [ "$REGISTRY_UNREACHABLE" = 1 ]; then
			log "not pulling $img: an earlier pull in this run timed out"
			return 1
		fi
		if [ -f "$mark" ]; then
			age=$(($(date +%s) - $(cat "$mark" 2>/dev/null || echo 0)))
			if [ "$age" -lt "$PULL_RETRY_AFTER" ]; then
				log "not pulling $img: a pull failed ${age}s ago (ONESTROKE_TESTWORLD_PULL=always retries)"
				return 1
			fi
		fi
		;;
	esac
	log "docker pull $img (at most ${PULL_TIMEOUT}s)"
	rc=0
	run_timeout "$PULL_TIMEOUT" docker pull -q "$img" >&2 || rc=$?
	if [ "$rc" = 0 ]; then
		rm -f "$mark"
		return 0
	fi
	[ "$rc" != 124 ] && [ "$rc" != 137 ] || REGISTRY_UNREACHABLE=1
	log "pull of $img failed (exit $rc)"
	date +%s >"$mark"
	return 1
}

# copy_with_libs ROOT SRC [DEST]: copies an executable (symlinks resolved) into ROOT, and every
# library `ldd` lists for it, the dynamic loader included, at the same paths.
copy_with_libs() {
	local root="$1" src="$2" dest="${3:-$2}" lib
	install -D -m 0755 "$(readlink -f "$src")" "$root$dest"
	for lib in $(ldd "$src" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# stage_base ROOT: the skeleton both stand-ins share: /tmp, /data, a passwd file, and a tiny
# toolbox (sh, cat, awk, grep) so that testcontainers' wait.ForListeningPort can run its check
# inside the container (`cat /proc/net/tcp* | awk ... | grep ...`) and `docker exec sh` works.
stage_base() {
	local root="$1"
	rm -rf "$root"
	mkdir -p "$root"/{etc,tmp,data,usr/local/bin,proc,sys,dev}
	chmod 1777 "$root/tmp"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	copy_with_libs "$root" /bin/dash /bin/sh
	copy_with_libs "$root" /bin/cat
	copy_with_libs "$root" /bin/grep
	copy_with_libs "$root" /usr/bin/awk
}

# tree_hash ROOT EXTRA...: sha256 over every file's path and content, plus EXTRA strings.
tree_hash() {
	local root="$1"
	shift
	{
		printf '%s\n' "recipe=$RECIPE_VERSION" "$@"
		(cd "$root" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
	} | sha256sum | cut -c1-16
}

# import_rootfs ROOT IMAGE CHANGE...: tar the folder into a one-layer image, and drop the
# image the tag pointed at before (if no container uses it).
import_rootfs() {
	local root="$1" img="$2" c old new
	shift 2
	local args=()
	for c in "$@"; do args+=(-c "$c"); done
	old="$(run_timeout 30 docker image inspect -f '{{ .Id }}' "$img" 2>/dev/null || true)"
	new="$(tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
		run_timeout 300 docker import "${args[@]}" - "$img")" ||
		die 1 "docker import of $img failed"
	if [ -n "$old" ] && [ "$old" != "$new" ]; then
		run_timeout 30 docker rmi "$old" >/dev/null 2>&1 || true
	fi
}

# start_verify_container IMAGE PORT LOGLINE: runs IMAGE with PORT published on 127.0.0.1,
# waits for LOGLINE in its log, and sets VERIFY_CID and VERIFY_PORT (the host port).
# (Not called as $(...): the container id must reach the EXIT trap.)
VERIFY_PORT=""
start_verify_container() {
	local img="$1" port="$2" line="$3" i hostport
	VERIFY_CID="$(run_timeout 60 docker run -d -p "127.0.0.1::$port" "$img")" ||
		die 1 "docker run $img failed"
	for ((i = 0; i < 60; i++)); do
		if run_timeout 10 docker logs "$VERIFY_CID" 2>&1 | grep -q "$line"; then
			hostport="$(run_timeout 10 docker port "$VERIFY_CID" "$port/tcp" | head -n1)"
			VERIFY_PORT="${hostport##*:}"
			return 0
		fi
		sleep 0.5
	done
	run_timeout 10 docker logs "$VERIFY_CID" 2>&1 | tail -n 20 >&2 || true
	die 1 "$img did not log '$line' within 30s (its log is above)"
}

stop_verify_container() {
	run_timeout 30 docker rm -f "$VERIFY_CID" >/dev/null 2>&1 || true
	VERIFY_CID=""
}

# ---------------------------------------------------------------------------------------------
# Stand-in: Redis (Debian's redis-server 7.0 + libraries, one layer, ~20 MB)
# ---------------------------------------------------------------------------------------------

build_redis_standin() {
	local root="$STATE_DIR/build/redis-rootfs" ver hash desc pong
	if [ ! -x /usr/bin/redis-server ] || [ ! -x /usr/bin/redis-cli ]; then
		may_provision || die 1 "building $REDIS_STANDIN needs Debian's /usr/bin/redis-server and redis-cli (apt-get install redis-server)"
		apt_install redis-server
		quiet_redis_service
	fi
	ver="$(dpkg-query -W -f '${Version}' redis-server 2>/dev/null || /usr/bin/redis-server --version)"

	stage_base "$root"
	copy_with_libs "$root" /usr/bin/redis-server
	copy_with_libs "$root" /usr/bin/redis-cli
	# Same interface as the official image's entrypoint; see the file's comments.
	install -m 0755 "$REDIS_ENTRYPOINT" "$root/usr/local/bin/docker-entrypoint.sh"

	desc="local stand-in built from Debian redis-server $ver, not the official redis image"
	hash="$(tree_hash "$root" "$desc")"
	if [ "$(image_label "$REDIS_STANDIN" "$LABEL_INPUTS")" = "$hash" ]; then
		log "$REDIS_STANDIN: up to date (inputs $hash), reusing it"
		rm -rf "$root"
		return 0
	fi

	log "building $REDIS_STANDIN from Debian redis-server $ver"
	import_rootfs "$root" "$REDIS_STANDIN" \
		'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		'WORKDIR /data' \
		'EXPOSE 6379' \
		'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
		'CMD ["redis-server"]' \
		"LABEL $LABEL_INPUTS=\"$hash\" $LABEL_DESC=\"$desc\""
	rm -rf "$root"

	# Verify: start it, PING it from the host through the published port, remove it.
	start_verify_container "$REDIS_STANDIN" 6379 'Ready to accept connections'
	pong="$(run_timeout 10 redis-cli -h 127.0.0.1 -p "$VERIFY_PORT" ping 2>&1 || true)"
	stop_verify_container
	if [ "$pong" != PONG ]; then
		run_timeout 30 docker rmi "$REDIS_STANDIN" >/dev/null 2>&1 || true
		die 1 "$REDIS_STANDIN started but PING answered '$pong'; image removed"
	fi
	log "$REDIS_STANDIN: built and verified (PING -> PONG)"
}

# ---------------------------------------------------------------------------------------------
# Stand-in: MongoDB wire protocol (FerretDB v1.24.2, static Go binary, on Debian's PostgreSQL 15)
# ---------------------------------------------------------------------------------------------
find_go() {
	if command -v go >/dev/null 2>&1; then
		command -v go
	elif [ -x /usr/local/go/bin/go ]; then
		echo /usr/local/go/bin/go
	else
		return 1
	fi
}

# A postgresql-15 package install makes a cluster "15 main" and starts it (under systemd, or
# through its init script). The stand-in makes its own cluster inside the container, so stop the
# one we caused and keep it from starting again.
quiet_postgres_service() {
	log "stopping and disabling the postgresql service that the package started"
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		run_timeout 60 systemctl disable --now postgresql >/dev/null 2>&1 || true
	fi
	if command -v pg_ctlcluster >/dev/null 2>&1; then
		run_timeout 60 pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
	fi
	if [ -f /etc/postgresql/15/main/start.conf ]; then
		echo manual >/etc/postgresql/15/main/start.conf
	fi
}

# stage_postgres ROOT: Debian's PostgreSQL 15 server as the stand-in needs it: initdb, postgres
# and pg_isready with their libraries, the server's modules (not the JIT, which would pull in
# LLVM, nor sepgsql), its share folder and the time zones; and the postgres user, since initdb
# and postgres refuse to run as root.
stage_postgres() {
	local root="$1" bin=/usr/lib/postgresql/15/bin lib=/usr/lib/postgresql/15/lib f
	for f in initdb postgres pg_isready; do
		copy_with_libs "$root" "$bin/$f"
	done
	for f in "$lib"/*.so; do
		case "${f##*/}" in llvmjit.so | sepgsql.so) continue ;; esac
		copy_with_libs "$root" "$f"
	done
	mkdir -p "$root/usr/share"
	cp -a /usr/share/postgresql "$root/usr/share/"
	cp -a /usr/share/zoneinfo "$root/usr/share/"
	printf 'postgres:x:101:104:PostgreSQL administrator:/tmp:/bin/sh\n' >>"$root/etc/passwd"
	printf 'postgres:x:104:\n' >>"$root/etc/group"
}

build_mongo_standin() {
	local root="$STATE_DIR/build/ferretdb-pg-rootfs" gobin gover hash desc t0 pgver
	gobin="$(find_go)" || die 1 "building $MONGO_STANDIN needs Go (/usr/local/go/bin/go)"
	gover="$("$gobin" env GOVERSION)"
	if [ ! -x /usr/lib/postgresql/15/bin/postgres ] || [ ! -x /usr/lib/postgresql/15/bin/pg_isready ]; then
		may_provision || die 1 "building $MONGO_STANDIN needs Debian's PostgreSQL 15 server (apt-get install postgresql-15)"
		apt_install postgresql-15
		quiet_postgres_service
	fi
	pgver="$(dpkg-query -W -f '${Version}' postgresql-15 2>/dev/null || /usr/lib/postgresql/15/bin/postgres --version)"

	stage_base "$root"
	mkdir -p "$root/data/db"
	stage_postgres "$root"
	desc="local stand-in: FerretDB v1.24.2 with the PostgreSQL backend (Debian postgresql-15 $pgver; MongoDB wire protocol), not MongoDB"
	# The Go inputs are hashed before building, so an unchanged image costs no build.
	hash="$(tree_hash "$root" "$desc" "go=$gover" \
		"$(cd "$FERRETDB_SRC" && cat go.mod go.sum main.go | sha256sum)")"
	if [ "$(image_label "$MONGO_STANDIN" "$LABEL_INPUTS")" = "$hash" ]; then
		log "$MONGO_STANDIN: up to date (inputs $hash), reusing it"
		rm -rf "$root"
		return 0
	fi

	log "building $MONGO_STANDIN: go build in docker/ferretdb ($gover; about a minute with a cold cache)"
	t0="$(now)"
	(cd "$FERRETDB_SRC" && CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
		run_timeout 900 "$gobin" build -trimpath -ldflags='-s -w' \
		-o "$root/usr/local/bin/ferretdb-local" .) ||
		die 1 "go build of docker/ferretdb failed"
	log "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "go build of ferretdb-local took %.1f s", b - a }')"

	import_rootfs "$root" "$MONGO_STANDIN" \
		'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		'ENV FERRETDB_HANDLER=postgresql' \
		'WORKDIR /data/db' \
		'EXPOSE 27017' \
		'CMD ["/usr/local/bin/ferretdb-local"]' \
		"LABEL $LABEL_INPUTS=\"$hash\" $LABEL_DESC=\"$desc\""
	rm -rf "$root"

	# Verify: start it and run real driver calls against it (docker/ferretdb/smoke), remove it.
	# The line names the backend: an image that silently fell back to SQLite fails here.
	start_verify_container "$MONGO_STANDIN" 27017 'PostgreSQL 15 backend.*Waiting for connections'
	if ! (cd "$FERRETDB_SRC" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
		run_timeout 600 "$gobin" run ./smoke -uri "mongodb://127.0.0.1:$VERIFY_PORT/"); then
		run_timeout 10 docker logs "$VERIFY_CID" 2>&1 | tail -n 20 >&2 || true
		stop_verify_container
		run_timeout 30 docker rmi "$MONGO_STANDIN" >/dev/null 2>&1 || true
		die 1 "$MONGO_STANDIN failed its smoke test; image removed"
	fi
	stop_verify_container
	log "$MONGO_STANDIN: built and verified (several clients at once, indexes one per command, a unique index, with the Go driver)"
}

# ---------------------------------------------------------------------------------------------
# Step 2: choose the images
# ---------------------------------------------------------------------------------------------
# resolve_image KIND WANTED STANDIN BUILDFN: sets CHOSEN_IMAGE, CHOSEN_DESC, CHOSEN_STANDIN.
resolve_image() {
	local kind="$1" wanted="$2" standin="$3" buildfn="$4"
	CHOSEN_STANDIN=false
	if [ "$wanted" != "$standin" ]; then
		if image_present "$wanted"; then
			CHOSEN_IMAGE="$wanted" CHOSEN_DESC="present locally"
			return 0
		fi
		if try_pull "$wanted"; then
			CHOSEN_IMAGE="$wanted" CHOSEN_DESC="pulled from the registry"
			return 0
		fi
		[ "$ALLOW_STANDIN" != 0 ] ||
			die 1 "$kind image $wanted is neither present nor pullable, and ONESTROKE_TEST_ALLOW_STANDIN=0"
		log "$kind: $wanted is not available here; using the local stand-in $standin"
	fi
	"$buildfn"
	CHOSEN_IMAGE="$standin" CHOSEN_STANDIN=true
	CHOSEN_DESC="$(image_label "$standin" "$LABEL_DESC")"
}

# ---------------------------------------------------------------------------------------------
# Step 3: environment for the test run
# ---------------------------------------------------------------------------------------------
# Where testcontainers should find the engine: the caller's DOCKER_HOST, else the current
# docker context's endpoint when it is not the default socket (rootless, Colima, Desktop).
docker_host_export() {
	local ep
	if [ -n "${DOCKER_HOST:-}" ]; then
		printf '%s\n' "$DOCKER_HOST"
		return 0
	fi
	ep="$(run_timeout 10 docker context inspect -f '{{ .Endpoints.docker.Host }}' 2>/dev/null || true)"
	if [ -n "$ep" ] && [ "$ep" != "unix:///var/run/docker.sock" ]; then
		printf '%s\n' "$ep"
	fi
}

# In a container (/.dockerenv) testcontainers dials the default gateway to reach published
# ports. That is right when the engine is the host's (socket mounted in), wrong when the
# engine runs in this same machine (as here): then the ports are on localhost.
host_override_export() {
	if [ -n "${TESTCONTAINERS_HOST_OVERRIDE:-}" ]; then
		printf '%s\n' "$TESTCONTAINERS_HOST_OVERRIDE"
	elif [ -f /.dockerenv ] && { [ "$DOCKERD_STARTED_HERE" = 1 ] || pgrep -x dockerd >/dev/null 2>&1; }; then
		printf 'localhost\n'
	fi
}

write_env() {
	local tmp="$ENV_FILE.tmp.$$" v
	{
		printf '# written by scripts/testworld.sh at %s; source it or eval it\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		printf "export ONESTROKE_TEST_REDIS_IMAGE='%s'\n" "$REDIS_IMAGE"
		printf "export ONESTROKE_TEST_MONGO_IMAGE='%s'\n" "$MONGO_IMAGE"
		printf "export ONESTROKE_TEST_REDIS_IS_STANDIN='%s'\n" "$REDIS_IS_STANDIN"
		printf "export ONESTROKE_TEST_MONGO_IS_FERRETDB='%s'\n" "$MONGO_IS_STANDIN"
		printf "export TESTCONTAINERS_RYUK_DISABLED='%s'\n" "${TESTCONTAINERS_RYUK_DISABLED:-true}"
		v="$(host_override_export)"
		[ -z "$v" ] || printf "export TESTCONTAINERS_HOST_OVERRIDE='%s'\n" "$v"
		v="$(docker_host_export)"
		[ -z "$v" ] || printf "export DOCKER_HOST='%s'\n" "$v"
	} >"$tmp"
	mv -f "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
log "state folder: $STATE_DIR"
ensure_engine_and_host_redis
step_done "docker engine check"

resolve_image redis "$REDIS_WANTED" "$REDIS_STANDIN" build_redis_standin
REDIS_IMAGE="$CHOSEN_IMAGE" REDIS_DESC="$CHOSEN_DESC" REDIS_IS_STANDIN="$CHOSEN_STANDIN"
step_done "redis image"

resolve_image mongo "$MONGO_WANTED" "$MONGO_STANDIN" build_mongo_standin
MONGO_IMAGE="$CHOSEN_IMAGE" MONGO_DESC="$CHOSEN_DESC" MONGO_IS_STANDIN="$CHOSEN_STANDIN"
step_done "mongo image"

write_env

log "redis image = $REDIS_IMAGE ($REDIS_DESC)"
log "mongo image = $MONGO_IMAGE ($MONGO_DESC)"
if [ -x /usr/bin/redis-server ]; then
	log "host redis-server = $(/usr/bin/redis-server --version | awk '{ print $3 }')"
fi
log "environment written to $ENV_FILE:"
sed -n 's/^export /testworld:   /p' "$ENV_FILE" >&2
log "$(awk -v a="$T_START" -v b="$(now)" 'BEGIN { printf "ready in %.1f s", b - a }')"

if [ "${#EXEC_CMD[@]}" -gt 0 ]; then
	# shellcheck source=/dev/null
	. "$ENV_FILE"
	exec 1>&3 3>&- 9>&-
	exec "${EXEC_CMD[@]}"
fi
grep '^export ' "$ENV_FILE" >&3
