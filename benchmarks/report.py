"""Tables and a plot from bench.py's JSON files.

    python3 benchmarks/report.py results/bench-1t.json results/bench-2t.json --png out.png --md out.md
"""
import argparse
import json

BASELINES = ["numpy", "torch", "torch.compile", "jax.jit", "onnxruntime", "iree", "tvm"]
ABLATIONS = ["flashcompile (no ukernels)", "flashcompile (no fusion)", "flashcompile (no im2col)"]


def _cell(r, name):
    """A speedup, or why there is none (a contender found wrong is not timed)."""
    if name in r["speedup_vs"]:
        return f"{r['speedup_vs'][name]:.2f}x"
    why = r.get("not_timed", {}).get(name, "")
    return why.split(":")[0] if why else "n/a"


def table(runs):
    lines = ["| workload | threads | fc | unit | % of peak | compile s (cold / cached) | "
             + " | ".join(f"vs {b}" for b in BASELINES) + " |",
             "|---|---:|---:|---|---:|---:|" + "---:|" * len(BASELINES)]
    for run in runs:
        for r in run["rows"]:
            peak = f"{100 * r['fraction_of_peak']:.0f}%" if "fraction_of_peak" in r else ""
            ours = r["rate"].get("flashcompile")
            rate = f"{ours:.1f}" if ours else "WRONG RESULT"
            lines.append(f"| {r['workload']} | {r['threads']} | {rate} | "
                         f"{r['unit']} | {peak} | {r['fc_compile_s']:.3f} / {r['fc_compile_cached_s']:.3f} | "
                         + " | ".join(_cell(r, b) for b in BASELINES) + " |")
    return "\n".join(lines)


def ablation_table(runs):
    lines = ["| workload | threads | fc | " + " | ".join(a.split("(")[1][:-1] for a in ABLATIONS) + " |",
             "|---|---:|---:|" + "---:|" * len(ABLATIONS)]
    for run in runs:
        for r in run["rows"]:
            ours = r["rate"].get("flashcompile")
            cells = []
            for a in ABLATIONS:
                if a in r["rate"] and ours:
                    cells.append(f"{r['rate'][a]:.1f} ({r['rate'][a] / ours:.2f}x)")
                else:
                    why = r.get("not_timed", {}).get(a, "")
                    cells.append(why.split(":")[0] if why else "n/a")
            lines.append(f"| {r['workload']} | {r['threads']} | {ours or float('nan'):.1f} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def overhead_table(runs):
    text = "| threads | fc.add | np.add | ratio |\n|---:|---:|---:|---:|\n"
    for run in runs:
        o = run.get("overhead_add_1024")
        if o:
            text += (f"| {run['threads']} | {o['fc.add'] * 1e6:.2f} us | {o['np.add'] * 1e6:.2f} us | "
                     f"{o['ratio']:.2f}x |\n")
    return text.rstrip("\n")


def not_timed_list(runs):
    """Every contender that was not timed, and why (wrong, failed, missing)."""
    lines = []
    for run in runs:
        for r in run["rows"]:
            for name, why in r.get("not_timed", {}).items():
                if not why.startswith("skipped"):
                    lines.append(f"- {r['workload']}, {r['threads']} thread(s), {name}: {why}")
    missing = {k: v for run in runs for k, v in run.get("baselines_missing", {}).items()}
    lines += [f"- {k}: {v}" for k, v in missing.items()]
    return "\n".join(lines) or "- none: every contender was checked and timed"


def plot(runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    fig, axes = plt.subplots(len(runs), 1, figsize=(14, 5 * len(runs)), squeeze=False)
    for ax, run in zip(axes[:, 0], runs):
        rows = run["rows"]
        names = [r["workload"] for r in rows]
        x = np.arange(len(rows))
        present = [b for b in BASELINES if any(b in r["speedup_vs"] for r in rows)]
        width = 0.8 / max(1, len(present))
        for i, b in enumerate(present):
            vals = [r["speedup_vs"].get(b, np.nan) for r in rows]
            ax.bar(x + i * width - 0.4 + width / 2, vals, width, label=f"vs {b}")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(x, names, rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("FlashCompile speedup (x, log)")
        ax.set_title(f"FlashCompile vs baselines, {run['threads']} thread(s); > 1 means FlashCompile is faster")
        ax.legend(fontsize=8, ncol=len(present))
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--png")
    parser.add_argument("--md")
    args = parser.parse_args()
    runs = sorted((json.load(open(f)) for f in args.files), key=lambda r: r["threads"])
    text = ("## Throughput and speedups\n\n" + table(runs)
            + "\n\n## Ablation: each optimization switched off (rate, and ratio to the default)\n\n"
            + ablation_table(runs) + "\n")
    text += "\n## Per-call overhead of a cached `fc.add` on 1024 floats\n\n" + overhead_table(runs) + "\n"
    text += "\n## Not timed\n\n" + not_timed_list(runs) + "\n"
    print(text)
    if args.md:
        open(args.md, "w").write(text)
    if args.png:
        plot(runs, args.png)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
