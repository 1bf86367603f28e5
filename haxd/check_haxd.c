/*
 * check_haxd: the Nagios/Icinga plugin. Until the operations issue it only knows how to
 * say so: UNKNOWN (exit 3), as the Monitoring Plugins guidelines ask of a plugin that
 * cannot determine a state.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("check_haxd %s\n", HAX_VERSION);
		return 3;
	}
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("Usage: check_haxd [-h] [-V]\nNagios plugin for hax (not implemented yet).\n");
		return 3;
	}
	printf("HAXD UNKNOWN - not implemented\n");
	return 3;
}
