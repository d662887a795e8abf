#!/usr/bin/env bash
# Libraries opened at their first use (docs/decisions.md, "The CLI loads
# libpq, libxml2 and ICU when a command needs them": libcurl, libpq,
# libxml2, ICU, libssl) against a hostile local user who plants shared
# objects under their names where the victim works: in the shared sticky
# directory that is root's working directory, beside the file root
# imports, and where ssovaultd was started.  A loader that named a path of
# its own, or looked beside the file or in the working directory, would run
# the attacker's constructor as root.  Each library is opened by its
# shared object name only, through the loader's trusted search: the
# planted objects never run, and each command still gets the real library.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"

A=5722		# the attacker
icu=$(pkg-config --modversion icu-uc | cut -d. -f1)
new_vault
cd "$T_TMP" || exit 1
mkdir -m 1777 shared
mark=$T_TMP/shared/ran
printf '#include <fcntl.h>\n#include <string.h>\n#include <unistd.h>\n
__attribute__((constructor)) static void planted(void)
{ int fd = open("%s", O_WRONLY | O_CREAT | O_APPEND, 0666);
  if (fd >= 0) { write(fd, NAME "\\n", strlen(NAME) + 1); close(fd); } }\n' "$mark" > planted.c
names="libcurl.so.4 libpq.so.5 libxml2.so.2 libicuuc.so.$icu libssl.so.3"
for so in $names; do
	cc -shared -fPIC -DNAME="\"$so\"" -o "planted-$so" planted.c || break
	as_user $A $A cp "planted-$so" "shared/$so" || break
done
ok $? "uid $A planted $(echo $names) in shared/ (mode 1777)"
# the precondition: a planted object, when it is opened, leaves its mark
python3 -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' "$T_TMP/shared/libpq.so.5" &&
    grep -qx libpq.so.5 "$mark" && rm -f "$mark"
ok $? "... opened by path, a planted object runs and leaves its mark"

cd shared || exit 1
"$SSOVAULT" app create bench --enable --user "uid:0" --field User --field 'Password:masked' >/dev/null
ok $? "root, working in shared/: app create bench"
expect 0 "app export bench > shared/x.xml (libxml2)" sh -c '"$1" app export bench > x.xml' sh "$SSOVAULT"
grep -q '<sso' x.xml
ok $? "... the real libxml2 wrote it"
expect 0 "app import --update shared/x.xml (libxml2, beside the planted objects)" \
    "$SSOVAULT" app import --update x.xml
expect 0 "app create Café (ICU)" "$SSOVAULT" app create "Café"
expect 6 "a vault at postgresql://127.0.0.1:9/x (libpq; nothing listens)" \
    "$SSOVAULT" --vault "postgresql://127.0.0.1:9/x" status
unlike "$ERR" "could not be loaded" "... the real libpq was loaded: it tried to connect"
printf '<a/>\n' > m.xml
expect 4 "send --retry-count 0 to a closed port (libcurl): suspended" \
    "$SSOVAULT" send --url http://127.0.0.1:9/x --body --retry-count 0 m.xml

# the daemon, started in shared/
daemon_start --passphrase-file "$T_TMP/pass"
ok $? "ssovaultd started in shared/"
expect 0 "through it: app create Noël (ICU in the daemon)" "$SSOVAULT" app create "Noël"
expect 0 "through it: app export (libxml2 in the daemon)" "$SSOVAULT" app export
daemon_stop
cd "$T_TMP" || exit 1

[ ! -e "$mark" ]
ok $? "no planted object ran ($(cat "$mark" 2>/dev/null | tr '\n' ' '))"
done_testing
