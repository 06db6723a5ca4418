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
# quotes, with "&", "<", ">", '"' and no-break spaces written as entities, so the first ">"
# ends the tag; and one attribute of it.
_ADDRESSED_TAG = re.compile(r"<(?:a|img)(?=[\s/>])[^>]*>")
_ATTRIBUTE = re.compile(r"""(\s+)([^\s"'>/=]+)(?:="([^"]*)")?""")


def absolute_addresses(value, base_url):
    """
    What absolutise_urls() gives for HTML that clean_html() wrote (a stored body), without
    parsing it again: each link and image address in its tags is made absolute.
    """

    def tag(match):
        text = match.group(0)
        start = 2 if text.startswith("<a") else 4  # after "<a" or "<img"
        written, position = [text[:start]], start
        # Attribute after attribute from the tag's name on, so that no value is ever read
        # as an attribute of its own.
        while attribute := _ATTRIBUTE.match(text, position):
            space, name, address = attribute.groups()
            if address is not None and name in {"href", "src"}:
                address = _attribute_escape(urljoin(base_url, html.unescape(address)))
                written.append(f'{space}{name}="{address}"')
            else:
                written.append(attribute.group(0))
            position = attribute.end()
        written.append(text[position:])
        return "".join(written)

    return _ADDRESSED_TAG.sub(tag, value or "")


def _attribute_escape(value):
    """As the HTML serialiser behind clean_html() writes an attribute's value."""
    for character, entity in _ATTRIBUTE_ENTITIES:
        value = value.replace(character, entity)
    return value


_ATTRIBUTE_ENTITIES = [("&", "&amp;"), ("\u00a0", "&nbsp;"), ('"', "&quot;"), ("<", "&lt;"),
                       (">", "&gt;")]  # fmt: skip


def html_to_text(value):
    """Plain text of an HTML fragment, for search and descriptions."""
    spaced = _BLOCK_END.sub(lambda match: match.group(0) + " ", value or "")
    text = html.unescape(nh3.clean(spaced, tags=set()))
    return _WHITESPACE.sub(" ", text).strip()
