"""Shared helpers for berth's end-to-end tests: free ports, temp dirs, and the real servers
(berthd, knotd, dnsmasq, unbound) run on 127.0.0.1 only.

Every process started here is killed at exit (atexit, plus PR_SET_PDEATHSIG so a killed test
takes its servers with it), every wait is bounded in time, and all state lives in one temp dir.
"""
import atexit
import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES = os.path.join(HERE, "zones")
KNOTD = "/usr/sbin/knotd"
DNSMASQ = "/usr/sbin/dnsmasq"
UNBOUND = "/usr/sbin/unbound"

_procs = []
_tmpdirs = []
_failures = []

# Every Berthd started here gets this admin token (--admin-token-file); http_get and the berth
# CLI (BERTH_TOKEN) send it unless told otherwise, so tests reach /api/v1 over TCP.
ADMIN_TOKEN = "it-admin-" + os.urandom(16).hex()
os.environ.setdefault("BERTH_TOKEN", ADMIN_TOKEN)


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------------------------------------
# checks: collect failures, report all, exit non-zero at the end

def check(cond, what, detail=""):
    if cond:
        log("  ok   " + what)
    else:
        log("  FAIL " + what + ((": " + detail) if detail else ""))
        _failures.append(what)
    return cond


def finish():
    if _failures:
        log("\n%d check(s) failed:" % len(_failures))
        for f in _failures:
            log("  - " + f)
        sys.exit(1)
    log("\nall checks passed")
    sys.exit(0)


# ---------------------------------------------------------------------------------------------
# processes and temp dirs

def _cleanup():
    for p in reversed(_procs):
        p.stop()
    if os.environ.get("BERTH_KEEP_TMP"):
        for d in _tmpdirs:
            log("kept " + d)
        return
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
# SIGTERM (e.g. ctest on timeout) -> normal exit path, so atexit runs
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

_libc = ctypes.CDLL(None, use_errno=True)


def _pdeathsig():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def remove_namespaces(prefixes):
    """Deletes every named network namespace whose name starts with one of `prefixes`,
    killing the processes still inside first (so nothing keeps it alive)."""
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if not name or not name.startswith(tuple(prefixes)):
            continue
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def tmpdir(prefix="berth-it-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 (bind 0, read, close). Bounded retries."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


class Proc:
    def __init__(self, name, argv, logpath, cwd=None, cpu=None):
        self.name = name
        self.argv = list(argv)
        if cpu is not None:
            self.argv = ["taskset", "-c", str(cpu)] + self.argv
        self.logpath = logpath
        self.logf = open(logpath, "wb")
        self.p = subprocess.Popen(self.argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=cwd, preexec_fn=_pdeathsig)
        self.pid = self.p.pid
        _procs.append(self)

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=5):
        if self.p.poll() is None:
            try:
                self.p.send_signal(signal.SIGCONT)
                self.p.terminate()
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)
            except ProcessLookupError:
                pass
        if not self.logf.closed:
            self.logf.close()
        return self.p.returncode

    def log_tail(self, n=40):
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""


# ---------------------------------------------------------------------------------------------
# DNS helpers

def query(port, name, rdtype="A", proto="udp", timeout=2.0, rd=False, edns=0, payload=1232,
          want_dnssec=False):
    q = dns.message.make_query(name, rdtype, use_edns=edns, payload=payload,
                               want_dnssec=want_dnssec)
    if not rd:
        q.flags &= ~dns.flags.RD
    if proto == "udp":
        return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout,
                             raise_on_truncation=False)
    return dns.query.tcp(q, "127.0.0.1", port=port, timeout=timeout)


def wait_dns(port, name, rdtype="SOA", timeout=15.0, proc=None):
    """Bounded wait until the server answers NOERROR for name/type over UDP."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError("%s exited (rc=%s) before answering:\n%s"
                               % (proc.name, proc.p.returncode, proc.log_tail()))
        try:
            r = query(port, name, rdtype, timeout=0.3)
            if r.rcode() == dns.rcode.NOERROR and r.answer:
                return r
            last = dns.rcode.to_text(r.rcode())
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last = repr(e)
        time.sleep(0.05)
    raise RuntimeError("no answer for %s %s on port %d within %.0fs (last: %s)%s"
                       % (name, rdtype, port, timeout, last,
                          ("\n" + proc.log_tail()) if proc else ""))


def wait_reply(port, timeout=15.0, proc=None):
    """Bounded wait until the server sends any DNS reply (e.g. REFUSED) over UDP."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError("%s exited:\n%s" % (proc.name, proc.log_tail()))
        try:
            return query(port, ".", "SOA", timeout=0.3)
        except Exception:  # noqa: BLE001
            time.sleep(0.05)
    raise RuntimeError("no reply on port %d within %.0fs" % (port, timeout))


def http_get(port, path, timeout=3.0, host="127.0.0.1", token=ADMIN_TOKEN):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path, headers={"Authorization": "Bearer " + token} if token else {})
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace"), dict(r.getheaders())
    finally:
        c.close()


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (berthd's api.sock, where the caller has admin rights)."""

    def __init__(self, path, timeout=5.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def http_unix(sock_path, method, path, body=None, timeout=5.0, headers=None):
    """One request over a unix socket; returns (status, body text)."""
    c = UnixHTTPConnection(sock_path, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# servers

class Knot:
    """A private knotd instance: foreground, one UDP/TCP worker, control socket in its dir."""

    def __init__(self, zones, port=None, cpu=None, workdir=None, extra_server=""):
        self.dir = workdir or tmpdir("berth-knot-")
        self.port = port or free_port()
        self.zones = {}
        zlines = []
        for name, src in zones.items():
            dst = os.path.join(self.dir, name.rstrip(".") + ".zone")
            if os.path.abspath(src) != dst:
                shutil.copyfile(src, dst)
            self.zones[name] = dst
            zlines.append("  - domain: %s\n    file: \"%s\"\n" % (name, dst))
        self.sock = os.path.join(self.dir, "knot.sock")
        conf = (
            "server:\n"
            "    rundir: \"%(d)s\"\n"
            "    listen: 127.0.0.1@%(p)d\n"
            "    udp-workers: 1\n"
            "    tcp-workers: 1\n"
            "    background-workers: 1\n"
            "%(extra)s"
            "control:\n"
            "    listen: \"%(sock)s\"\n"
            "database:\n"
            "    storage: \"%(d)s\"\n"
            "log:\n"
            "  - target: stderr\n"
            "    any: info\n"
            "template:\n"
            "  - id: default\n"
            "    storage: \"%(d)s\"\n"
            "    zonefile-sync: -1\n"
            "    zonefile-load: whole\n"
            "    journal-content: none\n"
            "zone:\n%(zones)s"
        ) % {"d": self.dir, "p": self.port, "sock": self.sock, "zones": "".join(zlines),
             "extra": extra_server}
        self.conf = os.path.join(self.dir, "knot.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = Proc("knotd", [KNOTD, "-c", self.conf], os.path.join(self.dir, "knotd.log"),
                         cpu=cpu)
        self.pid = self.proc.pid
        for name in zones:
            wait_dns(self.port, name, "SOA", proc=self.proc)

    def stop(self):
        return self.proc.stop()


class Berthd:
    """The real daemon under test, on loopback ports picked here. Ready = /readyz 200 + SOA."""

    def __init__(self, binary, zones=None, port=None, api=True, args=(), cpu=None, workdir=None,
                 ready_name=None, timeout=20.0, extra_config="", dns_config="  forward: []\n"):
        self.binary = binary
        self.dir = workdir or tmpdir("berth-berthd-")
        self.port = port or free_port()
        self.api_port = free_port() if api else None
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state, exist_ok=True)
        self.zones = {}
        # Hermetic: forwarding off unless the test passes --dns-forward (flags override the
        # file); berthd's default would forward to the host's resolv.conf nameservers.
        cfg = os.path.join(self.dir, "berthd.yaml")
        with open(cfg, "w") as f:
            # extra_config: more top-level YAML (auth:, zones: ...), e.g. from the caller's test;
            # dns_config: the lines of the dns: section
            f.write("dns:\n" + dns_config + extra_config)
        token_file = os.path.join(self.dir, "admin.token")
        with open(token_file, "w") as f:
            f.write(ADMIN_TOKEN + "\n")
        argv = [binary, "--config", cfg, "--admin-token-file", token_file,
                "--dns-listen", "127.0.0.1:%d" % self.port, "--state-dir", self.state,
                "--log-format", "text", "--api-socket", os.path.join(self.dir, "api.sock")]
        if api:
            argv += ["--api-listen", "127.0.0.1:%d" % self.api_port]
        for name, src in (zones or {}).items():
            dst = os.path.join(self.dir, name.rstrip(".") + ".zone")
            if os.path.abspath(src) != dst:
                shutil.copyfile(src, dst)
            self.zones[name] = dst
            argv += ["--zone", "%s=%s" % (name, dst)]
        argv += list(args)
        self.argv = argv
        self.proc = Proc("berthd", argv, os.path.join(self.dir, "berthd.log"), cpu=cpu)
        self.pid = self.proc.pid
        deadline = time.monotonic() + timeout
        if api:
            ok = False
            while time.monotonic() < deadline:
                if not self.proc.alive():
                    break
                try:
                    st, _, _ = http_get(self.api_port, "/readyz", timeout=0.5)
                    if st == 200:
                        ok = True
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            if not ok:
                raise RuntimeError("berthd not ready (/readyz) within %.0fs, rc=%s, argv=%s\n%s"
                                   % (timeout, self.proc.p.returncode, " ".join(argv),
                                      self.proc.log_tail()))
        names = [ready_name] if ready_name else list(zones or {})
        for name in names:
            wait_dns(self.port, name, "SOA", timeout=max(1.0, deadline - time.monotonic()),
                     proc=self.proc)

    def put_zone(self, zone, text):
        """Creates or replaces a store zone through the API's unix socket (admin there) and
        waits until it answers."""
        status, body = http_unix(os.path.join(self.dir, "api.sock"), "PUT",
                                 "/api/v1/zones/%s/zonefile" % zone, body=text.encode(),
                                 headers={"Content-Type": "text/plain"})
        if status != 200:
            raise RuntimeError("PUT zone %s: %d %s" % (zone, status, body))
        wait_dns(self.port, zone, "SOA", proc=self.proc)

    def stop(self):
        return self.proc.stop()


def proc_cpu_seconds(pid):
    """utime+stime of a process (all threads) in seconds, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def zone_path(name):
    return os.path.join(ZONES, name.rstrip(".") + ".zone")
