"""The admin web UI: server-rendered pages under /admin for retailer staff."""
