"""Portal URLs of the partners app, all under /partner/."""
from django.urls import path

from partners.views import account, auth, security, team

app_name = "partners"

urlpatterns = [
    # Sign-in, sign-up, lockout, password reset (views/auth.py)
    path("login", auth.login_view, name="login"),
    path("login/code", auth.login_code_view, name="login_code"),
    path("logout", auth.logout_view, name="logout"),
    path("sign_up", auth.sign_up_view, name="sign_up"),
    path("sign_up/done", auth.sign_up_done_view, name="sign_up_done"),
    path("unlock", auth.unlock_request_view, name="unlock_request"),
    path("unlock/<str:token>", auth.unlock_view, name="unlock"),
    path("password/reset", auth.password_reset_view, name="password_reset"),
    path("password/reset/<uidb64>/<token>", auth.password_set_view, name="password_set"),
    # Account info, 2FA, password, sessions, statistic token (views/security.py)
    path("profile", security.profile_view, name="profile"),
    path("profile/2fa/enable", security.two_factor_enable_view, name="two_factor_enable"),
    path("profile/2fa/disable", security.two_factor_disable_view, name="two_factor_disable"),
    path("profile/password", security.password_change_view, name="password_change"),
    path("profile/statistic_token", security.statistic_token_regenerate_view, name="statistic_token_regenerate"),
    path("sessions/<int:session_id>/terminate", security.session_terminate_view, name="session_terminate"),
    # Team members (views/team.py)
    path("users", team.user_list_view, name="users"),
    path("users/new", team.user_create_view, name="user_create"),
    path("users/<int:user_id>", team.user_detail_view, name="user_detail"),
    path("users/<int:user_id>/statistic_token", team.user_token_regenerate_view, name="user_token_regenerate"),
    # Profile edit, documents, events, news, terms (views/account.py)
    path("profile/edit", account.profile_edit_view, name="profile_edit"),
    path("documents", account.document_list_view, name="documents"),
    path("documents/new", account.document_upload_view, name="document_upload"),
    path("documents/<int:document_id>", account.document_detail_view, name="document_detail"),
    path("documents/<int:document_id>/file", account.document_file_view, name="document_file"),
    path("documents/<int:document_id>/delete", account.document_delete_view, name="document_delete"),
    path("events", account.event_list_view, name="events"),
    path("events/<int:event_id>", account.event_detail_view, name="event_detail"),
    path("news", account.news_list_view, name="news"),
    path("news/<int:article_id>", account.news_detail_view, name="news_detail"),
    path("terms", account.terms_view, name="terms"),
]
