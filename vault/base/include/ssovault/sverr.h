/*
 * The one error space of ssovault.  Every function that can fail returns 0 or
 * one of these negative codes; sv_strerror() names them and sv_exit_code()
 * maps them onto the exit codes of the command line (DESIGN section 7).
 * Library errors (the store's, OpenSSL, libcurl) are translated once, where they
 * happen, and their detail is kept in the handle's message buffer.
 *
 * The values cross the wire (daemon replies carry them): never renumber.
 */
#ifndef SSOVAULT_SVERR_H
#define SSOVAULT_SVERR_H

enum sv_err {
	SV_OK = 0,
	SV_ERR_INTERNAL = -1,
	SV_ERR_NOMEM = -2,
	SV_ERR_INVALID = -3,		/* malformed argument or input */
	SV_ERR_NOT_FOUND = -4,
	SV_ERR_EXISTS = -5,
	SV_ERR_CONFLICT = -6,		/* state forbids it (e.g. delete an enabled mapping) */
	SV_ERR_USAGE = -7,
	SV_ERR_INTEGRITY = -8,		/* sealed data altered, swapped or truncated */
	SV_ERR_WRONG_KEY = -9,		/* wrong passphrase, key file or backup password */
	SV_ERR_LOCKED = -10,
	SV_ERR_UNREACHABLE = -11,	/* daemon socket not reachable */
	SV_ERR_DENIED = -12,
	SV_ERR_AUDIT = -13,		/* audit record could not be written: fail closed */
	SV_ERR_IO = -14,
	SV_ERR_STORAGE = -15,		/* the store (its backend) failed */
	SV_ERR_MAP_FULL = -16,
	SV_ERR_TRUNCATED = -17,
	SV_ERR_TOO_LARGE = -18,
	SV_ERR_TRAILING = -19,
	SV_ERR_PROTOCOL = -20,		/* bad frame, version or unknown operation */
	SV_ERR_CRYPTO = -21,
	SV_ERR_DISABLED = -22,		/* app or mapping disabled */
	SV_ERR_NO_VAULT = -23,		/* no vault in that directory */
	SV_ERR_VERSION = -24,		/* unsupported format version */
	SV_ERR_TICKET_DISABLED = -25,
	SV_ERR_TICKET_EXPIRED = -26,
	SV_ERR_TICKET_TAMPERED = -27,
	SV_ERR_TICKET_FOREIGN = -28,
	SV_ERR_TICKET_REUSED = -29,
	SV_ERR_TICKET_SENDER = -30,
	SV_ERR_CERT_EXPIRED = -31,
	SV_ERR_CERT_NOT_YET_VALID = -32,
	SV_ERR_KEY_MISMATCH = -33,
	SV_ERR_BAD_PASSWORD = -34,	/* PKCS#12 password wrong */
	SV_ERR_BAD_FORMAT = -35,	/* not a certificate/key/XML/JSON we understand */
	SV_ERR_SOAP_FAULT = -36,
	SV_ERR_SUSPENDED = -37,
	SV_ERR_TRANSPORT = -38,		/* network, TLS or HTTP failure */
	SV_ERR_HTTP = -39,
	SV_ERR_TIMEOUT = -40,
	SV_ERR_READ_ONLY = -41,		/* vault directory or file not writable */
	SV_ERR_NO_SPACE = -42,		/* filesystem full */
	SV__ERR_MIN = -42,
};

/* A short static description of err; never NULL. */
const char *sv_strerror(int err);

/*
 * The command-line exit code for err: 0 ok; 1 failed; 2 usage; 3 SOAP fault;
 * 4 suspended; 5 access denied; 6 locked, wrong key or service unreachable;
 * 7 audit write failed.
 */
int sv_exit_code(int err);

#define SV_WUR __attribute__((warn_unused_result))

/* Size of the detail-message buffers kept on handles. */
#define SV_MSG_MAX 256

/*
 * Format a detail message into msg (if msg is not NULL) and return err, so
 * that a failure reads `return sv_fail(v->msg, SV_ERR_INVALID, "...", ...);`.
 * Control characters in the result become '?' (tab, CR, LF a space): a
 * message is one printable line, whatever bytes it quotes.
 */
int sv_fail(char *msg, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
