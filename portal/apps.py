from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Replaces the stock admin site with LedgerBridge's branded one."""

    default_site = "portal.admin_site.PortalAdminSite"
