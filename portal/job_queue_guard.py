"""django-rq's pages (queues, jobs, workers) can empty a queue or delete jobs and
only ask for staff status; here only an Integration admin (or a superuser) may
open them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect

from integrations import roles

PREFIXES = ("/admin/django-rq/", "/admin/django_rq/")


class JobQueuePagesForAdmins:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # path_info: without the SCRIPT_NAME a deployment under /ledgerbridge/ adds.
        if request.path_info.startswith(PREFIXES):
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated:
                return redirect(f"/admin/login/?next={request.path}")
            if not roles.is_integration_admin(user):
                return HttpResponseForbidden(
                    "Only an Integration admin may open the job queue pages."
                )
        return self.get_response(request)
