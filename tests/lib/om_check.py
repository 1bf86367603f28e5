#!/usr/bin/python3
"""Parse an exposition (stdin) with both of Debian's python3-prometheus-client parsers:
the strict OpenMetrics one (what haxctl status --openmetrics claims to write) and the
Prometheus text one (the format node_exporter's textfile collector reads). Then check
the expectations given as arguments, each NAME{LABEL=VALUE,...}=NUMBER (labels a subset),
and print the parsed families. Exit 1 with the reason on any failure."""
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
from prometheus_client.parser import text_string_to_metric_families as prom

text = sys.stdin.read()
try:
    fams = list(om(text))
except Exception as e:  # the parser's own message says what is wrong
    sys.exit("OpenMetrics parser: %s" % e)
try:
    list(prom(text))
except Exception as e:
    sys.exit("Prometheus text parser: %s" % e)
samples = [s for f in fams for s in f.samples]
for want in sys.argv[1:]:
    spec, value = want.rsplit("=", 1)
    name, _, labels = spec.partition("{")
    labels = dict(kv.split("=", 1) for kv in labels.rstrip("}").split(",") if kv)
    hits = [s for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    if not hits:
        sys.exit("no sample %s" % spec)
    if any(s.value != float(value) for s in hits):
        sys.exit("%s: %s, expected %s" % (spec, [s.value for s in hits], value))
print("parsed %d families, %d samples: %s" % (len(fams), len(samples), " ".join(f.name for f in fams)))
