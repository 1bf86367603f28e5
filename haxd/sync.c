#include "sync.h"

uint32_t sync_view_leader(bool quorate, const uint32_t *members, size_t nmembers,
			  size_t nnodes, size_t nconfigured)
{
	if (!quorate || nmembers == 0)
		return 0;
	if (sync_members_majority(nmembers, nconfigured) || nmembers >= nnodes)
		return members[0];
	return 0;
}

bool sync_members_majority(size_t nmembers, size_t nconfigured)
{
	return nconfigured == 0 || 2 * nmembers > nconfigured;
}

int sync_pick_newest(struct hax_state *const *states, size_t n)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (states[i] && (best < 0 || state_version_cmp(states[i], states[best]) > 0))
			best = (int)i;
	return best;
}

uint64_t sync_next_epoch(uint64_t cur, uint32_t nodeid, uint64_t now_ns)
{
	uint64_t term = (cur >> 32) + 1, clock = now_ns / 1000000000ull;

	if (clock > term && clock < (1ull << 31))
		term = clock;
	return (term << 32) | nodeid;
}

void sync_merge_incarnations(struct hax_state *const *states, size_t n, int best)
{
	size_t i;

	if (best < 0)
		return;
	for (i = 0; i < n; i++)
		if (states[i] && states[i]->last_incarnation > states[best]->last_incarnation)
			states[best]->last_incarnation = states[i]->last_incarnation;
}

uint64_t sync_first_incarnation(uint64_t epoch, unsigned rank)
{
	return (((epoch >> 32) & 0x7fffffffull) << 32) | ((uint64_t)(rank & 63) << 26) | 1;
}

unsigned sync_rank(const uint32_t *nodeids, size_t n, uint32_t nodeid)
{
	unsigned rank = 0;
	size_t i;

	for (i = 0; i < n; i++)
		rank += nodeids[i] < nodeid;
	return rank;
}
