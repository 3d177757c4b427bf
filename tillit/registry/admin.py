"""The Django admin holds configuration only (membership and role types).

Personal data never appears here: the admin does not go through visible_to, so people,
memberships, employments and roles are edited in Tillit's own pages, which do.
"""

from django.contrib import admin

from tillit.registry.models import MembershipType, RoleType


@admin.register(MembershipType)
class MembershipTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(RoleType)
class RoleTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "grant_role"]
