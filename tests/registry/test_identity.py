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


def _stdnum_birth(digits):
    from stdnum.exceptions import ValidationError
    from stdnum.no import fodselsnummer

    try:
        fodselsnummer.validate(digits)
        return fodselsnummer.get_birth_date(digits)
    except ValidationError:
        return None


def _quick_birth(digits):
    from tillit.registry.identity import norwegian_birth_date

    try:
        return norwegian_birth_date(digits, datetime.date.today())
    except ValueError:
        return None


@given(st.text("0123456789", min_size=11, max_size=11))
def test_the_quick_fodselsnummer_check_agrees_with_stdnum_on_any_eleven_digits(digits):
    assert _quick_birth(digits) == _stdnum_birth(digits)


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date.today()),
       st.randoms(use_true_random=False), st.sampled_from([0, 40]), st.sampled_from([0, 40]))
def test_the_quick_fodselsnummer_check_agrees_with_stdnum_on_valid_numbers(birth, rng, day_shift, month_shift):
    nid = norwegian_id(rng, birth)
    shifted = f"{int(nid[:2]) + day_shift:02d}{int(nid[2:4]) + month_shift:02d}{nid[4:9]}"
    from stdnum.no.fodselsnummer import calc_check_digit1, calc_check_digit2

    shifted += calc_check_digit1(shifted)
    shifted += calc_check_digit2(shifted)
    assert _quick_birth(nid) == _stdnum_birth(nid) == birth
    assert _quick_birth(shifted) == _stdnum_birth(shifted)


@given(st.one_of(st.dates().map(lambda d: d.isoformat()), st.text("0123456789-./", min_size=8, max_size=10)))
def test_the_quick_iso_date_agrees_with_strptime(text):
    from tillit.registry.validation import Errors, parse_date

    expected = None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):  # the formats as parse_date read them before its quick path
        try:
            expected = datetime.datetime.strptime(text, fmt).date()
            break
        except ValueError:
            continue
    errors = Errors()
    assert parse_date(text, "d", errors) == expected
    assert bool(errors.by_field) == (expected is None)
