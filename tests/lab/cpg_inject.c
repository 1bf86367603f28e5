/*
 * A hostile member of the lab's cluster, for tests/lab/secrets.sh: joins haxd's CPG
 * group, multicasts each argument as one message (as bytes, without its NUL), leaves.
 * Usage: cpg_inject MESSAGE...   Exit 0 once every message was sent.
 */
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <corosync/cpg.h>

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
		       void *msg, size_t len)
{
	(void)h, (void)g, (void)nodeid, (void)pid, (void)msg, (void)len;
}

int main(int argc, char **argv)
{
	cpg_callbacks_t cb = {.cpg_deliver_fn = on_deliver};
	struct cpg_name group;
	cpg_handle_t h;
	int i, tries;

	if (argc < 2) {
		fprintf(stderr, "usage: cpg_inject MESSAGE...\n");
		return 2;
	}
	strcpy(group.value, "haxd");
	group.length = 4;
	cs_error_t e = cpg_initialize(&h, &cb);

	/* corosync answers "try again" while it synchronises: a join right after a
	 * membership change may need a few. */
	for (tries = 0; e == CS_OK && (e = cpg_join(h, &group)) == CS_ERR_TRY_AGAIN && tries < 200;
	     tries++)
		usleep(50000);
	if (e != CS_OK) {
		fprintf(stderr, "cpg_inject: cannot join the haxd group (cs_error %d)\n", (int)e);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		struct iovec iov = {.iov_base = argv[i], .iov_len = strlen(argv[i])};

		for (tries = 0; cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1) == CS_ERR_TRY_AGAIN;
		     tries++) {
			if (tries == 100) {
				fprintf(stderr, "cpg_inject: corosync keeps saying try again\n");
				return 1;
			}
			usleep(10000);
		}
	}
	cpg_dispatch(h, CS_DISPATCH_ALL);
	cpg_leave(h, &group);
	cpg_finalize(h);
	return 0;
}
