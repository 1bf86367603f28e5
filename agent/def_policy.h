/*
 * Domain definitions cannot escalate. A definition comes from any operator and is run by
 * root (xl, QEMU) on every host, so what it may name on the host is checked against
 * allow-lists: keys that run programs or pass host devices are refused, and every host
 * file (disk, kernel, ramdisk) must lie under one of the configured paths (domain_paths
 * in haxd.conf). Refusals name the key. Pure: no I/O (paths are compared as text, never
 * resolved: a symlink inside an allowed directory is the administrator's choice).
 */
#ifndef HAX_DEF_POLICY_H
#define HAX_DEF_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#define DEF_PATHS_DEFAULT "/boot /var/lib/hax/images /dev/disk/by-path"

/* path is absolute, has no empty, "." or ".." component, and equals or lies under one of
 * the space-separated absolute directories in paths. */
bool def_path_allowed(const char *path, const char *paths);

/* A valid domain_paths value: absolute, normalised directories other than "/". 0, or
 * -EINVAL with the offending word in err. */
int def_paths_check(const char *paths, char *err, size_t errlen);

/* An xl.cfg definition against the allow-lists: only known keys (no bootloader,
 * device_model_*, pci, ...), disks and kernels under paths, vifs without script=, a
 * pty serial only. 0, or -EPERM with err naming the key. */
int xl_cfg_policy(const char *text, const char *paths, char *err, size_t errlen);

#endif
