"""The applicant's rating of the service for one dossier (satisfaction). Agency schema."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Rating(models.Model):
    """One rating per dossier (1–5 and a comment), given by its applicant once the result
    is returned; the one-to-one key makes a second rating impossible, even concurrently."""

    dossier = models.OneToOneField(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="rating"
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    rated_at = models.DateTimeField(_("rated"), db_index=True)
    # Users live in the public schema: no database constraint (see audit.models).
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
    )

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.score}"
