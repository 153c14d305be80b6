#!/usr/bin/python3
"""DNS benchmarks for berth (not tests): berthd against Knot, dnsmasq and unbound on loopback.

  dnsbench.py auth   [--berthd PATH] [--seconds 10] [--rounds 3] [--servers berthd,knot,dnsmasq]
                     [--coalesce 100us,200us]  (one berthd per dns.udp_coalesce value)
  dnsbench.py cache  [--berthd PATH] [--seconds 10] [--rounds 3] [--servers berthd,unbound]
  dnsbench.py memory [--berthd PATH] [--records 1000000] [--servers berthd,knot]
  dnsbench.py update [--berthd PATH] [--seconds 10] [--rounds 3] [--servers berthd,knot,bind]

Method (see docs/benchmarks.md): every server runs pinned to core 0 with one worker, dnsperf
pinned to core 1. Per server and protocol: qps at saturation (dnsperf -c 4 -q 200) and server
CPU seconds per query at a fixed offered rate (-Q 50000), CPU read from /proc/PID/stat
(utime+stime+cutime+cstime) before and after, divided by the queries dnsperf completed. Runs
alternate between servers, medians of --rounds. Everything is bounded in time and killed at exit.
`update --rounds 0` skips the throughput runs and measures only the change-to-served latency.
"""
import argparse
import os
import random
import re
import statistics
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness as H  # noqa: E402

DNSPERF = "/usr/bin/dnsperf"
SERVER_CPU = 0
LOADGEN_CPU = 1
DEFAULT_BERTHD = os.path.join(HERE, "..", "build", "bin", "berthd")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# /proc arithmetic and dnsperf parsing

def cpu_seconds(pid):
    """utime+stime+cutime+cstime of pid, seconds (children count: dnsmasq forks for TCP)."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fl = s[s.rindex(")") + 2:].split()
    return sum(int(x) for x in fl[11:15]) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def parse_dnsperf(out):
    def num(pat):
        m = re.search(pat, out)
        return float(m.group(1)) if m else None
    return {"sent": num(r"Queries sent:\s+(\d+)"),
            "completed": num(r"Queries completed:\s+(\d+)"),
            "lost": num(r"Queries lost:\s+(\d+)"),
            "qps": num(r"Queries per second:\s+([\d.]+)"),
            "latency": num(r"Average Latency \(s\):\s+([\d.]+)"),
            "noerror": num(r"NOERROR (\d+)"),
            "nxdomain": num(r"NXDOMAIN (\d+)")}


def dnsperf(port, qfile, seconds, proto="udp", rate=None, clients=4, outstanding=200,
            runs=None):
    argv = ["taskset", "-c", str(LOADGEN_CPU), DNSPERF, "-s", "127.0.0.1", "-p", str(port),
            "-d", qfile, "-c", str(clients), "-q", str(outstanding), "-t", "2"]
    if runs is not None:
        argv += ["-n", str(runs)]
    else:
        argv += ["-l", str(seconds)]
    if proto == "tcp":
        argv += ["-m", "tcp"]
    if rate:
        argv += ["-Q", str(rate)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    res = parse_dnsperf(r.stdout)
    if res["completed"] is None:
        log("dnsperf failed: %s\n%s" % (" ".join(argv), (r.stdout + r.stderr)[-2000:]))
    return res


def measure(server, qfile, seconds, proto, rate):
    """One dnsperf run against server; returns qps and server CPU µs per completed query."""
    c0 = cpu_seconds(server.pid)
    res = dnsperf(server.port, qfile, seconds, proto, rate)
    time.sleep(0.3)  # let TCP children (dnsmasq) exit and be reaped
    c1 = cpu_seconds(server.pid)
    done = res["completed"] or 0
    res["cpu_us"] = (c1 - c0) / done * 1e6 if done else float("nan")
    res["cpu_s"] = c1 - c0
    return res


# ---------------------------------------------------------------------------------------------
# data

def make_auth_zone(d, origin="bench.test.", n_a=10000, n_aaaa=1000, extra=0):
    path = os.path.join(d, origin.rstrip(".") + ".zone")
    with open(path, "w") as f:
        f.write("$ORIGIN %s\n$TTL 3600\n" % origin)
        f.write("@ IN SOA ns1 hostmaster 1 3600 900 604800 300\n@ IN NS ns1\n"
                "ns1 IN A 192.0.2.53\n")
        for i in range(n_a):
            f.write("h%d IN A 10.%d.%d.%d\n" % (i, (i >> 16) & 255, (i >> 8) & 255, i & 255))
        for i in range(n_aaaa):
            f.write("v%d IN AAAA 2001:db8::%x\n" % (i, i + 1))
        for i in range(extra):
            f.write("r%d IN A 10.%d.%d.%d\n" % (i, (i >> 16) & 255, (i >> 8) & 255, i & 255))
    return path


def make_hosts(d, origin="bench.test.", n_a=10000, n_aaaa=1000):
    """The same names as a hosts file, for dnsmasq."""
    path = os.path.join(d, "bench.hosts")
    o = origin.rstrip(".")
    with open(path, "w") as f:
        f.write("192.0.2.53 ns1.%s\n" % o)
        for i in range(n_a):
            f.write("10.%d.%d.%d h%d.%s\n" % ((i >> 16) & 255, (i >> 8) & 255, i & 255, i, o))
        for i in range(n_aaaa):
            f.write("2001:db8::%x v%d.%s\n" % (i + 1, i, o))
    return path


def make_queries(d, origin="bench.test.", n_a=10000, n_aaaa=1000, n=100000, hit=0.90,
                 aaaa=0.05, seed=1, name="queries.txt"):
    rnd = random.Random(seed)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        for _ in range(n):
            x = rnd.random()
            if x < hit:
                f.write("h%d.%s A\n" % (rnd.randrange(n_a), origin))
            elif x < hit + aaaa:
                f.write("v%d.%s AAAA\n" % (rnd.randrange(n_aaaa), origin))
            else:
                f.write("miss%d.%s A\n" % (rnd.randrange(10 ** 6), origin))
    return path


# ---------------------------------------------------------------------------------------------
# servers

class Dnsmasq:
    def __init__(self, hosts, origin="bench.test."):
        self.dir = H.tmpdir("berth-dnsmasq-")
        self.port = H.free_port()
        o = origin.rstrip(".")
        argv = [H.DNSMASQ, "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--no-poll", "--bind-interfaces", "--listen-address=127.0.0.1",
                "--port=%d" % self.port, "--addn-hosts=%s" % hosts, "--local=/%s/" % o,
                "--pid-file=%s/dnsmasq.pid" % self.dir, "--user=root", "--group=root",
                "--log-facility=-", "--cache-size=0"]
        self.proc = H.Proc("dnsmasq", argv, os.path.join(self.dir, "dnsmasq.log"),
                           cpu=SERVER_CPU)
        self.pid = self.proc.pid
        H.wait_dns(self.port, "h1." + origin, "A", proc=self.proc)


def start(kind, zone, origin, berthd, hosts=None, upstream=None, extra=()):
    if kind == "knot":
        return H.Knot({origin: zone}, cpu=SERVER_CPU)
    if kind == "dnsmasq":
        return Dnsmasq(hosts, origin)
    if kind == "berthd":
        if upstream:
            return H.Berthd(berthd, {}, cpu=SERVER_CPU, ready_name=None,
                            args=["--dns-workers", "1", "--dns-forward",
                                  "127.0.0.1:%d" % upstream, "--allow-recursion",
                                  "127.0.0.0/8"])
        return H.Berthd(berthd, {origin: zone}, cpu=SERVER_CPU,
                        args=["--dns-workers", "1"] + list(extra), timeout=300)
    if kind == "unbound":
        import test_forward  # noqa: PLC0415
        p = test_forward.unbound(upstream, cpu=SERVER_CPU,
                                 extra="    msg-cache-size: 64m\n    rrset-cache-size: 64m\n")
        p.proc = p
        return p
    raise ValueError(kind)


def med(vals):
    vals = [v for v in vals if v is not None and v == v]
    return statistics.median(vals) if vals else float("nan")


def report(title, servers, results, base, protos, rate):
    la = os.getloadavg()
    lines = ["", "## " + title, "", "load average at the end: %.2f %.2f %.2f; %s" % (
        la[0], la[1], la[2], time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())), "",
             "| server | proto | qps (saturation) | qps vs %s | CPU µs/query @ %d qps | CPU vs %s | "
             "CPU µs/query at saturation | avg latency ms @ %d | lost @ %d |" % (base, rate, base, rate, rate),
             "|---|---|---|---|---|---|---|---|---|"]
    for proto in protos:
        b = results.get((base, proto))
        for s in servers:
            r = results.get((s, proto))
            if not r:
                continue
            qr = r["qps"] / b["qps"] if b and b["qps"] else float("nan")
            cr = r["cpu_us"] / b["cpu_us"] if b and b["cpu_us"] else float("nan")
            lines.append("| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.3f | %.0f |"
                         % (s, proto, r["qps"], qr, r["cpu_us"], cr, r["sat_cpu_us"], r["latency_ms"],
                            r["lost"]))
    print("\n".join(lines), flush=True)


def run_rounds(servers, qfile, a, protos):
    per = {}
    for rnd in range(a.rounds):
        order = servers if rnd % 2 == 0 else list(reversed(servers))
        for proto in protos:
            for kind, srv in order:
                sat = measure(srv, qfile, a.seconds, proto, None)
                fix = measure(srv, qfile, a.seconds, proto, a.rate)
                log("round %d %-8s %s: sat %.0f qps (%.2f µs/q, lost %s) | @%d: %.0f qps "
                    "%.2f µs/q lost %s | rcodes NOERROR %s NXDOMAIN %s"
                    % (rnd + 1, kind, proto, sat["qps"] or 0, sat["cpu_us"], sat["lost"], a.rate,
                       fix["qps"] or 0, fix["cpu_us"], fix["lost"], fix["noerror"],
                       fix["nxdomain"]))
                per.setdefault((kind, proto), []).append((sat, fix))
    results = {}
    for k, runs in per.items():
        results[k] = {"qps": med([s["qps"] for s, _ in runs]),
                      "cpu_us": med([f["cpu_us"] for _, f in runs]),
                      "sat_cpu_us": med([s["cpu_us"] for s, _ in runs]),
                      "latency_ms": med([f["latency"] * 1000 for _, f in runs if f["latency"] is not None]),
                      "lost": med([f["lost"] for _, f in runs])}
    return results


def check_alive(servers):
    for kind, s in servers:
        if not s.proc.alive():
            raise RuntimeError("%s died:\n%s" % (kind, s.proc.log_tail()))


def want_berthd(a, kinds):
    if "berthd" in kinds and not os.access(a.berthd, os.X_OK):
        log("berthd not found at %s: skipping it" % a.berthd)
        kinds.remove("berthd")
    return kinds


def spin_recv(sock, seconds=5):
    """recv on a non-blocking socket, polling instead of sleeping: the caller sits on the load
    generator's core, so a reply is seen when it arrives, not when the kernel gets round to
    waking the caller (tens to hundreds of µs on this VM, noise that belongs to no server).
    OSError when nothing comes within `seconds`, or when a stream socket is closed."""
    deadline = time.perf_counter() + seconds
    while True:
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            if time.perf_counter() > deadline:
                raise OSError("no reply within %d s" % seconds)
            continue
        if not data and sock.type == socket.SOCK_STREAM:
            raise OSError("the server closed the connection")
        return data


def sequential_udp_us(port, origin, n=20000, warmup=2000):
    """One client that sends its next query the moment it has the answer (a stub resolver in
    a loop, a monitoring probe): p50/p99 round trip in µs over n queries after `warmup`. The
    client runs on the load generator's core and polls its socket, so the figure is the
    server's time plus the loopback round trip."""
    import dns.message
    wires = []
    for i in range(1000):
        q = dns.message.make_query("h%d.%s" % (i * 7 % 10000, origin), "A")
        q.flags &= ~dns.flags.RD
        wires.append(q.to_wire())
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {LOADGEN_CPU})
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.connect(("127.0.0.1", port))
    u.setblocking(False)
    lat = []
    try:
        for i in range(n + warmup):
            t = time.perf_counter()
            u.send(wires[i % len(wires)])
            try:
                spin_recv(u, 2)
            except OSError:
                return None  # a lost query: no figure rather than a wrong one
            if i >= warmup:
                lat.append((time.perf_counter() - t) * 1e6)
    finally:
        u.close()
        os.sched_setaffinity(0, affinity)
    lat.sort()
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


def cmd_auth(a):
    d = H.tmpdir("berth-bench-")
    origin = "bench.test."
    zone = make_auth_zone(d, origin)
    hosts = make_hosts(d, origin)
    qfile = make_queries(d, origin)
    kinds = want_berthd(a, a.servers.split(",") if a.servers else ["berthd", "knot", "dnsmasq"])
    if a.coalesce and "berthd" in kinds:
        # One berthd per dns.udp_coalesce value, side by side in the same alternating run.
        at = kinds.index("berthd")
        kinds[at:at + 1] = ["berthd@" + c for c in a.coalesce.split(",")]
    servers = []
    for k in kinds:
        extra = ["--dns-udp-coalesce", k.split("@", 1)[1]] if k.startswith("berthd@") else []
        servers.append((k, start(k.split("@")[0], zone, origin, a.berthd, hosts=hosts, extra=extra)))
    for k, s in servers:
        log("%s on 127.0.0.1:%d pid %d (core %d)" % (k, s.port, s.pid, SERVER_CPU))
    protos = a.protos.split(",")
    results = run_rounds(servers, qfile, a, protos)
    check_alive(servers)
    report("Authoritative: 10k A + 1k AAAA, 90%% hits / 5%% AAAA / 5%% misses "
           "(medians of %d alternating runs, %ds each)" % (a.rounds, a.seconds),
           kinds, results, "knot", protos, a.rate)
    if "udp" in protos:
        lines = ["", "## One sequential UDP client (next query as soon as the answer is in; "
                 "20,000 queries; µs)", "", "| server | p50 | p99 |", "|---|---|---|"]
        for k, srv in servers:
            r = sequential_udp_us(srv.port, origin)
            lines.append("| %s | %.0f | %.0f |" % ((k,) + r) if r else "| %s | lost a query | |" % k)
        print("\n".join(lines), flush=True)


def cmd_cache(a):
    d = H.tmpdir("berth-bench-")
    origin = "up.test."
    zone = make_auth_zone(d, origin)
    qfile = make_queries(d, origin, hit=0.95, aaaa=0.05)  # hits only (no misses)
    upstream = H.Knot({origin: zone}, cpu=LOADGEN_CPU)
    kinds = want_berthd(a, a.servers.split(",") if a.servers else ["berthd", "unbound"])
    servers = [(k, start(k, None, origin, a.berthd, upstream=upstream.port)) for k in kinds]
    # warm up: every query of the file once, at a modest rate, twice
    for k, s in servers:
        for _ in range(2):
            r = dnsperf(s.port, qfile, 60, "udp", rate=20000, runs=1)
            log("warm-up %s: %s completed, %s lost" % (k, r["completed"], r["lost"]))
    protos = a.protos.split(",")
    results = run_rounds(servers, qfile, a, protos)
    check_alive(servers)
    report("Forwarding cache, hot (10k A + 1k AAAA names from a Knot upstream, 95%% A / 5%% AAAA"
           ", all cache hits; medians of %d alternating runs, %ds each)" % (a.rounds, a.seconds),
           kinds, results, "unbound", protos, a.rate)


def cmd_memory(a):
    d = H.tmpdir("berth-bench-")
    kinds = want_berthd(a, a.servers.split(",") if a.servers else ["berthd", "knot"])
    small = make_auth_zone(os.path.join(d), "small.test.", n_a=10, n_aaaa=0)
    bigdir = os.path.join(d, "big")
    os.makedirs(bigdir)
    t0 = time.monotonic()
    big = make_auth_zone(bigdir, "big.test.", n_a=0, n_aaaa=0, extra=a.records)
    log("zone of %d A records: %.1f MB, written in %.1fs"
        % (a.records, os.path.getsize(big) / 1e6, time.monotonic() - t0))
    allq = os.path.join(d, "all.txt")  # every record once: RSS is read after all were served
    with open(allq, "w") as f:
        for i in range(a.records):
            f.write("r%d.big.test. A\n" % i)
    out = ["", "## Memory: RSS per record, zone of %d A records" % a.records, "",
           "| server | RSS small zone (MiB) | RSS big zone (MiB) | load time (s) | restart (s) "
           "| bytes/record | state on disk (MiB) |",
           "|---|---|---|---|---|---|---|"]
    def start(k, origin, z, workdir=None):
        if k == "knot":
            return H.Knot({origin: z}, cpu=SERVER_CPU, workdir=workdir)
        return H.Berthd(a.berthd, {origin: z}, cpu=SERVER_CPU, args=["--dns-workers", "1"],
                        timeout=600, workdir=workdir)

    for k in kinds:
        rs = {}
        for label, origin, z in (("small", "small.test.", small), ("big", "big.test.", big)):
            t0 = time.monotonic()
            s = start(k, origin, z)
            last = "r%d.%s" % (a.records - 1, origin) if label == "big" else "h1." + origin
            H.wait_dns(s.port, last, "A", timeout=600, proc=s.proc)
            lt = time.monotonic() - t0
            if label == "big":
                r = dnsperf(s.port, allq, 600, "udp", rate=100000, runs=1)
                log("%s: queried every record once: %s completed, %s NOERROR"
                    % (k, r["completed"], r["noerror"]))
            time.sleep(2)
            disk = subprocess.run(["du", "-sk", getattr(s, "state", s.dir)], capture_output=True,
                                  text=True).stdout.split()
            rs[label] = (rss_kib(s.pid), lt, int(disk[0]) if disk else 0)
            log("%s %s zone: RSS %d KiB, ready after %.1fs" % (k, label, rs[label][0], lt))
            s.stop()
            if label == "big":
                # The same server again on the state it left: what an operator's restart costs.
                t0 = time.monotonic()
                s = start(k, origin, s.zones[origin], workdir=s.dir)
                H.wait_dns(s.port, last, "A", timeout=600, proc=s.proc)
                rs["restart"] = time.monotonic() - t0
                log("%s big zone: answering again %.1fs after a restart" % (k, rs["restart"]))
                s.stop()
        per = (rs["big"][0] - rs["small"][0]) * 1024.0 / a.records
        out.append("| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f |"
                   % (k, rs["small"][0] / 1024.0, rs["big"][0] / 1024.0, rs["big"][1], rs["restart"],
                      per, rs["big"][2] / 1024.0))
    print("\n".join(out), flush=True)


# ---------------------------------------------------------------------------------------------
# durable dynamic updates (RFC 2136 + TSIG)

UPD_KEY = "bench-key."
UPD_SECRET = "YmVuY2gta2V5LXNlY3JldC1mb3ItYmVydGgtdXBkYXRlcy0xMjM0NTY3OA=="
DYNDNS_USER = "bench"
DYNDNS_PASSWORD = "bench-dyndns-password"


def make_updates(d, origin, hosts, n):
    """dnsperf -u input: n UPDATEs, each moving one of `hosts` names to a new address (a host
    whose address changed: delete its A RRset, add the new A)."""
    path = os.path.join(d, "updates.txt")
    rnd = random.Random(7)
    with open(path, "w") as f:
        for i in range(n):
            h = rnd.randrange(hosts)
            f.write("%s\ndelete h%d.%s A\nadd h%d.%s 60 A 10.%d.%d.%d\nsend\n"
                    % (origin, h, origin, h, origin, rnd.randrange(256), rnd.randrange(256),
                       rnd.randrange(1, 255)))
    return path


NAMED = "/usr/sbin/named"

# Knot: durable by default (journal in robust mode: each change is committed to LMDB with
# fsync before the answer); one UDP, TCP and background worker.
KNOT_UPDATE_CONF = (
    "server:\n    rundir: \"%(d)s\"\n    listen: 127.0.0.1@%(p)d\n"
    "    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n"
    "key:\n  - id: %(k)s\n    algorithm: hmac-sha256\n    secret: %(s)s\n"
    "acl:\n  - id: upd\n    key: %(k)s\n    action: update\n"
    "database:\n    storage: \"%(d)s\"\n    journal-db-mode: robust\n"
    "log:\n  - target: stderr\n    any: warning\n"
    "zone:\n  - domain: %(o)s\n    file: \"%(z)s\"\n    storage: \"%(d)s\"\n"
    "    acl: upd\n    zonefile-sync: -1\n    zonefile-load: whole\n"
    "    journal-content: changes\n    serial-policy: increment\n")
# BIND 9: each update is appended to the zone's journal (.jnl), which named fsyncs before it
# answers; one worker thread (-n 1 -U 1).
BIND_UPDATE_CONF = (
    'options {\n  directory "%(d)s";\n  listen-on port %(p)d { 127.0.0.1; };\n'
    '  listen-on-v6 { none; };\n  pid-file none;\n  recursion no;\n  notify no;\n};\n'
    'key "%(k)s" {\n  algorithm hmac-sha256;\n  secret "%(s)s";\n};\n'
    'zone "%(o)s" {\n  type primary;\n  file "%(z)s";\n'
    '  allow-update { key "%(k)s"; };\n};\n')


class UpdatePeer:
    """A peer server ("knot" or "bind") accepting TSIG-signed updates for one zone, durably."""

    def __init__(self, kind, zone, origin, cpu):
        self.dir = H.tmpdir("berth-%supd-" % kind)
        self.port = H.free_port()
        dst = os.path.join(self.dir, "zone.db")
        subprocess.run(["cp", zone, dst], check=True)
        values = {"d": self.dir, "p": self.port, "k": UPD_KEY, "s": UPD_SECRET, "o": origin,
                  "z": dst}
        if kind == "knot":
            conf, cpath = KNOT_UPDATE_CONF % values, os.path.join(self.dir, "knot.conf")
            argv = [H.KNOTD, "-c", cpath]
        else:
            values["k"] = UPD_KEY.rstrip(".")
            conf, cpath = BIND_UPDATE_CONF % values, os.path.join(self.dir, "named.conf")
            argv = [NAMED, "-g", "-n", "1", "-U", "1", "-c", cpath]
        with open(cpath, "w") as f:
            f.write(conf)
        self.proc = H.Proc(kind, argv, os.path.join(self.dir, kind + ".log"), cpu=cpu)
        self.pid = self.proc.pid
        H.wait_dns(self.port, origin, "SOA", proc=self.proc)

    def stop(self):
        return self.proc.stop()


def change_to_served_ms(port, origin, n, use_api=None, use_dyndns=None):
    """Latency from sending a change (RFC 2136 over UDP; the API's POST /api/v1/update when
    use_api=(api_port, token); dyndns2's GET /nic/update when use_dyndns=(api_port, user,
    password)) until a DNS query sees the new address, and from the change's acknowledgement
    until then; p50/p99 of each in ms, and how often the first query after the acknowledgement
    already saw the change. Every message is built (and TSIG-signed, well within the fudge)
    before the clock starts, and goes over a plain socket, so the figures are the server's time
    plus one loopback round trip each, not the client library's."""
    import base64
    import json
    import dns.message
    import dns.tsigkeyring
    import dns.update
    keyring = dns.tsigkeyring.from_text({UPD_KEY: ("hmac-sha256", UPD_SECRET)})
    addrs = ["10.250.%d.%d" % (i // 250, i % 250 + 1) for i in range(n)]
    http_door = use_api or use_dyndns
    if http_door:
        api = socket.create_connection(("127.0.0.1", http_door[0]), timeout=5)
        api.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if use_api:
        changes = []
        for addr in addrs:
            body = json.dumps({"name": "lat.%s" % origin, "type": "A", "content": addr, "ttl": 60}).encode()
            changes.append(("POST /api/v1/update HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                            % (use_api[1], len(body))).encode() + body)
    elif use_dyndns:
        basic = base64.b64encode(("%s:%s" % use_dyndns[1:]).encode()).decode()
        changes = [("GET /nic/update?hostname=lat.%s&myip=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Authorization: Basic %s\r\nUser-Agent: berth-bench/1\r\n\r\n"
                    % (origin.rstrip("."), addr, basic)).encode() for addr in addrs]
    else:
        changes = []
        for addr in addrs:
            u = dns.update.UpdateMessage(origin, keyring=keyring, keyname=UPD_KEY, keyalgorithm="hmac-sha256")
            u.replace("lat", 60, "A", addr)
            changes.append(u.to_wire())
    q = dns.message.make_query("lat.%s" % origin, "A", use_edns=0)
    q.flags &= ~dns.flags.RD
    query = q.to_wire()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(5)
    udp.connect(("127.0.0.1", port))

    # Polled (spin_recv), not slept on.
    udp.setblocking(False)
    if http_door:
        api.setblocking(False)

    def http_response():
        """(status, body) of one response."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = spin_recv(api)
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        while len(rest) < length:
            rest += spin_recv(api)
        return int(head.split(b" ")[1]), rest

    def probe_one(i, addr):
        """One change and the queries until it is served: (send→served, ack→served, tries) ms."""
        want = socket.inet_aton(addr)
        t0 = time.perf_counter()
        if http_door:
            api.sendall(changes[i])
            status, body = http_response()
            if status >= 300 or (use_dyndns and not body.startswith(b"good")):
                log("%s update failed: %d %r" % ("dyndns2" if use_dyndns else "API", status, body[:80]))
                return None
        else:
            udp.send(changes[i])
            reply = spin_recv(udp)
            if len(reply) < 4 or reply[3] & 0xF != 0:
                log("UPDATE failed: rcode %d" % (reply[3] & 0xF if len(reply) >= 4 else -1))
                return None
        t_ack = time.perf_counter()
        deadline = t0 + 5
        tries = 0
        while time.perf_counter() < deadline:
            tries += 1
            udp.send(query)
            if want in spin_recv(udp):
                break
        now = time.perf_counter()
        return (now - t0) * 1000, (now - t_ack) * 1000, tries

    # The probe is the load generator: on its own core, as dnsperf is, not beside the server.
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {LOADGEN_CPU})
    try:
        results = []
        for i, addr in enumerate(addrs):
            r = probe_one(i, addr)
            if r is None:
                return None
            results.append(r)
    finally:
        os.sched_setaffinity(0, affinity)
        udp.close()
        if http_door:
            api.close()
    lat = sorted(r[0] for r in results)
    after = sorted(r[1] for r in results)
    first = sum(1 for r in results if r[2] == 1)
    p = lambda v, q: v[min(len(v) - 1, int(len(v) * q))]
    return p(lat, 0.5), p(lat, 0.99), p(after, 0.5), p(after, 0.99), 100.0 * first / n


def fdatasync_floor_ms(d, n=500, size=16384):
    """The disk's own durability cost where the servers keep their state: p50/p99 ms of
    rewriting `size` bytes of an existing file and fdatasync-ing it, one write per ms (what a
    journal's group commit does at the least). No server can answer a durable change faster."""
    path = os.path.join(d, "fdatasync-probe")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.pwrite(fd, b"\0" * (size * 64), 0)
        os.fsync(fd)
        buf = os.urandom(size)
        lat = []
        for i in range(n):
            t = time.perf_counter()
            os.pwrite(fd, buf, (i % 64) * size)
            os.fdatasync(fd)
            lat.append((time.perf_counter() - t) * 1000)
            time.sleep(0.001)
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    return lat[n // 2], lat[int(n * 0.99)]


def server_histograms(api_port):
    """berthd's cumulative histograms {name: {le: count}} from /metrics, or None."""
    try:
        st, body, _ = H.http_get(api_port, "/metrics")
    except OSError:
        return None
    if st != 200:
        return None
    hists = {}
    for m in re.finditer(r'^(berth_\w+)_bucket\{le="([^"]+)"\} (\d+)', body, re.M):
        hists.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
    return hists


def fmt_pct(part, whole):
    return "%.1f" % (100.0 * part / whole) if whole else "-"


def cmd_update(a):
    d = H.tmpdir("berth-bench-")
    origin = "upd.test."
    zone = make_auth_zone(d, origin, n_a=1000, n_aaaa=0)
    ufile = make_updates(d, origin, 1000, 400000)
    kinds = want_berthd(a, a.servers.split(",") if a.servers else ["berthd", "knot", "bind"])
    if "bind" in kinds and not os.path.exists(NAMED):
        log("no %s (Debian package bind9): BIND skipped" % NAMED)
        kinds.remove("bind")
    token = H.ADMIN_TOKEN  # the harness starts berthd with this admin token
    servers = []
    for k in kinds:
        if k in ("knot", "bind"):
            servers.append((k, UpdatePeer(k, zone, origin, SERVER_CPU)))
        else:
            cfg = ("auth:\n  tsig_keys:\n    - name: %s\n"
                   "      algorithm: hmac-sha256\n      secret: \"%s\"\n"
                   "      scope: [{zone: %s, names: [\"*\"], access: write}]\n"
                   "  users:\n    - name: %s\n      password: \"%s\"\n"
                   "      scope: [{zone: %s, names: [\"lat\"], types: [A, AAAA], access: write}]\n"
                   # the probe changes one name 500 times in a row: no abuse limit
                   "dyndns: {change_every: 0, request_every: 0}\n"
                   % (UPD_KEY, UPD_SECRET, origin, DYNDNS_USER, DYNDNS_PASSWORD, origin))
            servers.append((k, H.Berthd(a.berthd, {origin: zone}, cpu=SERVER_CPU,
                                        args=["--dns-workers", "1"], extra_config=cfg)))
    for k, s in servers:
        log("%s on 127.0.0.1:%d pid %d (core %d)" % (k, s.port, s.pid, SERVER_CPU))
    res = {k: [] for k in kinds}
    for r in range(a.rounds):
        for k, s in servers:
            c0 = cpu_seconds(s.pid)
            argv = ["taskset", "-c", str(LOADGEN_CPU), DNSPERF, "-u", "-s", "127.0.0.1", "-p",
                    str(s.port), "-d", ufile, "-c", "4", "-q", "200", "-t", "5",
                    "-l", str(a.seconds), "-y", "hmac-sha256:%s:%s" % (UPD_KEY, UPD_SECRET)]
            out = subprocess.run(argv, capture_output=True, text=True, timeout=a.seconds + 60).stdout
            time.sleep(0.3)
            c1 = cpu_seconds(s.pid)
            p = parse_dnsperf(out.replace("Updates", "Queries"))
            done = p["completed"] or 0
            p["cpu_us"] = (c1 - c0) / done * 1e6 if done else float("nan")
            log("round %d %s: %.0f updates/s, %s completed, %s NOERROR, %.1f us CPU/update"
                % (r + 1, k, p["qps"] or 0, p["completed"], p["noerror"], p["cpu_us"]))
            if p["noerror"] != p["completed"]:
                log("  (not every update succeeded:\n%s)" % out[-800:])
            res[k].append(p)
    check_alive(servers)
    out = [] if not a.rounds else ["", "## Durable signed updates (RFC 2136 + TSIG hmac-sha256, 1000 hosts moving; "
           "medians of %d alternating runs, %ds each, dnsperf -u -c 4 -q 200)" % (a.rounds, a.seconds), "",
           "| server | updates/s | server CPU µs/update | vs knot (updates/s) | vs bind (updates/s) |",
           "|---|---|---|---|---|"]
    base = {b: med([p["qps"] or 0 for p in res[b]]) for b in ("knot", "bind") if b in res and a.rounds}
    ratio = lambda q, b: "%.2fx" % (q / base[b]) if base.get(b) else "-"
    for k in kinds if a.rounds else []:
        q = med([p["qps"] or 0 for p in res[k]])
        cpu = med([p["cpu_us"] for p in res[k]])
        out.append("| %s | %.0f | %.1f | %s | %s |" % (k, q, cpu, ratio(q, "knot"), ratio(q, "bind")))
    out += ["", "## Change to served answer (500 sequential changes; ms; the change includes "
            "its fsync)", "",
            "| server | door | send→served p50 | p99 | ack→served p50 | p99 | served at first "
            "query after ack |", "|---|---|---|---|---|---|---|"]
    row = "| %s | %s | %.2f | %.2f | %.3f | %.3f | %.0f%% |"
    notes = []
    for k, s in servers:
        before = server_histograms(s.api_port) if k == "berthd" else None
        r = change_to_served_ms(s.port, origin, 500)
        if r:
            out.append(row % ((k, "RFC 2136 UDP") + r))
        if k == "berthd":
            r = change_to_served_ms(s.port, origin, 500, use_api=(s.api_port, token))
            if r:
                out.append(row % ((k, "POST /api/v1/update") + r))
            r = change_to_served_ms(s.port, origin, 500, use_dyndns=(s.api_port, DYNDNS_USER, DYNDNS_PASSWORD))
            if r:
                out.append(row % ((k, "dyndns2 GET /nic/update") + r))
            after = server_histograms(s.api_port)
            for name, what in (("berth_store_journal_sync_seconds", "journal fsyncs"),
                               ("berth_zone_change_seconds", "changes, committer queue to answer")):
                if before and after and name in before and name in after:
                    b, e = before[name], after[name]
                    notes.append("berthd's %s during the latency runs (%s): " % (what, name) + ", ".join(
                        "%s%% ≤ %g ms" % (fmt_pct(e[le] - b[le], e["+Inf"] - b["+Inf"]), float(le) * 1000)
                        for le in ("0.0005", "0.001", "0.0025", "0.01")) + " (%d)" % (e["+Inf"] - b["+Inf"]))
    floor = fdatasync_floor_ms(d)
    notes.append("The disk's own floor in the same directory (rewrite 16 KiB + fdatasync, 500 times): "
                 "p50 %.2f ms, p99 %.2f ms." % floor)
    out += [""] + notes
    print("\n".join(out), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["auth", "cache", "memory", "update"])
    ap.add_argument("--berthd", default=os.environ.get("BERTHD", DEFAULT_BERTHD))
    ap.add_argument("--servers", default=None, help="comma list, default per mode")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=50000)
    ap.add_argument("--protos", default="udp,tcp")
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--coalesce", default=None,
                    help="auth: comma list of dns.udp_coalesce values, one berthd for each")
    a = ap.parse_args()
    a.berthd = os.path.abspath(a.berthd)
    if os.cpu_count() < 2:
        log("needs 2 cores (server on core 0, dnsperf on core 1)")
        sys.exit(1)
    {"auth": cmd_auth, "cache": cmd_cache, "memory": cmd_memory, "update": cmd_update}[a.mode](a)


if __name__ == "__main__":
    main()
