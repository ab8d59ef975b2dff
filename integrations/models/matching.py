from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class MatchDecisionKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    CONTACT = "contact", "Contact"
    VENDOR = "vendor", "Vendor"


class MatchVerdict(models.TextChoices):
    SAME = "same", "Same (merge: bind them)"
    DIFFERENT = "different", "Different (keep apart)"


class MatchDecision(models.Model):
    """A person's verdict on a candidate pair the matcher could not decide.

    The flows honour it: "different" removes the candidate from every later
    match of that source record; "same" binds them through a cross-reference.
    """

    kind = models.CharField(max_length=20, choices=MatchDecisionKind.choices)
    source_connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+"
    )
    target_connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="+"
    )
    source_value = models.CharField(max_length=255, help_text="e.g. an Account id")
    target_value = models.CharField(max_length=255, help_text="e.g. 01-ABF")
    verdict = models.CharField(max_length=20, choices=MatchVerdict.choices)
    score = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    reasons = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "kind",
                    "source_connection",
                    "target_connection",
                    "source_value",
                    "target_value",
                ],
                name="matchdecision_one_verdict_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.source_value} / {self.target_value}: {self.get_verdict_display()}"
        )
