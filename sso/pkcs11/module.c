/*
 * module.c: libssovault-pkcs11.so, the vault's certificates for every
 * PKCS#11 client on the host (docs/pkcs11.md).
 *
 * One slot per daemon: the sockets in $SSOVAULT_PKCS11_SOCKETS (separated
 * by ':'), else the one ssovault itself would use ($SSOVAULT_SOCKET, else
 * the default).  The token is present while its daemon answers.  Each
 * session has its own connection to the daemon, made as the calling
 * process: the daemon knows the caller from the socket, so there is no PIN;
 * C_Login accepts any PIN (or none) and changes nothing but the session
 * state it reports.  Objects are listed again at every C_OpenSession and
 * C_FindObjectsInit, so a grant or a revocation shows at the next search;
 * C_Sign asks the daemon, which checks the grant again every time.
 *
 * The module never prints; what went wrong is in the return value, and in
 * the vault's audit trail for the admin.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "p11.h"

#define SESSIONS_MAX 1024

static pthread_mutex_t global = PTHREAD_MUTEX_INITIALIZER;
static int initialized;
static pid_t init_pid;		/* a child of fork() starts afresh */
struct p11_slot p11_slots[P11_SLOTS_MAX];
static size_t nslots;
static struct p11_session *sessions[SESSIONS_MAX];	/* handle = index + 1 */

extern CK_FUNCTION_LIST p11_functions;
static void forget_all(void);

/* Space-padded fixed-width text of PKCS#11 info structures. */
static void
pad(unsigned char *dst, size_t n, const char *s)
{
	size_t l = strlen(s);

	memset(dst, ' ', n);
	memcpy(dst, s, l < n ? l : n);
}

/* --- slots ---------------------------------------------------------------- */

static void
slots_load(void)
{
	const char *env = getenv("SSOVAULT_PKCS11_SOCKETS");
	char *def = NULL, *list, *p, *next;

	nslots = 0;
	if (env == NULL || *env == '\0') {
		env = getenv("SSOVAULT_SOCKET");
		if (env == NULL || *env == '\0')
			env = def = ssovault_default_socket();
	}
	if (env == NULL || (list = strdup(env)) == NULL) {
		free(def);
		return;
	}
	for (p = list; p != NULL && nslots < P11_SLOTS_MAX; p = next) {
		if ((next = strchr(p, ':')) != NULL)
			*next++ = '\0';
		if (*p == '\0' || strlen(p) >= sizeof(p11_slots[0].socket))
			continue;
		memset(&p11_slots[nslots], 0, sizeof(p11_slots[nslots]));
		snprintf(p11_slots[nslots].socket, sizeof(p11_slots[nslots].socket), "%s", p);
		pthread_mutex_init(&p11_slots[nslots].lock, NULL);
		nslots++;
	}
	free(list);
	free(def);
}

static void
slots_free(void)
{
	size_t i, j;

	for (i = 0; i < nslots; i++) {
		for (j = 0; j < p11_slots[i].ncerts; j++)
			p11_cert_free(p11_slots[i].certs[j]);
		pthread_mutex_destroy(&p11_slots[i].lock);
	}
	nslots = 0;
}

static int
handle_open(CK_SLOT_ID id, struct ssovault **ret)
{
	struct ssovault_open_opts o;

	memset(&o, 0, sizeof(o));
	o.socket_path = p11_slots[id].socket;
	o.mode = SSOVAULT_MODE_DAEMON;
	return ssovault_open(&o, ret);
}

/* 1 if the slot's daemon answers (locked or not). */
static int
token_present(CK_SLOT_ID id)
{
	struct ssovault *h = NULL;
	char *json = NULL;
	int r;

	if (handle_open(id, &h) != 0)
		return 0;
	r = ssovault_status(h, &json);
	free(json);
	ssovault_free(h);
	return r == 0;
}

/*
 * List the certificates the caller may use again (with h, the caller's),
 * keeping the handles of those already known.
 */
static CK_RV
slot_refresh(struct p11_slot *s, struct ssovault *h)
{
	struct ssovault_cert_info *list = NULL;
	struct p11_cert *c;
	size_t n = 0, i, j;
	int r;

	if ((r = ssovault_cert_usable(h, NULL, &list, &n)) != 0)
		return p11_rv(r);
	pthread_mutex_lock(&s->lock);
	for (j = 0; j < s->ncerts; j++)
		s->certs[j]->live = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < s->ncerts && strcmp(s->certs[j]->sha1, list[i].sha1) != 0; j++)
			;
		if (j == s->ncerts) {
			if (s->ncerts == P11_CERTS_MAX || (c = p11_cert_new(&list[i])) == NULL)
				continue;
			s->certs[s->ncerts++] = c;
		}
		s->certs[j]->live = 1;
	}
	pthread_mutex_unlock(&s->lock);
	ssovault_cert_info_free(list, n);
	return CKR_OK;
}

struct p11_cert *
p11_object_of(struct p11_slot *s, CK_OBJECT_HANDLE o, enum p11_kind *ret_kind)
{
	size_t i;

	if (o == CK_INVALID_HANDLE || (o - 1) % 4 > P11_PUBLIC)
		return NULL;
	i = (size_t)((o - 1) / 4);
	if (i >= s->ncerts || !s->certs[i]->live)
		return NULL;
	*ret_kind = (enum p11_kind)((o - 1) % 4);
	return s->certs[i];
}

/* --- sessions ------------------------------------------------------------- */

struct p11_session *
p11_session_get(CK_SESSION_HANDLE hs, CK_RV *rv)
{
	struct p11_session *s = NULL;

	pthread_mutex_lock(&global);
	if (!initialized)
		*rv = CKR_CRYPTOKI_NOT_INITIALIZED;
	else if (hs == 0 || hs > SESSIONS_MAX || (s = sessions[hs - 1]) == NULL)
		*rv = CKR_SESSION_HANDLE_INVALID;
	if (s != NULL)
		pthread_mutex_lock(&s->lock);
	pthread_mutex_unlock(&global);
	return s;
}

void
p11_session_put(struct p11_session *s)
{
	pthread_mutex_unlock(&s->lock);
}

static void
session_free(struct p11_session *s)
{
	p11_op_end(&s->sign);
	p11_op_end(&s->verify);
	EVP_MD_CTX_free(s->digest);
	ssovault_free(s->h);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* --- general ---------------------------------------------------------------- */

CK_RV
C_Initialize(CK_VOID_PTR init_args)
{
	CK_C_INITIALIZE_ARGS *a = init_args;

	/* the module locks with pthreads, which every caller on Linux may use */
	if (a != NULL && a->pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&global);
	if (initialized && init_pid == getpid()) {
		pthread_mutex_unlock(&global);
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	}
	/* in a child of fork(): the parent's sessions and connections are not its own */
	if (initialized)
		forget_all();
	slots_load();
	initialized = 1;
	init_pid = getpid();
	pthread_mutex_unlock(&global);
	return CKR_OK;
}

/* Drop every session and slot (global lock held). */
static void
forget_all(void)
{
	size_t i;

	for (i = 0; i < SESSIONS_MAX; i++) {
		if (sessions[i] != NULL)
			session_free(sessions[i]);
		sessions[i] = NULL;
	}
	slots_free();
	initialized = 0;
}

CK_RV
C_Finalize(CK_VOID_PTR reserved)
{
	if (reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&global);
	if (!initialized) {
		pthread_mutex_unlock(&global);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	forget_all();
	pthread_mutex_unlock(&global);
	return CKR_OK;
}

CK_RV
C_GetInfo(CK_INFO_PTR info)
{
	if (!initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = 2;
	info->cryptokiVersion.minor = 40;
	pad(info->manufacturerID, sizeof(info->manufacturerID), "ssovault");
	pad(info->libraryDescription, sizeof(info->libraryDescription),
	    "ssovault keys kept by ssovaultd");
	info->libraryVersion.major = 0;
	info->libraryVersion.minor = 1;
	return CKR_OK;
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	*list = &p11_functions;
	return CKR_OK;
}

CK_RV
C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	CK_SLOT_ID ids[P11_SLOTS_MAX];
	CK_ULONG n = 0, i;

	if (!initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	for (i = 0; i < nslots; i++)
		if (!present || token_present(i))
			ids[n++] = i;
	if (list != NULL && *count < n) {
		*count = n;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (list != NULL)
		memcpy(list, ids, n * sizeof(ids[0]));
	*count = n;
	return CKR_OK;
}

/* What every slot function checks first: the library is initialised, the slot is ours, arg_ok. */
static CK_RV
slot_check(CK_SLOT_ID id, int arg_ok)
{
	if (!initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (id >= nslots)
		return CKR_SLOT_ID_INVALID;
	return arg_ok ? CKR_OK : CKR_ARGUMENTS_BAD;
}

CK_RV
C_GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO_PTR info)
{
	char d[64 + PATH_MAX];
	CK_RV rv;

	if ((rv = slot_check(id, info != NULL)) != CKR_OK)
		return rv;
	memset(info, 0, sizeof(*info));
	snprintf(d, sizeof(d), "ssovaultd at %s", p11_slots[id].socket);
	pad(info->slotDescription, sizeof(info->slotDescription), d);
	pad(info->manufacturerID, sizeof(info->manufacturerID), "ssovault");
	info->flags = CKF_REMOVABLE_DEVICE | (token_present(id) ? CKF_TOKEN_PRESENT : 0);
	return CKR_OK;
}

CK_RV
C_GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO_PTR info)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char serial[17];
	CK_RV rv;
	int i;

	if ((rv = slot_check(id, info != NULL)) != CKR_OK)
		return rv;
	if (!token_present(id))
		return CKR_TOKEN_NOT_PRESENT;
	/* the serial names the socket: stable, and told apart from another vault's */
	SHA256((const unsigned char *)p11_slots[id].socket, strlen(p11_slots[id].socket), md);
	for (i = 0; i < 8; i++)
		snprintf(serial + 2 * i, 3, "%02x", md[i]);
	memset(info, 0, sizeof(*info));
	pad(info->label, sizeof(info->label), "ssovault");
	pad(info->manufacturerID, sizeof(info->manufacturerID), "ssovault");
	pad(info->model, sizeof(info->model), "ssovaultd");
	pad(info->serialNumber, sizeof(info->serialNumber), serial);
	info->flags = CKF_TOKEN_INITIALIZED | CKF_WRITE_PROTECTED | CKF_USER_PIN_INITIALIZED;
	info->ulMaxSessionCount = SESSIONS_MAX;
	info->ulMaxRwSessionCount = 0;
	info->ulSessionCount = CK_UNAVAILABLE_INFORMATION;
	info->ulRwSessionCount = CK_UNAVAILABLE_INFORMATION;
	info->ulMaxPinLen = 255;
	info->ulMinPinLen = 0;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion.major = 0;
	info->firmwareVersion.major = 0;
	return CKR_OK;
}

CK_RV
C_GetMechanismList(CK_SLOT_ID id, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv;

	if ((rv = slot_check(id, count != NULL)) != CKR_OK)
		return rv;
	return p11_mech_list(list, count);
}

CK_RV
C_GetMechanismInfo(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	CK_RV rv;

	if ((rv = slot_check(id, info != NULL)) != CKR_OK)
		return rv;
	return p11_mech_info(type, info);
}

/* --- sessions and login -------------------------------------------------- */

CK_RV
C_OpenSession(CK_SLOT_ID id, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
    CK_SESSION_HANDLE_PTR ret)
{
	struct p11_session *s;
	size_t i;
	CK_RV rv;
	int r;

	if ((rv = slot_check(id, ret != NULL)) != CKR_OK)
		return rv;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if (flags & CKF_RW_SESSION)
		return CKR_TOKEN_WRITE_PROTECTED;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CKR_HOST_MEMORY;
	s->slot = id;
	s->flags = flags;
	pthread_mutex_init(&s->lock, NULL);
	if ((r = handle_open(id, &s->h)) != 0) {
		session_free(s);
		return CKR_TOKEN_NOT_PRESENT;
	}
	/* the daemon answers, or the token is not there */
	if ((rv = slot_refresh(&p11_slots[id], s->h)) != CKR_OK) {
		session_free(s);
		return rv == CKR_DEVICE_REMOVED ? CKR_TOKEN_NOT_PRESENT : rv;
	}
	pthread_mutex_lock(&global);
	for (i = 0; i < SESSIONS_MAX && sessions[i] != NULL; i++)
		;
	if (i == SESSIONS_MAX) {
		pthread_mutex_unlock(&global);
		session_free(s);
		return CKR_SESSION_COUNT;
	}
	sessions[i] = s;
	pthread_mutex_unlock(&global);
	*ret = (CK_SESSION_HANDLE)(i + 1);
	return CKR_OK;
}

CK_RV
C_CloseSession(CK_SESSION_HANDLE hs)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;
	size_t i, left = 0;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	p11_session_put(s);
	pthread_mutex_lock(&global);
	if (sessions[hs - 1] == s) {
		sessions[hs - 1] = NULL;
		for (i = 0; i < SESSIONS_MAX; i++)
			left += sessions[i] != NULL && sessions[i]->slot == s->slot;
		/* the login state belongs to the application's sessions of a slot */
		if (left == 0)
			p11_slots[s->slot].logged_in = 0;
		pthread_mutex_lock(&s->lock);
		pthread_mutex_unlock(&s->lock);
		session_free(s);
	}
	pthread_mutex_unlock(&global);
	return CKR_OK;
}

CK_RV
C_CloseAllSessions(CK_SLOT_ID id)
{
	size_t i;
	CK_RV rv;

	if ((rv = slot_check(id, 1)) != CKR_OK)
		return rv;
	pthread_mutex_lock(&global);
	for (i = 0; i < SESSIONS_MAX; i++) {
		if (sessions[i] != NULL && sessions[i]->slot == id) {
			pthread_mutex_lock(&sessions[i]->lock);
			pthread_mutex_unlock(&sessions[i]->lock);
			session_free(sessions[i]);
			sessions[i] = NULL;
		}
	}
	p11_slots[id].logged_in = 0;
	pthread_mutex_unlock(&global);
	return CKR_OK;
}

CK_RV
C_GetSessionInfo(CK_SESSION_HANDLE hs, CK_SESSION_INFO_PTR info)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (info == NULL) {
		p11_session_put(s);
		return CKR_ARGUMENTS_BAD;
	}
	memset(info, 0, sizeof(*info));
	info->slotID = s->slot;
	info->flags = s->flags;
	info->state = p11_slots[s->slot].logged_in ? CKS_RO_USER_FUNCTIONS : CKS_RO_PUBLIC_SESSION;
	p11_session_put(s);
	return CKR_OK;
}

/* No PIN: the daemon knows the caller.  Any PIN is accepted, and ignored. */
CK_RV
C_Login(CK_SESSION_HANDLE hs, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (user == CKU_SO)
		rv = CKR_SESSION_READ_ONLY_EXISTS;
	else if (user != CKU_USER && user != CKU_CONTEXT_SPECIFIC)
		rv = CKR_USER_TYPE_INVALID;
	else if (user == CKU_USER && p11_slots[s->slot].logged_in)
		rv = CKR_USER_ALREADY_LOGGED_IN;
	else
		p11_slots[s->slot].logged_in = 1;
	p11_session_put(s);
	return rv;
}

CK_RV
C_Logout(CK_SESSION_HANDLE hs)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (!p11_slots[s->slot].logged_in)
		rv = CKR_USER_NOT_LOGGED_IN;
	p11_slots[s->slot].logged_in = 0;
	p11_session_put(s);
	return rv;
}

/* --- objects ---------------------------------------------------------------- */

CK_RV
C_FindObjectsInit(CK_SESSION_HANDLE hs, CK_ATTRIBUTE_PTR templ, CK_ULONG n)
{
	struct p11_slot *sl;
	struct p11_session *s;
	CK_RV rv = CKR_OK;
	size_t i, k;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	sl = &p11_slots[s->slot];
	if (s->finding)
		rv = CKR_OPERATION_ACTIVE;
	else if (templ == NULL && n > 0)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = slot_refresh(sl, s->h);
	if (rv == CKR_OK) {
		pthread_mutex_lock(&sl->lock);
		s->nfound = s->pos = 0;
		for (i = 0; i < sl->ncerts; i++)
			for (k = 0; k < 3 && sl->certs[i]->live; k++)
				if (p11_object_matches(&sl->certs[i]->obj[k], templ, n))
					s->found[s->nfound++] = P11_HANDLE(i, k);
		pthread_mutex_unlock(&sl->lock);
		s->finding = 1;
	}
	p11_session_put(s);
	return rv;
}

CK_RV
C_FindObjects(CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE_PTR out, CK_ULONG max,
    CK_ULONG_PTR count)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;
	CK_ULONG n = 0;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (!s->finding)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (out == NULL || count == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else {
		while (n < max && s->pos < s->nfound)
			out[n++] = s->found[s->pos++];
		*count = n;
	}
	p11_session_put(s);
	return rv;
}

CK_RV
C_FindObjectsFinal(CK_SESSION_HANDLE hs)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	if (!s->finding)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	s->finding = 0;
	p11_session_put(s);
	return rv;
}

CK_RV
C_GetAttributeValue(CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR templ,
    CK_ULONG n)
{
	struct p11_slot *sl;
	struct p11_cert *c;
	struct p11_session *s;
	enum p11_kind k;
	CK_RV rv = CKR_OK;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	sl = &p11_slots[s->slot];
	pthread_mutex_lock(&sl->lock);
	if (templ == NULL && n > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if ((c = p11_object_of(sl, o, &k)) == NULL)
		rv = CKR_OBJECT_HANDLE_INVALID;
	else
		rv = p11_object_get(&c->obj[k], templ, n);
	pthread_mutex_unlock(&sl->lock);
	p11_session_put(s);
	return rv;
}

CK_RV
C_GetObjectSize(CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE o, CK_ULONG_PTR size)
{
	struct p11_session *s;
	CK_RV rv = CKR_OK;
	enum p11_kind k;

	if ((s = p11_session_get(hs, &rv)) == NULL)
		return rv;
	pthread_mutex_lock(&p11_slots[s->slot].lock);
	if (p11_object_of(&p11_slots[s->slot], o, &k) == NULL)
		rv = CKR_OBJECT_HANDLE_INVALID;
	else if (size == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		*size = CK_UNAVAILABLE_INFORMATION;
	pthread_mutex_unlock(&p11_slots[s->slot].lock);
	p11_session_put(s);
	return rv;
}
