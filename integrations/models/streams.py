from django.db import models


class StreamCursor(models.Model):
    """Where a long-running event subscription (Salesforce Pub/Sub) stopped.

    Written only after the event it names is stored in the inbox, so a restart
    resumes after the last stored event: nothing lost, nothing twice.
    """

    connection = models.ForeignKey(
        "integrations.Connection", on_delete=models.CASCADE, related_name="cursors"
    )
    topic = models.CharField(
        max_length=200, help_text="e.g. /data/OpportunityChangeEvent"
    )
    replay_id = models.BinaryField(
        max_length=64, blank=True, default=b"", help_text="The vendor's opaque id."
    )
    events_received = models.PositiveBigIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["connection", "topic"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "topic"], name="streamcursor_one_per_topic"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection} {self.topic}"
