/*
 * haxd: options, configuration, logging, signals and the one loop; node.c does the rest.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "../agent/hv.h"
#include "../conf/conf.h"
#include "ipc_auth.h"
#include "lib/loop.h"
#include "lib/loop_qb.h"
#include "node.h"
#include "proto.h"
#include "state.h"

struct haxd {
	struct hax_conf conf;
	char conf_path[PATH_MAX];
	struct conf_host self;
	struct hax_state *state;         /* until the node takes it */
	qb_loop_t *loop;
	bool standalone;
	struct ipc_auth auth;            /* read by the IPC server at every connection */
};

/* The daemon is one process with one loop: this is its single instance. */
static struct haxd hd;

/* ---- timers and signals ---- */

static int32_t on_stop_signal(int32_t sig, void *data)
{
	(void)data;
	hax_log(LOG_NOTICE, "signal %d: stopping (domains keep running)", sig);
	qb_loop_stop(hd.loop);
	return 0;
}

static void print_conf_errors(const struct conf_errors *errs, int prio)
{
	int i;

	for (i = 0; i < errs->n; i++)
		hax_log(prio, "%s", errs->msg[i]);
}

/* Re-read the file: an invalid one keeps the old configuration; a valid one replaces the
 * reloadable cluster settings (the rest needs a restart and is said so). */
static void apply_log_level(int level)
{
	int t;

	for (t = QB_LOG_SYSLOG; t <= QB_LOG_STDERR; t++) {
		qb_log_filter_ctl(t, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
		qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
	}
}

/* What the new file changes that only a restart applies: logged one by one (the file is
 * applied otherwise) and returned for haxctl. */
static json_t *restart_needed(const struct hax_conf *live, const struct hax_conf *fresh)
{
	char labels[16][CONF_LABEL_MAX];
	json_t *list = json_array();
	int i, n = conf_restart_needed(live, fresh, labels, 16);

	for (i = 0; i < n && i < 16; i++) {
		hax_log(LOG_WARNING, "reload: %s: takes effect when haxd restarts", labels[i]);
		json_array_append_new(list, json_string(labels[i]));
	}
	if (n > 16)
		hax_log(LOG_WARNING, "reload: and %d more sections changed that need a restart",
			n - 16);
	return list;
}

/* Re-read the file (SIGHUP, haxctl reload): an invalid one keeps the old configuration
 * and every error is logged and returned; a valid one replaces the reloadable cluster
 * settings (the rest needs a restart, and is said so). */
static void build_auth(void);

static json_t *reload(void)
{
	struct hax_conf *fresh = hax_xcalloc(1, sizeof(*fresh));
	struct conf_errors errs = {0};
	struct conf_cluster *c = &hd.conf.cluster;
	json_t *reply, *lines = json_array();
	int i;

	if (conf_parse_file(hd.conf_path, fresh, &errs) < 0) {
		print_conf_errors(&errs, LOG_ERR);
		for (i = 0; i < errs.n; i++)
			json_array_append_new(lines, json_string(errs.msg[i]));
		hax_log(LOG_ERR, "reload: %s is invalid, keeping the running configuration",
			hd.conf_path);
		reply = json_pack("{s:b, s:s, s:o}", "ok", 0, "error",
				  "invalid configuration, the running one is kept", "errors", lines);
	} else {
		c->tick_ms = fresh->cluster.tick_ms;
		c->start_timeout_ms = fresh->cluster.start_timeout_ms;
		c->stop_timeout_ms = fresh->cluster.stop_timeout_ms;
		c->migrate_timeout_ms = fresh->cluster.migrate_timeout_ms;
		c->migrate_concurrency = fresh->cluster.migrate_concurrency;
		c->migrate_host_concurrency = fresh->cluster.migrate_host_concurrency;
		c->start_retries = fresh->cluster.start_retries;
		c->no_quorum_policy = fresh->cluster.no_quorum_policy;
		c->no_quorum_timeout_ms = fresh->cluster.no_quorum_timeout_ms;
		c->fence_retry_ms = fresh->cluster.fence_retry_ms;
		c->agent_lost_timeout_ms = fresh->cluster.agent_lost_timeout_ms;
		memcpy(c->domain_paths, fresh->cluster.domain_paths, sizeof(c->domain_paths));
		/* Group members may have changed (the group names need a restart). */
		build_auth();
		if (c->log_level != fresh->cluster.log_level)
			apply_log_level(fresh->cluster.log_level);
		c->log_level = fresh->cluster.log_level;
		reply = json_pack("{s:b, s:o}", "ok", 1, "restart_needed",
				  restart_needed(&hd.conf, fresh));
		hax_log(LOG_NOTICE, "reload: %s applied", hd.conf_path);
		json_decref(lines);
	}
	conf_errors_free(&errs);
	free(fresh);
	return reply;
}

static int32_t on_hup(int32_t sig, void *data)
{
	(void)sig;
	(void)data;
	json_decref(reload());
	return 0;
}

/* ---- startup ---- */

static int find_self(const char *name)
{
	char host[HAX_NAME_MAX] = "";
	const struct conf_host *h;

	if (!name) {
		gethostname(host, sizeof(host) - 1);
		host[strcspn(host, ".")] = '\0';
		name = host;
	}
	h = conf_host_by_name(&hd.conf, name);
	if (h) {
		hd.self = *h;
		return 0;
	}
	if (hd.conf.nhosts > 0 || !hd.standalone || !hax_valid_name(name)) {
		fprintf(stderr, "haxd: host \"%s\" is not in %s (name this host with -H NAME)\n",
			name, hd.conf_path);
		return -ENOENT;
	}
	/* Standalone with no [host] section: this machine, nodeid 1. */
	hax_strlcpy(hd.self.name, name, sizeof(hd.self.name));
	hd.self.nodeid = 1;
	snprintf(hd.self.iqn, sizeof(hd.self.iqn), "iqn.2026-11.org.hax:%s", name);
	return 0;
}

static int load_state(void)
{
	char err[256];
	int r;

	if (mkdir(hd.conf.cluster.state_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "haxd: %s: %s\n", hd.conf.cluster.state_dir, strerror(errno));
		return -errno;
	}
	r = state_load(hd.conf.cluster.state_dir, &hd.state, err, sizeof(err));
	if (r == -ENOENT) {
		hd.state = state_new(hd.conf.cluster.name);
		return 0;
	}
	if (r < 0) {
		/* Safety: an unreadable state could hide running domains; never start empty. */
		fprintf(stderr, "haxd: cannot load %s/state.json: %s\n", hd.conf.cluster.state_dir,
			err);
		return r;
	}
	if (strcmp(hd.state->cluster, hd.conf.cluster.name) != 0) {
		fprintf(stderr, "haxd: %s/state.json belongs to cluster \"%s\", not \"%s\"\n",
			hd.conf.cluster.state_dir, hd.state->cluster, hd.conf.cluster.name);
		return -EINVAL;
	}
	return 0;
}

/* Resolve the two IPC groups and their members now, off the loop's hot path: a slow
 * NSS (LDAP) then delays a start or a reload, never a client or a cluster event. */
static void build_auth(void)
{
	const struct conf_cluster *c = &hd.conf.cluster;

	ipc_auth_build(&hd.auth, c->client_group, c->monitor_group);
	if (hd.auth.operator.gid == (gid_t)-1)
		hax_log(LOG_WARNING, "group %s does not exist: only root may change the cluster through haxctl",
			c->client_group);
	if (hd.auth.monitor.gid == (gid_t)-1)
		hax_log(LOG_INFO, "group %s does not exist: no read-only clients",
			c->monitor_group);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: haxd [OPTIONS]\n"
		"The hax cluster high-availability daemon (agent and, on one host, leader).\n\n"
		"  -c, --config FILE    configuration file (default /etc/hax/haxd.conf)\n"
		"  -n, --check          check the configuration, print errors and warnings,\n"
		"                       exit 0 or 2\n"
		"  -f, --foreground     log to stderr instead of syslog\n"
		"  -s, --standalone     single host: leader and agent here, no corosync\n"
		"  -H, --host NAME      this host's [host NAME] section (default: hostname)\n"
		"      --ipc-name NAME  IPC service name (default haxd, or $HAX_IPC)\n"
		"  -h, --help           this help\n"
		"  -V, --version        print the version\n");
}

static void setup_logging(bool foreground, int level)
{
	qb_log_init("haxd", LOG_DAEMON, level);
	qb_log_format_set(QB_LOG_STDERR, "%t haxd[%P]: %p %b");
	if (foreground) {
		qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
}

static int check_only(void)
{
	struct conf_errors errs = {0};
	int r = conf_parse_file(hd.conf_path, &hd.conf, &errs), i;

	for (i = 0; i < errs.n; i++)
		printf("%s\n", errs.msg[i]);
	conf_errors_free(&errs);
	if (r < 0)
		return 2;
	{
		char warn[CONF_MAX_HOSTS][512];
		int nw = conf_warnings(&hd.conf, warn, CONF_MAX_HOSTS);

		for (i = 0; i < nw; i++)
			printf("%s\n", warn[i]);
	}
	printf("configuration OK\n");
	return 0;
}

static int start_node(const char *ipc_name)
{
	struct node_params p = {
		.conf = &hd.conf,
		.self = &hd.self,
		.state = hd.state,
		.standalone = hd.standalone,
		.ipc_name = ipc_name,
		.auth = &hd.auth,
		.reload = reload,
	};
	char err[256];
	int r;

	build_auth();
	p.driver = hv_lookup(conf_driver_name(hd.conf.cluster.driver));
	if (!p.driver) {
		fprintf(stderr, "haxd: hypervisor driver %s is not available in this build\n",
			conf_driver_name(hd.conf.cluster.driver));
		return -ENOTSUP;
	}
	hd.state = NULL; /* the node owns it now */
	r = node_start(hd.loop, &p, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "haxd: %s\n", err);
	hax_log(r < 0 ? LOG_ERR : LOG_NOTICE, "haxd %s %s: host %s (nodeid %u), %s mode, driver %s",
		HAX_VERSION, r < 0 ? "failed to start" : "started", hd.self.name, hd.self.nodeid,
		hd.standalone ? "standalone" : "cluster", p.driver->name);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'n'},
		{"foreground", no_argument, NULL, 'f'},   {"standalone", no_argument, NULL, 's'},
		{"host", required_argument, NULL, 'H'},   {"ipc-name", required_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *host = NULL, *ipc_name = getenv(HAX_IPC_ENV);
	struct conf_errors errs = {0};
	qb_loop_signal_handle sh;
	bool check = false, fg = false;
	int c, r;

	hax_strlcpy(hd.conf_path, "/etc/hax/haxd.conf", sizeof(hd.conf_path));
	while ((c = getopt_long(argc, argv, "c:nfsH:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': hax_strlcpy(hd.conf_path, optarg, sizeof(hd.conf_path)); break;
		case 'n': check = true; break;
		case 'f': fg = true; break;
		case 's': hd.standalone = true; break;
		case 'H': host = optarg; break;
		case 'I': ipc_name = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("haxd %s\n", HAX_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "haxd: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (check)
		return check_only();
	if (conf_parse_file(hd.conf_path, &hd.conf, &errs) < 0) {
		for (c = 0; c < errs.n; c++)
			fprintf(stderr, "%s\n", errs.msg[c]);
		conf_errors_free(&errs);
		return 2;
	}
	conf_errors_free(&errs);
	setup_logging(fg, hd.conf.cluster.log_level);
	if (find_self(host) < 0 || load_state() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	hd.loop = qb_loop_create();
	hax_loop_qb_init(hd.loop);
	qb_loop_signal_add(hd.loop, QB_LOOP_HIGH, SIGTERM, NULL, on_stop_signal, &sh);
	qb_loop_signal_add(hd.loop, QB_LOOP_HIGH, SIGINT, NULL, on_stop_signal, &sh);
	qb_loop_signal_add(hd.loop, QB_LOOP_HIGH, SIGHUP, NULL, on_hup, &sh);
	r = start_node(ipc_name && *ipc_name ? ipc_name : HAX_IPC_DEFAULT_NAME);
	if (r == 0)
		qb_loop_run(hd.loop);
	node_stop();
	state_free(hd.state);
	qb_loop_destroy(hd.loop);
	qb_log_fini();
	return r == 0 ? 0 : 1;
}
