"""CSV imports through the API (issue 16.7): upload and start in one request, follow
the job to its summary, page its rejected rows, cancel it; every bad file, form or
mapping is a 4xx that says what to change, and leaves no job behind."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from contacts.imports.run import import_run
from contacts.models import Contact, CustomField, Group, ImportJob
from tests.api.conftest import errors_of, paths_of
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

CSV = (
    "E-mail,First name,Company,Plan,Notes\n"
    "ann@example.com,Ann,Acme,pro,call back\n"
    "nope,Bo,Globex,free,\n"
    "cy@example.com,Cy,Initech,team,\n"
)


def csv_file(data: bytes | str = CSV, name: str = "people.csv") -> SimpleUploadedFile:
    raw = data.encode() if isinstance(data, str) else data
    return SimpleUploadedFile(name, raw, content_type="text/csv")


def post_import(api, data: bytes | str = CSV, *, name: str = "people.csv", **fields):
    form = {"file": csv_file(data, name), **fields}
    if isinstance(form.get("mapping"), dict):
        form["mapping"] = json.dumps(form["mapping"])
    return api.post("/api/imports", form, format="multipart")


def run_job(response) -> ImportJob:
    """What the worker does with the job the API queued."""
    job_id = response.json()["id"]
    import_run(job_id=job_id)
    return ImportJob.objects.get(pk=job_id)


# -- the import, from the upload to the summary -------------------------------------------


def test_a_file_imported_through_the_api_ends_with_its_contacts(
    api, django_capture_on_commit_callbacks
):
    mapping = {"Plan": {"to": "custom", "field": "plan", "type": "text"}, "Notes": "skip"}
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_import(api, mapping=mapping, tags=["Fair 2026", "imported"], group="Leads")
    assert response.status_code == 202, response.json()
    assert len(callbacks) == 1  # the run is queued once the job is committed
    body = response.json()
    assert response["Location"] == f"http://testserver/api/imports/{body['id']}"
    assert body["status"] == "queued"
    assert body["columns"] == [
        {"header": "E-mail", "to": "email", "field": None},
        {"header": "First name", "to": "first_name", "field": None},
        {"header": "Company", "to": "company", "field": None},
        {"header": "Plan", "to": "custom", "field": "plan"},
        {"header": "Notes", "to": "skip", "field": None},
    ]
    assert body["tags"] == ["Fair 2026", "imported"] and body["group"] == "Leads"
    assert CustomField.objects.get(name="plan").type == "text"  # registered by the start

    run_job(response)

    summary = api.get(response["Location"])
    assert summary.status_code == 200
    done = summary.json()
    assert done["status"] == "done"
    assert (done["total"], done["rows"], done["created"], done["rejected"]) == (3, 3, 2, 1)
    assert (done["updated"], done["unchanged"]) == (0, 0)
    assert done["progress"] == 1.0 and done["rate"] > 0
    assert done["started_at"].endswith("Z") and done["finished_at"].endswith("Z")
    ann = Contact.objects.get(email="ann@example.com")
    assert (ann.first_name, ann.company, ann.custom_fields) == ("Ann", "Acme", {"plan": "pro"})
    assert sorted(ann.tags.values_list("name", flat=True)) == ["Fair 2026", "imported"]
    assert list(ann.groups.values_list("name", flat=True)) == ["Leads"]
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "ann@example.com",
        "cy@example.com",
    ]


def test_the_job_says_nothing_is_read_before_the_run_starts(api):
    body = post_import(api).json()
    assert body["total"] is None and body["rows"] == 0
    assert body["progress"] == 0.0 and body["rate"] is None
    assert body["started_at"] is None and body["finished_at"] is None
    assert body["error"] == "" and body["size"] == len(CSV)
    assert body["file_name"] == "people.csv" and body["update_existing"] is True


def test_columns_left_out_are_guessed_from_their_headers(api):
    body = post_import(api).json()
    assert [c["to"] for c in body["columns"]] == ["email", "first_name", "company", "skip", "skip"]


def test_a_guessed_column_gives_way_to_the_column_named_for_its_target(api):
    data = "Email,Work email\nold@example.com,ann@work.example\n"
    response = post_import(api, data, mapping={"work EMAIL": "email"})  # any case
    assert response.status_code == 202, response.json()
    assert [c["to"] for c in response.json()["columns"]] == ["skip", "email"]
    run_job(response)
    assert list(Contact.objects.values_list("email", flat=True)) == ["ann@work.example"]


def test_a_custom_target_in_the_command_line_spelling_registers_the_field(api):
    response = post_import(api, mapping={"Plan": "custom:plan:text", "Notes": "custom:notes"})
    assert response.status_code == 202, response.json()
    run_job(response)
    assert set(CustomField.objects.values_list("name", "type")) == {
        ("plan", "text"),
        ("notes", "text"),
    }
    assert Contact.objects.get(email="ann@example.com").custom_fields == {
        "plan": "pro",
        "notes": "call back",
    }


def test_tags_may_come_comma_separated(api):
    response = post_import(api, tags="vip, fair ,VIP")
    assert response.json()["tags"] == ["vip", "fair"]


def test_update_existing_false_leaves_known_contacts_as_they_are(api):
    ContactFactory(email="ann@example.com", first_name="Annie")
    response = post_import(api, update_existing="false")
    assert response.json()["update_existing"] is False
    job = run_job(response)
    assert Contact.objects.get(email="ann@example.com").first_name == "Annie"
    assert (job.created, job.updated, job.unchanged) == (1, 0, 1)


def test_a_known_contact_is_updated_by_default(api):
    ContactFactory(email="ann@example.com", first_name="Annie")
    job = run_job(post_import(api))
    assert Contact.objects.get(email="ann@example.com").first_name == "Ann"
    assert job.updated == 1


def test_a_gzipped_csv_is_imported(api):
    response = post_import(api, gzip.compress(CSV.encode()), name="people.csv.gz")
    assert response.status_code == 202, response.json()
    run_job(response)
    assert Contact.objects.count() == 2


def test_the_encoding_and_delimiter_can_be_given(api):
    data = "Email;Company\nann@example.com;Café\n".encode("cp1252")
    response = post_import(api, data, encoding="cp1252", delimiter=";")
    assert response.status_code == 202, response.json()
    run_job(response)
    assert Contact.objects.get().company == "Café"


def test_an_encoding_the_file_is_not_in_is_a_400(api, import_dir):
    response = post_import(api, encoding="utf-16")  # a UTF-8 file: no byte-order mark
    assert response.status_code == 400
    assert errors_of(response) == [
        {
            "path": "file",
            "message": "The file is not UTF-16: choose another encoding (Windows-1252 for "
            "files from older Excel versions).",
        }
    ]
    assert nothing_left_behind(import_dir)


def test_a_tab_delimiter_can_be_named(api):
    response = post_import(api, "Email\tCompany\nann@example.com\tAcme\n", delimiter="tab")
    assert response.status_code == 202, response.json()
    assert [c["to"] for c in response.json()["columns"]] == ["email", "company"]


def test_the_rejected_rows_are_paged_in_file_order(api):
    data = "Email\n" + "".join(f"bad-{n}\n" for n in range(3)) + "ann@example.com\n"
    job = run_job(post_import(api, data))
    url = f"/api/imports/{job.pk}/rejections"
    first = api.get(url, {"per_page": 2})
    assert first.status_code == 200
    assert first["X-Total-Count"] == "3"
    assert [r["line"] for r in first.json()] == [2, 3]
    assert first.json()[0]["email"] == "bad-0"
    assert "not a valid email address" in first.json()[0]["reason"]
    assert list(first.json()[0]) == ["line", "email", "reason"]
    assert 'rel="next"' in first["Link"]
    second = api.get(url, {"per_page": 2, "page": 2})
    assert [r["line"] for r in second.json()] == [4]


def test_the_imports_are_listed_newest_first(api):
    older = post_import(api).json()["id"]
    newer = post_import(api).json()["id"]
    response = api.get("/api/imports")
    assert response.status_code == 200
    assert [job["id"] for job in response.json()] == [newer, older]
    assert response["X-Total-Count"] == "2"


def test_an_import_that_does_not_exist_is_a_json_404(api):
    response = api.get("/api/imports/999999")
    assert response.status_code == 404
    assert errors_of(response)[0]["message"] == "There is no import with id 999999."
    assert api.get("/api/imports/999999/rejections").status_code == 404


# -- cancel --------------------------------------------------------------------------------


def test_cancelling_a_queued_import_imports_nothing(api):
    response = post_import(api)
    job_id = response.json()["id"]
    cancelled = api.post(f"/api/imports/{job_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"] is not None
    import_run(job_id=job_id)
    assert not Contact.objects.exists()
    again = api.post(f"/api/imports/{job_id}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_a_finished_import_cannot_be_cancelled(api):
    job = run_job(post_import(api))
    response = api.post(f"/api/imports/{job.pk}/cancel")
    assert response.status_code == 409
    assert "finished (done)" in errors_of(response)[0]["message"]


# -- bad files -----------------------------------------------------------------------------


def nothing_left_behind(import_dir) -> bool:
    files = list(import_dir.iterdir()) if import_dir.exists() else []
    return not ImportJob.objects.exists() and not files


def test_a_request_without_a_file_is_a_400(api, import_dir):
    response = api.post("/api/imports", {"group": "Leads"}, format="multipart")
    assert response.status_code == 400
    assert errors_of(response) == [{"path": "file", "message": "No file was submitted."}]
    assert nothing_left_behind(import_dir) and not Group.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"   \n\n", "The file is empty"),
        (b"Email\n", "a header row but no contacts"),
        (b"\x00\x01\x02" * 300, "This is not a CSV file"),
        (b"ann@example.com\nbo@example.com\n", "holds an email address"),
    ],
    ids=["empty", "blank", "header only", "binary", "no header"],
)
def test_a_file_that_cannot_be_read_is_a_400_saying_why(api, import_dir, data, message):
    response = post_import(api, data)
    assert response.status_code == 400
    (problem,) = errors_of(response)
    assert problem["path"] == "file" and message in problem["message"]
    assert nothing_left_behind(import_dir)


def test_a_file_over_the_limit_is_a_413(api, settings, import_dir):
    settings.IMPORT_MAX_BYTES = 1024
    response = post_import(api, "Email\n" + "someone@example.com\n" * 100)
    assert response.status_code == 413
    assert paths_of(response) == ["file"]
    assert "larger than" in errors_of(response)[0]["message"]
    assert nothing_left_behind(import_dir)


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(api, settings):
    settings.IMPORT_MAX_BYTES = 1024
    body = encode_multipart(BOUNDARY, {"file": csv_file("Email\n" + "a@example.com\n" * 10_000)})
    response = api.generic("POST", "/api/imports", body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 413


def test_a_json_body_is_a_415(api):
    response = api.post("/api/imports", {"file": "Email\nann@example.com\n"}, format="json")
    assert response.status_code == 415
    assert errors_of(response)


def test_a_malformed_multipart_body_is_a_400(api):
    response = api.generic(
        "POST", "/api/imports", b"garbage", content_type="multipart/form-data; boundary="
    )
    assert response.status_code == 400
    assert errors_of(response)


def test_an_unauthenticated_upload_is_a_401(anonymous, import_dir):
    response = post_import(anonymous)
    assert response.status_code == 401
    assert errors_of(response)[0]["message"] == "Authentication credentials were not provided."
    assert nothing_left_behind(import_dir)


def test_reading_an_import_needs_the_token_too(api, anonymous):
    job_id = post_import(api).json()["id"]
    for path in ("", "/rejections"):
        assert anonymous.get(f"/api/imports/{job_id}{path}").status_code == 401
    assert anonymous.post(f"/api/imports/{job_id}/cancel").status_code == 401


# -- chunked uploads (no Content-Length) -----------------------------------------------------


def chunked_environ(body: bytes) -> dict:
    """As gunicorn passes a chunked body on: decoded, without Content-Length."""
    return {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input_terminated": True,
        "wsgi.input": io.BytesIO(body),
    }


def test_a_chunked_upload_is_read(api):
    body = encode_multipart(BOUNDARY, {"file": csv_file()})
    response = api.generic(
        "POST", "/api/imports", body, content_type=MULTIPART_CONTENT, **chunked_environ(body)
    )
    assert response.status_code == 202, response.json()
    assert response.json()["size"] == len(CSV)


def test_a_chunked_upload_over_the_limit_is_a_413(api, settings, import_dir):
    settings.IMPORT_MAX_BYTES = 1024
    body = encode_multipart(BOUNDARY, {"file": csv_file("Email\n" + "a@example.com\n" * 10_000)})
    response = api.generic(
        "POST", "/api/imports", body, content_type=MULTIPART_CONTENT, **chunked_environ(body)
    )
    assert response.status_code == 413
    assert nothing_left_behind(import_dir)


# -- bad forms and mappings ------------------------------------------------------------------


def test_an_unknown_form_field_is_a_400_naming_it(api, import_dir):
    response = post_import(api, updateExisting="false")
    assert response.status_code == 400
    assert errors_of(response) == [
        {
            "path": "updateExisting",
            "message": "Unknown field 'updateExisting'; did you mean 'update_existing'?",
        }
    ]
    assert nothing_left_behind(import_dir)


def test_two_files_are_a_400(api, import_dir):
    form = {"file": [csv_file(), csv_file()]}
    response = api.post("/api/imports", form, format="multipart")
    assert response.status_code == 400
    assert errors_of(response) == [{"path": "file", "message": "Send file once."}]
    assert nothing_left_behind(import_dir)


def test_djangos_limits_on_a_form_are_json_errors(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    response = api.post("/api/imports", {"file": [csv_file(), csv_file()]}, format="multipart")
    assert response.status_code == 400
    assert errors_of(response) == [{"path": "", "message": "Send at most 1 files."}]
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    response = post_import(api, tags=["a", "b", "c"])
    assert response.status_code == 400
    assert errors_of(response) == [{"path": "", "message": "Send at most 2 form fields."}]


def test_a_field_sent_twice_is_a_400(api):
    form = {"file": csv_file(), "mapping": ['{"Plan": "skip"}', '{"Plan": "tags"}']}
    response = api.post("/api/imports", form, format="multipart")
    assert response.status_code == 400
    assert errors_of(response) == [{"path": "mapping", "message": "Send mapping once."}]


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        ({"update_existing": "perhaps"}, "update_existing", "Must be a valid boolean."),
        ({"encoding": "latin-9"}, "encoding", '"latin-9" is not a valid choice.'),
        ({"delimiter": "::"}, "delimiter", '"::" is not a valid choice.'),
        ({"tags": "x" * 101}, "tags", "under 101 characters"),
        ({"group": "a\x00b"}, "group", "Null characters are not allowed."),
        ({"tags": "ok,a\x00b"}, "tags", "Text cannot contain the NUL character"),
        ({"mapping": "{Email: email}"}, "mapping", "must be a JSON object"),
        ({"mapping": "[1, 2]"}, "mapping", "must be a JSON object"),
        ({"mapping": '{"Email": 5}'}, "mapping.Email", "Give a target"),
    ],
    ids=["boolean", "encoding", "delimiter", "long tag", "NUL group", "NUL tag", "not JSON",
         "array", "number"],
)  # fmt: skip
def test_a_bad_form_field_is_a_400_at_its_path(api, import_dir, fields, path, message):
    response = post_import(api, **fields)
    assert response.status_code == 400
    (problem,) = errors_of(response)
    assert problem["path"] == path and message in problem["message"], problem
    assert nothing_left_behind(import_dir)


def test_a_target_that_does_not_exist_is_a_400_with_a_suggestion(api, import_dir):
    response = post_import(api, mapping={"First name": "frist_name"})
    assert response.status_code == 400
    (problem,) = errors_of(response)
    assert problem["path"] == "mapping.First name"
    assert "'frist_name' is not something a column can hold" in problem["message"]
    assert "Did you mean 'first_name'?" in problem["message"]
    assert nothing_left_behind(import_dir)


def test_an_unknown_key_in_a_column_entry_is_a_400_naming_it(api):
    response = post_import(api, mapping={"Plan": {"to": "custom", "feild": "plan"}})
    assert response.status_code == 400
    assert errors_of(response) == [
        {"path": "mapping.Plan.feild", "message": "Unknown field 'feild'; did you mean 'field'?"}
    ]


@pytest.mark.parametrize(
    ("entry", "path", "message"),
    [
        ({"field": "plan"}, "mapping.Plan.to", "Say what the column holds"),
        ({"to": "company", "field": "plan"}, "mapping.Plan.field", 'goes only with "to": "custom"'),
        ({"to": "custom", "type": "choice"}, "mapping.Plan.type", "The type is one of"),
        ("custom:plan:colour", "mapping.Plan", "custom:NAME:TYPE"),
    ],
    ids=["no to", "field without custom", "bad type", "bad custom spelling"],
)
def test_a_bad_column_entry_is_a_400_at_its_path(api, entry, path, message):
    response = post_import(api, mapping={"Plan": entry})
    assert response.status_code == 400
    (problem,) = errors_of(response)
    assert problem["path"] == path and message in problem["message"], problem


def test_a_header_not_in_the_file_is_a_400_and_the_job_is_deleted(api, import_dir):
    response = post_import(api, mapping={"Emial": "email"}, group="Leads")
    assert response.status_code == 400
    (problem,) = errors_of(response)
    assert problem["path"] == "mapping.Emial"
    assert problem["message"].startswith("The file has no column “Emial”; its columns: “E-mail”")
    assert nothing_left_behind(import_dir)  # uploaded, then deleted with its file
    assert not Group.objects.exists()


def test_a_mapping_without_an_email_column_is_a_400_and_leaves_no_job(api, import_dir):
    response = post_import(api, mapping={"E-mail": "skip"}, group="Leads")
    assert response.status_code == 400
    assert errors_of(response) == [
        {
            "path": "mapping",
            "message": "Map one column to Email: contacts are matched by their email address.",
        }
    ]
    assert nothing_left_behind(import_dir)
    assert not Group.objects.exists()  # the group is created only for an import that starts


def test_a_file_without_an_email_header_needs_a_mapping(api, import_dir):
    response = post_import(api, "Who,Where\nann@example.com,Boston\n")
    assert response.status_code == 400
    assert "Map one column to Email" in errors_of(response)[0]["message"]
    assert nothing_left_behind(import_dir)
    mapped = post_import(api, "Who,Where\nann@example.com,Boston\n", mapping={"Who": "email"})
    assert mapped.status_code == 202
    assert ImportJob.objects.get().status == "queued"


def test_two_columns_for_one_field_is_a_400(api):
    response = post_import(api, mapping={"Company": "first_name", "First name": "first_name"})
    assert response.status_code == 400
    (problem,) = errors_of(response)
    assert problem["path"] == "mapping"
    assert "both mapped to First name" in problem["message"]


def test_a_custom_field_of_another_type_than_registered_keeps_its_type(api):
    CustomField.objects.create(name="plan", type="text")
    response = post_import(
        api, mapping={"Plan": {"to": "custom", "field": "plan", "type": "number"}}
    )
    assert response.status_code == 202, response.json()
    run_job(response)
    assert Contact.objects.get(email="ann@example.com").custom_fields == {"plan": "pro"}
