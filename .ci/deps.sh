# Sourced by ./run-tests, ./quickstart and tests/fuzz/run: install the Debian
# packages that building and testing ssovault need, if any is missing.
# install_deps: what the build and the tests need (./quickstart stops there);
# install_test_deps: clang with its libFuzzer runtime for the fuzz targets,
# and valgrind for tests/valgrind.sh (docs/fuzzing.md).
SSOVAULT_DEPS="meson ninja-build pkg-config gcc libsodium-dev libssl-dev liblmdb-dev
libcurl4-openssl-dev libpq-dev postgresql libxml2-dev libicu-dev libjansson-dev openssl curl apache2 python3 util-linux"
SSOVAULT_TEST_DEPS="clang valgrind man-db groff-base systemd"
# strace holds a system call open in the race attacks (tests/attacks)
SSOVAULT_DEPS="$SSOVAULT_DEPS strace"
# the PKCS#11 module: p11-kit's pkcs11.h to build it; the clients others wrote
# that tests/pkcs11 drives (OpenSC, GnuTLS, OpenSSL's engine for curl, p11-kit)
SSOVAULT_DEPS="$SSOVAULT_DEPS libp11-kit-dev p11-kit opensc gnutls-bin libengine-pkcs11-openssl"
# tmux is the terminal of tests/send/interrupt.sh (Ctrl-C during a retry wait)
SSOVAULT_DEPS="$SSOVAULT_DEPS tmux"

apt_install() {
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq >/dev/null 2>&1 || true
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# install_missing PACKAGE...: install those not installed yet
install_missing() {
	local missing="" p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "installing:$missing"
		# shellcheck disable=SC2086
		apt_install $missing || {
			echo "apt-get install failed for:$missing" >&2
			return 1
		}
	fi
}

install_deps() {
	# shellcheck disable=SC2086
	install_missing $SSOVAULT_DEPS
}

install_test_deps() {
	# shellcheck disable=SC2086
	install_missing $SSOVAULT_TEST_DEPS && install_fuzz_deps
}

# clang links -fsanitize=fuzzer,address,undefined: 0 if it can.
have_libfuzzer() {
	command -v clang >/dev/null 2>&1 || return 1
	printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
	    clang -x c -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1
}

# The libFuzzer runtime: part of clang's own packages on some releases, in
# libclang-rt-N-dev (N: clang's major version) on Debian 12 and later.
install_fuzz_deps() {
	local v
	have_libfuzzer && return 0
	command -v clang >/dev/null 2>&1 || apt_install clang || return 1
	have_libfuzzer && return 0
	v=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
	echo "installing: libclang-rt-$v-dev"
	apt_install "libclang-rt-$v-dev" && have_libfuzzer || {
		echo "cannot link a libFuzzer target with clang (apt-get install libclang-rt-$v-dev)" >&2
		return 1
	}
}
