"""Payment references: Norwegian KID (MOD10 or MOD11 check digit) and Swedish OCR references (Luhn).

python-stdnum has no KID module; MOD10 is its Luhn, MOD11 is Nets' weights 2–7 from the right, where a
remainder that would give the check digit 10 gives "-" (Nets accepts it, but we never hand one out).
"""

from stdnum import luhn

MOD11_WEIGHTS = (2, 3, 4, 5, 6, 7)


def mod11_check_digit(digits: str) -> str:
    total = sum(int(d) * MOD11_WEIGHTS[i % 6] for i, d in enumerate(reversed(digits)))
    check = 11 - total % 11
    return {11: "0", 10: "-"}.get(check, str(check))


def is_valid(reference: str, method: str) -> bool:
    if len(reference) < 2 or not reference[:-1].isdigit():
        return False
    if method == "mod11":
        return mod11_check_digit(reference[:-1]) == reference[-1]
    return reference.isdigit() and luhn.is_valid(reference)


def make_reference(membership_id: int, year: int, month: int, *, method: str = "mod10") -> str:
    """The reference of one member's invoice for one month: membership id (9 digits), YYMM, check digit.
    With MOD11 a base whose check would be "-" gets the next sequence digit instead (a tenth digit before the
    month), so every reference is digits only."""
    base = f"{membership_id:09d}{year % 100:02d}{month:02d}"
    if method == "mod11":
        for extra in ("", *"123456789"):
            candidate = base[:9] + extra + base[9:]
            check = mod11_check_digit(candidate)
            if check != "-":
                return candidate + check
    return base + luhn.calc_check_digit(base)


def membership_of(reference: str) -> int | None:
    """The membership id a reference was made for (None if it is not one of ours)."""
    if not reference.isdigit() or len(reference) not in (14, 15):
        return None
    return int(reference[:9])
