"""Case types in the admin. Processes are versioned: publish a new one with define_process, never edit one."""

from django.contrib import admin

from tillit.cases.models import CaseType, State, Transition


class StateInline(admin.TabularInline):
    model = State
    fields = ["code", "name", "category", "deadline_days", "remind_after_days"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CaseType)
class CaseTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "default_unit", "subject_can_see", "deadline_days", "active", "is_intake"]
    list_filter = ["active", "is_intake"]
    fields = ["name", "description", "default_unit", "subject_can_see", "required_fields", "deadline_days", "active",
              "is_intake"]


@admin.register(Transition)
class TransitionAdmin(admin.ModelAdmin):
    """Read-only view of the published transitions (who may take which step)."""

    list_display = ["process", "code", "label", "from_state", "to_state", "roles"]
    list_filter = ["process__case_type"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
