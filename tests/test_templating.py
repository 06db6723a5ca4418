"""The public site's Jinja2 environment (newsroom/templating.py)."""

from datetime import UTC, datetime

import pytest
from django.template import TemplateDoesNotExist, engines


def render(source, **context):
    return engines["jinja2"].from_string(source).render(context)


def test_dates_are_shown_in_london_time():
    # Half past eleven on a summer night, in UTC, is already the next day in London.
    moment = datetime(2009, 6, 30, 23, 30, tzinfo=UTC)
    assert render('{{ moment|date("j F Y, H:i") }}', moment=moment) == "1 July 2009, 00:30"


def test_url_reverses_and_a_missing_name_prints_nothing():
    assert render('[{{ nobody.name }}]{{ url("features:tag", "wards") }}') == "[]/tags/wards/"


def test_what_is_shown_is_escaped():
    assert render("{{ text }}", text='<b>"x"</b>') == "&lt;b&gt;&#34;x&#34;&lt;/b&gt;"


def test_the_admins_own_templates_are_left_to_djangos_engine():
    with pytest.raises(TemplateDoesNotExist):
        engines["jinja2"].get_template("admin/index.html")  # ours, in templates/admin/
    assert engines["django"].get_template("admin/index.html")
