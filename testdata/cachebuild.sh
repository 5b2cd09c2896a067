# cachebuild.sh is sourced by testdata/*/build.sh: the scaffolding they share for building
# test binaries from the Go module proxy once per machine into a cache keyed by versions.
#
#   cachebuild_modversion GOMOD MODULE
#       prints the version GOMOD requires for MODULE (one-line `require m v` and block form)
#   cachebuild_begin CACHE_ROOT DIR "VERSIONS" BINARY... -- "$@"
#       handles the script's arguments (--print-dir, --versions); prints DIR and exits when
#       every BINARY is already in DIR; otherwise takes the per-cache flock (one build at a time
#       per machine), sets $tmp to a scratch dir beside the cache (removed on exit) and returns.
#       Callers build into "$tmp" and `mv` into "$DIR" so an interrupted build leaves no half binary.

cachebuild_modversion() {
	awk -v m="$2" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' "$1"
}

cachebuild_begin() {
	local cache_root="$1" dir="$2" versions="$3"
	shift 3
	local bins=()
	while [[ $# -gt 0 && "$1" != "--" ]]; do
		bins+=("$1")
		shift
	done
	shift # --
	case "${1:-}" in
	--print-dir)
		echo "$dir"
		exit 0
		;;
	--versions)
		echo "$versions"
		exit 0
		;;
	"") ;;
	*)
		echo "usage: $0 [--print-dir|--versions]" >&2
		exit 2
		;;
	esac
	_cachebuild_have_all() {
		local b
		for b in "${bins[@]}"; do
			[[ -x "$dir/$b" ]] || return 1
		done
	}
	if _cachebuild_have_all; then
		echo "$dir"
		exit 0
	fi
	mkdir -p "$dir"
	# One build at a time per machine (go test runs packages in parallel, and each may call us).
	exec 9>"$cache_root/.build.lock"
	flock 9
	if _cachebuild_have_all; then
		echo "$dir"
		exit 0
	fi
	tmp="$(mktemp -d "$cache_root/.tmp-build.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 130' INT TERM # so that the EXIT trap removes the half-built files
	export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
}
