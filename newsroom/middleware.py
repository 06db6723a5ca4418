"""Project-wide request handling that belongs to no one app."""

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse


class AdminContentSecurityPolicyMiddleware:
    """The admin's own Content-Security-Policy (the public site's is django-csp's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", settings.ADMIN_CONTENT_SECURITY_POLICY)
        return response


def client_ip(request):
    """
    The reader's address: behind N trusted proxies, the Nth address from the right of
    X-Forwarded-For (the ones further left could have been sent by anyone).
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lock-out: a page in the admin's own look that says what happened."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {**admin.site.each_context(request), "minutes": minutes, "title": "Sign-in paused"}
    response = TemplateResponse(request, "admin/locked_out.html", context, status=429)
    return response.render()
