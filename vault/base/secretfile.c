/*
 * secretfile.c: reading key, passphrase and password files (secretfile.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/paths.h"
#include "base/secretfile.h"

static void
buf_free(char *p, int secure)
{
	if (secure)
		sodium_free(p);
	else
		free(p);
}

int
secretfile_read_fd(int fd, size_t max, int secure, char **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = secure ? sodium_malloc(cap + 1) : malloc(cap + 1), *n;
	ssize_t got;

	if (buf == NULL)
		return SV_ERR_NOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				buf_free(buf, secure);
				return SV_ERR_TOO_LARGE;
			}
			n = secure ? sodium_malloc(cap * 2 + 1) : malloc(cap * 2 + 1);
			if (n == NULL) {
				buf_free(buf, secure);
				return SV_ERR_NOMEM;
			}
			memcpy(n, buf, len);
			buf_free(buf, secure);
			buf = n;
			cap *= 2;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			buf_free(buf, secure);
			return SV_ERR_IO;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (len > max) {
		buf_free(buf, secure);
		return SV_ERR_TOO_LARGE;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int
secretfile_read(const char *path, const char *what, size_t max, char **ret,
    size_t *ret_len, char *msg)
{
	int fd, r, e;

	if ((r = vault_path_secret_open(path, what, msg, &fd)) != 0)
		return r;
	r = secretfile_read_fd(fd, max, 1, ret, ret_len);
	e = errno;
	close(fd);
	if (r == SV_ERR_TOO_LARGE)
		return sv_fail(msg, r, "%s is larger than %zu bytes", path, max);
	if (r == SV_ERR_IO)
		return sv_fail(msg, r, "cannot read %s %s: %s", what, path, strerror(e));
	if (r != 0)
		return sv_fail(msg, r, "out of memory");
	return 0;
}

size_t
secretfile_trim(char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	return len;
}

int
secretfile_key(const void *p, size_t len, uint8_t key[SECRETFILE_KEY_BYTES])
{
	const char *s = p;
	size_t bin = 0;

	if (len == SECRETFILE_KEY_BYTES) {
		memcpy(key, p, SECRETFILE_KEY_BYTES);
		return 0;
	}
	if ((len == 64 || (len == 65 && s[64] == '\n')) &&
	    sodium_hex2bin(key, SECRETFILE_KEY_BYTES, s, 64, NULL, &bin, NULL) == 0 &&
	    bin == SECRETFILE_KEY_BYTES)
		return 0;
	return SV_ERR_INVALID;
}
