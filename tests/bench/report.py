#!/usr/bin/env python3
"""Summarises a benchmark run (scripts/bench.sh): medians, min and max per
figure and implementation, the ratios rvs/IPVS and rvs/plain, a Markdown
table, a JSON summary and a PNG plot of the ratios.

Usage: report.py DIR --what "dp scale restore" [--runs N --secs S ...]
Reads DIR/results.jsonl; writes DIR/summary.json, DIR/table.md and
DIR/ratios.png. Exits non-zero if any figure the run should have produced
is missing (it checks presence only, never a timing).
"""
import argparse
import datetime
import json
import os
import statistics
import sys

# name, what, unit, better ("higher"/"lower"), group, plain: None (not
# applicable) or the figure whose plain-routing measurement applies
FIGURES = [
    ("cps_nat", "New TCP connections/s, NAT VIP", "conn/s", "higher", "dp", "cps_nat"),
    ("cps_dr", "New TCP connections/s, DR VIP", "conn/s", "higher", "dp", "cps_nat"),
    ("udp_nat", "UDP packets/s, NAT VIP", "pkt/s", "higher", "dp", "udp_nat"),
    ("udp_dr", "UDP packets/s, DR VIP", "pkt/s", "higher", "dp", "udp_nat"),
    ("bulk_nat", "Bulk TCP throughput, NAT", "Mbit/s", "higher", "dp", "bulk_nat"),
    ("lat_p50", "Request latency p50, NAT, fixed rate", "µs", "lower", "dp", "lat_p50"),
    ("lat_p99", "Request latency p99, NAT, fixed rate", "µs", "lower", "dp", "lat_p99"),
    ("mem_per_conn", "Kernel memory per connection (slab + table growth)", "bytes", "lower", "scale", None),
    ("cps_empty", "New TCP conn/s, NAT, empty table", "conn/s", "higher", "scale", None),
    ("cps_full", "New TCP conn/s, NAT, table filled", "conn/s", "higher", "scale", None),
    ("full_over_empty", "CPS filled / CPS empty", "ratio", "higher", "scale", None),
    ("restore", "Restore services x 4 real servers", "s", "lower", "restore", None),
    ("sync_lag_idle_p50", "Sync lag, idle, median", "ms", "lower", "sync", None),
    ("sync_lag_idle_p90", "Sync lag, idle, p90", "ms", "lower", "sync", None),
    ("sync_lag_load_p50", "Sync lag under load, median", "ms", "lower", "sync", None),
    ("sync_lag_load_p90", "Sync lag under load, p90", "ms", "lower", "sync", None),
    ("sync_keepup", "Highest rate with backup >= 99% of master's entries", "conn/s", "higher", "sync", None),
]
IMPLS = ("rvs", "ipvs", "plain")


def stats(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "values": values,
    }


def fmt(x):
    if x is None:
        return "–"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--what", default="dp scale restore")
    for k in ("runs", "secs", "fill", "services"):
        ap.add_argument("--" + k, default="")
    a = ap.parse_args()
    rows = []
    with open(os.path.join(a.dir, "results.jsonl")) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    for r in rows:
        # Memory per connection: slab growth plus vmalloc growth (IPVS grows
        # its connection table with the load) over the fill, per entry.
        # (data.sh emits this value too; results of runs before it did
        # carried slab growth alone, so it is computed here from the raw
        # fields either way.)
        if r["figure"] == "mem_per_conn" and "vmalloc_kb" in r and r.get("entries"):
            ds = r["slab_kb"][1] - r["slab_kb"][0]
            dv = r["vmalloc_kb"][1] - r["vmalloc_kb"][0]
            r["value"] = round((ds + dv) * 1024 / r["entries"], 1)
    groups = a.what.split()
    by = {}
    byrun = {}  # figure -> impl -> run -> value
    for r in rows:
        by.setdefault(r["figure"], {}).setdefault(r["impl"], []).append(r["value"])
        byrun.setdefault(r["figure"], {}).setdefault(r["impl"], {})[r["run"]] = r["value"]

    def paired(fig, other_fig, other):
        """Median over runs of rvs's value / the other's in the same run:
        neighbours in time, so slow drifts of the host cancel out."""
        mine = byrun.get(fig, {}).get("rvs", {})
        theirs = byrun.get(other_fig, {}).get(other, {})
        q = [mine[k] / theirs[k] for k in mine if theirs.get(k)]
        return statistics.median(q) if q else None

    missing = []
    summary = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "parameters": {k: getattr(a, k) for k in ("what", "runs", "secs", "fill", "services")},
        "figures": {},
    }
    table = [
        "| figure | unit | better | rvs median (min–max) | IPVS median (min–max) "
        "| plain median (min–max) | rvs/IPVS | rvs/plain | rvs/IPVS per run | rvs/plain per run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    plot = []  # (label, rvs vs IPVS advantage, rvs vs plain advantage)
    for name, what, unit, better, group, plain in FIGURES:
        if group not in groups:
            continue
        got = by.get(name, {})
        need = ["rvs", "ipvs"] + (["plain"] if plain else [])
        for impl in need:
            src = by.get(plain, {}) if impl == "plain" else got
            # (sync_keepup may be 0: no rate kept up; present is enough)
            if not src.get(impl) or (group != "sync" and not any(v > 0 for v in src[impl])):
                missing.append("%s/%s" % (name, impl))
        s = {impl: stats(got[impl]) for impl in IMPLS if got.get(impl)}
        if plain and plain != name and by.get(plain, {}).get("plain"):
            s["plain"] = stats(by[plain]["plain"])
            s["plain"]["from"] = plain
        med = {impl: s[impl]["median"] for impl in s}
        r_ipvs = med["rvs"] / med["ipvs"] if med.get("rvs") and med.get("ipvs") else None
        r_plain = med["rvs"] / med["plain"] if plain and med.get("rvs") and med.get("plain") else None
        p_ipvs = paired(name, name, "ipvs")
        p_plain = paired(name, plain, "plain") if plain else None
        summary["figures"][name] = {
            "what": what, "unit": unit, "better": better,
            "impls": s, "rvs_over_ipvs": r_ipvs, "rvs_over_plain": r_plain,
            "rvs_over_ipvs_per_run_median": p_ipvs, "rvs_over_plain_per_run_median": p_plain,
        }

        def cell(impl):
            if impl not in s:
                return "–"
            return "%s (%s–%s)" % (fmt(s[impl]["median"]), fmt(s[impl]["min"]), fmt(s[impl]["max"]))

        table.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            what, unit, better, cell("rvs"), cell("ipvs"), cell("plain") if plain else "n/a",
            fmt(r_ipvs), fmt(r_plain) if plain else "n/a",
            fmt(p_ipvs), fmt(p_plain) if plain else "n/a"))

        def adv(r):  # > 1: rvs better, whichever way the figure goes
            if r is None or r == 0:
                return None
            return r if better == "higher" else 1 / r

        if name != "full_over_empty":
            plot.append((name, adv(r_ipvs), adv(r_plain)))
        else:
            # rvs's own filled/empty ratio, and IPVS's, on the same plot
            plot.append(("full/empty rvs", med.get("rvs"), None))
            plot.append(("full/empty IPVS", med.get("ipvs"), None))

    if "sync" in groups:
        # Keeping up: per rate, the backup's share of the master's entries
        # (median over runs) and the connections made.
        steps = {}
        for r in rows:
            if r["figure"] == "sync_step":
                steps.setdefault(r["rate"], {}).setdefault(r["impl"], []).append(r)
        table.append("")
        table.append("| rate (conn/s) | rvs achieved conn/s | rvs backup/master entries | "
                     "IPVS achieved conn/s | IPVS backup/master entries |")
        table.append("| --- | --- | --- | --- | --- |")
        summary["sync_steps"] = {}
        for rate in sorted(steps):
            cells = []
            for impl in ("rvs", "ipvs"):
                rs = steps[rate].get(impl, [])
                if not rs:
                    cells += ["–", "–"]
                    continue
                cells.append(fmt(statistics.median(x["achieved_cps"] for x in rs)))
                cells.append("%.3f (%s)" % (statistics.median(x["value"] for x in rs),
                                            ", ".join("%d/%d" % (x["backup"], x["master"]) for x in rs)))
            summary["sync_steps"][rate] = steps[rate]
            table.append("| %s | %s |" % (rate, " | ".join(cells)))
    with open(os.path.join(a.dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(a.dir, "table.md"), "w") as f:
        f.write("\n".join(table) + "\n")
    print("\n".join(table))
    make_plot(a, plot)
    if missing:
        print("missing figures: " + ", ".join(missing), file=sys.stderr)
        sys.exit(1)
    print("all figures produced (%d measurements)" % len(rows))


def make_plot(a, plot):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401

    labels = [p[0] for p in plot]
    x = range(len(plot))
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(plot) + 2), 4.5))
    w = 0.4
    ax.bar([i - w / 2 for i in x], [p[1] or float("nan") for p in plot], w, label="rvs vs IPVS")
    ax.bar([i + w / 2 for i in x], [p[2] or float("nan") for p in plot], w, label="rvs vs plain routing")
    ax.axhline(1.0, color="black", linewidth=0.8)
    # Log scale: 2x better and 2x worse are the same distance from 1, and
    # the control plane's large ratio does not flatten the rest.
    ax.set_yscale("log", base=2)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v))
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, rotation=35, ha="right")
    ax.set_ylabel("ratio (> 1: rvs better)")
    ax.set_title("rvs relative to IPVS and plain routing (medians; runs=%s, %s s each)"
                 % (a.runs, a.secs), fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.dir, "ratios.png"), dpi=100)


if __name__ == "__main__":
    main()
