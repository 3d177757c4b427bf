from django.urls import path

from tillit.dues import views

urlpatterns = [
    path("dues/", views.home, name="dues_home"),
    path("dues/runs/start/", views.run_start, name="dues_run_start"),
    path("dues/runs/<int:pk>/", views.run_detail, name="dues_run"),
    path("dues/runs/<int:pk>/progress/", views.run_progress, name="dues_run_progress"),
    path("dues/runs/<int:pk>/invoices.pdf", views.run_invoices, name="dues_run_invoices"),
    path("dues/runs/<int:pk>/<str:action>/", views.run_action, name="dues_run_action"),
    path("dues/notices/", views.notice_list, name="dues_notices"),
    path("dues/notices/<int:pk>/", views.notice_detail, name="dues_notice"),
    path("dues/notices/<int:pk>/file.<str:fmt>", views.notice_file, name="dues_notice_file"),
    path("dues/payroll/<int:pk>/list.<str:fmt>", views.full_list, name="dues_full_list"),
    path("dues/returns/", views.return_list, name="dues_returns"),
    path("dues/returns/template.csv", views.return_template, name="dues_return_template"),
    path("dues/returns/<int:pk>/", views.return_detail, name="dues_return"),
    path("dues/giro/", views.giro_list, name="dues_giro"),
    path("dues/giro/<int:pk>/", views.giro_file, name="dues_giro_file"),
    path("dues/deviations/", views.deviation_list, name="dues_deviations"),
    path("dues/deviations/<int:pk>/", views.deviation_resolve, name="dues_deviation_resolve"),
    path("dues/arrears/", views.arrears, name="dues_arrears"),
    path("dues/people/<int:pk>/entry/", views.person_entry, name="dues_person_entry"),
    path("dues/invoices/<int:pk>.pdf", views.invoice_pdf, name="dues_invoice_pdf"),
    path("dues/schedules/", views.schedules, name="dues_schedules"),
    path("dues/settings/", views.policy_edit, name="dues_policy"),
]
