"""Forms of the team pages: a new team member, and a member's access (blocked, locked)."""
from django import forms

from partners.models import User


class TeamMemberForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254)
    first_name = forms.CharField(label="First name", max_length=100, required=False)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"])


class MemberAccessForm(forms.Form):
    blocked = forms.BooleanField(
        label="Blocked",
        required=False,
        help_text="A blocked user cannot sign in; their sessions end at once.",
    )
    locked = forms.BooleanField(
        label="Locked",
        required=False,
        help_text="Set by the system after failed sign-ins. Untick to unlock.",
    )

    def __init__(self, *args, member: User, **kwargs):
        kwargs.setdefault("initial", {"blocked": member.is_blocked, "locked": member.is_locked})
        super().__init__(*args, **kwargs)
        if not member.is_locked:
            # Nothing to unlock; only the system sets a lock.
            self.fields["locked"].disabled = True
