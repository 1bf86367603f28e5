/*
 * Unit tests of the xl driver's parsers (agent/xl_parse.c) on outputs in xl's own formats
 * (Xen 4.17): the `xl list` table (its rows also printed here with xl_list.c's format
 * string), `xl list -l` JSON, `xl info`, xl migrate's stderr on success and on each kind
 * of failure, and xl.cfg definitions, good, bad and rewritten for a start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/def_policy.h"
#include "agent/xl_parse.h"

/* ---- xl list --------------------------------------------------------------------- */

/* As xl 4.17 prints it: the header has tabs before State and Time(s). */
static const char list_text[] =
    "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
    "Domain-0                                     0  2048     2     r-----    1234.5\n"
    "web1                                         3   512     1     -b----      42.1\n"
    "db--incoming                                 9   256     2     --p---       0.0\n"
    "mail--migratedaway                           7   128     1     ---ss-       9.8\n"
    "oops                                        11   128     1     ---sc-       1.0\n"
    "gone                                        12     0     1     -----d       3.0\n";

static void test_list_table(void **state)
{
	struct xl_dom *d = NULL;
	size_t n = 0;
	char err[128];

	(void)state;
	assert_int_equal(xl_parse_list(list_text, &d, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 6);
	assert_string_equal(d[0].name, "Domain-0");
	assert_int_equal(d[0].domid, 0);
	assert_int_equal(d[0].mem_mib, 2048);
	assert_int_equal(d[0].flags, XL_RUNNING);
	assert_string_equal(d[1].name, "web1");
	assert_int_equal(d[1].domid, 3);
	assert_int_equal(d[1].mem_mib, 512);
	assert_int_equal(d[1].vcpus, 1);
	assert_int_equal(d[1].flags, XL_BLOCKED);
	assert_string_equal(d[2].name, "db--incoming");
	assert_int_equal(d[2].flags, XL_PAUSED);
	assert_int_equal(d[2].vcpus, 2);
	/* suspended by a migration: shut down with reason 's' */
	assert_int_equal(d[3].flags, XL_SHUTDOWN);
	assert_int_equal(d[3].reason, 's');
	assert_int_equal(d[4].flags, XL_SHUTDOWN);
	assert_int_equal(d[4].reason, 'c');
	assert_int_equal(d[5].flags, XL_DYING);
	assert_int_equal(d[5].reason, '-');
	free(d);
}

/* Rows printed with xl_list.c's own format string, one with a name past 40 columns. */
static void test_list_printf_format(void **state)
{
	static const char *const names[] = {"x", "a-domain-name-that-is-longer-than-forty-chars"};
	char text[1024], *p = text;
	struct xl_dom *d = NULL;
	size_t n = 0, i;
	char err[128];

	(void)state;
	p += sprintf(
	    p, "Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
	for (i = 0; i < 2; i++)
		p += sprintf(p, "%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f\n", names[i],
			     (int)i + 40, 4096ul, 16, 'r', '-', '-', '-', '-', '-', 12345.6);
	assert_int_equal(xl_parse_list(text, &d, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < 2; i++) {
		assert_string_equal(d[i].name, names[i]);
		assert_int_equal(d[i].domid, i + 40);
		assert_int_equal(d[i].mem_mib, 4096);
		assert_int_equal(d[i].vcpus, 16);
		assert_int_equal(d[i].flags, XL_RUNNING);
	}
	free(d);
}

static void test_list_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "libxl: error: libxl.c:100:libxl_list_domain: getting domain info list: Permission "
	    "denied\n",
	    "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
	    "web1  3  512  1  -b-- 42.1\n", /* state too short */
	    "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
	    "web1  x  512  1  -b---- 42.1\n", /* domid not a number */
	    "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
	    "web1  3  512  1  -q---- 42.1\n", /* unknown state letter */
	    "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
	    "3  512  1  -b---- 42.1\n", /* no name */
	};
	struct xl_dom *d = NULL;
	size_t n = 0, i;
	char err[128];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(xl_parse_list(bad[i], &d, &n, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	/* Only a header: no domains (xl list with a dead Domain-0 never happens, but it parses) */
	assert_int_equal(xl_parse_list(list_text, &d, &n, err, sizeof(err)), 0);
	free(d);
}

/* ---- xl list -l ------------------------------------------------------------------ */

/* Shaped like xl 4.17's output: libxl_domain_config of each domain, 4-space indent. */
static const char long_text[] =
    "[\n"
    "    {\n"
    "        \"domid\": 0,\n"
    "        \"config\": {\n"
    "            \"c_info\": {\n"
    "                \"type\": \"pv\",\n"
    "                \"name\": \"Domain-0\"\n"
    "            },\n"
    "            \"b_info\": {\n"
    "                \"max_memkb\": 2097152,\n"
    "                \"target_memkb\": 2097152,\n"
    "                \"sched_params\": {\n"
    "\n"
    "                },\n"
    "                \"type.pv\": {\n"
    "\n"
    "                },\n"
    "                \"arch_arm\": {\n"
    "\n"
    "                }\n"
    "            }\n"
    "        }\n"
    "    },\n"
    "    {\n"
    "        \"domid\": 3,\n"
    "        \"config\": {\n"
    "            \"c_info\": {\n"
    "                \"type\": \"pvh\",\n"
    "                \"name\": \"web1\",\n"
    "                \"uuid\": \"4f0a6c1e-8d52-4f5b-9a0e-2b6f1d0c7a11\",\n"
    "                \"run_hotplug_scripts\": \"True\"\n"
    "            },\n"
    "            \"b_info\": {\n"
    "                \"max_vcpus\": 2,\n"
    "                \"avail_vcpus\": [\n"
    "                    0\n"
    "                ],\n"
    "                \"max_memkb\": 1048576,\n"
    "                \"target_memkb\": 524288,\n"
    "                \"shadow_memkb\": 5120,\n"
    "                \"sched_params\": {\n"
    "                    \"weight\": 512,\n"
    "                    \"cap\": 50\n"
    "                },\n"
    "                \"kernel\": \"/boot/vmlinuz-6.1.0-18-amd64\",\n"
    "                \"cmdline\": \"root=/dev/xvda1 ro console=hvc0 hax.incarnation=17 "
    "hax.nodeid=2\",\n"
    "                \"type.pvh\": {\n"
    "                    \"pvshim_extra\": \"pv-shim console=xen,pv\"\n"
    "                },\n"
    "                \"arch_arm\": {\n"
    "\n"
    "                }\n"
    "            },\n"
    "            \"disks\": [\n"
    "                {\n"
    "                    \"pdev_path\": "
    "\"/dev/disk/by-path/ip-10.0.0.5:3260-iscsi-iqn.2007-10.cz.zcu:san-lun-3\",\n"
    "                    \"vdev\": \"xvda\",\n"
    "                    \"backend\": \"phy\",\n"
    "                    \"format\": \"raw\",\n"
    "                    \"readwrite\": 1\n"
    "                }\n"
    "            ],\n"
    "            \"on_reboot\": \"restart\",\n"
    "            \"on_soft_reset\": \"soft_reset\"\n"
    "        }\n"
    "    },\n"
    "    {\n"
    "        \"domid\": 9,\n"
    "        \"config\": {\n"
    "            \"c_info\": {\n"
    "                \"type\": \"pv\",\n"
    "                \"name\": \"db--incoming\",\n"
    "                \"uuid\": \"0d7f3b62-5a8e-4c8e-b1f3-6e2a9c4d5f00\"\n"
    "            },\n"
    "            \"b_info\": {\n"
    "                \"max_vcpus\": 2,\n"
    "                \"max_memkb\": 262144,\n"
    "                \"target_memkb\": 262144,\n"
    "                \"type.pv\": {\n"
    "                    \"kernel\": \"/boot/vmlinuz\",\n"
    "                    \"cmdline\": \"console=hvc0 hax.incarnation=4 hax.nodeid=1\"\n"
    "                }\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "]\n";

static void test_list_long_merge(void **state)
{
	struct xl_dom *d = NULL;
	size_t n = 0;
	char err[128];

	(void)state;
	assert_int_equal(xl_parse_list(list_text, &d, &n, err, sizeof(err)), 0);
	assert_int_equal(xl_merge_list_long(long_text, d, n, err, sizeof(err)), 0);
	assert_true(d[1].have_long);
	assert_string_equal(d[1].uuid, "4f0a6c1e-8d52-4f5b-9a0e-2b6f1d0c7a11");
	assert_int_equal(d[1].max_vcpus, 2);
	assert_int_equal(d[1].target_memkb, 524288);
	assert_int_equal(d[1].max_memkb, 1048576);
	assert_int_equal(d[1].incarnation, 17);
	assert_int_equal(d[1].nodeid, 2);
	/* the older place of the command line, "type.pv" */
	assert_true(d[2].have_long);
	assert_int_equal(d[2].incarnation, 4);
	assert_int_equal(d[2].nodeid, 1);
	/* in the table only (the JSON was taken a moment later): still listed, no JSON */
	assert_false(d[3].have_long);
	assert_int_equal(d[3].incarnation, 0);
	free(d);
}

/* A domain recreated with a new domid between the two listings must not be merged. */
static void test_list_long_domid_mismatch(void **state)
{
	static const char js[] = "[{\"domid\": 4, \"config\": {\"c_info\": {\"name\": \"web1\"},"
				 " \"b_info\": {\"cmdline\": \"hax.incarnation=9\"}}}]";
	struct xl_dom *d = NULL;
	size_t n = 0;
	char err[128];

	(void)state;
	assert_int_equal(xl_parse_list(list_text, &d, &n, err, sizeof(err)), 0);
	assert_int_equal(xl_merge_list_long(js, d, n, err, sizeof(err)), 0);
	assert_false(d[1].have_long);
	assert_int_equal(xl_merge_list_long("[{\"domid\": 3}", d, n, err, sizeof(err)), -EINVAL);
	assert_int_equal(xl_merge_list_long("{\"domid\": 3}", d, n, err, sizeof(err)), -EINVAL);
	/* hostile shapes are skipped, not fatal */
	assert_int_equal(xl_merge_list_long("[1, \"x\", {\"domid\": \"3\"}, {\"domid\": 3, "
					    "\"config\": 7}, {\"domid\": 3, \"config\": "
					    "{\"c_info\": {\"name\": 5}}}]",
					    d, n, err, sizeof(err)),
			 0);
	assert_false(d[1].have_long);
	free(d);
}

/* ---- xl info --------------------------------------------------------------------- */

static const char info_text[] =
    "host                   : xen1\n"
    "release                : 6.1.0-18-amd64\n"
    "version                : #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n"
    "machine                : x86_64\n"
    "nr_cpus                : 16\n"
    "max_cpu_id             : 15\n"
    "nr_nodes               : 1\n"
    "cores_per_socket       : 8\n"
    "threads_per_core       : 2\n"
    "cpu_mhz                : 2394.454\n"
    "hw_caps                : "
    "bfebfbff:77fafbff:2c100800:00000121:0000000f:009c67af:00000000:00000100\n"
    "virt_caps              : pv hvm hvm_directio pv_directio hap shadow\n"
    "total_memory           : 65431\n"
    "free_memory            : 60123\n"
    "sharing_freed_memory   : 0\n"
    "sharing_used_memory    : 0\n"
    "outstanding_claims     : 0\n"
    "free_cpus              : 0\n"
    "xen_major              : 4\n"
    "xen_minor              : 17\n"
    "xen_extra              : .3-pre\n"
    "xen_version            : 4.17.3-pre\n"
    "xen_caps               : xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64\n"
    "xen_scheduler          : credit2\n"
    "xen_pagesize           : 4096\n"
    "platform_params        : virt_start=0xffff800000000000\n"
    "xen_changeset          : \n"
    "xen_commandline        : placeholder dom0_mem=2048M,max:2048M dom0_max_vcpus=2\n"
    "cc_compiler            : x86_64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0\n"
    "cc_compile_by          : pkg-xen-devel\n"
    "cc_compile_domain      : lists.alioth.debian.org\n"
    "cc_compile_date        : Tue Jan 16 13:46:50 UTC 2024\n"
    "build_id               : 2a1b9c0d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b\n"
    "xend_config_format     : 4\n";

static void test_info(void **state)
{
	struct xl_info info;

	(void)state;
	assert_int_equal(xl_parse_info(info_text, &info), 0);
	assert_int_equal(info.total_mib, 65431);
	assert_int_equal(info.free_mib, 60123);
	assert_int_equal(info.nr_cpus, 16);
	assert_string_equal(info.scheduler, "credit2");
	assert_int_equal(xl_parse_info("total_memory : 100\nnr_cpus : 2\n", &info), -EINVAL);
	assert_int_equal(xl_parse_info("total_memory : x\nfree_memory : 1\nnr_cpus : 2\n", &info),
			 -EINVAL);
	assert_int_equal(xl_parse_info("total_memory : 10\nfree_memory : 1\nnr_cpus : 0\n", &info),
			 -EINVAL);
	assert_int_equal(xl_parse_info("", &info), -EINVAL);
}

/* ---- names and migration --------------------------------------------------------- */

static void test_split_name(void **state)
{
	char base[XL_NAME_MAX];

	(void)state;
	assert_int_equal(xl_split_name("web1", base, sizeof(base)), XL_NAME_PLAIN);
	assert_string_equal(base, "web1");
	assert_int_equal(xl_split_name("web1--incoming", base, sizeof(base)), XL_NAME_INCOMING);
	assert_string_equal(base, "web1");
	assert_int_equal(xl_split_name("web1--migratedaway", base, sizeof(base)),
			 XL_NAME_MIGRATEDAWAY);
	assert_string_equal(base, "web1");
	/* the suffix alone is a (strange) plain name */
	assert_int_equal(xl_split_name("--incoming", base, sizeof(base)), XL_NAME_PLAIN);
}

/* What `xl migrate` prints on its stderr on success; receiver lines come through ssh. */
static const char mig_ok[] =
    "migration target: Ready to receive domain.\n"
    "Saving to migration stream new xl format (info 0x3/0x0/1552)\n"
    "Loading new save file <incoming migration stream> (new xl fmt info 0x3/0x0/1552)\n"
    " Savefile contains xl domain config in JSON format\n"
    "Parsing config from <saved>\n"
    "xc: info: Saving domain 3, type x86 PVH\n"
    "xc: info: Found x86 PVH domain from Xen 4.17\n"
    "xc: info: Restoring domain\n"
    "xc: info: Restore successful\n"
    "migration target: Transfer complete, requesting permission to start domain.\n"
    "migration sender: Target has acknowledged transfer.\n"
    "migration sender: Giving target permission to start.\n"
    "migration target: Got permission, starting domain.\n"
    "migration target: Domain started successsfully.\n"
    "migration sender: Target reports successful startup.\n"
    "Migration successful.\n";

static void test_migrate_phases(void **state)
{
	struct xl_mig_status st;
	char partial[sizeof(mig_ok)];
	const char *cut;

	(void)state;
	memset(&st, 0, sizeof(st));
	xl_migrate_scan("", &st);
	assert_int_equal(st.phase, XL_MIG_STARTED);
	cut = strstr(mig_ok, "Saving to");
	memcpy(partial, mig_ok, (size_t)(cut - mig_ok));
	partial[cut - mig_ok] = '\0';
	xl_migrate_scan(partial, &st);
	assert_int_equal(st.phase, XL_MIG_RECEIVER_READY);
	cut = strstr(mig_ok, "migration sender: Target has");
	memcpy(partial, mig_ok, (size_t)(cut - mig_ok));
	partial[cut - mig_ok] = '\0';
	memset(&st, 0, sizeof(st));
	xl_migrate_scan(partial, &st);
	assert_int_equal(st.phase, XL_MIG_TRANSFERRED);
	memset(&st, 0, sizeof(st));
	xl_migrate_scan(mig_ok, &st);
	assert_int_equal(st.phase, XL_MIG_SUCCESS);
	assert_int_equal(st.failure, XL_MIG_OK);
	assert_string_equal(st.last, "Migration successful.");
}

static void test_migrate_failures(void **state)
{
	static const char before[] =
	    "migration target: Ready to receive domain.\n"
	    "Saving to migration stream new xl format (info 0x3/0x0/1552)\n"
	    "libxl: error: libxl_create.c:1692:domcreate_rebuild_done: Domain 7:cannot (re-)build "
	    "domain: -3\n"
	    "migration target: Domain creation failed (code -3).\n"
	    "libxl: error: libxl_stream_write.c:350:libxl__xc_domain_save_done: Domain 3:saving "
	    "domain: domain responded to suspend request: Broken pipe\n"
	    "migration sender: libxl_domain_suspend failed (rc=-3)\n"
	    "Migration failed, resuming at sender.\n";
	static const char handshake[] =
	    "migration target: Ready to receive domain.\n"
	    "migration target: Transfer complete, requesting permission to start domain.\n"
	    "migration sender: Target has acknowledged transfer.\n"
	    "migration sender: Giving target permission to start.\n"
	    "xl: error reading from migration ack stream (success/failure report message): EOF\n"
	    "** Migration failed during final handshake **\n"
	    "Domain state is now undefined !\n"
	    "Please CHECK AT BOTH ENDS for running instances, before renaming and\n"
	    " resuming at most one instance.  Two simultaneous instances of the domain\n"
	    " would probably result in SEVERE DATA LOSS and it is now your\n"
	    " responsibility to avoid that.  Sorry.\n";
	static const char target[] =
	    "migration target: Transfer complete, requesting permission to start domain.\n"
	    "migration sender: Target has acknowledged transfer.\n"
	    "migration sender: Giving target permission to start.\n"
	    "migration sender: Target reports startup failure (status code 3).\n"
	    "migration target: Failure, destroying our copy.\n"
	    "migration target: Cleanup OK, granting sender permission to resume.\n"
	    "migration sender: Trying to resume at our end.\n"
	    "migration sender: Resumed OK.\n"
	    "Migration failed due to problems at target.\n";
	static const char suspend[] =
	    "migration target: Ready to receive domain.\n"
	    "libxl: error: libxl_dom_suspend.c:414:suspend_common_wait_guest_timeout: Domain "
	    "3:guest did not suspend, timed out\n"
	    "migration sender: libxl_domain_suspend failed (rc=-8)\n"
	    "Migration failed, failed to suspend at sender.\n";
	struct xl_mig_status st;

	(void)state;
	memset(&st, 0, sizeof(st));
	xl_migrate_scan(before, &st);
	assert_int_equal(st.failure, XL_MIG_FAIL_RESUMED);
	assert_int_equal(st.phase, XL_MIG_RECEIVER_READY);
	memset(&st, 0, sizeof(st));
	xl_migrate_scan(handshake, &st);
	assert_int_equal(st.failure, XL_MIG_FAIL_HANDSHAKE);
	assert_int_equal(st.phase, XL_MIG_ACKNOWLEDGED);
	memset(&st, 0, sizeof(st));
	xl_migrate_scan(target, &st);
	assert_int_equal(st.failure, XL_MIG_FAIL_TARGET);
	memset(&st, 0, sizeof(st));
	xl_migrate_scan(suspend, &st);
	assert_int_equal(st.failure, XL_MIG_FAIL_SUSPEND);
}

static void test_last_line(void **state)
{
	char out[64];

	(void)state;
	xl_last_line("Parsing config from /x.cfg\nweb1 is an invalid domain identifier (rc=-6)\n\n",
		     out, sizeof(out));
	assert_string_equal(out, "web1 is an invalid domain identifier (rc=-6)");
	xl_last_line("", out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_cmdline(void **state)
{
	uint64_t inc;
	uint32_t node;

	(void)state;
	xl_cmdline_hax("root=/dev/xvda1 hax.incarnation=42 ro hax.nodeid=3", &inc, &node);
	assert_int_equal(inc, 42);
	assert_int_equal(node, 3);
	xl_cmdline_hax("hax.incarnation=4x hax.nodeid= xhax.incarnation=5", &inc, &node);
	assert_int_equal(inc, 0);
	assert_int_equal(node, 0);
	xl_cmdline_hax("", &inc, &node);
	assert_int_equal(inc, 0);
}

/* ---- xl.cfg ---------------------------------------------------------------------- */

static const char cfg_text[] =
    "# web1: PVH guest on the SAN (comments and blank lines are kept)\n"
    "name = \"web1\"\n"
    "type = 'pvh'\n"
    "kernel = \"/boot/vmlinuz\"\n"
    "extra = \"root=/dev/xvda1 ro hax.incarnation=3\"   # hax's part is replaced\n"
    "memory = 512; maxmem = 1024\n"
    "vcpus = 2\n"
    "cpu_weight = 512\n"
    "cap = 50\n"
    "disk = [ 'format=raw, vdev=xvda, access=rw, "
    "target=/dev/disk/by-path/ip-10.0.0.5:3260-iscsi-iqn.2007-10.cz.zcu:san-lun-3',\n"
    "         'phy:/dev/vg0/web1-swap,xvdb,w', ]\n"
    "vif = [ 'bridge=xenbr0, mac=00:16:3e:00:00:01' ]\n"
    "on_crash = \"restart\"\n";

static void test_cfg_parse(void **state)
{
	const struct xl_cfg_item *it;
	struct xl_cfg cfg;
	char err[128];

	(void)state;
	assert_int_equal(xl_cfg_parse(cfg_text, &cfg, err, sizeof(err)), 0);
	it = xl_cfg_get(&cfg, "type");
	assert_non_null(it);
	assert_string_equal(it->str, "pvh");
	it = xl_cfg_get(&cfg, "maxmem");
	assert_int_equal(it->type, XL_CFG_NUMBER);
	assert_int_equal(it->num, 1024);
	it = xl_cfg_get(&cfg, "disk");
	assert_int_equal(it->type, XL_CFG_LIST);
	assert_int_equal(it->nlist, 2);
	assert_string_equal(it->list[1], "phy:/dev/vg0/web1-swap,xvdb,w");
	assert_null(xl_cfg_get(&cfg, "bootloader"));
	xl_cfg_free(&cfg);
	assert_int_equal(xl_cfg_validate(cfg_text, err, sizeof(err)), 0);
}

static void test_cfg_bad(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"name = \"x\nmemory = 1\n", "line 1: unterminated string"},
	    {"memory 128\n", "line 1: expected '=' after \"memory\""},
	    {"memory = \n", "line 1: expected a value after '='"},
	    {"disk = [ 'a' 'b' ]\n", "line 1: expected ',' or ']' in the list"},
	    {"\n\nname = \"a\" \"b\"\n", "line 3: expected the end of the line after \"name\""},
	    {"memory = 128\n$x = 1\n", "line 2: unexpected character '$'"},
	    {"extra = \"a\\qb\"\n", "line 1: unsupported escape sequence"},
	    {"memory = \"512\"\n", "memory: expected a number"},
	    {"memory = 0\n", "memory: expected a whole number 1..16777216, not \"0\""},
	    {"memory = 12k\n", "memory: expected a whole number 1..16777216, not \"12k\""},
	    {"vcpus = 5000\n", "vcpus: expected a whole number 1..4096, not \"5000\""},
	    {"cpu_weight = 0\n", "cpu_weight: expected a whole number 1..65535, not \"0\""},
	    {"disk = 'phy:/dev/sdb,xvda,w'\n", "disk: expected a list"},
	    {"memory = 2048\nmaxmem = 1024\n", "memory (2048) is larger than maxmem (1024)"},
	    {"vcpus = 4\nmaxvcpus = 2\n", "vcpus (4) is larger than maxvcpus (2)"},
	    {"extra = \"a\"\nextra += \" b\"\n",
	     "extra: hax reads this setting, write it once as extra = ..."},
	    {"[ 1 ]\n", "line 1: expected a setting (KEY = VALUE)"},
	};
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(xl_cfg_validate(bad[i].text, err, sizeof(err)), -EINVAL);
		if (strcmp(err, bad[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, bad[i].want);
	}
	/* lists may be empty and span lines; += on a key hax does not read is xl's business */
	assert_int_equal(xl_cfg_validate("disk = [\n]\nvif = [ 'a',\n 'b'\n ]\nusbdev += 'x'\n",
					 err, sizeof(err)),
			 0);
	assert_int_equal(xl_cfg_validate("", err, sizeof(err)), 0);
	/* A word at the very end stops at the terminator, whatever follows it in memory
	 * (found by tests/fuzz: the lexer read on past the NUL into "_x = 1"). */
	{
		static const char past[] = "type = 'pvh'\nker\0_x = 1\n";

		assert_int_equal(xl_cfg_validate(past, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "line 2: expected '=' after \"ker\"");
	}
}

/* Definitions cannot escalate (agent/def_policy.c): what runs a program, reads a host
 * file or passes a host device is refused, by name. */
static void test_cfg_policy(void **state)
{
	static const char paths[] = "/boot /dev/disk/by-path /dev/vg0";
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"bootloader = \"/usr/bin/pygrub\"\n", "bootloader: not allowed"},
	    {"bootloader += \"x\"\n", "bootloader: not allowed"},
	    {"device_model_override = \"/tmp/qemu\"\n", "device_model_override: not allowed"},
	    {"device_model_args = [ '-x' ]\n", "device_model_args: not allowed"},
	    {"pci = [ '01:00.0' ]\n", "pci: not allowed"},
	    {"p9 = [ 'tag=x,path=/etc' ]\n", "p9: not allowed"},
	    {"vif = [ 'bridge=xenbr0,script=/tmp/evil' ]\n", "vif: setting \"script\""},
	    {"vif = 'mac=00:16:3e:00:00:01, vifname=x, hotplug=1'\n", "vif: setting \"hotplug\""},
	    {"disk = [ 'phy:/dev/sda,xvda,w' ]\n", "disk: /dev/sda is outside domain_paths"},
	    {"disk = [ '/etc/shadow,raw,xvda,r' ]\n", "disk: /etc/shadow is outside"},
	    {"disk = [ 'format=raw, vdev=xvda, target=/dev/disk/by-path/../../sda' ]\n",
	     "disk: /dev/disk/by-path/../../sda is outside"},
	    {"disk = [ 'vdev=xvda, script=block-evil, target=/dev/vg0/a' ]\n",
	     "disk: setting \"script\""},
	    {"disk = [ 'nbd:host:1,xvda,w' ]\n", "not a host path"},
	    {"disk = [ 'drbd:a/b,xvda,w' ]\n", "not a DRBD resource name"},
	    {"kernel = \"/etc/shadow\"\n", "kernel: /etc/shadow is outside"},
	    {"ramdisk = \"/boot/../etc/shadow\"\n", "ramdisk: /boot/../etc/shadow is outside"},
	    {"kernel = \"/bootleg/vmlinuz\"\n", "kernel: /bootleg/vmlinuz is outside"},
	    {"serial = \"file:/tmp/x\"\n", "serial: only \"pty\""},
	    {"usbdevice = \"host:1234:5678\"\n", "usbdevice: host:1234:5678 passes a host device"},
	    {"usbdevice = [ 'tablet', 'host:1.2' ]\n", "usbdevice: host:1.2 passes"},
	};
	char err[300];
	size_t i;

	(void)state;
	assert_int_equal(xl_cfg_policy(cfg_text, paths, err, sizeof(err)), 0);
	assert_int_equal(xl_cfg_policy("disk = [ 'drbd:www,xvda,w', 'format=raw,vdev=xvdb,target=' ]\n"
				       "vif = [ 'bridge=xenbr0, mac=00:16:3e:00:00:01, model=e1000' ]\n"
				       "serial = 'pty'\nkernel = '/boot/vmlinuz'\n",
				       paths, err, sizeof(err)),
			 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (xl_cfg_policy(bad[i].text, paths, err, sizeof(err)) != -EPERM)
			fail_msg("case %zu accepted: %s", i, bad[i].text);
		if (!strstr(err, bad[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, bad[i].want);
	}
	assert_true(def_path_allowed("/dev/vg0", paths));
	assert_true(def_path_allowed("/dev/vg0/a/b", paths));
	assert_false(def_path_allowed("/dev/vg00/a", paths));
	assert_false(def_path_allowed("/boot/", paths));
	assert_false(def_path_allowed("/boot//x", paths));
	assert_false(def_path_allowed("/boot/./x", paths));
	assert_false(def_path_allowed("boot/x", paths));
	assert_false(def_path_allowed("/boot/x", ""));
	assert_int_equal(def_paths_check("/a /b/c", err, sizeof(err)), 0);
	assert_int_equal(def_paths_check("/a /", err, sizeof(err)), -EINVAL);
	assert_int_equal(def_paths_check("a", err, sizeof(err)), -EINVAL);
	assert_int_equal(def_paths_check("/a/", err, sizeof(err)), -EINVAL);
}

static void test_cfg_settings(void **state)
{
	struct xl_cfg_settings s;

	(void)state;
	assert_int_equal(xl_cfg_settings(cfg_text, &s), 0);
	assert_int_equal(s.memory_mib, 512);
	assert_int_equal(s.vcpus, 2);
	assert_int_equal(s.weight, 512);
	assert_int_equal(s.cap, 50);
	assert_int_equal(xl_cfg_settings("memory = 64\n", &s), 0);
	assert_int_equal(s.weight, -1);
	assert_int_equal(s.cap, -1);
	assert_int_equal(xl_cfg_settings("memory = x\n", &s), -EINVAL);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static void test_cfg_for_start(void **state)
{
	const struct xl_cfg_item *it;
	struct xl_cfg cfg;
	char err[128], *out;

	(void)state;
	out = xl_cfg_for_start(cfg_text, "web1", 42, 3, 512, 2, err, sizeof(err));
	assert_non_null(out);
	assert_int_equal(xl_cfg_parse(out, &cfg, err, sizeof(err)), 0);
	it = xl_cfg_get(&cfg, "extra");
	assert_string_equal(it->str, "root=/dev/xvda1 ro hax.incarnation=42 hax.nodeid=3");
	it = xl_cfg_get(&cfg, "name");
	assert_string_equal(it->str, "web1");
	/* exactly one name and one extra; everything else as written */
	assert_int_equal(count(out, "\nname = "), 1);
	assert_int_equal(count(out, "\nextra = "), 1);
	assert_non_null(strstr(out, "memory = 512; maxmem = 1024\n"));
	assert_non_null(strstr(out, "# web1: PVH guest on the SAN"));
	assert_null(strstr(out, "hax.incarnation=3\""));
	xl_cfg_free(&cfg);
	free(out);

	/* memory and vcpus from hax when the definition has none; quotes escaped */
	out = xl_cfg_for_start("type = \"hvm\"", "a\"b", 1, 2, 128, 1, err, sizeof(err));
	assert_non_null(out);
	assert_int_equal(xl_cfg_parse(out, &cfg, err, sizeof(err)), 0);
	assert_string_equal(xl_cfg_get(&cfg, "name")->str, "a\"b");
	assert_int_equal(xl_cfg_get(&cfg, "memory")->num, 128);
	assert_int_equal(xl_cfg_get(&cfg, "vcpus")->num, 1);
	assert_string_equal(xl_cfg_get(&cfg, "extra")->str, "hax.incarnation=1 hax.nodeid=2");
	xl_cfg_free(&cfg);
	free(out);

	assert_null(xl_cfg_for_start("memory = 0\n", "x", 1, 1, 0, 0, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_table),
	    cmocka_unit_test(test_list_printf_format),
	    cmocka_unit_test(test_list_bad),
	    cmocka_unit_test(test_list_long_merge),
	    cmocka_unit_test(test_list_long_domid_mismatch),
	    cmocka_unit_test(test_info),
	    cmocka_unit_test(test_split_name),
	    cmocka_unit_test(test_migrate_phases),
	    cmocka_unit_test(test_migrate_failures),
	    cmocka_unit_test(test_last_line),
	    cmocka_unit_test(test_cmdline),
	    cmocka_unit_test(test_cfg_parse),
	    cmocka_unit_test(test_cfg_bad),
	    cmocka_unit_test(test_cfg_policy),
	    cmocka_unit_test(test_cfg_settings),
	    cmocka_unit_test(test_cfg_for_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
