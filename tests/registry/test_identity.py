import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tillit.registry.demo import norwegian_id, norwegian_org_number, swedish_id, swedish_org_number
from tillit.registry.identity import mask_national_id, parse_national_id, parse_org_number, parse_phone

births = st.dates(min_value=datetime.date(1930, 1, 1), max_value=datetime.date(2007, 12, 31))


@given(births, st.randoms(use_true_random=False))
def test_it_accepts_every_valid_norwegian_id_and_reads_the_birth_date(birth, rng):
    nid = norwegian_id(rng, birth)
    normal, country, found_birth = parse_national_id(f"{nid[:6]} {nid[6:]}")
    assert (normal, country, found_birth) == (nid, "NO", birth)


@given(births, st.randoms(use_true_random=False), st.integers(min_value=1, max_value=9))
def test_it_refuses_a_norwegian_id_with_a_wrong_check_digit(birth, rng, delta):
    nid = norwegian_id(rng, birth)
    broken = nid[:10] + str((int(nid[10]) + delta) % 10)
    with pytest.raises(ValueError, match="Norwegian"):
        parse_national_id(broken)


@given(births, st.randoms(use_true_random=False))
def test_it_accepts_swedish_personnummer_with_and_without_century(birth, rng):
    pnr = swedish_id(rng, birth)
    assert parse_national_id(pnr) == (pnr, "SE", birth)
    assert parse_national_id(f"{pnr[2:8]}-{pnr[8:]}")[0] == pnr


def test_it_accepts_a_swedish_samordningsnummer():
    from stdnum import luhn

    base = "811288987"  # 28 December 1981 as a coordination number (day + 60)
    number = base + luhn.calc_check_digit(base)
    assert parse_national_id(number) == ("19" + number, "SE", datetime.date(1981, 12, 28))


@given(st.text(max_size=14))
def test_it_never_crashes_on_garbage_only_refuses_it(text):
    try:
        normal, country, _birth = parse_national_id(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert country in ("NO", "SE") and normal.isdigit()


def test_it_masks_all_but_the_birth_date():
    assert mask_national_id("15108695088") == "151086*****"
    assert mask_national_id("198112289874") == "19811228-****"


@given(st.randoms(use_true_random=False))
def test_it_validates_organisation_numbers_of_both_countries(rng):
    assert parse_org_number(norwegian_org_number(rng))[1] == "NO"
    assert parse_org_number(swedish_org_number(rng))[1] == "SE"


def test_it_refuses_a_bad_organisation_number_naming_the_problem():
    with pytest.raises(ValueError, match="organisation number"):
        parse_org_number("123456789")


def test_it_normalises_phone_numbers_to_e164():
    assert parse_phone("412 34 567") == "+4741234567"
    assert parse_phone("070-123 45 67", "SE") == "+46701234567"
    with pytest.raises(ValueError):
        parse_phone("12")


def _full_parse(value, country):
    import phonenumbers

    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) \
        if phonenumbers.is_valid_number(number) else None


_PHONE = st.builds(lambda prefix, digits, gaps: prefix + "".join(d + (" " if g else "") for d, g in zip(
    digits, gaps, strict=False)), st.sampled_from(["", "+47", "0047", "+46", "0046", "0", "+45", "47"]),
    st.text("0123456789", min_size=6, max_size=11), st.lists(st.booleans(), min_size=11, max_size=11))


@given(_PHONE, st.sampled_from(["NO", "SE"]))
def test_the_quick_mobile_check_agrees_with_the_full_parse(value, country):
    from tillit.registry.identity import plain_mobile

    quick = plain_mobile(value, country)
    if quick is not None:  # when the quick check answers, it answers what the full parse would
        assert quick == _full_parse(value, country)
    assert parse_phone(value, country) == _full_parse(value, country) if _full_parse(value, country) else True


def test_plain_mobiles_of_both_countries_take_the_quick_path():
    from tillit.registry.identity import plain_mobile

    assert plain_mobile("912 34 567") == "+4791234567"
    assert plain_mobile("+46 70 123 45 67") == "+46701234567"
    assert plain_mobile("070-123 45 67", "SE") == "+46701234567"
    assert plain_mobile("22 12 34 56") is None  # a landline: the full parse decides
