/*
 * Test helper: play a fencer against a LUN with SCSI-3 persistent reservations.
 *   journal_pr_tool URL INITIATOR STEP...
 * STEP is one of: register KEY | reserve KEY | preempt KEY VICTIM | clear KEY | sleep MS
 * (reservations are Write Exclusive - Registrants Only, as hax's fencing uses). All steps
 * run on one session because tgt drops a session's registrations when it ends. Exit 0 if
 * every step succeeded, 1 otherwise, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

static int pr_out(struct iscsi_context *ctx, int lun, int sa, uint64_t key, uint64_t sa_key)
{
	struct scsi_persistent_reserve_out_basic p = {
	    .reservation_key = key,
	    .service_action_reservation_key = sa_key,
	};
	struct scsi_task *t;
	int ok;

	/* The first command of a session may collect a UNIT ATTENTION: one retry. */
	for (int i = 0; i < 2; i++) {
		t = iscsi_persistent_reserve_out_sync(
		    ctx, lun, sa, SCSI_PERSISTENT_RESERVE_SCOPE_LU,
		    SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY, &p);
		if (!t) {
			fprintf(stderr, "pr_tool: %s\n", iscsi_get_error(ctx));
			return -1;
		}
		ok = t->status == SCSI_STATUS_GOOD;
		if (!ok)
			fprintf(stderr, "pr_tool: service action %d: status 0x%x sense %s\n", sa,
				t->status, scsi_sense_key_str(t->sense.key));
		if (ok || t->status != SCSI_STATUS_CHECK_CONDITION ||
		    t->sense.key != SCSI_SENSE_UNIT_ATTENTION) {
			scsi_free_scsi_task(t);
			return ok ? 0 : -1;
		}
		scsi_free_scsi_task(t);
	}
	return -1;
}

static int step(struct iscsi_context *ctx, int lun, int argc, char **argv, int *used)
{
	const char *op = argv[0];
	uint64_t key;

	*used = 2;
	if (argc < 2)
		return -2;
	key = strtoull(argv[1], NULL, 0);
	if (strcmp(op, "sleep") == 0) {
		struct timespec ts = {(time_t)(key / 1000), (long)(key % 1000) * 1000000};

		nanosleep(&ts, NULL);
		return 0;
	}
	if (strcmp(op, "register") == 0)
		return pr_out(ctx, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0,
			      key);
	if (strcmp(op, "reserve") == 0)
		return pr_out(ctx, lun, SCSI_PERSISTENT_RESERVE_RESERVE, key, 0);
	if (strcmp(op, "clear") == 0)
		return pr_out(ctx, lun, SCSI_PERSISTENT_RESERVE_CLEAR, key, 0);
	if (strcmp(op, "preempt") == 0 && argc >= 3) {
		*used = 3;
		return pr_out(ctx, lun, SCSI_PERSISTENT_RESERVE_PREEMPT, key,
			      strtoull(argv[2], NULL, 0));
	}
	return -2;
}

int main(int argc, char **argv)
{
	struct iscsi_context *ctx;
	struct iscsi_url *url;
	int rc = 0;

	if (argc < 4) {
		fputs("usage: journal_pr_tool URL INITIATOR STEP...\n", stderr);
		return 2;
	}
	ctx = iscsi_create_context(argv[2]);
	url = ctx ? iscsi_parse_full_url(ctx, argv[1]) : NULL;
	if (!url) {
		fprintf(stderr, "pr_tool: bad url %s\n", argv[1]);
		return 2;
	}
	iscsi_set_targetname(ctx, url->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	if (iscsi_full_connect_sync(ctx, url->portal, url->lun) != 0) {
		fprintf(stderr, "pr_tool: login: %s\n", iscsi_get_error(ctx));
		return 1;
	}
	for (int i = 3; i < argc && rc == 0;) {
		int used;

		rc = step(ctx, url->lun, argc - i, argv + i, &used);
		if (rc == -2) {
			fprintf(stderr, "pr_tool: bad step '%s'\n", argv[i]);
			return 2;
		}
		printf("pr_tool: %s %s: %s\n", argv[i], argv[i + 1], rc ? "failed" : "ok");
		fflush(stdout);
		i += used;
	}
	iscsi_logout_sync(ctx);
	iscsi_destroy_url(url);
	iscsi_destroy_context(ctx);
	return rc ? 1 : 0;
}
