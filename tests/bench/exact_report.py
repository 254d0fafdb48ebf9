#!/usr/bin/env python3
"""Summary of the deterministic benchmark (tests/bench/exact.sh's exact.jsonl).

Writes summary.json and table.md into OUTDIR. Each figure is instructions
per unit (lower is better), the median over the runs; spread_pct is the
larger of rvs's and IPVS's (max - min) / median over the runs. Exits 1 when a
figure is missing, so the smoke run fails when it cannot produce them.
"""
import argparse
import json
import os
import sys

# figure -> the plain-routing figure it is compared with (None: no such
# baseline: a balancer-only path)
FIGURES = [
    ("udp4_nat", "udp4_plain", "UDP through NAT, IPv4"),
    ("udp4_nat_reply", "udp4_plain_reply", "UDP through NAT, IPv4, reply direction"),
    ("udp4_dr", "udp4_plain", "UDP through DR, IPv4"),
    ("udp4_tun", "udp4_plain", "UDP through TUN (IPIP), IPv4"),
    ("udp6_nat", "udp6_plain", "UDP through NAT, IPv6"),
    ("udp6_nat_reply", "udp6_plain_reply", "UDP through NAT, IPv6, reply direction"),
    ("udp6_dr", "udp6_plain", "UDP through DR, IPv6"),
    ("udp6_tun", "udp6_plain", "UDP through TUN (ip6ip6), IPv6"),
    ("tcp4_nat_conn", "tcp4_nat_conn", "TCP connection through NAT (handshake, GET, close)"),
    ("tcp4_dr_conn", "tcp4_nat_conn", "TCP connection through DR"),
    ("tcp4_nat_bulk", "tcp4_nat_bulk", "bulk TCP download through NAT"),
    ("tcp4_nat_conn_full", None, "TCP connection through NAT, table filled"),
]
OWN = [("udp4_nat", "rvs's or IPVS's own code, per UDP NAT datagram"),
       ("udp4_nat_reply", "rvs's or IPVS's own code, per UDP NAT reply datagram"),
       ("tcp4_nat_conn", "rvs's or IPVS's own code, per NAT connection")]


def load(path):
    rows, shares = [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            (shares if "share" in o else rows).append(o)
    return rows, shares


def stats(vals):
    """The median and the spread, (max - min) / median in %."""
    if not vals:
        return None, None
    v = sorted(vals)
    k = len(v) // 2
    m = v[k] if len(v) % 2 else (v[k - 1] + v[k]) / 2
    return m, (max(v) - min(v)) / m * 100 if m else 0.0


SCALE = [
    ("udp4_nat_1cpu_icount", "UDP through NAT, IPv4, 2 vCPUs, one sender"),
    ("udp4_nat_2cpu_icount", "UDP through NAT, IPv4, 2 vCPUs, a sender on each"),
    ("udp4_nat_1cpu_wall", "UDP through NAT, IPv4, real time, one sender (higher is better)"),
    ("udp4_nat_2cpu_wall", "UDP through NAT, IPv4, real time, a sender on each vCPU (higher is better)"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--secs")
    ap.add_argument("--fill", type=int)
    a = ap.parse_args()
    rows, shares = load(os.path.join(a.outdir, "exact.jsonl"))
    scale_path = os.path.join(a.outdir, "scale.jsonl")
    scale_rows = load(scale_path)[0] if os.path.exists(scale_path) else []
    rows += scale_rows
    by = {}
    units = {}
    for r in rows:
        by.setdefault((r["figure"], r["impl"]), []).append(r["value"])
        units[r["figure"]] = r["unit"]
    missing = []
    figs = []

    def mean(fig, impl):
        m, s = stats(by.get((fig, impl), []))
        if m is None:
            missing.append(f"{fig} ({impl})")
        return m, s

    def row(name, plain, desc):
        rvs, srvs = mean(name, "rvs")
        ipvs, sipvs = mean(name, "ipvs")
        pl = mean(plain, "plain")[0] if plain else None
        spreads = [x for x in (srvs, sipvs) if x is not None]
        figs.append({
            "name": name, "description": desc, "unit": units.get(name, ""),
            "rvs": rvs, "ipvs": ipvs, "plain": pl,
            "ratio_rvs_ipvs": rvs / ipvs if rvs and ipvs else None,
            "ratio_rvs_plain": rvs / pl if rvs and pl else None,
            "spread_pct": max(spreads) if spreads else None,
            "runs": len(by.get((name, "rvs"), [])),
        })

    for name, plain, desc in FIGURES:
        row(name, plain, desc)
    if scale_rows:
        for name, desc in SCALE:
            row(name, name, desc)
    # The full table against the empty one, each module with itself.
    for impl in ("rvs", "ipvs"):
        full, empty = mean("tcp4_nat_conn_full", impl)[0], mean("tcp4_nat_conn", impl)[0]
        if full and empty:
            figs.append({"name": f"full_over_empty_{impl}",
                         "description": f"{impl}: instructions per new connection, table filled over empty",
                         "unit": "ratio", impl: full / empty, "fill": a.fill})
    # Own code: the profile's share of samples in the module, times the
    # figure it was taken under.
    share = {(s["share"], s["impl"]): s for s in shares}
    for base, desc in OWN:
        own = {}
        for impl in ("rvs", "ipvs"):
            s = share.get((base, impl))
            m = mean(base, impl)[0]
            if s is None:
                missing.append(f"profile of {base} ({impl})")
            elif m:
                own[impl] = m * s["own_pct"] / 100
        figs.append({
            "name": f"own_{base}", "description": desc, "unit": units.get(base, ""),
            "rvs": own.get("rvs"), "ipvs": own.get("ipvs"), "plain": None,
            "ratio_rvs_ipvs": own["rvs"] / own["ipvs"] if own.get("rvs") and own.get("ipvs") else None,
            "ratio_rvs_plain": None, "spread_pct": None,
            "own_pct": {i: share[(base, i)]["own_pct"] for i in ("rvs", "ipvs") if (base, i) in share},
        })
    summary = {"method": "instructions per unit: the load's own window of guest time under QEMU "
                         "-icount shift=0,sleep=off on one vCPU, less idle; whole system "
                         "(sender, balancer, receiver)",
               "runs": a.runs, "secs": a.secs, "fill": a.fill, "figures": figs}
    with open(os.path.join(a.outdir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)

    def n(v, d=0):
        return "–" if v is None else f"{v:,.{d}f}"

    lines = ["| figure | unit | rvs | ip_vs | plain | rvs/ip_vs | rvs/plain | spread % |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for fg in figs:
        if fg["unit"] == "ratio":
            continue
        lines.append(f"| {fg['description']} | {fg['unit']} | {n(fg['rvs'])} | {n(fg['ipvs'])} | "
                     f"{n(fg['plain'])} | {n(fg['ratio_rvs_ipvs'], 3)} | {n(fg['ratio_rvs_plain'], 3)} | "
                     f"{n(fg['spread_pct'], 2)} |")
    for fg in figs:
        if fg["unit"] == "ratio":
            impl = "rvs" if "rvs" in fg else "ipvs"
            lines.append(f"| {fg['description']} ({fg['fill']:,} entries) | ratio | "
                         + (f"{fg['rvs']:.3f} | – |" if impl == "rvs" else f"– | {fg['ipvs']:.3f} |")
                         + " – | – | – | – |")
    table = "\n".join(lines) + "\n"
    with open(os.path.join(a.outdir, "table.md"), "w") as f:
        f.write(table)
    print(table)
    plot([fg for fg in figs if fg["unit"] != "ratio" and fg["ratio_rvs_ipvs"]], a)
    if missing:
        print("missing figures: " + ", ".join(missing), file=sys.stderr)
        sys.exit(1)


def plot(figs, a):
    """ratios.png: rvs's instructions over IPVS's and over plain routing's,
    per figure (lower is better; 1 is level)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [fg["description"] for fg in figs]
    y = range(len(figs))
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(figs) + 1.4))
    h = 0.4
    ax.barh([i - h / 2 for i in y], [fg["ratio_rvs_ipvs"] for fg in figs], h, label="rvs / IPVS")
    ax.barh([i + h / 2 for i in y], [fg["ratio_rvs_plain"] or float("nan") for fg in figs], h,
            label="rvs / plain routing")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(list(y))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("instructions per unit, ratio (< 1: rvs cheaper)")
    ax.set_title(f"rvs relative to IPVS and plain routing, under icount (medians of {a.runs} runs, "
                 f"{a.secs} guest-s each)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.outdir, "ratios.png"), dpi=100)


if __name__ == "__main__":
    main()
