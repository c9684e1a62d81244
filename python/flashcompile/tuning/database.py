"""The tuning database: one SQLite file of the best configuration per op,
shape, dtype, compiler version and CPU.

SQLite because it is one file, in the standard library, and safe under
concurrent writers (WAL journal, a busy timeout: measurement processes
write their results as they finish). Later compiles read it through
`lookup`, by way of flashcompile.tuned (the compiler's one read-only view of
tuned parameters); this module is storage only. Entries made by another
compiler build or on another CPU are kept but never used; a corrupt file
is reported, moved aside and rebuilt, never a crash.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
import warnings

from .. import host, tuned
from ..host import compiler_id as compiler_version
from ..host import cpu_signature
from ..tuned import shapes_key

__all__ = ["TuningDatabase", "default_path", "default_database", "use_database",
           "compiler_version", "cpu_signature", "shapes_key"]

# How long a writer waits for another process's lock before giving up.
_BUSY_SECONDS = 30.0


def _busy(error: Exception) -> bool:
    """SQLite's "database is locked" / "database is busy": another process
    holds the file, for now."""
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS best (
  op TEXT NOT NULL, shapes TEXT NOT NULL, dtype TEXT NOT NULL,
  compiler TEXT NOT NULL, cpu TEXT NOT NULL,
  config TEXT NOT NULL,            -- JSON: the sgemm parameters or pipeline options
  default_s REAL, best_s REAL, measured INTEGER, created REAL,
  PRIMARY KEY (op, shapes, dtype, compiler, cpu));
CREATE TABLE IF NOT EXISTS measurements (
  op TEXT NOT NULL, shapes TEXT NOT NULL, dtype TEXT NOT NULL,
  compiler TEXT NOT NULL, cpu TEXT NOT NULL, config TEXT NOT NULL,
  predicted_s REAL, measured_s REAL, ok INTEGER, note TEXT, created REAL,
  PRIMARY KEY (op, shapes, dtype, compiler, cpu, config));
"""


def default_path() -> str:
    env = os.environ.get("FLASH_TUNING_DB")
    if env:
        return env
    return os.path.join(host.cache_folder(), "tuning.db")


class TuningDatabase:
    """Best configurations keyed by (op, shapes, dtype, compiler, cpu)."""

    def __init__(self, path: str | None = None):
        self.path = path or default_path()
        self.compiler = compiler_version()
        self.cpu = cpu_signature()
        self._conn = None

    # Connection, with corruption handling -------------------------------

    def _connect(self):
        if self._conn is not None:
            return self._conn
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        deadline = time.monotonic() + _BUSY_SECONDS
        while True:
            try:
                self._conn = self._open()
                return self._conn
            except sqlite3.DatabaseError as e:
                # Another process holding the file (creating it, switching it
                # to WAL) is not corruption: moving the file aside then lost
                # the other writers' rows (seen under load in CI).
                if _busy(e) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                if _busy(e):
                    raise
                self._rebuild(e)
                return self._conn

    def _open(self):
        conn = sqlite3.connect(self.path, timeout=_BUSY_SECONDS)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_SECONDS * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)
            conn.execute("SELECT count(*) FROM best").fetchone()  # a corrupt file fails here
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _rebuild(self, error):
        """A corrupt file: moved aside (kept for inspection), a new one made."""
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None
        aside = f"{self.path}.corrupt-{int(time.time())}"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.replace(self.path + suffix, aside + suffix)
        warnings.warn(f"tuning database {self.path} is corrupt ({type(error).__name__}: "
                      f"{error}); moved to {aside} and starting a new one", RuntimeWarning,
                      stacklevel=4)
        self._conn = self._open()

    def _run(self, sql, params=(), many=False):
        """Executes and commits: a busy database retried (SQLite returns
        "locked" at once, without waiting out its timeout, where waiting
        could deadlock), a corrupt one rebuilt once."""
        deadline = time.monotonic() + _BUSY_SECONDS
        rebuilt = False
        while True:
            conn = self._connect()
            try:
                with conn:
                    cur = conn.executemany(sql, params) if many else conn.execute(sql, params)
                    return cur.fetchall()
            except sqlite3.DatabaseError as e:
                if _busy(e):
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(0.05)
                    continue
                if rebuilt:
                    raise
                self._rebuild(e)
                rebuilt = True

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # Reading and writing --------------------------------------------------

    def lookup(self, op: str, shapes: str, dtype: str = "f32"):
        """The best config for this compiler and CPU, or None."""
        rows = self._run("SELECT config FROM best WHERE op=? AND shapes=? AND dtype=? AND "
                         "compiler=? AND cpu=?", (op, shapes, dtype, self.compiler, self.cpu))
        return json.loads(rows[0][0]) if rows else None

    def store(self, op: str, shapes: str, config, default_s: float, best_s: float,
              measured: int, dtype: str = "f32"):
        self._run("INSERT OR REPLACE INTO best VALUES (?,?,?,?,?,?,?,?,?,?)",
                  (op, shapes, dtype, self.compiler, self.cpu, json.dumps(config), default_s,
                   best_s, measured, time.time()))

    def record(self, op: str, shapes: str, config, predicted_s, measured_s, ok: bool,
               note: str = "", dtype: str = "f32"):
        """One measured candidate (written by the measurement processes)."""
        self._run("INSERT OR REPLACE INTO measurements VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                  (op, shapes, dtype, self.compiler, self.cpu, json.dumps(config), predicted_s,
                   measured_s, int(ok), note, time.time()))

    def entries(self, current_only: bool = True) -> list:
        sql = "SELECT op, shapes, dtype, compiler, cpu, config, default_s, best_s, measured, " \
              "created FROM best"
        params = ()
        if current_only:
            sql += " WHERE compiler=? AND cpu=?"
            params = (self.compiler, self.cpu)
        keys = ("op", "shapes", "dtype", "compiler", "cpu", "config", "default_s", "best_s",
                "measured", "created")
        return [dict(zip(keys, r)) | {"config": json.loads(r[5])} for r in self._run(sql, params)]

    def measurements(self, op: str | None = None) -> list:
        sql = "SELECT op, shapes, config, predicted_s, measured_s, ok FROM measurements " \
              "WHERE compiler=? AND cpu=?"
        params = [self.compiler, self.cpu]
        if op:
            sql += " AND op=?"
            params.append(op)
        return [{"op": r[0], "shapes": r[1], "config": json.loads(r[2]), "predicted_s": r[3],
                 "measured_s": r[4], "ok": bool(r[5])} for r in self._run(sql, tuple(params))]

    # Shipping ------------------------------------------------------------

    def export(self, path: str) -> int:
        """Writes every best entry (all compilers and CPUs) as JSON lines."""
        rows = self.entries(current_only=False)
        with open(path, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        return len(rows)

    def merge(self, source) -> int:
        """Adds another database's (or export's) entries: new keys, and
        keys where the other's best time is lower. Returns how many."""
        if isinstance(source, TuningDatabase):
            rows = source.entries(current_only=False)
        elif str(source).endswith(".db"):
            rows = TuningDatabase(str(source)).entries(current_only=False)
        else:
            rows = [json.loads(line) for line in open(source) if line.strip()]
        merged = 0
        for r in rows:
            have = self._run("SELECT best_s FROM best WHERE op=? AND shapes=? AND dtype=? AND "
                             "compiler=? AND cpu=?",
                             (r["op"], r["shapes"], r["dtype"], r["compiler"], r["cpu"]))
            if have and have[0][0] is not None and r["best_s"] is not None and \
                    have[0][0] <= r["best_s"]:
                continue
            self._run("INSERT OR REPLACE INTO best VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (r["op"], r["shapes"], r["dtype"], r["compiler"], r["cpu"],
                       json.dumps(r["config"]), r["default_s"], r["best_s"], r["measured"],
                       r["created"]))
            merged += 1
        return merged

    def __repr__(self):
        return f"<TuningDatabase {self.path}>"


def default_database():
    """The database compiles read unless told otherwise: the default file
    if it exists, unless FLASH_TUNING_DB=off (flashcompile/__init__.py
    makes this the default source of flashcompile.tuned)."""
    path = default_path()
    if os.environ.get("FLASH_TUNING_DB", "").lower() in ("off", "0", "none") or \
            not os.path.exists(path):
        return None
    return TuningDatabase(path)


def use_database(db) -> None:
    """Makes later compiles read `db` (a TuningDatabase, a path, or None
    to stop using one); the compile caches that may hold code compiled
    without it are cleared (they registered with flashcompile.tuned)."""
    tuned.use(TuningDatabase(db) if isinstance(db, str) else db)
