from django.contrib import admin


class PortalAdminSite(admin.AdminSite):
    site_header = "LedgerBridge"
    site_title = "LedgerBridge"
    index_title = "Operations"

    def index(self, request, extra_context=None):
        """The app list, with the record dashboard on top for those who may see it."""
        if request.user.has_perm("integrations.view_syncrecord"):
            from integrations.admin import dashboard

            extra_context = {**dashboard.context(), **(extra_context or {})}
        return super().index(request, extra_context)
