"""The platform-wide user: one identity per person, whichever agency's portal they use."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_personal_id, validate_phone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. ``is_staff`` marks the provider's own staff (console access)."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    phone = models.CharField(
        _("phone number"), max_length=20, blank=True, validators=[validate_phone]
    )
    personal_id_number = models.CharField(
        _("personal ID number"),
        max_length=12,
        blank=True,
        validators=[validate_personal_id],
        help_text=_("The 12-digit number on your citizen identity card."),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    is_staff = models.BooleanField(
        _("provider staff"),
        default=False,
        help_text=_("Provider staff can sign in to the provider console."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[-1] if self.full_name else self.email


class Role(models.TextChoices):
    """What a member of staff may do in an agency."""

    ADMIN = "admin", _("Agency administrator")
    RECEPTIONIST = "receptionist", _("Receptionist (one-stop desk)")
    OFFICER = "officer", _("Processing officer")
    LEADER = "leader", _("Leader (signs)")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    """A person working for an agency, with their roles there. Public schema."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    agency = models.ForeignKey(
        "tenants.Agency", on_delete=models.CASCADE, related_name="memberships"
    )
    roles = ArrayField(models.CharField(max_length=20, choices=Role.choices), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "agency"], name="membership_unique_user_agency")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency_id}: {', '.join(self.roles)}"


class AccountEvent(models.Model):
    """Append-only history of what provider staff changed on a person's account (the admin):
    staff and superuser flags, deactivation, profile. Part of the provider's trail."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="account_events")
    event = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    actor_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.event}"
