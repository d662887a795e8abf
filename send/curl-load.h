/*
 * libcurl is loaded on the sender's first call (curl-load.c).
 */
#ifndef SEND_CURL_LOAD_H
#define SEND_CURL_LOAD_H

/*
 * 0 once libcurl is loaded (loading it now if need be); else
 * SV_ERR_TRANSPORT, with msg (SV_MSG_MAX bytes) saying why and what to do.
 */
int send_curl_need(char *msg);

#endif
