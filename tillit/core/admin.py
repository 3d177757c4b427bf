from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from tillit.core import audit
from tillit.core.models import Grant, User
from tillit.core.services import revoke_grants

admin.site.register(User, UserAdmin)


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    """Grants given or taken here are in the audit trail like those given through the services."""

    list_display = ["user", "role", "tree", "node_id", "valid_from", "valid_to", "source"]
    list_filter = ["role", "tree"]
    readonly_fields = ["source", "created_at"]
    fields = ["user", "role", "tree", "node_id", "valid_from", "valid_to", "source", "created_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changes = {f: [form.initial.get(f), audit._plain(form.cleaned_data.get(f))] for f in form.changed_data}
        audit.record("core.grant.changed" if change else "core.grant.created", obj, actor=request.user,
                     channel="ui", changes=changes)

    def delete_model(self, request, obj):
        audit.record("core.grant.revoked", obj, actor=request.user, channel="ui",
                     changes={"role": [obj.role, None], "node_id": [obj.node_id, None]})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        revoke_grants(queryset, actor=request.user, channel="ui")
