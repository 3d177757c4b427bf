import datetime

import pytest

from tillit.dues.models import DuesPolicy, FeeSchedule
from tillit.registry.models import Employment, MembershipType

PERIOD = datetime.date(2027, 1, 1)


@pytest.fixture
def dues(world):
    """Both sides charged 400 kr a month; members 0 and 1 of each side pay by payroll deduction, member 2 by
    invoice."""
    DuesPolicy.objects.create(bank_account="15032012345", nets_customer_id="00012345", nets_agreement_id="000123456")
    FeeSchedule.objects.create(membership_type=MembershipType.objects.get(code="ordinary"),
                               valid_from=datetime.date(2020, 1, 1), amount=40_000)
    for side in (world.a, world.b):
        for person, _m in side.members[:2]:
            Employment.objects.filter(person=person).update(payroll_deduction=True)
    return world
