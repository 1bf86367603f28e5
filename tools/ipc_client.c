#include "ipc_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qbipcc.h>

#include "haxd/proto.h"
#include "lib/util.h"

const char *hax_ipc_name(void)
{
	const char *env = getenv(HAX_IPC_ENV);

	return env && *env ? env : HAX_IPC_DEFAULT_NAME;
}

static int connect_error(int e, char *err, size_t errlen)
{
	if (e == EACCES || e == EPERM)
		snprintf(err, errlen,
			 "permission denied: haxd serves only root and members of its operator and monitor groups (client_group and monitor_group in haxd.conf, default haxclient and haxmonitor)");
	else
		snprintf(err, errlen, "haxd is not running (cannot connect to IPC service \"%s\": %s)",
			 hax_ipc_name(), strerror(e));
	return -e;
}

static int exchange(qb_ipcc_connection_t *c, const char *text, int timeout_ms, char **out,
		    char *err, size_t errlen)
{
	size_t len = strlen(text) + 1;
	struct qb_ipc_request_header *hdr = hax_xmalloc(sizeof(*hdr) + len);
	char *buf = hax_xmalloc(HAX_IPC_MAX_MSG);
	struct iovec iov;
	ssize_t n;

	hdr->id = HAX_IPC_MSG_JSON;
	hdr->size = (int32_t)(sizeof(*hdr) + len);
	memcpy(hdr + 1, text, len);
	iov.iov_base = hdr;
	iov.iov_len = hdr->size;
	n = qb_ipcc_sendv_recv(c, &iov, 1, buf, HAX_IPC_MAX_MSG, timeout_ms);
	free(hdr);
	if (n < 0) {
		snprintf(err, errlen, n == -ETIMEDOUT || n == -EAGAIN
					      ? "timed out waiting for haxd"
					      : "talking to haxd: %s", strerror((int)-n));
		free(buf);
		return (int)n;
	}
	if ((size_t)n <= sizeof(struct qb_ipc_response_header) || buf[n - 1] != '\0') {
		snprintf(err, errlen, "malformed reply from haxd");
		free(buf);
		return -EPROTO;
	}
	*out = buf;
	return (int)sizeof(struct qb_ipc_response_header);
}

int hax_ipc_call(const json_t *req, int timeout_ms, json_t **reply, char *err, size_t errlen)
{
	qb_ipcc_connection_t *c;
	char *text, *buf = NULL;
	json_t *j;
	int off;

	if (strlen(hax_ipc_name()) > 100)
		return connect_error(ENAMETOOLONG, err, errlen);
	c = qb_ipcc_connect(hax_ipc_name(), HAX_IPC_MAX_MSG);
	if (!c)
		return connect_error(errno, err, errlen);
	text = json_dumps(req, JSON_COMPACT);
	off = text ? exchange(c, text, timeout_ms, &buf, err, errlen) : -ENOMEM;
	free(text);
	qb_ipcc_disconnect(c);
	if (off < 0)
		return off;
	j = json_loads(buf + off, 0, NULL);
	free(buf);
	if (!json_is_object(j) || !json_is_boolean(json_object_get(j, "ok"))) {
		json_decref(j);
		snprintf(err, errlen, "malformed reply from haxd");
		return -EPROTO;
	}
	*reply = j;
	return 0;
}
