#!/usr/bin/env bash
# Start the ssovault test servers on loopback, everything kept in DIR:
# Apache httpd (TLS with a required client certificate and Basic / Digest
# auth, TLS without client certificates, plain HTTP, a forward proxy with
# proxy auth; SOAP answered by soap.lua) and the NTLM verifier
# (ntlm_server.py).  Writes DIR/env (sh syntax) naming URLs, users, password
# files, logs and pids, and returns once every server answers.  Stop with
# tests/server/stop.sh DIR.  See tests/server/README.md.
#
#   tests/server/start.sh DIR [--pki PKIDIR]
#
# Without --pki, a fresh test PKI is made in DIR/pki with tests/pki.sh.
set -u

prog=start.sh
die() {
	echo "$prog: $*" >&2
	exit 1
}
usage() {
	echo "usage: tests/server/start.sh DIR [--pki PKIDIR]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
pki=""
while [ $# -gt 0 ]; do
	case $1 in
	--pki) [ $# -ge 2 ] || usage; pki=$2; shift 2 ;;
	*) usage ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=${SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
apache=${APACHE2:-/usr/sbin/apache2}
[ -x "$apache" ] || die "$apache not found; install the apache2 package (apt-get install apache2)"
command -v python3 >/dev/null || die "python3 not found; install python3"
command -v curl >/dev/null || die "curl not found; install curl"
command -v htpasswd >/dev/null || die "htpasswd not found; install apache2-utils"
command -v openssl >/dev/null || die "openssl not found; install openssl"
[ -f /usr/lib/apache2/modules/mod_lua.so ] || die "mod_lua is missing from the apache2 package"

umask 077
mkdir -p "$dir" || die "cannot create '$dir'"
dir=$(cd "$dir" && pwd) || die "cannot enter '$dir'"
[ -e "$dir/env" ] && die "servers already started in $dir (remove them with: tests/server/stop.sh $dir)"
mkdir -p "$dir/run" || die "cannot create $dir/run"

if [ -z "$pki" ]; then
	sh "$root/tests/pki.sh" "$dir/pki" || die "cannot make the test PKI in $dir/pki"
	pki=$dir/pki
fi
pki=$(cd "$pki" 2>/dev/null && pwd) || die "PKI directory '$pki' not found"
for f in ca.pem server.pem server.key client-rsa.pem client-rsa.key; do
	[ -f "$pki/$f" ] || die "$pki/$f is missing; make the PKI with: sh tests/pki.sh $pki"
done

# Passwords: random, in 0600 files without a newline; never on a command line.
newpass() {
	printf '%s' "$(openssl rand -hex 12)" >"$1" || die "cannot write $1"
	chmod 600 "$1"
}
newpass "$dir/alice.pass"
newpass "$dir/bob.pass"
newpass "$dir/ntlm.pass"
realm=ssovault-test
htpasswd -ci -m "$dir/htpasswd" alice <"$dir/alice.pass" 2>/dev/null || die "htpasswd failed for alice"
htpasswd -i -m "$dir/htpasswd" bob <"$dir/bob.pass" 2>/dev/null || die "htpasswd failed for bob"
ha1=$( { printf 'alice:%s:' "$realm"; cat "$dir/alice.pass"; } | md5sum | cut -d' ' -f1)
printf 'alice:%s:%s\n' "$realm" "$ha1" >"$dir/htdigest"
: >"$dir/access.log"
: >"$dir/ntlm.log"

# N free loopback ports, chosen by the kernel (released again just before
# Apache binds them: a collision is retried below).
free_ports() {
	python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "$1"
}

# curl with the test CA and the RSA client certificate; prints the status.
probe() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$pki/ca.pem" \
	    --cert "$pki/client-rsa.pem" --key "$pki/client-rsa.key" "$@" 2>/dev/null
}

# wait_for WANT CURL-ARGS...: poll for up to 10 s until the status is WANT.
wait_for() {
	local want=$1 got=""
	shift
	for _ in $(seq 100); do
		got=$(probe "$@")
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	echo "$prog: $* answered '$got', not $want" >&2
	return 1
}

started=0
for _ in 1 2 3 4 5; do
	read -r p_tls p_nocert p_http p_proxy <<EOF
$(free_ports 4)
EOF
	[ -n "$p_proxy" ] || die "cannot find free ports on 127.0.0.1"
	sed -e "s#@DIR@#$dir#g" -e "s#@PKI@#$pki#g" -e "s#@SERVERDIR@#$here#g" \
	    -e "s#@PORT_TLS@#$p_tls#g" -e "s#@PORT_NOCERT@#$p_nocert#g" \
	    -e "s#@PORT_HTTP@#$p_http#g" -e "s#@PORT_PROXY@#$p_proxy#g" \
	    "$here/httpd.conf.in" >"$dir/httpd.conf" || die "cannot write $dir/httpd.conf"
	: >"$dir/error.log"
	if "$apache" -f "$dir/httpd.conf" -k start </dev/null >"$dir/httpd.out" 2>&1; then
		started=1
		break
	fi
	grep -qE 'could not bind|Address already in use' "$dir/httpd.out" "$dir/error.log" || break
done
if [ "$started" -ne 1 ]; then
	cat "$dir/httpd.out" "$dir/error.log" >&2
	die "Apache httpd did not start (configuration: $dir/httpd.conf)"
fi
for _ in $(seq 100); do
	[ -s "$dir/httpd.pid" ] && break
	sleep 0.1
done
httpd_pid=$(cat "$dir/httpd.pid" 2>/dev/null) || die "Apache httpd wrote no pid file; see $dir/error.log"

ntlm_user=carol
ntlm_domain=TESTDOM
python3 "$here/ntlm_server.py" --pki "$pki" --user "$ntlm_user" --domain "$ntlm_domain" \
    --password-file "$dir/ntlm.pass" --log "$dir/ntlm.log" --port-file "$dir/ntlm.port" \
    </dev/null >"$dir/ntlm.out" 2>&1 &
ntlm_pid=$!
printf '%s\n' "$ntlm_pid" >"$dir/ntlm.pid"
for _ in $(seq 100); do
	[ -s "$dir/ntlm.port" ] && break
	kill -0 "$ntlm_pid" 2>/dev/null || break
	sleep 0.1
done
p_ntlm=$(cat "$dir/ntlm.port" 2>/dev/null)
if [ -z "$p_ntlm" ]; then
	cat "$dir/ntlm.out" >&2
	sh "$here/stop.sh" "$dir" >/dev/null 2>&1
	die "the NTLM server did not start"
fi

fail() {
	sh "$here/stop.sh" "$dir" >/dev/null 2>&1
	die "$1"
}
wait_for 200 "https://127.0.0.1:$p_tls/anon" || fail "Apache (TLS, client certificate) does not answer; see $dir/error.log"
wait_for 200 "https://127.0.0.1:$p_nocert/anon" || fail "Apache (TLS) does not answer; see $dir/error.log"
wait_for 200 "http://127.0.0.1:$p_http/anon" || fail "Apache (HTTP) does not answer; see $dir/error.log"
wait_for 401 "https://127.0.0.1:$p_ntlm/soap" || fail "the NTLM server does not answer; see $dir/ntlm.out"
# The probes are not part of any test: once each has been logged (Apache
# logs just after it answers), start the logs empty.
for _ in $(seq 50); do
	n=0
	for p in $p_tls $p_nocert $p_http; do
		awk -v p="$p" '$4 == p { f = 1 } END { exit !f }' "$dir/access.log" && n=$((n + 1))
	done
	[ "$n" -eq 3 ] && [ -s "$dir/ntlm.log" ] && break
	sleep 0.1
done
: >"$dir/access.log"
: >"$dir/ntlm.log"

{
	echo "# ssovault test servers; made by tests/server/start.sh, removed by stop.sh"
	echo "SERVER_DIR='$dir'"
	echo "SOAP_HTTPS='https://127.0.0.1:$p_tls'"
	echo "SOAP_HTTPS_NOCERT='https://127.0.0.1:$p_nocert'"
	echo "SOAP_HTTP='http://127.0.0.1:$p_http'"
	echo "PROXY_URL='http://127.0.0.1:$p_proxy'"
	echo "PROXY_USER='bob'"
	echo "PROXY_PASSWORD_FILE='$dir/bob.pass'"
	echo "NTLM_URL='https://127.0.0.1:$p_ntlm/soap'"
	echo "SOAP_USER='alice'"
	echo "SOAP_PASSWORD_FILE='$dir/alice.pass'"
	echo "SOAP_REALM='$realm'"
	echo "NTLM_USER='$ntlm_user'"
	echo "NTLM_DOMAIN='$ntlm_domain'"
	echo "NTLM_PASSWORD_FILE='$dir/ntlm.pass'"
	echo "PKI='$pki'"
	echo "CA='$pki/ca.pem'"
	echo "CLIENT_CERT='$pki/client-rsa.pem'"
	echo "CLIENT_KEY='$pki/client-rsa.key'"
	echo "CLIENT_P12='$pki/client-rsa.p12'"
	echo "P12_PASSWORD_FILE='$pki/p12.pass'"
	[ -f "$pki/client-rsa.sha1" ] && echo "CLIENT_THUMBPRINT='$(cat "$pki/client-rsa.sha1")'"
	echo "ACCESS_LOG='$dir/access.log'"
	echo "NTLM_LOG='$dir/ntlm.log'"
	echo "HTTPD_PID='$httpd_pid'"
	echo "NTLM_PID='$ntlm_pid'"
} >"$dir/env.tmp" || fail "cannot write $dir/env.tmp"
mv "$dir/env.tmp" "$dir/env" || fail "cannot write $dir/env"
exit 0
