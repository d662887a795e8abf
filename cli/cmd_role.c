/* ssovault role list | add ROLE PRINCIPAL | remove ROLE PRINCIPAL */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
roles_human(struct cli *c, json_t *j)
{
	const char *role;
	json_t *arr, *v;
	size_t i;

	json_object_foreach(j, role, arr) {
		printf("%s:\n", role);
		if (json_array_size(arr) == 0)
			printf("  (none)\n");
		json_array_foreach(arr, i, v)
			printf("  %s\n", json_string_value(v));
	}
}

static int
cmd_role_list(struct cli *c, int argc, char **argv)
{
	return cli_list(c, argc, argv, ssovault_role_list, roles_human);
}

static int
role_change(struct cli *c, int argc, char **argv, int add)
{
	const char *role, *p;
	int r;

	while (cli_getopt(c, argc, argv, "", NULL) != -1)
		;
	if ((r = cli_operands(c, argc, argv, 2, 2)) != 0)
		return r;
	role = argv[optind];
	p = argv[optind + 1];
	cli_what(c, "role %s %s %s", add ? "add" : "remove", role, p);
	if ((add && (r = cli_principal_known(c, p)) != 0) || (r = cli_open(c, 1)) != 0)
		return r;
	r = add ? ssovault_role_add(c->h, role, p) : ssovault_role_remove(c->h, role, p);
	if (r != 0)
		return cli_fail_h(c, r);
	if (!c->quiet)
		printf("%s %s %s.\n", p, add ? "now holds" : "no longer holds", role);
	return 0;
}

static int
cmd_role_add(struct cli *c, int argc, char **argv)
{
	return role_change(c, argc, argv, 1);
}

static int
cmd_role_remove(struct cli *c, int argc, char **argv)
{
	return role_change(c, argc, argv, 0);
}

const struct cli_cmd cli_cmd_role[] = {
	{ "list", cmd_role_list, NULL, NULL, "list the vault and affiliate admins", NULL },
	{ "add", cmd_role_add, NULL, "ROLE PRINCIPAL", "give a role: vault-admin or affiliate-admin",
	    "Principals: user:NAME, group:NAME, uid:N, gid:N.\n"
	    "\nExample:\n  ssovault role add affiliate-admin group:integration\n" },
	{ "remove", cmd_role_remove, NULL, "ROLE PRINCIPAL", "take a role away",
	    "The last vault admin cannot be removed.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
