/*
 * ICU is loaded at the first application name that is not ASCII
 * (icu-load.c).
 */
#ifndef SSO_ICU_LOAD_H
#define SSO_ICU_LOAD_H

/*
 * 0 once ICU's common library is loaded (loading it now if need be); else
 * SV_ERR_INTERNAL, with msg (SV_MSG_MAX bytes) saying what to install.
 */
int sso_icu_need(char *msg);

#endif
