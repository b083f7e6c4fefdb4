"""Electronic signatures: the signer re-enters the password at the moment of signing,
so a signature means "this person, now" and not "whoever left a session open"."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def confirm_password(user, password: str) -> None:
    """Refuse (``ValidationError`` on ``password``) unless ``password`` is ``user``'s."""
    if not password:
        raise ValidationError({"password": _("Enter your password to sign.")})
    if not user.check_password(password):
        raise ValidationError({"password": _("The password is not correct; nothing was signed.")})
