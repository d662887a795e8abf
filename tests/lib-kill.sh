# Calibrated kills for crash loops; source after tests/lib.sh.
#
# A crash loop kills something (a CLI command, ssovaultd, the database
# server) in the middle of what it does, then checks that nothing it had
# acknowledged was lost.  That check tests something only in rounds where
# the kill landed after an acknowledgement, and the crash handling only in
# rounds where it landed before one.  A fixed delay ("kill after 0..12 ms")
# stops doing one or the other as soon as the machine is slower or faster
# than the one it was tuned on, and the loop passes all the same.  Here the
# loop first measures how long what it kills takes on this machine, now;
# spreads its kill moments over that span and past it; counts what each
# kill found; and at the end asserts that both outcomes happened, failing
# with a message that names the one that never did.
#
# The library decides when; the loop does the killing (kill -9 of a CLI
# command or of ssovaultd, `pg_ctl stop -m immediate`, ...) and tells the
# library what it found.  A loop reads:
#
#   kill_calibrate rotate 3 "$SSOVAULT" secret rotate     # 3 clean runs
#   kill_plan rotate "$ROUNDS"
#   while kill_next rotate; do
#       ( exec "$SSOVAULT" secret rotate >/dev/null 2>&1 ) & p=$!
#       kill_start rotate            # right after starting it
#       kill_wait rotate             # until this round's moment
#       kill -9 $p 2>/dev/null; wait $p; r=$?
#       if [ $r -eq 0 ]; then kill_outcome rotate 1 0; else kill_outcome rotate 0 1; fi
#       ...                          # the checks after a kill
#   done
#   kill_lost rotate "$missing"      # acknowledged writes found missing
#   kill_check rotate "secret rotate killed"
#
#   kill_calibrate PLAN RUNS CMD...
#       Run CMD (a command or a shell function) to its end RUNS times; PLAN's
#       span is the longest run, in microseconds: from start to
#       acknowledgement, on this machine, now.  A run that exits non-zero is
#       a failed check (with its output) and the status is 1.
#   kill_span PLAN MS
#       Set PLAN's span (milliseconds) measured some other way.
#   kill_plan PLAN ROUNDS
#       Plan ROUNDS kill moments over 0 .. KILL_SPREAD x the span: one at
#       random in each of ROUNDS equal slices, in shuffled order, so that
#       every part of the span is hit, before and after the acknowledgement.
#   kill_next PLAN
#       True while a round is left (while kill_next PLAN; do ...; done);
#       sets KILL_ROUND (1, 2, ...).  When the planned rounds are over and an
#       outcome of some key of PLAN never happened, it plans once more,
#       max(4, ROUNDS/4) rounds: further out when no kill landed after an
#       acknowledgement (the machine got slower than it measured), nearer
#       the start when none landed before one; and says so in a "#" line.
#   kill_start PLAN
#       The command was just started: this round's moment counts from now.
#   kill_wait PLAN
#       Sleep (without a fork) until this round's moment; KILL_MS holds the
#       moment in milliseconds, for messages.
#   kill_outcome KEY ACKED CUT
#       What this round's kill found: ACKED operations had been acknowledged
#       before it (a zero exit, a line the client printed, ...); CUT were in
#       flight and cut off before their acknowledgement.  A round counts as
#       "after" when ACKED > 0 and as "before" when CUT > 0 (it may be
#       both).  KEY is PLAN, or PLAN:PART when one kill hits several
#       commands that are checked apart (cli:creds, cli:app).
#   kill_lost KEY N
#       N acknowledged writes were found missing after the kills (the loop's
#       own check fails on N > 0; this is for the figures).
#   kill_messages KEY DELIVERED SUSPENDED FAILED LOST
#       For loops over sends: messages delivered (and at the server),
#       suspended (and in the queue), reported failed, and lost (reported
#       delivered or suspended but not there).
#   kill_check KEY WHAT
#       One TAP check: KEY had rounds with a kill before an acknowledgement
#       and rounds with one after it.  If not, "not ok" saying which outcome
#       never happened, over how many rounds and which moments.  Appends
#       KEY's figures to $KILL_STATS when that is set.
#
# Environment:
#   KILL_WINDOW_MS  force every span to this many milliseconds and plan no
#                   extra rounds: the tests' own test.  0 kills every command
#                   as soon as it starts, so no kill lands after an
#                   acknowledgement and every kill_check must fail.
#   KILL_SPREAD     the moments cover this many spans (default 2: about half
#                   the kills before the acknowledgement, half after)
#   KILL_STATS      file to which kill_check appends one line per key,
#                   "key=value" words (tests/soak reads them)

declare -gA _KSPAN=() _KPLAN=() _KROUNDS=() _KEXTRA=() _KT0=() _KMOM=() _KMAXMOM=()
declare -gA _KN=() _KBEFORE=() _KAFTER=() _KACKED=() _KCUT=() _KLOST=() _KKEYS=()
declare -gA _KDELIV=() _KSUSP=() _KFAIL=() _KMLOST=()
KILL_ROUND=0
KILL_MS=0

# the time in microseconds, in _KUS (no fork)
_kill_now() { _KUS=${EPOCHREALTIME//[!0-9]/}; }

# _kill_rand: a random number 0 .. 2^30-1 in _KR
_kill_rand() { _KR=$(((RANDOM << 15) | RANDOM)); }

# _kill_fmt US: seconds with six decimals, in _KF
_kill_fmt() { printf -v _KF '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }

kill_calibrate() {
	local plan=$1 runs=$2 i rc t0 d max=0 all=""
	shift 2
	for ((i = 1; i <= runs; i++)); do
		_kill_now; t0=$_KUS
		"$@" >"$T_TMP/.kill-cal" 2>&1
		rc=$?
		_kill_now; d=$((_KUS - t0))
		if [ "$rc" -ne 0 ]; then
			ok 1 "$plan: calibration run $i of '$*' exits 0 (it exited $rc)"
			sed 's/^/#   /' "$T_TMP/.kill-cal" | tail -5
			return 1
		fi
		((d > max)) && max=$d
		all="$all $((d / 1000))"
	done
	_KSPAN[$plan]=$max
	echo "# $plan: span $((max / 1000)) ms, the longest of $runs clean runs (ms:$all)"
}

kill_span() { _KSPAN[$1]=$(($2 * 1000)); }

# _kill_moments PLAN N FROM TO: N moments (us), one in each slice of FROM..TO, shuffled
_kill_moments() {
	local plan=$1 n=$2 from=$3 to=$4 i j t
	local -a m=()
	for ((i = 0; i < n; i++)); do
		_kill_rand
		m[i]=$((from + (to - from) * i / n + (to - from) / n * _KR / 1073741824))
	done
	for ((i = n - 1; i > 0; i--)); do
		_kill_rand
		j=$((_KR % (i + 1)))
		t=${m[i]} m[i]=${m[j]} m[j]=$t
	done
	_KPLAN[$plan]="${m[*]}"
}

_kill_spread() {	# the planned range of PLAN, in us
	local s=${_KSPAN[$1]:-0}
	[ -n "${KILL_WINDOW_MS:-}" ] && s=$((KILL_WINDOW_MS * 1000))
	echo $((s * ${KILL_SPREAD:-2}))
}

kill_plan() {
	local plan=$1 rounds=$2 to
	[ -n "${_KSPAN[$plan]:-}" ] || [ -n "${KILL_WINDOW_MS:-}" ] ||
	    { echo "# kill_plan $plan: no span (kill_calibrate or kill_span first)"; return 1; }
	to=$(_kill_spread "$plan")
	_KROUNDS[$plan]=$rounds
	_KEXTRA[$plan]=0
	_KMAXMOM[$plan]=$to
	_kill_moments "$plan" "$rounds" 0 "$to"
	KILL_ROUND=0
}

kill_next() {
	local plan=$1 k noafter=0 nobefore=0 n to
	if [ -z "${_KPLAN[$plan]:-}" ]; then
		[ "${_KEXTRA[$plan]:-1}" = 0 ] && [ -z "${KILL_WINDOW_MS:-}" ] || return 1
		_KEXTRA[$plan]=1
		for k in ${_KKEYS[$plan]:-$plan}; do
			[ "${_KAFTER[$k]:-0}" -eq 0 ] && noafter=1
			[ "${_KBEFORE[$k]:-0}" -eq 0 ] && nobefore=1
		done
		case $noafter$nobefore in
		10)
			# every kill came too early: the command is slower than measured
			to=$((_KMAXMOM[$plan] * 2))
			n=$((_KROUNDS[$plan] / 4)); ((n < 4)) && n=4
			echo "# $plan: no kill landed after an acknowledgement in ${_KROUNDS[$plan]} rounds over 0-$((_KMAXMOM[$plan] / 1000)) ms; $n more over $((_KMAXMOM[$plan] / 2000))-$((to / 1000)) ms"
			_kill_moments "$plan" "$n" $((_KMAXMOM[$plan] / 2)) "$to"
			_KMAXMOM[$plan]=$to
			;;
		01)
			# every kill came too late: the command is faster than measured
			n=$((_KROUNDS[$plan] / 4)); ((n < 4)) && n=4
			echo "# $plan: no kill landed before an acknowledgement in ${_KROUNDS[$plan]} rounds; $n more over 0-$((_KMAXMOM[$plan] / 4000)) ms"
			_kill_moments "$plan" "$n" 0 $((_KMAXMOM[$plan] / 4))
			;;
		*) return 1 ;;
		esac
	fi
	set -- ${_KPLAN[$plan]}
	_KMOM[$plan]=$1
	shift
	_KPLAN[$plan]="$*"
	KILL_ROUND=$((KILL_ROUND + 1))
	return 0
}

kill_start() { _kill_now; _KT0[$1]=$_KUS; }

kill_wait() {
	local plan=$1 left
	_kill_now
	left=$((_KT0[$plan] + _KMOM[$plan] - _KUS))
	KILL_MS=$((_KMOM[$plan] / 1000))
	((left > 0)) || return 0
	[ -p "$T_TMP/.kill-sleep" ] || mkfifo "$T_TMP/.kill-sleep"
	_kill_fmt "$left"
	# read from a FIFO that nobody writes: a sleep without a fork
	read -rt "$_KF" <>"$T_TMP/.kill-sleep"
	return 0
}

# _kill_key KEY: register KEY under its plan (the part before ':')
_kill_key() {
	local plan=${1%%:*}
	case " ${_KKEYS[$plan]:-} " in
	*" $1 "*) ;;
	*) _KKEYS[$plan]="${_KKEYS[$plan]:-} $1" ;;
	esac
}

kill_outcome() {
	local k=$1 acked=$2 cut=$3
	_kill_key "$k"
	_KN[$k]=$((${_KN[$k]:-0} + 1))
	((acked > 0)) && _KAFTER[$k]=$((${_KAFTER[$k]:-0} + 1))
	((cut > 0)) && _KBEFORE[$k]=$((${_KBEFORE[$k]:-0} + 1))
	_KACKED[$k]=$((${_KACKED[$k]:-0} + acked))
	_KCUT[$k]=$((${_KCUT[$k]:-0} + cut))
	return 0
}

kill_lost() { _KLOST[$1]=$((${_KLOST[$1]:-0} + $2)); }

kill_messages() {
	_KDELIV[$1]=$((${_KDELIV[$1]:-0} + $2))
	_KSUSP[$1]=$((${_KSUSP[$1]:-0} + $3))
	_KFAIL[$1]=$((${_KFAIL[$1]:-0} + $4))
	_KMLOST[$1]=$((${_KMLOST[$1]:-0} + $5))
}

kill_check() {
	local k=$1 what=$2 plan=${1%%:*} n b a span range never="" st=0
	n=${_KN[$k]:-0} b=${_KBEFORE[$k]:-0} a=${_KAFTER[$k]:-0}
	span=$((${_KSPAN[$plan]:-0} / 1000))
	[ -n "${KILL_WINDOW_MS:-}" ] && span="$KILL_WINDOW_MS (KILL_WINDOW_MS)"
	range="0-$((${_KMAXMOM[$plan]:-0} / 1000)) ms, span $span ms"
	((a == 0)) && never="no kill landed after an acknowledgement: every kill came before the command could acknowledge, so 'nothing acknowledged is lost' was checked against nothing"
	((b == 0)) && never="${never:+$never; and }no kill landed before an acknowledgement: every command had finished, so no crash was tested"
	[ -n "$never" ] && st=1
	if ((st == 0)); then
		ok 0 "$what: $n rounds ($range): $b kills before an acknowledgement, $a after one (${_KACKED[$k]:-0} acknowledged, ${_KCUT[$k]:-0} cut off)"
	else
		ok 1 "$what: $never ($n rounds, $range)"
	fi
	if [ -n "${KILL_STATS:-}" ]; then
		echo "loop=$k rounds=$n before=$b after=$a acked=${_KACKED[$k]:-0} cut=${_KCUT[$k]:-0}" \
		    "lost=${_KLOST[$k]:-0} delivered=${_KDELIV[$k]:-0} suspended=${_KSUSP[$k]:-0}" \
		    "failed=${_KFAIL[$k]:-0} msglost=${_KMLOST[$k]:-0} span_ms=${span%% *} ok=$((1 - st))" \
		    >>"$KILL_STATS"
	fi
	return $st
}

# --- streams of writers (tests/daemon/crash.sh, tests/hosts/crash.sh) -------------
# A loop that defines `stream RUN N` (THREADS writers, up to N writes each,
# each acknowledged one printed to $T_TMP/acked.now as PREFIX:NUMBER whose
# ten-thousands digit is the writer, in the background as $CPID) uses these.

# kill_cut_off N: writers that stopped before N writes, cut off by the kill
kill_cut_off() {
	awk -F: -v n="$1" -v t="$THREADS" '
	    { c[int(($2 % 100000) / 10000)]++ }
	    END { k = 0; for (i = 0; i < t; i++) if (c[i] < n) k++; print k }' "$T_TMP/acked.now"
}

# kill_stream_clean: the calibration, a stream of 4 writes per writer to the
# end (run N of the calibration: $ncal, which the caller sets to 0 first)
kill_stream_clean() {
	local n
	ncal=$((ncal + 1))
	stream "$ncal" 4
	wait "$CPID"
	n=$(wc -l < "$T_TMP/acked.now")
	cat "$T_TMP/acked.now" >> "$T_TMP/acked"
	[ "$n" -eq $((THREADS * 4)) ]
}
