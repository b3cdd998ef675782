"""The import pages: upload, mapping (full page), progress (full and htmx), summary
with the rejected rows and their CSV, cancel; bad files are messages, not 500s."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.imports.run import import_run
from contacts.models import Contact, ImportJob

pytestmark = pytest.mark.django_db

CSV = b"Email,First name,Company\nann@example.com,Ann,Acme\nnope,Bo,=cmd|x\n"


def post_file(client, data: bytes, name: str = "people.csv", **extra):
    upload = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(reverse("contacts:import-new"), {"file": upload, **extra})


def mapping_post(job: ImportJob, **changes) -> dict:
    data = {"encoding": job.encoding, "delimiter": job.delimiter, "update_existing": "yes",
            "tags": "", "group": ""}  # fmt: skip
    for index, entry in enumerate(job.mapping):
        data[f"to-{index}"] = entry["to"]
        data[f"field-{index}"] = entry.get("field", "")
        data[f"type-{index}"] = "text"
    data.update(changes)
    return data


def test_the_upload_page_needs_a_login(stranger_client):
    response = stranger_client.get(reverse("contacts:import-new"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_upload_leads_to_the_mapping_with_the_preview_and_guessed_columns(marketer_client):
    response = post_file(marketer_client, CSV)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:import", args=[job.pk])
    page = marketer_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "What is in each column?" in html
    assert "ann@example.com" in html  # the preview
    assert job.mapping == [{"to": "email"}, {"to": "first_name"}, {"to": "company"}]
    assert '<option value="email" selected>' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"Email\n", "a header row but no contacts"),
        (b"\x00\x01\x02" * 300, "This is not a CSV file"),
    ],
    ids=["empty", "header only", "binary"],
)
def test_a_bad_file_is_refused_on_the_upload_page_with_what_to_do(marketer_client, data, message):
    response = post_file(marketer_client, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(marketer_client, settings):
    settings.IMPORT_MAX_BYTES = 1024
    response = post_file(marketer_client, b"Email\n" + b"someone@example.com\n" * 5000)
    assert response.status_code == 400
    assert "larger than" in response.content.decode()


def test_a_mapping_without_email_is_shown_again_with_the_error(marketer_client):
    post_file(marketer_client, CSV)
    job = ImportJob.objects.get()
    url = reverse("contacts:import", args=[job.pk])
    response = marketer_client.post(url, mapping_post(job, **{"to-0": "skip"}))
    assert response.status_code == 400
    assert "Map one column to Email" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "mapping"


def test_choosing_another_delimiter_reads_the_file_again(marketer_client):
    post_file(marketer_client, b"Email;Name\nann@example.com;Ann\n")
    job = ImportJob.objects.get()
    assert job.header == ["Email", "Name"]
    url = reverse("contacts:import", args=[job.pk])
    response = marketer_client.post(url, mapping_post(job, delimiter=","))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.header == ["Email;Name"] and job.status == "mapping"


def test_starting_queues_the_run_and_the_page_follows_it_to_the_summary(
    marketer_client, django_capture_on_commit_callbacks
):
    post_file(marketer_client, CSV)
    job = ImportJob.objects.get()
    url = reverse("contacts:import", args=[job.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = marketer_client.post(url, mapping_post(job, tags="Fair 2026", group="Leads"))
    assert response.status_code == 302 and len(callbacks) == 1
    queued = marketer_client.get(url, headers={"HX-Request": "true"})
    assert "waiting for a worker" in queued.content.decode()
    assert "<html" not in queued.content.decode()  # the progress partial only
    import_run(job_id=job.pk)  # what the worker does
    page = marketer_client.get(url).content.decode()
    assert 'id="count-created">1<' in page and 'id="count-rejected">1<' in page
    assert "Line" in page and "is not a valid email address" in page
    ann = Contact.objects.get()
    assert list(ann.tags.values_list("name", flat=True)) == ["Fair 2026"]
    assert list(ann.groups.values_list("name", flat=True)) == ["Leads"]
    download = marketer_client.get(reverse("contacts:import-rejections", args=[job.pk]))
    body = b"".join(download.streaming_content).decode()
    assert download["Content-Type"].startswith("text/csv")
    assert body.splitlines()[0] == "line,email,reason"
    assert body.splitlines()[1].startswith("3,nope,")


def test_the_rejected_rows_csv_defuses_a_formula_in_a_rejected_email(marketer_client):
    post_file(marketer_client, b"Email\n=HYPERLINK(1)\nann@example.com\n")
    job = ImportJob.objects.get()
    marketer_client.post(reverse("contacts:import", args=[job.pk]), mapping_post(job))
    import_run(job_id=job.pk)
    download = marketer_client.get(reverse("contacts:import-rejections", args=[job.pk]))
    body = b"".join(download.streaming_content).decode()
    assert body.splitlines()[1].startswith("2,'=HYPERLINK(1),")


def test_cancel_before_the_run_imports_nothing(marketer_client):
    post_file(marketer_client, CSV)
    job = ImportJob.objects.get()
    response = marketer_client.post(reverse("contacts:import-cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"
    import_run(job_id=job.pk)
    assert not Contact.objects.exists()


def test_the_contacts_list_links_to_the_import(marketer_client):
    html = marketer_client.get(reverse("contacts:list")).content.decode()
    assert reverse("contacts:import-new") in html
