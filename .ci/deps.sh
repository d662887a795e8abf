# Sourced by ./run-tests and ./quickstart: install the Debian packages that
# building and testing ssovault need, if any is missing.
SSOVAULT_DEPS="meson ninja-build pkg-config gcc libsodium-dev libssl-dev liblmdb-dev
libcurl4-openssl-dev libxml2-dev libjansson-dev openssl curl apache2 python3 util-linux"

install_deps() {
	local missing="" p
	for p in $SSOVAULT_DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq >/dev/null 2>&1 || true
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
		echo "apt-get install failed for:$missing" >&2
		return 1
	}
}
