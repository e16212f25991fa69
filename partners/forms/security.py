"""Forms of the security pages: 2FA codes and the password change."""
from django import forms
from django.contrib.auth import password_validation

# A 6-digit code, allowing the "123 456" spacing authenticator apps show.
CODE_MAX_LENGTH = 20
# Raw passwords: generous for pass-phrases, bounded so nobody hashes megabytes.
PASSWORD_MAX_LENGTH = 128


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=CODE_MAX_LENGTH,
        help_text="The 6-digit code your authenticator app shows now.",
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
        }),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        return code


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label="Current password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label="New password",
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=" ".join(password_validation.password_validators_help_texts()),
    )
    new_password2 = forms.CharField(
        label="New password again",
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    end_other_sessions = forms.BooleanField(
        label="Sign out my other sessions",
        required=False,
        initial=True,
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        new1, new2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if new1 and new2:
            if new1 != new2:
                self.add_error("new_password2", "The two new passwords do not match.")
            else:
                try:
                    password_validation.validate_password(new1, self.user)
                except forms.ValidationError as exc:
                    self.add_error("new_password1", exc)
        return cleaned
