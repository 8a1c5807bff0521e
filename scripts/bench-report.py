#!/usr/bin/env python3
"""Print criterion medians and ratios to the baselines of the same group as Markdown.

Usage: scripts/bench-report.py [target/criterion]

Reads every `*/new/benchmark.json` + `estimates.json` that criterion wrote. Within a group
(`activity/typing-directline`, `normalize/telesign-mo`, ...) each measurement is divided by the
group's `<kind>/value` median (else `parse/value`) (the `serde_json::Value` parse of the same bytes) when it has one;
the routing group's decisions are divided by `baseline/telesign_hmac`.
"""
import json
import os
import sys
from collections import defaultdict

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
groups = defaultdict(dict)
for dirpath, _dirs, files in os.walk(root):
    if not dirpath.endswith(os.sep + "new") or "benchmark.json" not in files:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        meta = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        est = json.load(f)
    name = meta["function_id"] or ""
    if meta.get("value_str"):
        name = f"{name}/{meta['value_str']}" if name else meta["value_str"]
    groups[meta["group_id"]][name] = est["median"]["point_estimate"]


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


print("| group | measurement | median | ratio | to |")
print("|---|---|---|---|---|")
for group in sorted(groups):
    entries = groups[group]
    for name in sorted(entries):
        ns = entries[name]
        ratio, to = "", ""
        prefix = name.split("/")[0]
        candidates = (f"{prefix}/value", "parse/value", "baseline/telesign_hmac")
        base_name = next((b for b in candidates if b in entries), None)
        if base_name and name != base_name:
            ratio = f"{ns / entries[base_name]:.2f}×"
            to = base_name
        print(f"| {group} | {name} | {fmt(ns)} | {ratio} | {to} |")
