/* A fence agent's output as haxd reads it (fencing/fence.c): the last line, the secret
 * masked. Input: the secret, a newline, the output. The oracle: a secret the output holds
 * never reaches the line that goes to logs, events and fence records. */
#include "fuzz.h"

#include "fencing/fence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size < 65 ? size : 65);
	char *secret, *output, line[256];
	size_t i, slen;
	bool plain = true;

	if (!nl)
		return 0;
	slen = (size_t)(nl - data);
	secret = fuzz_cstr(data, slen);
	output = fuzz_cstr(nl + 1, size - slen - 1);
	fence_last_line(output, secret, line, sizeof(line));
	/* A secret of visible characters other than the mask cannot be rebuilt from masked
	 * or blanked bytes: it must not be in the line. */
	for (i = 0; secret[i]; i++)
		if ((unsigned char)secret[i] <= 0x20 || secret[i] == '*' || secret[i] == 0x7f)
			plain = false;
	if (plain && secret[0] && strcmp(line, "(no output)") != 0)
		FUZZ_CHECK(strstr(line, secret) == NULL);
	fence_scrub(output, secret);
	if (plain && secret[0])
		FUZZ_CHECK(strstr(output, secret) == NULL);
	free(secret);
	free(output);
	return 0;
}
