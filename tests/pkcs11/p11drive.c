/*
 * p11drive: a PKCS#11 client for tests/pkcs11/pkcs11.sh, for what the
 * clients others wrote cannot be made to do: keep one session across a
 * daemon restart, send garbage mechanism parameters and enormous inputs,
 * ask for sensitive attributes, try to create and wrap.  It loads the
 * module like any application (dlopen, C_GetFunctionList) and runs the
 * commands of its arguments in order, printing one line per command:
 * "COMMAND rv=NAME [more]".
 *
 *   p11drive MODULE COMMAND...
 *     open | close                      a session on slot 0 (the first)
 *     find HEXID                        the private key with that CKA_ID
 *     objects                           how many objects a search finds
 *     sign MECH [BYTES]                 sign BYTES (default 64) of data with the key
 *     pss KIND                          C_SignInit CKM_SHA256_RSA_PKCS_PSS with bad parameters
 *     param-on MECH                     a parameter on a mechanism that takes none
 *     attr NAME                         C_GetAttributeValue of the key: private-exponent,
 *                                       value, sensitive, extractable
 *     create | wrap | login PIN | logout
 *     wait FILE | touch FILE            for the test script to step in between
 *   MECH: sha256-rsa, rsa-pkcs (a DigestInfo), sha256-pss, pss (a digest),
 *         ecdsa-sha256, ecdsa (a digest), rsa-x509 (refused: raw RSA)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST *f;
static CK_SESSION_HANDLE sess;
static CK_OBJECT_HANDLE key;

static const char *
rv_name(CK_RV rv)
{
	static char buf[32];

	switch (rv) {
	case CKR_OK: return "CKR_OK";
	case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
	case CKR_ATTRIBUTE_SENSITIVE: return "CKR_ATTRIBUTE_SENSITIVE";
	case CKR_ATTRIBUTE_TYPE_INVALID: return "CKR_ATTRIBUTE_TYPE_INVALID";
	case CKR_DATA_LEN_RANGE: return "CKR_DATA_LEN_RANGE";
	case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
	case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
	case CKR_FUNCTION_NOT_SUPPORTED: return "CKR_FUNCTION_NOT_SUPPORTED";
	case CKR_KEY_FUNCTION_NOT_PERMITTED: return "CKR_KEY_FUNCTION_NOT_PERMITTED";
	case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
	case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
	case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
	case CKR_MECHANISM_PARAM_INVALID: return "CKR_MECHANISM_PARAM_INVALID";
	case CKR_OPERATION_NOT_INITIALIZED: return "CKR_OPERATION_NOT_INITIALIZED";
	case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
	case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
	case CKR_USER_ALREADY_LOGGED_IN: return "CKR_USER_ALREADY_LOGGED_IN";
	case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
	default:
		snprintf(buf, sizeof(buf), "0x%lx", (unsigned long)rv);
		return buf;
	}
}

static void
say(const char *cmd, CK_RV rv, const char *more)
{
	printf("%s rv=%s%s%s\n", cmd, rv_name(rv), more[0] != '\0' ? " " : "", more);
	fflush(stdout);
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
hex_id(const char *hex, unsigned char *out, size_t *len)
{
	size_t i, n = strlen(hex) / 2;

	for (i = 0; i < n && i < 64; i++) {
		if (nibble(hex[2 * i]) < 0 || nibble(hex[2 * i + 1]) < 0)
			return -1;
		out[i] = (unsigned char)(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
	}
	*len = i;
	return 0;
}

static void
cmd_find(const char *hex)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	unsigned char id[64];
	size_t idlen = 0;
	CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, id, 0 } };
	CK_ULONG n = 0;
	CK_RV rv;
	char more[32];

	if (hex_id(hex, id, &idlen) != 0) {
		say("find", CKR_ARGUMENTS_BAD, "");
		return;
	}
	t[1].ulValueLen = idlen;
	if ((rv = f->C_FindObjectsInit(sess, t, 2)) == CKR_OK) {
		rv = f->C_FindObjects(sess, &key, 1, &n);
		f->C_FindObjectsFinal(sess);
	}
	snprintf(more, sizeof(more), "found=%lu", (unsigned long)n);
	say("find", rv, more);
}

static void
cmd_objects(void)
{
	CK_OBJECT_HANDLE h[64];
	CK_ULONG n = 0;
	CK_RV rv;
	char more[32];

	if ((rv = f->C_FindObjectsInit(sess, NULL, 0)) == CKR_OK) {
		rv = f->C_FindObjects(sess, h, 64, &n);
		f->C_FindObjectsFinal(sess);
	}
	snprintf(more, sizeof(more), "count=%lu", (unsigned long)n);
	say("objects", rv, more);
}

/* The SHA-256 DigestInfo prefix and a digest of nothing in particular. */
static const unsigned char sha256_info[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
    0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

static void
cmd_sign(const char *mech, size_t bytes)
{
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM m = { 0, NULL, 0 };
	unsigned char *data, sig[1024];
	CK_ULONG siglen = sizeof(sig), len = bytes;
	CK_RV rv;
	char more[64];

	if ((data = calloc(1, bytes + sizeof(sha256_info) + 32)) == NULL)
		exit(2);
	memset(data, 'x', bytes);
	if (strcmp(mech, "sha256-rsa") == 0) {
		m.mechanism = CKM_SHA256_RSA_PKCS;
	} else if (strcmp(mech, "rsa-pkcs") == 0) {
		m.mechanism = CKM_RSA_PKCS;
		if (bytes == 64) {
			memcpy(data, sha256_info, sizeof(sha256_info));
			len = sizeof(sha256_info) + 32;
		}
	} else if (strcmp(mech, "sha256-pss") == 0 || strcmp(mech, "pss") == 0) {
		m.mechanism = mech[0] == 's' ? CKM_SHA256_RSA_PKCS_PSS : CKM_RSA_PKCS_PSS;
		m.pParameter = &pss;
		m.ulParameterLen = sizeof(pss);
		if (mech[0] == 'p' && bytes == 64)
			len = 32;
	} else if (strcmp(mech, "ecdsa-sha256") == 0) {
		m.mechanism = CKM_ECDSA_SHA256;
	} else if (strcmp(mech, "ecdsa") == 0) {
		m.mechanism = CKM_ECDSA;
		if (bytes == 64)
			len = 32;
	} else if (strcmp(mech, "rsa-x509") == 0) {
		m.mechanism = CKM_RSA_X_509;
	} else {
		say("sign", CKR_ARGUMENTS_BAD, mech);
		free(data);
		return;
	}
	rv = f->C_SignInit(sess, &m, key);
	if (rv == CKR_OK)
		rv = f->C_Sign(sess, data, len, sig, &siglen);
	snprintf(more, sizeof(more), "%s len=%lu", mech, rv == CKR_OK ? (unsigned long)siglen : 0ul);
	say("sign", rv, more);
	free(data);
}

static void
cmd_pss(const char *kind)
{
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss) };
	CK_RV rv;

	if (strcmp(kind, "null") == 0)
		m.pParameter = NULL;
	else if (strcmp(kind, "short") == 0)
		m.ulParameterLen = sizeof(pss) - 1;
	else if (strcmp(kind, "long") == 0)
		m.ulParameterLen = 1u << 30;
	else if (strcmp(kind, "badhash") == 0)
		pss.hashAlg = 0x12345;
	else if (strcmp(kind, "otherhash") == 0)
		pss.hashAlg = CKM_SHA_1;
	else if (strcmp(kind, "badmgf") == 0)
		pss.mgf = 0x77;
	else if (strcmp(kind, "hugesalt") == 0)
		pss.sLen = (CK_ULONG)-1;
	else if (strcmp(kind, "saltover") == 0)
		pss.sLen = 256 - 32 - 1;
	rv = f->C_SignInit(sess, &m, key);
	if (rv == CKR_OK) {
		/* finish it, so that the next command starts clean */
		unsigned char sig[512];
		CK_ULONG n = sizeof(sig);

		rv = f->C_Sign(sess, (unsigned char *)"x", 1, sig, &n);
	}
	say("pss", rv, kind);
}

static void
cmd_param_on(const char *mech)
{
	unsigned char junk[16] = { 0 };
	CK_MECHANISM m = { strcmp(mech, "ecdsa") == 0 ? CKM_ECDSA_SHA256 : CKM_SHA256_RSA_PKCS,
	    junk, sizeof(junk) };

	say("param-on", f->C_SignInit(sess, &m, key), mech);
}

static void
cmd_attr(const char *name)
{
	unsigned char buf[1024];
	CK_ATTRIBUTE a = { 0, buf, sizeof(buf) };
	CK_RV rv;
	char more[64];

	if (strcmp(name, "private-exponent") == 0)
		a.type = CKA_PRIVATE_EXPONENT;
	else if (strcmp(name, "value") == 0)
		a.type = CKA_VALUE;
	else if (strcmp(name, "sensitive") == 0)
		a.type = CKA_SENSITIVE;
	else
		a.type = CKA_EXTRACTABLE;
	rv = f->C_GetAttributeValue(sess, key, &a, 1);
	if (rv == CKR_OK && a.ulValueLen == 1)
		snprintf(more, sizeof(more), "%s=%s", name, buf[0] ? "true" : "false");
	else
		snprintf(more, sizeof(more), "%s len=%ld", name, (long)a.ulValueLen);
	say("attr", rv, more);
}

static void
wait_for(const char *path)
{
	struct stat st;
	int i;

	for (i = 0; i < 600 && stat(path, &st) != 0; i++)
		usleep(100000);
	say("wait", i < 600 ? CKR_OK : CKR_FUNCTION_FAILED, path);
}

int
main(int argc, char **argv)
{
	CK_C_GetFunctionList get;
	void *sym;
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_OBJECT_HANDLE h;
	CK_MECHANISM wm = { CKM_RSA_PKCS, NULL, 0 };
	CK_ULONG n;
	unsigned char buf[512];
	void *lib;
	int i;
	FILE *fp;

	if (argc < 2 || (lib = dlopen(argv[1], RTLD_NOW)) == NULL ||
	    (sym = dlsym(lib, "C_GetFunctionList")) == NULL ||
	    (memcpy(&get, &sym, sizeof(get)), get(&f)) != CKR_OK) {
		fprintf(stderr, "p11drive: cannot load %s\n", argc > 1 ? argv[1] : "(none)");
		return 2;
	}
	say("init", f->C_Initialize(NULL), "");
	for (i = 2; i < argc; i++) {
		const char *c = argv[i], *arg = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(c, "open") == 0) {
			say("open", f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &sess), "");
		} else if (strcmp(c, "close") == 0) {
			say("close", f->C_CloseSession(sess), "");
		} else if (strcmp(c, "find") == 0) {
			cmd_find(arg);
			i++;
		} else if (strcmp(c, "objects") == 0) {
			cmd_objects();
		} else if (strcmp(c, "sign") == 0) {
			size_t bytes = 64;

			if (i + 2 < argc && argv[i + 2][0] >= '0' && argv[i + 2][0] <= '9') {
				bytes = strtoul(argv[i + 2], NULL, 10);
				i++;
			}
			cmd_sign(arg, bytes);
			i++;
		} else if (strcmp(c, "pss") == 0) {
			cmd_pss(arg);
			i++;
		} else if (strcmp(c, "param-on") == 0) {
			cmd_param_on(arg);
			i++;
		} else if (strcmp(c, "attr") == 0) {
			cmd_attr(arg);
			i++;
		} else if (strcmp(c, "create") == 0) {
			say("create", f->C_CreateObject(sess, &t, 1, &h), "");
		} else if (strcmp(c, "wrap") == 0) {
			n = sizeof(buf);
			say("wrap", f->C_WrapKey(sess, &wm, key, key, buf, &n), "");
		} else if (strcmp(c, "login") == 0) {
			say("login", f->C_Login(sess, CKU_USER, (unsigned char *)arg, strlen(arg)), "");
			i++;
		} else if (strcmp(c, "logout") == 0) {
			say("logout", f->C_Logout(sess), "");
		} else if (strcmp(c, "wait") == 0) {
			wait_for(arg);
			i++;
		} else if (strcmp(c, "touch") == 0) {
			if ((fp = fopen(arg, "w")) != NULL)
				fclose(fp);
			say("touch", fp != NULL ? CKR_OK : CKR_FUNCTION_FAILED, arg);
			i++;
		} else {
			fprintf(stderr, "p11drive: unknown command %s\n", c);
			return 2;
		}
	}
	say("finalize", f->C_Finalize(NULL), "");
	return 0;
}
