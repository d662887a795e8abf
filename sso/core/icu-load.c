/*
 * ICU, loaded at the first application name that is not ASCII.
 *
 * records.c folds application names (NFC, case folding) with ICU, and
 * ASCII names, nearly all, without it.  Linking libicuuc made every
 * `ssovault` process map and relocate it, its 30 MB of data and libstdc++,
 * a `creds get` through ssovaultd included (issue 15; docs/decisions.md,
 * "The CLI loads libpq, libxml2 and ICU when a command needs them").  The
 * core room is built against ICU's headers; the five functions records.c
 * calls are defined here and forward to libicuuc.so.<major version of the
 * headers>.  ICU's headers rename each function with that version
 * (unorm2_normalize is unorm2_normalize_72): the definitions below, and
 * the names looked up, are the renamed ones, so the library opened is the
 * one the build was made against, as a link would have named it.
 */
#include <stddef.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uvernum.h>

#include "base/libload.h"
#include "icu-load.h"

#ifndef SSO_ICU_SONAME
#define SSO_ICU_SONAME "libicuuc.so." LIBLOAD_STR(U_ICU_VERSION_MAJOR_NUM)
#endif
#define SSO_ICU_PACKAGE "libicu" LIBLOAD_STR(U_ICU_VERSION_MAJOR_NUM)

/* each fails as ICU fails when its data is missing */
#define ICU_FUNCS(F, V) \
	F(UChar *, u_strFromUTF8, (UChar *d, int32_t dc, int32_t *dl, const char *s, int32_t sl, \
	    UErrorCode *e), (d, dc, dl, s, sl, e), (*e = U_MISSING_RESOURCE_ERROR, NULL)) \
	F(char *, u_strToUTF8, (char *d, int32_t dc, int32_t *dl, const UChar *s, int32_t sl, \
	    UErrorCode *e), (d, dc, dl, s, sl, e), (*e = U_MISSING_RESOURCE_ERROR, NULL)) \
	F(int32_t, u_strFoldCase, (UChar *d, int32_t dc, const UChar *s, int32_t sl, uint32_t o, \
	    UErrorCode *e), (d, dc, s, sl, o, e), (*e = U_MISSING_RESOURCE_ERROR, 0)) \
	F(const UNormalizer2 *, unorm2_getNFCInstance, (UErrorCode *e), (e), \
	    (*e = U_MISSING_RESOURCE_ERROR, NULL)) \
	F(int32_t, unorm2_normalize, (const UNormalizer2 *n, const UChar *s, int32_t sl, \
	    UChar *d, int32_t dc, UErrorCode *e), (n, s, sl, d, dc, e), \
	    (*e = U_MISSING_RESOURCE_ERROR, 0))

LIBLOAD_LIBRARY(ICU_FUNCS, SSO_ICU_SONAME, "ICU", SSO_ICU_PACKAGE, SV_ERR_INTERNAL)

int
sso_icu_need(char *msg)
{
	return libload_need(&lib, msg);
}
