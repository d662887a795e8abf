/*
 * libcurl is loaded on the sender's first call (curl-load.c).
 */
#ifndef SEND_CURL_LOAD_H
#define SEND_CURL_LOAD_H

/* NULL once libcurl is loaded (loading it now if need be), else why not */
const char *send_curl_missing(void);

#endif
