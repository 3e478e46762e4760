# Test harness run inside the sandbox (python3 -I -c <this file>).
#
# Input: one JSON object on stdin:
#   {"nonce": str, "program": str, "prelude": str, "mode": "check"|"asserts",
#    "test": str, "entryPoint": str,          # mode "check" (HumanEval)
#    "setup": str, "asserts": [str],          # mode "asserts" (MBPP)
#    "perTestMs": int, "maxTimeouts": int, "memoryMb": int}
# Output: JSON lines on fd 3, each prefixed with the nonce, so whatever the candidate
# prints on stdout/stderr can never be mistaken for a result:
#   {"event": "plan", "tests": [source, ...]}
#   {"event": "load", "ok": bool, "kind": ..., "message": ...}
#   {"event": "test", "index": i, "status": "pass"|"fail"|"error"|"timeout"|"memory"|"cpu"|"skipped", "message": ...}
#   {"event": "done"}
# Messages never contain paths, pids or durations: feedback built from them must be
# identical when the same program runs twice (replay compares it).
import ast
import fcntl
import json
import os
import re
import signal
import sys

_cfg = json.loads(sys.stdin.read())
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)
os.close(_devnull)

# Move the result channel out of the way of casual writes to fd 3.
_out_fd = fcntl.fcntl(3, fcntl.F_DUPFD_CLOEXEC, 200)
os.close(3)
_nonce = _cfg["nonce"]
_pid = os.getpid()


def _emit(obj):
    if os.getpid() != _pid:  # a forked copy of the harness must not report results
        return
    data = (_nonce + json.dumps(obj) + "\n").encode()
    while data:
        n = os.write(_out_fd, data)
        data = data[n:]


class _TestTimeout(BaseException):
    """BaseException so a candidate's `except Exception` cannot swallow it."""


class _CpuLimit(BaseException):
    pass


def _on_alarm(_sig, _frame):
    raise _TestTimeout()


def _on_xcpu(_sig, _frame):
    raise _CpuLimit()


signal.signal(signal.SIGALRM, _on_alarm)
signal.signal(signal.SIGXCPU, _on_xcpu)

_ADDR = re.compile(r"0x[0-9a-fA-F]{4,}")
_MAX_MSG = 300


def _clean(text):
    text = _ADDR.sub("0x..", str(text))
    return text if len(text) <= _MAX_MSG else text[:_MAX_MSG] + "..."


def _describe(exc):
    """Type and message; plus the line in the candidate program when the error came from it."""
    name = type(exc).__name__
    msg = _clean(exc)
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "solution.py":
            line = tb.tb_lineno
        tb = tb.tb_next
    where = " (solution.py line %d)" % line if line else ""
    return (name + ": " + msg if msg else name) + where


def _run_limited(fn):
    """Runs fn under the per-test timeout; returns (status, message)."""
    signal.setitimer(signal.ITIMER_REAL, _cfg["perTestMs"] / 1000.0)
    try:
        fn()
        return ("pass", "")
    except _TestTimeout:
        return ("timeout", "timed out after %d ms" % _cfg["perTestMs"])
    except _CpuLimit:
        return ("cpu", "CPU time limit exceeded")
    except MemoryError:
        return ("memory", "MemoryError (memory limit %d MiB)" % _cfg["memoryMb"])
    except RecursionError as e:
        return ("error", _describe(e))
    except AssertionError as e:
        return ("fail", _clean(e))
    except SystemExit as e:
        return ("error", "SystemExit: %s" % _clean(e.code))
    except KeyboardInterrupt:
        return ("error", "KeyboardInterrupt")
    except Exception as e:
        return ("error", _describe(e))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _segment(source, node):
    seg = ast.get_source_segment(source, node) or ast.unparse(node)
    return seg


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

    status, _ = _run_limited(ev)
    return _clean(box["v"]) if status == "pass" else None


def main():
    mode = _cfg["mode"]
    env = {"__name__": "__main__", "__builtins__": __builtins__}

    # Build the list of tests first so that the plan is known even if loading fails.
    tests = []  # (source text, ast statement or None, is_test)
    test_src = ""
    if mode == "check":
        test_src = _cfg["test"]
        tree = ast.parse(test_src)
        check = None
        module_rest = []
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
        module_rest = []
        for src in _cfg["asserts"]:
            tree = ast.parse(src)
            tests.append((src.strip(), tree, True))
    _emit({"event": "plan", "tests": [t[0] for t in tests if t[2]]})

    # Load the candidate program (after the prelude: the task's own stub/helpers).
    stub = {}

    def load():
        if _cfg.get("prelude"):
            exec(compile(_cfg["prelude"], "prelude.py", "exec"), env)
            stub["f"] = env.get(_cfg.get("entryPoint") or "")
        exec(compile(_cfg["program"], "solution.py", "exec"), env)
        if mode == "check":
            exec(compile(ast.Module(module_rest, []), "test.py", "exec"), env)
        elif _cfg.get("setup"):
            exec(compile(_cfg["setup"], "test_setup.py", "exec"), env)

    try:
        compile(_cfg["program"], "solution.py", "exec")
    except SyntaxError as e:
        _emit({"event": "load", "ok": False, "kind": "syntax",
               "message": "%s: %s (solution.py line %s)" % (type(e).__name__, _clean(e.msg), e.lineno)})
        _emit({"event": "done"})
        return
    status, message = _run_limited(load)
    if status != "pass":
        _emit({"event": "load", "ok": False, "kind": status, "message": message})
        _emit({"event": "done"})
        return
    if mode == "check":
        entry = _cfg["entryPoint"]
        # The prelude's stub is not the candidate's function.
        if entry not in env or not callable(env[entry]) or (stub.get("f") is not None and env[entry] is stub["f"]):
            _emit({"event": "load", "ok": False, "kind": "missing",
                   "message": "the program does not define a function named %s" % entry})
            _emit({"event": "done"})
            return
        env["candidate"] = env[entry]
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
        status, message = _run_limited(lambda: exec(code, env))
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
    _emit({"event": "done"})


try:
    main()
except BaseException as e:  # a harness problem, not a candidate problem
    _emit({"event": "harness-error", "message": _clean("%s: %s" % (type(e).__name__, e))})
    sys.exit(3)
os._exit(0)
