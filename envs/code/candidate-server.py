# The candidate's side of a test run: runs inside the sandbox (python3 -I -c <this file>), with
# only the candidate program, the task's prelude/setup code and the arguments of each call.
# It never sees the tests, the expected values or the verdict, so nothing the program does to
# this process (patching it, builtins, sys.exit, printing) can change a result: the trusted
# harness (harness.py, outside the sandbox) calls functions here over a pipe and judges the
# plain values that come back.
#
# Requests: JSON lines on fd 3; replies: JSON lines on fd 4.
#   {"op": "load", "prelude", "program", "setup", "entryPoint", "ms"}
#     -> {"ok": true, "names": [callable top-level names], "missing": bool}
#      | {"ok": false, "status": ..., "error": {...}}
#   {"op": "call", "id", "fn": name | "ref": id, "args": [...], "kwargs": {...}, "ms"}
#     -> {"id", "ok": true, "value": enc, "after": [enc | null per argument]}
#      | {"id", "ok": false, "status": "error"|"timeout"|"cpu"|"memory", "error": {...}}
# Values are tagged JSON (see _enc); anything that is not plain data stays here and is sent
# as an opaque reference the harness can only pass back.
import json
import os
import signal
import sys

if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)

os.set_blocking(3, True)
os.set_blocking(4, True)
_req = os.fdopen(os.dup(3), "rb")
_resp_fd = os.dup(4)
os.close(3)
os.close(4)
os.set_inheritable(_resp_fd, False)


class _CallTimeout(BaseException):
    pass


class _CpuLimit(BaseException):
    pass


def _on_alarm(_sig, _frame):
    raise _CallTimeout()


def _on_xcpu(_sig, _frame):
    raise _CpuLimit()


signal.signal(signal.SIGALRM, _on_alarm)
signal.signal(signal.SIGXCPU, _on_xcpu)

_refs = []
_MAX_DEPTH = 200


def _enc(v, depth=0):
    if depth > _MAX_DEPTH:
        raise ValueError("the value is nested too deeply to be checked")
    t = type(v)
    if v is None or t is bool or t is str:
        return v
    if t is int:
        return v
    if t is float:
        return v if v == v and v not in (float("inf"), float("-inf")) else {"F": repr(v)}
    if t is list:
        return {"L": [_enc(x, depth + 1) for x in v]}
    if t is tuple:
        return {"T": [_enc(x, depth + 1) for x in v]}
    if t is dict:
        return {"D": [[_enc(k, depth + 1), _enc(x, depth + 1)] for k, x in v.items()]}
    if t is set:
        return {"S": [_enc(x, depth + 1) for x in v]}
    if t is frozenset:
        return {"FS": [_enc(x, depth + 1) for x in v]}
    if t is bytes:
        return {"B": v.hex()}
    if t is bytearray:
        return {"BA": v.hex()}
    if t is complex:
        return {"C": [_enc(v.real), _enc(v.imag)]}
    # Subclasses of plain types (namedtuple, Counter, IntEnum, str subclasses...) become their
    # plain base value: the harness only ever compares plain data.
    for base in (bool, int, float, str, tuple, list, dict, set, frozenset, bytes, bytearray, complex):
        if isinstance(v, base):
            return _enc(base(v), depth)
    # numpy scalars and arrays (np.int64 is no int, np.bool_ no bool) as their Python values.
    if t.__module__ == "numpy" and hasattr(v, "tolist"):
        return _enc(v.tolist(), depth + 1)
    _refs.append(v)
    return {"R": len(_refs) - 1, "type": t.__name__}


def _dec(v):
    if isinstance(v, dict):
        (tag, x), = v.items()
        if tag == "L":
            return [_dec(e) for e in x]
        if tag == "T":
            return tuple(_dec(e) for e in x)
        if tag == "D":
            return {_dec(k): _dec(e) for k, e in x}
        if tag == "S":
            return {_dec(e) for e in x}
        if tag == "FS":
            return frozenset(_dec(e) for e in x)
        if tag == "B":
            return bytes.fromhex(x)
        if tag == "BA":
            return bytearray.fromhex(x)
        if tag == "F":
            return float(x)
        if tag == "C":
            return complex(_dec(x[0]), _dec(x[1]))
        if tag == "R":
            return _refs[x]
        raise ValueError("unknown tag %r" % tag)
    return v


def _error(e):
    """Type, message and the line of the candidate program the error came from."""
    line = None
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "solution.py":
            line = tb.tb_lineno
        tb = tb.tb_next
    try:
        message = str(e)
    except BaseException:
        message = ""
    if isinstance(e, SyntaxError) and e.filename == "solution.py":
        message, line = str(e.msg), e.lineno
    return {"type": type(e).__name__, "mro": [c.__name__ for c in type(e).__mro__], "message": message[:2000], "line": line}


def _limited(fn, ms):
    """Runs fn under a timer of ms; returns a reply (without id)."""
    signal.setitimer(signal.ITIMER_REAL, max(ms, 1) / 1000.0)
    try:
        return fn()
    except _CallTimeout:
        return {"ok": False, "status": "timeout"}
    except _CpuLimit:
        return {"ok": False, "status": "cpu"}
    except MemoryError as e:
        return {"ok": False, "status": "memory", "error": _error(e)}
    except BaseException as e:  # SystemExit, KeyboardInterrupt too: an error of this call
        return {"ok": False, "status": "error", "error": _error(e)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


_env = {"__name__": "__main__", "__builtins__": __builtins__}


def _load(req):
    stub = None
    entry = req.get("entryPoint") or ""

    def run():
        nonlocal stub
        if req.get("prelude"):
            exec(compile(req["prelude"], "prelude.py", "exec"), _env)
            stub = _env.get(entry)
        exec(compile(req["program"], "solution.py", "exec"), _env)
        if req.get("setup"):
            exec(compile(req["setup"], "test_setup.py", "exec"), _env)
        f = _env.get(entry)
        # The prelude's stub is not the candidate's function.
        missing = bool(entry) and (not callable(f) or (stub is not None and f is stub))
        names = sorted(k for k, x in _env.items() if isinstance(k, str) and not k.startswith("__") and callable(x))
        return {"ok": True, "names": names, "missing": missing}

    return _limited(run, req["ms"])


def _call(req):
    fn = _env[req["fn"]] if "fn" in req else _refs[req["ref"]]
    args = [_dec(a) for a in req["args"]]
    kwargs = {k: _dec(x) for k, x in req["kwargs"].items()}

    def run():
        value = fn(*args, **kwargs)
        # In-place changes to mutable arguments go back too (tests may check them).
        after = [_enc(a) if type(a) in (list, dict, set, bytearray) else None for a in args]
        return {"ok": True, "value": _enc(value), "after": after}

    return _limited(run, req["ms"])


def _reply(obj):
    try:
        data = (json.dumps(obj) + "\n").encode()
    except BaseException as e:
        data = (json.dumps({"id": obj.get("id"), "ok": False, "status": "error", "error": _error(e)}) + "\n").encode()
    while data:
        n = os.write(_resp_fd, data)
        data = data[n:]


def main():
    for line in _req:
        req = json.loads(line)
        if req["op"] == "load":
            _reply(_load(req))
            continue
        try:
            reply = _call(req)
        except BaseException as e:  # a bad reference or name: an error of this call
            reply = {"ok": False, "status": "error", "error": _error(e)}
        reply["id"] = req["id"]
        _reply(reply)


main()
os._exit(0)
