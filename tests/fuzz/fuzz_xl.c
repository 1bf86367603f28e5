/* What the xl driver reads (agent/xl_parse.c): the first byte picks the parser, the rest
 * is `xl list`, `xl list -l` JSON, `xl info`, xl migrate's stderr, a domain name or an
 * xl.cfg definition (which comes from any operator and is rewritten for every start). */
#include "fuzz.h"

#include "agent/xl_parse.h"

static void fuzz_cfg(const char *text)
{
	struct xl_cfg_settings set;
	struct xl_cfg cfg = {0};
	char err[256], *start;
	uint64_t inc;
	uint32_t node;

	if (xl_cfg_parse(text, &cfg, err, sizeof(err)) == 0) {
		size_t i;

		for (i = 0; i < cfg.n; i++)
			FUZZ_CHECK(xl_cfg_get(&cfg, cfg.items[i].key) != NULL);
		xl_cfg_free(&cfg);
	}
	if (xl_cfg_validate(text, err, sizeof(err)) < 0)
		return;
	FUZZ_CHECK(xl_cfg_settings(text, &set) == 0);
	start = xl_cfg_for_start(text, "fuzz", 42, 7, 64, 1, err, sizeof(err));
	if (!start)
		return;
	/* What hax writes for xl create parses, and still carries hax's marks. */
	FUZZ_CHECK(xl_cfg_parse(start, &cfg, err, sizeof(err)) == 0);
	FUZZ_CHECK(xl_cfg_get(&cfg, "extra") != NULL);
	xl_cmdline_hax(xl_cfg_get(&cfg, "extra")->str, &inc, &node);
	FUZZ_CHECK(inc == 42 && node == 7);
	xl_cfg_free(&cfg);
	free(start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, err[256], base[XL_NAME_MAX], line[160];
	struct xl_mig_status st = {0};
	struct xl_dom *doms = NULL;
	struct xl_info info;
	size_t n = 0;
	uint64_t inc;
	uint32_t node;

	if (size < 1)
		return 0;
	text = fuzz_cstr(data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:
		if (xl_parse_list(text, &doms, &n, err, sizeof(err)) == 0)
			free(doms);
		break;
	case 1: {
		/* A table to merge into, then the JSON. */
		static const char table[] =
		    "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
		    "Domain-0                                     0  2048     2     r-----    1.0\n"
		    "web1                                         3   512     1     -b----    "
		    "4.1\n";

		FUZZ_CHECK(xl_parse_list(table, &doms, &n, err, sizeof(err)) == 0);
		(void)xl_merge_list_long(text, doms, n, err, sizeof(err));
		free(doms);
		break;
	}
	case 2:
		(void)xl_parse_info(text, &info);
		break;
	case 3:
		xl_migrate_scan(text, &st);
		xl_last_line(text, line, sizeof(line));
		break;
	case 4:
		(void)xl_split_name(text, base, sizeof(base));
		xl_cmdline_hax(text, &inc, &node);
		break;
	default:
		fuzz_cfg(text);
	}
	free(text);
	return 0;
}
