#!/usr/bin/env python3
"""Draws chart.svg from results.json (written by `cargo run --release --bin ratios`).
Horizontal bar panels: ns/command (lower is better), GB/s on the 10 MiB body and on each
body shape (higher is better), and the CPU the figures come from.
Plain SVG by hand: no plotting library."""
import json, os, html

here = os.path.dirname(os.path.abspath(__file__))
res = json.load(open(os.path.join(here, "results.json")))

def panel(title, items, y0, unit, fmt):
    bar_h, gap, left, width = 20, 6, 250, 380
    top = max(v for _, v in items) or 1
    out = [f'<text x="10" y="{y0 + 16}" font-weight="bold">{html.escape(title)}</text>']
    y = y0 + 28
    for name, v in items:
        w = max(1, v / top * width)
        colour = "#2b6cb0" if name.startswith("smtp-sansio") else ("#999" if name in ("memcpy", "floor", "end_marker_scan") else "#dd6b20")
        out.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{html.escape(name)}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{fmt.format(v)} {unit}</text>')
        y += bar_h + gap
    return out, y + 10

parse = list(res["ns_per_command"].items())
data = list(res["gb_per_s"].items())
body, y = panel("Mixed 14-line corpus: ns per command (lower is better)", parse, 0, "ns", "{:.1f}")
more, y = panel("DATA 10 MiB: GB/s of wire input (higher is better)", data, y, "GB/s", "{:.2f}")
body += more
for shape, vals in res.get("gb_per_s_by_shape", {}).items():
    more, y = panel(f"DATA, body shape {shape}: GB/s (higher is better)", list(vals.items()), y, "GB/s", "{:.2f}")
    body += more
cpu = html.escape(res.get("cpu", "CPU not recorded"))
body.append(f'<text x="10" y="{y + 4}" fill="#555">Measured on {cpu}; ratios hold for this kind of machine only.</text>')
y += 20
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{y}" font-family="sans-serif" font-size="13">',
       f'<rect width="760" height="{y}" fill="white"/>'] + body + ['</svg>']
open(os.path.join(here, "chart.svg"), "w").write("\n".join(svg) + "\n")
print("wrote", os.path.join(here, "chart.svg"))
