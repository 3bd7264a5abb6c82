#!/usr/bin/env python3
"""Median of several bench/run.py runs, and issue 13's targets checked.

    sudo python3 bench/run.py ... --json run1.json   (three times or more)
    python3 bench/median.py run1.json run2.json run3.json [--markdown FILE]

Every cell of the table is the median of that cell over the runs (ratio
columns too: the median of the per-run ratios, so each ratio compares
figures measured side by side). The targets are issue 13's, as ratios
rtether-direct÷pasta-2025 and rtether-tcp÷pasta-2025; a target is met when
the median ratio is on its side of the bound.
"""
import argparse
import json
import statistics
import sys

# (row label prefix, column, comparison, bound)
TARGETS = [
    ("TCP download, 1 stream", "rtether-direct", ">=", 1.0),
    ("TCP download, 4 streams", "rtether-direct", ">=", 1.2),
    ("TCP upload, 1 stream", "rtether-direct", ">=", 2.0),
    ("TCP connections/s", "rtether-direct", ">=", 1.3),
    ("UDP request/response RTT p50", "rtether-direct", "<=", 0.8),
    ("Translator CPU % per Gbit/s", "rtether-direct", "<=", 0.8),
    ("Translator RSS with", "rtether-direct", "<=", 0.8),
    ("TCP download, 1 stream", "rtether-tcp", ">=", 0.8),
    ("Translator CPU % per Gbit/s", "rtether-tcp", "<=", 1.2),
]


def number(cell):
    try:
        return float(cell)
    except ValueError:
        return None


def load(path):
    with open(path) as f:
        data = json.load(f)
    table = data["table"]
    return data, table["header"], {row[0]: row[1:] for row in table["rows"]}


def column_value(header, rows, label_prefix, column):
    if column not in header:
        return None
    index = header.index(column) - 1
    for label, cells in rows.items():
        if label.startswith(label_prefix):
            return number(cells[index])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="JSON files written by bench/run.py --json")
    ap.add_argument("--markdown", help="write the median table and the targets as Markdown")
    options = ap.parse_args()
    runs = [load(path) for path in options.runs]
    header = runs[0][1]
    for path, (_, other, _) in zip(options.runs, runs):
        if other != header:
            sys.exit("%s: its columns differ from %s's; run every file with the same --only"
                     % (path, options.runs[0]))
    labels = list(runs[0][2])
    median_rows = []
    for label in labels:
        cells = []
        for i in range(len(header) - 1):
            values = [number(rows[label][i]) for _, _, rows in runs if label in rows]
            values = [v for v in values if v is not None]
            if len(values) == len(runs):
                med = statistics.median(values)
                ratio = "÷" in header[i + 1]
                cells.append(("%.2f" % med) if ratio or med < 100 else "%.0f" % med)
            else:
                cells.append(runs[0][2][label][i] if len(values) == 0 else "(%d of %d runs)" % (len(values), len(runs)))
        median_rows.append([label] + cells)

    target_rows = []
    for prefix, column, op, bound in TARGETS:
        ratios = []
        for _, hdr, rows in runs:
            a = column_value(hdr, rows, prefix, column)
            b = column_value(hdr, rows, prefix, "pasta-2025")
            if a is not None and b:
                ratios.append(a / b)
        if len(ratios) != len(runs):
            target_rows.append([prefix, column, "%s %.1f" % (op, bound), "not measured", "—", "—"])
            continue
        med = statistics.median(ratios)
        met = med >= bound if op == ">=" else med <= bound
        target_rows.append([prefix, column, "%s %.1f" % (op, bound), "%.2f" % med,
                            " ".join("%.2f" % r for r in ratios), "met" if met else "MISSED"])

    def table(head, body):
        out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(out)

    text = ["Median of %d runs: %s" % (len(runs), ", ".join(options.runs)), "",
            table(header, median_rows), "",
            "Issue 13 targets (ratio to pasta-2025, median of the per-run ratios):", "",
            table(["metric", "column", "target", "median", "runs", "verdict"], target_rows)]
    commands = sorted({data.get("command", "") for data, _, _ in runs})
    text += ["", "Commands: " + "; ".join(commands)]
    print("\n".join(text))
    if options.markdown:
        with open(options.markdown, "w") as f:
            f.write("\n".join(text) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
