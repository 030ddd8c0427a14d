"""Log-log line charts as hand-written SVG, for bench/sweep.py: no plotting library.

write() draws two panels side by side, wall time and peak RSS against size,
one line per tool, and a legend.
"""

import math
from html import escape

COLORS = {"rcrop": "#d62728", "vips": "#1f77b4", "ImageMagick": "#2ca02c", "Pillow": "#9467bd",
          "cp": "#1f77b4", "NumPy": "#9467bd"}
MARKS = ["circle", "square", "diamond", "triangle"]
PANEL_W, PANEL_H = 360, 260
LEFT, TOP, GAP, BOTTOM = 60, 40, 80, 50


def decades(lo, hi):
    """Powers of ten covering lo..hi, and the chart's log range."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if a == b:
        b += 1
    return [10.0 ** e for e in range(a, b + 1)], a, b


def label(v):
    return f"{v:g}" if 1e-3 <= v < 1e6 else f"1e{round(math.log10(v))}"


def mark(kind, x, y, color):
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>'
    if kind == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{color}"/>'
    if kind == "diamond":
        return f'<path d="M{x:.1f} {y - 4.5:.1f}l4.5 4.5-4.5 4.5-4.5-4.5z" fill="{color}"/>'
    return f'<path d="M{x:.1f} {y - 4.5:.1f}l4.5 8h-9z" fill="{color}"/>'


def panel(x0, title, xlabel, ylabel, data):
    """One log-log panel at x offset x0; data is {tool: [(x, y)]}."""
    points = [p for line in data.values() for p in line]
    out = [f'<text x="{x0 + PANEL_W / 2}" y="{TOP - 14}" text-anchor="middle" font-weight="bold">{escape(title)}</text>']
    if not points:
        return out
    xt, xa, xb = decades(min(p[0] for p in points), max(p[0] for p in points))
    yt, ya, yb = decades(min(p[1] for p in points), max(p[1] for p in points))

    def sx(v):
        return x0 + (math.log10(v) - xa) / (xb - xa) * PANEL_W

    def sy(v):
        return TOP + PANEL_H - (math.log10(v) - ya) / (yb - ya) * PANEL_H

    out.append(f'<rect x="{x0}" y="{TOP}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#888"/>')
    for v in xt:
        out.append(f'<line x1="{sx(v):.1f}" y1="{TOP}" x2="{sx(v):.1f}" y2="{TOP + PANEL_H}" stroke="#ddd"/>')
        out.append(f'<text x="{sx(v):.1f}" y="{TOP + PANEL_H + 16}" text-anchor="middle">{label(v)}</text>')
    for v in yt:
        out.append(f'<line x1="{x0}" y1="{sy(v):.1f}" x2="{x0 + PANEL_W}" y2="{sy(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 6}" y="{sy(v) + 4:.1f}" text-anchor="end">{label(v)}</text>')
    out.append(f'<text x="{x0 + PANEL_W / 2}" y="{TOP + PANEL_H + 36}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate({x0 - 44},{TOP + PANEL_H / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(ylabel)}</text>')
    for i, (tool, line) in enumerate(data.items()):
        color = COLORS.get(tool, "#555")
        if len(line) > 1:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(line))
            out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        out += [mark(MARKS[i % len(MARKS)], sx(x), sy(y), color) for x, y in line]
    return out


def write(path, title, xlabel, times, rss):
    """Writes the two-panel chart: times and rss are {tool: [(size, value)]}."""
    width = LEFT + 2 * PANEL_W + GAP + 20
    height = TOP + PANEL_H + BOTTOM + 30
    body = panel(LEFT, f"{title}: wall time", xlabel, "seconds", times)
    body += panel(LEFT + PANEL_W + GAP, "peak RSS", xlabel, "MiB", rss)
    x = LEFT
    for i, tool in enumerate(times):
        color = COLORS.get(tool, "#555")
        y = TOP + PANEL_H + BOTTOM + 16
        body.append(mark(MARKS[i % len(MARKS)], x + 6, y - 4, color))
        body.append(f'<text x="{x + 16}" y="{y}">{escape(tool)}</text>')
        x += 24 + 8 * len(tool) + 20
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">\n'
           f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n")
    path.write_text(svg)
