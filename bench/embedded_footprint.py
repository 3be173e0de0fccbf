"""Embedded footprint: time to the first page and idle memory of ``resonanz up``, and a clean stop.

    .venv/bin/python bench/embedded_footprint.py             # cold start (fresh data dir) + warm restart

For each start: ``resonanz up`` (embedded default: SQLite + ORM task queue, web + worker) in a temporary
data directory on a free port of 127.0.0.1; seconds from the command to the first ``200`` of
``/accounts/login/``. After the cold start it idles ``--idle`` seconds, then the resident memory of the
whole process tree is read from /proc (sum of VmRSS; PSS too, which does not count shared pages twice).
Then SIGINT: to the process group on the first run (what Ctrl-C in a terminal does), to the ``resonanz
up`` process alone on the second (what a supervisor does), and every process of the tree must be gone
within 15 s. Targets (reported, not asserted): ≤ 300 MB idle RSS, ≤ 10 s to the first page.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("RESONANZ_ARTIFACTS", ROOT / "artifacts")) / "bench"
TARGETS = {"idle_rss_mb": 300, "first_page_s": 10, "stop_s": 15}
STOP_LIMIT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(root: int) -> list[int]:
    tree, found, todo = children_of(), [], [root]
    while todo:
        pid = todo.pop()
        if Path(f"/proc/{pid}").exists():
            found.append(pid)
            todo.extend(tree.get(pid, []))
    return found


def _status_kb(pid: int, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _pss_kb(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        parts = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        text = " ".join(p.decode(errors="replace") for p in parts if p)
        return text.replace(sys.executable, "python")[:120]
    return "?"


def memory(root: int) -> dict[str, Any]:
    pids = process_tree(root)
    procs: list[dict[str, Any]] = [
        {"pid": pid, "cmd": _cmdline(pid), "rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 1),
         "pss_mb": round(_pss_kb(pid) / 1024, 1)}
        for pid in pids
    ]
    return {
        "rss_mb": round(sum(p["rss_mb"] for p in procs), 1),
        "pss_mb": round(sum(p["pss_mb"] for p in procs), 1),
        "processes": procs,
    }


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class UpProcess:
    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in {"DATABASE_URL", "REDIS_URL", "RESONANZ_DATA_DIR", "RESONANZ_ENV",
                            "DJANGO_SETTINGS_MODULE", "RESONANZ_REDIS_PREFIX"}}
        env |= {"RESONANZ_ADMIN_EMAIL": "bench@example.com", "RESONANZ_ADMIN_PASSWORD": "bench-password-123",
                "PYTHONUNBUFFERED": "1"}
        self.lines: list[tuple[float, str]] = []
        self.started = time.perf_counter()
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "resonanz", "up", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data_dir)],
            env=env, cwd=data_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.perf_counter() - self.started, line.rstrip()))
            self.log.write(line)
            self.log.flush()

    def seconds_until(self, text: str) -> float | None:
        return next((round(t, 2) for t, line in self.lines if text in line), None)

    def close(self) -> None:
        self.log.close()


def wait_first_page(up: UpProcess, url: str, limit: float) -> float | None:
    while time.perf_counter() - up.started < limit:
        if up.proc.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1 only
                if response.status == 200:
                    return round(time.perf_counter() - up.started, 2)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.05)
    return None


def stop(up: UpProcess, *, to_group: bool) -> dict[str, Any]:
    pids = process_tree(up.proc.pid)
    started = time.perf_counter()
    with contextlib.suppress(ProcessLookupError):
        if to_group:
            os.killpg(up.proc.pid, signal.SIGINT)  # its own session: the group is ours to signal
        else:
            up.proc.send_signal(signal.SIGINT)
    survivors = pids
    while time.perf_counter() - started < STOP_LIMIT:
        up.proc.poll()  # reap our direct child so it does not linger as a zombie
        survivors = [pid for pid in pids if is_alive(pid)]
        if not survivors:
            break
        time.sleep(0.05)
    elapsed = round(time.perf_counter() - started, 2)
    killed = []
    for pid in survivors:  # only processes of the tree we started, by pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed.append({"pid": pid, "cmd": _cmdline(pid)})
    with contextlib.suppress(subprocess.TimeoutExpired):
        up.proc.wait(5)
    up.reader.join(2)
    return {
        "signal": "SIGINT to the process group" if to_group else "SIGINT to `resonanz up` only",
        "processes": len(pids),
        "all_stopped": not survivors,
        "stopped_in_s": elapsed if not survivors else None,
        "exit_code": up.proc.returncode,
        "killed_after_limit": killed,
        "printed_stopped": up.seconds_until("Resonanz stopped.") is not None,
    }


def one_start(data_dir: Path, label: str, *, idle: float, measure_memory: bool, to_group: bool,
              limit: float) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/accounts/login/"
    up = UpProcess(data_dir, port, ARTIFACTS / "logs" / f"up-{label}.log")
    result: dict[str, Any] = {"port": port}
    try:
        result["first_page_s"] = wait_first_page(up, url, limit)
        result["up_printed_s"] = up.seconds_until("Resonanz is up")
        if result["first_page_s"] is None:
            code = up.proc.poll()
            result["error"] = "no page served" + (f" (exit code {code})" if code is not None else "")
            return result
        if measure_memory:
            time.sleep(idle)
            result["idle_s"] = idle
            result["memory"] = memory(up.proc.pid)
    finally:
        result["stop"] = stop(up, to_group=to_group)
        up.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idling before measuring memory")
    parser.add_argument("--limit", type=float, default=120.0, help="give up waiting for a page after this")
    parser.add_argument("--json", type=Path, default=ARTIFACTS / "embedded_footprint.json")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    ns = parser.parse_args(argv)
    (ARTIFACTS / "logs").mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="resonanz-footprint-"))
    result: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                              "cpus": os.cpu_count()}
    try:
        result["cold"] = one_start(data_dir, "cold", idle=ns.idle, measure_memory=True, to_group=True,
                                   limit=ns.limit)
        result["warm"] = one_start(data_dir, "warm", idle=ns.idle, measure_memory=False, to_group=False,
                                   limit=ns.limit)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if not ns.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    cold, warm = result["cold"], result["warm"]
    rss = (cold.get("memory") or {}).get("rss_mb")
    result["summary"] = {
        "first_page_cold_s": cold.get("first_page_s"),
        "first_page_warm_s": warm.get("first_page_s"),
        "idle_rss_mb": rss,
        "idle_pss_mb": (cold.get("memory") or {}).get("pss_mb"),
        "stop_cold_s": cold["stop"]["stopped_in_s"],
        "stop_warm_s": warm["stop"]["stopped_in_s"],
        "targets": {
            "idle_rss<=300MB": rss is not None and rss <= TARGETS["idle_rss_mb"],
            "first_page<=10s (cold)": (cold.get("first_page_s") or 1e9) <= TARGETS["first_page_s"],
            "first_page<=10s (warm)": (warm.get("first_page_s") or 1e9) <= TARGETS["first_page_s"],
            "stopped<=15s": cold["stop"]["all_stopped"] and warm["stop"]["all_stopped"],
        },
    }
    print_table(result)
    ns.json.parent.mkdir(parents=True, exist_ok=True)
    ns.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {ns.json}")
    return 0 if cold.get("first_page_s") and warm.get("first_page_s") else 1


def print_table(result: dict[str, Any]) -> None:
    s, cold, warm = result["summary"], result["cold"], result["warm"]
    title = f"Embedded footprint — resonanz up (SQLite + ORM task queue), {result['cpus']} CPUs"
    print()
    print(title)
    print("-" * len(title))
    rows = [
        ("first page, cold start (s)", s["first_page_cold_s"], "≤ 10"),
        ("  'Resonanz is up' printed (s)", cold.get("up_printed_s"), "(after migrate + bootstrap)"),
        ("first page, warm restart (s)", s["first_page_warm_s"], "≤ 10"),
        (f"idle RSS after {cold.get('idle_s', 0):g} s (MB)", s["idle_rss_mb"], "≤ 300"),
        ("idle PSS (MB)", s["idle_pss_mb"], ""),
        ("stop, SIGINT to group (s)", s["stop_cold_s"], "≤ 15"),
        ("stop, SIGINT to parent (s)", s["stop_warm_s"], "≤ 15"),
    ]
    for label, value, target in rows:
        shown = "—" if value is None else value
        print(f"{label:<34}{shown!s:<10}{('target ' + target) if target.startswith('≤') else target}")
    for proc in (cold.get("memory") or {}).get("processes", []):
        print(f"    {proc['rss_mb']:>7} MB RSS {proc['pss_mb']:>7} MB PSS  {proc['cmd']}")
    for run in (cold, warm):
        if run["stop"]["killed_after_limit"]:
            print(f"  still running after {STOP_LIMIT:g} s (killed): {run['stop']['killed_after_limit']}")
        if run.get("error"):
            print(f"  error: {run['error']}")
    print("targets:", ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in s["targets"].items()))


if __name__ == "__main__":
    raise SystemExit(main())
