"""Charts as inline SVG: they print, need no script and no file fetched, and every label is escaped
(a member named ``<script>`` is drawn as those characters). Used by the settlement report, the
dashboard and the static site."""

from __future__ import annotations

from html import escape


def bars(rows: list[tuple[str, float]], unit: str) -> str:
    """A horizontal bar per row (name, value), longest scaled to the width."""
    if not rows:
        return "<p>No member.</p>"
    top = max(v for _, v in rows) or 1.0
    bar, gap, label = 18, 6, 180
    height = len(rows) * (bar + gap) + gap
    parts = [f'<svg role="img" aria-label="{escape(unit)} per member" width="100%" viewBox="0 0 760 {height}" '
             'xmlns="http://www.w3.org/2000/svg" font-size="12">']  # fmt: skip
    for i, (name, value) in enumerate(rows):
        y = gap + i * (bar + gap)
        width = 0 if value <= 0 else max(1.0, 500 * value / top)
        parts.append(f'<text x="{label - 6}" y="{y + 13}" text-anchor="end">{escape(name)}</text>'
                     f'<rect x="{label}" y="{y}" width="{width:.1f}" height="{bar}" fill="#5B9BD5"/>'
                     f'<text x="{label + width + 4:.1f}" y="{y + 13}">{value:,.2f}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def columns(points: list[tuple[str, float]], title: str, *, decimals: int = 2, colour: str = "#5B9BD5",
            negative: str = "#C0504D") -> str:  # fmt: skip
    """A column per point (label under it, value over it): a series across months, or a count per
    level. Negative values hang below the axis in ``negative``."""
    if not points:
        return "<p>Nothing to show yet.</p>"
    top = max(abs(v) for _, v in points) or 1.0
    below = any(v < 0 for _, v in points)
    width, axis, step = 760, 150 if below else 200, max(24, min(90, 700 // len(points)))
    height = axis + (130 if below else 40)
    parts = [f'<svg role="img" aria-label="{escape(title)}" width="100%" viewBox="0 0 {width} {height}" '
             'xmlns="http://www.w3.org/2000/svg" font-size="11">',
             f'<line x1="30" y1="{axis}" x2="{width - 10}" y2="{axis}" stroke="#999"/>']  # fmt: skip
    for i, (label, value) in enumerate(points):
        x = 40 + i * step
        h = 0 if value == 0 else max(1.0, 120 * abs(value) / top)
        y = axis - h if value >= 0 else axis
        fill = colour if value >= 0 else negative
        parts.append(f'<rect x="{x}" y="{y:.1f}" width="{step - 8}" height="{h:.1f}" fill="{fill}"/>'
                     f'<text x="{x + (step - 8) / 2:.1f}" y="{(y - 4) if value >= 0 else (y + h + 12):.1f}" '
                     f'text-anchor="middle">{value:,.{decimals}f}</text>'
                     f'<text x="{x + (step - 8) / 2:.1f}" y="{height - 6 if not below else axis - 4}" '
                     f'text-anchor="middle">{escape(label)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)
