/*
 * `ssovault __man TEMPLATE`: the hidden generator of ssovault(1).  It copies
 * a roff template (docs/man/ssovault.1.in) to standard output, replacing
 * "@VERSION@" and writing, at a line that holds only "@COMMANDS@", a section
 * for every command.  The sections come from the same tables the dispatcher
 * and --help use, so the manual cannot drift from --help.  The build runs it
 * (docs/man/meson.build); it is in no table, so no --help lists it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/*
 * s as roff text: backslashes and hyphens escaped (hyphens in options must
 * be minus signs to be copied from the page), and a line that would start
 * with a control character ('.' or '\'') protected by \&.
 */
static void
roff_text(FILE *f, const char *s, size_t n)
{
	int bol = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (bol && (s[i] == '.' || s[i] == '\''))
			fputs("\\&", f);
		bol = s[i] == '\n';
		if (s[i] == '\\')
			fputs("\\e", f);
		else if (s[i] == '-')
			fputs("\\-", f);
		else
			fputc(s[i], f);
	}
}

static void
roff_str(FILE *f, const char *s)
{
	roff_text(f, s, strlen(s));
}

/* Help text as --help prints it, laid out as is; blank lines become .sp. */
static void
roff_preformatted(FILE *f, const char *s)
{
	const char *nl;
	size_t n;

	fputs(".nf\n", f);
	while (*s != '\0') {
		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if (n == 0) {
			fputs(".sp\n", f);
		} else {
			roff_text(f, s, n);
			fputc('\n', f);
		}
		s += n + (nl != NULL);
	}
	fputs(".fi\n", f);
}

/* One runnable command: its synopsis, summary and help. */
static void
man_leaf(FILE *f, const char *path, const struct cli_cmd *e)
{
	fputs(".PP\n.B \"ssovault ", f);
	roff_str(f, path);
	fputs("\"\n", f);
	if (e->args != NULL && *e->args != '\0') {
		roff_str(f, e->args);
		fputc('\n', f);
	}
	fputs(".RS 4\n", f);
	if (e->summary != NULL) {
		roff_str(f, e->summary);
		fputs(".\n", f);
	}
	if (e->help != NULL && *e->help != '\0') {
		fputs(".PP\n", f);
		roff_preformatted(f, e->help);
	}
	fputs(".RE\n", f);
}

static void
man_table(FILE *f, const char *path, const struct cli_cmd *t)
{
	const struct cli_cmd *e;
	char sub[256];

	for (e = t; e->name != NULL; e++) {
		/* a table of one unnamed leaf: the group itself runs (ssovault send) */
		if (*e->name == '\0') {
			man_leaf(f, path, e);
			continue;
		}
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path != '\0' ? " " : "", e->name);
		if (e->sub != NULL)
			man_table(f, sub, e->sub);
		else if (e->fn != NULL)
			man_leaf(f, sub, e);
	}
}

/* The COMMANDS section body: a subsection per group of the top table. */
static void
man_commands(FILE *f, const struct cli_cmd *top)
{
	const struct cli_cmd *e, *v;

	for (e = top; e->name != NULL; e++) {
		if (e->sub == NULL && e->fn == NULL) {
			/* main.c's placeholder: the vault's own commands sit at the top */
			fputs(".SS \"", f);
			for (v = cli_cmd_vault; v->name != NULL; v++)
				fprintf(f, "%s%s", v == cli_cmd_vault ? "" : ", ", v->name);
			fputs("\"\n", f);
			man_table(f, "", cli_cmd_vault);
			continue;
		}
		fputs(".SS \"", f);
		roff_str(f, e->name);
		fputs("\"\n", f);
		if (e->summary != NULL) {
			fputs(".PP\n", f);
			roff_str(f, e->summary);
			fputs(":\n", f);
		}
		if (e->sub != NULL)
			man_table(f, e->name, e->sub);
		else if (e->fn != NULL)
			man_leaf(f, e->name, e);
	}
}

/* A template line with every "@VERSION@" replaced. */
static void
put_line(FILE *f, const char *s)
{
	static const char tag[] = "@VERSION@";
	const char *p;

	while ((p = strstr(s, tag)) != NULL) {
		fwrite(s, 1, (size_t)(p - s), f);
		fputs(SSOVAULT_VERSION, f);
		s = p + sizeof(tag) - 1;
	}
	fputs(s, f);
}

int
cli_man(const struct cli_cmd *top, int argc, char **argv)
{
	FILE *in = NULL;
	char *line = NULL;
	size_t cap = 0;
	int r = 1, seen = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: ssovault __man TEMPLATE  (writes ssovault(1) to stdout)\n");
		return CLI_EXIT_USAGE;
	}
	if ((in = fopen(argv[1], "re")) == NULL) {
		fprintf(stderr, "ssovault: __man: cannot read the template %s: %s\n", argv[1],
		    strerror(errno));
		goto out;
	}
	errno = 0;
	while (getline(&line, &cap, in) != -1) {
		if (strcmp(line, "@COMMANDS@\n") == 0 || strcmp(line, "@COMMANDS@") == 0) {
			man_commands(stdout, top);
			seen = 1;
		} else {
			put_line(stdout, line);
		}
	}
	if (ferror(in)) {
		fprintf(stderr, "ssovault: __man: cannot read the template %s: %s\n", argv[1],
		    strerror(errno));
		goto out;
	}
	if (!seen) {
		fprintf(stderr, "ssovault: __man: the template %s has no @COMMANDS@ line: "
		    "add one where the command reference goes\n", argv[1]);
		goto out;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ssovault: __man: cannot write the manual: %s\n", strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(line);
	if (in != NULL)
		fclose(in);
	return r;
}
