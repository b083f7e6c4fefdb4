"""Admin for the lab head (the site itself requires "admin.access").

Master data (storage locations, customers and contacts) is editable with
field history, and the lab head creates customer portal accounts here.  Orders, samples
and everything that happens to them are read-only: they change only through
``intake.services``, which check permissions and write the custody and audit rows.
Instrument categories and the authorised scope are read-only too: they change on the
category pages, whose services check the rules and audit each change."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from intake.models import (
    AuthorisedScope,
    Contact,
    ContractReview,
    CustodyEvent,
    Customer,
    CustomerAccount,
    CustomerNotice,
    InstrumentCategory,
    IntegrityCheck,
    OnlineRequest,
    OnSiteVisit,
    Order,
    OrderItem,
    Payment,
    ReceiptInspection,
    Release,
    RequestItem,
    Sample,
    StorageLocation,
)
from labqms.admin import ReadOnlyAdmin
from labqms.models import Role


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- editable master data ----------------------------------------------------------------


@admin.register(StorageLocation)
class StorageLocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


class ScopeInline(ReadOnlyInline):
    model = AuthorisedScope
    fields = ["service", "certificate_no", "valid_from", "valid_until", "note"]


@admin.register(InstrumentCategory)
class InstrumentCategoryAdmin(SimpleHistoryAdmin):
    """Read-only: categories change on the category pages through
    ``intake.services.catalogue.save_category`` (its rules and audit event)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    list_display = [
        "code",
        "name_zh",
        "name_en",
        "compulsory",
        "default_service",
        "turnaround_days",
        "standard_fee",
        "is_active",
    ]
    list_filter = ["compulsory", "default_service", "is_active"]
    search_fields = ["code", "name_zh", "name_en", "catalogue_entry", "method_code"]
    inlines = [ScopeInline]


@admin.register(AuthorisedScope)
class AuthorisedScopeAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["category", "service", "certificate_no", "valid_from", "valid_until"]
    list_filter = ["service"]
    search_fields = ["category__code", "category__name_zh", "certificate_no"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "phone", "email", "is_active"]


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "short_name", "department", "credit_code", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "short_name", "credit_code", "department", "contacts__name", "contacts__phone"]
    readonly_fields = ["created_at", "created_by"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ["name", "customer", "phone", "email", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "phone", "email", "customer__name"]
    autocomplete_fields = ["customer"]


class CustomerAccountForm(forms.ModelForm):
    class Meta:
        model = CustomerAccount
        fields = ["user", "customer", "contact"]

    def clean(self):
        data = super().clean()
        user, customer, contact = data.get("user"), data.get("customer"), data.get("contact")
        if user is not None and not user.has_role(Role.CUSTOMER):
            self.add_error("user", _("A portal account is for a user with the customer role."))
        if contact is not None and customer is not None and contact.customer_id != customer.pk:
            self.add_error("contact", _("This contact belongs to another customer."))
        return data


@admin.register(CustomerAccount)
class CustomerAccountAdmin(admin.ModelAdmin):
    form = CustomerAccountForm
    list_display = ["user", "customer", "contact"]
    search_fields = ["user__username", "user__full_name", "customer__name"]
    autocomplete_fields = ["user", "customer", "contact"]


# --- read-only workflow rows ---------------------------------------------------------------


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = [
        "line_no",
        "instrument_name",
        "category",
        "serial_number",
        "quantity",
        "service",
        "in_scope",
        "disposition",
        "unit_fee",
    ]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "customer", "channel", "status", "accepted_on", "due_date", "created_at"]
    list_filter = ["status", "channel", "work_location"]
    search_fields = ["number", "customer__name", "items__serial_number"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline]


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyAdmin):
    list_display = ["order", "line_no", "instrument_name", "category", "serial_number", "quantity", "disposition"]
    list_filter = ["disposition", "in_scope"]
    search_fields = ["order__number", "instrument_name", "serial_number"]


@admin.register(ContractReview)
class ContractReviewAdmin(ReadOnlyAdmin):
    list_display = ["order", "reviewer", "reviewed_at", "decision", "superseded_at"]
    list_filter = ["decision"]
    search_fields = ["order__number"]


@admin.register(Sample)
class SampleAdmin(ReadOnlyAdmin):
    list_display = ["sample_id", "order", "serial_number", "status", "location", "updated_at"]
    list_filter = ["status"]
    search_fields = ["sample_id", "serial_number", "order__number"]


@admin.register(CustodyEvent)
class CustodyEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "sample", "actor", "action", "from_status", "to_status", "location"]
    list_filter = ["action", "to_status"]
    search_fields = ["sample__sample_id"]


@admin.register(ReceiptInspection)
class ReceiptInspectionAdmin(ReadOnlyAdmin):
    list_display = ["sample", "inspected_at", "inspected_by", "customer_confirmed_by"]
    search_fields = ["sample__sample_id"]


@admin.register(IntegrityCheck)
class IntegrityCheckAdmin(ReadOnlyAdmin):
    list_display = ["sample", "intact", "checked_at", "checked_by"]
    list_filter = ["intact"]
    search_fields = ["sample__sample_id"]


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ["order", "receiver_name", "released_at", "released_by"]
    search_fields = ["order__number", "receiver_name"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "amount", "method", "receipt_no", "paid_at", "recorded_by"]
    list_filter = ["method"]
    search_fields = ["order__number", "receipt_no"]


@admin.register(CustomerNotice)
class CustomerNoticeAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "status", "recipient", "created_at", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["order__number", "recipient"]


@admin.register(OnSiteVisit)
class OnSiteVisitAdmin(ReadOnlyAdmin):
    list_display = ["order", "planned_date", "site_address", "status"]
    list_filter = ["status"]
    search_fields = ["order__number", "site_address"]


class RequestItemInline(ReadOnlyInline):
    model = RequestItem
    fields = ["line_no", "instrument_name", "category", "serial_number", "quantity", "service"]


@admin.register(OnlineRequest)
class OnlineRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "customer", "submitted_at", "status", "order"]
    list_filter = ["status"]
    search_fields = ["customer__name", "contact_name"]
    inlines = [RequestItemInline]
