import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()

# The same escapes as django.utils.html.json_script: nothing in the data can
# close the <script> element it sits in.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_ld(data):
    """Data as a JSON-LD <script> element."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_ESCAPES)
    # Safe: the JSON above has every character that could end the element escaped.
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308


@register.simple_tag
def byline(feature):
    """The feature's byline with each author's name linked to their page."""
    parts = feature.byline_parts()
    return format_html_join(
        "",
        "{}",
        (
            (format_html('<a href="{}">{}</a>', credit.url, text) if credit else text,)
            for text, credit in parts
        ),
    )
