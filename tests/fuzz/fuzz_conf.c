/* haxd.conf parser (conf/conf.c): any bytes give errors with file:line, never a crash. */
#include "fuzz.h"

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hax_conf *c = calloc(1, sizeof(*c)), *d = calloc(1, sizeof(*d));
	struct conf_errors errs = {0}, errs2 = {0};
	char *text = fuzz_cstr(data, size);
	char labels[8][CONF_LABEL_MAX];
	int r, i, n;

	r = conf_parse_string("fuzz.conf", text, c, &errs);
	/* Every refusal says why; a valid file parses the same twice and needs no restart
	 * against itself (the reload path). */
	FUZZ_CHECK(r == 0 || errs.n > 0);
	if (r == 0) {
		FUZZ_CHECK(conf_parse_string("fuzz.conf", text, d, &errs2) == 0);
		n = conf_restart_needed(c, d, labels, 8);
		FUZZ_CHECK(n == 0);
		for (i = 0; i < c->nhosts; i++)
			FUZZ_CHECK(conf_host_by_name(c, c->hosts[i].name) != NULL);
	}
	conf_errors_free(&errs);
	conf_errors_free(&errs2);
	free(text);
	free(c);
	free(d);
	return 0;
}
