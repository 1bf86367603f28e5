/*
 * Helper programs as children of the one loop (child.h). The loop never waits on a
 * child: its stdin text sits whole in a pipe before it starts, its output goes to an
 * unlinked file read once at the end, its exit comes from main.c's SIGCHLD reaper and
 * its deadline from a loop timer. At the deadline the child's whole process group is
 * killed, so an agent's own helpers (ipmitool, ssh, curl) die with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"
#include "child.h"

struct child_run {
	pid_t pid;	      /* also its process group id */
	int out_fd;	      /* unlinked file holding stdout (and stderr unless split) */
	int err_fd;	      /* unlinked file holding stderr (split), else -1 */
	hax_timer_t deadline; /* 0 once fired or deleted, or never armed */
	child_done_fn done;
	child_split_fn split_done;
	void *opaque;
};

/* A pipe that already holds the whole text, its write end closed: the child reads the
 * text then EOF, and the loop never waits for a slow reader. A text larger than the pipe
 * would need a writer on the loop; stdin texts are a few lines, so that is -E2BIG. */
static int stdin_pipe(const char *text)
{
	size_t len = text ? strlen(text) : 0, off = 0;
	int p[2], r;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(p[1], text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno == EAGAIN ? -E2BIG : -errno;
			goto err_close;
		}
		off += (size_t)n;
	}
	close(p[1]);
	/* The child expects an ordinary blocking stdin. */
	if (fcntl(p[0], F_SETFL, 0) < 0) {
		r = -errno;
		close(p[0]);
		return r;
	}
	return p[0];

err_close:
	close(p[0]);
	close(p[1]);
	return r;
}

/* An anonymous file for the output: unlike a pipe it never fills up and stalls the
 * child, and it needs no reader on the loop. It vanishes with its last descriptor. */
static int open_output(void)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* Filesystems without O_TMPFILE: a private name, unlinked at once. */
	if (snprintf(path, sizeof(path), "%s/hax-child.XXXXXX", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

static void close_from(int lowfd)
{
	long fd, max = sysconf(_SC_OPEN_MAX);

	if (close_range((unsigned int)lowfd, ~0U, 0) == 0)
		return;
	/* Kernels before 5.9 have no close_range. */
	for (fd = lowfd; fd < (max > 0 ? max : 1024); fd++)
		close((int)fd);
}

/* In the child, between fork and exec. haxd has no threads, so the whole libc is
 * usable here; every signal is still blocked from child_run. */
static void __attribute__((noreturn)) exec_child(char *const argv[], int in_fd, int out_fd,
						  int err_fd)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int in, out, err, sig;

	/* Its own process group, so that the deadline reaches whatever it starts. */
	setpgid(0, 0);
	/* Copies above 2 first: any descriptor may itself be 0, 1 or 2 when haxd was
	 * started with closed standard streams. */
	in = fcntl(in_fd, F_DUPFD, 3);
	out = fcntl(out_fd, F_DUPFD, 3);
	err = fcntl(err_fd, F_DUPFD, 3);
	if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(err, 2) < 0)
		_exit(127);
	close_from(3);
	/* Handlers vanish at exec by themselves, but ignored signals (haxd ignores
	 * SIGPIPE) and the blocked mask would be inherited by the agent. */
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(argv[0], argv);
	dprintf(2, "cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* The output, NUL-terminated, at most CHILD_OUTPUT_MAX bytes with the NUL. When there is
 * more, the end is kept: that is where programs say why they failed. */
static char *read_output(int fd)
{
	char *buf = hax_xmalloc(CHILD_OUTPUT_MAX);
	size_t len = 0, want = CHILD_OUTPUT_MAX - 1;
	struct stat st;
	off_t off = 0;

	if (fstat(fd, &st) == 0 && st.st_size > (off_t)want)
		off = st.st_size - (off_t)want;
	while (len < want) {
		ssize_t n = pread(fd, buf + len, want - len, off + (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/* Report and forget c. done() may start another child; c is gone by then. */
static void finish(struct child_run *c, int result, int exit_status)
{
	child_done_fn done = c->done;
	child_split_fn split_done = c->split_done;
	void *opaque = c->opaque;
	char *out = read_output(c->out_fd);
	char *err = c->err_fd >= 0 ? read_output(c->err_fd) : NULL;

	close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	free(c);
	if (split_done)
		split_done(opaque, result, exit_status, out, err);
	else
		done(opaque, result, exit_status, out);
	/* An agent may echo its password: leave no copy in freed memory. */
	explicit_bzero(out, CHILD_OUTPUT_MAX);
	free(out);
	if (err) {
		explicit_bzero(err, CHILD_OUTPUT_MAX);
		free(err);
	}
}

static void on_exit_status(void *data, int pid, int status)
{
	struct child_run *c = data;

	(void)pid;
	hax_timer_del(c->deadline);
	finish(c, 0, WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

/* Kill the group and the child itself (it may have left the group with setsid). It is
 * not reaped yet, so neither number can belong to another process. */
static void kill_child(const struct child_run *c)
{
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
}

static void on_deadline(void *data)
{
	struct child_run *c = data;

	c->deadline = 0;
	kill_child(c);
	/* Reported now, not at the reap: a child stuck in the kernel (D state) must not
	 * stretch the deadline. main.c reaps it when it dies; nobody waits for it. */
	hax_child_unwatch(c->pid);
	finish(c, -ETIMEDOUT, 128 + SIGKILL);
}

/* Both front ends: fork, exec, watch, arm the deadline (none when timeout_ms is 0). */
static int start_child(char *const argv[], const char *stdin_text, uint64_t timeout_ms,
		       bool split, struct child_run *c, struct child_run **out)
{
	sigset_t all, old;
	int in_fd, r;

	/* A missing program is the caller's error now, not an exit 127 later. */
	if (access(argv[0], X_OK) < 0)
		return -errno;
	in_fd = stdin_pipe(stdin_text);
	if (in_fd < 0)
		return in_fd;
	c->err_fd = -1;
	c->out_fd = open_output();
	if (c->out_fd < 0) {
		r = c->out_fd;
		goto err_close_in;
	}
	if (split) {
		c->err_fd = open_output();
		if (c->err_fd < 0) {
			r = c->err_fd;
			goto err_close_out;
		}
	}
	/* No haxd signal handler may run in the child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	c->pid = fork();
	if (c->pid == 0)
		exec_child(argv, in_fd, c->out_fd, split ? c->err_fd : c->out_fd);
	r = c->pid < 0 ? -errno : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto err_close_out;
	close(in_fd);
	/* Also from this side: a deadline before the child ran must still find the group. */
	setpgid(c->pid, c->pid);
	r = hax_child_watch(c->pid, on_exit_status, c);
	if (r < 0)
		goto err_kill;
	if (timeout_ms) {
		r = hax_timer_add(timeout_ms, on_deadline, c, &c->deadline);
		if (r < 0)
			goto err_unwatch;
	}
	*out = c;
	return 0;

err_unwatch:
	hax_child_unwatch(c->pid);
err_kill:
	kill_child(c); /* main.c reaps it */
	close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	return r;
err_close_out:
	close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
err_close_in:
	close(in_fd);
	return r;
}

int child_run(char *const argv[], const char *stdin_text, uint64_t timeout_ms, child_done_fn done,
	      void *opaque, struct child_run **out)
{
	struct child_run *c;
	int r;

	if (!argv || !argv[0] || !argv[0][0] || timeout_ms == 0 || !done || !out)
		return -EINVAL;
	c = hax_xcalloc(1, sizeof(*c));
	c->done = done;
	c->opaque = opaque;
	r = start_child(argv, stdin_text, timeout_ms, false, c, out);
	if (r < 0)
		free(c);
	return r;
}

int child_run_split(char *const argv[], uint64_t timeout_ms, child_split_fn done, void *opaque,
		    struct child_run **out)
{
	struct child_run *c;
	int r;

	if (!argv || !argv[0] || !argv[0][0] || !done || !out)
		return -EINVAL;
	c = hax_xcalloc(1, sizeof(*c));
	c->split_done = done;
	c->opaque = opaque;
	r = start_child(argv, NULL, timeout_ms, true, c, out);
	if (r < 0)
		free(c);
	return r;
}

ssize_t child_read_stderr(const struct child_run *c, uint64_t from, char *buf, size_t len)
{
	ssize_t n;

	do
		n = pread(c->err_fd >= 0 ? c->err_fd : c->out_fd, buf, len, (off_t)from);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

pid_t child_pid(const struct child_run *c)
{
	return c->pid;
}

void child_detach(struct child_run *c)
{
	if (!c)
		return;
	hax_timer_del(c->deadline);
	hax_child_unwatch(c->pid);
	close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	free(c);
}

int child_signal(struct child_run *c, int sig)
{
	/* Not reaped yet (we would have been told): neither number can be recycled. */
	kill(-c->pid, sig);
	return kill(c->pid, sig) < 0 ? -errno : 0;
}

void child_cancel(struct child_run *c)
{
	if (!c)
		return;
	hax_timer_del(c->deadline);
	hax_child_unwatch(c->pid);
	kill_child(c);
	close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	free(c);
}
