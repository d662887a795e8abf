#!/bin/bash
# The install layout (issue 7): `meson install --destdir` from the build
# directory into a temporary one, then: every file of the layout is there;
# the library exports only the public API; both manual pages render without
# warnings and cover every command; the bash completion loads and completes
# commands, options and application names; and docs/examples/fetch-creds.c
# builds with `pkg-config --cflags --libs ssovault` against the installed
# files and fetches credentials, in embedded mode and through the installed
# ssovaultd.
. "$SOURCE_ROOT/tests/lib.sh"
: "${BUILD_ROOT:?BUILD_ROOT must name the build directory}"

D="$T_TMP/dest"

# --- install -------------------------------------------------------------------

# --no-rebuild: meson test built everything; the build directory is not touched
expect 0 "meson install --destdir into a temporary directory" \
    meson install -C "$BUILD_ROOT" --destdir "$D" --no-rebuild --quiet

# where the build says things go, relative dirs are under the prefix
opt() {
	meson introspect "$BUILD_ROOT" --buildoptions |
	python3 -c 'import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
v = o[sys.argv[1]]
print(v if v.startswith("/") else o["prefix"] + "/" + v)' "$1"
}
PREFIX=$(opt prefix)
BINDIR=$(opt bindir)
SBINDIR=$(opt sbindir)
LIBDIR=$(opt libdir)
INCLUDEDIR=$(opt includedir)
MANDIR=$(opt mandir)
DATADIR=$(opt datadir)
VERSION=$(meson introspect "$BUILD_ROOT" --projectinfo |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
if pkg-config --exists systemd; then
	UNITDIR=$(pkg-config --define-variable=rootprefix="$PREFIX" \
	    --variable=systemdsystemunitdir systemd)
else
	UNITDIR="$PREFIX/lib/systemd/system"
fi
is "$(cd "$D" && find . -type f -o -type l | sort | sed 's/^\.//' | head -1 | cut -c1-${#PREFIX})" \
    "$PREFIX" "everything is installed under the prefix $PREFIX"
echo "# installed:"
(cd "$D" && find . ! -type d | sort | sed 's/^\./#   /')

# --- the layout ------------------------------------------------------------------

layout_file() {	# layout_file TEST PATH DESCRIPTION
	[ "$1" "$D$2" ]
	ok $? "$3: $2"
}
layout_file -x "$BINDIR/ssovault" "the command in bindir"
layout_file -x "$SBINDIR/ssovaultd" "the daemon in sbindir"
layout_file -f "$MANDIR/man1/ssovault.1" "ssovault(1)"
layout_file -f "$MANDIR/man8/ssovaultd.8" "ssovaultd(8)"
layout_file -f "$DATADIR/bash-completion/completions/ssovault" "the bash completion"
layout_file -f "$UNITDIR/ssovaultd.service" "the systemd service unit"
layout_file -f "$UNITDIR/ssovaultd.socket" "the systemd socket unit"
layout_file -f "$INCLUDEDIR/ssovault/ssovault.h" "the public header"
layout_file -f "$INCLUDEDIR/ssovault/sverr.h" "the error codes header beside it"
layout_file -f "$LIBDIR/pkgconfig/ssovault.pc" "the pkg-config file"
layout_file -f "$DATADIR/doc/ssovault/daemon.md" "the documents --help points at"
layout_file -f "$DATADIR/doc/ssovault/guide.md" "the user guide"
layout_file -f "$DATADIR/doc/ssovault/examples/fetch-creds.c" "the example service"
like "$("$D$SBINDIR/ssovaultd" --help)" "^in $DATADIR/doc/ssovault" \
    "ssovaultd --help points at the installed documents"
layout_file -L "$LIBDIR/libssovault.so" "the library's link name"
layout_file -L "$LIBDIR/libssovault.so.0" "the library's soname"
layout_file -f "$LIBDIR/libssovault.so.$VERSION" "the shared library"
is "$(readlink "$D$LIBDIR/libssovault.so")" "libssovault.so.0" "libssovault.so points at the soname"
is "$(objdump -p "$D$LIBDIR/libssovault.so.$VERSION" | awk '$1 == "SONAME" { print $2 }')" \
    "libssovault.so.0" "the library's SONAME is libssovault.so.0"
is "$(cd "$D" && find . -name '*.a' -o -name 'test-*' -o -name 'p11drive' \
    -o -name 'libssovault-*' ! -name 'libssovault-pkcs11.so' | head -3)" "" \
    "no static or internal library and no test program is installed"
layout_file -f "$LIBDIR/pkcs11/libssovault-pkcs11.so" "the PKCS#11 module, where p11-kit's modules go"
layout_file -f "$DATADIR/p11-kit/modules/ssovault.module" "its p11-kit module file"
like "$(cat "$D$DATADIR/p11-kit/modules/ssovault.module")" "^module: $LIBDIR/pkcs11/libssovault-pkcs11.so$" \
    "the module file names the installed module"
is "$(nm -D --defined-only "$D$LIBDIR/pkcs11/libssovault-pkcs11.so" | awk '$2 == "T" { print $3 }' | grep -vc '^C_')" \
    "0" "the module exports the PKCS#11 functions only"
is "$(stat -c %a "$D$BINDIR/ssovault") $(stat -c %a "$D$SBINDIR/ssovaultd")" "755 755" \
    "the programs are mode 755"

expect 0 "the installed ssovault runs" "$D$BINDIR/ssovault" --version
is "$OUT" "ssovault $VERSION" "it is version $VERSION"
expect 0 "the installed ssovaultd runs" "$D$SBINDIR/ssovaultd" --version

# the library's dynamic symbols: the public API and nothing of the internals
# (versioned names, "ssovault_open@@SSOVAULT_0": the version node is cut off)
syms=$(nm -D --defined-only "$D$LIBDIR/libssovault.so.$VERSION" |
    awk '$2 ~ /^[TDBR]$/ { sub(/@.*/, "", $3); print $3 }')
is "$(nm -D --defined-only "$D$LIBDIR/libssovault.so.$VERSION" | grep -c '@@SSOVAULT_0$')" \
    "$(wc -l <<<"$syms")" "every exported symbol carries the version node SSOVAULT_0"
like "$syms" "^ssovault_creds_get$" "the library exports ssovault_creds_get"
like "$syms" "^sv_exit_code$" "the library exports sv_exit_code"
is "$(grep -vE '^(ssovault_|sv_)' <<<"$syms" | head -5 | tr '\n' ' ')" "" \
    "it exports only ssovault_* and sv_* (no vault_*, sso_* internals)"
# every function the header declares is exported
declared=$(grep -hoE '\b(ssovault|sv)_[a-z0-9_]+\(' "$D$INCLUDEDIR/ssovault/ssovault.h" \
    "$D$INCLUDEDIR/ssovault/sverr.h" | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$syms" | sort -u) | tr '\n' ' ')
[ "$(wc -w <<<"$declared")" -ge 30 ]
ok $? "the headers declare the API ($(wc -w <<<"$declared") functions, at least 30)"
is "$missing" "" "every function of ssovault.h and sverr.h is in the library"

# --- systemd units ---------------------------------------------------------------

SVC="$D$UNITDIR/ssovaultd.service"
SOCKU="$D$UNITDIR/ssovaultd.socket"
like "$(cat "$SVC")" "^ExecStart=$SBINDIR/ssovaultd " "the service runs the installed daemon from sbindir"
unlike "$(cat "$SVC")" "@[a-z]+@" "no placeholder is left in the service unit"
like "$(cat "$SOCKU")" "^ListenStream=/run/ssovault/ssovault.sock$" "the socket unit listens on the default socket"
like "$(cat "$SOCKU")" "^SocketMode=0666$" "the socket is 0666 (access is decided per request)"
like "$(cat "$SVC")" "^#? *LoadCredentialEncrypted=vault.key:" "the service shows LoadCredentialEncrypted= for the key file"
for h in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    PrivateDevices=yes RestrictAddressFamilies=AF_UNIX MemoryDenyWriteExecute=yes \
    LimitCORE=0 UMask=0077 StateDirectory=ssovault CapabilityBoundingSet=; do
	grep -q "^$h" "$SVC"
	ok $? "the service is hardened: $h"
done
if command -v systemd-analyze >/dev/null; then
	# verify wants the program where ExecStart says: point it into the destdir
	mkdir -p "$T_TMP/units"
	sed "s|^ExecStart=$SBINDIR/|ExecStart=$D$SBINDIR/|" "$SVC" >"$T_TMP/units/ssovaultd.service"
	cp "$SOCKU" "$T_TMP/units/"
	expect 0 "systemd-analyze verify accepts both units" \
	    systemd-analyze verify --man=no "$T_TMP/units/ssovaultd.socket" "$T_TMP/units/ssovaultd.service"
	is "$OUT$ERR" "" "and has nothing to say about them"
	exposure=$(systemd-analyze security --offline=yes "$T_TMP/units/ssovaultd.service" 2>/dev/null |
	    sed -n 's/.*Overall exposure level for ssovaultd.service: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze security: exposure level ${exposure:-unknown}"
	[ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e < 4.0) }'
	ok $? "systemd-analyze security rates the service exposure below 4 (got ${exposure:-none})"
else
	ok 0 "# SKIP systemd-analyze is not installed (apt-get install systemd)"
fi

# --- manual pages ----------------------------------------------------------------

man_render() {	# man_render PAGE: text in $MAN, warnings in $MANERR
	MAN=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l "$1" 2>"$T_TMP/man.err")
	MANRC=$?
	MANERR=$(cat "$T_TMP/man.err")
}
if command -v man >/dev/null && command -v groff >/dev/null; then
	man_render "$D$MANDIR/man1/ssovault.1"
	is "$MANRC" 0 "man -l renders ssovault(1)"
	is "$MANERR" "" "ssovault(1) renders without warnings"
	like "$MAN" "SSOVAULT\(1\)" "ssovault(1) has its title"
	like "$MAN" "ssovault $VERSION" "ssovault(1) names version $VERSION"
	for s in NAME SYNOPSIS DESCRIPTION "GLOBAL OPTIONS" COMMANDS ENVIRONMENT FILES \
	    "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		like "$MAN" "^$s" "ssovault(1) has the section $s"
	done
	like "$MAN" "Enrolling an affiliate application" "ssovault(1): example of enrolling an app"
	like "$MAN" "A service fetching credentials" "ssovault(1): example of a service fetching credentials"
	like "$MAN" "A send with single sign-on" "ssovault(1): example of a send with SSO"
	# every command of DESIGN section 7, each with its own entry
	missing=""
	for cmd in init status unlock lock backup restore \
	    "secret backup" "secret restore" "secret rotate" \
	    "role list" "role add" "role remove" \
	    "app create" "app list" "app show" "app update" "app enable" "app disable" \
	    "app delete" "app import" \
	    "mapping create" "mapping list" "mapping enable" "mapping disable" "mapping delete" \
	    "creds set" "creds get" "ticket issue" "ticket redeem" "ticket settings" \
	    "cert import" "cert list" "cert show" "cert export" "cert delete" "cert grant" \
	    "cert revoke" "port create" "port update" "port show" "port list" "port delete" \
	    send "suspended list" "suspended show" "suspended resume" "suspended terminate" \
	    "audit list" "audit verify" "audit prune" "audit level"; do
		grep -qE "^ {7}ssovault $cmd( |$)" <<<"$MAN" || missing="$missing '$cmd'"
	done
	is "$missing" "" "ssovault(1) has an entry for every command"
	# the entries are the --help text: one leaf's options, word for word
	like "$MAN" "--field LABEL\[:masked\]  a credential field, in order \(repeat\)" \
	    "ssovault(1) carries the options of 'app create --help'"
	like "$MAN" "--kdf-limits L +interactive or moderate" \
	    "ssovault(1) carries the options of 'init --help'"
	unlike "$MAN" "__man" "the hidden generator is not in the page"

	man_render "$D$MANDIR/man8/ssovaultd.8"
	is "$MANRC" 0 "man -l renders ssovaultd(8)"
	is "$MANERR" "" "ssovaultd(8) renders without warnings"
	like "$MAN" "SSOVAULTD\(8\)" "ssovaultd(8) has its title"
	for s in OPTIONS "SOCKET ACTIVATION AND SYSTEMD" SIGNALS SECURITY FILES; do
		like "$MAN" "^$s" "ssovaultd(8) has the section $s"
	done
	# every option of `ssovaultd --help` is in the page
	missing="" nopt=0
	for o in $("$D$SBINDIR/ssovaultd" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		nopt=$((nopt + 1))
		grep -qF -- "$o" <<<"$MAN" || missing="$missing $o"
	done
	[ "$nopt" -ge 10 ]
	ok $? "ssovaultd --help lists its options ($nopt, at least 10)"
	is "$missing" "" "ssovaultd(8) documents every option of ssovaultd --help"
else
	ok 0 "# SKIP man or groff is not installed (apt-get install man-db groff-base)"
fi

# --- bash completion -------------------------------------------------------------

# A throwaway embedded vault made with the installed command, with an app,
# a mapping of the current user and its credentials.
SSOVAULT="$D$BINDIR/ssovault"
new_vault
me="uid:$(id -u)"
expect 0 "app create payroll" "$SSOVAULT" app create payroll --enable --user "$me" \
    --field username --field password:masked --field domain
expect 0 "mapping create" "$SSOVAULT" mapping create payroll "$me" alice@payroll
PW="pw-$$-$RANDOM"
printf '{"username": "alice@payroll", "password": "%s", "domain": "CORP"}' "$PW" >"$T_TMP/creds.json"
expect 0 "creds set" "$SSOVAULT" creds set payroll --from-file "$T_TMP/creds.json"

# complete WORDS...: run the completion function on "ssovault WORDS..." with
# the cursor at the end of the last word (an empty last word: after a space),
# in a bash that sourced only the installed script; prints COMPREPLY.
complete_words() {
	PATH="$D$BINDIR:$PATH" bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=(ssovault "$@")
		COMP_CWORD=$#
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		_ssovault
		printf "%s\n" "${COMPREPLY[@]}"' \
	    bash "$D$DATADIR/bash-completion/completions/ssovault" "$@" 2>&1
}
is "$(PATH="$D$BINDIR:$PATH" bash --norc --noprofile -c \
    '. "$1" && complete -p ssovault' bash "$D$DATADIR/bash-completion/completions/ssovault")" \
    "complete -F _ssovault ssovault" "the completion script loads and registers _ssovault"
is "$(complete_words ap)" "app" "ssovault ap<TAB> completes to app"
is "$(complete_words app cr)" "create" "ssovault app cr<TAB> completes to create"
is "$(complete_words "" | tr '\n' ' ')" \
    "init status unlock lock backup restore secret role slot store app mapping creds config ticket cert port send suspended audit " \
    "ssovault <TAB> offers every command"
is "$(complete_words mapping "" | tr '\n' ' ')" "create list enable disable delete delete-many " \
    "ssovault mapping <TAB> offers its subcommands"
is "$(complete_words app create x --ena)" "--enable" "options of a leaf: app create --ena<TAB>"
is "$(complete_words app create x --type "" | tr '\n' ' ')" "individual group config " \
    "option values: --type <TAB>"
is "$(complete_words --vau)" "--vault" "global options: --vau<TAB>"
is "$(complete_words creds get pa)" "payroll" "app names from the vault: creds get pa<TAB>"
is "$(complete_words app show "")" "payroll" "app names for app show <TAB>"
expect 0 "port create" "$SSOVAULT" port create orders --url https://erp.example/soap
is "$(complete_words send --port "")" "orders" "port names for send --port <TAB>"
is "$(complete_words send --soap "" | tr '\n' ' ')" "1.1 1.2 " "send --soap <TAB> offers the versions"
is "$(complete_words role add "" | tr '\n' ' ')" "vault-admin affiliate-admin " \
    "role names: role add <TAB>"
expect 0 "an app whose name has a space" "$SSOVAULT" app create 'Application name1'
is "$(complete_words creds get Appl)" 'Application\ name1' \
    "app names with a space complete as one word, quoted"
# a locked vault (no unlock file, no terminal) completes no names
is "$(SSOVAULT_PASSPHRASE_FILE= complete_words creds get pa)" "" \
    "a locked vault completes no app name"

# --- the example service ------------------------------------------------------------

pc() {
	PKG_CONFIG_PATH="$D$LIBDIR/pkgconfig" pkg-config --define-variable=prefix="$D$PREFIX" "$@"
}
expect 0 "pkg-config finds ssovault in the install" pc --exists ssovault
is "$(pc --modversion ssovault)" "$VERSION" "ssovault.pc says version $VERSION"
like "$(pc --cflags ssovault)" "-I$D$INCLUDEDIR/ssovault( |$)" \
    "--cflags names includedir/ssovault"
like "$(pc --libs ssovault)" "-lssovault" "--libs links -lssovault"
requires=$(pc --print-requires-private ssovault | awk '{ print $1 }' | sort | tr '\n' ' ')
for dep in libsodium libcrypto jansson; do
	like " $requires" " $dep " "Requires.private has $dep"
done
# opened at their first use (docs/decisions.md), so not needed to link
for dep in libxml-2.0 libssl libpq icu-uc; do
	unlike " $requires" " $dep " "Requires.private has no $dep (opened when first used)"
done
like "$(pc --static --libs ssovault)" "-llmdb" "--static --libs adds lmdb"
like "$(pc --static --libs ssovault)" "-pthread|-lpthread" "--static --libs adds pthread"

# the build line of the example's comment, with warnings as errors
# shellcheck disable=SC2046
expect 0 "fetch-creds.c builds with \$(pkg-config --cflags --libs ssovault)" \
    cc -std=c11 -Wall -Wextra -Werror "$SOURCE_ROOT/docs/examples/fetch-creds.c" \
    $(pc --cflags --libs ssovault) -o "$T_TMP/fetch-creds"
[ -z "$ERR" ]
ok $? "and without a warning"
like "$(LD_LIBRARY_PATH="$D$LIBDIR" ldd "$T_TMP/fetch-creds")" \
    "libssovault\.so\.0 => $D$LIBDIR/libssovault\.so\.0" "it links the installed libssovault.so.0"

fetch() { LD_LIBRARY_PATH="$D$LIBDIR" "$T_TMP/fetch-creds" "$@"; }
expect 0 "fetch-creds payroll (embedded)" fetch payroll
like "$OUT" "^user: alice@payroll$" "it prints the mapped external user"
like "$OUT" "^domain: CORP$" "it prints an unmasked field"
like "$OUT" "^password: \(${#PW} characters\)$" "it prints only the length of the masked one"
unlike "$OUT$ERR" "$PW" "the password itself is never printed"
expect 1 "fetch-creds for an unknown app fails" fetch nosuch
like "$ERR" "^fetch-creds: creds get nosuch: .*nosuch" "with one line naming the app"
SSOVAULT_PASSPHRASE_FILE= expect 6 "fetch-creds without an unlock file: locked" fetch payroll
like "$ERR" "SSOVAULT_PASSPHRASE_FILE" "and says how to unlock"
printf 'wrong passphrase' >"$T_TMP/wrong"
SSOVAULT_PASSPHRASE_FILE="$T_TMP/wrong" expect 6 "fetch-creds with a wrong passphrase" fetch payroll

# through the installed daemon: the same call, the caller known from the kernel
SOCK="$T_TMP/ssovault.sock"
"$D$SBINDIR/ssovaultd" --vault "$SSOVAULT_DIR" --socket "$SOCK" \
    --passphrase-file "$SSOVAULT_PASSPHRASE_FILE" --log-file "$T_TMP/daemon.log" &
DPID=$!
at_exit "kill -9 $DPID"
for _ in $(seq 1 100); do
	[ -S "$SOCK" ] && SSOVAULT_SOCKET="$SOCK" "$SSOVAULT" status >/dev/null 2>&1 && break
	sleep 0.1
done
SSOVAULT_SOCKET="$SOCK" SSOVAULT_PASSPHRASE_FILE= expect 0 "fetch-creds payroll through ssovaultd" \
    fetch payroll
like "$OUT" "^user: alice@payroll$" "the daemon gives the caller its mapping"
SSOVAULT_SOCKET="$SOCK" expect 5 "another uid is denied by the daemon" \
    as_user 65534 65534 env LD_LIBRARY_PATH="$D$LIBDIR" "$T_TMP/fetch-creds" payroll
like "$ERR" "access denied" "with an error that says so"

# a service reads its settings from a config store app (docs/examples/read-config.c)
# shellcheck disable=SC2046
expect 0 "read-config.c builds" cc -Wall -Wextra -Werror "$SOURCE_ROOT/docs/examples/read-config.c" \
    $(pc --cflags --libs ssovault) -o "$T_TMP/read-config"
SSOVAULT_SOCKET="$SOCK" "$SSOVAULT" app create orders-adapter --type config --field endpoint \
    --field password:masked --enable >/dev/null
echo '{"endpoint": "https://orders.example/", "password": "p"}' |
    SSOVAULT_SOCKET="$SOCK" "$SSOVAULT" config set orders-adapter --from-file - >/dev/null
SSOVAULT_SOCKET="$SOCK" expect 0 "read-config reads a setting through ssovaultd" \
    env LD_LIBRARY_PATH="$D$LIBDIR" "$T_TMP/read-config" orders-adapter endpoint
is "$OUT" "https://orders.example/" "the setting's value"
kill -TERM "$DPID"
wait "$DPID"
ok $? "ssovaultd stops cleanly on SIGTERM"

# socket activation as systemd does it: the listening socket as fd 3, the
# daemon started on the first connection (systemd-socket-activate, part of systemd)
if command -v systemd-socket-activate >/dev/null; then
	ASOCK="$T_TMP/activated.sock"
	systemd-socket-activate -l "$ASOCK" "$D$SBINDIR/ssovaultd" --vault "$SSOVAULT_DIR" \
	    --passphrase-file "$SSOVAULT_PASSPHRASE_FILE" 2>"$T_TMP/activate.log" &
	APID=$!
	at_exit "kill -9 $APID"
	for _ in $(seq 1 50); do [ -S "$ASOCK" ] && break; sleep 0.1; done
	SSOVAULT_SOCKET="$ASOCK" SSOVAULT_PASSPHRASE_FILE= expect 0 \
	    "fetch-creds through a socket-activated ssovaultd" fetch payroll
	like "$OUT" "^user: alice@payroll$" "the activated daemon answers on the socket it was given"
	like "$(cat "$T_TMP/activate.log")" "listening on .*activated.sock \(socket activation\)" \
	    "ssovaultd says it took the socket from systemd (LISTEN_FDS)"
	kill -TERM "$APID"
	wait "$APID"
	ok $? "the activated ssovaultd stops cleanly on SIGTERM"
else
	ok 0 "# SKIP systemd-socket-activate is not installed (apt-get install systemd)"
fi

done_testing
