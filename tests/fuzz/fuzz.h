/*
 * Shared by the libFuzzer targets of tests/fuzz: each defines LLVMFuzzerTestOneInput and
 * feeds one decoder what a peer, a client, a file or a child might send. Built only with
 * meson -Dfuzz=true under clang (tests/fuzz/meson.build).
 */
#ifndef HAX_FUZZ_H
#define HAX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (cut at its first NUL, as a C reader would). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A fuzz target's own check: abort() so that libFuzzer reports the input. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#endif
