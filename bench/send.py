"""Sending at 100k: Send → Celery workers → Postfix's smtp-sink, against a plain-smtplib ceiling.

    .venv/bin/python bench/send.py [--contacts 100000] [--workers 2] [--skip-million]

1. `/usr/sbin/smtp-sink` (Debian's `postfix` package, installed with apt-get if
   missing; only the sink is started, never the mail system) on a free loopback port.
2. The database `flock_bench_send` on the bench server: migrated, seeded once with
   `seed_demo --contacts N --seed 2`, every contact made reachable (bounced and
   unsubscribed flags cleared) and earlier mailings removed.
3. Ceiling: plain `smtplib` from as many processes as workers, one connection each,
   sending N messages of the size of Flock's messages to the sink.
4. Flock: that many `celery -A config worker --pool solo` processes (production
   settings: DJANGO_DEBUG=false) on a Redis DB of their own (13). The clock starts
   at `mailing_create` (what the Send button calls; it enqueues the recipients task
   on commit; that task queues FLOCK_SEND_TASKS_PER_MAILING `mailing_send`, set to
   the number of workers) and stops at the last Delivery's `sent_at`.
   Peak RSS is each worker's VmHWM; VmRSS is sampled while it sends.
5. Where a worker's time goes: the steps of `deliveries_send` (claim and load, build,
   MIME serialisation, SMTP, recording) timed one by one over 5,000
   messages in a child process with the workers' settings.
6. Materialising a mailing to every reachable contact of the 1M-contact `flock_bench`
   database (`deliveries_materialize`, in a child process); its rows are deleted after.

The machine's other load matters here (everything is CPU-bound on 2 cores): each run
prints the CPU seconds of the workers, PostgreSQL and the sink, how busy the whole
machine was and the 1-minute load before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    ROOT,
    bench_services,
    machine,
    million_contact_database,
    seeded_database,
    setup_django,
)

SEND_DB = "flock_bench_send"
BROKER_URL = "redis://127.0.0.1:6379/13"  # not DB 0 (make dev) nor 15 (tests)
SINK = "/usr/sbin/smtp-sink"
FROM = "Flock <news@flock.example>"
EVERYONE = [{"field": "leadScore", "op": "gte", "value": 0}]
SUBJECT = 'Spring news for {{ first_name|default:"you" }} at {{ company|default:"your team" }}'
BODY = """Hi {{ first_name|default:"there" }},

Spring is here, and so are a few things we built for {{ company|default:"teams like yours" }}.

* Segments that update themselves as your contacts change.
* Mailings that go out to exactly the people you picked, once each.
* One-click unsubscribe in every message, honoured at once.

We would love to hear what you think: just reply to this message, it reaches a
person. If you are in {{ city|default:"town" }} next month, come and say hello at
our meetup; details are on the website.

Thanks for reading,
The Flock team
"""


# --------------------------------------------------------------------------- sink


def ensure_smtp_sink() -> str:
    if os.path.exists(SINK):
        return SINK
    print("smtp-sink missing: installing Debian's postfix package (the sink only is used)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # No mail system configuration: nothing of Postfix itself is wanted here.
    subprocess.run(
        [*sudo, "debconf-set-selections"],
        input=b"postfix postfix/main_mailer_type select No configuration\n",
        env=env, check=False,
    )  # fmt: skip
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "postfix"]):
        subprocess.run([*sudo, *cmd], env=env, check=True)
    if not os.path.exists(SINK):
        raise SystemExit(f"bench: {SINK} still missing after installing postfix")
    return SINK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """`smtp-sink -c 127.0.0.1:PORT 1000`; its running counters go to a temp file."""

    def __init__(self):
        self.port = free_port()
        self.out = tempfile.NamedTemporaryFile(prefix="smtp-sink-", delete=False)  # noqa: SIM115
        user = ["-u", "nobody"] if os.geteuid() == 0 else []  # it refuses to run as root
        self.proc = subprocess.Popen(
            [ensure_smtp_sink(), *user, "-c", f"127.0.0.1:{self.port}", "1000"],
            stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: smtp-sink did not start: {self.tail()}")
            time.sleep(0.05)

    def tail(self) -> str:
        self.out.flush()
        data = Path(self.out.name).read_bytes()[-400:]
        return data.decode(errors="replace").replace("\r", "\n").strip()

    def messages(self) -> int:
        """The sink's own count of messages received ("mesg=N", updated on each '.')."""
        last = self.tail().splitlines()[-1] if self.tail() else ""
        for field in last.split():
            if field.startswith("mesg="):
                return int(field[5:])
        return 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.out.close()
        with contextlib.suppress(OSError):
            os.unlink(self.out.name)


# --------------------------------------------------------------------------- /proc


def proc_status(pid: int, key: str) -> int:
    """A /proc/<pid>/status value in kB (VmRSS, VmHWM), 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime (+ reaped children's) of a process, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU of the bench PostgreSQL: its postmaster, live backends and reaped ones."""
    pidfile = ROOT / ".data" / "postgres" / "data" / "postmaster.pid"
    try:
        postmaster = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    total = cpu_seconds(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    total += cpu_seconds(int(entry.name))
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


# --------------------------------------------------------------------------- database


def send_database(contacts: int) -> str:
    """flock_bench_send: N contacts from seed 2 (made once), all reachable, no mailings."""
    import psycopg

    url = seeded_database(SEND_DB, contacts, seed=2)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE mailing_delivery, mailing_mailing CASCADE")
        conn.execute(
            "UPDATE contacts_contact SET is_bounced = false, is_unsubscribed = false "
            "WHERE is_bounced OR is_unsubscribed"
        )
        conn.execute("VACUUM ANALYZE")
    return url


# --------------------------------------------------------------------------- ceiling


def _ceiling_process(port, payload, count, offset, ready, go, results) -> None:
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    smtp.ehlo()
    ready.release()
    go.wait()
    start = time.time()
    for n in range(offset, offset + count):
        smtp.sendmail("news@flock.example", [f"ceiling{n}@example.com"], payload)
    smtp.quit()
    results.put((start, time.time()))


def ceiling(port: int, payload: bytes, total: int, processes: int) -> float:
    """Messages/s of plain smtplib: `processes` connections, `total` messages in all."""
    ctx = multiprocessing.get_context("fork")
    ready, go, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    shares = [total // processes + (i < total % processes) for i in range(processes)]
    offsets = [sum(shares[:i]) for i in range(processes)]
    procs = [
        ctx.Process(
            target=_ceiling_process, args=(port, payload, share, offset, ready, go, results)
        )
        for share, offset in zip(shares, offsets, strict=True)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            if not ready.acquire(timeout=30):
                raise SystemExit("bench: a ceiling process did not connect to the sink")
        go.set()
        times = [results.get(timeout=600) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    return total / (max(end for _, end in times) - min(start for start, _ in times))


# --------------------------------------------------------------------------- Flock


class Workers:
    """N `celery worker --pool solo` processes on the bench database and the sink."""

    def __init__(self, count: int, url: str, sink_port: int, batch_size: int | None):
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": BROKER_URL,
            "DJANGO_DEBUG": "false",  # production settings: no query log in the worker
            "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink_port),
            "EMAIL_USE_TLS": "false",
            "ANYMAIL_ESP": "",
            "FLOCK_LOG_LEVEL": "WARNING",
            "FLOCK_SEND_TASKS_PER_MAILING": str(count),  # one sender per worker
        }
        if batch_size:
            env["FLOCK_SEND_BATCH_SIZE"] = str(batch_size)
        self.logs = [
            tempfile.NamedTemporaryFile(prefix=f"bench-send-w{i}-", delete=False)  # noqa: SIM115
            for i in range(count)
        ]
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "solo",
                    "-l",
                    "warning",
                    "-n",
                    f"bench-send-{i}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            for i, log in enumerate(self.logs)
        ]

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    def wait_ready(self, timeout: float = 60) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout
        while len(app.control.ping(timeout=0.5)) < len(self.procs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise SystemExit(f"bench: workers did not start:\n{self.output()}")

    def output(self) -> str:
        return "\n".join(
            f"--- worker {i} ---\n{Path(log.name).read_text(errors='replace')[-2000:]}"
            for i, log in enumerate(self.logs)
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for log in self.logs:
            log.close()
            with contextlib.suppress(OSError):
                os.unlink(log.name)


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()


def redis_pid() -> int:
    import redis

    return int(redis.Redis.from_url(BROKER_URL).info("server")["process_id"])


def sample_message_bytes() -> bytes:
    """One of Flock's messages as it goes over SMTP (for the ceiling's message size)."""
    from contacts.models import Contact
    from mailing.messages import MessageTemplate
    from mailing.models import Mailing

    template = MessageTemplate(Mailing(pk=1, subject=SUBJECT, body=BODY, from_email=FROM))
    sizes = []
    for contact in Contact.objects.order_by("pk")[:200]:
        rendered = template.render(contact, contact_id=contact.pk)
        sizes.append(template.mime(rendered, to=contact.email))
    sizes.sort(key=len)
    return sizes[len(sizes) // 2]


def flock_send(url: str, sink: Sink, workers: int, *, batch_size, timeout):
    """One mailing to every reachable contact, end to end; returns its figures."""
    from django.db import connection
    from django.db.models import Count, Max, Min
    from django.utils import timezone

    from mailing.models import Delivery, Mailing
    from mailing.services import mailing_create
    from segments.models import ContactSegment
    from segments.services import segment_create

    segment = ContactSegment.objects.filter(name="bench: everyone").first() or segment_create(
        name="bench: everyone", filter_json=EVERYONE, user=None
    )
    flush_broker()
    pool = Workers(workers, url, sink.port, batch_size)
    try:
        pool.wait_ready()
        rss_idle = [proc_status(pid, "VmRSS") for pid in pool.pids]
        sink_before = sink.messages()
        cpu_before = {
            "workers": [cpu_seconds(pid) for pid in pool.pids],
            "postgres": postgres_cpu(),
            "sink": cpu_seconds(sink.proc.pid),
            "redis": cpu_seconds(redis_pid()),
            "machine": machine_busy(),
        }
        load_before = os.getloadavg()[0]
        started = timezone.now()
        mailing = mailing_create(
            segment=segment, subject=SUBJECT, body=BODY, user=None, from_email=FROM
        )
        rss_samples: list[list[int]] = []
        deadline = time.monotonic() + timeout
        while True:
            status, sent = Mailing.objects.values_list("status", "sent").get(pk=mailing.pk)
            rss_samples.append([proc_status(pid, "VmRSS") for pid in pool.pids])
            if status not in ("queued", "sending"):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: not done after {timeout} s ({sent:,} sent)")
            if any(p.poll() is not None for p in pool.procs):
                raise SystemExit(f"bench: a worker exited:\n{pool.output()}")
            time.sleep(0.5)
        cpu_after = {
            "workers": [cpu_seconds(pid) for pid in pool.pids],
            "postgres": postgres_cpu(),
            "sink": cpu_seconds(sink.proc.pid),
            "redis": cpu_seconds(redis_pid()),
            "machine": machine_busy(),
        }
        peak = [proc_status(pid, "VmHWM") for pid in pool.pids]
    finally:
        pool.stop()
    mailing.refresh_from_db()
    by_status = dict(
        Delivery.objects.filter(mailing=mailing)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    times = Delivery.objects.filter(mailing=mailing, status="sent").aggregate(
        first=Min("sent_at"), last=Max("sent_at")
    )
    elapsed = (times["last"] - started).total_seconds()
    busy = cpu_after["machine"][0] - cpu_before["machine"][0]
    total = cpu_after["machine"][1] - cpu_before["machine"][1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('mailing_delivery'))")
        delivery_size = cursor.fetchone()[0]
    steady = rss_samples[len(rss_samples) // 10 :] or rss_samples
    with connection.cursor() as cursor:  # the next run starts from an empty table
        cursor.execute("DELETE FROM mailing_delivery WHERE mailing_id = %s", [mailing.pk])
        cursor.execute("VACUUM ANALYZE mailing_delivery")
    return {
        "recipients": mailing.recipients,
        "by_status": by_status,
        "counter_sent": mailing.sent,
        "sink_messages": sink.messages() - sink_before,
        "elapsed": elapsed,
        "rate": by_status.get("sent", 0) / elapsed,
        "materialise": (mailing.evaluated_at - started).total_seconds(),
        "first_delivery": (times["first"] - started).total_seconds(),
        "rss_idle_mb": [kb / 1024 for kb in rss_idle],
        "rss_steady_min_mb": [min(s[i] for s in steady) / 1024 for i in range(workers)],
        "rss_steady_max_mb": [max(s[i] for s in steady) / 1024 for i in range(workers)],
        "peak_mb": [kb / 1024 for kb in peak],
        "cpu_workers": [
            a - b for a, b in zip(cpu_after["workers"], cpu_before["workers"], strict=True)
        ],
        "cpu_postgres": cpu_after["postgres"] - cpu_before["postgres"],
        "cpu_sink": cpu_after["sink"] - cpu_before["sink"],
        "cpu_redis": cpu_after["redis"] - cpu_before["redis"],
        "machine_busy": busy / total if total else 0.0,
        "delivery_table": delivery_size,
        "load_1min": (load_before, os.getloadavg()[0]),
    }


def per_message_costs(sink_port: int, count: int = 5000) -> dict[str, float]:
    """Where a worker's time goes: deliveries_send's steps timed one by one, ms/message.

    The same calls as deliveries_send, in this process, one connection to the sink,
    on a temporary mailing deleted after. Each step runs over a whole batch before
    the next, so the SMTP step is the pipelined exchange alone.
    """
    from django.conf import settings
    from django.core.mail import get_connection
    from django.db import connection

    from mailing.messages import MessageTemplate, address
    from mailing.models import Mailing
    from mailing.recipients import deliveries_claim, deliveries_materialize
    from mailing.sending import _Recorder
    from mailing.transport import transmit
    from segments.models import ContactSegment
    from segments.services import segment_create

    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", sink_port, False
    segment = ContactSegment.objects.filter(name="bench: everyone").first() or segment_create(
        name="bench: everyone", filter_json=EVERYONE, user=None
    )
    mailing = Mailing.objects.create(
        segment=segment, subject=SUBJECT, body=BODY, from_email=FROM, status="queued"
    )
    steps = ["claim + load batch", "merge + headers", "MIME bytes", "SMTP", "record"]
    spent = dict.fromkeys(steps, 0.0)
    sent = 0
    try:
        deliveries_materialize(mailing=mailing)
        backend = get_connection()
        backend.open()
        template = MessageTemplate(mailing)
        clock = time.perf_counter
        while sent < count:
            t0 = clock()
            batch = deliveries_claim(mailing_id=mailing.pk)
            t1 = clock()
            rendered = [
                template.render(r, contact_id=r.contact_id, delivery_id=r.pk) for r in batch
            ]
            t2 = clock()
            data = [template.mime(m, to=r.email) for m, r in zip(rendered, batch, strict=True)]
            t3 = clock()
            messages = ((r.pk, address(r.email), d) for r, d in zip(batch, data, strict=True))
            accepted = [
                pk
                for pk, refusal in transmit(backend.connection, template.envelope_from, messages)
                if refusal is None
            ]
            t4 = clock()
            # As deliveries_send does it: an SADD to the claim's journal per message,
            # one UPDATE at the end of the batch.
            recorder = _Recorder(batch[0].claim)
            for pk in accepted:
                recorder.sent(pk)
            recorder.close()
            t5 = clock()
            for step, seconds in zip(
                steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True
            ):
                spent[step] += seconds
            sent += len(batch)
        backend.close()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM mailing_delivery WHERE mailing_id = %s", [mailing.pk])
        mailing.delete()
    return {step: seconds * 1000 / sent for step, seconds in spent.items()}


def costs_in_child(url: str, sink_port: int) -> dict[str, float]:
    """per_message_costs in a process with a worker's settings (DJANGO_DEBUG=false)."""
    env = {
        **os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret", "FLOCK_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, __file__, "--costs-child", str(sink_port)],
        cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- 1M


def materialise_million_child() -> None:
    """In a child whose DATABASE_URL is the 1M database: time deliveries_materialize."""
    setup_django(os.environ["DATABASE_URL"])
    from django.db import connection

    from contacts.models import Contact
    from mailing.models import Mailing
    from mailing.recipients import deliveries_materialize
    from segments.services import segment_create

    segment = segment_create(name="bench: send, everyone", filter_json=EVERYONE, user=None)
    mailing = Mailing.objects.create(
        segment=segment, subject="bench", body="bench", from_email=FROM, status="queued"
    )
    try:
        start = time.perf_counter()
        recipients = deliveries_materialize(mailing=mailing)
        seconds = time.perf_counter() - start
        reachable = Contact.objects.filter(is_bounced=False, is_unsubscribed=False).count()
        contacts = Contact.objects.count()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM mailing_delivery WHERE mailing_id = %s", [mailing.pk])
        mailing.delete()
        segment.delete()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE mailing_delivery")
    print(json.dumps({"seconds": seconds, "recipients": recipients, "reachable": reachable,
                      "contacts": contacts}))  # fmt: skip


def materialise_million() -> dict:
    url = million_contact_database()
    result = subprocess.run(
        [sys.executable, __file__, "--materialise-child"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=True,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=None, help="FLOCK_SEND_BATCH_SIZE")
    parser.add_argument("--timeout", type=float, default=1800, help="per mailing, seconds")
    parser.add_argument("--skip-million", action="store_true")
    args = parser.parse_args()

    ensure_smtp_sink()
    os.environ["REDIS_URL"] = BROKER_URL  # this process publishes there too
    url = send_database(args.contacts)
    setup_django(url)
    from contacts.models import Contact
    from segments.selectors import reachable

    reachable_count = reachable(Contact.objects.all()).count()
    print(f"Machine: {machine()}")
    print(f"Database: {SEND_DB}, {Contact.objects.count():,} contacts, "
          f"{reachable_count:,} reachable; {args.workers} workers (celery --pool solo)\n",
          flush=True)  # fmt: skip

    sink = Sink()
    try:
        payload = sample_message_bytes()
        ceiling_rate = ceiling(sink.port, payload, reachable_count, args.workers)
        print(f"ceiling: {ceiling_rate:,.0f} msg/s ({len(payload):,} bytes each)", flush=True)
        runs = {}
        for name in ("shipped",):
            result = flock_send(
                url, sink, args.workers, batch_size=args.batch_size, timeout=args.timeout
            )
            runs[name] = result
            print(f"{name}: {json.dumps(result, default=str)}", flush=True)
        costs = costs_in_child(url, sink.port)
    finally:
        sink.stop()
        flush_broker()
    million = None if args.skip_million else materialise_million()

    print("\n| what | result | target |")
    print("|---|---:|---:|")
    labels = {
        "shipped": f"Send → last delivery, {args.workers} workers",
    }
    for name, r in runs.items():
        sent = r["by_status"].get("sent", 0)
        ratio = r["rate"] / ceiling_rate
        print(
            f"| {labels[name]}: {sent:,} messages | {r['elapsed']:.1f} s, "
            f"**{r['rate']:,.0f} msg/s** (ratio {ratio:.2f}) | ≥ 0.75 |"
        )
    print(f"| ceiling: plain smtplib, {args.workers} processes, {reachable_count:,} messages of "
          f"{len(payload):,} bytes | {ceiling_rate:,.0f} msg/s | |")  # fmt: skip
    for name, r in runs.items():
        peaks = ", ".join(f"{mb:.0f}" for mb in r["peak_mb"])
        steady = ", ".join(
            f"{lo:.0f}–{hi:.0f}"
            for lo, hi in zip(r["rss_steady_min_mb"], r["rss_steady_max_mb"], strict=True)
        )
        print(f"| worker peak RSS (VmHWM), {name} | {peaks} MB (RSS while sending {steady} MB) "
              "| < 250 MB, flat |")  # fmt: skip
    if million:
        per_million = million["seconds"] * 1_000_000 / max(million["recipients"], 1)
        print(f"| materialise all reachable of {million['contacts']:,} contacts: "
              f"{million['recipients']:,} recipients | {million['seconds']:.1f} s "
              f"({per_million:.1f} s per 1M rows) | ≤ 15 s |")  # fmt: skip

    print()
    for name, r in runs.items():
        workers_cpu = ", ".join(f"{cpu:.1f}" for cpu in r["cpu_workers"])
        print(f"{name}: CPU seconds over {r['elapsed']:.1f} s: workers {workers_cpu}, "
              f"PostgreSQL {r['cpu_postgres']:.1f}, Redis {r['cpu_redis']:.1f}, "
              f"smtp-sink {r['cpu_sink']:.1f}; machine busy "
              f"{r['machine_busy']:.0%}; recipients task started {r['materialise']:.2f} s "
              f"after Send, "
              f"first delivery at {r['first_delivery']:.2f} s; sink counted "
              f"{r['sink_messages']:,}; Mailing.sent {r['counter_sent']:,}; 1-min load "
              f"{r['load_1min'][0]:.2f} before, {r['load_1min'][1]:.2f} after")  # fmt: skip
    total = sum(costs.values())
    print(f"\nOne worker's time per message, steps of deliveries_send timed in one process "
          f"({total:.2f} ms in all, i.e. {1000 / total:,.0f} msg/s per process):")  # fmt: skip
    for step, ms in costs.items():
        print(f"  {step:<20} {ms:6.3f} ms  {ms / total:4.0%}")
    print(f"  (ceiling: {1000 * args.workers / ceiling_rate:.3f} ms per message per process)")


def main():
    if "--materialise-child" in sys.argv:
        return materialise_million_child()
    if "--costs-child" in sys.argv:
        setup_django(os.environ["DATABASE_URL"])
        port = int(sys.argv[sys.argv.index("--costs-child") + 1])
        return print(json.dumps(per_message_costs(port)))
    with bench_services():
        return _main()


if __name__ == "__main__":
    main()
