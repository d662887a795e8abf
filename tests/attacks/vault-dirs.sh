#!/usr/bin/env bash
# Finding 6 (vault directories): uid 5601 prepares a directory for root's
# vault - its own, under its own, or under a world-writable one - so that it
# can later swap the vault's files, or move the directory away.  Root's init
# and every later open must refuse such a directory and name it; a sticky
# world-writable parent (like /tmp) stays fine.  Then the race of the report:
# in a directory uid 5601 owns, lock.mdb (or data.mdb) replaced by a
# symbolic link to a root-only file between the vault's check and LMDB's
# open; strace holds LMDB's open for two seconds so that the attacker always
# wins it where the directory is accepted.  The root-only files must stay as
# they were (the one for data.mdb is empty: LMDB would make it a database).
. "$SOURCE_ROOT/tests/lib.sh"

S=$SSOVAULT
A=5601		# the attacker
secret_file "$T_TMP/pass" 'correct horse battery staple'
secret_file "$T_TMP/root-only.lock" 'what only root may read or change'
secret_file "$T_TMP/root-only.data" ''

vinit() {	# vinit DIR: root makes a vault in DIR
	"$S" --vault "$1" init --kdf-limits interactive --passphrase-file "$T_TMP/pass"
}

root_only_intact() {	# root_only_intact FILE CONTENT DESCRIPTION
	[ "$(cat "$1")" = "$2" ] && [ "$(stat -c '%a %u %s' "$1")" = "600 0 ${#2}" ]
	ok $? "$3"
}

# --- a directory the attacker made ----------------------------------------------
mkdir -m 755 "$T_TMP/evil" && chown $A:$A "$T_TMP/evil"
expect 1 "init in a directory uid $A owns is refused" vinit "$T_TMP/evil"
like "$ERR" "vault directory $T_TMP/evil belongs to uid $A" "... naming the directory and its owner"
[ ! -e "$T_TMP/evil/data.mdb" ] && [ ! -e "$T_TMP/evil/lock.mdb" ]
ok $? "... and nothing is made in it"
is "$(stat -c '%a %u' "$T_TMP/evil")" "755 $A" "... nor is it changed (no chmod of someone else's directory)"

# --- above the vault: a directory the attacker owns, or anyone may write ------------
mkdir -m 755 "$T_TMP/theirs" && chown $A:$A "$T_TMP/theirs"
expect 1 "init under a directory uid $A owns is refused" vinit "$T_TMP/theirs/v"
like "$ERR" "is under $T_TMP/theirs, which belongs to uid $A" "... naming that directory"
[ ! -e "$T_TMP/theirs/v" ]
ok $? "... and no vault directory is made there"
mkdir -m 777 "$T_TMP/ww"
is "$(stat -c %a "$T_TMP/ww")" 777 "precondition: $T_TMP/ww is world-writable and not sticky"
expect 1 "init under a world-writable, non-sticky directory is refused" vinit "$T_TMP/ww/v"
like "$ERR" "is under $T_TMP/ww, which group or others may write \(mode 0777, not sticky\)" \
    "... naming it and saying why"
[ ! -e "$T_TMP/ww/v" ]
ok $? "... and no vault directory is made there"
mkdir -p "$T_TMP/ww2/a/b" && chmod 777 "$T_TMP/ww2"
expect 1 "init two levels under a world-writable directory is refused" vinit "$T_TMP/ww2/a/b/v"
like "$ERR" "is under $T_TMP/ww2, which group or others may write" "... naming the directory two levels up"

# --- the control: a sticky world-writable parent, as /tmp is ------------------------
mkdir -m 1777 "$T_TMP/sticky"
expect 0 "init under a sticky world-writable directory works" vinit "$T_TMP/sticky/v"
is "$(stat -c '%a %u' "$T_TMP/sticky/v")" "700 0" "... the vault directory is root's, 0700"
expect 0 "... and opens" env SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass" "$S" --vault "$T_TMP/sticky/v" role list

# --- an existing vault whose directory someone else can change: every open refuses ----
chown $A "$T_TMP/sticky/v"
expect 1 "a vault directory handed to uid $A is refused at open" \
    env SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass" "$S" --vault "$T_TMP/sticky/v" role list
like "$ERR" "vault directory $T_TMP/sticky/v belongs to uid $A" "... naming it"
chown 0 "$T_TMP/sticky/v" && chmod 770 "$T_TMP/sticky/v"
expect 1 "a group-writable vault directory is refused at open" \
    env SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass" "$S" --vault "$T_TMP/sticky/v" role list
like "$ERR" "vault directory $T_TMP/sticky/v can be written by group or others \(mode 0770\): run 'chmod go-w $T_TMP/sticky/v'" \
    "... saying how to fix it"
chmod 700 "$T_TMP/sticky/v"
expect 0 "once fixed it opens again" \
    env SSOVAULT_PASSPHRASE_FILE="$T_TMP/pass" "$S" --vault "$T_TMP/sticky/v" role list
mkdir -m 700 "$T_TMP/ww/v2" && cp -a "$T_TMP/sticky/v/." "$T_TMP/ww/v2/"
[ -f "$T_TMP/ww/v2/data.mdb" ]
ok $? "precondition: a copy of the vault under $T_TMP/ww"
expect 1 "ssovaultd refuses a vault under a world-writable directory (and does not start)" \
    timeout 10 "$SSOVAULTD" --vault "$T_TMP/ww/v2" --socket "$T_TMP/d.sock"
like "$ERR" "is under $T_TMP/ww, which group or others may write" "... naming it"

# --- the lock.mdb race in a directory the attacker owns ------------------------------
# swap_in DIR NAME TARGET STOP: as uid $A, wait for DIR/NAME to be a plain
# file, then rename a symbolic link to TARGET over it; give up when the file
# STOP exists (or after 30 s).
swap_in() {
	as_user $A $A bash -c '
		for i in $(seq 1 3000); do
			if [ -f "$1/$2" ] && [ ! -L "$1/$2" ]; then
				ln -s "$3" "$1/.swap" && mv -T "$1/.swap" "$1/$2" && echo swapped
				exit 0
			fi
			[ -e "$4" ] && break
			sleep 0.01
		done
		echo "never saw $2"' _ "$1" "$2" "$3" "$4"
}
if ! command -v strace >/dev/null 2>&1 ||
    ! strace -f -qq -o /dev/null -e trace=getpid -e inject=getpid:delay_enter=1 true 2>/dev/null; then
	echo "ok $((T_COUNT += 1)) - the lock.mdb race # SKIP strace cannot delay a system call here"
	done_testing
fi
# the control: strace -P really holds an open of the file it names here
: > "$T_TMP/probe"
strace -f -qq -o "$T_TMP/trace.probe" -P "$T_TMP/probe" -e trace=openat,open \
    -e inject=openat,open:delay_enter=100000 cat "$T_TMP/probe"
grep -q 'probe.*(DELAYED)' "$T_TMP/trace.probe"
ok $? "control: strace -P delays the open of the named file"
for name in lock.mdb data.mdb; do
	R=$T_TMP/race-${name%.mdb}
	mkdir -m 755 "$R" && chown $A:$A "$R"
	swap_in "$R" "$name" "$T_TMP/root-only.${name%.mdb}" "$T_TMP/stop.$name" > "$T_TMP/swap.$name" &
	SWAP=$!
	run strace -f -qq -o "$T_TMP/trace.$name" -P "$R/$name" -e trace=openat,open \
	    -e inject=openat,open:delay_enter=2000000 \
	    "$S" --vault "$R" init --kdf-limits interactive --passphrase-file "$T_TMP/pass"
	: > "$T_TMP/stop.$name"
	wait $SWAP
	[ "$RC" -ne 0 ]
	ok $? "$name race: init in uid $A's directory fails (got exit $RC)"
	like "$ERR" "vault directory $R belongs to uid $A" "$name race: ... because the directory is refused"
	if [ "$name" = lock.mdb ]; then want='what only root may read or change'; else want=''; fi
	root_only_intact "$T_TMP/root-only.${name%.mdb}" "$want" "$name race: the root-only file it aimed at is unchanged"
	echo "# attacker: $(cat "$T_TMP/swap.$name")"
done

done_testing
