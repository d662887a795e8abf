/*
 * read-config: a service reads its settings from a config store app (ENTSSO's
 * ISSOConfigStore GetConfigInfo) through ssovaultd, in a few lines.
 *
 *   cc read-config.c $(pkg-config --cflags --libs ssovault) -o read-config
 *   ./read-config orders-adapter endpoint
 *
 * An app admin made the app and its settings:
 *   ssovault app create orders-adapter --type config --field endpoint \
 *       --field password:masked --user group:orders-svc --enable
 *   ssovault config set orders-adapter --from-file settings.json
 * The daemon knows the caller from the kernel: it must be an app user.
 */
#include <stdio.h>

#include <ssovault.h>

int
main(int argc, char **argv)
{
	struct ssovault_open_opts o = { NULL, NULL, SSOVAULT_MODE_DAEMON };
	struct ssovault_creds *settings = NULL;
	struct ssovault *h = NULL;
	const char *v;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: read-config APP SETTING\n");
		return 2;
	}
	if ((r = ssovault_open(&o, &h)) != 0) {
		fprintf(stderr, "read-config: %s\n", ssovault_open_errmsg());
		return sv_exit_code(r);
	}
	/* NULL: ENTSSO's default identifier, "ConfigProperties" */
	if ((r = ssovault_config_get(h, argv[1], NULL, &settings)) != 0) {
		fprintf(stderr, "read-config: %s\n", ssovault_errmsg(h));
		ssovault_free(h);
		return sv_exit_code(r);
	}
	if ((v = ssovault_creds_value(settings, argv[2])) != NULL)
		printf("%s\n", v);	/* a real service uses it; it is wiped below */
	else
		fprintf(stderr, "read-config: '%s' has no setting '%s'\n", argv[1], argv[2]);
	ssovault_creds_free(settings);
	ssovault_free(h);
	return v != NULL ? 0 : 1;
}
