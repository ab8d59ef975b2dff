from django.contrib import admin


class PortalAdminSite(admin.AdminSite):
    site_header = "LedgerBridge"
    site_title = "LedgerBridge"
    index_title = "Operations"
