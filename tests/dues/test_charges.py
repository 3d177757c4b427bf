"""What a member owes for a month: exemptions, pro rata by days (both rules), percentages with floor and ceiling."""

import datetime

from hypothesis import given
from hypothesis import strategies as st

from tillit.dues import kid
from tillit.dues.charges import charge_for_month, round_kroner_fraction
from tillit.dues.models import DuesPolicy, FeeSchedule

PRO_RATA, FIRST_DAY = DuesPolicy.PartialMonth.PRO_RATA, DuesPolicy.PartialMonth.FIRST_DAY
FIXED = FeeSchedule(kind=FeeSchedule.Kind.FIXED, amount=45_000)
D = datetime.date
LONG_AGO = D(2020, 1, 1)


def charge(periods, rule=PRO_RATA, schedule=FIXED, salary=None, joined=LONG_AGO, ends=None, month=(2027, 1)):
    return charge_for_month(year=month[0], month=month[1], joined_on=joined, ends_on=ends, periods=periods,
                            schedule=schedule, salary=salary, rule=rule)


def test_a_whole_month_exempt_is_a_zero_charge_with_the_reason():
    result = charge([("active", D(2020, 1, 1), D(2026, 6, 1), ""), ("exempt", D(2026, 6, 1), None, "parental leave")])
    assert result.amount == 0 and "parental leave" in result.reason


def test_a_status_change_mid_month_is_charged_by_days():
    # active 1–10 January, exempt from the 11th: 10 of 31 days at 450 kr = 145.16 → 145 kr
    periods = [("active", D(2020, 1, 1), D(2027, 1, 11), ""), ("exempt", D(2027, 1, 11), None, "unemployed")]
    result = charge(periods)
    assert result.amount == 14_500
    assert "10 of 31 days" in result.reason and "unemployed" in result.reason


def test_the_first_day_rule_charges_the_whole_month_by_the_status_on_the_first():
    exempt_from_11th = [("active", D(2020, 1, 1), D(2027, 1, 11), ""), ("exempt", D(2027, 1, 11), None, "sick")]
    assert charge(exempt_from_11th, rule=FIRST_DAY).amount == 45_000
    exempt_until_11th = [("exempt", D(2026, 1, 1), D(2027, 1, 11), "sick"), ("active", D(2027, 1, 11), None, "")]
    assert charge(exempt_until_11th, rule=FIRST_DAY).amount == 0
    assert charge(exempt_until_11th).amount == round_kroner_fraction(45_000 * 21, 31) == 30_500


def test_joining_and_leaving_in_the_month():
    assert charge([], joined=D(2027, 1, 16)).amount == round_kroner_fraction(45_000 * 16, 31)
    assert charge([], joined=D(2027, 1, 16), rule=FIRST_DAY).amount == 0
    assert charge([], ends=D(2027, 1, 31)).amount == 45_000
    assert charge([], ends=D(2026, 12, 31)) is None
    assert charge([], joined=D(2027, 2, 1)) is None


def test_a_percentage_of_salary_is_rounded_to_kroner_and_kept_between_floor_and_ceiling():
    percent = FeeSchedule(kind=FeeSchedule.Kind.PERCENT, rate=140, minimum=25_000, maximum=75_000)
    assert charge([], schedule=percent, salary=4_123_456).amount == 57_700  # 1.4 % of 41,234.56 = 577.28
    assert charge([], schedule=percent, salary=1_000_000).amount == 25_000  # 140 kr → the floor
    assert charge([], schedule=percent, salary=9_000_000).amount == 75_000  # 1,260 kr → the ceiling
    unknown = charge([], schedule=percent, salary=None)
    assert unknown.amount == 25_000 and "floor" in unknown.reason
    assert charge([], schedule=None).amount == 0


@given(st.integers(0, 10**9), st.integers(1, 31))
def test_rounding_is_to_the_nearest_krone_halves_up(ore, days):
    exact = ore * days / 31
    rounded = round_kroner_fraction(ore * days, 31)
    assert rounded % 100 == 0 and abs(rounded - exact) <= 50


@given(st.integers(1, 999_999_999), st.integers(2000, 2099), st.integers(1, 12), st.sampled_from(["mod10", "mod11"]))
def test_references_carry_a_valid_check_digit_and_lead_back_to_the_membership(membership, year, month, method):
    reference = kid.make_reference(membership, year, month, method=method)
    assert reference.isdigit() and kid.is_valid(reference, method)
    assert kid.membership_of(reference) == membership
    broken = reference[:-2] + str((int(reference[-2]) + 1) % 10) + reference[-1]
    assert not kid.is_valid(broken, method)


def test_mod11_follows_the_weights_two_to_seven():
    # 12345678: weights from the right 2,3,4,5,6,7,2,3 → 8*2+7*3+6*4+5*5+4*6+3*7+2*2+1*3 = 138; 138 % 11 = 6 → 5
    assert kid.mod11_check_digit("12345678") == "5"
