"""
The public site's templates are Jinja2 (the admin's stay Django's own): pages and partials
compile to Python, where Django's template language resolves every name and filter on each
render, and drawing a page's cards was a third of the time it took to serve it. The
environment gives them the few Django helpers they use, with Django's meaning.
"""

from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils.timezone import template_localtime
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, TemplateNotFound

from features.templatetags.newsroom import byline, json_ld

# Templates under templates/ that are Django's: the admin's own, overridden.
DJANGO_TEMPLATES = ("admin/",)


class PublicTemplateLoader(FileSystemLoader):
    """The template directories, without the templates Django's engine renders."""

    def get_source(self, environment, template):
        if template.startswith(DJANGO_TEMPLATES):
            raise TemplateNotFound(template)
        return super().get_source(environment, template)


def date(value, format_string=None):
    """Django's date filter, in the site's time zone, as Django's templates apply it."""
    return defaultfilters.date(template_localtime(value), format_string)


def url(name, *args, **kwargs):
    """reverse(), as {% url %} is used: url("features:tag", tag.slug)."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options):
    options["loader"] = PublicTemplateLoader(options["loader"].searchpath)
    # A missing name or attribute is empty, as it is in Django's templates.
    options["undefined"] = ChainableUndefined
    options["keep_trailing_newline"] = True
    options.pop("autoescape", None)  # always on, whatever the settings say
    env = Environment(autoescape=True, **options)
    env.globals.update(byline=byline, static=static, url=url)
    env.filters.update(
        date=date,
        json_ld=json_ld,
        linebreaksbr=defaultfilters.linebreaksbr,
        pluralize=defaultfilters.pluralize,
        truncatechars=defaultfilters.truncatechars,
    )
    return env
