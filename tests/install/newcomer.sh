#!/usr/bin/env bash
# The first hour (issue 17): docs/guide.md's commands, in order, as a new
# admin runs them on a fresh machine.  The blocks marked <!-- newcomer -->
# in the guide are extracted and run as they are, as root, on a throwaway
# root: a mount namespace with overlays on /etc, /usr, /var and /root and a
# tmpfs on /run, so the real /usr/bin, /var/lib/ssovault, /etc/ssovault and
# /run/ssovault of the guide are this test's and vanish with it.  Prompts
# (passphrases, credential fields) are answered on a real terminal (tmux).
#   <!-- newcomer: install -->   mirrored: its text is checked, and the
#                                build under test is installed instead of a
#                                second build (the install-layout test checks
#                                the layout of a prefix)
#   <!-- newcomer: systemd -->   CI has no running systemd: the installed
#                                units are checked with systemd-analyze verify
# The host's accounts the guide names (alice, bob, staff, payroll-admins)
# are made in the overlay first, as an admin would have them.
if [ -z "${NEWCOMER_NS:-}" ]; then
	exec unshare --mount --propagation private env NEWCOMER_NS=1 bash "$0" "$@"
fi
. "$SOURCE_ROOT/tests/lib.sh"
: "${BUILD_ROOT:?BUILD_ROOT must name the build directory}"
GUIDE=$SOURCE_ROOT/docs/guide.md
PASS='correct horse battery staple'

# --- a throwaway root ------------------------------------------------------------
bad=""
for d in etc usr var root; do
	mkdir -p "$T_TMP/ov/$d/up" "$T_TMP/ov/$d/work"
	mount -t overlay "newcomer-$d" -o "lowerdir=/$d,upperdir=$T_TMP/ov/$d/up,workdir=$T_TMP/ov/$d/work" "/$d" || bad="$bad /$d"
done
mount -t tmpfs -o mode=755 newcomer-run /run || bad="$bad /run"
if [ -n "$bad" ]; then
	echo "Bail out! could not lay a throwaway root over:$bad"
	exit 1
fi
ok 0 "a throwaway root: overlays on /etc /usr /var /root, a tmpfs on /run"
export HOME=/root
unset SSOVAULT_DIR SSOVAULT_SOCKET SSOVAULT_PASSPHRASE_FILE SSOVAULT_KEY_FILE XDG_RUNTIME_DIR XDG_DATA_HOME

# stop the daemons started in this namespace (by their pids)
stop_daemons() {
	local p me
	me=$(readlink /proc/self/ns/mnt)
	for p in $(pgrep -x ssovaultd); do
		[ "$(readlink "/proc/$p/ns/mnt")" = "$me" ] && kill -TERM "$p"
	done
	return 0
}
at_exit stop_daemons

# --- the guide's blocks -------------------------------------------------------------
mkdir -p "$T_TMP/blocks"
python3 - "$GUIDE" "$T_TMP/blocks" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split("\n")
n = 0
i = 0
while i < len(text):
    m = re.match(r"^<!-- newcomer(?:: (\w+))? -->$", text[i])
    if m:
        j = i + 1
        while text[j].strip() == "":
            j += 1
        assert text[j].startswith("```sh"), "a newcomer mark not before a sh block, line %d" % (i + 1)
        k = j + 1
        body = []
        while not text[k].startswith("```"):
            body.append(text[k])
            k += 1
        n += 1
        with open("%s/%02d-%s.sh" % (sys.argv[2], n, m.group(1) or "run"), "w") as f:
            f.write("\n".join(body) + "\n")
        i = k
    i += 1
PY
ok $? "the blocks marked <!-- newcomer --> are extracted from docs/guide.md"
NBLOCKS=$(ls "$T_TMP/blocks" | wc -l)
[ "$NBLOCKS" -ge 6 ]
ok $? "... $NBLOCKS of them"

# the accounts the guide names
groupadd -f staff && groupadd -f payroll-admins &&
    useradd -M -N -g staff -s /usr/sbin/nologin alice &&
    useradd -M -N -g staff -s /usr/sbin/nologin bob
ok $? "the host's accounts the guide names: alice and bob (staff), payroll-admins"
WORK=$T_TMP/work
mkdir -p "$WORK"
printf '{"username": "bob@payroll", "password": "s3cret-bob"}\n' > "$WORK/bob.json"
chmod 600 "$WORK/bob.json"

# run_block FILE: run it with bash -e on a terminal, answering each prompt
TM="tmux -L newcomer-$$"
at_exit "$TM kill-server"
run_block() {
	local f=$1 answered=0 n i
	rm -f "$f.rc"
	$TM new-session -d -s b -x 200 -y 60 \
	    "cd '$WORK' && PATH='$PATH' bash -e '$f' > '$f.out' 2>&1; echo \$? > '$f.rc'; sleep 600"
	for i in $(seq 1 1200); do
		[ -s "$f.rc" ] && break
		# the pane holds the prompts only (output goes to the file): one
		# line more than answered is a prompt waiting
		n=$($TM capture-pane -p -t b | grep -c .)
		if [ "$n" -gt "$answered" ]; then
			sleep 0.2
			$TM send-keys -t b -l "$PASS"
			$TM send-keys -t b Enter
			answered=$n
		fi
		sleep 0.1
	done
	$TM capture-pane -p -t b > "$f.pane"
	$TM kill-session -t b
	RC=$(cat "$f.rc" 2>/dev/null || echo timeout)
	OUT=$(cat "$f.out")
}

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
for f in "$T_TMP"/blocks/*.sh; do
	name=$(basename "$f" .sh)
	first=$(head -1 "$f")
	case $name in
	*-install)
		is "$(cat "$f")" "meson setup build-install --prefix=/usr --sysconfdir=/etc
ninja -C build-install
meson install -C build-install" "$name: the install block is the one this test mirrors"
		meson install -C "$BUILD_ROOT" --no-rebuild --quiet > "$f.out" 2>&1
		ok $? "$name: installed the build under test into the throwaway root"
		command -v ssovault ssovaultd > /dev/null
		ok $? "... ssovault and ssovaultd are on PATH"
		;;
	*-systemd)
		echo "# $name (not run: no systemd here): $(tr '\n' ';' < "$f")"
		;;
	*)
		run_block "$f"
		is "$RC" "0" "$name: '$first' ... runs as the guide has it"
		if [ "$RC" != 0 ]; then
			sed 's/^/#   /' "$f.out" | tail -6
			sed 's/^/#   pane: /' "$f.pane" | tail -4
		fi
		;;
	esac
done

# --- what the blocks left -----------------------------------------------------------
[ -f /var/lib/ssovault/data.mdb ] || [ -d /var/lib/ssovault ]
ok $? "the vault is in /var/lib/ssovault"
[ -S /run/ssovault/ssovault.sock ]
ok $? "ssovaultd listens on /run/ssovault/ssovault.sock"
expect 0 "root's plain 'ssovault status' reaches the daemon" ssovault status
like "$OUT" "/var/lib/ssovault \(through ssovaultd\)" "... on the system vault"
like "$OUT" "state: +unlocked" "... unlocked"
expect 0 "alice, with XDG_RUNTIME_DIR set as after an ssh login, finds the system daemon" \
    setpriv --reuid=alice --regid=staff --init-groups env XDG_RUNTIME_DIR=/run/user/4242 HOME=/ \
    ssovault creds get payroll --field password
is "$OUT" "$PASS" "... and reads her own password, set in the guide's prompt"
expect 0 "bob's credentials came from bob.json" ssovault creds get payroll --user user:bob --field password
is "$OUT" "s3cret-bob" "... as the file had them"
expect 0 "the audit trail verifies" ssovault audit verify

# --- the systemd units, for hosts with systemd ----------------------------------------
UNITS=$(find "$T_TMP/ov" -path '*/up/*' \( -name ssovaultd.service -o -name ssovaultd.socket \) | sort)
is "$(echo "$UNITS" | grep -c .)" "2" "the units are installed"
if command -v systemd-analyze >/dev/null; then
	for u in $UNITS; do
		real=/${u#"$T_TMP/ov/"}
		real=${real/\/up\//\/}
		run systemd-analyze verify "$real"
		is "$RC" "0" "systemd-analyze verify $(basename "$real")"
		[ "$RC" = 0 ] || echo "$ERR" | head -5 | sed 's/^/#   /'
	done
else
	ok 1 "# SKIP systemd-analyze is not installed"
fi

done_testing
