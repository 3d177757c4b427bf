from django.contrib.auth import views as auth_views
from django.urls import path

from tillit.core import login_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/factor/", login_views.login_factor, name="login_factor"),
    path("login/password/", login_views.login_password, name="login_password"),
    path("login/enrol/", login_views.login_enrol, name="login_enrol"),
    path("login/passkey-options/", login_views.passkey_options, name="passkey_options"),
    path("login/sign-on/return/", login_views.sign_on_return, name="sign_on_return"),
    path("login/sign-on/<slug:name>/", login_views.sign_on, name="sign_on"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", login_views.account, name="account"),
    path("account/factor/", login_views.account_factor, name="account_factor"),
    path("account/factor/remove/", login_views.account_factor_remove, name="account_factor_remove"),
    path("account/recovery-codes/", login_views.account_recovery_codes, name="account_recovery_codes"),
    path("account/password/", login_views.account_password, name="account_password"),
    path("account/tokens/", login_views.account_token, name="account_token"),
    path("account/tokens/<int:pk>/revoke/", login_views.account_token_revoke, name="account_token_revoke"),
    path("account/sign-on/<int:pk>/remove/", login_views.account_sign_on_remove, name="account_sign_on_remove"),
    path("healthz", views.healthz, name="healthz"),
]
