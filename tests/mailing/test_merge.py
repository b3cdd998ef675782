"""Merge tags: substitution, defaults, custom fields, escaping, inert template syntax."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mailing.merge import (
    SAMPLE_TAGS,
    is_safe_url,
    readable,
    render_html,
    render_text,
    scheme_is_fixed,
    tags_in,
    tags_without_default,
    unknown_tags,
    with_default,
)
from tests.contacts.factories import ContactFactory


def make_contact(**overrides):
    fields = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "company": "Analytical Engines",
        "job_title": "Programmer",
        "country": "United Kingdom",
        "city": "London",
        "custom_fields": {},
    }
    fields.update(overrides)
    return SimpleNamespace(**fields)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("name", "Ada Lovelace"),
        ("email", "ada@example.com"),
        ("company", "Analytical Engines"),
        ("job_title", "Programmer"),
        ("country", "United Kingdom"),
        ("city", "London"),
    ],
)
def test_each_field_tag_is_substituted(tag, expected):
    contact = make_contact()
    assert render_text(f"Hi {{{{ {tag} }}}}!", contact) == f"Hi {expected}!"
    assert render_html(f"Hi {{{{{tag}}}}}!", contact) == f"Hi {expected}!"


def test_whitespace_inside_braces_is_optional():
    contact = make_contact()
    text = "{{first_name}} {{  last_name  }} {{ first_name | default : 'x' }}"
    assert render_text(text, contact) == "Ada Lovelace Ada"


def test_name_is_trimmed_when_one_part_is_missing():
    assert render_text("[{{ name }}]", make_contact(first_name="")) == "[Lovelace]"
    assert render_text("[{{ name }}]", make_contact(last_name="")) == "[Ada]"
    assert render_text("[{{ name }}]", make_contact(first_name="", last_name="")) == "[]"


@pytest.mark.parametrize(
    "template", ['Hi {{ first_name|default:"there" }}', "Hi {{ first_name|default:'there' }}"]
)
def test_default_with_either_quote_style(template):
    assert render_text(template, make_contact(first_name="")) == "Hi there"
    assert render_text(template, make_contact(first_name="Ada")) == "Hi Ada"
    assert render_html(template, make_contact(first_name="")) == "Hi there"


def test_default_may_contain_the_other_quote_and_braces():
    contact = make_contact(company="")
    assert render_text('{{ company|default:"your team\'s }}" }}', contact) == "your team's }}"
    assert render_text("{{ company|default:'say \"hi\"' }}", contact) == 'say "hi"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pro", "pro"),
        (42, "42"),
        (3.5, "3.5"),
        (True, "true"),
        (False, "false"),
        ("2024-05-01", "2024-05-01"),
    ],
)
def test_custom_field_of_each_kind(value, expected):
    contact = make_contact(custom_fields={"plan": value})
    assert render_text("Plan: {{ custom.plan }}", contact) == f"Plan: {expected}"


def test_custom_field_keys_with_dashes_and_underscores():
    contact = make_contact(custom_fields={"renewal-date": "May", "seats_used": 0})
    text = "{{ custom.renewal-date }} / {{ custom.seats_used }}"
    assert render_text(text, contact) == "May / 0"


@pytest.mark.parametrize("custom_fields", [{}, {"plan": None}, {"plan": ""}, {"plan": "  "}])
def test_missing_or_empty_custom_field_uses_default_or_nothing(custom_fields):
    contact = make_contact(custom_fields=custom_fields)
    assert render_text("[{{ custom.plan }}]", contact) == "[]"
    assert render_text('[{{ custom.plan|default:"free" }}]', contact) == "[free]"


@pytest.mark.parametrize("custom_fields", [None, "not a dict", ["plan"]])
def test_custom_fields_not_a_dict(custom_fields):
    contact = make_contact(custom_fields=custom_fields)
    assert render_text('{{ custom.plan|default:"free" }}', contact) == "free"


def test_contact_without_custom_fields_or_some_attributes():
    contact = SimpleNamespace(email="bob@example.com")
    text = "{{ first_name|default:'there' }} {{ email }} {{ city }}{{ custom.plan }}."
    assert render_text(text, contact) == "there bob@example.com ."
    assert render_text("[{{ name }}]", contact) == "[]"


def test_missing_values_become_empty_or_default():
    contact = make_contact(company="", city=None)
    assert render_text("[{{ company }}][{{ city }}]", contact) == "[][]"
    assert render_text("{{ city|default:'your city' }}", contact) == "your city"


def test_newlines_in_values_are_folded_so_a_subject_stays_one_line():
    contact = make_contact(company="Acme\r\nBcc: victim@example.com")
    assert render_text("News for {{ company }}", contact) == "News for Acme Bcc: victim@example.com"


def test_html_escapes_values_and_template_text():
    contact = make_contact(company="<script>alert(1)</script>", custom_fields={"note": "a & b"})
    template = '<b>Hi</b> {{ company }} & "{{ custom.note }}"'
    assert render_html(template, contact) == (
        "&lt;b&gt;Hi&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;a &amp; b&quot;"
    )
    assert render_text(template, contact) == '<b>Hi</b> <script>alert(1)</script> & "a & b"'


def test_html_escapes_defaults():
    contact = make_contact(company="")
    assert render_html("{{ company|default:'<i>you</i>' }}", contact) == "&lt;i&gt;you&lt;/i&gt;"


@pytest.mark.parametrize(
    "template",
    [
        "{% for c in contacts %}{{ c.email }}{% endfor %}",
        "{{ contact.email.__class__ }}",
        "{{ contact.__class__.__mro__ }}",
        "{{ 7*7 }}",
        "{% load static %}",
        "{# comment #}",
        "{{ password }}",
        "{{ first_name|upper }}",
        "{{ custom.plan.__class__ }}",
        "{{ first_name|default:there }}",
        "{{ First_Name }}",
        "${7*7} {{ }} {{",
    ],
)
def test_template_engine_syntax_is_inert(template):
    contact = make_contact(custom_fields={"plan": "pro"})
    assert render_text(template, contact) == template
    assert tags_in(template) == []


def test_unknown_tags_stay_next_to_known_ones_and_are_escaped_in_html():
    contact = make_contact()
    template = "{{ first_name }} {{ 7*7 }} {% if x %}<y>"
    assert render_text(template, contact) == "Ada {{ 7*7 }} {% if x %}<y>"
    assert render_html(template, contact) == "Ada {{ 7*7 }} {% if x %}&lt;y&gt;"


def test_unknown_tags_reports_each_unknown_tag_once_in_order():
    text = (
        "Hi {{ first_name }}, {{ password }} {% load os %} {{ custom.plan }} "
        "{{ contact.__class__ }} {{ 7*7 }} {{ password }} {#x#}"
    )
    assert unknown_tags(text) == [
        "{{ password }}",
        "{% load os %}",
        "{{ contact.__class__ }}",
        "{{ 7*7 }}",
        "{#x#}",
    ]
    assert unknown_tags("Hi {{ first_name|default:'there' }} {{custom.plan}}") == []


def test_tags_in_lists_supported_names_once():
    text = "{{ first_name }} {{ email }} {{first_name|default:'x'}} {{ custom.plan }} {{ nope }}"
    assert tags_in(text) == ["first_name", "email", "custom.plan"]


def test_sample_tags_all_render_as_known_tags():
    assert SAMPLE_TAGS
    for tag, description in SAMPLE_TAGS:
        assert description
        assert len(tags_in(tag)) == 1
        assert unknown_tags(tag) == []


@pytest.mark.django_db
def test_real_contact():
    contact = ContactFactory(
        first_name="Grace",
        last_name="Hopper",
        email="grace@example.com",
        company="<Navy & Co>",
        custom_fields={"plan": "enterprise", "seats": 12, "trial": False},
    )
    template = (
        "{{ name }} <{{ email }}> at {{ company }}: "
        "{{ custom.plan }}/{{ custom.seats }}/{{ custom.trial }}{{ custom.missing|default:'-' }}"
    )
    assert render_text(template, contact) == (
        "Grace Hopper <grace@example.com> at <Navy & Co>: enterprise/12/false-"
    )
    assert render_html(template, contact) == (
        "Grace Hopper &lt;grace@example.com&gt; at &lt;Navy &amp; Co&gt;: enterprise/12/false-"
    )


def test_tags_without_default_lists_the_tags_that_can_leave_a_gap():
    subject = "Big news for {{ company }}"
    body = "Hi {{ first_name|default:'there' }} {{ custom.plan }} {{ company }} {{ nope }}"
    assert tags_without_default(subject, body) == ["company", "custom.plan"]


def test_with_default_suggests_the_supported_syntax():
    assert with_default("company") == '{{ company|default:"your company" }}'
    assert with_default("custom.plan") == '{{ custom.plan|default:"…" }}'
    for tag in ("company", "first_name", "custom.plan"):
        suggestion = with_default(tag)
        assert tags_in(suggestion) == [tag] and tags_without_default(suggestion) == []


def test_readable_shows_each_tag_by_name_without_braces():
    assert readable("Big news for {{ company }}") == "Big news for ‹company›"
    assert readable("Hi {{first_name|default:'you'}} / {{ custom.plan }}") == (
        "Hi ‹first_name› / ‹custom.plan›"
    )
    assert readable("No tags") == "No tags"


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/x", True),
        ("HTTP://example.com", True),
        ("mailto:a@example.com", True),
        ("/relative/path", True),
        ("#top", True),
        ("page?x=a:b", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("  javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("\x00javascript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("vbscript:x", False),
        ("tel:+123", False),
    ],
)
def test_is_safe_url_allows_only_http_https_mailto_and_relative(url, safe):
    assert is_safe_url(url) is safe


@pytest.mark.parametrize(
    ("start", "fixed"),
    [
        ("https://example.com/", True),
        ("mailto:help@example.com?subject=", True),
        ("/path/", True),
        ("https", False),  # a value could still add "://" or ":…"
        ("java", False),
        ("", False),
        ("javascript:alert(1)//", False),
    ],
)
def test_scheme_is_fixed_only_when_the_text_already_ends_a_safe_scheme(start, fixed):
    assert scheme_is_fixed(start) is fixed
