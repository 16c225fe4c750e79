#!/usr/bin/python3
"""Tables, plot and target checks of tools/validate.sh (the paper's Fig. 6 and the time saved).

    tools/plot_validation.py DIR --borders -8 -4 -2 0 2 4 --runs 5 [--scan TEXT] [--elapsed SECONDS]

Reads DIR/roi/border_B.json (ptyroi --summary) and DIR/recon/{full,border_B}_sS.json (ptyroi-recon
--summary) and writes DIR/validation_runs.csv (one row per reconstruction), DIR/validation.csv (one
row per case: mean and standard deviation over the runs), DIR/validation.md (that table in Markdown)
and DIR/validation.png (phase SSIM against the full reconstruction and against the truth versus
the border, the data fraction on a second axis). Exit status 1 if a target is missed.
"""
import argparse
import csv
import json
import pathlib
import statistics
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def mean_sd(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def metric(summary, against, key):
    block = summary.get(against)
    return None if block is None else block[key]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("--borders", type=int, nargs="+", required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--scan", default="")
    parser.add_argument("--elapsed", type=float, default=None, help="seconds the validation took")
    args = parser.parse_args()
    directory = args.directory
    seeds = range(1, args.runs + 1)

    # One row per reconstruction.
    runs = []
    for seed in seeds:
        s = load(directory / "recon" / f"full_s{seed}.json")
        runs.append({"case": "full", "border": "", "seed": seed, "summary": s})
        for border in args.borders:
            s = load(directory / "recon" / f"border_{border}_s{seed}.json")
            runs.append({"case": f"border {border}", "border": border, "seed": seed, "summary": s})
    columns = ["case", "border", "seed", "frames", "data_fraction", "ssim_vs_full", "ssim_vs_full_offset_only",
               "ssim_vs_full_reference_range", "ssim_vs_truth", "ssim_vs_truth_offset_only",
               "ssim_vs_truth_reference_range", "error_vs_truth", "fourier_error", "reconstruction_s", "total_s"]
    with open(directory / "validation_runs.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for run in runs:
            s = run["summary"]
            writer.writerow([run["case"], run["border"], run["seed"], s["frames"], f"{s['data_fraction']:.6f}",
                             metric(s, "versus_reference", "phase_ssim"),
                             metric(s, "versus_reference", "phase_ssim_offset_only"),
                             metric(s, "versus_reference", "phase_ssim_reference_range"),
                             metric(s, "versus_truth", "phase_ssim"), metric(s, "versus_truth", "phase_ssim_offset_only"),
                             metric(s, "versus_truth", "phase_ssim_reference_range"),
                             metric(s, "versus_truth", "relative_error"), s["fourier_error"],
                             s["timings"]["reconstruction_s"], s["timings"]["total_s"]])

    # One row per case. The full scan's "vs full" is runs 2..N against run 1: the spread between
    # random starts, the ceiling any subset can reach.
    def case_row(name, border, summaries, roi=None):
        ssim_full = mean_sd([metric(s, "versus_reference", "phase_ssim") for s in summaries])
        ssim_truth = mean_sd([metric(s, "versus_truth", "phase_ssim") for s in summaries])
        ssim_full_range = mean_sd([metric(s, "versus_reference", "phase_ssim_reference_range") for s in summaries])
        ssim_truth_range = mean_sd([metric(s, "versus_truth", "phase_ssim_reference_range") for s in summaries])
        error_truth = mean_sd([metric(s, "versus_truth", "relative_error") for s in summaries])
        time = mean_sd([s["timings"]["reconstruction_s"] for s in summaries])
        return {"case": name, "border": border, "frames": summaries[0]["frames"],
                "data_fraction": summaries[0]["data_fraction"], "ssim_vs_full": ssim_full,
                "ssim_vs_truth": ssim_truth, "ssim_vs_full_range": ssim_full_range,
                "ssim_vs_truth_range": ssim_truth_range, "error_vs_truth": error_truth, "reconstruction_s": time,
                "roi": roi}

    full = case_row("full", "all", [r["summary"] for r in runs if r["case"] == "full"])
    rows = [case_row(f"border {b}", b, [r["summary"] for r in runs if r["border"] == b],
                     load(directory / "roi" / f"border_{b}.json")) for b in args.borders]
    full_time = full["reconstruction_s"][0]
    for row in rows:
        row["time_ratio"] = row["reconstruction_s"][0] / full_time
    full["time_ratio"] = 1.0

    def fmt(value, digits=4):
        return "" if value is None else f"{value:.{digits}f}"

    with open(directory / "validation.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["case", "border", "frames", "data_fraction", "ssim_vs_full_mean", "ssim_vs_full_sd",
                         "ssim_vs_truth_mean", "ssim_vs_truth_sd", "ssim_vs_full_reference_range_mean",
                         "ssim_vs_truth_reference_range_mean", "error_vs_truth_mean", "reconstruction_s_mean",
                         "reconstruction_s_sd", "time_ratio", "time_ratio_over_fraction"])
        for row in rows + [full]:
            fraction = row["data_fraction"]
            writer.writerow([row["case"], row["border"], row["frames"], fmt(fraction), fmt(row["ssim_vs_full"][0]),
                             fmt(row["ssim_vs_full"][1]), fmt(row["ssim_vs_truth"][0]), fmt(row["ssim_vs_truth"][1]),
                             fmt(row["ssim_vs_full_range"][0]), fmt(row["ssim_vs_truth_range"][0]),
                             fmt(row["error_vs_truth"][0]), fmt(row["reconstruction_s"][0], 3),
                             fmt(row["reconstruction_s"][1], 3), fmt(row["time_ratio"], 3),
                             fmt(row["time_ratio"] / fraction, 3) if fraction > 0 else ""])

    def pm(pair, digits=3):
        mean, sd = pair
        return "–" if mean is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"

    lines = ["| border | frames | data fraction | phase SSIM vs full | phase SSIM vs truth "
             "| … with data range of the reference: vs full, vs truth | error vs truth "
             "| reconstruction s | time ratio | ratio / fraction |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows + [full]:
        fraction = row["data_fraction"]
        lines.append(f"| {row['border']} | {row['frames']} | {fraction:.3f} | {pm(row['ssim_vs_full'])} "
                     f"| {pm(row['ssim_vs_truth'])} | {fmt(row['ssim_vs_full_range'][0], 3)}, "
                     f"{fmt(row['ssim_vs_truth_range'][0], 3)} "
                     f"| {pm(row['error_vs_truth'])} | {pm(row['reconstruction_s'], 2)} "
                     f"| {row['time_ratio']:.3f} | {fmt(row['time_ratio'] / fraction, 2) if fraction > 0 else '–'} |")
    table = "\n".join(lines) + "\n"
    (directory / "validation.md").write_text(table)
    print(table)

    # Targets (issue 7).
    failures = []
    by_border = {row["border"]: row for row in rows}
    if 4 in by_border:
        plateau = by_border[4]["ssim_vs_full"][0]
        for b in (b for b in args.borders if b >= 2):
            difference = abs(by_border[b]["ssim_vs_full"][0] - plateau)
            ok = difference <= 0.02
            print(f"target: SSIM vs full at border {b} within 0.02 of border 4: |{by_border[b]['ssim_vs_full'][0]:.4f}"
                  f" - {plateau:.4f}| = {difference:.4f} {'pass' if ok else 'FAIL'}")
            if not ok:
                failures.append(f"plateau at border {b}")
    ordered = [by_border[b]["ssim_vs_full"][0] for b in sorted(args.borders)]
    rises = all(later >= earlier - 0.005 for earlier, later in zip(ordered, ordered[1:]))
    print(f"target: SSIM vs full rises with the border (no drop over 0.005): {'pass' if rises else 'FAIL'}")
    if not rises:
        failures.append("rise")
    for row in rows:
        if row["frames"] == 0:
            continue
        limit = 1.3 * row["data_fraction"]
        ok = row["time_ratio"] <= limit
        print(f"target: border {row['border']:>2}: time ratio {row['time_ratio']:.3f} <= 1.3 x data fraction "
              f"{row['data_fraction']:.3f} = {limit:.3f} {'pass' if ok else 'FAIL'}")
        if not ok:
            failures.append(f"time at border {row['border']}")
    if args.elapsed is not None:
        ok = args.elapsed < 20 * 60
        print(f"target: validation wall time {args.elapsed:.0f} s < 1200 s {'pass' if ok else 'FAIL'}")
        if not ok:
            failures.append("wall time")

    # The plot: SSIM against the border, the data fraction on a second axis.
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    borders = [row["border"] for row in rows]
    fig, ax = plt.subplots(figsize=(7.0, 4.4), dpi=130)
    for key, label, marker in (("ssim_vs_full", "vs full reconstruction (same seed)", "o"),
                               ("ssim_vs_truth", "vs true object", "s")):
        ax.errorbar(borders, [row[key][0] for row in rows], yerr=[row[key][1] for row in rows], marker=marker,
                    capsize=3, label=f"phase SSIM {label}")
    ax.axhline(full["ssim_vs_truth"][0], color="C1", linestyle=":", linewidth=1,
               label="full reconstruction vs true object")
    if full["ssim_vs_full"][0] is not None:
        ax.axhline(full["ssim_vs_full"][0], color="C0", linestyle=":", linewidth=1,
                   label="full vs full (other random start)")
    ax.set_xlabel("border (scan steps)")
    ax.set_ylabel("phase SSIM, data range 2π (mean ± sd, %d runs)" % args.runs)
    ax.set_xticks(borders)
    ax.grid(alpha=0.3)
    second = ax.twinx()
    second.bar(borders, [row["data_fraction"] for row in rows], width=0.8, alpha=0.18, color="gray")
    second.plot(borders, [row["time_ratio"] for row in rows], color="gray", marker="x", linestyle="--",
                label="reconstruction time / full")
    second.set_ylabel("data fraction (bars), time ratio (x)")
    second.set_ylim(0, 1.05)
    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = second.get_legend_handles_labels()
    ax.legend(handles + more_handles, labels + more_labels, loc="lower right", fontsize=7)
    ax.set_title(f"RoI reconstruction vs border: {args.scan}", fontsize=8)
    fig.tight_layout()
    fig.savefig(directory / "validation.png")
    print(f"wrote {directory / 'validation.csv'}, validation_runs.csv, validation.md, validation.png")
    if failures:
        print("missed targets: " + ", ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
