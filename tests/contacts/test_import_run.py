"""contacts/imports/run.py: an import from its mapping to its summary — created,
updated, unchanged and rejected rows, idempotent by email, resumed after a stop,
cancelled, and every bad row reported with its line (issue 16.5)."""

from __future__ import annotations

import pytest
from django.db import connection

from contacts.imports import run as importing
from contacts.imports.reading import Unreadable
from contacts.imports.run import MappingInvalid, import_cancel, import_run, import_start
from contacts.models import Contact, CustomField, Group, ImportEmail, ImportJob

from .factories import ContactFactory, GroupFactory
from .importing import rejections, run, upload

pytestmark = pytest.mark.django_db

CSV = (
    "E-mail,First name,Company,Tags,Plan,Seats\n"
    'ann@example.com,Ann,Acme,"vip, news",pro,12\n'
    "bo@example.com,Bo,Initech,news,free,3\n"
)


def register(name: str, type_: str, options=()) -> None:
    CustomField.objects.create(name=name, type=type_, options=list(options))


def test_a_file_creates_its_contacts_with_fields_tags_and_typed_custom_fields():
    register("plan", "choice", ["Free", "Pro"])
    register("seats", "number")
    job = run(CSV)
    assert (job.status, job.total, job.rows, job.created, job.rejected) == ("done", 2, 2, 2, 0)
    ann = Contact.objects.get(email="ann@example.com")
    assert (ann.first_name, ann.company) == ("Ann", "Acme")
    assert sorted(ann.tags.values_list("name", flat=True)) == ["news", "vip"]
    # the headers "Plan" and "Seats" found the registered fields; values in their type
    assert ann.custom_fields == {"plan": "Pro", "seats": 12}


def test_the_same_file_twice_creates_nothing_the_second_time():
    first = run(CSV)
    second = run(CSV)
    assert (first.created, second.created, second.updated, second.unchanged) == (2, 0, 0, 2)
    assert Contact.objects.count() == 2


def test_existing_contacts_are_updated_only_in_the_columns_the_file_fills():
    ContactFactory(email="Ann@Example.com", first_name="Old", city="Oslo")
    job = run("Email,First name,City\nann@example.com,Ann,\n")
    ann = Contact.objects.get()
    assert (job.updated, ann.first_name, ann.city) == (1, "Ann", "Oslo")  # a blank cell keeps


def test_only_add_new_leaves_existing_contacts_as_they_are():
    ContactFactory(email="ann@example.com", first_name="Old")
    job = run(CSV, update_existing=False)
    assert (job.created, job.unchanged, job.updated) == (1, 1, 0)
    ann = Contact.objects.get(email="ann@example.com")
    assert ann.first_name == "Old" and not ann.tags.exists()


def test_tags_and_a_group_for_every_row_are_added():
    board = GroupFactory(name="Board")
    run(CSV, tags=["Imported 2026"], group=board)
    bo = Contact.objects.get(email="bo@example.com")
    assert sorted(bo.tags.values_list("name", flat=True)) == ["Imported 2026", "news"]
    assert list(bo.groups.values_list("name", flat=True)) == ["Board"]


def test_duplicate_emails_keep_the_first_row_and_report_the_others_even_across_batches(
    settings,
):
    settings.IMPORT_BATCH = 2
    data = (
        "Email,First name\n"
        "ann@example.com,First\n"  # line 2
        "bo@example.com,Bo\n"
        "ANN@example.com,Second\n"  # line 4: another batch
        "ann@example.com,Third\n"  # line 5: same batch as another Ann? no: batch 2 and 3
    )
    job = run(data)
    assert Contact.objects.get(email="ann@example.com").first_name == "First"
    assert (job.created, job.rejected) == (2, 2)
    assert rejections(job) == [
        (4, "The same email is on line 2, which was imported; each contact once."),
        (5, "The same email is on line 2, which was imported; each contact once."),
    ]
    assert not ImportEmail.objects.exists()  # the claims go when the import is done


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("not-an-email,Ann,3", "Email: 'not-an-email' is not a valid email address."),
        (",Ann,3", "There is no email address in this row."),
        ("ann@example.com,Ann,many", "Seats: Custom field 'seats' is a number: enter one"),
        ("ann@example.com,Ann", "This row has 2 values but the header has 3 columns"),
        ("ann@example.com,Ann,3,extra", "This row has 4 values but the header has 3 columns"),
    ],
    ids=["invalid email", "no email", "wrong type", "fewer columns", "more columns"],
)
def test_a_bad_row_is_rejected_with_its_line_and_the_others_are_imported(row, reason):
    register("seats", "number")
    job = run(f"Email,First name,Seats\nbo@example.com,Bo,1\n{row}\ncy@example.com,Cy,2\n")
    assert (job.status, job.created, job.rejected) == ("done", 2, 1)
    ((line, why),) = rejections(job)
    assert line == 3 and why.startswith(reason)


def test_a_formula_looking_cell_is_imported_as_text_not_run():
    job = run('Email,Company\nann@example.com,"=HYPERLINK(""http://x"",""y"")"\n')
    assert job.created == 1
    assert Contact.objects.get().company == '=HYPERLINK("http://x","y")'


def test_a_mapping_without_an_email_column_or_with_a_field_twice_is_refused():
    job = upload("Name,Mail,Other\nAnn,ann@example.com,x\n")
    with pytest.raises(MappingInvalid) as no_email:
        import_start(job=job, mapping=[{"to": "first_name"}, {"to": "skip"}, {"to": "skip"}],
                     update_existing=True, tags=[], group=None, queue=False)  # fmt: skip
    assert no_email.value.errors == [
        "Map one column to Email: contacts are matched by their email address."
    ]
    twice = [{"to": "first_name"}, {"to": "email"}, {"to": "first_name"}]
    with pytest.raises(MappingInvalid, match="“Name” and “Other” are both mapped to First name"):
        import_start(job=job, mapping=twice, update_existing=True, tags=[], group=None)


def test_a_new_custom_field_is_registered_with_its_type_and_checked():
    job = upload("Email,Renewal\nann@example.com,2026-03-01\nbo@example.com,soon\n")
    mapping = [{"to": "email"}, {"to": "custom", "field": "renewal", "type": "date"}]
    job = run(job, mapping=mapping)
    assert CustomField.objects.get(name="renewal").type == "date"
    assert Contact.objects.get(email="ann@example.com").custom_fields == {"renewal": "2026-03-01"}
    assert rejections(job) == [
        (3, "Renewal: Custom field 'renewal' is a date: send it as YYYY-MM-DD, e.g. 2026-03-01.")
    ]


def test_a_run_stopped_after_a_batch_goes_on_from_there_without_doubles(settings, monkeypatch):
    settings.IMPORT_BATCH = 2
    data = "Email\n" + "".join(f"u{i}@example.com\n" for i in range(5)) + "u0@example.com\n"
    job = upload(data)
    import_start(job=job, mapping=job.mapping, update_existing=True, tags=[], group=None,
                 queue=False)  # fmt: skip

    def killed(job):
        raise SystemExit("worker killed")  # after the first batch was committed

    with pytest.raises(SystemExit):
        import_run(job_id=job.pk, progress=killed)
    job.refresh_from_db()
    assert (job.status, job.line, job.created) == ("running", 3, 2)
    import_run(job_id=job.pk)  # the retry
    job.refresh_from_db()
    assert (job.status, job.rows, job.created, job.rejected) == ("done", 6, 5, 1)
    assert Contact.objects.count() == 5
    assert rejections(job)[0][0] == 7  # the last row repeats line 2's email


def test_a_cancelled_import_stops_after_the_batch_it_is_in(settings):
    settings.IMPORT_BATCH = 2
    job = upload("Email\n" + "".join(f"u{i}@example.com\n" for i in range(6)))
    import_start(job=job, mapping=job.mapping, update_existing=True, tags=[], group=None,
                 queue=False)  # fmt: skip

    def cancel_after_first(job):
        import_cancel(job=job)

    import_run(job_id=job.pk, progress=cancel_after_first)
    job.refresh_from_db()
    assert (job.status, job.created) == ("cancelled", 2)
    assert Contact.objects.count() == 2


def test_a_job_cancelled_before_it_ran_imports_nothing():
    job = upload(CSV)
    import_start(job=job, mapping=job.mapping, update_existing=True, tags=[], group=None,
                 queue=False)  # fmt: skip
    import_cancel(job=job)
    import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled" and not Contact.objects.exists()


def test_a_file_that_breaks_midway_fails_with_its_line_before_any_row_is_written(settings):
    settings.IMPORT_BATCH = 1000
    # The first 64 KB are UTF-8, so UTF-8 is what was detected.
    good = b"".join(b"u%d@example.com\n" % i for i in range(5000))
    job = run(b"Email\n" + good + b"Jos\xe9@x.com\n")
    assert job.encoding == "utf-8" and job.status == "failed"
    assert job.error.startswith("Line 5002 is not UTF-8: choose the file's encoding")
    assert Contact.objects.count() == 0  # found while counting the rows, before the writes


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(settings, import_dir):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(Unreadable, match="larger than 0 MB"):
        upload("Email\n" + "a@example.com\n" * 20)
    assert not ImportJob.objects.exists() and not any(import_dir.iterdir())


def test_a_header_only_file_is_refused():
    with pytest.raises(Unreadable, match="a header row but no contacts"):
        upload("Email,First name\n")


@pytest.mark.django_db(transaction=True)
def test_a_first_large_import_into_an_empty_list_builds_the_indexes_after(settings):
    settings.IMPORT_BULK_MIN_ROWS = 3
    used = []
    real = importing._run_in_bulk
    importing._run_in_bulk = lambda job, progress: (used.append(job.pk), real(job, progress))
    try:
        job = run(CSV + "cy@example.com,Cy,X,,team,1\n")
    finally:
        importing._run_in_bulk = real
    assert used == [job.pk]
    assert (job.status, job.created, job.rows) == ("done", 3, 3)
    # every index is back, and serves the search
    assert Contact.objects.filter(email__icontains="bo@").count() == 1
    again = run(CSV)  # no longer empty: batches, with the indexes kept
    assert (again.unchanged, Contact.objects.count()) == (2, 3)


MIXED = (
    "Email,First name,Tags,Plan,Seats,Score\n"
    'ann@example.com,Ann,"vip, news",pro,12,50\n'
    "bo@example.com,Bo,news,free,3,\n"
    "ANN@example.com,Again,,,,\n"  # a repeat inside the first batch
    "not an email,X,,,,\n"
    "cy@example.com,Cy,,team,seven,\n"  # a number of the wrong type
    "Bo@Example.com,Bo again,,,,\n"  # a repeat of another batch
    "di@example.com,Di,VIP,,,99\n"
)


def _outcome(job: ImportJob):
    contacts = []
    for c in Contact.objects.order_by("id"):
        tags = sorted(c.tags.values_list("name", flat=True))
        groups = list(c.groups.values_list("name", flat=True))
        links_agree = sorted(c.tag_ids) == sorted(c.tags.values_list("pk", flat=True))
        contacts.append((c.email, c.first_name, c.lead_score, c.custom_fields, tags, groups,
                         links_agree))  # fmt: skip
    summary = (job.status, job.rows, job.created, job.updated, job.unchanged, job.rejected)
    return contacts, summary, rejections(job)


@pytest.mark.django_db(transaction=True)
def test_a_bulk_import_ends_as_the_same_import_in_batches_would(settings):
    register("seats", "number")
    settings.IMPORT_BATCH = 3
    settings.IMPORT_BULK_MIN_ROWS = 3
    used = []
    real = importing._run_in_bulk
    importing._run_in_bulk = lambda job, progress: used.append(job.pk) or real(job, progress)
    try:
        bulk = _outcome(run(MIXED, tags=["fair"], group=GroupFactory(name="Leads")))
        Contact.objects.all().delete()
        settings.IMPORT_BULK_MIN_ROWS = 1000
        batches = _outcome(run(MIXED, tags=["fair"], group=Group.objects.get(name="Leads")))
    finally:
        importing._run_in_bulk = real
    assert len(used) == 1  # the first run only
    assert bulk == batches
    contacts, summary, rejected = bulk
    assert summary == ("done", 7, 3, 0, 0, 4)
    assert [c[0] for c in contacts] == ["ann@example.com", "bo@example.com", "di@example.com"]
    # Plan is no registered field: its column is guessed as skipped
    assert contacts[0][2:6] == (50, {"seats": 12}, ["fair", "news", "vip"], ["Leads"])
    assert all(c[6] for c in contacts)  # tag_ids agrees with the links
    assert [line for line, _ in rejected] == [4, 5, 6, 7]
    assert "line 2" in rejected[0][1] and "line 3" in rejected[3][1]


TRICKY = (
    "Email,First name,Company,City,Tags,Note\n"
    'ann@example.com,"Ann\tMarie","Line one\nLine two","C:\\Temp\\x",'
    '"Zürich, \\N",\\N\n'
    'bo@example.com,Bø,"Quote ""this""",Åre,,"tab\there"\n'
    "cy@example.com,Cy,,,,\n"
)


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_keeps_tabs_newlines_backslashes_and_accents_as_batches_do(settings):
    # The bulk load writes COPY text itself: a value that looks like COPY's escapes
    # or its NULL (\N) must arrive as it was typed.
    register("note", "text")
    settings.IMPORT_BATCH = 1  # each row checked by one of the two processes in turn
    settings.IMPORT_BULK_MIN_ROWS = 3
    used = []
    real = importing._run_in_bulk
    importing._run_in_bulk = lambda job, progress: used.append(job.pk) or real(job, progress)
    try:
        bulk = _outcome(run(TRICKY))
        Contact.objects.all().delete()
        settings.IMPORT_BULK_MIN_ROWS = 1000
        batches = _outcome(run(TRICKY))
    finally:
        importing._run_in_bulk = real
    assert len(used) == 1 and bulk == batches
    ann = Contact.objects.get(email="ann@example.com")
    assert (ann.first_name, ann.company, ann.city) == (
        "Ann\tMarie",
        "Line one\nLine two",
        "C:\\Temp\\x",
    )
    assert set(ann.tags.values_list("name", flat=True)) == {"\\N", "Zürich"}
    assert ann.custom_fields == {"note": "\\N"}
    bo = Contact.objects.get(email="bo@example.com")
    assert (bo.first_name, bo.company, bo.city) == ("Bø", 'Quote "this"', "Åre")
    assert bo.custom_fields == {"note": "tab\there"}


@pytest.mark.django_db(transaction=True)
def test_a_contact_written_before_the_bulk_load_locks_the_table_sends_it_to_batches(settings):
    settings.IMPORT_BULK_MIN_ROWS = 2
    ContactFactory(email="ann@example.com", first_name="Old")  # as if written meanwhile
    answers = iter([True])  # the check before the lock saw an empty table
    real = importing._no_contacts
    importing._no_contacts = lambda: next(answers, None) or real()
    try:
        job = run(CSV)
    finally:
        importing._no_contacts = real
    assert (job.status, job.created, job.updated) == ("done", 1, 1)
    assert Contact.objects.get(email="ann@example.com").first_name == "Ann"


class _Killed(BaseException):
    pass


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'contacts_contact'")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_stopped_while_building_its_indexes_gets_them_when_resumed(settings):
    settings.IMPORT_BULK_MIN_ROWS = 2
    everything = _index_names()
    calls = []
    real = importing.build_missing_indexes

    def killed_after_the_commit(**options):
        calls.append(1)
        if len(calls) == 2:  # the first call is the run's check before it starts
            raise _Killed
        return real(**options)

    importing.build_missing_indexes = killed_after_the_commit
    job = upload(CSV)
    try:
        with pytest.raises(_Killed):
            run(job)
    finally:
        importing.build_missing_indexes = real
    job.refresh_from_db()
    assert (job.status, job.created, Contact.objects.count()) == ("running", 2, 2)
    assert "contact_email_trgm" not in _index_names()  # committed without them
    import_run(job_id=job.pk)  # what imports_resume queues
    job.refresh_from_db()
    assert (job.status, job.created, job.rows, Contact.objects.count()) == ("done", 2, 2, 2)
    assert _index_names() == everything


@pytest.mark.django_db(transaction=True)  # a bulk load reports on a connection of its own
@pytest.mark.parametrize("bulk", [False, True])
def test_a_debug_worker_does_not_keep_every_batchs_statements(settings, bulk):
    # DEBUG logs each statement in memory; over a million rows that was the worker's
    # memory growing with the file. The log is cleared after each batch.
    settings.DEBUG, settings.IMPORT_BATCH = True, 2
    settings.IMPORT_BULK_MIN_ROWS = 2 if bulk else 1000
    data = "Email\n" + "".join(f"u{n}@example.com\n" for n in range(100))
    job = upload(data)
    import_start(job=job, mapping=job.mapping, update_existing=True, tags=[], group=None,
                 queue=False)  # fmt: skip
    import_run(job_id=job.pk)
    assert Contact.objects.count() == 100
    # what the last batch and the end of the run wrote; 50 batches of several otherwise
    assert len(connection.queries) < 50


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_leaves_the_custom_field_indexes_to_the_beat(settings):
    from contacts.db import custom_field_index_name
    from contacts.tasks import contact_indexes_task

    register("seats", "number")
    index = custom_field_index_name("seats")
    contact_indexes_task()  # the beat built it when the field was registered
    assert index in _index_names()
    settings.IMPORT_BULK_MIN_ROWS = 2
    job = run(CSV)
    assert (job.status, job.created) == ("done", 2)
    # set aside for the load, not rebuilt by it (the search indexes are) ...
    assert index not in _index_names() and "contact_email_trgm" in _index_names()
    contact_indexes_task()  # ... but by the beat's next minute, concurrently
    assert index in _index_names()
    assert Contact.objects.filter(custom_fields__seats__gte=10).count() == 1
