from django.contrib import admin

from tillit.messaging.models import MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["code", "language", "case_type", "subject"]
    list_filter = ["language", "case_type"]
