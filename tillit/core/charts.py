"""Small SVG charts drawn on the server: no script, no CDN, readable without colour."""

from django.utils.html import escape

WIDTH, HEIGHT, PAD = 640, 220, 30


def _frame(title: str, top: int):
    """The y scale for values up to `top`, and the opening of the SVG: title, baseline, top value."""
    def y(v):
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top

    return y, [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
               f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>',
               f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
               f'<text x="{PAD - 4}" y="{PAD}" text-anchor="end" font-size="10">{top}</text>']


def flow_chart(labels: list[str], opened: list[int], closed: list[int], backlog: list[int], *,
               title: str, legend: tuple[str, str, str]) -> str:
    """Opened and closed per week as paired bars, the backlog as a line."""
    n = max(len(labels), 1)
    top = max([1, *opened, *closed, *backlog])
    step = (WIDTH - 2 * PAD) / n
    bar = max(step / 3, 1)

    y, parts = _frame(title, top)
    for i, (o, c) in enumerate(zip(opened, closed, strict=True)):
        x = PAD + i * step + step / 6
        parts.append(f'<rect x="{x:.1f}" y="{y(o):.1f}" width="{bar:.1f}" height="{HEIGHT - PAD - y(o):.1f}" '
                     f'fill="#0b5cad"><title>{escape(legend[0])} {escape(labels[i])}: {o}</title></rect>')
        parts.append(f'<rect x="{x + bar:.1f}" y="{y(c):.1f}" width="{bar:.1f}" height="{HEIGHT - PAD - y(c):.1f}" '
                     f'fill="#7fb069"><title>{escape(legend[1])} {escape(labels[i])}: {c}</title></rect>')
        if n <= 16 or i % max(1, n // 8) == 0:
            parts.append(f'<text x="{x + bar:.1f}" y="{HEIGHT - PAD + 14}" text-anchor="middle" font-size="9">'
                         f'{escape(labels[i])}</text>')
    points = " ".join(f"{PAD + i * step + step / 2:.1f},{y(b):.1f}" for i, b in enumerate(backlog))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#b00020" stroke-width="2" '
                 f'stroke-dasharray="4 2"><title>{escape(legend[2])}</title></polyline>')
    for i, (name, colour) in enumerate(zip(legend, ["#0b5cad", "#7fb069", "#b00020"], strict=True)):
        parts.append(f'<rect x="{PAD + i * 150}" y="4" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{PAD + i * 150 + 14}" y="13" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(labels: list[str], values: list[int], *, title: str) -> str:
    """One figure over time as a line with a dot per point (each dot titled with its label and value)."""
    n = max(len(values), 1)
    top = max([1, *values])
    step = (WIDTH - 2 * PAD) / max(n - 1, 1)

    y, parts = _frame(title, top)
    points = [(PAD + i * step, y(v)) for i, v in enumerate(values)]
    parts.append('<polyline points="' + " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
                 + '" fill="none" stroke="#0b5cad" stroke-width="2"/>')
    for i, ((x, yy), v) in enumerate(zip(points, values, strict=True)):
        parts.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3" fill="#0b5cad"><title>{escape(labels[i])}: {v}'
                     f'</title></circle>')
        if n <= 12 or i % max(1, n // 6) == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD + 14}" text-anchor="middle" font-size="9">'
                         f'{escape(labels[i])}</text>')
    parts.append("</svg>")
    return "".join(parts)
