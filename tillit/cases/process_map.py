"""A case type's process drawn as a map, and the real flow over a period laid on the same drawing.

The drawing is computed here as plain numbers (boxes and arrows); `cases/_process_map.html` writes the SVG. The
flow comes from the cases' state changes (`CaseEvent` of kind "state"), only of cases the reader may see: how
many took each transition, the median time spent in each state before leaving it, transitions configured but
never taken, moves taken that the current version does not have, and the cases that went back.
"""

import dataclasses
import datetime
import statistics
from collections import defaultdict

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from tillit.cases.models import Case, CaseEvent, State

BOX_W, BOX_H = 150, 54
COL_GAP, ROW_GAP, MARGIN = 90, 40, 20
DAY = 86400


@dataclasses.dataclass
class Box:
    state: State
    x: int
    y: int
    column: int
    median_days: float | None = None
    left: int = 0  # cases that left the state in the period

    @property
    def centre_y(self) -> int:
        return self.y + BOX_H // 2


@dataclasses.dataclass
class Arrow:
    code: str
    label: str
    source: Box
    target: Box
    roles: list
    back: bool  # towards an earlier or the same column: the case went back
    path: str = ""
    label_x: int = 0
    label_y: int = 0
    count: int = 0
    cases: int = 0


@dataclasses.dataclass
class Map:
    boxes: list[Box]
    arrows: list[Arrow]
    width: int
    height: int
    # Moves the cases made that the current version has no transition for (an earlier version, an import).
    unmapped: list[dict] = dataclasses.field(default_factory=list)
    went_back: int = 0
    moves: int = 0

    @property
    def never_taken(self) -> list[Arrow]:
        return [a for a in self.arrows if not a.count]


def _columns(states: list[State], transitions) -> dict[int, int]:
    """Each state's column: its distance from the first state along the transitions; closed states after all
    others; a state no transition reaches goes after the ones reached."""
    column = {states[0].pk: 0}
    frontier = [states[0].pk]
    onward = defaultdict(list)
    for t in transitions:
        onward[t.from_state_id].append(t.to_state_id)
    while frontier:
        nxt = []
        for pk in frontier:
            for to in onward[pk]:
                if to not in column:
                    column[to] = column[pk] + 1
                    nxt.append(to)
        frontier = nxt
    open_states = [s for s in states if s.category != State.Category.CLOSED]
    last = max([column.get(s.pk, 0) for s in open_states] or [0])
    for s in open_states:
        if s.pk not in column:
            last += 1
            column[s.pk] = last
    for s in states:
        if s.category == State.Category.CLOSED:
            column[s.pk] = last + 1
    return column


def draw(process) -> Map:
    states = list(process.states.all())
    transitions = list(process.transitions.all())
    if not states:
        return Map([], [], 0, 0)
    column = _columns(states, transitions)
    rows = defaultdict(int)
    boxes = {}
    for s in states:
        c = column[s.pk]
        boxes[s.pk] = Box(s, MARGIN + c * (BOX_W + COL_GAP), MARGIN + 20 + rows[c] * (BOX_H + ROW_GAP), c)
        rows[c] += 1
    tallest = max(rows.values())
    height = MARGIN * 2 + 20 + tallest * (BOX_H + ROW_GAP) + 40
    width = MARGIN * 2 + (max(column.values()) + 1) * (BOX_W + COL_GAP) - COL_GAP
    arrows = []
    bends = defaultdict(int)  # back arrows under the same pair of columns are spaced apart
    for t in transitions:
        source, target = boxes[t.from_state_id], boxes[t.to_state_id]
        arrow = Arrow(t.code, t.shown_label, source, target, list(t.roles), back=target.column <= source.column)
        if not arrow.back:
            x1, y1 = source.x + BOX_W, source.centre_y
            x2, y2 = target.x, target.centre_y
            middle = (x1 + x2) // 2
            arrow.path = f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2 - 2},{y2}"
            arrow.label_x, arrow.label_y = middle, (y1 + y2) // 2 - 6
        else:
            key = (min(source.column, target.column), max(source.column, target.column))
            bends[key] += 1
            below = max(source.y, target.y) + BOX_H + 14 * bends[key] + 6
            x1, x2 = source.x + BOX_W // 2 + 10, target.x + BOX_W // 2 - 10
            arrow.path = f"M{x1},{source.y + BOX_H} C{x1},{below + 12} {x2},{below + 12} {x2},{target.y + BOX_H + 2}"
            arrow.label_x, arrow.label_y = (x1 + x2) // 2, below + 14
            height = max(height, below + 40)
        arrows.append(arrow)
    return Map(list(boxes.values()), arrows, width, height)


def flow(process, user, start: datetime.date, end: datetime.date) -> Map:
    """The map with the period's real flow over the case type's cases the user may see."""
    drawn = draw(process)
    cases = Case.objects.visible_to(user).filter(case_type_id=process.case_type_id)
    events = CaseEvent.objects.filter(kind=CaseEvent.Kind.STATE, case__in=cases.values("pk"))
    # When the case entered the state it leaves: the previous state change, or its opening.
    entered = Subquery(CaseEvent.objects.filter(case_id=OuterRef("case_id"), kind=CaseEvent.Kind.STATE,
                                                at__lt=OuterRef("at")).order_by("-at").values("at")[:1])
    first = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    after = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min))
    rows = (events.filter(at__gte=first, at__lt=after)
            .annotate(entered=Coalesce(entered, F("case__opened_at")))
            .values_list("case_id", "at", "entered", "data__from", "data__to"))
    by_move = {(a.source.state.code, a.target.state.code): a for a in drawn.arrows}
    boxes = {b.state.code: b for b in drawn.boxes}
    spent = defaultdict(list)
    per_move_cases = defaultdict(set)
    unmapped = defaultdict(int)
    went_back = set()
    for case_id, at, since, source, target in rows:
        drawn.moves += 1
        if since:
            spent[source].append((at - since).total_seconds() / DAY)
        arrow = by_move.get((source, target))
        if arrow is None:
            unmapped[(source, target)] += 1
            continue
        arrow.count += 1
        per_move_cases[(source, target)].add(case_id)
        if arrow.back:
            went_back.add(case_id)
    for arrow in drawn.arrows:
        arrow.cases = len(per_move_cases[(arrow.source.state.code, arrow.target.state.code)])
    for code, days in spent.items():
        if code in boxes:
            boxes[code].median_days = round(statistics.median(days), 1)
            boxes[code].left = len(days)
    drawn.went_back = len(went_back)
    drawn.unmapped = [{"from": boxes[s].state.shown_name if s in boxes else s,
                       "to": boxes[t].state.shown_name if t in boxes else t, "count": n}
                      for (s, t), n in sorted(unmapped.items(), key=lambda kv: -kv[1])]
    return drawn
