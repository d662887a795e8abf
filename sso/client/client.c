/*
 * client.c: a client handle (ssovault.h): where it goes (the daemon's
 * socket, or an embedded service on a vault directory), opening and
 * creating vaults, and the transport of one request and its reply.  The
 * requests themselves, one function each, are requests.c.  Requests and
 * replies live in secure memory: both may carry secrets (passphrases,
 * credential values, private keys).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/paths.h"
#include "client.h"
#include "ops/ops.h"
#include "proto/wire.h"

#define SSOVAULT_SYSTEM_SOCKET "/run/ssovault/ssovault.sock"

char *
ssovault_default_vault_dir(void)
{
	const char *e = getenv("SSOVAULT_DIR");
	const char *home;
	char *base, *p;

	if (e != NULL && *e != '\0')
		return strdup(e);
	if ((e = getenv("XDG_DATA_HOME")) != NULL && *e != '\0')
		return vault_path_join(e, "ssovault");
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		home = "/";
	if ((base = vault_path_join(home, ".local/share")) == NULL)
		return NULL;
	p = vault_path_join(base, "ssovault");
	free(base);
	return p;
}

char *
ssovault_default_socket(void)
{
	const char *e = getenv("SSOVAULT_SOCKET");

	if (e != NULL && *e != '\0')
		return strdup(e);
	if (geteuid() == 0)
		return strdup(SSOVAULT_SYSTEM_SOCKET);
	if ((e = getenv("XDG_RUNTIME_DIR")) != NULL && *e != '\0')
		return vault_path_join(e, "ssovault.sock");
	return strdup(SSOVAULT_SYSTEM_SOCKET);
}

static int
is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static struct ssovault *
handle_alloc(void)
{
	struct ssovault *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->sock = -1;
	h->frame_max = SSO_FRAME_MAX_DEFAULT;
	h->req = svbuf_new_secure(SSO_FRAME_MAX_DEFAULT);
	h->reply = svbuf_new_secure(SSO_FRAME_MAX_DEFAULT);
	if (h->req == NULL || h->reply == NULL || sso_caller_self(&h->caller) != 0) {
		ssovault_free(h);
		return NULL;
	}
	return h;
}

static int
open_embedded(struct ssovault *h, const char *dir)
{
	struct vault *v = NULL;
	int r;

	snprintf(h->where, sizeof(h->where), "%s", dir);
	if ((r = vault_open(dir, &sso_schema, &v)) != 0) {
		if (r == SV_ERR_NO_VAULT)
			return sv_fail(h->msg, r,
			    "no vault in %s: create one with 'ssovault init'", dir);
		return sv_fail(h->msg, r, "%s", vault_open_errmsg());
	}
	if ((r = sso_service_new(v, &h->svc)) != 0) {
		vault_free(v);
		return r;
	}
	return 0;
}

/* Why the last ssovault_open() or ssovault_init() of this thread failed. */
static __thread char open_msg[SV_MSG_MAX];

const char *
ssovault_open_errmsg(void)
{
	return open_msg;
}

/*
 * The sockets a client looks for when none is configured, in order: the
 * caller's own daemon, then the system's.  Fills up to two malloc'd paths.
 */
static size_t
default_sockets(char *ret[2])
{
	const char *e = getenv("XDG_RUNTIME_DIR");
	size_t n = 0;

	if (e != NULL && *e != '\0' && (ret[n] = vault_path_join(e, "ssovault.sock")) != NULL)
		n++;
	if ((ret[n] = strdup(SSOVAULT_SYSTEM_SOCKET)) != NULL)
		n++;
	return n;
}

static int
env_set(const char *name)
{
	const char *e = getenv(name);

	return e != NULL && *e != '\0';
}

/*
 * No vault where embedded mode looked, and no daemon where AUTO looked:
 * name every place and the next step for each.
 */
static int
no_vault_anywhere(struct ssovault *h, const char *dir, char *const socks[], size_t nsocks)
{
	char tried[SV_MSG_MAX];
	size_t i, n = 0;

	tried[0] = '\0';
	for (i = 0; i < nsocks; i++)
		n += (size_t)snprintf(tried + n, n < sizeof(tried) ? sizeof(tried) - n : 0,
		    "%s%s", i > 0 ? " or " : "", socks[i]);
	return sv_fail(h->msg, SV_ERR_NO_VAULT,
	    "no vault in %s, no ssovaultd at %s: start ssovaultd, "
	    "set SSOVAULT_SOCKET to its socket, or run 'ssovault init'",
	    dir, tried);
}

int
ssovault_open(const struct ssovault_open_opts *o, struct ssovault **ret)
{
	static const struct ssovault_open_opts none;
	struct ssovault *h;
	char *sock = NULL, *dir = NULL, *found[2] = { NULL, NULL };
	size_t nfound = 0, i;
	int r = 0, daemon;

	/* a service linking libssovault need not know it uses libsodium */
	if (sodium_init() < 0) {
		snprintf(open_msg, sizeof(open_msg), "cannot initialise libsodium");
		return SV_ERR_CRYPTO;
	}
	if (o == NULL)
		o = &none;
	if (o->mode == SSOVAULT_MODE_AUTO && o->vault_dir != NULL && o->socket_path != NULL) {
		snprintf(open_msg, sizeof(open_msg),
		    "both a vault (%s) and a socket (%s) were given: name one", o->vault_dir,
		    o->socket_path);
		return SV_ERR_USAGE;
	}
	if ((h = handle_alloc()) == NULL)
		return SV_ERR_NOMEM;
	/*
	 * DESIGN section 1, explicit before implicit (docs/decisions.md): a
	 * vault or socket the caller names, then SSOVAULT_SOCKET, then the
	 * first default socket that exists, then SSOVAULT_DIR or the default
	 * vault directory.  A configured socket nobody answers on is
	 * an error (exit 6), never a silent fallback; a named vault is never
	 * reached through a daemon, whatever socket exists.
	 */
	daemon = o->mode == SSOVAULT_MODE_DAEMON;
	if (o->mode == SSOVAULT_MODE_AUTO) {
		if (o->vault_dir != NULL)
			daemon = 0;
		else if (o->socket_path != NULL || env_set("SSOVAULT_SOCKET"))
			daemon = 1;
		else {
			nfound = default_sockets(found);
			for (i = 0; i < nfound && !daemon; i++)
				if (is_socket(found[i])) {
					daemon = 1;
					sock = strdup(found[i]);
				}
		}
	}
	if (daemon) {
		if (sock == NULL)
			sock = o->socket_path != NULL ? strdup(o->socket_path) :
			    ssovault_default_socket();
		if (sock == NULL) {
			r = SV_ERR_NOMEM;
			goto out;
		}
		h->daemon = 1;
		snprintf(h->where, sizeof(h->where), "%s", sock);
	} else {
		dir = o->vault_dir != NULL ? strdup(o->vault_dir) : ssovault_default_vault_dir();
		if (dir == NULL) {
			r = SV_ERR_NOMEM;
			goto out;
		}
		r = open_embedded(h, dir);
		if (r == SV_ERR_NO_VAULT && nfound > 0)
			r = no_vault_anywhere(h, dir, found, nfound);
	}
out:
	free(sock);
	free(dir);
	for (i = 0; i < nfound; i++)
		free(found[i]);
	if (r != 0) {
		snprintf(open_msg, sizeof(open_msg), "%s", h->msg[0] != '\0' ? h->msg : sv_strerror(r));
		ssovault_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

void
ssovault_free(struct ssovault *h)
{
	if (h == NULL)
		return;
	if (h->sock >= 0)
		close(h->sock);
	sso_service_free(h->svc);
	svbuf_free(h->req);
	svbuf_free(h->reply);
	sodium_memzero(h, sizeof(*h));
	free(h);
}

const char *
ssovault_errmsg(const struct ssovault *h)
{
	return h->msg;
}

int
ssovault_is_daemon(const struct ssovault *h)
{
	return h->daemon;
}

const char *
ssovault_where(const struct ssovault *h)
{
	return h->where;
}

int
ssovault_init(const char *dir, const struct ssovault_init_opts *o, struct ssovault **ret)
{
	struct vault_create_opts vo;
	struct ssovault *h;
	struct vault *v = NULL;
	int r;

	if ((h = handle_alloc()) == NULL)
		return SV_ERR_NOMEM;
	snprintf(h->where, sizeof(h->where), "%s", dir);
	memset(&vo, 0, sizeof(vo));
	vo.passphrase = o->passphrase;
	vo.passphrase_len = o->passphrase_len;
	vo.key = o->key;
	vo.opslimit = o->opslimit;
	vo.memlimit = o->memlimit;
	vo.schema = &sso_schema;
	if ((r = vault_create(dir, &vo, &v)) != 0) {
		if (r == SV_ERR_EXISTS)
			sv_fail(h->msg, r, "%s already holds a vault; it was left untouched", dir);
		else
			sv_fail(h->msg, r, "%s", vault_open_errmsg());
		goto fail;
	}
	if ((r = sso_service_new(v, &h->svc)) != 0) {
		vault_free(v);
		goto fail;
	}
	if ((r = sso_service_bootstrap(h->svc, &h->caller, o->admins, o->nadmins, h->msg)) != 0)
		goto fail;
	if (ret != NULL)
		*ret = h;
	else
		ssovault_free(h);
	return 0;
fail:
	snprintf(open_msg, sizeof(open_msg), "%s", h->msg[0] != '\0' ? h->msg : sv_strerror(r));
	ssovault_free(h);
	return r;
}

/* --- request plumbing -------------------------------------------------- */

int
sso_client_begin(struct ssovault *h, enum sso_op op)
{
	h->msg[0] = '\0';
	return sso_proto_request(h->req, op);
}

static int
call_daemon(struct ssovault *h, int pass_fd)
{
	int r, got = 0, reused = h->sock >= 0;

	if (h->sock < 0 && (r = sso_wire_connect(h->where, &h->sock, h->msg)) != 0)
		return r;
	r = sso_wire_send(h->sock, svbuf_ptr(h->req), svbuf_len(h->req), pass_fd);
	if (r != 0 && errno == EPIPE) {
		/*
		 * The daemon took no byte of the request.  It may have said
		 * why (a connection over its limits): that is the answer.  Or
		 * it closed this connection while it was idle (docs/daemon.md):
		 * once more, on a new one.
		 */
		if ((r = sso_wire_recv_reply(h->sock, h->frame_max, h->reply)) == 0) {
			got = 1;
		} else if (reused) {
			close(h->sock);
			h->sock = -1;
			if ((r = sso_wire_connect(h->where, &h->sock, h->msg)) != 0)
				return r;
			r = sso_wire_send(h->sock, svbuf_ptr(h->req), svbuf_len(h->req), pass_fd);
		}
	}
	if (r != 0 || (!got && (r = sso_wire_recv_reply(h->sock, h->frame_max, h->reply)) != 0)) {
		close(h->sock);
		h->sock = -1;
		return sv_fail(h->msg, r == SV_ERR_TOO_LARGE ? r : SV_ERR_UNREACHABLE,
		    "lost the connection to ssovaultd at %s (%s)", h->where, sv_strerror(r));
	}
	return 0;
}

/* Run the request; on success h->reply holds the payload, unread. */
int
sso_client_call(struct ssovault *h, int pass_fd)
{
	const uint8_t *m;
	size_t mlen;
	uint32_t status;
	int r;

	if (h->daemon)
		r = call_daemon(h, pass_fd);
	else {
		/* the status travels in the reply, as it does from the daemon */
		(void)sso_dispatch(h->svc, &h->caller, svbuf_ptr(h->req),
		    svbuf_len(h->req), pass_fd, h->reply);
		r = 0;
	}
	svbuf_reset(h->req);
	if (r != 0)
		return r;
	if ((r = svbuf_get_u32(h->reply, &status)) != 0 ||
	    (r = svbuf_get_string_direct(h->reply, &m, &mlen)) != 0)
		return sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed reply from the service");
	if ((int32_t)status > 0 || (int32_t)status < SV__ERR_MIN)
		return sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed reply from the service");
	if (status != 0) {
		snprintf(h->msg, sizeof(h->msg), "%.*s", (int)(mlen < SV_MSG_MAX ? mlen : SV_MSG_MAX - 1), (const char *)m);
		return (int32_t)status;
	}
	return 0;
}

int
sso_client_reply_end(struct ssovault *h)
{
	if (svbuf_len(h->reply) != 0)
		return sv_fail(h->msg, SV_ERR_PROTOCOL, "reply from the service has trailing bytes");
	return 0;
}

int
sso_client_reply_string(struct ssovault *h, char **ret)
{
	char *s = NULL;
	int r;

	if ((r = svbuf_get_cstring(h->reply, &s)) != 0 || (r = sso_client_reply_end(h)) != 0) {
		free(s);
		return r == SV_ERR_PROTOCOL ? r :
		    sv_fail(h->msg, SV_ERR_PROTOCOL, "malformed reply from the service");
	}
	if (ret != NULL)
		*ret = s;
	else
		free(s);
	return 0;
}

int
sso_client_simple(struct ssovault *h)
{
	int r;

	if ((r = sso_client_call(h, -1)) != 0)
		return r;
	return sso_client_reply_end(h);
}

int
sso_client_nullstr(struct svbuf *b, const char *s)
{
	return svbuf_put_cstring(b, s == NULL ? "" : s);
}

