/*
 * Running a helper program (a fence agent, hax-fence-scsi, drbdadm) as a child on the
 * one loop: stdin fed from a string, stdout+stderr captured, a hard deadline after
 * which its whole process group is killed. Used by the fence drivers and by the xl
 * driver, which also needs stdout apart from stderr (JSON on one, messages on the
 * other), stderr while the child still runs (xl migrate's phase lines) and, for a
 * migration that must never be killed past a point, no deadline at all.
 */
#include <sys/types.h>

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

/* Like child_done_fn, with stdout and stderr captured apart (each NUL-terminated, at
 * most CHILD_OUTPUT_MAX bytes, the end kept; valid only during the call). */
typedef void (*child_split_fn)(void *opaque, int result, int exit_status, const char *out,
			       const char *err);

/* Like child_run, with stdin empty and stdout and stderr apart. timeout_ms 0 = no
 * deadline: the caller ends the child itself (child_signal) if it must. */
int child_run_split(char *const argv[], uint64_t timeout_ms, child_split_fn done, void *opaque,
		    struct child_run **out);

/* What the child wrote to stderr so far (its whole output for child_run), from byte
 * offset from: up to len bytes into buf. The count, 0 when there is nothing new, or
 * -errno. For progress read while the child runs. */
ssize_t child_read_stderr(const struct child_run *c, uint64_t from, char *buf, size_t len);

/* Send sig to the child's process group (and the child). The callback still comes once
 * it exits. 0 or -errno. */
int child_signal(struct child_run *c, int sig);

/* The child's pid (also its process group), e.g. to find what it started. */
pid_t child_pid(const struct child_run *c);

/* Forget the child without killing it: no callback; it is reaped when it exits. For a
 * child that must be left to finish on its own (haxd stopping in the middle of an xl
 * migrate past its point of no return). Accepts NULL. */
void child_detach(struct child_run *c);

#endif
