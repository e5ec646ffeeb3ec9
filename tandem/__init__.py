"""Tandem: order management for retailer-supplier networks and pre-orders."""

__version__ = "0.1.0"
