"""Stores: what kind of seller they are and how they take payments."""

from enum import StrEnum


class StoreKind(StrEnum):
    RETAILER = "retailer"
    SUPPLIER = "supplier"


class PaymentCapture(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


LOCALES = ("en", "fr")
