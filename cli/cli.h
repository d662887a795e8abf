/*
 * cli.h: what the command files of `ssovault` share.  The command line only
 * parses, calls the client API (ssovault.h) and prints; nothing here decides
 * a permission or touches vault bytes.
 *
 * Commands form a tree of tables (git's model): a node has either a
 * function or a table of children, and `--help` at any level is printed from
 * the same tables.  A leaf's function gets argv starting at its own name and
 * parses its options with getopt_long through cli_getopt().
 */
#ifndef SSOVAULT_CLI_H
#define SSOVAULT_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ssovault/ssovault.h"

struct cli;

struct cli_cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const struct cli_cmd *sub;	/* children, ended by a NULL name */
	const char *args;		/* "NAME [--type individual|group] ..." */
	const char *summary;		/* one line */
	const char *help;		/* options and examples, may be NULL */
};

struct cli {
	const char *vault_dir;		/* --vault, or NULL for the default */
	const char *socket_path;	/* --socket */
	int json;			/* --json */
	int quiet;			/* --quiet */
	int strict;			/* --strict: unknown names are errors */
	int tty;			/* stderr is a terminal: progress allowed */
	const struct cli_cmd *cmd;	/* the leaf running */
	char what[512];			/* "creds get payroll": prefix of errors */
	char warnings[2048];		/* cli_warn(): printed after success */
	struct ssovault *h;
};

/* Exit codes of DESIGN section 7 (sv_exit_code maps errors onto them). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* The command tables of each file, assembled in main.c. */
extern const struct cli_cmd cli_cmd_vault[];	/* init status unlock lock backup restore */
extern const struct cli_cmd cli_cmd_secret[];
extern const struct cli_cmd cli_cmd_role[];
extern const struct cli_cmd cli_cmd_slot[];
extern const struct cli_cmd cli_cmd_store[];
extern const struct cli_cmd cli_cmd_app[];
extern const struct cli_cmd cli_cmd_mapping[];
extern const struct cli_cmd cli_cmd_creds[];
extern const struct cli_cmd cli_cmd_config[];
extern const struct cli_cmd cli_cmd_ticket[];
extern const struct cli_cmd cli_cmd_cert[];
extern const struct cli_cmd cli_cmd_port[];
extern const struct cli_cmd cli_cmd_suspended[];
extern const struct cli_cmd cli_cmd_audit[];
extern const struct cli_cmd cli_cmd_send[];

/* `ssovault __man TEMPLATE`: ssovault(1) from the tables (cmd_man.c). */
int cli_man(const struct cli_cmd *top, int argc, char **argv);

/*
 * getopt_long with the conventions every leaf shares: --help prints the
 * leaf's help and exits 0; an unknown option prints usage and exits 2.
 * Returns like getopt_long; -1 at the end of options.
 */
int cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts,
    const struct option *longopts);
/* Check the count of operands left after options; prints usage if wrong. */
int cli_operands(struct cli *c, int argc, char **argv, int min, int max);
/* Print the leaf's usage to stderr and return CLI_EXIT_USAGE. */
int cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set the error prefix: cli_what(c, "%s %s", "creds get", app). */
void cli_what(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "ssovault: <what>: <msg>" and return the exit code of err. */
int cli_fail(struct cli *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with the client handle's message (or the error's name). */
int cli_fail_h(struct cli *c, int err);
/*
 * A warning, printed as "ssovault: <what>: warning: <msg>" on stderr
 * (--quiet or not) by cli_warnings_flush(), which main.c calls once the
 * command succeeded: a command that fails prints its one error line only.
 */
void cli_warn(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warnings_flush(struct cli *c);
/*
 * A user:NAME or group:NAME that this host does not know draws a warning
 * with the closest name, or under --strict an error (its exit code);
 * 0 otherwise (uid:N and gid:N are never checked).
 */
int cli_principal_known(struct cli *c, const char *principal);
/* "uid 1007 (bob)", or "uid 1007" if this host has no name for it. */
void cli_uid_name(long long uid, char *out, size_t len);
/* Edit distance of two short strings, at most 9: for "did you mean". */
size_t cli_distance(const char *a, const char *b);

/*
 * Open the handle (daemon or embedded as DESIGN section 1 says).  With
 * unlock set, an embedded vault is unlocked from SSOVAULT_KEY_FILE or
 * SSOVAULT_PASSPHRASE_FILE, else a prompt on the terminal.
 */
int cli_open(struct cli *c, int unlock);

/*
 * Secrets.  cli_secret_file() reads a whole file into secure memory,
 * dropping one trailing newline ("-" is stdin).  With what ("passphrase
 * file", "password file") the file must be one only the caller and root
 * control, as vault/paths.h says, or it is refused with a message naming
 * the fix; what NULL is for secrets that are data to store (a credentials
 * file), read as they are.  cli_secret_prompt() asks on the terminal
 * without echo (twice when confirm is set).  The result is NUL-terminated;
 * free it with sodium_free().
 */
int cli_secret_file(struct cli *c, const char *path, const char *what, char **ret,
    size_t *ret_len);
int cli_secret_prompt(struct cli *c, const char *prompt, int confirm, char **ret,
    size_t *ret_len);
/* The same, refusing fewer than min bytes before asking for the confirmation. */
int cli_secret_prompt_min(struct cli *c, const char *prompt, int confirm, size_t min,
    char **ret, size_t *ret_len);
/*
 * A key file: 32 raw bytes, or 64 hex digits and an optional newline; under
 * the same rule as a passphrase file.
 */
int cli_key_file(struct cli *c, const char *path, uint8_t key[32]);
/*
 * The key in path, or a new random one written there (0600) if it does
 * not exist; *ret_made says which (a failed command removes what it made).
 */
int cli_key_file_make(struct cli *c, const char *path, uint8_t key[32], int *ret_made);

/* Read a whole (non-secret) file; "-" is stdin.  free() the result. */
int cli_read_file(struct cli *c, const char *path, size_t max, uint8_t **ret,
    size_t *ret_len);
/* Create path 0600 (O_EXCL|O_NOFOLLOW) and write all of p to it. */
int cli_write_new_file(struct cli *c, const char *path, const void *p, size_t len);

/* Print a JSON document from the API: as JSON with --json, else via fn. */
int cli_print_json(struct cli *c, const char *json, void (*human)(struct cli *, json_t *));
/*
 * A list command without operands or options of its own: open the vault,
 * fetch the list as JSON with fetch(), print it (cli_print_json).
 */
int cli_list(struct cli *c, int argc, char **argv,
    int (*fetch)(struct ssovault *, char **), void (*human)(struct cli *, json_t *));
/* Progress on a terminal only: "\r<what>: done/total". */
void cli_progress(void *ctx, size_t done, size_t total);
/*
 * One status line of long work on a terminal only (not with --quiet or
 * --json): "\r<what>: <line>", replaced by the next; NULL clears it.
 */
void cli_status(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "5m" -> 300; s/m/h suffixes, bare number = seconds. -1 if invalid. */
/* "10M" -> 10485760; K/M/G suffixes. -1 if invalid. */
/* A bounded non-negative integer; -1 if invalid. */
long long cli_parse_uint(const char *s, long long max);
/* The string member k of o, or "" if it is none. */
const char *cli_jstr(json_t *o, const char *k);

#endif
