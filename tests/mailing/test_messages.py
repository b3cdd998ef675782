"""Messages as they go out: the MIME bytes on the SMTP path, Markdown and plain HTML parts."""

from __future__ import annotations

import email
from email import policy

import pytest

from mailing.messages import MessageTemplate, marked_as_test
from mailing.models import Mailing
from mailing.unsubscribe import PreviewToken, read_token

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def mailing(**fields) -> Mailing:
    defaults = {"pk": 7, "subject": "Hi", "body": "Hello", "from_email": "Flock <news@example.com>"}
    return Mailing(**{**defaults, **fields})


def sent_bytes(template: MessageTemplate, contact) -> email.message.EmailMessage:
    """What the SMTP path writes, read back by a standards-following parser."""
    rendered = template.render(contact, contact_id=contact.pk)
    data = template.mime(rendered, to=contact.email)
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF line ends only
    return email.message_from_bytes(data, policy=policy.default)


def parts(message) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def test_non_ascii_subject_and_body_arrive_as_written():
    contact = ContactFactory(first_name="Zoë", company="Škoda & Søn", email="zoe@example.com")
    template = MessageTemplate(
        mailing(subject="Grüße, {{ first_name }} — {{ company }}", body="Ça va, {{ first_name }}?")
    )
    message = sent_bytes(template, contact)
    assert message["Subject"] == "Grüße, Zoë — Škoda & Søn"
    text, html = parts(message)
    assert text.startswith("Ça va, Zoë?\n\n--\nUnsubscribe: http")
    assert "Ça va, Zoë?" in html


def test_the_smtp_bytes_carry_the_same_message_as_the_django_message():
    contact = ContactFactory(first_name="Ada", email="ada@example.com")
    template = MessageTemplate(mailing(subject="Hi {{ first_name }}", body="Line 1\nLine 2"))
    rendered = template.render(contact, contact_id=contact.pk)
    django_message = template.email(rendered, to=contact.email)
    message = email.message_from_bytes(
        template.mime(rendered, to=contact.email), policy=policy.default
    )
    text, html = parts(message)
    assert message["Subject"] == django_message.subject == "Hi Ada"
    assert text == django_message.body
    assert html == django_message.alternatives[0][0]
    assert message["From"] == "Flock <news@example.com>"
    assert message["To"] == "ada@example.com"
    assert message["Date"] and message["Message-ID"] == rendered.headers["Message-ID"]


def test_headers_carry_a_personal_one_click_unsubscribe_link():
    contact = ContactFactory()
    message = sent_bytes(MessageTemplate(mailing()), contact)
    link = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert read_token(token) == (contact.pk, 7)
    assert link in parts(message)[0]


def test_each_message_gets_its_own_message_id():
    contact = ContactFactory()
    template = MessageTemplate(mailing())
    ids = {sent_bytes(template, contact)["Message-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_long_lines_trailing_spaces_and_lone_dots_survive_transfer_encoding():
    body = "x" * 2000 + "\nends with spaces   \n.\n..\nCR only\rline"
    contact = ContactFactory()
    text, _ = parts(sent_bytes(MessageTemplate(mailing(body=body)), contact))
    assert text.startswith("x" * 2000 + "\nends with spaces   \n.\n..\nCR only\nline\n\n--")


def test_a_long_subject_is_folded_and_reads_back_whole():
    contact = ContactFactory(company="A" * 200)
    subject = "News for {{ company }} " + "and more " * 100
    message = sent_bytes(MessageTemplate(mailing(subject=subject)), contact)
    assert message["Subject"] == "News for " + "A" * 200 + " " + "and more " * 100


def test_plain_text_is_escaped_in_the_html_part_with_its_line_breaks():
    contact = ContactFactory(first_name="<b>Eve</b>")
    template = MessageTemplate(
        mailing(body="Hi {{ first_name }},\n<script>x()</script> **not bold**")
    )
    _, html = parts(sent_bytes(template, contact))
    assert "Hi &lt;b&gt;Eve&lt;/b&gt;,<br>\n&lt;script&gt;x()&lt;/script&gt; **not bold**" in html
    assert "<script>" not in html and "<b>" not in html


def test_markdown_formats_the_html_part_and_leaves_the_text_part_as_written():
    contact = ContactFactory(first_name="Ada", company="Acme")
    body = (
        "# News for {{ company }}\n\n"
        "Hi **{{ first_name }}**, see [our site](https://example.com).\n\n- one\n- two"
    )
    template = MessageTemplate(mailing(body=body, body_format=Mailing.Format.MARKDOWN))
    text, html = parts(sent_bytes(template, contact))
    assert "<h1>News for Acme</h1>" in html
    assert "Hi <strong>Ada</strong>" in html
    assert '<a href="https://example.com">our site</a>' in html
    assert "<li>one</li>" in html
    assert text.startswith("# News for Acme\n\nHi **Ada**, see [our site](https://example.com).")


def test_markdown_escapes_raw_html_and_merged_values():
    contact = ContactFactory(first_name='<img src=x onerror="alert(1)">')
    body = "<script>alert(2)</script>\n\nHi *{{ first_name }}*"
    template = MessageTemplate(mailing(body=body, body_format=Mailing.Format.MARKDOWN))
    _, html = parts(sent_bytes(template, contact))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<em>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</em>" in html


def test_markdown_in_a_merged_value_is_not_interpreted():
    contact = ContactFactory(company="**Acme** [x](javascript:alert(1))")
    template = MessageTemplate(
        mailing(body="At {{ company }}.", body_format=Mailing.Format.MARKDOWN)
    )
    _, html = parts(sent_bytes(template, contact))
    assert "At **Acme** [x](javascript:alert(1))." in html
    assert "<strong>" not in html and '<a href="javascript' not in html


def test_merge_tags_inside_markdown_code_and_defaults_are_merged():
    contact = ContactFactory(first_name="", email="bob@example.com")
    body = 'Dear {{ first_name|default:"friend" }}, your login is `{{ email }}`.'
    template = MessageTemplate(mailing(body=body, body_format=Mailing.Format.MARKDOWN))
    _, html = parts(sent_bytes(template, contact))
    assert "Dear friend, your login is <code>bob@example.com</code>." in html


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        ("Hello {{ first_name }},\nplain ASCII lines", "7bit"),
        ("Ça va, {{ first_name }}?", "quoted-printable"),
        ("y" * 999, "quoted-printable"),  # longer than an SMTP line may be
        ("nul \0 byte", "quoted-printable"),  # 7bit data has none (RFC 2045)
    ],
)
def test_parts_go_as_they_are_only_when_ascii_with_short_lines(body, encoding):
    contact = ContactFactory(first_name="Ada")
    message = sent_bytes(MessageTemplate(mailing(body=body)), contact)
    text_part = message.get_body(("plain",))
    assert text_part["Content-Transfer-Encoding"] == encoding
    assert parts(message)[0].startswith(body.replace("{{ first_name }}", "Ada") + "\n\n--")


def test_a_delivery_keeps_its_message_id_and_other_deliveries_and_mailings_differ():
    contact = ContactFactory()
    the_mailing = mailing()
    template = MessageTemplate(the_mailing)

    def message_id(template: MessageTemplate, delivery_id: int) -> str:
        return template.render(contact, contact_id=contact.pk, delivery_id=delivery_id).headers[
            "Message-ID"
        ]

    # Sent again after a crash, the one duplicate is recognisably the same mail.
    assert message_id(template, 41) == message_id(MessageTemplate(the_mailing), 41)
    assert message_id(template, 41) != message_id(template, 42)
    assert message_id(template, 41) != message_id(MessageTemplate(mailing(pk=8)), 41)


# -- links (issue 14, point 18) ------------------------------------------------


def markdown_html(body: str, contact) -> str:
    template = MessageTemplate(mailing(body=body, body_format=Mailing.Format.MARKDOWN))
    return parts(sent_bytes(template, contact))[1]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
    ],
)
def test_a_contacts_value_cannot_make_a_link_run_script(url):
    contact = ContactFactory(custom_fields={"url": url})
    html = markdown_html("[click me]({{ custom.url }}) and ![logo]({{ custom.url }})", contact)
    assert "<a>click me</a>" in html  # plain text now, not a link
    assert '<img alt="logo"' in html
    assert "script:" not in html.lower() and "data:" not in html


def test_a_scheme_put_together_from_text_and_a_value_is_checked_too():
    contact = ContactFactory(custom_fields={"rest": "script:alert(1)"})
    html = markdown_html("[x](java{{ custom.rest }})", contact)
    assert "<a>x</a>" in html and "javascript" not in html


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&amp;c=2"),
        ("http://example.com", "http://example.com"),
        ("mailto:help@example.com", "mailto:help@example.com"),
        ('https://example.com/"onmouseover="x', "https://example.com/&quot;onmouseover=&quot;x"),
    ],
)
def test_http_https_and_mailto_values_stay_links(url, href):
    contact = ContactFactory(custom_fields={"url": url})
    assert f'<a href="{href}">click me</a>' in markdown_html(
        "[click me]({{ custom.url }})", contact
    )


def test_a_value_inside_a_fixed_https_link_is_merged_and_escaped():
    contact = ContactFactory(first_name='a"b', company="Acme & Co")
    html = markdown_html(
        '[site](https://example.com/{{ first_name }} "For {{ company }}") '
        "<https://x.example/{{ company }}>",
        contact,
    )
    assert '<a href="https://example.com/a&quot;b" title="For Acme &amp; Co">site</a>' in html
    assert '<a href="https://x.example/Acme &amp; Co">https://x.example/Acme &amp; Co</a>' in html


@pytest.mark.parametrize(
    "link", ["[x](javascript:alert(1))", "[x](data:text/html,hi)", "[x](tel:+123)", "<tel:+123>"]
)
def test_markdown_links_in_the_body_allow_only_http_https_and_mailto(link):
    html = markdown_html(f"See {link} or [ok](https://example.com).", ContactFactory())
    body = html.split("</div>")[0]  # not the footer's unsubscribe link
    assert body.count("<a ") == 1
    assert '<a href="https://example.com">ok</a>' in html


# -- test sends (point 13) --------------------------------------------------------


def test_a_test_template_and_an_unsaved_mailing_carry_the_test_link():
    contact = ContactFactory()
    for template in (MessageTemplate(mailing(), test=True), MessageTemplate(mailing(pk=None))):
        token = template.render(contact, contact_id=contact.pk).headers["List-Unsubscribe"]
        token = token.strip("<>").rstrip("/").rsplit("/", 1)[1]
        with pytest.raises(PreviewToken):
            read_token(token)


def test_a_test_message_is_marked_in_the_subject_and_both_parts():
    contact = ContactFactory(first_name="Ada")
    template = MessageTemplate(mailing(subject="Hi {{ first_name }}"), test=True)
    rendered = marked_as_test(template.render(contact, contact_id=None), note="Merged with <you>.")
    message = email.message_from_bytes(
        template.mime(rendered, to=contact.email), policy=policy.default
    )
    text, html = parts(message)
    assert message["Subject"] == "[Test] Hi Ada"
    assert text.startswith("[Test message. Merged with <you>.]\n\nHello")
    assert "<strong>Test message.</strong> Merged with &lt;you&gt;.</p>\n<div>Hello</div>" in html
