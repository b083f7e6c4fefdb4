"""Intake: customers, instrument categories and the authorised scope, entrustment
orders with contract review and confirmation, samples with custody events, on-site
visits, customer notices, release, and the customer portal's online requests."""

from intake.models.catalogue import AuthorisedScope, InstrumentCategory, Service
from intake.models.customers import Contact, Customer, CustomerAccount
from intake.models.orders import (
    Channel,
    ConfirmationMethod,
    ContractReview,
    CustomerNotice,
    Disposition,
    NoticeKind,
    NoticeStatus,
    OnSiteVisit,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    ReviewDecision,
    VisitStatus,
    WorkLocation,
)
from intake.models.portal import OnlineRequest, RequestItem, RequestStatus
from intake.models.samples import (
    CustodyEvent,
    IntegrityCheck,
    ReceiptInspection,
    Release,
    Sample,
    SampleStatus,
    StorageLocation,
)

__all__ = [
    "AuthorisedScope",
    "Channel",
    "ConfirmationMethod",
    "Contact",
    "ContractReview",
    "CustodyEvent",
    "Customer",
    "CustomerAccount",
    "CustomerNotice",
    "Disposition",
    "InstrumentCategory",
    "IntegrityCheck",
    "NoticeKind",
    "NoticeStatus",
    "OnSiteVisit",
    "OnlineRequest",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Payment",
    "PaymentMethod",
    "ReceiptInspection",
    "Release",
    "RequestItem",
    "RequestStatus",
    "ReviewDecision",
    "Sample",
    "SampleStatus",
    "Service",
    "StorageLocation",
    "VisitStatus",
    "WorkLocation",
]
