/*
 * ssovaultd: the privilege-checked credential service on a Unix socket.
 * This file is the process around the engine in daemon.c: options,
 * hardening (no core dumps, not ptrace-able by peers, umask 077), the log
 * (stderr or --log-file, reopened on SIGHUP) and signals (SIGTERM/SIGINT:
 * finish what is in flight and exit 0).  Foreground only, systemd style.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "dlog.h"
#include "ssovault/sverr.h"

/* The log: one line per event; never a secret or a request's payload. */
struct logger {
	pthread_mutex_t mu;
	const char *path;		/* NULL: stderr */
	int fd;
};

static struct logger lg = { PTHREAD_MUTEX_INITIALIZER, NULL, STDERR_FILENO };

static void
log_line(void *ctx, const char *line)
{
	struct logger *l = ctx;
	char buf[640], when[32];
	struct tm tm;
	time_t now;
	int n;

	if (l->path != NULL) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		n = snprintf(buf, sizeof(buf), "%s ssovaultd[%ld]: %s\n", when,
		    (long)getpid(), line);
	} else {
		n = snprintf(buf, sizeof(buf), "ssovaultd: %s\n", line);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf)) {
		n = sizeof(buf) - 1;
		buf[n - 1] = '\n';
	}
	pthread_mutex_lock(&l->mu);
	if (write(l->fd, buf, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
	pthread_mutex_unlock(&l->mu);
}

/*
 * A line of this file's own: escaped like every line of the daemon's
 * (dlog.c), since it may quote a path or a message.  log_line() is the sink
 * behind both and writes what it is given.
 */
static void
log_say(const char *text)
{
	char line[SSO_DLOG_LINE_MAX];

	sso_dlog_escape(text, line, sizeof(line));
	log_line(&lg, line);
}

static int
log_open(struct logger *l)
{
	int fd, old;

	if (l->path == NULL)
		return 0;
	fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&l->mu);
	old = l->fd;
	l->fd = fd;
	pthread_mutex_unlock(&l->mu);
	if (old != STDERR_FILENO)
		close(old);
	return 0;
}

static void
harden(void)
{
	struct rlimit rl = { 0, 0 };
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	/* the master secret lives here: no core dumps, no ptrace by peers */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* sodium_malloc locks key memory but says nothing when it cannot */
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	if (mlock(p, (size_t)page) != 0) {
		char m[200];

		snprintf(m, sizeof(m), "warning: cannot lock memory (%s): keys may be "
		    "swapped to disk; raise LimitMEMLOCK= or grant CAP_IPC_LOCK", strerror(errno));
		log_say(m);
	} else {
		munlock(p, (size_t)page);
	}
	munmap(p, (size_t)page);
}

struct sigctx {
	sigset_t set;
	struct sso_daemon *d;
};

/* All signals arrive here, in a thread of their own: no async-signal limits. */
static void *
signal_main(void *arg)
{
	struct sigctx *s = arg;
	char m[160];
	int sig;

	for (;;) {
		if (sigwait(&s->set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (log_open(&lg) != 0) {
				snprintf(m, sizeof(m), "cannot reopen the log file %s: %s",
				    lg.path, strerror(errno));
				log_say(m);
			} else if (lg.path != NULL) {
				log_say("log file reopened (SIGHUP)");
			}
			continue;
		}
		snprintf(m, sizeof(m), "stopping on %s: finishing requests in flight",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		log_say(m);
		sso_daemon_stop(s->d);
	}
	return NULL;
}

/* A decimal count from min to max into *ret; -1 if s is not one. */
static int
parse_count(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 6)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*ret = (unsigned)v;
	return 0;
}

static const char usage[] =
    "usage: ssovaultd [--vault DIR] [--socket PATH] [--key-file F | --passphrase-file F]\n"
    "                 [--frame-max SIZE] [--threads N] [--log-file F] [limits]\n"
    "\n"
    "The ssovault credential service: holds the unlocked vault and answers\n"
    "requests on a Unix socket, deciding access per request from the caller's\n"
    "kernel-verified uid and groups.\n"
    "\n"
    "Options:\n"
    "  --vault DIR            vault directory (env SSOVAULT_DIR; default $XDG_DATA_HOME/ssovault)\n"
    "  --socket PATH          socket to listen on (default /run/ssovault/ssovault.sock as root,\n"
    "                         else $XDG_RUNTIME_DIR/ssovault.sock); ignored under socket activation\n"
    "  --key-file F           unlock at start with the 32-byte key in F (raw or 64 hex digits)\n"
    "  --passphrase-file F    unlock at start with the passphrase in F\n"
    "                         (without either, start locked: 'ssovault unlock')\n"
    "  --frame-max SIZE       largest request accepted, K/M/G suffixes (default 64M)\n"
    "  --threads N            worker threads (default 2 x CPUs, at least 4; at most 128)\n"
    "  --log-file F           log there instead of stderr; reopened on SIGHUP\n"
    "  --foreground           accepted for habit: ssovaultd never forks\n"
    "  --help, --version\n"
    "\n"
    "Limits (no uid can take what others need; see ssovaultd(8)):\n"
    "  --max-connections N           open connections in all (default 1024)\n"
    "  --max-connections-per-uid N   of them for one uid (default 128)\n"
    "  --reserved-connections N      of them kept for root and vault admins (default 16)\n"
    "  --max-buffered SIZE           bytes of requests in flight in all (default 256M)\n"
    "  --max-buffered-per-uid SIZE   of them for one uid (default a quarter, at least\n"
    "                                --frame-max)\n"
    "  --kdf-memory SIZE             Argon2id memory of unlocks and secret restores at\n"
    "                                once (default 512M; one may always run alone)\n"
    "  --idle-timeout DURATION       close connections idle this long (default 5m)\n"
    "  --request-timeout DURATION    a request must arrive whole within this (default 30s)\n"
    "  Sizes take K/M/G suffixes, durations s/m/h.\n"
    "\n"
    "Signals: SIGTERM/SIGINT finish requests in flight, lock the vault and exit 0;\n"
    "SIGHUP reopens the log file.  See man ssovaultd, and daemon.md and protocol.md\n"
    "in " SSOVAULT_DOCDIR ".\n";

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vault", required_argument, NULL, 'V' },
		{ "socket", required_argument, NULL, 'S' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "frame-max", required_argument, NULL, 'F' },
		{ "threads", required_argument, NULL, 't' },
		{ "log-file", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "max-connections-per-uid", required_argument, NULL, 'U' },
		{ "reserved-connections", required_argument, NULL, 'R' },
		{ "max-buffered", required_argument, NULL, 'B' },
		{ "max-buffered-per-uid", required_argument, NULL, 'b' },
		{ "kdf-memory", required_argument, NULL, 'K' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "request-timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct sso_daemon_opts o;
	struct sso_daemon *d = NULL;
	struct sigctx sc;
	pthread_t st;
	char msg[SV_MSG_MAX] = "";
	int c, r;

	sso_daemon_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'V': o.vault_dir = optarg; break;
		case 'S': o.socket_path = optarg; break;
		case 'k': o.key_file = optarg; break;
		case 'p': o.passphrase_file = optarg; break;
		case 'l': lg.path = optarg; break;
		case 'f': break;
		case 'F':
			if (sso_daemon_parse_size(optarg, &o.frame_max) != 0) {
				fprintf(stderr, "ssovaultd: --frame-max takes a size from 4K to 1G "
				    "(K/M/G suffixes), not '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			if (parse_count(optarg, 1, SSO_DAEMON_THREADS_MAX, &o.threads) != 0) {
				fprintf(stderr, "ssovaultd: --threads takes a number from 1 to %d\n",
				    SSO_DAEMON_THREADS_MAX);
				return 2;
			}
			break;
		case 'C':
		case 'U':
		case 'R':
			if (parse_count(optarg, c == 'R' ? 0 : 1, 65536, c == 'C' ? &o.conn_max :
			    c == 'U' ? &o.conn_per_uid : &o.conn_reserved) != 0) {
				fprintf(stderr, "ssovaultd: --%s takes a number from %d to 65536, "
				    "not '%s'\n", c == 'C' ? "max-connections" : c == 'U' ?
				    "max-connections-per-uid" : "reserved-connections",
				    c == 'R' ? 0 : 1, optarg);
				return 2;
			}
			break;
		case 'B':
		case 'b':
		case 'K':
			if (sso_daemon_parse_budget(optarg, c == 'B' ? &o.buffered_max :
			    c == 'b' ? &o.buffered_per_uid : &o.kdf_memory) != 0) {
				fprintf(stderr, "ssovaultd: --%s takes a size from 1M to 64G "
				    "(K/M/G suffixes), not '%s'\n", c == 'B' ? "max-buffered" :
				    c == 'b' ? "max-buffered-per-uid" : "kdf-memory", optarg);
				return 2;
			}
			break;
		case 'I':
		case 'T':
			if (sso_daemon_parse_duration(optarg, c == 'I' ? &o.idle_timeout_ms :
			    &o.request_timeout_ms) != 0) {
				fprintf(stderr, "ssovaultd: --%s takes a duration from 1s to 24h "
				    "(s/m/h suffixes), not '%s'\n",
				    c == 'I' ? "idle-timeout" : "request-timeout", optarg);
				return 2;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		case 'v': printf("ssovaultd %s\n", SSOVAULT_VERSION); return 0;
		default:
			fprintf(stderr, "Try 'ssovaultd --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ssovaultd: unexpected argument '%s'\nTry 'ssovaultd --help'.\n",
		    argv[optind]);
		return 2;
	}
	if (o.key_file != NULL && o.passphrase_file != NULL) {
		fprintf(stderr, "ssovaultd: give --key-file or --passphrase-file, not both\n");
		return 2;
	}
	if (lg.path != NULL && log_open(&lg) != 0) {
		fprintf(stderr, "ssovaultd: cannot open the log file %s: %s\n", lg.path,
		    strerror(errno));
		return 1;
	}
	harden();
	if (sodium_init() < 0) {
		log_say("cannot initialise libsodium");
		return 1;
	}
	/* every thread inherits the mask; signal_main takes them all */
	sigemptyset(&sc.set);
	sigaddset(&sc.set, SIGTERM);
	sigaddset(&sc.set, SIGINT);
	sigaddset(&sc.set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
	o.log = log_line;
	o.log_ctx = &lg;
	if ((r = sso_daemon_new(&o, &d, msg)) != 0) {
		log_say(msg[0] != '\0' ? msg : sv_strerror(r));
		return sv_exit_code(r);
	}
	sc.d = d;
	if (pthread_create(&st, NULL, signal_main, &sc) != 0) {
		log_say("cannot start the signal thread");
		sso_daemon_free(d);
		return 1;
	}
	pthread_detach(st);
	r = sso_daemon_run(d, msg);
	if (r != 0)
		log_say(msg);
	sso_daemon_free(d);
	return r == 0 ? 0 : sv_exit_code(r);
}
