"""Small SVG charts drawn on the server: no script, no CDN, readable without colour.

Here only the geometry is computed, as numbers; `templates/charts/` writes the SVG (like the process map)."""

WIDTH, HEIGHT, PAD = 640, 220, 30
BASELINE = HEIGHT - PAD


def _scale(top: int):
    def y(v):
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top, 1)
    return y


def _labelled(n: int, i: int, every: int) -> bool:
    """Whether the i-th of n points gets its label under the axis (all of few, one in `every`-th of many)."""
    return n <= 16 or i % max(1, n // every) == 0


def flow_chart(labels: list[str], opened: list[int], closed: list[int], backlog: list[int], *,
               title: str, legend: tuple[str, str, str]) -> dict:
    """Opened and closed per week as paired bars, the backlog as a dashed line."""
    n = max(len(labels), 1)
    top = max([1, *opened, *closed, *backlog])
    y = _scale(top)
    step = (WIDTH - 2 * PAD) / n
    bar = round(max(step / 3, 1), 1)
    weeks = []
    for i, (o, c) in enumerate(zip(opened, closed, strict=True)):
        x = round(PAD + i * step + step / 6, 1)
        weeks.append({"label": labels[i], "x": x, "x2": round(x + bar, 1), "middle": round(x + bar, 1),
                      "opened": o, "closed": c, "y_opened": y(o), "h_opened": round(BASELINE - y(o), 1),
                      "y_closed": y(c), "h_closed": round(BASELINE - y(c), 1), "labelled": _labelled(n, i, 8)})
    backlog_points = " ".join(f"{PAD + i * step + step / 2:.1f},{y(b):.1f}" for i, b in enumerate(backlog))
    keys = [{"x": PAD + i * 150, "text_x": PAD + i * 150 + 14, "name": name, "colour": colour}
            for i, (name, colour) in enumerate(zip(legend, ["#0b5cad", "#7fb069", "#b00020"], strict=True))]
    return {"kind": "flow", "title": title, "top": top, "width": WIDTH, "height": HEIGHT, "pad": PAD,
            "baseline": BASELINE, "axis_end": WIDTH - PAD, "label_y": BASELINE + 14, "weeks": weeks, "bar": bar,
            "backlog": backlog_points, "legend": legend, "keys": keys}


def line_chart(labels: list[str], values: list[int], *, title: str) -> dict:
    """One figure over time as a line with a dot per point (each dot titled with its label and value)."""
    n = max(len(values), 1)
    top = max([1, *values])
    y = _scale(top)
    step = (WIDTH - 2 * PAD) / max(n - 1, 1)
    points = [{"x": round(PAD + i * step, 1), "y": y(v), "label": labels[i], "value": v,
               "labelled": n <= 12 or i % max(1, n // 6) == 0} for i, v in enumerate(values)]
    return {"kind": "line", "title": title, "top": top, "width": WIDTH, "height": HEIGHT, "pad": PAD,
            "baseline": BASELINE, "axis_end": WIDTH - PAD, "label_y": BASELINE + 14, "points": points,
            "line": " ".join(f"{p['x']},{p['y']}" for p in points)}
