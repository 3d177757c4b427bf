"""The process of a case type written as text, for the system owner's form.

States, one per line:       code | name | category | deadline days | remind after days
Transitions, one per line:  code | label | from state | to state | roles (comma-separated)
"""

from django.utils.translation import gettext as _

from tillit.core.errors import InvalidInput


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("|")]


def _int(value: str, field: str, number: int) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(_("Line %(n)d: “%(v)s” is not a whole number.") % {"n": number, "v": value},
                           field_errors={field: [_("Line %(n)d: “%(v)s” is not a whole number.")
                                                 % {"n": number, "v": value}]})
    return int(value)


def parse_states(text: str) -> list[dict]:
    states = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = _cells(line) + [""] * 5
        if not cells[0] or not cells[1]:
            raise InvalidInput(_("Line %(n)d: a state needs a code and a name.") % {"n": number},
                               field_errors={"states": [_("Line %(n)d: a state needs a code and a name.")
                                                        % {"n": number}]})
        states.append({"code": cells[0], "name": cells[1], "category": cells[2],
                       "deadline_days": _int(cells[3], "states", number),
                       "remind_after_days": _int(cells[4], "states", number)})
    return states


def parse_transitions(text: str) -> list[dict]:
    transitions = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = _cells(line) + [""] * 5
        if not all(cells[:4]):
            raise InvalidInput(_("Line %(n)d: a transition needs code, label, from and to.") % {"n": number},
                               field_errors={"transitions": [_("Line %(n)d: a transition needs code, label, from "
                                                               "and to.") % {"n": number}]})
        transitions.append({"code": cells[0], "label": cells[1], "from": cells[2], "to": cells[3],
                            "roles": [r.strip() for r in cells[4].split(",") if r.strip()]})
    return transitions


def process_as_text(process) -> tuple[str, str]:
    states = "\n".join(" | ".join([s.code, s.name, s.category, str(s.deadline_days or ""),
                                   str(s.remind_after_days or "")]).rstrip(" |") for s in process.states.all())
    transitions = "\n".join(" | ".join([t.code, t.label, t.from_state.code, t.to_state.code, ", ".join(t.roles)])
                            .rstrip(" |") for t in process.transitions.select_related("from_state", "to_state"))
    return states, transitions
