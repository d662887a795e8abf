#!/usr/bin/env python3
"""Includes follow the arrows (docs/architecture.md, "Includes").

For each case, a probe file that includes one header is compiled with the
flags meson gives a source file of a room (from compile_commands.json),
and with the room's folder searched first for quoted includes, as the
compiler does for a file in it.  An include of the room's own headers and
of the public headers of the rooms below must compile; one that goes up,
or skips to another room's internal header, must fail.  Then no source
may reach around the rules with "../".  Prints TAP.
"""
import json, os, re, shlex, subprocess, sys, tempfile

build, src = sys.argv[1], sys.argv[2]
cmds = {}
for e in json.load(open(os.path.join(build, 'compile_commands.json'))):
    f = os.path.normpath(os.path.join(e['directory'], e['file']))
    cmds[os.path.relpath(f, src)] = e

# (a source file of the room, the include, 1 if it must compile)
CASES = [
    ('vault/base/svbuf.c', 'base/svbuf.h', 1),
    ('vault/base/svbuf.c', 'store/store.h', 0),
    ('vault/base/svbuf.c', 'vault/vault.h', 0),
    ('vault/store/lmdb.c', 'base/paths.h', 1),
    ('vault/store/lmdb.c', 'vault/vault.h', 0),
    ('vault/store/lmdb.c', 'keys.h', 0),
    ('vault/vault.c', 'store/store.h', 1),
    ('vault/vault.c', 'keys.h', 1),
    ('vault/vault.c', 'core/sso.h', 0),
    ('vault/vault.c', 'broken.h', 0),
    ('sso/proto/wire.c', 'base/svbuf.h', 1),
    ('sso/proto/wire.c', 'core/sso.h', 0),
    ('sso/proto/wire.c', 'vault/vault.h', 0),
    ('sso/core/dispatch.c', 'proto/proto.h', 1),
    ('sso/core/dispatch.c', 'vault/vault.h', 1),
    ('sso/core/dispatch.c', 'store/store.h', 0),
    ('sso/core/dispatch.c', 'ops/ops.h', 0),
    ('sso/core/dispatch.c', 'apps.h', 0),
    ('sso/ops/app.c', 'core/sso.h', 1),
    ('sso/ops/app.c', 'apps.h', 1),
    ('sso/ops/app.c', 'repeat.h', 0),
    ('sso/ops/app.c', 'service.h', 0),
    ('sso/ops/app.c', 'ssovault/ssovault.h', 0),
    ('sso/client/client.c', 'ops/ops.h', 1),
    ('sso/client/client.c', 'daemon.h', 0),
    ('sso/daemon/server.c', 'ssovault/ssovault.h', 1),
    ('sso/daemon/server.c', 'ops/ops.h', 1),
    ('sso/daemon/server.c', 'apps.h', 0),
    ('send/send.c', 'ssovault/ssovault.h', 1),
    ('send/send.c', 'base/units.h', 1),
    ('send/send.c', 'core/sso.h', 0),
    ('send/send.c', 'vault/cert.h', 0),
    ('send/send.c', 'proto/wire.h', 0),
    ('send/send.c', 'store/store.h', 0),
    ('cli/main.c', 'send/send.h', 1),
    ('cli/main.c', 'ssovault/ssovault.h', 1),
    ('cli/main.c', 'vault/vault.h', 0),
    ('cli/main.c', 'ops/ops.h', 0),
]

n = failed = 0
def result(good, what):
    global n, failed
    n += 1
    failed += not good
    print('%s %d - %s' % ('ok' if good else 'not ok', n, what))

with tempfile.TemporaryDirectory() as tmp:
    probe = os.path.join(tmp, 'probe.c')
    for room_file, header, want in CASES:
        e = cmds.get(room_file)
        if e is None:
            result(False, '%s is built (compile_commands.json)' % room_file)
            continue
        args = e['arguments'] if 'arguments' in e else shlex.split(e['command'])
        out, keep, skip = [], [], 0
        for i, a in enumerate(args):
            if skip:
                skip -= 1
                continue
            if a in ('-o', '-MF', '-MQ', '-MT'):
                skip = 1
                continue
            if a in ('-c', '-MD') or a.endswith('.c') and not a.startswith('-'):
                continue
            keep.append(a)
        with open(probe, 'w') as f:
            f.write('#include "%s"\nint probe_unused(void);\n' % header)
        room_dir = os.path.dirname(os.path.join(src, room_file))
        cmd = keep[:1] + ['-iquote', room_dir] + keep[1:] + ['-fsyntax-only', probe]
        r = subprocess.run(cmd, cwd=e['directory'], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        good = (r.returncode == 0) == bool(want)
        result(good, '%s: #include "%s" %s' % (os.path.dirname(room_file), header,
                                                'compiles' if want else 'is refused'))

# no include reaches around the include paths
bad = []
scanned = 0
for top in ('vault', 'sso', 'send', 'cli'):
    for dp, dn, fn in os.walk(os.path.join(src, top)):
        for f in fn:
            if f.endswith(('.c', '.h')):
                scanned += 1
                p = os.path.join(dp, f)
                for line in open(p, errors='replace'):
                    if re.match(r'\s*#\s*include\s*"[^"]*\.\./', line):
                        bad.append(os.path.relpath(p, src))
result(scanned >= 50, 'the sources to scan are there (%d files, at least 50)' % scanned)
result(not bad, 'no source includes a path with "../" %s' % ' '.join(bad[:5]))
# the installed pair <ssovault/ssovault.h> and <ssovault/sverr.h> sit side by
# side in the tree too, through a link to the one error-space header
link = os.path.join(src, 'sso/client/include/ssovault/sverr.h')
result(os.path.islink(link) and os.path.samefile(
    link, os.path.join(src, 'vault/base/include/ssovault/sverr.h')),
    "sso/client's sverr.h is a link to vault/base's, not a copy")
print('1..%d' % n)
sys.exit(1 if failed else 0)
