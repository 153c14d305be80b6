#!/usr/bin/python3
"""End-to-end forwarding: Knot serves upstream.test. on a loopback port; berthd (holding only
example.test.) forwards everything else to it with --dns-forward. Checks: forwarded answer with
RA, cache hits (upstream frozen with SIGSTOP must not matter for cached names; /metrics cache-hit
counter grows), TTL decrement, NXDOMAIN cached, upstream down -> SERVFAIL within a few seconds,
client outside allow_recursion -> REFUSED.

  test_forward.py --berthd build/bin/berthd
  test_forward.py --unbound      # the same checks against unbound forwarding to Knot
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check, log  # noqa: E402

import dns.flags  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

UP = "upstream.test."
LOCAL = "example.test."


def unbound(upstream_port, allow="127.0.0.0/8", cpu=None, extra=""):
    d = H.tmpdir("berth-unbound-")
    port = H.free_port()
    conf = os.path.join(d, "unbound.conf")
    with open(conf, "w") as f:
        f.write("""server:
    interface: 127.0.0.1
    port: %(port)d
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "%(d)s"
    pidfile: "%(d)s/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    do-ip6: no
    access-control: 0.0.0.0/0 refuse
    access-control: 127.0.0.0/8 refuse
    access-control: %(allow)s allow
    do-not-query-localhost: no
    module-config: "iterator"
    local-zone: "test." nodefault
    local-zone: "example.test." static
    local-data: "www.example.test. 3600 IN A 192.0.2.80"
%(extra)s
remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@%(up)d
""" % {"port": port, "d": d, "allow": allow, "up": upstream_port, "extra": extra})
    p = H.Proc("unbound", [H.UNBOUND, "-d", "-c", conf], os.path.join(d, "unbound.log"), cpu=cpu)
    p.port = port
    p.dir = d
    H.wait_reply(port, proc=p)
    return p


class Srv:
    """berthd or unbound behind one interface: .port, .proc, .metrics()."""

    def __init__(self, kind, binary, upstream_port, allow):
        self.kind = kind
        if kind == "berthd":
            self.b = H.Berthd(binary, {LOCAL: H.zone_path(LOCAL)},
                              args=["--dns-forward", "127.0.0.1:%d" % upstream_port,
                                    "--allow-recursion", allow])
            self.port, self.proc = self.b.port, self.b.proc
        else:
            self.b = None
            self.proc = unbound(upstream_port, allow)
            self.port = self.proc.port

    def metrics(self):
        if not self.b:
            return None
        st, body, _ = H.http_get(self.b.api_port, "/metrics")
        return body if st == 200 else None


def cache_hits(text):
    total, found = 0.0, False
    for line in (text or "").splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
        if m and re.search(r"cache.*hit|hit.*cache", m.group(1) + (m.group(2) or ""), re.I) \
                and not re.search(r"miss", m.group(1) + (m.group(2) or ""), re.I):
            total += float(m.group(3))
            found = True
    return total if found else None


def freeze(knot):
    """SIGSTOP the upstream and wait (bounded) until the kernel reports it stopped."""
    knot.proc.signal(signal.SIGSTOP)
    for _ in range(100):
        with open("/proc/%d/stat" % knot.pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.01)


def rr_ttl(r, rdtype):
    for rrs in r.answer:
        if rrs.rdtype == dns.rdatatype.from_text(rdtype):
            return rrs.ttl
    return None


def addrs(r):
    return sorted(rr.address for rrs in r.answer if rrs.rdtype in (1, 28) for rr in rrs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd")
    ap.add_argument("--unbound", action="store_true")
    a = ap.parse_args()
    kind = "unbound" if a.unbound else "berthd"
    if kind == "berthd" and (not a.berthd or not os.access(a.berthd, os.X_OK)):
        log("berthd binary not found: %s" % a.berthd)
        sys.exit(1)
    knot = H.Knot({UP: H.zone_path(UP)})
    log("upstream knot on %d" % knot.port)
    s = Srv(kind, a.berthd, knot.port, "127.0.0.0/8")
    log("%s on %d (pid %d)" % (kind, s.port, s.proc.pid))
    run(s, knot, kind, a)
    if H._failures:
        log("%s log tail:\n%s" % (kind, s.proc.log_tail(40)))
    H.finish()


def run(s, knot, kind, a):
    """Sections run in order; one raising is a failure and the next still runs."""
    p = s.port
    st = {"t1": None, "knot_port": knot.port}

    def section_1():
        log("== forwarded answers")
        r = H.query(p, "host." + UP, "A", rd=True)
        check(r.rcode() == 0 and addrs(r) == ["198.51.100.10"], "host.upstream.test A forwarded",
              r.to_text())
        check(bool(r.flags & dns.flags.RA), "RA set on a forwarded answer")
        check(not (r.flags & dns.flags.AA), "AA clear on a forwarded answer")
        st["t1"] = t1 = rr_ttl(r, "A")
        check(t1 is not None and 0 < t1 <= 300, "TTL within the upstream's 300", str(t1))
        r = H.query(p, "cname." + UP, "A", rd=True)
        check(r.rcode() == 0 and "198.51.100.10" in addrs(r)
              and any(x.rdtype == dns.rdatatype.CNAME for x in r.answer),
              "CNAME + target from upstream", r.to_text())
        try:
            r = H.query(p, "host." + UP, "AAAA", rd=True, proto="tcp")
            check(r.rcode() == 0 and addrs(r) == ["2001:db8:100::10"], "forwarded over TCP (AAAA)")
        except OSError as e:
            check(False, "forwarded over TCP (AAAA)", repr(e))
        r = H.query(p, "www." + LOCAL, "A", rd=True)
        check(r.rcode() == 0 and addrs(r) == ["192.0.2.80"], "local zone still answered locally")
        if kind == "berthd":
            check(bool(r.flags & dns.flags.AA), "local zone answer has AA")


    def section_2():
        log("== cache")
        text = s.metrics()
        m0 = cache_hits(text)
        if text is not None:
            # With forwarding on, the cache and upstream families appear too: each once.
            families = re.findall(r"^# TYPE (\S+) ", text, re.M)
            repeated = sorted({f for f in families if families.count(f) > 1})
            check(not repeated and "berth_dns_upstream_queries_total" in families,
                  "/metrics declares each family once, upstream counters included", "repeated: %s" % repeated)
        freeze(knot)  # upstream frozen: only the cache can answer now
        try:
            r = H.query(p, "host." + UP, "A", rd=True, timeout=1.0)
            check(r.rcode() == 0 and addrs(r) == ["198.51.100.10"],
                  "second query answered with the upstream frozen (from cache)")
        except Exception as e:  # noqa: BLE001
            check(False, "second query answered with the upstream frozen (from cache)", repr(e))
        finally:
            knot.proc.signal(signal.SIGCONT)
        if kind == "berthd":
            m1 = cache_hits(s.metrics())
            check(m0 is not None and m1 is not None and m1 > m0,
                  "/metrics cache-hit counter increased", "before=%s after=%s" % (m0, m1))


    def section_3():
        log("== TTL decrements")
        time.sleep(2.2)
        r = H.query(p, "host." + UP, "A", rd=True)
        t1 = st["t1"]
        t2 = rr_ttl(r, "A")
        check(t1 is not None and t2 is not None and 0 < t2 <= t1 - 2,
              "TTL went down by >= 2 after 2.2 s", "t1=%s t2=%s" % (t1, t2))


    def section_4():
        log("== NXDOMAIN cached")
        r = H.query(p, "nx1." + UP, "A", rd=True)
        check(r.rcode() == dns.rcode.NXDOMAIN
              and any(x.rdtype == dns.rdatatype.SOA for x in r.authority),
              "NXDOMAIN forwarded with SOA in authority", r.to_text())
        freeze(knot)
        try:
            r = H.query(p, "nx1." + UP, "A", rd=True, timeout=1.0)
            check(r.rcode() == dns.rcode.NXDOMAIN, "NXDOMAIN answered again with the upstream frozen")
        except Exception as e:  # noqa: BLE001
            check(False, "NXDOMAIN answered again with the upstream frozen", repr(e))


    def section_5():
        log("== upstream down -> SERVFAIL in a few seconds")
        freeze(knot)
        try:
            t0 = time.monotonic()
            try:
                r = H.query(p, "host2." + UP, "A", rd=True, timeout=10.0)
                el = time.monotonic() - t0
                check(r.rcode() == dns.rcode.SERVFAIL and el <= 6.0,
                      "uncached name, upstream frozen -> SERVFAIL within 6 s",
                      "rcode=%s after %.1fs" % (dns.rcode.to_text(r.rcode()), el))
            except Exception as e:  # noqa: BLE001
                check(False, "uncached name, upstream frozen -> SERVFAIL within 6 s",
                      "%r after %.1fs" % (e, time.monotonic() - t0))
        finally:
            knot.proc.signal(signal.SIGCONT)
        knot.stop()
        t0 = time.monotonic()
        try:
            r = H.query(p, "host3." + UP, "A", rd=True, timeout=10.0)
            el = time.monotonic() - t0
            check(r.rcode() == dns.rcode.SERVFAIL and el <= 6.0,
                  "uncached name, upstream stopped -> SERVFAIL within 6 s",
                  "rcode=%s after %.1fs" % (dns.rcode.to_text(r.rcode()), el))
        except Exception as e:  # noqa: BLE001
            check(False, "uncached name, upstream stopped -> SERVFAIL within 6 s", repr(e))
        check(s.proc.alive(), "%s alive after upstream failures" % kind)


    def section_6():
        log("== client outside allow_recursion -> REFUSED")
        s2 = Srv(kind, a.berthd, st["knot_port"], "10.0.0.0/8")
        r = H.query(s2.port, "host." + UP, "A", rd=True)
        check(r.rcode() == dns.rcode.REFUSED and not r.answer, "forwarding refused for 127.0.0.1",
              dns.rcode.to_text(r.rcode()))
        r = H.query(s2.port, "www." + LOCAL, "A", rd=True)
        check(r.rcode() == 0 and addrs(r) == ["192.0.2.80"] or kind == "unbound",
              "local zone still answered to a client without recursion")

    def section_reload():
        if kind != "berthd":
            return
        log("== SIGHUP applies allow_recursion, dns.forward and log.level at once, names restart-only keys")
        # No flags for these keys: the config file decides, and a reload of it.
        fwd = "  forward: [127.0.0.1:%d]\n" % st["knot_port"]
        b3 = H.Berthd(a.berthd, {LOCAL: H.zone_path(LOCAL)}, dns_config=fwd)
        port3, cfg = b3.port, os.path.join(b3.dir, "berthd.yaml")
        r = H.query(port3, "host." + UP, "A", rd=True)
        check(r.rcode() == 0 and addrs(r) == ["198.51.100.10"], "before reload: 127.0.0.1 may recurse",
              r.to_text())

        def log_text():
            with open(b3.proc.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")

        def reload(yaml_text, wait_for):
            with open(cfg + ".tmp", "w") as f:
                f.write(yaml_text)
            os.replace(cfg + ".tmp", cfg)
            b3.proc.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not wait_for():
                time.sleep(0.05)
            return wait_for()

        done_before = log_text().count("reload done")
        closed = reload("dns:\n" + fwd + "  allow_recursion: [10.0.0.0/8]\n  workers: 3\n"
                        "log:\n  level: warn\n",
                        lambda: "dns.workers changed" in log_text())
        check(closed, "restart-only key named in a warning",
              "\n".join(l for l in log_text().splitlines() if "reload" in l))
        r = H.query(port3, "other." + UP, "A", rd=True)
        check(r.rcode() == dns.rcode.REFUSED and not r.answer, "after reload: recursion refused to 127.0.0.1",
              dns.rcode.to_text(r.rcode()))
        r = H.query(port3, "host." + UP, "A", rd=True, proto="tcp")
        check(r.rcode() == dns.rcode.REFUSED, "over TCP too (cached names included)", dns.rcode.to_text(r.rcode()))
        r = H.query(port3, "www." + LOCAL, "A", rd=True)
        check(r.rcode() == 0 and addrs(r) == ["192.0.2.80"], "local zone still answered")
        time.sleep(0.3)
        check(log_text().count("reload done") == done_before, "log.level warn: the info line is not written")

        opened = reload("dns:\n" + fwd + "  allow_recursion: [127.0.0.1/32]\n  workers: 3\n",
                        lambda: log_text().count("reload done") > done_before)
        check(opened, "log.level back to info: 'reload done' written again")
        r = H.query(port3, "host." + UP, "A", rd=True)
        check(r.rcode() == 0 and addrs(r) == ["198.51.100.10"], "after a second reload: recursion allowed again",
              r.to_text())

        # Another upstream that says something else for the same name: after the reload it is
        # asked, and the old upstream's cached answer is gone.
        other_dir = H.tmpdir("berth-up2-")
        other_zone = os.path.join(other_dir, "upstream.test.zone")
        with open(H.zone_path(UP)) as f:
            text = f.read()
        with open(other_zone, "w") as f:
            f.write(text.replace("198.51.100.10", "198.51.100.99"))
        knot2 = H.Knot({UP: other_zone})
        fwd2 = "  forward: [127.0.0.1:%d]\n" % knot2.port
        switched = reload("dns:\n" + fwd2 + "  edns_udp_size: 1400\n  cache_size: 5000\n",
                          lambda: "reload: forwarding to 127.0.0.1:%d" % knot2.port in log_text())
        check(switched, "dns.forward reloaded: the new upstream is logged")
        r = H.query(port3, "host." + UP, "A", rd=True)
        check(r.rcode() == 0 and addrs(r) == ["198.51.100.99"], "the new upstream answers; the cache was cleared",
              r.to_text())
        r = H.query(port3, "www." + LOCAL, "A", edns=0, payload=4096)
        check(r.payload == 1400, "dns.edns_udp_size reloaded: answers advertise 1400", str(r.payload))
        check("dns.cache_size" not in log_text(), "a new cache size is applied, not left for a restart")
        turned_off = reload("dns:\n  forward: []\n",
                            lambda: "dns.forward (turning forwarding off)" in log_text())
        check(turned_off, "turning forwarding off is named as restart-only")
        r = H.query(port3, "host." + UP, "A", rd=True)
        check(r.rcode() == 0 and addrs(r) == ["198.51.100.99"], "forwarding keeps running until a restart")

        def reload_metric():
            st_, body, _ = H.http_get(b3.api_port, "/metrics")
            m = re.search(r"^berth_config_last_reload_successful (\d+)$", body or "", re.M)
            return m.group(1) if st_ == 200 and m else None

        check(reload_metric() == "1", "/metrics: the last reload succeeded", str(reload_metric()))
        rejected = reload("dns:\n" + fwd2 + "  nope: 1\n", lambda: "config rejected" in log_text())
        check(rejected and reload_metric() == "0" and b3.proc.alive(),
              "a config with an unknown key is rejected whole and /metrics says so", str(reload_metric()))
        r = H.query(port3, "host." + UP, "A", rd=True)
        check(r.rcode() == 0 and addrs(r) == ["198.51.100.99"], "the running config keeps serving")
        back = reload("dns:\n" + fwd2, lambda: reload_metric() == "1")
        check(back, "the next good reload sets it back to 1")
        check(b3.proc.alive(), "berthd alive after the reloads")
        b3.proc.stop()
        knot2.proc.stop()

    def section_7():
        log("== SIGTERM")
        s.proc.signal(signal.SIGTERM)
        rc = s.proc.wait(10)
        check(rc == 0, "exit 0 after SIGTERM", str(rc))


    for fn in (section_1, section_reload, section_2, section_3, section_4, section_5, section_6, section_7):
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            import traceback
            traceback.print_exc()
            check(False, "section raised %s: %s" % (type(e).__name__, e))
        finally:
            knot.proc.signal(signal.SIGCONT)

if __name__ == "__main__":
    main()
