#!/usr/bin/env bash
# Finding 6 (sockets): uid 5602 goes after the socket.
#   - It offers ssovaultd a socket directory it controls: its own, one
#     under its own, or one anyone may write.  The daemon must refuse to
#     start there and name the directory.
#   - The bind race of the report: the socket replaced by a symbolic link
#     to a root-only file between bind() and the chmod() that made it 0666.
#     strace holds bind()'s return for two seconds, so the swap always lands
#     in that window; the old daemon then chmods the root-only file 0666.
#     Once in a directory of root's own (the swap done by the test, as only
#     root could there), once in the attacker's directory (by the attacker).
#   - A fake daemon: uid 5602 listens at a socket path in a shared sticky
#     directory.  Root's `unlock` and a victim's `creds set` must reach it
#     and send it not one byte, and exit 6 naming the uid that serves it.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/daemon/lib-daemon.sh"
. "$SOURCE_ROOT/tests/attacks/lib-attacks.sh"

S=$SSOVAULT
A=5602		# the attacker
VIC=5604	# a victim with credentials to set
new_vault --key-file "$T_TMP/key"

# start_daemon SOCKET [WRAPPER...]: ssovaultd on SOCKET in the background,
# stopped after 20 s if it runs on; its pid in $BG, stderr in $T_TMP/bg.err
start_daemon() {
	local sock=$1
	shift
	timeout 20 "$@" "$SSOVAULTD" --vault "$SSOVAULT_DIR" --socket "$sock" \
	    >/dev/null 2>"$T_TMP/bg.err" &
	BG=$!
}
# end_daemon: wait for it; its exit status in $BGRC (124: it ran on, serving)
end_daemon() {
	wait "$BG"
	BGRC=$?
}

# --- socket directories the daemon must refuse -------------------------------------
mkdir -m 755 "$T_TMP/arun" && chown $A:$A "$T_TMP/arun"
expect 1 "ssovaultd refuses a socket directory uid $A owns" \
    timeout 10 "$SSOVAULTD" --vault "$SSOVAULT_DIR" --socket "$T_TMP/arun/s.sock"
like "$ERR" "socket directory $T_TMP/arun belongs to uid $A" "... naming it and its owner"
[ ! -e "$T_TMP/arun/s.sock" ]
ok $? "... and binds nothing there"
mkdir -m 755 "$T_TMP/theirs" && chown $A:$A "$T_TMP/theirs" && mkdir -m 755 "$T_TMP/theirs/run"
expect 1 "ssovaultd refuses a socket directory under one uid $A owns" \
    timeout 10 "$SSOVAULTD" --vault "$SSOVAULT_DIR" --socket "$T_TMP/theirs/run/s.sock"
like "$ERR" "is under $T_TMP/theirs, which belongs to uid $A" "... naming that one"
for mode in 777 1777; do
	mkdir -m $mode "$T_TMP/run$mode"
	expect 1 "ssovaultd refuses a socket directory of mode $mode" \
	    timeout 10 "$SSOVAULTD" --vault "$SSOVAULT_DIR" --socket "$T_TMP/run$mode/s.sock"
	like "$ERR" "socket directory $T_TMP/run$mode can be written by group or others \(mode 0?$mode\): run 'chmod go-w $T_TMP/run$mode'" \
	    "... mode $mode: says so and how to fix it"
done

# --- the control: root's own directory; the socket is still 0666 ----------------------
mkdir -m 755 "$T_TMP/run"
daemon_start
ok $? "ssovaultd starts on a socket in root's own directory"
is "$(stat -c %a "$SOCK")" 666 "... and the socket is 0666 (access is decided per request)"
expect 0 "a victim reaches root's daemon" as_user $VIC $VIC "$S" status
daemon_stop

# --- the bind race ----------------------------------------------------------------
if ! command -v strace >/dev/null 2>&1 ||
    ! strace -f -qq -o /dev/null -e trace=getpid -e inject=getpid:delay_exit=1 true 2>/dev/null; then
	echo "ok $((T_COUNT += 1)) - the bind race # SKIP strace cannot delay a system call here"
else
	# swap_sock AS DIR TARGET STOP: as uid AS, wait for DIR/s.sock to be a
	# socket, then rename a link to TARGET over it; give up when the file
	# STOP exists (or after 30 s)
	swap_sock() {
		as_user "$1" "$1" bash -c '
			for i in $(seq 1 3000); do
				if [ -S "$1/s.sock" ]; then
					ln -s "$2" "$1/.swap" && mv -T "$1/.swap" "$1/s.sock" && echo swapped
					exit 0
				fi
				[ -e "$3" ] && break
				sleep 0.01
			done
			echo "never saw the socket"' _ "$2" "$3" "$4"
	}
	for who in root attacker; do
		if [ $who = root ]; then R=$T_TMP/rrun; U=0; else R=$T_TMP/arace; U=$A; fi
		mkdir -m 755 "$R" && chown $U:$U "$R"
		secret_file "$T_TMP/root-only.$who" 'root only'
		swap_sock $U "$R" "$T_TMP/root-only.$who" "$T_TMP/stop.$who" > "$T_TMP/swap.$who" &
		SW=$!
		start_daemon "$R/s.sock" strace -f -qq -o "$T_TMP/trace.$who" -e trace=bind \
		    -e inject=bind:delay_exit=2000000
		end_daemon
		: > "$T_TMP/stop.$who"
		wait $SW
		echo "# swap by $who: $(cat "$T_TMP/swap.$who"); daemon exit $BGRC: $(tail -1 "$T_TMP/bg.err")"
		is "$(stat -c '%a %u' "$T_TMP/root-only.$who")" "600 0" \
		    "bind race ($who's swap): the root-only file is not made 0666"
		[ "$BGRC" -ne 0 ] && [ "$BGRC" -ne 124 ]
		ok $? "bind race ($who's swap): ssovaultd stops with an error instead of serving"
		if [ $who = root ]; then
			grep -q '(DELAYED)' "$T_TMP/trace.$who"
			ok $? "bind race (root's swap): precondition: strace held bind()"
			like "$(cat "$T_TMP/swap.$who")" "swapped" "bind race (root's swap): precondition: the socket was swapped"
			like "$(cat "$T_TMP/bg.err")" "$R/s.sock was replaced while it was being bound" \
			    "bind race (root's swap): ... saying the socket was replaced"
		else
			like "$(cat "$T_TMP/bg.err")" "socket directory $R belongs to uid $A" \
			    "bind race (attacker's swap): ... refused before bind(): the directory is uid $A's"
		fi
	done
fi

# --- a fake daemon at the socket path --------------------------------------------------
mkdir -m 1777 "$T_TMP/shared"
FAKE=$T_TMP/shared/ssovault.sock
attack_py "$ATTACKS_DIR/fake-daemon.py" "$FAKE" $A 40 > "$T_TMP/fake.out" 2>"$T_TMP/fake.err" &
FPID=$!
at_exit "kill $FPID"
for i in $(seq 1 100); do [ -S "$FAKE" ] && break; sleep 0.1; done
is "$(stat -c '%u %F' "$FAKE" 2>/dev/null)" "$A socket" "precondition: uid $A listens at $FAKE"
conns() { grep -c '^conn ' "$T_TMP/fake.out"; }
bytes() { awk '/^conn / { n += $2 } END { print n + 0 }' "$T_TMP/fake.out"; }
wait_conns() {	# wait_conns N: until the fake logged N connections (5 s at most)
	for i in $(seq 1 50); do [ "$(conns)" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}

expect 6 "root's unlock through the fake daemon exits 6" \
    env SSOVAULT_SOCKET="$FAKE" "$S" unlock --passphrase-file "$T_TMP/pass"
like "$ERR" "^ssovault: unlock: $FAKE is served by uid $A, not by root or you \(uid 0\): nothing was sent to it" \
    "... naming the socket and the uid that serves it"
wait_conns 1
ok $? "precondition: root's client really connected to the fake daemon"
is "$(bytes)" 0 "... and the fake daemon got not one byte of the unlock"

printf '{"password": "victim secret"}' > "$T_TMP/victim.json" && chmod 644 "$T_TMP/victim.json"
expect 6 "a victim's creds set through the fake daemon exits 6" \
    as_user $VIC $VIC env SSOVAULT_SOCKET="$FAKE" "$S" creds set payroll --from-file "$T_TMP/victim.json"
like "$ERR" "$FAKE is served by uid $A, not by root or you \(uid $VIC\)" "... naming the uid"
wait_conns 2
ok $? "precondition: the victim's client really connected to the fake daemon"
is "$(bytes)" 0 "... and the fake daemon got not one byte of the credentials"

# the control: trusting that uid on purpose lets the client talk to it
expect 6 "with SSOVAULT_DAEMON_UID=$A the client does talk to it (and loses the connection)" \
    env SSOVAULT_SOCKET="$FAKE" SSOVAULT_DAEMON_UID=$A "$S" status
wait_conns 3
[ "$(bytes)" -gt 0 ]
ok $? "... the fake daemon got that status request: the uid check is what stopped the others"
expect 1 "a SSOVAULT_DAEMON_UID that is not a number is refused" \
    env SSOVAULT_SOCKET="$FAKE" SSOVAULT_DAEMON_UID=nobody "$S" status
like "$ERR" "SSOVAULT_DAEMON_UID: expected a uid number, got 'nobody'" "... saying so"

done_testing
