/*
 * corosync glue: CPG group "haxd" (messages in agreed order, haxd membership),
 * quorum (quorate flag, corosync membership, ring id) and cmap (node names), all on the
 * one qb_loop. Only this file talks to corosync. A view is reported only when the CPG
 * ring and the quorum ring are the same ring, so no decision is ever taken on a mix of
 * an old quorum and a new membership (or the reverse).
 */
#ifndef HAX_CLUSTER_H
#define HAX_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#define CLUSTER_MAX_NODES 64

struct cluster_view {
	bool connected;           /* false: corosync is gone; everything else is empty */
	uint64_t ring;            /* totem ring sequence */
	uint32_t ring_node;       /* totem ring representative */
	bool quorate;
	size_t nmembers;          /* nodes with a haxd in the group, sorted */
	uint32_t members[CLUSTER_MAX_NODES];
	size_t nnodes;            /* nodes in corosync's membership, sorted */
	uint32_t nodes[CLUSTER_MAX_NODES];
};

struct cluster_ops {
	void *opaque;
	void (*view)(void *opaque, const struct cluster_view *v);
	/* A message from a group member, in agreed order (the buffer is only valid during
	 * the call). */
	void (*deliver)(void *opaque, uint32_t nodeid, const void *buf, size_t len);
};

/* Start connecting (and keep reconnecting) to corosync. 0 or -errno. */
int cluster_init(qb_loop_t *loop, const struct cluster_ops *ops);
void cluster_fini(void);

/* Multicast to the group in agreed order; copied and queued while corosync says
 * TRY_AGAIN. -ENOTCONN when not in the group. */
int cluster_send(const void *buf, size_t len);

/* This node's id (0 until connected). */
uint32_t cluster_nodeid(void);

/* corosync's name for nodeid (nodelist.node.X.name in cmap); -ENOENT if unknown. */
int cluster_node_name(uint32_t nodeid, char *out, size_t len);

/* corosync's effective token and consensus timeouts (runtime.config.totem.*), which
 * bound how long a dead node takes to leave the membership. -ENODATA if unknown. */
int cluster_totem_ms(uint32_t *token, uint32_t *consensus);

#endif
