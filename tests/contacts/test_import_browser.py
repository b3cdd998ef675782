"""Importing a CSV in a real browser: upload a file from the contacts list, check the
columns Flock guessed and change two (a new custom field, a column skipped), start, and
watch the progress (the htmx partial polling every second) turn into the summary once a
real Celery worker has run the import: the counts, the rejected rows with their line and
reason, and their CSV to download. On a laptop and a phone, no control off screen. Run
with `-m browser`; see tests/browser.py for the fixtures and tests/mailing/worker.py for
the worker."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact, CustomField, ImportJob
from tests.browser import off_screen, sideways_scroll

from ..mailing.worker import Worker, broker_db, running_workers, wait_for, worker_env
from .factories import ContactFactory

pytestmark = pytest.mark.browser

HEADER = ["Email", "First name", "Company", "Tags", "Plan", "City"]
ROWS = 30
BAD_LINE, DUPLICATE_LINE, FIRST_LINE = 11, 21, 4  # line 1 is the header
KNOWN_LINE = 3  # lead3@example.com is a contact already
PLANS = ["Free", "Pro", "Team"]


@pytest.fixture
def broker(settings):
    """Tasks go through an empty Redis DB of their own, where the test's worker reads."""
    with broker_db(settings) as url:
        yield url


def people_csv() -> str:
    """30 rows: 27 new contacts, one known (line 3), an invalid email (line 11) and a
    repeat of line 4's email (line 21)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for line in range(2, ROWS + 2):
        email = f"lead{line}@example.com"
        if line == BAD_LINE:
            email = "not-an-email"
        elif line == DUPLICATE_LINE:
            email = f"LEAD{FIRST_LINE}@example.com"
        tags = "vip, newsletter" if line % 2 else "newsletter"
        writer.writerow([email, f"Name {line}", "Acme", tags, PLANS[line % 3], "Lyon"])
    return out.getvalue()


def mapping_controls(page: Page):
    """What can be used on the mapping page (the custom field's name and type are
    hidden in the rows not mapped to a custom field)."""
    return page.locator(
        "#mapping-form :is(input:not([type=hidden]), select, textarea, button):visible, "
        ".page-head button"
    )


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=str)
def test_a_marketer_imports_a_csv_and_watches_it_to_the_summary(
    logged_in_page: Page, broker, import_dir, tmp_path, width, height
):
    known = ContactFactory(email=f"lead{KNOWN_LINE}@example.com", first_name="Before", city="Paris")
    source = tmp_path / "fair-leads.csv"
    source.write_text(people_csv())
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/contacts/")
    page.get_by_role("link", name="Import CSV").click()
    expect(page.locator("h1")).to_have_text("Import contacts")
    upload_controls = "#import-upload :is(input:not([type=hidden]), select, button), .page-head a"
    assert off_screen(page.locator(upload_controls)) == []
    assert sideways_scroll(page) == 0

    page.set_input_files("#id_file", str(source))
    page.click("#upload")
    expect(page.locator("h1")).to_have_text("2. What is in each column?")
    expect(page.locator("#column-mapping")).to_contain_text("lead2@example.com")  # the preview
    guessed = ["email", "first_name", "company", "tags", "skip", "city"]
    for index, target in enumerate(guessed):
        expect(page.locator(f"#id_to-{index}")).to_have_value(target)
    expect(page.locator("#id_field-4")).to_be_hidden()  # a custom field's name: not yet
    page.select_option("#id_to-4", "custom")
    expect(page.locator("#id_field-4")).to_have_value("Plan")
    page.fill("#id_field-4", "plan")
    page.select_option("#id_type-4", "text")
    page.select_option("#id_to-5", "skip")  # the city stays out
    expect(page.locator("input[name=update_existing][value=yes]")).to_be_checked()
    page.fill("#id_tags", "Fair 2026")
    page.fill("#id_group", "Leads")
    assert off_screen(mapping_controls(page)) == []
    assert sideways_scroll(page) == 0

    page.click("#start-import")
    # No worker yet: the job waits in the queue, and the page asks again every second.
    expect(page.locator("#import-status")).to_contain_text("Queued · waiting for a worker")
    expect(page.locator("#import-progress")).to_have_attribute("hx-trigger", "every 1s")
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    job = ImportJob.objects.get()
    assert job.status == "queued"

    with running_workers() as workers:
        env = worker_env(smtp_port=1, FLOCK_IMPORT_DIR=str(import_dir))
        workers.append(Worker(env, "import-browser").start())

        def finished():
            job.refresh_from_db()
            return job.finished

        wait_for(finished, timeout=60, what="the import to finish", workers=workers)
    assert job.status == "done", job.error

    expect(page.locator("#import-status")).to_contain_text("Done · 30 rows")
    assert page.evaluate("window.sameDocument") is True  # the poll brought the summary
    expect(page.locator("#import-progress")).not_to_have_attribute("hx-trigger", "every 1s")
    for counter, count in [("created", 27), ("updated", 1), ("unchanged", 0), ("rejected", 2)]:
        expect(page.locator(f"#count-{counter}")).to_have_text(str(count))
    rows = page.locator("#rejections tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(str(BAD_LINE))
    expect(rows.nth(0)).to_contain_text("Email: 'not-an-email' is not a valid email address.")
    expect(rows.nth(1)).to_contain_text(str(DUPLICATE_LINE))
    expect(rows.nth(1)).to_contain_text(f"The same email is on line {FIRST_LINE}")
    summary = "#import-card :is(a, button), .page-head a, #rejections td"
    assert off_screen(page.locator(summary)) == []
    assert sideways_scroll(page) == 0

    with page.expect_download() as download_info:
        page.click("#download-rejected")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="") as f:
        rejected = list(csv.reader(f))
    assert rejected[0] == ["line", "email", "reason"]
    assert [row[:2] for row in rejected[1:]] == [
        [str(BAD_LINE), "not-an-email"],
        [str(DUPLICATE_LINE), f"LEAD{FIRST_LINE}@example.com"],
    ]

    assert Contact.objects.count() == 28  # 27 new, 1 updated
    assert not Contact.objects.filter(email__iexact="not-an-email").exists()
    lead = Contact.objects.get(email=f"lead{FIRST_LINE}@example.com")
    assert lead.first_name == f"Name {FIRST_LINE}"  # the first of the two rows won
    assert sorted(lead.tags.values_list("name", flat=True)) == ["Fair 2026", "newsletter"]
    assert list(lead.groups.values_list("name", flat=True)) == ["Leads"]
    assert lead.custom_fields == {"plan": PLANS[FIRST_LINE % 3]}
    assert lead.city == ""  # mapped to skip
    known.refresh_from_db()
    assert (known.first_name, known.city) == (f"Name {KNOWN_LINE}", "Paris")  # city skipped
    odd = Contact.objects.get(email="lead5@example.com")
    assert sorted(odd.tags.values_list("name", flat=True)) == ["Fair 2026", "newsletter", "vip"]
    assert Contact.objects.filter(tags__name="Fair 2026", groups__name="Leads").count() == 28
    plan = CustomField.objects.get(name="plan")
    assert plan.type == "text"
    assert Contact.objects.filter(custom_fields__plan="Team").count() == 9
