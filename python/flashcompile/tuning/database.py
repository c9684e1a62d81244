"""The tuning database: one SQLite file of the best configuration per op,
shape, dtype, compiler version and CPU.

SQLite because it is one file, in the standard library, and safe under
concurrent writers (WAL journal, a busy timeout: measurement processes
write their results as they finish). Later compiles read it through
`lookup` (graph.py calls it for every tunable op it traces). Entries made
by another compiler build or on another CPU are kept but never used; a
corrupt file is reported, moved aside and rebuilt, never a crash.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
import warnings

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


def compiler_version() -> str:
    """The native module's identity (size, mtime and a hash of its first
    MB): every rebuild of the compiler is another version."""
    from .. import _flashcompile
    path = _flashcompile.__file__
    st = os.stat(path)
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    return hashlib.sha256(head + f"{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:16]


def cpu_signature() -> str:
    """Model name and the vector ISA flags that change generated code."""
    model, flags = "unknown", set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = sorted(f for f in flags if f in ("avx", "avx2", "fma", "avx512f", "avx512bw",
                                           "avx512vl", "avx512_vnni", "amx_tile", "sse4_2"))
    return f"{model} [{' '.join(isa)}] x{os.cpu_count()}"


def shapes_key(shapes, attrs=None) -> str:
    """Operand shapes (and the op's attributes that change its cost)."""
    key = "|".join("x".join(str(d) for d in s) for s in shapes)
    if attrs:
        key += "|" + ",".join(f"{k}={list(v) if isinstance(v, (list, tuple)) else v}"
                              for k, v in sorted(attrs.items()))
    return key


def default_path() -> str:
    env = os.environ.get("FLASH_TUNING_DB")
    if env:
        return env
    base = os.environ.get("FLASH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "flashcompile")
    return os.path.join(base, "tuning.db")


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
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as e:
            self._rebuild(e)
        return self._conn

    def _open(self):
        conn = sqlite3.connect(self.path, timeout=30.0)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_SCHEMA)
        conn.execute("SELECT count(*) FROM best").fetchone()  # a corrupt file fails here
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
        """Executes with retries on corruption (rebuild once) and commits."""
        for attempt in (0, 1):
            conn = self._connect()
            try:
                with conn:
                    cur = conn.executemany(sql, params) if many else conn.execute(sql, params)
                    return cur.fetchall()
            except sqlite3.DatabaseError as e:
                if attempt or isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
                    raise
                self._rebuild(e)

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


# The database later compiles read (graph.py): the default file if it
# exists, unless FLASH_TUNING_DB=off; fc.tuning.use_database changes it.
_active: dict = {"db": None, "resolved": False}


def active_database():
    if not _active["resolved"]:
        _active["resolved"] = True
        path = default_path()
        if os.environ.get("FLASH_TUNING_DB", "").lower() not in ("off", "0", "none") and \
                os.path.exists(path):
            _active["db"] = TuningDatabase(path)
    return _active["db"]


def use_database(db) -> None:
    """Makes later compiles read `db` (a TuningDatabase, a path, or None
    to stop using one); clears the compile caches that may hold code
    compiled without it."""
    from ..jit import clear_caches
    from ..ops import clear_cache
    _active["db"] = TuningDatabase(db) if isinstance(db, str) else db
    _active["resolved"] = True
    clear_cache()
    clear_caches()


# Ops whose ukernel parameters are tuned (each runs as sgemm calls).
TUNABLE_OPS = ("flash.matmul", "flash.batch_matmul", "flash.conv2d")
SGEMM_ATTR = "flash.sgemm"


def with_tuning(op: str, shapes, attrs):
    """`attrs` plus the database's flash.sgemm parameters for this op and
    shapes, if it has them (explicit parameters are left as they are)."""
    if op not in TUNABLE_OPS or (attrs and SGEMM_ATTR in attrs):
        return attrs
    db = active_database()
    if db is None:
        return attrs
    try:
        config = db.lookup(op, shapes_key(shapes, attrs))
    except sqlite3.Error:
        return attrs  # a locked or unreadable database never breaks a compile
    sgemm = config.get("sgemm") if isinstance(config, dict) else None
    if not sgemm or not any(sgemm):
        return attrs
    return dict(attrs or {}) | {SGEMM_ATTR: [int(v) for v in sgemm]}


def program_key(source: str) -> str:
    """A whole program's database key: a hash of its Flash IR text without
    the ops' tuned parameters (which a later trace adds from the database),
    so the program is found before and after its ops were tuned."""
    text = re.sub(r"flash\.sgemm = array<i64:[^>]*>(, )?", "", source)
    text = text.replace(", }", "}").replace(" {}", "")
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def program_options(source: str, options: str) -> str:
    """The pipeline options tuned for this exact program, when the caller
    gave none and the database has them."""
    if options:
        return options
    db = active_database()
    if db is None:
        return options
    try:
        config = db.lookup("program", program_key(source))
    except sqlite3.Error:
        return options
    return (config or {}).get("options", "") or options


def with_tuned_ops(text: str, db=None) -> str:
    """Flash IR text with each tunable op's database parameters as its
    flash.sgemm attribute, as a trace would have written them: how a
    program compiled from text (a .mlir file) gets its tuned ops. Ops that
    already carry parameters keep them."""
    from .space import problems_of_text
    db = db if db is not None else active_database()
    if db is None or "flash." not in text:
        return text
    out = text
    for p, line in problems_of_text(text):
        if SGEMM_ATTR in line:
            continue
        try:
            config = db.lookup(p.op, shapes_key(p.shapes, p.attrs))
        except sqlite3.Error:
            return text
        sgemm = (config or {}).get("sgemm")
        if not sgemm or not any(sgemm):
            continue
        attr = f"{SGEMM_ATTR} = array<i64: {', '.join(str(int(v)) for v in sgemm)}>"
        head, sep, tail = line.partition(" : ")
        if "{" in head:  # an attribute dictionary already
            new = head.replace("{", "{" + attr + ", ", 1) + sep + tail
        else:
            new = f"{head} {{{attr}}}{sep}{tail}"
        out = out.replace(line, new, 1)
    return out
