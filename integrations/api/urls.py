"""Routes under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.api import sage100, salesforce, shopify, views, xero

app_name = "api"

router = SimpleRouter()
router.register("records", views.RecordViewSet, basename="record")

urlpatterns = [
    *router.urls,
    path(
        "inbound/salesforce/<slug:connection_slug>/outbound-message",
        salesforce.OutboundMessageView.as_view(),
        name="salesforce-outbound-message",
    ),
    path(
        "inbound/salesforce/<slug:connection_slug>/events",
        salesforce.CalloutView.as_view(),
        name="salesforce-events",
    ),
    path(
        "inbound/xero/<slug:connection_slug>/webhook",
        xero.WebhookView.as_view(),
        name="xero-webhook",
    ),
    path(
        "inbound/shopify/<slug:connection_slug>/webhook",
        shopify.ShopifyWebhookView.as_view(),
        name="shopify-webhook",
    ),
    path(
        "inbound/<slug:connection_slug>/",
        views.InboundView.as_view(),
        name="inbound",
    ),
    path(
        "sage100/<slug:connection_slug>/credit-check",
        sage100.CreditCheckView.as_view(),
        name="sage100-credit-check",
    ),
]
