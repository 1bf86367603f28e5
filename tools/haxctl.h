/* haxctl's pieces shared between its files (haxctl.c, haxctl_migrate.c). */
#ifndef HAX_HAXCTL_H
#define HAX_HAXCTL_H

#include <jansson.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* Print "haxctl: MSG" and the --help hint to stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, const char *arg);
/* Send a request (stolen); 0 with *reply, or EXIT_FAIL after printing the error. */
int call(json_t *req, json_t **reply);
/* A member as text ("-" when absent or empty) or integer (0 when absent). */
const char *jstr(const json_t *o, const char *k);
long long jint(const json_t *o, const char *k);
void print_json(const json_t *j);

/* Sub-commands of haxctl_migrate.c: argv after the sub-command's name. */
int cmd_migrate(int argc, char **argv);
int cmd_evacuate(int argc, char **argv);
int cmd_maintenance(int argc, char **argv);

#endif
