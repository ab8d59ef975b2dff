from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.urls import path, reverse

# The group the roles migration creates; its members start their day in the queue.
FINANCE_STAFF_GROUP = "Finance staff"


class PortalAdminSite(admin.AdminSite):
    site_header = "LedgerBridge"
    site_title = "LedgerBridge"
    index_title = "Operations"

    def get_urls(self):
        from integrations.admin import dashboard, queue, reconciliation

        def queue_page(request):
            return queue.queue_view(request, site=self)

        def reconciliation_page(request):
            return reconciliation.reconciliation_view(request, site=self)

        return [
            path("queue/", self.admin_view(queue_page), name="queue"),
            path(
                "reconciliation/",
                self.admin_view(reconciliation_page),
                name="reconciliation",
            ),
            path(
                "dashboard.json",
                self.admin_view(dashboard.data_view),
                name="dashboard-data",
            ),
            *super().get_urls(),
        ]

    def each_context(self, request):
        """Every admin page: the "Needs attention" link and its count on top."""
        context = super().each_context(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_active
            and user.has_perm("integrations.view_syncrecord")
        ):
            from integrations.services import work_queue

            context["needs_attention_url"] = reverse("admin:queue")
            context["needs_attention_count"] = work_queue.waiting_for_people().count()
        return context

    def index(self, request, extra_context=None):
        """The app list, with the record dashboard on top for those who may see it.

        Finance staff land on the work queue instead; ``?home=1`` shows this page.
        """
        if is_finance_staff(request.user) and not request.GET.get("home"):
            return HttpResponseRedirect(reverse("admin:queue"))
        if request.user.has_perm("integrations.view_syncrecord"):
            from integrations.admin import dashboard

            extra_context = {**dashboard.context(), **(extra_context or {})}
        return super().index(request, extra_context)


def is_finance_staff(user) -> bool:
    """A member of the "Finance staff" group; False where the group does not
    exist yet (before the roles migration) or for superusers, who run the place."""
    if not user.is_authenticated or user.is_superuser:
        return False
    group = Group.objects.filter(name=FINANCE_STAFF_GROUP).first()
    return group is not None and user.groups.filter(pk=group.pk).exists()
