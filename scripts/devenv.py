#!/usr/bin/env python3
"""Development environment runner behind `make dev`, `make test` and `make bench`.

    devenv.py dev                 services + migrate + demo data, then web/worker/beat/mail
    devenv.py test [pytest args]  services + Debian Chromium, then pytest
    devenv.py services            ensure PostgreSQL and Redis, leave them running, print env
    devenv.py stop                stop the project-local servers (data under .data/)
    devenv.py clean-data          stop them and delete their data
    devenv.py bench               services, then every bench/*.py

PostgreSQL and Redis come from DATABASE_URL / REDIS_URL. When these point at a local
address where nothing answers, project-local servers are started with their data under
.data/ (installing Debian's packages with apt-get if needed). As root, PostgreSQL runs as
the postgres system user; when that user cannot reach the checkout (a parent folder such
as /root or a `mktemp -d` folder is closed to others), the cluster is kept in
/var/lib/postgresql/flock-<hash of the checkout path> and .data/postgres links there.
Servers started by a `dev`/`test`/`bench` run are stopped when it ends; servers that were
already running are left alone.

Only the standard library is imported at module level; psycopg and redis come from the
virtualenv and are imported when needed.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PG_DIR = DATA / "postgres"  # the cluster's folder (data/, log, socket), or a link to it
# Where the cluster goes when the postgres user cannot reach the checkout: that user's home,
# which Debian's package makes (postgres-owned, not world-writable, never swept like /var/tmp).
PG_OUTSIDE_BASE = Path("/var/lib/postgresql")
PG_OUTSIDE_MARKER = "flock-checkout"  # names the checkout; only folders with it are deleted
REDIS_DIR = DATA / "redis"
REDIS_PID = REDIS_DIR / "redis.pid"
REDIS_LOG = REDIS_DIR / "log"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/flock"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Fail(Exception):
    """An expected failure: print the message, exit 1, no traceback."""


class Stop(BaseException):
    """SIGTERM during set-up: unwind through the `finally` blocks like Ctrl-C."""


def log(msg: str) -> None:
    print(f"devenv: {msg}", file=sys.stderr, flush=True)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return not port_open(host, port, 0.5)


def is_root() -> bool:
    return os.geteuid() == 0


def privileged(cmd: list[str]) -> list[str]:
    if is_root():
        return cmd
    if shutil.which("sudo") is None:
        raise Fail(f"`{shlex.join(cmd)}` needs root, and sudo is not installed. Run it as root.")
    return ["sudo", *cmd]


def apt_install(*packages: str) -> None:
    if shutil.which("apt-get") is None:
        raise Fail(
            f"{', '.join(packages)} not found and this is not a Debian-like system (no apt-get). "
            "Install it yourself, or point DATABASE_URL / REDIS_URL at running servers."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *packages]):
        cmd = privileged(cmd)
        if cmd[0] == "sudo":
            cmd[1:1] = ["DEBIAN_FRONTEND=noninteractive"]
        log(f"running: {shlex.join(cmd)}")
        if subprocess.run(cmd, env=env).returncode != 0:
            raise Fail(
                f"`{shlex.join(cmd)}` failed (see its output above). Fix apt (network, "
                f"mirrors, locks) and retry, or install {' '.join(packages)} yourself."
            )


def tail(path: Path, n: int = 20) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(lines[-n:])


def run_quiet(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


# --------------------------------------------------------------------------- PostgreSQL


class PgTarget:
    def __init__(self, url: str):
        u = urlsplit(url)
        self.url = url
        self.host = u.hostname or "localhost"
        self.port = u.port or 5432
        self.user = unquote(u.username or "postgres")
        self.password = unquote(u.password) if u.password else None
        self.dbname = unquote(u.path.lstrip("/")) or "flock"

    @property
    def local(self) -> bool:
        return self.host in LOCAL_HOSTS

    def connect(self, dbname: str = "postgres"):
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname,
            connect_timeout=2,
            autocommit=True,
        )

    def answers(self) -> bool:
        import psycopg

        try:
            with self.connect():
                return True
        except psycopg.Error:
            return False

    def create_database(self) -> None:
        import psycopg
        from psycopg import sql

        with self.connect() as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.dbname]
            ).fetchone()
            if not exists:
                log(f"creating database {self.dbname}")
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))


def pg_bindir(data: Path) -> Path | None:
    found = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")

    def version(p: str) -> float:
        try:
            return float(Path(p).parent.parent.name)
        except ValueError:
            return 0.0

    if has_cluster(data):  # an existing cluster needs its own version
        want = data.joinpath("PG_VERSION").read_text().strip()
        found_for = [p for p in found if Path(p).parent.parent.name == want]
        if found and not found_for:
            raise Fail(
                f"{data} was made by PostgreSQL {want}, which is not installed here. "
                "Run `make clean-data` to start over with a fresh local database."
            )
        found = found_for
    return Path(max(found, key=version)).parent if found else None


def has_cluster(data: Path) -> bool:
    try:
        return data.joinpath("PG_VERSION").exists()
    except OSError:  # a folder of another user's server: not ours to run
        return False


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def pg_outside_home() -> Path:
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    return PG_OUTSIDE_BASE / f"flock-{digest}"


def is_outside_home(path: Path) -> bool:
    try:
        return path.joinpath(PG_OUTSIDE_MARKER).is_file()
    except OSError:
        return False


def pg_home() -> Path:
    """The folder of the project-local cluster: .data/postgres, or where that link points."""
    return PG_DIR.resolve() if PG_DIR.is_symlink() else PG_DIR


def pg_homes() -> list[Path]:
    """Every folder a cluster of this checkout may run from. The outside one without a link
    is what deleting .data by hand left behind; `stop` must still find it."""
    homes = [pg_home()]
    outside = pg_outside_home()
    if outside not in homes and is_outside_home(outside):
        homes.append(outside)
    return homes


def as_pg_owner(cmd: list[str]) -> list[str]:
    """initdb/pg_ctl refuse to run as root: run them as the postgres system user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if is_root() else cmd


def pg_owner_can(*test_args: str) -> bool:
    return run_quiet(as_pg_owner(["test", *test_args])).returncode == 0


def postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        log("creating the postgres system user")
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
        return pwd.getpwnam("postgres")


def make_outside_home(home: Path) -> None:
    """Create `home` in PG_OUTSIDE_BASE, marked as this checkout's (root only)."""
    if not PG_OUTSIDE_BASE.is_dir():
        PG_OUTSIDE_BASE.mkdir(parents=True)
        PG_OUTSIDE_BASE.chmod(0o755)  # explicit: a umask of 077 would shut postgres out
    try:
        home.mkdir()
    except FileExistsError:
        if home.is_symlink() or not home.is_dir() or any(home.iterdir()):
            raise Fail(
                f"{home} already exists and was not made by devenv for {ROOT}. Remove it "
                "(or move it away), or set DATABASE_URL to a reachable server."
            ) from None
    home.chmod(0o755)
    home.joinpath(PG_OUTSIDE_MARKER).write_text(f"{ROOT}\n")


def move_pg_home_outside() -> None:
    """The postgres user cannot reach the checkout: keep the cluster in its own home and
    make .data/postgres a link to it, so that stop and clean-data find it again."""
    if has_cluster(PG_DIR / "data"):
        raise Fail(
            f"{PG_DIR} holds a PostgreSQL cluster the postgres user cannot reach: a parent "
            "folder of the checkout is not accessible to other users (was the checkout "
            "moved?). Run `make clean-data` to start over with a fresh cluster kept in "
            f"{PG_OUTSIDE_BASE}, or allow access (chmod o+x on the parents)."
        )
    if PG_DIR.exists():
        shutil.rmtree(PG_DIR)  # left by an earlier failed start; it holds no cluster
    home = pg_outside_home()
    make_outside_home(home)
    PG_DIR.symlink_to(home, target_is_directory=True)
    log(
        f"the postgres user cannot reach {ROOT} (a parent folder is closed to other users), "
        f"so the local PostgreSQL keeps its data in {home}; .data/postgres links there"
    )


def discard_stale_outside_home() -> None:
    """An outside cluster whose .data/postgres link is gone was deleted with .data: a fresh
    start was asked for, as it is for a cluster kept in the checkout."""
    home = pg_outside_home()
    if PG_DIR.is_symlink() or not is_outside_home(home):
        return
    stop_cluster(home / "data", quiet=True)
    log(f"removing {home}, the local PostgreSQL data left behind when .data was deleted")
    shutil.rmtree(home)


def prepare_pg_home() -> Path:
    """Make the cluster's folder, writable by the user the server runs as, and return it."""
    DATA.mkdir(parents=True, exist_ok=True)
    if not is_root():  # the server runs as us: any folder we can write to will do
        home = pg_home()
        home.mkdir(exist_ok=True)
        return home
    pw = postgres_user()
    if not PG_DIR.is_symlink():
        discard_stale_outside_home()
        if not pg_owner_can("-x", str(DATA)):
            move_pg_home_outside()
    elif not pg_home().exists():
        make_outside_home(pg_home())  # the link survived, its folder did not
    home = pg_home()
    home.mkdir(exist_ok=True)
    for p in [home, *home.rglob("*")]:
        if p.lstat().st_uid != pw.pw_uid:
            os.lchown(p, pw.pw_uid, pw.pw_gid)
    if not pg_owner_can("-w", str(home)):
        raise Fail(
            f"The postgres user cannot write to {home}. Make it writable for that user (or "
            "run `make clean-data` to start over), or set DATABASE_URL to a reachable server."
        )
    return home


def pg_running(bindir: Path, data: Path) -> bool:
    if not has_cluster(data):
        return False
    cmd = as_pg_owner([str(bindir / "pg_ctl"), "-D", str(data), "status"])
    return run_quiet(cmd).returncode == 0


def pg_settings(for_tests: bool) -> list[str]:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    shared_mb = max(128, min(1024, mem // 4 // 2**20))  # 1GB, or a quarter of small machines
    opts = [
        f"shared_buffers={shared_mb}MB",
        "work_mem=64MB",
        "maintenance_work_mem=512MB",
        "max_parallel_workers_per_gather=2",
    ]
    if for_tests:
        # A throw-away local server for dev/tests: losing data on a crash is fine, speed wins.
        opts += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
    return opts


def disable_fresh_debian_cluster(port: int) -> None:
    """The postgresql package's postinst may create and start a `main` cluster whose
    password-only TCP access we cannot use. We installed it just now, so park it."""
    if shutil.which("pg_lsclusters") is None:
        return
    out = run_quiet(["pg_lsclusters", "--no-header"]).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == str(port) and fields[1] == "main":
            ver = fields[0]
            log(
                f"stopping the Debian cluster {ver}/main just created on port {port}; "
                f"it is set to start manually (/etc/postgresql/{ver}/main/start.conf)"
            )
            run_quiet(privileged(["pg_ctlcluster", ver, "main", "stop"]))
            conf = f"/etc/postgresql/{ver}/main/start.conf"
            run_quiet(privileged(["sh", "-c", f"echo manual > {shlex.quote(conf)}"]))


def ensure_postgres(for_tests: bool) -> bool:
    """Make DATABASE_URL usable. Returns True when this call started the server."""
    t = PgTarget(os.environ["DATABASE_URL"])
    if t.answers():
        t.create_database()
        return False
    if not t.local:
        raise Fail(
            f"PostgreSQL at {t.host}:{t.port} (DATABASE_URL) does not answer for user "
            f"{t.user}. Start it, or unset DATABASE_URL to use a project-local server."
        )
    taken_msg = (
        f"Port {t.port} is in use by something that is not a PostgreSQL we can log into as "
        f"{t.user}. Stop it or set DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/"
        f"{t.dbname} to a reachable server."
    )
    if port_open(t.host, t.port):
        raise Fail(taken_msg)

    bindir = pg_bindir(pg_home() / "data")
    if bindir is None:
        log("PostgreSQL server binaries not found; installing Debian's postgresql package")
        apt_install("postgresql")
        if t.answers():  # the package may have started its own cluster on this port
            t.create_database()
            return False
        if port_open(t.host, t.port):
            disable_fresh_debian_cluster(t.port)
            if port_open(t.host, t.port):
                raise Fail(taken_msg)
        bindir = pg_bindir(pg_home() / "data")
        if bindir is None:
            raise Fail("Installed postgresql but found no /usr/lib/postgresql/*/bin/pg_ctl.")

    home = prepare_pg_home()
    data, logfile = home / "data", home / "log"
    bindir = pg_bindir(data)  # prepare may have replaced the cluster with a fresh folder
    if bindir is None:  # found above; None only if the binaries went away since
        raise Fail("Found no /usr/lib/postgresql/*/bin/pg_ctl.")
    if not has_cluster(data):
        log(f"initialising a local PostgreSQL cluster in {data}")
        base = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
        base += ["--encoding", "UTF8"]
        for locale in ("C.UTF-8", "C"):
            r = run_quiet(as_pg_owner([*base, "--locale", locale]))
            if r.returncode == 0:
                break
            run_quiet(as_pg_owner(["rm", "-rf", str(data)]))
        else:
            raise Fail(f"initdb failed:\n{r.stdout[-3000:]}\nFix the above, or set DATABASE_URL.")
    elif pg_running(bindir, data):
        raise Fail(
            f"The project-local PostgreSQL ({data}) is already running, but not on port "
            f"{t.port}. Run `python scripts/devenv.py stop` (or `make clean-data`) first."
        )

    opts = [f"-k {home} -p {t.port} -c listen_addresses=127.0.0.1"]
    opts += [f"-c {o}" for o in pg_settings(for_tests)]
    log(f"starting a local PostgreSQL on 127.0.0.1:{t.port} (log: {shown(logfile)})")
    cmd = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(logfile), "-w", "-t", "30"]
    cmd += ["-o", " ".join(opts), "start"]
    r = run_quiet(as_pg_owner(cmd))
    if r.returncode == 0:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if t.answers():
                t.create_database()
                return True
            time.sleep(0.3)
    stop_postgres(quiet=True)  # whatever half-started, do not leave it behind
    raise Fail(
        f"The local PostgreSQL did not start. Last lines of {logfile}:\n{tail(logfile)}\n\n"
        f"{r.stdout.strip()}\nFix the problem above (or run `make clean-data` to start from a "
        "fresh data folder), or set DATABASE_URL to a reachable server."
    )


def stop_cluster(data: Path, quiet: bool = False) -> bool:
    try:
        bindir = pg_bindir(data) if has_cluster(data) else None
    except Fail:
        return False
    if bindir is None or not pg_running(bindir, data):
        return False
    if not quiet:
        log("stopping the local PostgreSQL")
    run_quiet(as_pg_owner([str(bindir / "pg_ctl"), "-D", str(data), "stop", "-m", "fast"]))
    return True


def stop_postgres(quiet: bool = False) -> bool:
    return any([stop_cluster(home / "data", quiet) for home in pg_homes()])


# --------------------------------------------------------------------------- Redis


def redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis_client(url).ping())
    except redis.RedisError:
        return False


def ensure_redis() -> bool:
    """Make REDIS_URL usable. Returns True when this call started the server."""
    url = os.environ["REDIS_URL"]
    u = urlsplit(url)
    host, port = u.hostname or "localhost", u.port or 6379
    if redis_answers(url):
        return False
    if host not in LOCAL_HOSTS:
        raise Fail(
            f"Redis at {host}:{port} (REDIS_URL) does not answer. Start it, or unset "
            "REDIS_URL to use a project-local server."
        )
    if port_open(host, port):
        raise Fail(
            f"Port {port} is in use by something that is not a Redis we can use. Stop it or "
            "set REDIS_URL=redis://HOST:PORT/0 to a reachable server."
        )
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(server):
        log("redis-server not found; installing Debian's redis-server package")
        apt_install("redis-server")
        if redis_answers(url):  # the package's service may already listen on this port
            return False
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    log(f"starting a local Redis on 127.0.0.1:{port} (log: {REDIS_LOG.relative_to(ROOT)})")
    cmd = [server, "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes"]
    cmd += ["--dir", str(REDIS_DIR), "--pidfile", str(REDIS_PID), "--logfile", str(REDIS_LOG)]
    cmd += ["--save", "", "--appendonly", "no"]
    r = run_quiet(cmd)
    deadline = time.monotonic() + 30
    while r.returncode == 0 and time.monotonic() < deadline:
        if redis_answers(url):
            return True
        time.sleep(0.2)
    raise Fail(
        f"The local Redis did not start. Last lines of {REDIS_LOG}:\n{tail(REDIS_LOG)}\n"
        f"{r.stdout.strip()}\nFix the problem above, or set REDIS_URL to a reachable server."
    )


def shutdown_redis(url: str) -> None:
    import redis

    log("stopping the local Redis")
    with contextlib.suppress(redis.RedisError):
        redis_client(url).shutdown(nosave=True)


def stop_local_redis() -> bool:
    """Stop the project-local Redis found through its pidfile (port unknown)."""
    try:
        pid = int(REDIS_PID.read_text().strip())
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except (OSError, ValueError):
        return False
    if not comm.startswith("redis"):
        return False
    log("stopping the local Redis")
    os.kill(pid, signal.SIGTERM)  # with --save "" this just exits
    for _ in range(50):
        if not process_running(pid):
            break
        time.sleep(0.1)
    return True


def process_running(pid: int) -> bool:
    """False once it has exited, even while a slow init has yet to reap it (a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


# --------------------------------------------------------------------------- services


class Services:
    """Ensures PostgreSQL and Redis; stops (on exit) the ones it started."""

    def __init__(self, for_tests: bool = True):
        self.for_tests = for_tests
        self.started_pg = False
        self.started_redis = False

    def __enter__(self) -> Services:
        os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
        os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
        try:
            self.started_pg = ensure_postgres(self.for_tests)
            self.started_redis = ensure_redis()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.started_redis:
            shutdown_redis(os.environ["REDIS_URL"])
            self.started_redis = False
        if self.started_pg:
            stop_postgres()
            self.started_pg = False

    def __exit__(self, *exc) -> None:
        self.stop()


def on_sigterm(*_):
    raise Stop()


def venv_python() -> str:
    return sys.executable


def run_step(args: list[str], env: dict | None = None) -> None:
    log(f"running: {shlex.join(args)}")
    r = subprocess.run([venv_python(), *args], cwd=ROOT, env=env)
    if r.returncode != 0:
        raise Fail(f"`{shlex.join(args)}` failed with exit code {r.returncode} (see above).")


# --------------------------------------------------------------------------- dev


COLORS = ["36", "33", "35", "32", "34", "31"]


class Supervisor:
    """Runs named commands in their own process groups with prefixed output (like foreman)."""

    def __init__(self):
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.lock = threading.Lock()
        self.width = 0
        self.color = sys.stdout.isatty()

    def start(self, name: str, cmd: list[str], env: dict) -> None:
        p = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: we signal the whole group
        )
        self.procs.append((name, p))
        threading.Thread(
            target=self._pump, args=(name, p, len(self.procs) - 1), daemon=True
        ).start()

    def _pump(self, name: str, p: subprocess.Popen, idx: int) -> None:
        prefix = f"{name:<{self.width}} | "
        if self.color:
            prefix = f"\033[{COLORS[idx % len(COLORS)]}m{prefix}\033[0m"
        assert p.stdout is not None  # start() opens every process with stdout=PIPE
        for raw in iter(p.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.lock:
                sys.stdout.write(prefix + line + "\n")
                sys.stdout.flush()

    def first_dead(self) -> tuple[str, int] | None:
        for name, p in self.procs:
            if p.poll() is not None:
                return name, p.returncode
        return None

    def stop_all(self, timeout: float = 10) -> None:
        for _, p in self.procs:
            self._killpg(p, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(max(0.1, deadline - time.monotonic()))
        for _, p in self.procs:  # stragglers, including children left behind by a leader
            self._killpg(p, signal.SIGKILL)
            p.wait()

    @staticmethod
    def _killpg(p: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, sig)


def port_env(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise Fail(f"{name}={raw!r} is not a port number.") from None


def cmd_dev() -> int:
    web = port_env("FLOCK_WEB_PORT", 8000)
    smtp = port_env("FLOCK_SMTP_PORT", 1025)
    mail_ui = port_env("FLOCK_MAIL_UI_PORT", 8025)
    for port, var in (
        (web, "FLOCK_WEB_PORT"),
        (smtp, "FLOCK_SMTP_PORT"),
        (mail_ui, "FLOCK_MAIL_UI_PORT"),
    ):
        if not port_free(port):
            raise Fail(
                f"Port {port} is already in use (is another `make dev` running?). "
                f"Stop that process or set {var}=… to another port."
            )
    os.environ.setdefault("EMAIL_HOST", "127.0.0.1")
    os.environ.setdefault("EMAIL_PORT", str(smtp))
    DATA.mkdir(exist_ok=True)

    with Services(for_tests=True):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        run_step(["manage.py", "migrate", "--noinput"], env)
        run_step(["manage.py", "seed_demo", "--contacts", "20000", "--if-empty"], env)
        run_step(["manage.py", "demo_user"], env)

        py = venv_python()
        commands = {
            "web": [py, "manage.py", "runserver", f"127.0.0.1:{web}"],
            "worker": [
                py,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
            ],
            "beat": [
                py,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "-l",
                "info",
                "--schedule",
                str(DATA / "celerybeat-schedule"),
            ],
            "mail": [
                py,
                "scripts/smtp_sink.py",
                "--smtp-port",
                str(smtp),
                "--http-port",
                str(mail_ui),
                "--dir",
                str(DATA / "mail"),
            ],
        }
        sup = Supervisor()
        sup.width = max(map(len, commands))
        stop_requested = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop_requested.set())
        try:
            for name, cmd in commands.items():
                sup.start(name, cmd, env)
            print(
                f"\n  Flock dashboard: http://127.0.0.1:{web}/\n"
                f"  Mail sink UI:    http://127.0.0.1:{mail_ui}/ (SMTP on 127.0.0.1:{smtp})\n"
                "  Stop everything: Ctrl-C\n",
                flush=True,
            )
            dead = None
            while not stop_requested.is_set():
                dead = sup.first_dead()
                if dead:
                    break
                stop_requested.wait(0.3)
        finally:
            log("stopping web, worker, beat and mail")
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip clean-up
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            sup.stop_all()
    if dead:
        raise Fail(f"`{dead[0]}` exited with code {dead[1]}; stopped the other processes.")
    return 0


# --------------------------------------------------------------------------- test / bench


def ensure_chromium() -> None:
    if os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver"):
        return
    log("Debian's Chromium is needed for the browser tests; installing it")
    apt_install("chromium", "chromium-driver")


def cmd_test(pytest_args: list[str]) -> int:
    ensure_chromium()
    with Services(for_tests=True):
        log(f"running: pytest {shlex.join(pytest_args)}")
        return subprocess.run([venv_python(), "-m", "pytest", *pytest_args], cwd=ROOT).returncode


def cmd_bench() -> int:
    scripts = sorted((ROOT / "bench").glob("[!_]*.py"))  # _common.py is a module
    if not scripts:
        log("no bench/*.py scripts yet")
        return 0
    failed = []
    with Services(for_tests=False):
        for script in scripts:
            rel = str(script.relative_to(ROOT))
            log(f"running: {rel}")
            if subprocess.run([venv_python(), rel], cwd=ROOT).returncode != 0:
                failed.append(rel)
    if failed:
        raise Fail(f"benchmark(s) failed: {', '.join(failed)}")
    return 0


def cmd_services() -> int:
    with Services(for_tests=True) as s:
        s.started_pg = s.started_redis = False  # keep them running after we exit
    print(f"export DATABASE_URL={shlex.quote(os.environ['DATABASE_URL'])}")
    print(f"export REDIS_URL={shlex.quote(os.environ['REDIS_URL'])}")
    return 0


def cmd_stop() -> int:
    stopped = [stop_postgres(), stop_local_redis()]
    if not any(stopped):
        log("no project-local servers were running")
    return 0


def cmd_clean_data() -> int:
    cmd_stop()
    outside = [h for h in pg_homes() if h != PG_DIR and is_outside_home(h)]
    for path in [*outside, DATA]:
        if not path.exists():
            continue
        log(f"removing {path}")
        try:
            shutil.rmtree(path)  # links inside are removed, not followed
        except OSError as exc:
            raise Fail(f"Could not remove {path}: {exc}. Remove it yourself (as root?).") from None
    return 0


def reexec_in_venv() -> None:
    """`scripts/devenv.py …` run by a system python: switch to the project's virtualenv."""
    venv_py = ROOT / ".venv" / "bin" / "python"
    if venv_py.exists() and Path(sys.prefix).resolve() != venv_py.parent.parent.resolve():
        os.execv(str(venv_py), [str(venv_py), __file__, *sys.argv[1:]])


def main(argv: list[str]) -> int:
    # Everything devenv runs is development: settings default to production.
    os.environ.setdefault("DJANGO_DEBUG", "true")
    usage = "usage: devenv.py {dev|test [pytest args...]|services|stop|clean-data|bench}"
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__ if argv else usage)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd != "test" and rest:
        print(usage, file=sys.stderr)
        return 2
    handlers = {
        "dev": cmd_dev,
        "test": lambda: cmd_test(rest),
        "services": cmd_services,
        "stop": cmd_stop,
        "clean-data": cmd_clean_data,
        "bench": cmd_bench,
    }
    if cmd not in handlers:
        print(usage, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        return handlers[cmd]()
    except Fail as exc:
        log(f"error: {exc}")
        return 1
    except (KeyboardInterrupt, Stop):
        log("interrupted")
        return 130


if __name__ == "__main__":
    reexec_in_venv()
    sys.exit(main(sys.argv[1:]))
