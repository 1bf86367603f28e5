#include "def_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xl_parse.h"

/* No empty, "." or ".." component: "/a//b", "/a/./b", "/a/../b" and "/a/" are refused,
 * so a prefix comparison means what it says. */
static bool normalised(const char *p)
{
	if (p[0] != '/' || !p[1])
		return false;
	while (*p == '/') {
		const char *c = p + 1;
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		p = c + n;
	}
	return *p == '\0';
}

bool def_path_allowed(const char *path, const char *paths)
{
	const char *w = paths;

	if (!normalised(path))
		return false;
	while (*w) {
		size_t n;

		w += strspn(w, " \t");
		n = strcspn(w, " \t");
		if (n > 1 && strncmp(path, w, n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return true;
		w += n;
	}
	return false;
}

int def_paths_check(const char *paths, char *err, size_t errlen)
{
	const char *w = paths;
	char word[256];

	while (*w) {
		size_t n;

		w += strspn(w, " \t");
		n = strcspn(w, " \t");
		if (n == 0)
			break;
		snprintf(word, sizeof(word), "%.*s", (int)n, w);
		if (n >= sizeof(word) || !normalised(word)) {
			snprintf(err, errlen,
				 "\"%.100s\" is not an absolute directory other than / (no "
				 "trailing /, no . or ..)",
				 word);
			return -EINVAL;
		}
		w += n;
	}
	return 0;
}

/* ---- xl ---- */

/* Keys hax lets through to xl create: sizing, scheduling, boot of the guest's own
 * kernel, disks and network (checked below), lifecycle actions, emulated platform
 * features. Everything else (bootloader, device_model_override and _args, pci, usbdev,
 * dtdev, iomem, ioports, irqs, p9, channel, vtpm, stubdomain_*, *_firmware ...) either
 * runs a program, reads a host file or hands a host device to the guest. */
static const char *const xl_keys[] = {
    "name",
    "type",
    "builder",
    "uuid",
    "memory",
    "maxmem",
    "vcpus",
    "maxvcpus",
    "cpus",
    "cpus_soft",
    "cpu_weight",
    "cap",
    "kernel",
    "ramdisk",
    "cmdline",
    "extra",
    "root",
    "disk",
    "vif",
    "on_poweroff",
    "on_reboot",
    "on_crash",
    "on_watchdog",
    "on_soft_reset",
    "tsc_mode",
    "localtime",
    "rtc_timeoffset",
    "boot",
    "acpi",
    "apic",
    "pae",
    "hap",
    "hpet",
    "viridian",
    "nestedhvm",
    "nographic",
    "vnc",
    "vncunused",
    "vncdisplay",
    "sdl",
    "vga",
    "stdvga",
    "videoram",
    "serial",
    "usb",
    "usbdevice",
    "xen_platform_pci",
    "max_grant_frames",
    "max_maptrack_frames",
    "shadow_memory",
    "device_model_version",
    "vkb",
    "vfb",
};

/* vif settings that only shape the guest's network (script= runs a program as root). */
static const char *const vif_keys[] = {
    "mac", "bridge", "model", "type", "vifname", "rate", "ip", "backend", "mtu",
};

/* Disk settings besides the target (script= runs a program as root). */
static const char *const disk_keys[] = {
    "format",	   "vdev",    "access",	    "devtype",	      "backend",
    "backendtype", "discard", "no-discard", "direct-io-safe", "cdrom",
};

/* Target prefixes that name a host file or block device (xl-disk-configuration). */
static const char *const file_prefixes[] = {
    "phy:",  "file:",  "tap:aio:", "tap2:aio:",	 "aio:",     "raw:",
    "qcow:", "qcow2:", "vhd:",	   "tap:qcow2:", "tap:vhd:",
};

static bool in_list(const char *s, size_t n, const char *const *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(list[i]) == n && strncmp(s, list[i], n) == 0)
			return true;
	return false;
}

#define IN(s, n, list) in_list(s, n, list, sizeof(list) / sizeof(list[0]))

static int refuse(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -EPERM;
}

/* A disk target: drbd:RESOURCE (the block-drbd script of drbd-utils), empty (an empty
 * cdrom), or a host file or device under paths. */
static int check_target(const char *t, const char *paths, char *err, size_t errlen)
{
	size_t i;

	while (*t == ' ')
		t++;
	if (!*t)
		return 0;
	if (strncmp(t, "drbd:", 5) == 0)
		return strspn(
			   t + 5,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
				   strlen(t + 5) &&
			       t[5]
			   ? 0
			   : refuse(err, errlen, "disk: \"%.200s\" is not a DRBD resource name%s",
				    t, "");
	for (i = 0; i < sizeof(file_prefixes) / sizeof(file_prefixes[0]); i++)
		if (strncmp(t, file_prefixes[i], strlen(file_prefixes[i])) == 0) {
			t += strlen(file_prefixes[i]);
			break;
		}
	if (t[0] != '/')
		return refuse(err, errlen,
			      "disk: target \"%.200s\" is not a host path (only files and devices "
			      "under domain_paths, or drbd:RESOURCE)%s",
			      t, "");
	if (!def_path_allowed(t, paths))
		return refuse(err, errlen, "disk: %.200s is outside domain_paths (%.200s)", t,
			      paths);
	return 0;
}

/* One disk spec: key=value settings (target= comes last and takes the rest, commas
 * included) and positional ones, of which the first is the target. */
static int check_disk(const char *spec, const char *paths, char *err, size_t errlen)
{
	const char *p = spec;
	bool positional = false;
	char buf[1024];

	while (*p) {
		size_t n, k;
		const char *eq;

		p += strspn(p, " ");
		if (strncmp(p, "target=", 7) == 0)
			return check_target(p + 7, paths, err, errlen);
		n = strcspn(p, ",");
		eq = memchr(p, '=', n);
		if (eq) {
			k = (size_t)(eq - p);
			snprintf(buf, sizeof(buf), "%.*s", (int)(k < 60 ? k : 60), p);
			if (!IN(p, k, disk_keys))
				return refuse(
				    err, errlen, "disk: setting \"%s\" is not allowed (%s)", buf,
				    strcmp(buf, "script") == 0 ? "it runs a program as root"
							       : "not on hax's allow-list");
		} else if (!positional) {
			positional = true;
			snprintf(buf, sizeof(buf), "%.*s",
				 (int)(n < sizeof(buf) - 1 ? n : sizeof(buf) - 1), p);
			if (check_target(buf, paths, err, errlen) < 0)
				return -EPERM;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

static int check_vif(const char *spec, char *err, size_t errlen)
{
	const char *p = spec;
	char key[64];

	while (*p) {
		size_t n, k;

		p += strspn(p, " ");
		n = strcspn(p, ",");
		k = strcspn(p, "=");
		if (k > n)
			k = n;
		while (k > 0 && p[k - 1] == ' ')
			k--;
		snprintf(key, sizeof(key), "%.*s", (int)(k < 60 ? k : 60), p);
		if (k > 0 && !IN(p, k, vif_keys))
			return refuse(err, errlen, "vif: setting \"%s\" is not allowed (%s)", key,
				      strcmp(key, "script") == 0 ? "it runs a program as root"
								 : "not on hax's allow-list");
		p += n + (p[n] == ',');
	}
	return 0;
}

static int check_item(const struct xl_cfg_item *it, const char *paths, char *err, size_t errlen)
{
	char key[sizeof(it->key)];
	size_t n, i;
	int r = 0;

	/* KEY += "..." counts as KEY. */
	n = strlen(it->key);
	snprintf(key, sizeof(key), "%.*s", (int)(n && it->key[n - 1] == '+' ? n - 1 : n), it->key);
	if (!IN(key, strlen(key), xl_keys))
		return refuse(
		    err, errlen,
		    "%s: not allowed in a domain definition (not on hax's allow-list of xl keys: "
		    "it may run a program, read a host file or pass a host device)%s",
		    key, "");
	if (strcmp(key, "kernel") == 0 || strcmp(key, "ramdisk") == 0) {
		if (it->type != XL_CFG_STRING)
			return refuse(err, errlen, "%s: expected a path%s", key, "");
		if (!def_path_allowed(it->str, paths)) {
			snprintf(err, errlen, "%s: %.200s is outside domain_paths (%.200s)", key,
				 it->str, paths);
			return -EPERM;
		}
	} else if (strcmp(key, "usbdevice") == 0) {
		/* tablet, mouse, keyboard: emulated; host:VID:PID or host:BUS.ADDR passes a
		 * host device through. */
		if (it->type == XL_CFG_STRING && strncmp(it->str, "host:", 5) == 0)
			return refuse(err, errlen,
				      "usbdevice: %.60s passes a host device through%s", it->str,
				      "");
		for (i = 0; it->type == XL_CFG_LIST && i < it->nlist; i++)
			if (strncmp(it->list[i], "host:", 5) == 0)
				return refuse(err, errlen,
					      "usbdevice: %.60s passes a host device through%s",
					      it->list[i], "");
	} else if (strcmp(key, "serial") == 0) {
		if (it->type != XL_CFG_STRING || strcmp(it->str, "pty") != 0)
			return refuse(err, errlen,
				      "serial: only \"pty\" is allowed (a file, pipe or socket is "
				      "opened by the device model as root)%s%s",
				      "", "");
	} else if (strcmp(key, "disk") == 0 || strcmp(key, "vif") == 0) {
		bool disk = key[0] == 'd';

		if (it->type == XL_CFG_STRING)
			return disk ? check_disk(it->str, paths, err, errlen)
				    : check_vif(it->str, err, errlen);
		for (i = 0; i < it->nlist && r == 0; i++)
			r = disk ? check_disk(it->list[i], paths, err, errlen)
				 : check_vif(it->list[i], err, errlen);
	}
	return r;
}

int xl_cfg_policy(const char *text, const char *paths, char *err, size_t errlen)
{
	struct xl_cfg cfg;
	size_t i;
	int r = 0;

	if (xl_cfg_parse(text, &cfg, err, errlen) < 0)
		return -EINVAL;
	for (i = 0; i < cfg.n && r == 0; i++)
		r = check_item(&cfg.items[i], paths, err, errlen);
	xl_cfg_free(&cfg);
	return r;
}
