/*
 * Running a helper program (a fence agent, hax-fence-scsi, drbdadm) as a child on the
 * one loop: stdin fed from a string, stdout+stderr captured, a hard deadline after
 * which its whole process group is killed. Used by the fence drivers and, later, by the
 * xl driver.
 */
#ifndef HAX_CHILD_H
#define HAX_CHILD_H

#include <stdint.h>

#define CHILD_OUTPUT_MAX 65536

struct child_run;

/* result: 0 = the program exited (see exit_status), -ETIMEDOUT = killed at the deadline,
 * -errno = could not run it. exit_status: its exit code, or 128+signal if killed by a
 * signal. output: stdout and stderr interleaved, NUL-terminated, at most
 * CHILD_OUTPUT_MAX bytes (valid only during the call). */
typedef void (*child_done_fn)(void *opaque, int result, int exit_status, const char *output);

/* Start argv[0] (a path; no shell) with argv. stdin_text (may be NULL) is written to its
 * stdin, which is then closed; the text may hold secrets and is never logged. 0 with
 * *out, or -errno (no callback then). Exactly one done() unless child_cancel() first. */
int child_run(char *const argv[], const char *stdin_text, uint64_t timeout_ms,
	      child_done_fn done, void *opaque, struct child_run **out);

/* Kill the child's process group and forget it; no callback. Accepts NULL. */
void child_cancel(struct child_run *c);

#endif
