#!/bin/sh
# Entrypoint of the onestroke-test/redis:7-local stand-in image (see docker/README.md).
#
# It mirrors the official redis image's entrypoint, so that the same container
# commands work with both (testcontainers-go's modules/redis passes options such as
# `--loglevel verbose` as the command):
#   - a command that starts with an option ("-...") or a *.conf file runs redis-server;
#   - protected mode is off, as in the official image (which compiles it off; Debian's
#     binary has it on, and would refuse clients that reach it through a published port).
#     "--protected-mode no" goes right after the config file, if any, so a later
#     "--protected-mode yes" on the command line still wins.
# Unlike the official image it runs redis-server as root (no gosu in the image).
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = redis-server ]; then
	shift
	case "${1:-}" in
	*.conf)
		conf="$1"
		shift
		set -- redis-server "$conf" --protected-mode no "$@"
		;;
	-v | --version | -h | --help | --test-memory | --check-system)
		# redis-server reads these only as its first argument.
		set -- redis-server "$@"
		;;
	*)
		set -- redis-server --protected-mode no "$@"
		;;
	esac
fi

exec "$@"
