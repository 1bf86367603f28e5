/*
 * conf_golden FILE: parse FILE as haxd.conf and print every error, one per line, or
 * "configuration OK". Exit 0 when the file is valid, 1 otherwise. Used by the golden
 * tests (bad-*.conf -> bad-*.expected); the file name is printed as given.
 */
#include "conf/conf.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct conf_errors errs = {0};
	struct hax_conf *c;
	int i, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	c = hax_xcalloc(1, sizeof(*c));
	rc = conf_parse_file(argv[1], c, &errs);
	for (i = 0; i < errs.n; i++)
		printf("%s\n", errs.msg[i]);
	if (rc == 0 && errs.n == 0)
		printf("configuration OK\n");
	conf_errors_free(&errs);
	free(c);
	return rc == 0 ? 0 : 1;
}
