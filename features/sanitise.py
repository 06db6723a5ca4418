"""Rich text is cleaned on save with nh3: what reaches a page or feed is already safe."""

import html
import re
from urllib.parse import urljoin

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "em", "figcaption",
    "figure", "h2", "h3", "h4", "hr", "i", "img", "li", "ol", "p", "pre", "q", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}

_BLOCK_END = re.compile(r"</(p|h[1-6]|li|blockquote|figcaption|tr|td|th|pre)>|<br\s*/?>", re.I)
_WHITESPACE = re.compile(r"\s+")


def clean_html(value, attribute_filter=None):
    """Keep the tags an article needs; drop scripts, event handlers and javascript: URLs."""
    return nh3.clean(
        value or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=attribute_filter,
    )


def absolutise_urls(value, base_url):
    """The same clean HTML with every link and image address made absolute, for feeds."""

    def absolute(element, attribute, url):
        if attribute in {"href", "src"}:
            return urljoin(base_url, url)
        return url

    return clean_html(value, attribute_filter=absolute)


# A start tag of a link or image as clean_html() writes it: every attribute value in double
# quotes, with "&" and '"' written as entities (a ">" may stay as it is inside one).
_ADDRESSED_TAG = re.compile(r"""<(?:a|img)(?:\s+[^\s"'>/=]+(?:="[^"]*")?)*\s*/?>""")
_ADDRESS = re.compile(r'(\s(?:href|src)=")([^"]*)"')


def absolute_addresses(value, base_url):
    """
    What absolutise_urls() gives for HTML that clean_html() wrote (a stored body), without
    parsing it again: each link and image address in its tags is made absolute.
    """

    def tag(match):
        return _ADDRESS.sub(address, match.group(0))

    def address(match):
        url = urljoin(base_url, html.unescape(match.group(2)))
        return f'{match.group(1)}{_attribute_escape(url)}"'

    return _ADDRESSED_TAG.sub(tag, value or "")


def _attribute_escape(value):
    """As the HTML serialiser behind clean_html() writes an attribute's value."""
    return value.replace("&", "&amp;").replace("\u00a0", "&nbsp;").replace('"', "&quot;")


def html_to_text(value):
    """Plain text of an HTML fragment, for search and descriptions."""
    spaced = _BLOCK_END.sub(lambda match: match.group(0) + " ", value or "")
    text = html.unescape(nh3.clean(spaced, tags=set()))
    return _WHITESPACE.sub(" ", text).strip()
