#include "sync.h"

uint32_t sync_view_leader(bool quorate, const uint32_t *members, size_t nmembers,
			  size_t nnodes, size_t nconfigured)
{
	if (!quorate || nmembers == 0)
		return 0;
	if (nconfigured == 0 || 2 * nmembers > nconfigured || nmembers >= nnodes)
		return members[0];
	return 0;
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
