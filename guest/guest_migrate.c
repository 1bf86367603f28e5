#include "guest_migrate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "lib/util.h"

#define MIG_MAGIC "HAXMIG01"
#define MIG_HDR 96
#define MIG_CHUNK (256u * 1024)
#define MIG_IO_TIMEOUT_MS 10000
#define MIG_MAX_STATE (1024u * 1024 * 1024)
#define ACK_OK 'R'
#define ACK_BAD 'E'
#define COMMIT 'C'

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EIO;
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	fputs(text, f);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

static void progress(const char *dir, const char *phase, uint64_t done, uint64_t total)
{
	char line[128];

	snprintf(line, sizeof(line), "%s %" PRIu64 " %" PRIu64 "\n", phase, done, total);
	put_file(dir, "migrate-progress", line);
}

/* All of len bytes within the deadline (monotonic ns), or -errno. */
static int io_all(int fd, void *buf, size_t len, bool out, uint64_t deadline)
{
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t now = hax_now_mono_ns();
		struct pollfd pfd = {.fd = fd, .events = out ? POLLOUT : POLLIN};
		ssize_t n;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd.revents == 0)
			continue;
		n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint64_t after(uint64_t ms)
{
	return hax_now_mono_ns() + ms * 1000000ull;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Header: magic, seq, incarnation, size, crc of the state (in the low 32 bits), name. */
static void encode_header(uint8_t *h, const char *domain, const struct gmig_state *st)
{
	memset(h, 0, MIG_HDR);
	memcpy(h, MIG_MAGIC, 8);
	put_u64(h + 8, st->seq);
	put_u64(h + 16, st->incarnation);
	put_u64(h + 24, st->size);
	put_u64(h + 32, journal_crc32(st->mem, st->size));
	hax_strlcpy((char *)h + 40, domain, MIG_HDR - 40);
}

static int read_request(const char *dir, struct sockaddr_in *sa, uint64_t *timeout_ms,
			char *err, size_t errlen)
{
	char path[4096], addr[64];
	unsigned port;
	unsigned long long t;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/migrate-to", dir);
	f = fopen(path, "re");
	if (!f)
		return fail(err, errlen, "no migration request: %s", strerror(errno));
	n = fscanf(f, "%63s %u %llu", addr, &port, &t);
	fclose(f);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (n != 3 || port == 0 || port > 65535 || inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		return fail(err, errlen, "malformed migration request");
	*timeout_ms = t;
	return 0;
}

static int connect_to(const struct sockaddr_in *sa, uint64_t deadline, int *out)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd pfd;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	uint64_t now = hax_now_mono_ns();

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS)
		goto err_close;
	pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&pfd, 1, now < deadline ? (int)((deadline - now) / 1000000 + 1) : 0) <= 0) {
		errno = ETIMEDOUT;
		goto err_close;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
		errno = soerr ? soerr : errno;
		goto err_close;
	}
	*out = fd;
	return 0;
err_close:
	soerr = -errno;
	close(fd);
	return soerr;
}

static int send_state(int fd, const char *dir, const char *domain, const struct gmig_state *st,
		      uint64_t deadline)
{
	uint8_t h[MIG_HDR];
	size_t off;
	int r;

	encode_header(h, domain, st);
	r = io_all(fd, h, MIG_HDR, true, deadline);
	uint64_t t0 = hax_now_mono_ns();

	for (off = 0; r == 0 && off < st->size; off += MIG_CHUNK) {
		size_t n = st->size - off < MIG_CHUNK ? st->size - off : MIG_CHUNK;

		r = io_all(fd, st->mem + off, n, true, deadline);
		progress(dir, "copying", off + n, st->size);
		/* A bandwidth limit: never ahead of speed bytes per second. */
		if (st->speed) {
			uint64_t due = t0 + (off + n) * 1000000000ull / st->speed;
			uint64_t now = hax_now_mono_ns();

			if (due > now)
				usleep((useconds_t)((due - now) / 1000));
		}
	}
	return r;
}

int gmig_send(const char *dir, const char *domain, const struct gmig_state *st, char *err,
	      size_t errlen)
{
	struct sockaddr_in sa;
	uint64_t timeout_ms = 0, deadline;
	char ack = 0, commit = COMMIT;
	int fd = -1, r;

	r = read_request(dir, &sa, &timeout_ms, err, errlen);
	if (r < 0)
		goto out;
	deadline = after(timeout_ms ? timeout_ms : 600000);
	progress(dir, "connecting", 0, st->size);
	r = connect_to(&sa, deadline < after(MIG_IO_TIMEOUT_MS) ? deadline : after(MIG_IO_TIMEOUT_MS), &fd);
	if (r < 0) {
		r = fail(err, errlen, "cannot connect to the target: %s", strerror(-r));
		goto out;
	}
	r = send_state(fd, dir, domain, st, deadline);
	if (r == 0)
		r = io_all(fd, &ack, 1, false, deadline);
	if (r < 0 || ack != ACK_OK) {
		r = r < 0 ? fail(err, errlen, "transfer failed: %s", strerror(-r))
			  : fail(err, errlen, "the target refused the state");
		goto out;
	}
	progress(dir, "completing", st->size, st->size);
	/* Past this point the source never runs again, whether or not the byte arrives: a
	 * lost commit leaves the domain running nowhere, never twice. */
	io_all(fd, &commit, 1, true, after(MIG_IO_TIMEOUT_MS));
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r == 0)
		put_file(dir, "migrate-result", "done\n");
	else {
		char line[400];

		snprintf(line, sizeof(line), "failed: %s\n", err);
		put_file(dir, "migrate-result", line);
	}
	return r;
}

static int listen_on(const char *dir, const char *addr, int *out, char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char line[32];
	int fd, one = 1;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return fail(err, errlen, "bad listen address %s", addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		int e = errno;

		close(fd);
		return fail(err, errlen, "cannot listen on %s: %s", addr, strerror(e));
	}
	snprintf(line, sizeof(line), "%u\n", ntohs(sa.sin_port));
	put_file(dir, "incoming-port", line);
	*out = fd;
	return 0;
}

static bool fault_injected(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/../fault-migrate-in", dir);
	return access(path, F_OK) == 0;
}

static int receive_state(int fd, const char *dir, const char *domain, struct gmig_state *st,
			 char *err, size_t errlen)
{
	uint64_t deadline = after(MIG_IO_TIMEOUT_MS);
	uint8_t h[MIG_HDR];
	uint32_t crc;
	int r = io_all(fd, h, MIG_HDR, false, deadline);

	if (r < 0)
		return fail(err, errlen, "no state header: %s", strerror(-r));
	h[MIG_HDR - 1] = '\0';
	st->seq = get_u64(h + 8);
	st->incarnation = get_u64(h + 16);
	st->size = (size_t)get_u64(h + 24);
	crc = (uint32_t)get_u64(h + 32);
	if (memcmp(h, MIG_MAGIC, 8) != 0 || strcmp((char *)h + 40, domain) != 0 ||
	    st->size == 0 || st->size > MIG_MAX_STATE)
		return fail(err, errlen, "bad state header (not %s's migration)", domain);
	st->mem = hax_xmalloc(st->size);
	for (size_t off = 0; off < st->size; off += MIG_CHUNK) {
		size_t n = st->size - off < MIG_CHUNK ? st->size - off : MIG_CHUNK;

		if (off >= st->size / 2 && fault_injected(dir))
			return fail(err, errlen, "fault injected (fault-migrate-in): connection dropped");
		/* Each chunk within the I/O timeout: a stalled source is given up on. */
		r = io_all(fd, st->mem + off, n, false, after(MIG_IO_TIMEOUT_MS));
		if (r < 0)
			return fail(err, errlen, "transfer broken at %zu of %zu bytes: %s", off,
				    st->size, strerror(-r));
	}
	if (journal_crc32(st->mem, st->size) != crc)
		return fail(err, errlen, "state checksum mismatch");
	return 0;
}

int gmig_receive(const char *dir, const char *addr, const char *domain, uint64_t wait_ms,
		 struct gmig_state *st, char *err, size_t errlen)
{
	struct pollfd pfd;
	char ack = ACK_OK, commit = 0;
	int lfd = -1, fd, r;

	memset(st, 0, sizeof(*st));
	r = listen_on(dir, addr, &lfd, err, errlen);
	if (r < 0)
		return r;
	pfd = (struct pollfd){.fd = lfd, .events = POLLIN};
	r = poll(&pfd, 1, (int)wait_ms);
	fd = r > 0 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK) : -1;
	close(lfd);
	if (fd < 0)
		return fail(err, errlen, "no source connected within %" PRIu64 " ms", wait_ms);
	r = receive_state(fd, dir, domain, st, err, errlen);
	if (r < 0) {
		ack = ACK_BAD;
		io_all(fd, &ack, 1, true, after(1000));
		goto err_free;
	}
	r = io_all(fd, &ack, 1, true, after(MIG_IO_TIMEOUT_MS));
	if (r == 0)
		r = io_all(fd, &commit, 1, false, after(MIG_IO_TIMEOUT_MS));
	if (r < 0 || commit != COMMIT) {
		r = fail(err, errlen, "no commit from the source%s%s", r < 0 ? ": " : "",
			 r < 0 ? strerror(-r) : "");
		goto err_free;
	}
	close(fd);
	return 0;
err_free:
	close(fd);
	free(st->mem);
	st->mem = NULL;
	return r;
}
