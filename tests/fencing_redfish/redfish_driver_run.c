/*
 * Test harness: one redfish fence (or dry run) for real, the way haxd runs it: the
 * driver found through the registry, the real child runner on a qb_loop, the real
 * hax-fence-redfish ($HAX_FENCE_REDFISH) against a BMC (redfish_lab in the tests).
 *   redfish_driver_run --host hN --url URL [--username U] [--password-file F]
 *                      [--plug SYSTEM] [--no-ssl-verify] [--timeout 10s] [--dry-run]
 * Prints "result R in N ms: MESSAGE". Exit 0 if the driver reported success, 1 if it
 * reported a failure, 2 usage or setup trouble, 3 if the password showed in the message
 * or a log line.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "fencing/fence.h"
#include "lib/util.h"
#include "tests/lib/loop_seam.h"

#define HARD_LIMIT_MS 120000 /* never hang a test run */

static int ndone, done_result;
static char done_msg[1024];

static void on_done(void *opaque, int result, const char *msg)
{
	(void)opaque;
	ndone++;
	done_result = result;
	snprintf(done_msg, sizeof(done_msg), "%s", msg);
	seam_stop();
}

static int parse(int argc, char **argv, struct conf_fence *dev, const char **host, bool *dry)
{
	static const struct option lopts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"url", required_argument, NULL, 'u'},
	    {"username", required_argument, NULL, 'U'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"plug", required_argument, NULL, 's'},
	    {"no-ssl-verify", no_argument, NULL, 'k'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1 && r == 0) {
		switch (c) {
		case 'H':
			*host = optarg;
			break;
		case 'u':
			r = hax_strlcpy(dev->url, optarg, sizeof(dev->url));
			break;
		case 'U':
			r = hax_strlcpy(dev->username, optarg, sizeof(dev->username));
			break;
		case 'p':
			r = hax_strlcpy(dev->password_file, optarg, sizeof(dev->password_file));
			break;
		case 's':
			r = hax_strlcpy(dev->plug, optarg, sizeof(dev->plug));
			break;
		case 'k':
			dev->ssl_verify = false;
			break;
		case 'T':
			r = hax_parse_duration_ms(optarg, &dev->timeout_ms);
			break;
		case 'n':
			*dry = true;
			break;
		default:
			r = -1;
		}
	}
	return r < 0 || optind != argc || !*host ? -1 : 0;
}

/* The first line of the password file, to look for it where it must not be. */
static void read_secret(const char *file, char *out, size_t len)
{
	FILE *f = file[0] ? fopen(file, "r") : NULL;

	out[0] = '\0';
	if (f && fgets(out, (int)len, f))
		out[strcspn(out, "\r\n")] = '\0';
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	struct conf_fence dev = {
	    .driver = CONF_FENCE_REDFISH, .timeout_ms = 10000, .ssl_verify = true};
	static const struct hax_conf conf;
	const struct fence_driver *drv = fence_driver_for(CONF_FENCE_REDFISH);
	struct fence_target t = {.nodeid = 1};
	struct fence_op *op = NULL;
	const char *host = NULL;
	char secret[512];
	uint64_t t0;
	bool dry = false;
	int r;

	if (parse(argc, argv, &dev, &host, &dry) < 0 || !drv) {
		fprintf(stderr,
			"usage: redfish_driver_run --host hN --url URL [--username U] "
			"[--password-file F] [--plug SYSTEM] [--no-ssl-verify] "
			"[--timeout 10s] [--dry-run]%s\n",
			drv ? "" : " (no redfish driver linked)");
		return 2;
	}
	t.host = host;
	read_secret(dev.password_file, secret, sizeof(secret));
	if (seam_init() < 0)
		return 2;
	t0 = hax_now_mono_ns();
	r = drv->start(&conf, &dev, &t, dry, on_done, NULL, &op);
	if (r < 0) {
		printf("start failed: %d\n", r);
		return 2;
	}
	if (!seam_run_until(&ndone, 1, HARD_LIMIT_MS)) {
		drv->cancel(op);
		printf("no result within %d ms\n", HARD_LIMIT_MS);
		return 2;
	}
	printf("result %d in %llu ms: %s\n", done_result,
	       (unsigned long long)((hax_now_mono_ns() - t0) / 1000000), done_msg);
	seam_fini();
	if (secret[0] && (strstr(done_msg, secret) || strstr(seam_log, secret))) {
		printf("LEAK: the password shows in the message or the log\n");
		return 3;
	}
	return done_result == 0 ? 0 : 1;
}
