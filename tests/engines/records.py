#!/usr/bin/env python3
"""Read what the monitoring engines recorded, for tests/engines/engines.sh.

  nagios-status STATUS_DAT HOST SERVICE
      "STATE LAST_CHECK PERFDATA" of the service in Nagios's status.dat (exit 1 if absent)
  recorded --since T --state S FILE...
      exit 0 if a check result line "TIMET<tab>STATE<tab>PERFDATA<tab>OUTPUT" (the perfdata
      file template both engines are given) has TIMET >= T and state S
  sequence FILE...
      the states of all result lines in time order, repeats collapsed ("OK CRITICAL OK")
  perf FILE... LABEL
      the value of perfdata LABEL in the newest result line
  alerts NAGIOS_LOG HOST SERVICE
      the states of Nagios's "SERVICE ALERT" log lines for the service, in order
  graphite FILE
      what Icinga's GraphiteWriter sent for the service's perfdata: "LABEL VALUE" lines
      (the newest value of every LABEL.value metric), sorted by label
"""
import re
import sys

STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")


def nagios_status(path, host, svc):
    """The servicestatus block of host/svc as a dict, or None."""
    block = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.endswith("{"):
                block = {"_type": line[:-1].strip()}
            elif line == "}":
                if (block and block["_type"] == "servicestatus" and
                        block.get("host_name") == host and
                        block.get("service_description") == svc):
                    return block
                block = None
            elif block is not None and "=" in line:
                k, v = line.split("=", 1)
                block[k] = v
    return None


def results(files):
    """(timet, state, perfdata) of every well-formed result line, oldest first."""
    out = []
    for path in files:
        try:
            f = open(path, errors="replace")
        except OSError:
            continue  # a glob that matched nothing, or a file rotated away meanwhile
        with f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if len(cols) >= 3 and cols[0].isdigit() and cols[1] in STATES:
                    out.append((int(cols[0]), cols[1], cols[2]))
    out.sort(key=lambda r: r[0])  # stable: lines of one second keep their order
    return out


def collapse(states):
    seq = []
    for s in states:
        if not seq or seq[-1] != s:
            seq.append(s)
    return seq


def perf_value(perfdata, label):
    for item in perfdata.split():
        k, _, v = item.partition("=")
        if k.strip("'") == label:
            return v.split(";", 1)[0]
    return None


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "nagios-status":
        b = nagios_status(*args)
        if not b or b.get("current_state") not in ("0", "1", "2", "3"):
            return 1
        print(STATES[int(b["current_state"])], b.get("last_check", "0"),
              b.get("performance_data", ""))
    elif cmd == "recorded":
        since, state, files = int(args[1]), args[3], args[4:]
        return 0 if any(t >= since and s == state for t, s, _ in results(files)) else 1
    elif cmd == "sequence":
        print(" ".join(collapse(s for _, s, _ in results(args))))
    elif cmd == "perf":
        rs = results(args[:-1])
        if not rs:
            return 1
        v = perf_value(rs[-1][2], args[-1])
        if v is None:
            return 1
        print(v)
    elif cmd == "alerts":
        log, host, svc = args
        pat = re.compile(r"SERVICE ALERT: %s;%s;(OK|WARNING|CRITICAL|UNKNOWN);" %
                         (re.escape(host), re.escape(svc)))
        with open(log, errors="replace") as f:
            print(" ".join(m.group(1) for m in map(pat.search, f) if m))
    elif cmd == "graphite":
        last = {}
        pat = re.compile(r"\.perfdata\.([A-Za-z0-9_]+)\.value (\S+) \d+$")
        with open(args[0], errors="replace") as f:
            for line in f:
                m = pat.search(line.rstrip("\n"))
                if m:
                    last[m.group(1)] = m.group(2)
        for k in sorted(last):
            print(k, last[k])
    else:
        print("records.py: unknown command " + cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
