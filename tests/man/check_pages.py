#!/usr/bin/env python3
"""The manual pages match the programs they describe.

Everything checked is derived from the code, never from a list kept here:
  a. every sub-command and option in `haxctl --help` appears in haxctl(8);
  b. every option and metric in `check_haxd --help` appears in check_haxd(8);
     every option in `haxd --help` appears in haxd(8);
  c. every key of haxd.conf's key table (printed by conf_keys, a program linked
     with the core library that walks conf_keys()) has an entry in haxd.conf(5)
     whose first line gives its type (or enum values) and whose tag line gives
     exactly its default, range and whether a reload applies it;
  d. every example configuration in any page (a literal block right after the
     scdoc comment "; example: haxd.conf") passes `haxd -n -c FILE`;
  e. scdoc builds every page without a message, and `man -l` renders the built
     pages without a warning (skipped, with a note, when man is not installed).
Prints one line per problem and exits 1 if there is any.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# The key table says which keys a reload applies (today: some of [cluster]; every key
# of [host], [fence] and [storage] is marked as needing a restart). A section left out
# here would be documented as needing a restart whatever the table says.
RELOAD_APPLIES_SECTIONS = {"cluster", "host", "fence", "storage"}

EXAMPLE_MARK = "; example: haxd.conf"

problems = []


def problem(msg):
    problems.append(msg)
    print("FAIL " + msg)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def help_text(prog):
    """--help output; check_haxd exits 3 after it, as plugins do."""
    r = run([prog, "--help"])
    if not r.stdout.strip():
        problem("%s --help printed nothing (exit %d): %s" % (prog, r.returncode, r.stderr.strip()))
    return r.stdout


def options_in(text):
    """Every -x and --long-option that starts an option in a help text."""
    opts = set()
    for m in re.finditer(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])", text):
        opts.add(m.group(1))
    return opts


def bold(page, word):
    return ("*%s*" % word) in page


# ---- a: haxctl ----

def haxctl_commands(help_out):
    """Command phrases of the "Commands:" block: leading lower-case words of each
    line indented by exactly two blanks ("domain add", "fence-ack", "evacuate")."""
    cmds, inside = [], False
    for line in help_out.splitlines():
        if line.startswith("Commands:"):
            inside = True
            continue
        if inside and not line.strip():
            break
        if not inside or not re.match(r"^  \S", line):
            continue
        words = []
        # The synopsis ends where the description starts, after a run of blanks.
        for w in re.split(r"\s{2,}", line.strip())[0].split():
            if not re.fullmatch(r"[a-z][a-z0-9-]*", w):
                break
            words.append(w)
        if words:
            cmds.append(" ".join(words))
    return cmds


def check_haxctl(haxctl, page):
    out = help_text(haxctl)
    cmds = haxctl_commands(out)
    if len(cmds) < 5:
        problem("haxctl --help: found only %d commands (%s): the parser no longer fits" %
                (len(cmds), ", ".join(cmds)))
    for c in cmds:
        # A sub-command entry: a line that starts with the phrase in bold.
        if not re.search(r"^\*%s\*" % re.escape(c), page, re.M):
            problem("haxctl(8): no entry for sub-command \"%s\" (a line starting *%s*)" % (c, c))
    for o in sorted(options_in(out)):
        if not bold(page, o):
            problem("haxctl(8): option %s of haxctl --help is not documented (*%s*)" % (o, o))
    print("-- haxctl: %d sub-commands, %d options checked" % (len(cmds), len(options_in(out))))


# ---- b: check_haxd and haxd ----

def check_plugin(check_haxd, page):
    out = help_text(check_haxd)
    opts = options_in("\n".join(l for l in out.splitlines() if re.match(r"^\s+-", l)))
    if len(opts) < 6:
        problem("check_haxd --help: found only %d options" % len(opts))
    for o in sorted(opts):
        if not bold(page, o):
            problem("check_haxd(8): option %s of check_haxd --help is not documented (*%s*)" % (o, o))
    m = re.search(r"Metrics \(also the perfdata labels\):(.*?)\n\n", out, re.S)
    metrics = re.findall(r"\b[a-z]+(?:_[a-z]+)*\b", re.sub(r"\([^)]*\)", "", m.group(1))) if m else []
    if len(metrics) < 5:
        problem("check_haxd --help: no list of metrics found")
    for metric in metrics:
        # Each metric has an entry of its own under METRICS.
        if not re.search(r"^\*%s\*$" % re.escape(metric), page, re.M):
            problem("check_haxd(8): metric %s has no entry (a line *%s*)" % (metric, metric))
    print("-- check_haxd: %d options, %d metrics checked" % (len(opts), len(metrics)))


def check_daemon(haxd, page):
    out = help_text(haxd)
    opts = options_in("\n".join(l for l in out.splitlines() if re.match(r"^\s+-", l)))
    for o in sorted(opts):
        if not bold(page, o):
            problem("haxd(8): option %s of haxd --help is not documented (*%s*)" % (o, o))
    print("-- haxd: %d options checked" % len(opts))


# ---- c: haxd.conf keys ----

def key_table(conf_keys):
    r = run([conf_keys])
    if r.returncode != 0:
        problem("conf_keys failed: %s" % r.stderr.strip())
        return []
    rows = []
    for line in r.stdout.splitlines():
        f = line.split("\t")
        rows.append({"section": f[0], "key": f[1], "type": f[2], "def": f[3], "min": f[4],
                     "max": f[5], "required": f[6] == "1", "reloadable": f[7] == "1",
                     "enum": f[8].split() if f[8] != "-" else []})
    return rows


def conf_entries(page):
    """{(section, key): [lines]} of haxd.conf(5): an entry starts with "*key* = " at the
    start of a line under a heading naming [cluster], [host, [fence or [storage, and
    runs until the next line that is neither blank nor indented."""
    entries, section, cur = {}, None, None
    for line in page.splitlines():
        if line.startswith("#"):
            m = re.search(r"\[(cluster|host|fence|storage)\b", line)
            section = m.group(1) if m else None
            cur = None
            continue
        m = re.match(r"^\*([a-z0-9_]+)\* = ", line)
        if m and section:
            cur = entries.setdefault((section, m.group(1)), [])
            cur.append(line)
        elif line and not line[0].isspace():
            cur = None
        elif cur is not None:
            cur.append(line)
    return entries


def expected_tag(row):
    parts = []
    if row["required"]:
        parts.append("Required.")
    if row["def"] != "-":
        parts.append("Default: *%s*." % row["def"])
    if row["min"] != "-":
        parts.append("Range: %s..%s." % (row["min"], row["max"]))
    reload = row["reloadable"] and row["section"] in RELOAD_APPLIES_SECTIONS
    parts.append("Reloadable." if reload else "Needs a restart.")
    return " ".join(parts)


def check_conf(conf_keys, page):
    rows = key_table(conf_keys)
    if len(rows) < 30:
        problem("conf_keys printed only %d keys" % len(rows))
    entries = conf_entries(page)
    for row in rows:
        name = "[%s] %s" % (row["section"], row["key"])
        lines = entries.get((row["section"], row["key"]))
        if not lines:
            problem("haxd.conf(5): key %s is not documented (a line \"*%s* = ...\" under its "
                    "section's heading)" % (name, row["key"]))
            continue
        if row["type"] == "enum":
            first = "*%s* = %s" % (row["key"], "|".join("*%s*" % v for v in row["enum"]))
        else:
            first = "*%s* = _%s_" % (row["key"], row["type"])
        if lines[0] != first:
            problem("haxd.conf(5): %s: first line \"%s\", expected \"%s\"" % (name, lines[0], first))
        tag = expected_tag(row)
        if ("\t" + tag) not in lines:
            got = [l.strip() for l in lines if re.match(r"^\t(Required|Default|Range|Reloadable|Needs)", l)]
            problem("haxd.conf(5): %s: expected the line \"%s\", found %s" % (name, tag, got or "none"))
    known = {(r["section"], r["key"]) for r in rows}
    extra = sorted("[%s] %s" % k for k in entries if k not in known)
    if extra:
        # Keys being added on other branches are documented ahead of the code.
        print("-- note: documented but not in the key table: %s" % ", ".join(extra))
    print("-- haxd.conf: %d keys checked" % len(rows))


# ---- d: example configurations ----

def examples(page):
    """The literal blocks that follow the example mark, as text."""
    out, lines, i = [], page.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() == EXAMPLE_MARK:
            if i + 1 >= len(lines) or lines[i + 1].strip() != "```":
                problem("example mark at line %d is not followed by a ``` block" % (i + 1))
                i += 1
                continue
            j = i + 2
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            out.append((i + 1, "\n".join(lines[i + 2:j]) + "\n"))
            i = j
        i += 1
    return out


def check_examples(haxd, pages):
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, page in pages.items():
            for line, text in examples(page):
                total += 1
                path = os.path.join(tmp, "example.conf")
                with open(path, "w") as f:
                    f.write(text)
                r = run([haxd, "-n", "-c", path])
                if r.returncode != 0:
                    problem("%s: example at line %d fails haxd -n: %s" %
                            (name, line, r.stdout.strip().replace(path, "FILE")))
    if total == 0:
        problem("no example configuration found (mark one with \"%s\")" % EXAMPLE_MARK)
    print("-- %d example configurations checked with haxd -n" % total)


# ---- e: scdoc and man ----

def check_build(scdoc, sources, built):
    for src in sources:
        with open(src, "rb") as f:
            r = subprocess.run([scdoc], stdin=f, capture_output=True)
        if r.returncode != 0 or r.stderr:
            problem("scdoc %s: exit %d: %s" % (os.path.basename(src), r.returncode,
                                               r.stderr.decode(errors="replace").strip()))
    man = shutil.which("man")
    if not man:
        print("-- render check skipped: man is not installed (Debian package man-db)")
        return
    env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
    for page in built:
        r = run([man, "--warnings", "-l", page], env=env)
        title = os.path.basename(page).rsplit(".", 1)[0]
        if r.returncode != 0 or r.stderr.strip():
            problem("man -l %s: exit %d: %s" % (os.path.basename(page), r.returncode, r.stderr.strip()))
        elif "NAME" not in r.stdout or title not in r.stdout:
            problem("man -l %s: no NAME section or title in the output" % os.path.basename(page))
    print("-- %d pages rendered by man -l" % len(built))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="directory of the .scd sources")
    ap.add_argument("--scdoc", required=True)
    ap.add_argument("--haxd", required=True)
    ap.add_argument("--haxctl", required=True)
    ap.add_argument("--check-haxd", required=True)
    ap.add_argument("--conf-keys", required=True)
    ap.add_argument("built", nargs="+", help="the built pages")
    a = ap.parse_args()

    sources = sorted(os.path.join(a.src, f) for f in os.listdir(a.src) if f.endswith(".scd"))
    pages = {os.path.basename(s)[:-4]: read(s) for s in sources}
    for want in ("haxd.8", "haxctl.8", "check_haxd.8", "haxd.conf.5"):
        if want not in pages:
            problem("man/%s.scd is missing" % want)
            return 1
    check_haxctl(a.haxctl, pages["haxctl.8"])
    check_plugin(a.check_haxd, pages["check_haxd.8"])
    check_daemon(a.haxd, pages["haxd.8"])
    check_conf(a.conf_keys, pages["haxd.conf.5"])
    check_examples(a.haxd, pages)
    check_build(a.scdoc, sources, a.built)
    if problems:
        print("%d problem(s)" % len(problems))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
