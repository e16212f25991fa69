"""Authentication by e-mail, case-insensitively. Lockout and blocking are decided in
partners.services.auth (the login service), which is the only caller for the portal."""
from django.contrib.auth.backends import ModelBackend

from partners.models import User


class EmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = User.objects.normalize_email(email or username)
        if not email or password is None:
            return None
        try:
            user = User.objects.get(email=email)
        except User.DoesNotExist:
            # Same work as a real check, so response time does not tell which e-mails exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not user.is_blocked and not user.is_locked
