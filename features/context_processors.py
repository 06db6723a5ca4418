from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .models import Section


def site(request):
    """The site's name and its sections, queried only if a template shows them."""
    return {
        "site": settings.NEWSROOM,
        "nav_sections": SimpleLazyObject(lambda: list(Section.objects.all())),
    }
