#!/usr/bin/python3
"""End-to-end: start berthd on loopback with tests/integration/zones/example.test.zone (and a
reverse zone) and query it with dig and kdig over UDP and TCP, raw sockets for malformed input,
signals for reload/exit, and the HTTP API.

  test_dig.py --berthd build/bin/berthd     # the real test (CTest: integration.dig)
  test_dig.py --knot                        # same DNS checks against Knot (proves the test)
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check, log  # noqa: E402

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402

ZONE = "example.test."
REV = "2.0.192.in-addr.arpa."
DIG = "/usr/bin/dig"
KDIG = "/usr/bin/kdig"


def run_client(tool, port, args, timeout=10):
    if tool == "dig":
        argv = [DIG, "-p", str(port), "@127.0.0.1", "+time=2", "+tries=1"] + args
    else:
        argv = [KDIG, "-p", str(port), "@127.0.0.1", "+timeout=2", "+retry=0"] + args
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return parse(r.stdout + r.stderr)


def parse(out):
    """Header and sections of dig/kdig text output."""
    res = {"raw": out, "status": None, "flags": set(), "sections": {}, "opt": False}
    m = re.search(r"status: (\w+)", out)
    if m:
        res["status"] = m.group(1)
    m = re.search(r"[Ff]lags: ([a-z ]*);", out)
    if m:
        res["flags"] = set(m.group(1).split())
    res["opt"] = bool(re.search(r"OPT PSEUDOSECTION|EDNS PSEUDOSECTION", out))
    cur = None
    for line in out.splitlines():
        m = re.match(r";; (QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:", line)
        if m:
            cur = m.group(1)
            res["sections"][cur] = []
            continue
        if not line.strip() or line.startswith(";;"):
            cur = None
            continue
        if cur:
            res["sections"][cur].append(line)
    return res


def section(r, name):
    return r["sections"].get(name, [])


def has_rdata(r, rtype, needle):
    for line in section(r, "ANSWER"):
        f = line.split()
        if rtype in f and needle in line:
            return True
    return False


def short(r):
    return "status=%s flags=%s answer=%s authority=%s" % (
        r["status"], sorted(r["flags"]), section(r, "ANSWER"), section(r, "AUTHORITY"))


def udp_raw(port, data, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(data, ("127.0.0.1", port))
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()


def test_types(port):
    log("== answers by type (dig and kdig, UDP and TCP)")
    cases = [
        ("www." + ZONE, "A", "A", "192.0.2.80"),
        ("www." + ZONE, "AAAA", "AAAA", "2001:db8::80"),
        (ZONE, "MX", "MX", "10 mail.example.test."),
        ("txt." + ZONE, "TXT", "TXT", '"hello world" "second string"'),
        ("_sip._tcp." + ZONE, "SRV", "SRV", "10 5 5060 sip.example.test."),
        (ZONE, "CAA", "CAA", 'issue "letsencrypt.org"'),
        ("80." + REV, "PTR", "PTR", "www.example.test."),
        ("alias." + ZONE, "CNAME", "CNAME", "www.example.test."),
        (ZONE, "NS", "NS", "ns1.example.test."),
        (ZONE, "SOA", "SOA", "ns1.example.test. hostmaster.example.test. 2024010101"),
    ]
    for tool in ("dig", "kdig"):
        for proto in ("udp", "tcp"):
            extra = ["+tcp"] if proto == "tcp" else ["+notcp"]
            for name, qt, rt, needle in cases:
                r = run_client(tool, port, extra + [name, qt])
                check(r["status"] == "NOERROR" and "aa" in r["flags"] and has_rdata(r, rt, needle),
                      "%s %s %s %s -> %s" % (tool, proto, name, qt, needle), short(r))
            # CNAME followed inside the zone for an A query
            r = run_client(tool, port, extra + ["alias." + ZONE, "A"])
            check(has_rdata(r, "CNAME", "www.example.test.") and has_rdata(r, "A", "192.0.2.80"),
                  "%s %s alias A: CNAME + target A" % (tool, proto), short(r))
            # NS answer: both names
            r = run_client(tool, port, extra + [ZONE, "NS"])
            check(has_rdata(r, "NS", "ns2.example.test."), "%s %s NS has ns2" % (tool, proto),
                  short(r))


def test_negative(port):
    log("== NXDOMAIN / NODATA with SOA in authority, AA")
    for proto in ("+notcp", "+tcp"):
        r = run_client("dig", port, [proto, "nope." + ZONE, "A"])
        check(r["status"] == "NXDOMAIN" and "aa" in r["flags"]
              and any(" SOA " in l.replace("\t", " ") for l in section(r, "AUTHORITY"))
              and not section(r, "ANSWER"), "NXDOMAIN %s" % proto, short(r))
        r = run_client("dig", port, [proto, "www." + ZONE, "MX"])
        check(r["status"] == "NOERROR" and "aa" in r["flags"] and not section(r, "ANSWER")
              and any(" SOA " in l.replace("\t", " ") for l in section(r, "AUTHORITY")),
              "NODATA %s" % proto, short(r))
        r = run_client("dig", port, [proto, "b.ent." + ZONE, "A"])
        check(r["status"] == "NOERROR" and not section(r, "ANSWER")
              and any(" SOA " in l.replace("\t", " ") for l in section(r, "AUTHORITY")),
              "empty non-terminal is NODATA, not NXDOMAIN %s" % proto, short(r))
    r = run_client("kdig", port, ["nope." + ZONE, "A"])
    check(r["status"] == "NXDOMAIN", "kdig NXDOMAIN", short(r))


def test_case(port):
    log("== question case preserved")
    name = "WwW.ExAmPlE.TeSt."
    q = dns.message.make_query(name, "A")
    for proto in ("udp", "tcp"):
        if proto == "udp":
            wire = udp_raw(port, q.to_wire())
        else:
            wire = tcp_exchange(port, [q.to_wire()])[0]
        # question starts at offset 12, compare its bytes with what we sent
        sent_q = q.to_wire()[12:12 + len(name) + 1 + 4]
        check(wire is not None and wire[12:12 + len(sent_q)] == sent_q,
              "%s: question bytes echoed with original case" % proto)
        if wire:
            m = dns.message.from_wire(wire)
            check(m.rcode() == 0 and any(rr.address == "192.0.2.80"
                                          for rrs in m.answer for rr in rrs),
                  "%s: mixed-case query answered" % proto, str(m))
    r = run_client("dig", port, ["WwW.ExAmPlE.TeSt", "A"])
    check(any(l.startswith(";WwW.ExAmPlE.TeSt.") for l in section(r, "QUESTION")),
          "dig shows question in original case", str(section(r, "QUESTION")))


def test_edns(port):
    log("== EDNS")
    r = run_client("dig", port, ["+bufsize=4096", "www." + ZONE, "A"])
    check(r["opt"] and r["status"] == "NOERROR", "dig +bufsize=4096: OPT in reply", short(r))
    r = run_client("dig", port, ["+noedns", "www." + ZONE, "A"])
    check(not r["opt"] and r["status"] == "NOERROR" and has_rdata(r, "A", "192.0.2.80"),
          "dig +noedns: no OPT in reply", short(r))
    r = run_client("dig", port, ["+edns=1", "+noednsneg", "www." + ZONE, "A"])
    check(r["status"] == "BADVERS", "dig +edns=1 +noednsneg: BADVERS", short(r))
    r = run_client("kdig", port, ["+edns=1", "www." + ZONE, "A"])
    check(r["status"] == "BADVERS", "kdig +edns=1: BADVERS", short(r))


def test_truncation(port):
    log("== TC over UDP for a big RRset, full answer over TCP")
    big = "big." + ZONE
    r = run_client("dig", port, ["+ignore", "+bufsize=1232", big, "TXT"])
    check("tc" in r["flags"], "dig +ignore +bufsize=1232: TC=1", short(r)[:300])
    r = run_client("dig", port, ["+ignore", "+noedns", big, "TXT"])
    check("tc" in r["flags"], "dig +ignore +noedns: TC=1", short(r)[:300])
    r = run_client("dig", port, ["+tcp", big, "TXT"])
    check(r["status"] == "NOERROR" and "tc" not in r["flags"] and len(section(r, "ANSWER")) == 40,
          "dig +tcp: all 40 TXT records", "got %d" % len(section(r, "ANSWER")))
    r = run_client("dig", port, [big, "TXT"])  # dig retries over TCP by itself
    check(len(section(r, "ANSWER")) == 40, "dig (auto TCP retry): all 40 TXT records",
          "got %d" % len(section(r, "ANSWER")))
    r = run_client("kdig", port, ["+ignore", "+bufsize=1232", big, "TXT"])
    check("tc" in r["flags"], "kdig +ignore: TC=1", short(r)[:300])
    r = run_client("kdig", port, ["+tcp", big, "TXT"])
    check(len(section(r, "ANSWER")) == 40, "kdig +tcp: all 40 TXT records",
          "got %d" % len(section(r, "ANSWER")))
    # UDP reply must fit the advertised size
    q = dns.message.make_query(big, "TXT", use_edns=0, payload=1232)
    w = udp_raw(port, q.to_wire())
    check(w is not None and len(w) <= 1232, "UDP reply within the 1232-byte EDNS size",
          "len=%s" % (len(w) if w else None))
    q = dns.message.make_query(big, "TXT")
    w = udp_raw(port, q.to_wire())
    check(w is not None and len(w) <= 512, "UDP reply within 512 bytes without EDNS",
          "len=%s" % (len(w) if w else None))


def test_malformed(port):
    log("== FORMERR / NOTIMP / junk")
    q0 = dns.message.make_query("www." + ZONE, "A").to_wire()
    hdr = lambda qd, an, ns, ar: struct.pack("!HHHHHH", 0x1234, 0x0100, qd, an, ns, ar)
    e = bytearray(dns.message.make_query("www." + ZONE, "A", use_edns=0).to_wire())
    two_opt = bytes(e[:11]) + b"\x02" + bytes(e[12:]) + bytes(e[-11:])
    formerr_cases = {
        "ARCOUNT=1 but the record is cut off": hdr(1, 0, 0, 1) + q0[12:] + b"\x00\x00",
        "ANCOUNT=1 but the record is cut off": hdr(1, 1, 0, 0) + q0[12:] + b"\xc0\x0c\x00\x01",
        "two OPT records (RFC 6891 6.1.1)": two_opt,
    }
    for what, data in formerr_cases.items():
        w = udp_raw(port, data)
        check(w is not None and len(w) >= 12 and w[:2] == data[:2] and (w[3] & 0x0F) == 1
              and (w[2] & 0x80), "%s -> FORMERR with the query id" % what,
              repr(w[:12]) if w else "no reply")
    # question itself cut off: FORMERR or silence are both accepted (Knot stays silent)
    bad = hdr(1, 0, 0, 0) + b"\x03www\x07exa"
    w = udp_raw(port, bad, 0.5)
    check(w is None or (len(w) >= 12 and w[:2] == b"\x12\x34" and (w[3] & 0x0F) == 1),
          "question cut off -> FORMERR or no reply", repr(w[:12]) if w else "")
    # unknown opcode 3 (unassigned)
    q = dns.message.make_query("www." + ZONE, "A")
    wire = bytearray(q.to_wire())
    wire[2] = (wire[2] & 0x87) | (3 << 3)
    w = udp_raw(port, bytes(wire))
    check(w is not None and (w[3] & 0x0F) == 4 and (w[2] >> 3) & 0x0F == 3,
          "opcode 3 -> NOTIMP (opcode echoed)", repr(w[:12]) if w else "no reply")
    # junk: shorter than a header, random bytes, and a response (QR=1): no reply at all
    check(udp_raw(port, b"\x01\x02\x03\x04\x05", 0.5) is None, "5 junk bytes -> no reply")
    resp = bytearray(q.to_wire())
    resp[2] |= 0x80
    check(udp_raw(port, bytes(resp), 0.5) is None, "QR=1 packet -> no reply")
    rnd = random.Random(7)
    n_reply = 0
    for _ in range(20):
        junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 11)))
        if udp_raw(port, junk, 0.2) is not None:
            n_reply += 1
    check(n_reply == 0, "20 short random packets -> no reply", "%d replies" % n_reply)
    r = H.query(port, "www." + ZONE, "A")
    check(r.rcode() == 0 and r.answer, "still answering after malformed input")


def tcp_exchange(port, msgs, timeout=3.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(b"".join(struct.pack("!H", len(m)) + m for m in msgs))
        out = []
        buf = b""
        deadline = time.monotonic() + timeout
        while len(out) < len(msgs) and time.monotonic() < deadline:
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                n = struct.unpack("!H", buf[:2])[0]
                out.append(buf[2:2 + n])
                buf = buf[2 + n:]
            if len(out) >= len(msgs):
                break
            chunk = s.recv(65535)
            if not chunk:
                break
            buf += chunk
        return out
    finally:
        s.close()


def test_pipelining(port):
    log("== TCP pipelining")
    names = ["www", "mail", "ns1", "ns2", "sip", "nope", "txt", "alias", "big", "www"]
    types = ["A", "A", "A", "A", "A", "A", "TXT", "A", "TXT", "AAAA"]
    qs = [dns.message.make_query(n + "." + ZONE, t) for n, t in zip(names, types)]
    for i, q in enumerate(qs):
        q.id = 1000 + i
    replies = tcp_exchange(port, [q.to_wire() for q in qs], timeout=5)
    check(len(replies) == len(qs), "10 queries on one TCP connection -> 10 replies",
          "got %d" % len(replies))
    ids = sorted(dns.message.from_wire(w).id for w in replies)
    check(ids == sorted(q.id for q in qs), "every reply id matches a query id", str(ids))
    by_id = {dns.message.from_wire(w).id: dns.message.from_wire(w) for w in replies}
    m = by_id.get(1005)
    check(m is not None and m.rcode() == dns.rcode.NXDOMAIN, "pipelined miss -> NXDOMAIN")
    m = by_id.get(1008)
    check(m is not None and sum(len(r) for r in m.answer) == 40, "pipelined big TXT: 40 records")


def test_refused(port):
    log("== REFUSED outside our zones (no recursion, no forwarding)")
    for rd in ("+rec", "+norec"):
        for proto in ("+notcp", "+tcp"):
            r = run_client("dig", port, [rd, proto, "www.notmine.example", "A"])
            check(r["status"] == "REFUSED" and not section(r, "ANSWER"),
                  "name in no zone %s %s -> REFUSED" % (rd, proto), short(r))
    r = run_client("kdig", port, ["www.notmine.example", "A"])
    check(r["status"] == "REFUSED", "kdig name in no zone -> REFUSED", short(r))


class QueryLoop(threading.Thread):
    """Bounded UDP query loop (time and count) recording every outcome."""

    def __init__(self, port, name, max_seconds=20.0, max_queries=2000):
        super().__init__(daemon=True)
        self.port, self.name = port, name
        self.max_seconds, self.max_queries = max_seconds, max_queries
        self.stop_evt = threading.Event()
        self.results = []  # (time, "ok:<addr>" | "rcode:X" | "timeout")

    def run(self):
        end = time.monotonic() + self.max_seconds
        while not self.stop_evt.is_set() and time.monotonic() < end \
                and len(self.results) < self.max_queries:
            try:
                r = H.query(self.port, self.name, "A", timeout=2.0)
                if r.rcode() == 0 and r.answer:
                    self.results.append((time.monotonic(), "ok:" + r.answer[0][0].address))
                else:
                    self.results.append((time.monotonic(), "rcode:" + dns.rcode.to_text(r.rcode())))
            except Exception as e:  # noqa: BLE001
                self.results.append((time.monotonic(), "error:" + type(e).__name__))
            time.sleep(0.01)

    def seen(self, what):
        return any(v == what for _, v in self.results)


def test_reload(srv, zonefile):
    log("== SIGHUP reload without dropping queries; broken file keeps the old zone")
    port = srv.port
    name = "reload." + ZONE
    r = H.query(port, name, "A")
    check(r.answer and r.answer[0][0].address == "192.0.2.1", "before reload: 192.0.2.1")
    orig = open(zonefile).read()
    loop = QueryLoop(port, name)
    loop.start()
    time.sleep(0.3)
    new = orig.replace("2024010101 ; serial", "2024010102 ; serial") \
              .replace("reload  300 IN A 192.0.2.1", "reload  300 IN A 192.0.2.2")
    assert new != orig
    with open(zonefile + ".tmp", "w") as f:
        f.write(new)
    os.replace(zonefile + ".tmp", zonefile)
    srv.proc.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not loop.seen("ok:192.0.2.2"):
        time.sleep(0.05)
    time.sleep(0.3)
    loop.stop_evt.set()
    loop.join(5)
    bad = [v for _, v in loop.results if not v.startswith("ok:")]
    check(loop.seen("ok:192.0.2.2"), "new record served after SIGHUP (within 10s)")
    check(not bad and len(loop.results) > 10,
          "no query failed during the reload (%d queries)" % len(loop.results), str(bad[:5]))
    r = H.query(port, ZONE, "SOA")
    check(r.answer and r.answer[0][0].serial == 2024010102, "serial is the new one")

    # broken zone file: the old version keeps serving
    broken = new.replace("2024010102 ; serial", "2024010103 ; serial") \
                .replace("reload  300 IN A 192.0.2.2", "reload  300 IN A 192.0.2.3") \
        + "\nthis-is IN A not-an-address\n( unbalanced\n"
    with open(zonefile + ".tmp", "w") as f:
        f.write(broken)
    os.replace(zonefile + ".tmp", zonefile)
    loop = QueryLoop(port, name, max_seconds=2.5)
    loop.start()
    srv.proc.signal(signal.SIGHUP)
    loop.join(10)
    vals = set(v for _, v in loop.results)
    check(srv.proc.alive(), "server alive after a broken zone file on SIGHUP")
    check(vals == {"ok:192.0.2.2"}, "old zone keeps serving after a broken reload", str(vals))
    r = H.query(port, ZONE, "SOA")
    check(r.answer and r.answer[0][0].serial == 2024010102, "serial unchanged after broken reload")
    with open(zonefile, "w") as f:
        f.write(new)


def test_api(b):
    log("== HTTP API")
    p = b.api_port
    st, body, _ = H.http_get(p, "/healthz")
    check(st == 200, "GET /healthz -> 200", "%s %s" % (st, body[:200]))
    st, body, _ = H.http_get(p, "/readyz")
    check(st == 200, "GET /readyz -> 200", "%s %s" % (st, body[:200]))
    H.query(b.port, "www." + ZONE, "A")
    st, body, hdrs = H.http_get(p, "/metrics")
    check(st == 200 and re.search(r"^# (TYPE|HELP) ", body, re.M) is not None,
          "GET /metrics -> 200 Prometheus text", "%s %s" % (st, body[:200]))
    check(re.search(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [0-9.eE+-]+$", body, re.M) is not None,
          "/metrics has sample lines")
    # The exposition format allows one HELP and one TYPE per metric family; a repeat makes
    # Prometheus reject the whole scrape.
    families = re.findall(r"^# TYPE (\S+) ", body, re.M)
    repeated = sorted({f for f in families if families.count(f) > 1})
    check(not repeated, "/metrics declares each metric family once", "repeated: %s" % repeated)
    typed = set(families)
    untyped = sorted({m for m in re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", body, re.M)
                      if m not in typed and re.sub(r"_(bucket|sum|count)$", "", m) not in typed})
    check(not untyped, "/metrics samples all belong to a declared family", "untyped: %s" % untyped)
    check(re.search(r'^berth_dns_queries_total\{type="A"\} [1-9]', body, re.M) is not None,
          "/metrics counted the A query")
    st, body, _ = H.http_get(p, "/api/v1/zones")
    ok = st == 200
    try:
        zl = json.loads(body)
    except ValueError:
        zl, ok = None, False
    names = []
    if isinstance(zl, list):
        names = [z.get("name", z.get("id")) for z in zl if isinstance(z, dict)]
    check(ok and any(n and n.rstrip(".") == "example.test" for n in names),
          "GET /api/v1/zones lists example.test", "%s %s" % (st, body[:300]))
    got = None
    for zid in ("example.test.", "example.test"):
        st, body, _ = H.http_get(p, "/api/v1/zones/" + zid)
        if st == 200:
            got = body
            break
    check(got is not None, "GET /api/v1/zones/example.test(.) -> 200")
    if got:
        try:
            z = json.loads(got)
        except ValueError:
            z = {}
        rrsets = z.get("rrsets", []) if isinstance(z, dict) else []
        www = [r for r in rrsets if isinstance(r, dict)
               and r.get("name", "").rstrip(".").lower() == "www.example.test" and r.get("type") == "A"]
        check(bool(www) and any("192.0.2.80" in rec.get("content", "")
                                for rec in www[0].get("records", [])),
              "zone JSON has rrsets with www A 192.0.2.80 (PowerDNS shape)", got[:300])
    st, body, _ = H.http_get(p, "/api/v1/zones/nonexistent.example.")
    check(st == 404, "GET unknown zone -> 404", str(st))


def test_cli(b):
    cli = os.path.join(os.path.dirname(b.binary), "berth")
    if not os.path.exists(cli):
        log("== berth CLI: %s not built, skipped" % cli)
        return
    log("== berth CLI")
    url = "http://127.0.0.1:%d" % b.api_port
    sock = os.path.join(b.dir, "api.sock")
    for api in (url, sock):
        for args, needle in ((["zone", "ls"], "example.test"),
                             (["zone", "show", "example.test."], "192.0.2.80"),
                             (["zone", "export", "example.test."], "192.0.2.80"),
                             (["query", "www.example.test", "A"], "192.0.2.80")):
            r = subprocess.run([cli, "--api", api] + args, capture_output=True, text=True,
                               timeout=10)
            check(r.returncode == 0 and needle in r.stdout,
                  "berth --api %s %s" % ("URL" if api == url else "SOCKET", " ".join(args)),
                  "rc=%d %s" % (r.returncode, (r.stdout + r.stderr)[:300]))


def test_sigterm(srv):
    log("== SIGTERM exits 0")
    srv.proc.signal(signal.SIGTERM)
    rc = srv.proc.wait(10)
    check(rc == 0, "exit status 0 after SIGTERM", "rc=%s" % rc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd")
    ap.add_argument("--knot", action="store_true", help="run the DNS checks against knotd")
    a = ap.parse_args()
    zones = {ZONE: H.zone_path(ZONE), REV: H.zone_path(REV)}
    if a.knot:
        srv = H.Knot(zones)
    else:
        if not a.berthd or not os.access(a.berthd, os.X_OK):
            log("berthd binary not found: %s" % a.berthd)
            sys.exit(1)
        srv = H.Berthd(a.berthd, zones)
    log("server %s on 127.0.0.1:%d (pid %d)" % (srv.proc.name, srv.port, srv.pid))
    sections = [lambda: test_types(srv.port), lambda: test_negative(srv.port),
                lambda: test_case(srv.port), lambda: test_edns(srv.port),
                lambda: test_truncation(srv.port), lambda: test_malformed(srv.port),
                lambda: test_pipelining(srv.port), lambda: test_refused(srv.port)]
    if not a.knot:
        sections += [lambda: test_api(srv), lambda: test_cli(srv)]
    sections += [lambda: test_reload(srv, srv.zones[ZONE]),
                 lambda: check(srv.proc.alive(), "server still running before SIGTERM"),
                 lambda: test_sigterm(srv)]
    for fn in sections:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report and go on with the next section
            import traceback
            traceback.print_exc()
            check(False, "section raised %s: %s" % (type(e).__name__, e))
    if H._failures:
        log("server log tail:\n" + srv.proc.log_tail(40))
    H.finish()


if __name__ == "__main__":
    main()
