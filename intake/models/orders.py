"""Entrustment orders (委托单) with items, contract review, customer confirmation,
on-site visits, customer notices and payments (R-INT-1..8, R-ONS-1, R-ONS-4)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from intake.models.customers import Contact, Customer
from intake.models.items import ItemFields


class Channel(models.TextChoices):
    COUNTER = "counter", _("Counter")
    PHONE = "phone", _("Phone")
    ONLINE = "online", _("Online")
    ON_SITE = "on_site", _("On-site visit")


class WorkLocation(models.TextChoices):
    LAB = "lab", _("In the lab")
    ON_SITE = "on_site", _("On site")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEWED = "reviewed", _("Reviewed")
    ACCEPTED = "accepted", _("Accepted")
    COMPLETED = "completed", _("Work complete")
    RELEASED = "released", _("Released")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


# from -> allowed targets; every change goes through a service in intake.services.orders.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.DRAFT: frozenset({OrderStatus.REVIEWED, OrderStatus.DECLINED, OrderStatus.CANCELLED}),
    OrderStatus.REVIEWED: frozenset({OrderStatus.ACCEPTED, OrderStatus.DRAFT, OrderStatus.CANCELLED}),
    OrderStatus.ACCEPTED: frozenset({OrderStatus.COMPLETED}),
    OrderStatus.COMPLETED: frozenset({OrderStatus.RELEASED}),
    OrderStatus.RELEASED: frozenset(),
    OrderStatus.DECLINED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class ConfirmationMethod(models.TextChoices):
    PAPER = "paper", _("Signed paper at the counter")
    PORTAL = "portal", _("Confirmed in the customer portal")


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=30, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    work_location = models.CharField(
        _("work location"), max_length=20, choices=WorkLocation.choices, default=WorkLocation.LAB
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("contact"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    special_requirements = models.TextField(_("special requirements"), blank=True)
    sample_disposal = models.CharField(
        _("sample disposal"),
        max_length=200,
        blank=True,
        help_text=_("What happens to the instruments after the work, e.g. collected by the customer."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    # Customer confirmation (R-INT-3).
    confirmed_by_name = models.CharField(_("confirmed by (customer)"), max_length=100, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmation_method = models.CharField(
        _("confirmed how"), max_length=20, choices=ConfirmationMethod.choices, blank=True
    )
    confirmation_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmation recorded by"),
    )
    # Acceptance and the due date (R-INT-4, R-INT-5).
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    due_date = models.DateField(_("due date"), null=True, blank=True, db_index=True)
    due_date_provisional = models.BooleanField(_("due date provisional"), default=False)
    completed_at = models.DateTimeField(_("work completed at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    # Credit instead of payment before release (R-INT-7).
    credit_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credit approved by"),
    )
    credit_approved_at = models.DateTimeField(_("credit approved at"), null=True, blank=True)
    credit_reason = models.CharField(_("credit reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("entrustment order")
        verbose_name_plural = _("entrustment orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            # Statistics (R-MGT-4): on-time completion and fees of accepted orders per period.
            models.Index(fields=["completed_at"], include=["due_date", "customer"], name="order_completed_stats_idx"),
            models.Index(fields=["accepted_on"], name="order_accepted_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_permission_scope(self):
        return None

    @property
    def is_editable(self) -> bool:
        return self.status == OrderStatus.DRAFT

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def current_review(self) -> ContractReview | None:
        return self.reviews.filter(superseded_at__isnull=True).order_by("-reviewed_at").first()

    def fee_total(self) -> Decimal:
        total = Decimal("0")
        for item in self.items.all():
            total += item.line_fee
        return total

    def paid_total(self) -> Decimal:
        return self.payments.aggregate(total=Sum("amount"))["total"] or Decimal("0")

    @property
    def is_settled(self) -> bool:
        return self.credit_approved_at is not None or self.paid_total() >= self.fee_total()


class Disposition(models.TextChoices):
    ACCEPT = "accept", _("Accept")
    SUBCONTRACT = "subcontract", _("Subcontract")
    REFUSE = "refuse", _("Refuse")


class OrderItem(ItemFields):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("order")
    )
    line_no = models.PositiveSmallIntegerField(_("line"))
    in_scope = models.BooleanField(_("within the authorised scope"), default=True)
    disposition = models.CharField(
        _("disposition"), max_length=20, choices=Disposition.choices, default=Disposition.ACCEPT
    )
    disposition_reason = models.CharField(_("reason for refusal or subcontracting"), max_length=300, blank=True)
    subcontractor = models.CharField(_("subcontractor"), max_length=200, blank=True)
    unit_fee = models.DecimalField(_("fee per unit (CNY)"), max_digits=10, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="intake_item_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.line_no} {self.instrument_name}"

    def get_permission_scope(self):
        return self.category

    @property
    def line_fee(self) -> Decimal:
        if self.disposition == Disposition.REFUSE:
            return Decimal("0")
        return self.unit_fee * self.quantity


class ReviewDecision(models.TextChoices):
    ACCEPT = "accept", _("Accept")
    ACCEPT_WITH_DEVIATIONS = "accept_with_deviations", _("Accept with deviations")
    DECLINE = "decline", _("Decline")


class ContractReview(models.Model):
    """Contract review (合同评审) before work starts, R-INT-4 (a)–(d).

    A review is never edited: re-opening the order supersedes it and a new one is made.
    """

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("order")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reviewer")
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), auto_now_add=True)
    lawful = models.BooleanField(_("(a) lawful and within regulations"), default=False)
    requirements_clear = models.BooleanField(
        _("(b) customer requirements clear, specific and complete"), default=False
    )
    competent = models.BooleanField(_("(c) lab competence and qualification suffice"), default=False)
    terms_agreed = models.BooleanField(
        _("(d) price, completion time, transport and sample disposal agreed"), default=False
    )
    notes = models.TextField(_("review notes"), blank=True)
    decision = models.CharField(_("decision"), max_length=30, choices=ReviewDecision.choices)
    deviations = models.TextField(_("deviations / reason"), blank=True)
    customer_told_how = models.CharField(_("how the customer was told"), max_length=200, blank=True)
    customer_told_at = models.DateTimeField(_("when the customer was told"), null=True, blank=True)
    conformity_statement_requested = models.BooleanField(
        _("customer asks for a statement of conformity"), default=False
    )
    decision_rule = models.TextField(_("decision rule agreed"), blank=True)
    interval_requested = models.BooleanField(
        _("customer asks for a recommended calibration interval"), default=False
    )
    fee_total = models.DecimalField(_("total fee (CNY)"), max_digits=12, decimal_places=2, default=0)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    superseded_reason = models.CharField(_("why superseded"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("contract review")
        verbose_name_plural = _("contract reviews")
        ordering = ["-reviewed_at"]

    def __str__(self) -> str:
        return f"{self.order.number} · {self.get_decision_display()}"


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    SITE_CONFIRMED = "site_confirmed", _("Site confirmed")
    DONE = "done", _("Done, handed over")
    CANCELLED = "cancelled", _("Cancelled")


class OnSiteVisit(models.Model):
    """The order side of on-site work: before (R-ONS-1) and after (R-ONS-4)."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="visits", verbose_name=_("order")
    )
    planned_date = models.DateField(_("planned date"), db_index=True)
    site_address = models.CharField(_("site address"), max_length=300)
    site_contact = models.CharField(_("site contact"), max_length=100)
    site_phone = models.CharField(_("site phone"), max_length=50, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=VisitStatus.choices, default=VisitStatus.PLANNED
    )
    # R-ONS-1: the customer confirmed that the site meets the method's environment.
    environment_confirmed_with = models.CharField(_("confirmed with"), max_length=100, blank=True)
    environment_confirmed_at = models.DateTimeField(_("site confirmed at"), null=True, blank=True)
    environment_notes = models.TextField(_("site conditions confirmed"), blank=True)
    # R-ONS-4: restoration of the instrument's initial state and hand-over.
    state_changed = models.BooleanField(_("instrument state was changed"), default=False)
    restoration_notes = models.TextField(_("restoration"), blank=True)
    handed_over_to = models.CharField(_("handed over to"), max_length=100, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )

    class Meta:
        verbose_name = _("on-site visit")
        verbose_name_plural = _("on-site visits")
        ordering = ["planned_date", "id"]

    def __str__(self) -> str:
        return f"{self.order.number} @ {self.planned_date}"


class NoticeKind(models.TextChoices):
    COMPLETION = "completion", _("Completion notice")
    DELAY = "delay", _("Delay notice")
    DEVIATION = "deviation", _("Deviation notice")


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Sending failed")
    RECORDED = "recorded", _("Told by phone or in person")


class CustomerNotice(models.Model):
    """Something the customer was told, kept as data (R-INT-6, R-INT-8)."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="notices", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    recipient = models.CharField(_("recipient"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    new_due_date = models.DateField(_("new due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("customer notice")
        verbose_name_plural = _("customer notices")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.order.number} · {self.get_kind_display()}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    TRANSFER = "transfer", _("Bank transfer")
    MOBILE = "mobile", _("Mobile payment")


class Payment(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("order")
    )
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    receipt_no = models.CharField(_("receipt number"), max_length=100)
    paid_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["paid_at"]
        # Statistics: payments received per period (R-MGT-4).
        indexes = [models.Index(fields=["paid_at"], include=["amount", "order"], name="payment_stats_idx")]

    def __str__(self) -> str:
        return f"{self.order.number} · {self.amount} ({self.receipt_no})"
