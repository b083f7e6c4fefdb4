"""The audit trail: who did what to which object, when, old value → new value."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One change made by a service, in a request, a Celery task or a command.

    Rows are append-only: ``save`` refuses to update an existing row and ``delete``
    refuses outright; on PostgreSQL a trigger refuses UPDATE and DELETE as well, so not
    even raw SQL from the application can rewrite history.
    """

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    as_deputy_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("as deputy of"),
    )
    source = models.CharField(_("source"), max_length=100)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("object type")
    )
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_repr = models.CharField(_("object"), max_length=300, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor or self.source} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")

    @property
    def action_label(self) -> str:
        """The action in words (in the UI language); the code where none is registered."""
        from labqms.audit import ACTION_LABELS

        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def changes_display(self) -> list[tuple[str, object, object]]:
        """``(field label, old, new)`` with the target model's field names and choice
        labels in the UI language; the stored codes stay as written."""
        model = self.target_type.model_class() if self.target_type_id else None
        rows = []
        for name, (old, new) in self.changes.items():
            label, choices = name, {}
            if model is not None:
                try:
                    field = model._meta.get_field(name)
                except Exception:  # noqa: BLE001 - a derived value such as scope_label
                    field = None
                # A reverse relation (e.g. an order's "samples") has no verbose_name.
                if field is not None and hasattr(field, "verbose_name"):
                    label = str(field.verbose_name)
                    choices = {str(k): v for k, v in (field.flatchoices or [])}
                elif (model._meta.label_lower, name) in EXTRA_CHANGE_LABELS:
                    extra_label, extra_choices = EXTRA_CHANGE_LABELS[(model._meta.label_lower, name)]
                    label = str(extra_label)
                    choices = {str(k): v for k, v in extra_choices}
            rows.append((label, choices.get(str(old), old), choices.get(str(new), new)))
        return rows


# Words for change keys that are not fields of the target model (e.g. an order's
# "lines" or the review "decision" recorded on the order); apps register theirs in
# ``AppConfig.ready()`` with :func:`register_change_labels`.
EXTRA_CHANGE_LABELS: dict[tuple[str, str], tuple[object, list]] = {}


def register_change_labels(model_label: str, labels: dict) -> None:
    """``labels``: ``{key: label}`` or ``{key: (label, choices)}`` for ``model_label``
    ("app_label.model")."""
    for key, value in labels.items():
        label, choices = value if isinstance(value, tuple) else (value, [])
        EXTRA_CHANGE_LABELS[(model_label, key)] = (label, list(choices))
