/* Placeholder: replaced by the issue that builds these commands. */
#include "cli.h"

const struct cli_cmd cli_cmd_app[] = {
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_cmd cli_cmd_mapping[] = {
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cli_cmd cli_cmd_creds[] = {
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
