/* Placeholder: replaced by the issue that builds these commands. */
#include "cli.h"

const struct cli_cmd cli_cmd_cert[] = {
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
