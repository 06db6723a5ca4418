"""Public media (images and their renditions) when they live on this server's disk."""

from django.utils.cache import patch_cache_control
from django.views.static import serve


def serve_media(request, path, document_root):
    """A stored image; names never change meaning (new uploads get new names): cache long."""
    response = serve(request, path, document_root=document_root)
    patch_cache_control(response, public=True, max_age=365 * 24 * 3600, immutable=True)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
