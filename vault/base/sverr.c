/* Names and exit codes of the project-wide error codes. */
#include <stdarg.h>
#include <stdio.h>

#include "ssovault/sverr.h"

static const char *const names[] = {
	[0] = "success",
	[-SV_ERR_INTERNAL] = "internal error",
	[-SV_ERR_NOMEM] = "out of memory",
	[-SV_ERR_INVALID] = "invalid input",
	[-SV_ERR_NOT_FOUND] = "not found",
	[-SV_ERR_EXISTS] = "already exists",
	[-SV_ERR_CONFLICT] = "conflict",
	[-SV_ERR_USAGE] = "usage error",
	[-SV_ERR_INTEGRITY] = "integrity check failed",
	[-SV_ERR_WRONG_KEY] = "wrong passphrase or key",
	[-SV_ERR_LOCKED] = "vault is locked",
	[-SV_ERR_UNREACHABLE] = "service unreachable",
	[-SV_ERR_DENIED] = "access denied",
	[-SV_ERR_AUDIT] = "audit write failed",
	[-SV_ERR_IO] = "input/output error",
	[-SV_ERR_STORAGE] = "storage error",
	[-SV_ERR_MAP_FULL] = "vault is full",
	[-SV_ERR_TRUNCATED] = "truncated input",
	[-SV_ERR_TOO_LARGE] = "input too large",
	[-SV_ERR_TRAILING] = "trailing bytes after input",
	[-SV_ERR_PROTOCOL] = "protocol error",
	[-SV_ERR_CRYPTO] = "cryptographic failure",
	[-SV_ERR_DISABLED] = "disabled",
	[-SV_ERR_NO_VAULT] = "no vault",
	[-SV_ERR_VERSION] = "unsupported format version",
	[-SV_ERR_TICKET_DISABLED] = "tickets are not allowed",
	[-SV_ERR_TICKET_EXPIRED] = "ticket expired",
	[-SV_ERR_TICKET_TAMPERED] = "ticket is invalid or was altered",
	[-SV_ERR_TICKET_FOREIGN] = "ticket was issued by another vault",
	[-SV_ERR_TICKET_REUSED] = "ticket was already redeemed",
	[-SV_ERR_TICKET_SENDER] = "ticket sender does not match",
	[-SV_ERR_CERT_EXPIRED] = "certificate expired",
	[-SV_ERR_CERT_NOT_YET_VALID] = "certificate not yet valid",
	[-SV_ERR_KEY_MISMATCH] = "private key does not match the certificate",
	[-SV_ERR_BAD_PASSWORD] = "wrong password",
	[-SV_ERR_BAD_FORMAT] = "unrecognised format",
	[-SV_ERR_SOAP_FAULT] = "SOAP fault",
	[-SV_ERR_SUSPENDED] = "message suspended",
	[-SV_ERR_TRANSPORT] = "transport error",
	[-SV_ERR_HTTP] = "HTTP error",
	[-SV_ERR_TIMEOUT] = "timed out",
	[-SV_ERR_READ_ONLY] = "read-only",
	[-SV_ERR_NO_SPACE] = "no space left",
};

const char *
sv_strerror(int err)
{
	if (err > 0 || err < SV__ERR_MIN || names[-err] == 0)
		return "unknown error";
	return names[-err];
}

int
sv_exit_code(int err)
{
	switch (err) {
	case SV_OK:
		return 0;
	case SV_ERR_USAGE:
		return 2;
	case SV_ERR_SOAP_FAULT:
		return 3;
	case SV_ERR_SUSPENDED:
		return 4;
	case SV_ERR_DENIED:
		return 5;
	case SV_ERR_LOCKED:
	case SV_ERR_WRONG_KEY:
	case SV_ERR_UNREACHABLE:
		return 6;
	case SV_ERR_AUDIT:
		return 7;
	default:
		return 1;
	}
}

int
sv_fail(char *msg, int err, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (msg != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, SV_MSG_MAX, fmt, ap);
		va_end(ap);
		/* outside bytes end up in messages: keep each one printable line */
		for (p = msg; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : '?';
			/* C1 controls in UTF-8 (U+0080..U+009F): a terminal may obey them too */
			if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] >= 0x80 &&
			    (unsigned char)p[1] <= 0x9f)
				p[0] = p[1] = '?';
		}
	}
	return err;
}
