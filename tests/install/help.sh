#!/bin/bash
# The command line as a Linux tool (issue 7), on the built ssovault:
# - `--help` works on every command and every level, found by walking the
#   tree from `ssovault --help` (no list of commands here to fall behind);
#   every leaf prints its usage and the summary its group lists, takes
#   --help before or after operands, and answers an unknown option with
#   exit 2 and a pointer to its --help;
# - ssovault(1), as built, has one entry per leaf and no other;
# - every command that prints data prints one JSON document with --json,
#   with the members docs/json.md documents;
# - progress lines (rotation, imports, batch sends) appear on a terminal
#   only: never in a pipe, with --quiet or with --json.
. "$SOURCE_ROOT/tests/lib.sh"
S="$SSOVAULT"
MANPAGE="$BUILD_ROOT/docs/man/ssovault.1"

# --- walk the tree --------------------------------------------------------------

# children PATH < HELP: the command names a group's help lists
children() {
	local path=$1 line rest in=0
	while IFS= read -r line; do
		[[ $line == Commands: ]] && { in=1; continue; }
		((in)) || continue
		[[ -z $line ]] && break
		rest=${line#  }
		[[ -n $path ]] && rest=${rest#"$path "}
		printf '%s\n' "${rest%% *}"
	done
}
# summary_of PATH NAME < HELP: the summary the group lists for NAME
summary_of() {
	local prefix="  $1${1:+ }$2 " line
	while IFS= read -r line; do
		if [[ $line == "$prefix"* ]]; then
			line=${line#"$prefix"}
			printf '%s\n' "${line#"${line%%[! ]*}"}"
			return
		fi
	done
}

LEAVES=()
GROUPS_SEEN=()
walk() {	# walk PATH-WORDS...
	local path="$*" help name
	help=$("$S" "$@" --help 2>&1)
	if ! grep -q '^Commands:' <<<"$help"; then
		LEAVES+=("$path")
		return
	fi
	GROUPS_SEEN+=("$path")
	while IFS= read -r name; do
		[[ -n $name ]] || continue
		# a table of one unnamed entry is the group itself (ssovault send)
		walk "$@" "$name"
	done < <(children "$path" <<<"$help")
}
walk
echo "# ${#LEAVES[@]} commands in ${#GROUPS_SEEN[@]} groups"
[ "${#LEAVES[@]}" -ge 50 ]
ok $? "the --help tree has every command (found ${#LEAVES[@]}, at least 50)"

for g in "${GROUPS_SEEN[@]}"; do
	# shellcheck disable=SC2086
	expect 0 "ssovault ${g:+$g }--help" "$S" $g --help
	[ -z "$g" ] && continue
	# shellcheck disable=SC2086
	expect 2 "ssovault $g without a command is a usage error" "$S" $g
	like "$ERR" "^usage: ssovault \[global options\] $g COMMAND" "  and prints the group's usage"
done

bad=""
for leaf in "${LEAVES[@]}"; do
	read -ra w <<<"$leaf"
	parent=$(IFS=' '; echo "${w[*]:0:${#w[@]}-1}")
	want=$("$S" ${parent:+$parent} --help 2>&1 | summary_of "$parent" "${w[-1]}")
	help=$("$S" "${w[@]}" --help 2>&1)
	rc=$?
	first=${help%%$'\n'*}
	summary=$(sed -n 3p <<<"$help")
	problems=""
	[ "$rc" -eq 0 ] || problems+=" exit=$rc"
	[[ $first == "usage: ssovault $leaf"* ]] || problems+=" usage-line"
	[ -n "$summary" ] && [ "$summary" = "$want" ] || problems+=" summary('$summary' vs '$want')"
	# --help after operands and options, as people type it
	"$S" "${w[@]}" x y --help >/dev/null 2>&1 || problems+=" help-after-operands"
	"$S" "${w[@]}" --no-such-option >/dev/null 2>"$T_TMP/err"
	rc=$?
	[ "$rc" -eq 2 ] || problems+=" unknown-option-exit=$rc"
	grep -qF "Try 'ssovault $leaf --help'" "$T_TMP/err" || problems+=" no-help-pointer"
	if [ -n "$problems" ]; then
		bad+=" [$leaf:$problems]"
	fi
done
is "$bad" "" "every one of the ${#LEAVES[@]} commands has its --help, its summary, and exit 2 on an unknown option"

expect 0 "ssovault --version" "$S" --version
like "$OUT" "^ssovault [0-9]+\.[0-9]+\.[0-9]+$" "  prints 'ssovault VERSION'"
expect 2 "an unknown command" "$S" frobnicate
like "$ERR" "^ssovault: 'frobnicate' is not a command" "  says so"
expect 2 "the hidden man generator without a template" "$S" __man
unlike "$("$S" --help)" "__man" "the man generator is in no --help"

# --- the manual page has exactly the commands of --help ---------------------------

if [ -f "$MANPAGE" ]; then
	man_leaves=$(sed -n 's/^\.B "ssovault \(.*\)"$/\1/p' "$MANPAGE" | sed 's/\\-/-/g' | sort)
	is "$man_leaves" "$(printf '%s\n' "${LEAVES[@]}" | sort)" \
	    "ssovault(1) has one entry per command of the --help tree, and no other"
	for leaf in "app create" "send" "creds get"; do
		read -ra w <<<"$leaf"
		opt=$("$S" "${w[@]}" --help | grep -m1 -oE -- '^  --[a-z-]+' | sed 's/^  //')
		grep -qF -- "${opt//-/\\-}" "$MANPAGE"
		ok $? "ssovault(1) carries the options of '$leaf --help' ($opt)"
	done
else
	ok 1 "the built manual page $MANPAGE exists"
fi

# --- --json on every command that prints data ---------------------------------------

new_vault
me="uid:$(id -u)"
pki
expect 0 "app create" "$S" app create payroll --enable --user "$me" --allow-local-accounts
expect 0 "mapping create" "$S" mapping create payroll "$me" alice
printf '{"username": "alice", "password": "s3cret-%s"}' "$RANDOM" >"$T_TMP/c.json"
expect 0 "creds set" "$S" creds set payroll --from-file "$T_TMP/c.json"
expect 0 "ticket settings" "$S" ticket settings --allow yes
expect 0 "port create" "$S" port create p1 --url http://127.0.0.1:9/soap --retry-count 0
echo '<m/>' >"$T_TMP/m.xml"
expect 4 "a send to a closed port is suspended" "$S" send --port p1 --body "$T_TMP/m.xml"
ID=$("$S" suspended list --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')

# json_shape DESCRIPTION KIND MEMBERS -- CMD...: stdout is one JSON document;
# KIND object or array (of objects); each MEMBER is present
json_shape() {
	local desc=$1 kind=$2 members=$3
	shift 4
	run "$@" --json
	printf '%s' "$OUT" | python3 -c '
import json, sys
kind, members = sys.argv[1], sys.argv[2].split()
d = json.loads(sys.stdin.read())
if kind == "array":
    assert isinstance(d, list) and d, "not a non-empty array"
    d = d[0]
assert isinstance(d, dict), "not an object"
missing = [m for m in members if m not in d]
assert not missing, "missing " + " ".join(missing)
' "$kind" "$members" 2>"$T_TMP/shape.err"
	ok $? "$desc --json: $kind with $members"
	[ -s "$T_TMP/shape.err" ] && { tail -1 "$T_TMP/shape.err"; echo "$OUT" | head -c 300; echo; } | sed 's/^/#   /'
}
T=$("$S" cert import "$T_TMP/pki/client-rsa.p12" --password-file "$T_TMP/pki/p12.pass" --user "$me")
json_shape "status" object "vault unlocked format epoch" -- "$S" status
json_shape "role list" object "vault-admin affiliate-admin" -- "$S" role list
json_shape "app list" array "name type enabled admins users fields" -- "$S" app list
json_shape "app show" object "name description contact type enabled fields created updated" -- "$S" app show payroll
json_shape "mapping list" array "app principal external_user enabled credentials_set" -- "$S" mapping list
json_shape "creds get" object "app user external_user fields" -- "$S" creds get payroll
json_shape "ticket issue" object "ticket" -- "$S" ticket issue
json_shape "ticket settings" object "allow validate timeout" -- "$S" ticket settings
json_shape "cert import" object "thumbprint" -- "$S" cert import "$T_TMP/pki/client-ec.p12" \
    --password-file "$T_TMP/pki/p12.pass"
json_shape "cert list" array "thumbprint sha256 subject issuer" -- "$S" cert list
json_shape "cert show" object "thumbprint sha256 subject issuer users" -- "$S" cert show "$T"
json_shape "cert export" object "thumbprint pem" -- "$S" cert export "$T"
json_shape "port list" array "name settings" -- "$S" port list
json_shape "port show" object "name settings created updated" -- "$S" port show p1
json_shape "suspended list" array "id sender reason attempts" -- "$S" suspended list
json_shape "suspended show" object "id sender reason attempts" -- "$S" suspended show "$ID"
json_shape "audit list" array "seq time uid op outcome" -- "$S" audit list
json_shape "audit verify" object "ok records" -- "$S" audit verify
json_shape "audit level" object "positive negative" -- "$S" audit level
json_shape "audit prune" object "removed kept" -- "$S" audit prune --keep 100000
cat >"$T_TMP/apps.xml" <<'XML'
<sso>
  <application name="HR">
    <description>HR system</description>
    <appUserAccount>uid:5001</appUserAccount>
    <field ordinal="0" label="User Id" masked="no" />
    <field ordinal="1" label="Password" masked="yes" />
    <flags enableApp="yes" />
  </application>
</sso>
XML
json_shape "app import" object "applications mappings" -- "$S" app import "$T_TMP/apps.xml"
json_shape "send" object "results summary" -- "$S" send --port p1 --body "$T_TMP/m.xml"
json_shape "suspended resume" object "results summary" -- "$S" suspended resume "$ID"

# --- progress on a terminal only ----------------------------------------------------

# A vault of its own, without certificates: rotating one that holds
# certificates fails now and then (SV_ERR_INTEGRITY on a certs record), a
# bug of the vault reported on its own; this part is about the lines shown.
export SSOVAULT_DIR="$T_TMP/vault-progress"
"$S" init --kdf-limits interactive --passphrase-file "$SSOVAULT_PASSPHRASE_FILE" >/dev/null
expect 0 "a second vault with an app and a port" "$S" app create payroll --user "$me"
expect 0 "  and a port" "$S" port create p1 --url http://127.0.0.1:9/soap --retry-count 0

# on_tty CMD...: run it with stdin, stdout and stderr on a pseudo-terminal
# (script(1)); the transcript is in $OUT
on_tty() {
	local cmd="" a
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	OUT=$(script -qec "$cmd" /dev/null 2>&1 </dev/null)
}
if command -v script >/dev/null; then
	on_tty "$S" secret rotate
	like "$OUT" $'\rsecret rotate: [0-9]+/[0-9]+' "secret rotate shows progress on a terminal"
	on_tty "$S" --quiet secret rotate
	unlike "$OUT" "secret rotate: [0-9]+/" "  and none with --quiet"
	on_tty "$S" app import "$T_TMP/apps.xml"
	like "$OUT" $'\r\033\\[Kapp import .*: importing [0-9]+ bytes' "app import shows a status line on a terminal"
	on_tty "$S" send --port p1 --body "$T_TMP/m.xml" "$T_TMP/m.xml"
	like "$OUT" $'\r.*send: [0-9]+/2 done' "a batch send shows progress on a terminal"
	on_tty "$S" send --json --port p1 --body "$T_TMP/m.xml" "$T_TMP/m.xml"
	unlike "$OUT" "send: [0-9]+/2 done" "  and none with --json"
else
	ok 0 "# SKIP script(1) is not installed (apt-get install util-linux)"
fi
run "$S" secret rotate
unlike "$OUT$ERR" $'\r' "secret rotate in a pipe: no progress"
like "$OUT$ERR" "Rotated the master secret" "  but its result line"
run "$S" app import "$T_TMP/apps.xml"
unlike "$ERR" "importing" "app import in a pipe: no status line"
run "$S" send --port p1 --body "$T_TMP/m.xml" "$T_TMP/m.xml"
unlike "$ERR" "done, .* in flight" "a batch send in a pipe: no progress line"

done_testing
