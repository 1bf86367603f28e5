/*
 * hax-fence-redfish: power a host off through its BMC's Redfish service, for hax's
 * "redfish" fence driver (fencing/fence_redfish.c), or by hand. One command:
 *   off      ComputerSystem.Reset with ResetType ForceOff, then poll the system's
 *            PowerState until it reads Off: only that is a confirmed fence
 *   status   exit 0 if PowerState is On (or anything but Off), 2 if Off, 1 on error
 *   monitor  the service root /redfish/v1 answers
 *
 * It is a short-lived child of haxd, so it may block, but never past --timeout: every
 * request carries what is left of it (libcurl's CURLOPT_TIMEOUT_MS), and the poll stops
 * there. The password is the first line of stdin, never an argument, so it shows in
 * neither ps nor /proc/PID/cmdline; it is never printed.
 *
 * TLS: the certificate is verified by default (--cacert FILE names the CA that signed a
 * BMC's own certificate; --insecure turns verification off). Only https is spoken, and
 * redirects are not followed: basic-auth credentials must not travel elsewhere.
 *
 * Which system: --system PATH (or an id under /redfish/v1/Systems/); without it the BMC
 * must list exactly one system. A BMC that lists several (a blade chassis, a multi-node
 * server) is refused rather than guessing the first: fencing the wrong machine would
 * report a fence that never happened.
 *
 * Exit: 0 ok (status: on), 1 failure (one line on stderr), 2 usage (status: off, with
 * "Status: OFF" on stdout, as fence agents answer).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "fencing/redfish_parse.h"
#include "lib/util.h"

#define PROG "hax-fence-redfish"
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_OFF 2 /* status: powered off */

#define DEFAULT_TIMEOUT_MS 10000
#define MAX_TIMEOUT_MS 600000
#define CONNECT_MAX_MS 5000 /* a lost SYN is retried by the poll, not waited out */
#define BODY_MAX (1 << 20)
#define PASSWORD_MAX 512
#define URL_MAX REDFISH_URL_MAX
#define POLL_FIRST_MS 200
#define POLL_MAX_MS 1000
#define POLL_LAST_MS 100 /* time the last look at PowerState gets at least */
#define SYSTEMS_PATH "/redfish/v1/Systems"

enum cmd { CMD_OFF, CMD_STATUS, CMD_MONITOR };

static const char *const cmd_names[] = {"off", "status", "monitor"};

struct opts {
	enum cmd cmd;
	const char *url, *system, *username, *cacert;
	bool insecure;
	uint64_t timeout_ms;
};

struct body {
	char *data;
	size_t len;
	bool too_big;
};

struct rf {
	const struct opts *o;
	CURL *curl;
	struct curl_slist *headers;
	char base[URL_MAX];	     /* https://HOST[:PORT], no trailing slash */
	char password[PASSWORD_MAX]; /* wiped before exit */
	uint64_t start_ns, deadline_ns;
	char curl_err[CURL_ERROR_SIZE];
	char err[768];	  /* why the last step failed, one line */
	long http_status; /* of the last request, 0 if none came */
	struct body body;
};

static void set_err(struct rf *rf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct rf *rf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rf->err, sizeof(rf->err), fmt, ap);
	va_end(ap);
	/* One line: a BMC's message or curl's may hold line breaks. */
	for (char *p = rf->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (size_t n = strlen(rf->err); n > 0 && rf->err[n - 1] == ' '; n--)
		rf->err[n - 1] = '\0';
}

static uint64_t left_ms(const struct rf *rf)
{
	uint64_t now = hax_now_mono_ns();

	return now >= rf->deadline_ns ? 0 : (rf->deadline_ns - now + 999999) / 1000000;
}

/* ---- HTTP ---- */

static size_t on_body(char *data, size_t size, size_t n, void *opaque)
{
	struct body *b = opaque;
	size_t len = size * n;

	if (b->len + len > BODY_MAX) {
		b->too_big = true;
		return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
	}
	b->data = hax_xrealloc(b->data, b->len + len + 1);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static const char *status_text(long code)
{
	switch (code) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized (check the username and password)";
	case 403:
		return "Forbidden (the account may not do this)";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return code >= 500 ? "server error" : code >= 400 ? "client error" : "unexpected";
	}
}

static int setup_curl(struct rf *rf)
{
	const struct opts *o = rf->o;
	CURL *c = curl_easy_init();

	if (!c)
		return -ENOMEM;
	rf->curl = c;
	rf->headers = curl_slist_append(NULL, "Accept: application/json");
	rf->headers = curl_slist_append(rf->headers, "OData-Version: 4.0");
	rf->headers = curl_slist_append(rf->headers, "Content-Type: application/json");
	if (!rf->headers)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, rf->headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PROG "/" HAX_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, rf->curl_err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rf->body);
	if (o->username) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, o->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, rf->password);
	}
	if (o->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (o->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	return 0;
}

/* Send one request to url and collect its answer in rf->body and rf->http_status,
 * under what is left of the deadline. 0, or -errno with rf->err saying why: -EIO when
 * no HTTP answer came (refused, TLS, timeout, too big). */
static int perform(struct rf *rf, const char *url, const char *post_json)
{
	uint64_t ms = left_ms(rf);
	CURLcode rc;

	free(rf->body.data);
	rf->body = (struct body){0};
	rf->curl_err[0] = '\0';
	rf->http_status = 0;
	if (ms == 0) {
		set_err(rf, "%s: timeout (%" PRIu64 " ms) reached", url, rf->o->timeout_ms);
		return -ETIMEDOUT;
	}
	curl_easy_setopt(rf->curl, CURLOPT_URL, url);
	curl_easy_setopt(rf->curl, CURLOPT_TIMEOUT_MS, (long)ms);
	curl_easy_setopt(rf->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(ms < CONNECT_MAX_MS ? ms : CONNECT_MAX_MS));
	if (post_json) {
		curl_easy_setopt(rf->curl, CURLOPT_POSTFIELDS, post_json);
		curl_easy_setopt(rf->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(post_json));
	} else {
		curl_easy_setopt(rf->curl, CURLOPT_HTTPGET, 1L);
	}
	rc = curl_easy_perform(rf->curl);
	if (rc != CURLE_OK) {
		set_err(rf, "%s: %s", url,
			rf->body.too_big  ? "answer larger than 1 MiB"
			: rf->curl_err[0] ? rf->curl_err
					  : curl_easy_strerror(rc));
		return -EIO;
	}
	curl_easy_getinfo(rf->curl, CURLINFO_RESPONSE_CODE, &rf->http_status);
	return 0;
}

/* One request to BASE+path (post_json NULL: GET). 0 with a 2xx answer, its JSON object
 * body (or NULL if it had none) in *reply if reply is not NULL; -errno otherwise, with
 * rf->err saying why. -EACCES: 401/403, -ENOENT: 404, -EPROTO: another HTTP error,
 * -EIO: no answer (transport), -EBADMSG: an answer that is not a JSON object. */
static int http(struct rf *rf, const char *path, const char *post_json, json_t **reply)
{
	char url[URL_MAX * 2];
	long code;
	json_error_t jerr;
	json_t *j = NULL;
	int r;

	snprintf(url, sizeof(url), "%s%s", rf->base, path);
	r = perform(rf, url, post_json);
	if (r < 0)
		return r;
	code = rf->http_status;
	if (rf->body.len)
		j = json_loadb(rf->body.data, rf->body.len, 0, &jerr);
	if (code < 200 || code > 299) {
		const char *m = redfish_message(j);

		set_err(rf, "%s: HTTP %ld %s%s%s", url, code, status_text(code), m ? ": " : "",
			m ? m : "");
		json_decref(j);
		return code == 401 || code == 403 ? -EACCES : code == 404 ? -ENOENT : -EPROTO;
	}
	if (rf->body.len && !json_is_object(j)) {
		set_err(rf, "%s: HTTP %ld, but the answer is not a JSON object", url, code);
		json_decref(j);
		return -EBADMSG;
	}
	if (reply)
		*reply = j;
	else
		json_decref(j);
	return 0;
}

/* ---- Redfish ---- */

/* The system's path: --system, else the one member of /redfish/v1/Systems. */
static int find_system(struct rf *rf, char *path, size_t len)
{
	const char *s = rf->o->system;
	json_t *coll = NULL;
	const char *p;
	size_t n;
	int r;

	if (s && s[0] == '/')
		return hax_strlcpy(path, s, len);
	if (s)
		return snprintf(path, len, SYSTEMS_PATH "/%s", s) < (int)len ? 0 : -ENAMETOOLONG;
	r = http(rf, SYSTEMS_PATH, NULL, &coll);
	if (r < 0)
		return r;
	r = redfish_pick_system(coll, &p, &n, &s);
	if (r == 0) {
		hax_strlcpy(path, p, len);
	} else if (r == -EBADMSG) {
		set_err(rf, "%s" SYSTEMS_PATH ": no usable Members[0].@odata.id", rf->base);
	} else if (n == 0) {
		set_err(rf, "%s" SYSTEMS_PATH ": the BMC lists no system", rf->base);
	} else {
		set_err(rf,
			"%s" SYSTEMS_PATH ": %zu systems listed (the first is %s): name one "
			"with --system",
			rf->base, n, s ? s : "?");
	}
	json_decref(coll);
	return r;
}

/* GET the system; its PowerState into state. The reset action's target into action
 * if it is not NULL (the system's Actions, else the conventional path). */
static int get_system(struct rf *rf, const char *path, char *state, size_t len, char *action,
		      size_t alen)
{
	json_t *sys = NULL;
	const char *ps, *target;
	int r;

	r = http(rf, path, NULL, &sys);
	if (r < 0)
		return r;
	if (redfish_system_power(sys, &ps, &target) < 0 || strlen(ps) >= len) {
		set_err(rf, "%s%s: no PowerState in the answer", rf->base, path);
		json_decref(sys);
		return -EBADMSG;
	}
	hax_strlcpy(state, ps, len);
	if (action) {
		if (target)
			hax_strlcpy(action, target, alen);
		else
			snprintf(action, alen, "%s/Actions/ComputerSystem.Reset", path);
	}
	json_decref(sys);
	return 0;
}

static double elapsed_s(const struct rf *rf)
{
	return (double)(hax_now_mono_ns() - rf->start_ns) / 1e9;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Poll PowerState until Off. A transport error or a 5xx is a busy BMC: poll on. A
 * refusal (401, 403, 404) will not go away: give up at once. */
static int wait_off(struct rf *rf, const char *path)
{
	uint64_t pause = POLL_FIRST_MS, left;
	char state[64] = "", last[sizeof(rf->err)] = "";
	int r;

	for (;;) {
		r = get_system(rf, path, state, sizeof(state), NULL, 0);
		if (r == 0 && strcmp(state, "Off") == 0)
			return 0;
		if (r == -EACCES || r == -ENOENT)
			return r;
		if (r < 0)
			hax_strlcpy(last, rf->err, sizeof(last));
		left = left_ms(rf);
		if (left <= POLL_LAST_MS) {
			if (r == 0 || !last[0])
				set_err(rf, "%s%s: PowerState still %s after ForceOff, %.1f s",
					rf->base, path, state[0] ? state : "unknown",
					elapsed_s(rf));
			else
				set_err(rf,
					"PowerState not Off after ForceOff, %.1f s; last error: %s",
					elapsed_s(rf), last);
			return -ETIMEDOUT;
		}
		/* The last look comes just before the deadline, not a pause before it. */
		sleep_ms(left - POLL_LAST_MS < pause ? left - POLL_LAST_MS : pause);
		pause = pause * 2 > POLL_MAX_MS ? POLL_MAX_MS : pause * 2;
	}
}

static int cmd_off(struct rf *rf)
{
	char path[URL_MAX], action[URL_MAX], state[64];
	int r;

	r = find_system(rf, path, sizeof(path));
	if (r == 0)
		r = get_system(rf, path, state, sizeof(state), action, sizeof(action));
	if (r < 0)
		return EXIT_FAIL;
	if (strcmp(state, "Off") == 0) {
		printf("Success: Already OFF (%s: PowerState Off)\n", path);
		return EXIT_OK;
	}
	/* A lost answer is not retried: the leader retries the whole fence, which first
	 * reads the PowerState again. */
	if (http(rf, action, "{\"ResetType\":\"ForceOff\"}", NULL) < 0)
		return EXIT_FAIL;
	printf("ForceOff accepted (HTTP %ld), waiting for PowerState Off\n", rf->http_status);
	if (wait_off(rf, path) < 0)
		return EXIT_FAIL;
	printf("Success: Powered OFF (%s: PowerState Off after %.1f s)\n", path, elapsed_s(rf));
	return EXIT_OK;
}

static int cmd_status(struct rf *rf)
{
	char path[URL_MAX], state[64];

	if (find_system(rf, path, sizeof(path)) < 0 ||
	    get_system(rf, path, state, sizeof(state), NULL, 0) < 0)
		return EXIT_FAIL;
	/* Anything but Off (PoweringOff too) may still write: on. */
	if (strcmp(state, "Off") == 0) {
		printf("Status: OFF (%s: PowerState Off)\n", path);
		return EXIT_OFF;
	}
	printf("Status: ON (%s: PowerState %s)\n", path, state);
	return EXIT_OK;
}

static int cmd_monitor(struct rf *rf)
{
	json_t *root = NULL;
	const char *v;

	if (http(rf, "/redfish/v1", NULL, &root) < 0)
		return EXIT_FAIL;
	v = json_string_value(json_object_get(root, "RedfishVersion"));
	printf("Success: %s/redfish/v1 answers (RedfishVersion %s)\n", rf->base, v ? v : "unknown");
	json_decref(root);
	return EXIT_OK;
}

/* ---- the command line ---- */

static void usage(FILE *f)
{
	fputs("usage: " PROG " off|status|monitor --url https://HOST[:PORT] [--system PATH]\n"
	      "                         [--username USER] [--insecure] [--cacert FILE]\n"
	      "                         [--timeout 10s]\n"
	      "Power a host off through its BMC's Redfish service (hax's redfish fence).\n"
	      "commands:\n"
	      "  off       ComputerSystem.Reset ForceOff, then wait for PowerState Off\n"
	      "  status    exit 0 if the system is on, 2 if it is off (\"Status: OFF\")\n"
	      "  monitor   the service root /redfish/v1 answers\n"
	      "options:\n"
	      "  --system PATH   the system, like /redfish/v1/Systems/1 (or just its id);\n"
	      "                  default: the only member of /redfish/v1/Systems\n"
	      "  --username USER HTTP basic auth; the password is the first line of stdin,\n"
	      "                  never an argument\n"
	      "  --cacert FILE   CA certificate(s) to verify the BMC's certificate with\n"
	      "  --insecure      do not verify the BMC's certificate\n"
	      "  --timeout T     the whole command's deadline (500ms, 10s, 1m; default 10s)\n"
	      "exit: 0 ok (status: on), 1 failure (one line on stderr), 2 usage or (status) off\n",
	      f);
}

/* https://HOST[:PORT][/] into rf->base; credentials in the URL would be in argv. */
static const char *check_url(struct rf *rf, const char *url)
{
	const char *auth = url + strlen("https://"), *end;
	size_t n;

	if (strncmp(url, "https://", 8) != 0)
		return "--url must start with https://";
	end = auth + strcspn(auth, "/?#");
	if (end == auth || (*end && strcmp(end, "/") != 0))
		return "--url must be https://HOST[:PORT], without a path";
	if (memchr(auth, '@', (size_t)(end - auth)))
		return "--url must not hold credentials: use --username and stdin";
	for (const char *p = auth; p < end; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return "--url holds blanks or control characters";
	n = (size_t)(end - url);
	if (n >= sizeof(rf->base))
		return "--url is too long";
	memcpy(rf->base, url, n);
	rf->base[n] = '\0';
	return NULL;
}

static int parse_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 'u':
		o->url = arg;
		return 0;
	case 's':
		o->system = arg;
		return *arg ? 0 : -EINVAL;
	case 'U':
		o->username = arg;
		return *arg && !strchr(arg, ':') ? 0 : -EINVAL; /* basic auth's separator */
	case 'k':
		o->insecure = true;
		return 0;
	case 'c':
		o->cacert = arg;
		return *arg ? 0 : -EINVAL;
	case 'T':
		if (hax_parse_duration_ms(arg, &o->timeout_ms) < 0 || o->timeout_ms == 0 ||
		    o->timeout_ms > MAX_TIMEOUT_MS)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

/* A system id, the last segment of /redfish/v1/Systems/ID. */
static bool good_id(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 256 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~") == n;
}

static const char *check_opts(struct rf *rf, struct opts *o)
{
	const char *s = o->system;

	if (!o->url)
		return "--url is required";
	if (o->insecure && o->cacert)
		return "--insecure and --cacert contradict each other";
	if (s && !(s[0] == '/' ? redfish_good_path(s) : good_id(s)))
		return "--system must be a path like /redfish/v1/Systems/1, or an id";
	return check_url(rf, o->url);
}

/* 0, or the exit status to leave with. */
static int parse_args(struct rf *rf, struct opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"url", required_argument, NULL, 'u'},	{"system", required_argument, NULL, 's'},
	    {"username", required_argument, NULL, 'U'}, {"insecure", no_argument, NULL, 'k'},
	    {"cacert", required_argument, NULL, 'c'},	{"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	const char *why;
	int c, i;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(EXIT_OK);
		}
		if (c == '?' || parse_opt(o, c, optarg) < 0) {
			if (c != '?')
				fprintf(stderr, PROG ": bad value '%s'\n", optarg);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	for (i = 0; optind == argc - 1 && i < (int)HAX_ARRAY_SIZE(cmd_names); i++)
		if (strcmp(argv[optind], cmd_names[i]) == 0)
			break;
	if (optind != argc - 1 || i == (int)HAX_ARRAY_SIZE(cmd_names)) {
		fputs(PROG ": give exactly one command: off, status or monitor\n", stderr);
		usage(stderr);
		return EXIT_USAGE;
	}
	o->cmd = (enum cmd)i;
	why = check_opts(rf, o);
	if (why) {
		fprintf(stderr, PROG ": %s: %s\n", cmd_names[o->cmd], why);
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* The first line of stdin (CR LF tolerated) into rf->password; from a terminal, without
 * echo. An empty stdin is an empty password. */
static int read_password(struct rf *rf)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	size_t n = 0;
	ssize_t got = 1;

	if (tty) {
		fputs("Password: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	while (n < sizeof(rf->password) - 1 && !memchr(rf->password, '\n', n)) {
		got = read(STDIN_FILENO, rf->password + n, sizeof(rf->password) - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	rf->password[n] = '\0';
	if (got < 0 || (n == sizeof(rf->password) - 1 && !strchr(rf->password, '\n'))) {
		explicit_bzero(rf->password, sizeof(rf->password));
		return got < 0 ? -errno : -E2BIG;
	}
	n = strcspn(rf->password, "\r\n");
	explicit_bzero(rf->password + n, sizeof(rf->password) - n);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.timeout_ms = DEFAULT_TIMEOUT_MS};
	struct rf rf = {.o = &o};
	int rc = parse_args(&rf, &o, argc, argv), r;

	if (rc)
		return rc;
	/* haxd reads our output through a pipe and may kill us at its deadline: keep every
	 * finished line. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (o.username && (r = read_password(&rf)) < 0) {
		fprintf(stderr, PROG ": reading the password from stdin: %s\n",
			r == -E2BIG ? "first line too long" : strerror(-r));
		return EXIT_FAIL;
	}
	rf.start_ns = hax_now_mono_ns();
	rf.deadline_ns = rf.start_ns + o.timeout_ms * 1000000ull;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || setup_curl(&rf) < 0) {
		set_err(&rf, "cannot initialise libcurl");
		rc = EXIT_FAIL;
	} else {
		rc = o.cmd == CMD_OFF	   ? cmd_off(&rf)
		     : o.cmd == CMD_STATUS ? cmd_status(&rf)
					   : cmd_monitor(&rf);
	}
	if (rc == EXIT_FAIL)
		fprintf(stderr, PROG ": %s: %s\n", cmd_names[o.cmd], rf.err);
	curl_easy_cleanup(rf.curl);
	curl_slist_free_all(rf.headers);
	free(rf.body.data);
	explicit_bzero(rf.password, sizeof(rf.password));
	curl_global_cleanup();
	return rc;
}
