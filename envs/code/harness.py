# Trusted test harness (python3 -I -c <this file>). It runs OUTSIDE the candidate's sandbox,
# beside the candidate program's own sandboxed process (candidate-server.py; sandbox.ts starts
# both at once). It runs the tests here and calls the candidate's functions over a pipe. Only
# plain data (tagged JSON) comes back, so the verdict is computed where candidate code cannot
# reach it: no patching of this process, no object whose __eq__ says yes, no
# forged result lines (the candidate does not hold the result channel). The hidden tests never
# enter the sandbox.
#
# fds: 4 = requests to the candidate, 5 = its replies, 3 = results (to the parent).
# Input on stdin: one JSON object:
#   {"nonce": str, "program": str, "prelude": str, "mode": "check"|"asserts",
#    "test": str, "entryPoint": str,          # mode "check" (HumanEval)
#    "setup": str, "asserts": [str],          # mode "asserts" (MBPP)
#    "perTestMs": int, "maxTimeouts": int, "memoryMb": int, "wallMs": int}
# Output: JSON lines on fd 3, each prefixed with the nonce:
#   {"event": "plan", "tests": [source, ...]}
#   {"event": "load", "ok": bool, "kind": ..., "message": ...}
#   {"event": "test", "index": i, "status": "pass"|"fail"|"error"|"timeout"|"memory"|"cpu"|"skipped", "message": ...}
#   {"event": "candidate-exit", "kind": "exit"|"unresponsive"}
#   {"event": "done"}
# Messages never contain paths, pids or durations: feedback built from them must be
# identical when the same program runs twice (replay compares it).
import ast
import builtins
import fcntl
import json
import os
import re
import select
import sys
import time

_cfg = json.loads(sys.stdin.read())
_out_fd = fcntl.fcntl(3, fcntl.F_DUPFD_CLOEXEC, 200)
_req_w = fcntl.fcntl(4, fcntl.F_DUPFD_CLOEXEC, 200)
_resp_r = fcntl.fcntl(5, fcntl.F_DUPFD_CLOEXEC, 200)
for _fd in (3, 4, 5):
    os.close(_fd)
for _fd in (_req_w, _resp_r):
    os.set_blocking(_fd, False)  # waits on the candidate go through select(), with deadlines

if hasattr(sys, "set_int_max_str_digits"):
    # Big enough for any test value, small enough that parsing a reply stays cheap (it is quadratic).
    sys.set_int_max_str_digits(100_000)

_nonce = _cfg["nonce"]
_per_test_ms = _cfg["perTestMs"]
# How long past a call's time limit the candidate may take to answer before it counts as
# unresponsive (a long C-level operation cannot be interrupted by its timer); the parent then
# kills it.
_GRACE_S = max(1.0, _per_test_ms / 2000.0)
_MAX_REPLY = 16 * 1024 * 1024


def _emit(obj):
    data = (_nonce + json.dumps(obj) + "\n").encode()
    while data:
        data = data[os.write(_out_fd, data):]


class _TestTimeout(BaseException):
    pass


class _CpuLimit(BaseException):
    pass


class _CandidateMemory(BaseException):
    pass


class _Gone(BaseException):
    """The candidate process ended or stopped answering: no further test can run. How it
    ended (exit code, signal) is added by the parent, which started it."""

    def __init__(self, kind):
        super().__init__(kind)
        self.event = {"event": "candidate-exit", "kind": kind}


_ADDR = re.compile(r"0x[0-9a-fA-F]{4,}")
_MAX_MSG = 300


def _clean(text):
    text = _ADDR.sub("0x..", str(text))
    return text if len(text) <= _MAX_MSG else text[:_MAX_MSG] + "..."


# ---- the pipe to the candidate -------------------------------------------------------------

_buf = b""
_seq = 0
_dead = None  # a _Gone once the candidate is gone


def _gone(kind):
    """Marks the candidate as gone (the parent kills what is left of it); returns the _Gone to raise."""
    global _dead
    if _dead is None:
        _dead = _Gone(kind)
    return _dead


def _send(obj, deadline):
    if _dead is not None:
        raise _dead
    data = (json.dumps(obj) + "\n").encode()
    while data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([], [_req_w], [], left)[1]:
            raise _gone("unresponsive")
        try:
            data = data[os.write(_req_w, data[:65536]):]
        except BlockingIOError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            raise _gone("exit")


def _read_chunk(deadline):
    """Some bytes of the candidate's replies; raises _Gone if it died or did not answer in time."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([_resp_r], [], [], left)[0]:
            raise _gone("unresponsive")
        try:
            chunk = os.read(_resp_r, 1 << 20)
        except BlockingIOError:
            continue
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise _gone("exit")
        return chunk


def _receive(deadline):
    """The next reply line, parsed; raises _Gone if the candidate died or did not answer in time."""
    global _buf
    chunks, size = [_buf], len(_buf)
    while b"\n" not in chunks[-1]:  # only the newest chunk can hold the first newline
        if size > _MAX_REPLY:
            # Too large to check: skip to the end of this reply (within the deadline).
            chunks, size = [b""], 0
            while True:
                chunk = _read_chunk(deadline)
                if b"\n" in chunk:
                    _buf = chunk.split(b"\n", 1)[1]
                    return {"ok": False, "status": "too-large"}
        chunk = _read_chunk(deadline)
        chunks.append(chunk)
        size += len(chunk)
    _buf = b"".join(chunks)
    line, _buf = _buf.split(b"\n", 1)
    try:
        reply = json.loads(line)
    except (ValueError, RecursionError):
        reply = None
    return reply if type(reply) is dict else {"ok": False, "status": "bad-reply"}


# ---- values: plain data only --------------------------------------------------------------


class _Remote:
    """A value the candidate returned that is not plain data: it stays in the candidate
    process; here it can only be passed back (compares equal to nothing but itself)."""

    __slots__ = ("ref", "type_name")

    def __init__(self, ref, type_name):
        self.ref = ref
        self.type_name = type_name

    def __repr__(self):
        return "<%s object>" % self.type_name

    def __call__(self, *args, **kwargs):
        return _call({"ref": self.ref}, args, kwargs)

    def __bool__(self):
        # Its truth is the program's to define, and the program is not asked here.
        raise TypeError("a %s object from the program has no truth value in the tests" % self.type_name)


class ResultError(Exception):
    """The candidate's reply cannot be checked (malformed, or too large)."""


def _enc(v):
    t = type(v)
    if v is None or t in (bool, int, str):
        return v
    if t is float:
        return v if v == v and v not in (float("inf"), float("-inf")) else {"F": repr(v)}
    if t is list or t is tuple or t is set or t is frozenset:
        return {{list: "L", tuple: "T", set: "S", frozenset: "FS"}[t]: [_enc(x) for x in v]}
    if t is dict:
        return {"D": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if t is bytes:
        return {"B": v.hex()}
    if t is bytearray:
        return {"BA": v.hex()}
    if t is complex:
        return {"C": [_enc(v.real), _enc(v.imag)]}
    if t is _Remote:
        return {"R": v.ref}
    for base in (bool, int, float, str, tuple, list, dict, set, frozenset, bytes, bytearray, complex):
        if isinstance(v, base):
            return _enc(base(v))
    raise TypeError("a test passes a %s to the program, which only takes plain data" % t.__name__)


_PLAIN = (type(None), bool, int, float, str)


def _dec(v):
    """Builds exact builtin types from the candidate's reply; anything else is a bad reply."""
    if type(v) in _PLAIN:
        return v
    if type(v) is not dict or len(v) not in (1, 2):
        raise ResultError("unexpected %s" % type(v).__name__)
    if "R" in v:
        if type(v["R"]) is not int:
            raise ResultError("bad reference")
        return _Remote(v["R"], re.sub(r"[^\w.]", "", str(v.get("type", "object")))[:60] or "object")
    (tag, x), = v.items()
    if tag in ("L", "T", "S", "FS", "D", "C") and type(x) is not list:
        raise ResultError("bad %s" % tag)
    if tag == "L":
        return [_dec(e) for e in x]
    if tag == "T":
        return tuple(_dec(e) for e in x)
    if tag == "S":
        return {_dec(e) for e in x}
    if tag == "FS":
        return frozenset(_dec(e) for e in x)
    if tag == "D":
        return {_dec(k): _dec(e) for k, e in x}
    if tag == "C" and len(x) == 2 and all(type(p) in (int, float) or type(p) is dict for p in x):
        return complex(float(_dec(x[0])), float(_dec(x[1])))
    if tag in ("B", "BA") and type(x) is str:
        return (bytes if tag == "B" else bytearray).fromhex(x)
    if tag == "F" and x in ("inf", "-inf", "nan"):
        return float(x)
    raise ResultError("bad tag")


def _candidate_exception(err):
    """The candidate's exception, re-raised here as its nearest builtin Exception class (so a
    test's `except ValueError` still works), carrying the candidate's type name and line."""
    base = Exception
    for name in err.get("mro", []) if isinstance(err.get("mro"), list) else []:
        c = getattr(builtins, str(name), None)
        if isinstance(c, type) and issubclass(c, Exception):
            base = c
            break
    try:
        exc = base(str(err.get("message", "")))
    except Exception:
        exc = Exception(str(err.get("message", "")))
    exc._leafe_type = re.sub(r"[^\w.]", "", str(err.get("type", "Exception")))[:80] or "Exception"
    exc._leafe_line = err.get("line") if type(err.get("line")) is int else None
    return exc


def _remaining_s():
    left = _deadline - time.monotonic()
    if left <= 0:
        raise _TestTimeout()
    return left


def _call(target, args, kwargs):
    global _seq
    _seq += 1
    left = _remaining_s()
    req = dict(target, op="call", id=_seq, args=[_enc(a) for a in args], kwargs={k: _enc(x) for k, x in kwargs.items()}, ms=int(left * 1000))
    deadline = time.monotonic() + left + _GRACE_S
    _send(req, deadline)
    reply = _receive(deadline)
    while reply.get("id") != _seq and reply.get("status") not in ("bad-reply", "too-large"):
        reply = _receive(deadline)  # stray lines the program wrote on the reply pipe
    try:
        if reply.get("ok") is True:
            value = _dec(reply.get("value"))
            after = reply.get("after")
            if type(after) is list and len(after) == len(args):
                for a, new in zip(args, after):
                    _write_back(a, new)
            return value
    except (ResultError, TypeError, ValueError, RecursionError) as e:
        raise ResultError("the program's process sent an invalid reply (%s)" % _clean(e))
    status = reply.get("status")
    if status == "timeout":
        raise _TestTimeout()
    if status == "cpu":
        raise _CpuLimit()
    if status == "memory":
        raise _CandidateMemory()
    if status == "too-large":
        raise ResultError("the program's result is larger than %d MiB" % (_MAX_REPLY >> 20))
    if status != "error":
        raise ResultError("the program's process sent an invalid reply")
    raise _candidate_exception(reply.get("error") if type(reply.get("error")) is dict else {})


def _write_back(arg, new):
    """In-place changes the candidate made to a mutable argument, applied to the test's object."""
    if new is None or type(arg) not in (list, dict, set, bytearray):
        return
    value = _dec(new)
    if type(value) is not type(arg):
        return
    if type(arg) is list or type(arg) is bytearray:
        arg[:] = value
    else:
        arg.clear()
        arg.update(value)


def _proxy(name):
    def call(*args, **kwargs):
        return _call({"fn": name}, args, kwargs)

    call.__name__ = call.__qualname__ = name
    return call


# ---- running the tests --------------------------------------------------------------------

_deadline = 0.0


def _describe(exc):
    name = getattr(exc, "_leafe_type", None) or type(exc).__name__
    msg = _clean(exc)
    line = getattr(exc, "_leafe_line", None)
    where = " (solution.py line %d)" % line if line else ""
    return (name + ": " + msg if msg else name) + where


def _run_limited(fn):
    """Runs fn under the per-test time limit; returns (status, message). _Gone propagates."""
    global _deadline
    _deadline = time.monotonic() + _per_test_ms / 1000.0
    try:
        fn()
        return ("pass", "")
    except _TestTimeout:
        return ("timeout", _status_message("timeout"))
    except _CpuLimit:
        return ("cpu", _status_message("cpu"))
    except (_CandidateMemory, MemoryError):
        return ("memory", _status_message("memory"))
    except AssertionError as e:
        if hasattr(e, "_leafe_type"):  # raised by the candidate, not by a test's assert
            return ("error", _describe(e))
        return ("fail", _clean(e))
    except Exception as e:
        return ("error", _describe(e))


def _segment(source, node):
    return ast.get_source_segment(source, node) or ast.unparse(node)


def _got_value(stmt, env):
    """For `assert <expr> == <expected>`, the repr of what the left side evaluated to."""
    if not isinstance(stmt, ast.Assert):
        return None
    t = stmt.test
    if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq)):
        return None
    box = {}

    def ev():
        box["v"] = repr(eval(compile(ast.Expression(t.left), "<test>", "eval"), env))

    try:
        status, _ = _run_limited(ev)
    except _Gone:
        return None
    return _clean(box["v"]) if status == "pass" else None


def _status_message(status):
    if status == "timeout":
        return "timed out after %d ms" % _per_test_ms
    if status == "cpu":
        return "CPU time limit exceeded"
    return "MemoryError (memory limit %d MiB)" % _cfg["memoryMb"]


def _load_failure(reply):
    status = reply.get("status")
    if status in ("timeout", "cpu", "memory"):
        return status, _status_message(status)
    err = reply.get("error") if type(reply.get("error")) is dict else {}
    if err.get("type") in ("SyntaxError", "IndentationError", "TabError") and type(err.get("line")) is int:
        return "syntax", "%s: %s (solution.py line %s)" % (err["type"], _clean(err.get("message", "")), err["line"])
    return "error", _describe(_candidate_exception(err))


# Standard modules whose import does something beyond defining names (opens a browser, prints,
# starts a GUI): never imported here on a candidate's word.
_NO_IMPORT = {"antigravity", "this", "turtle", "turtledemo", "tkinter", "idlelib", "webbrowser", "pydoc", "ensurepip", "venv", "lib2to3"}


def _program_modules(program):
    """{name: module} for the program's top-level `import x` / `import x.y as z` of standard
    modules, imported HERE: MBPP asserts run in the program's namespace in MBPP's own evaluation
    (`assert math.isclose(...)` after the program's `import math`), so the tests get the same
    modules, never the candidate's objects."""
    if len(program) > 1_000_000:
        return {}
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.Import):
            continue
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top not in stdlib or top in _NO_IMPORT:
                continue
            try:
                module = __import__(alias.name)
                if alias.asname:
                    for part in alias.name.split(".")[1:]:
                        module = getattr(module, part)
            except Exception:
                continue
            found[alias.asname or top] = module
    return found


def main():
    mode = _cfg["mode"]
    env = {"__name__": "__main__", "__builtins__": builtins}

    tests = []  # (source text, ast statement, is_test)
    module_rest = []
    if mode == "check":
        test_src = _cfg["test"]
        tree = ast.parse(test_src)
        check = None
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "check":
                check = node
            else:
                module_rest.append(node)
        if check is None:
            raise ValueError("test code defines no check() function")
        for stmt in check.body:
            is_test = any(isinstance(n, ast.Assert) for n in ast.walk(stmt))
            tests.append((_segment(test_src, stmt), stmt, is_test))
    else:
        for src in _cfg["asserts"]:
            tests.append((src.strip(), ast.parse(src), True))
    _emit({"event": "plan", "tests": [t[0] for t in tests if t[2]]})

    # The tests' own namespace, here: the task's prelude (helpers such as HumanEval's poly) or
    # MBPP setup code, the test module's top level. Candidate functions are proxies.
    if mode == "check":
        if _cfg.get("prelude"):
            exec(compile(_cfg["prelude"], "prelude.py", "exec"), env)
        exec(compile(ast.Module(module_rest, []), "test.py", "exec"), env)
    elif _cfg.get("setup"):
        exec(compile(_cfg["setup"], "test_setup.py", "exec"), env)

    load = {"op": "load", "program": _cfg["program"], "prelude": _cfg.get("prelude") or "", "ms": _per_test_ms,
            "entryPoint": _cfg.get("entryPoint") if mode == "check" else "",
            "setup": _cfg.get("setup") or "" if mode == "asserts" else ""}
    # The candidate's sandbox starts before it can answer: the wall clock bounds that wait.
    deadline = time.monotonic() + _cfg["wallMs"] / 1000.0
    _send(load, deadline)
    reply = _receive(deadline)
    if reply.get("ok") is not True:
        kind, message = _load_failure(reply)
        _emit({"event": "load", "ok": False, "kind": kind, "message": message})
        return
    if mode == "check":
        if reply.get("missing") is not False:
            _emit({"event": "load", "ok": False, "kind": "missing",
                   "message": "the program does not define a function named %s" % _cfg["entryPoint"]})
            return
        # Tests may also call the function by its name (HumanEval/33), not only as `candidate`.
        env["candidate"] = env[_cfg["entryPoint"]] = _proxy(_cfg["entryPoint"])
    else:
        for name, module in _program_modules(_cfg["program"]).items():
            env.setdefault(name, module)
        names = reply.get("names") if type(reply.get("names")) is list else []
        for name in names:
            # Never a builtin: a program defining `set` or `len` would answer both sides of
            # `assert set(f(x)) == set(y)`.
            if type(name) is str and name.isidentifier() and name not in env and not hasattr(builtins, name):
                env[name] = _proxy(name)
    _emit({"event": "load", "ok": True})

    index = 0
    timeouts = 0
    blocked = None  # reason the remaining tests are not run
    for src, stmt, is_test in tests:
        if blocked is not None:
            if is_test:
                _emit({"event": "test", "index": index, "status": "skipped", "message": blocked})
                index += 1
            continue
        code = compile(stmt if isinstance(stmt, ast.Module) else ast.Module([stmt], []), "test.py", "exec")
        if _dead is not None:
            raise _dead
        try:
            status, message = _run_limited(lambda: exec(code, env))
        except _Gone as gone:
            if is_test and gone.event["kind"] == "unresponsive":
                _emit({"event": "test", "index": index, "status": "timeout", "message": _status_message("timeout")})
            raise
        if not is_test:
            if status != "pass":
                blocked = "not run: test setup `%s` failed: %s" % (_clean(src), message)
            continue
        if status == "fail":
            node = stmt.body[0] if isinstance(stmt, ast.Module) else stmt
            got = _got_value(node, env)
            if got is not None:
                message = (message + "; " if message else "") + "left side was " + got
        _emit({"event": "test", "index": index, "status": status, "message": message})
        index += 1
        if status == "timeout":
            timeouts += 1
            if timeouts >= _cfg["maxTimeouts"]:
                blocked = "not run: %d earlier tests timed out" % timeouts
        elif status == "cpu":
            blocked = "not run: CPU time limit exceeded"


try:
    try:
        main()
    except _Gone as gone:
        _emit(gone.event)
    _emit({"event": "done"})
except BaseException as e:  # a harness problem, not a candidate problem
    _emit({"event": "harness-error", "message": _clean("%s: %s" % (type(e).__name__, e))})
    sys.exit(3)
os._exit(0)
