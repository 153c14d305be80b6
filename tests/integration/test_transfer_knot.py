#!/usr/bin/python3
"""Zone transfers out: a real Knot secondary follows a primary by AXFR, then by IXFR after each
NOTIFY, over TSIG-signed transfers; after every change, every name and type of the zone gets the
same answer from both servers (test_diff_knot's section-by-section comparison).

The primary is berthd (the zone lives in its store; changes go through PUT .../zonefile, which
journals the difference, and through nsupdate), or with --self-check a Knot primary driven the
same way (file reload + nsupdate), which proves the harness and expectations on this machine.

Also checked on the primary: an unsigned AXFR is refused (the ACL only names the key), a signed
AXFR read by dnspython (which verifies the TSIG stream) holds exactly the zone, and a signed
IXFR from the first serial is incremental. The SOA refresh is an hour, so only NOTIFY can make
the secondary follow within the test's bounded waits.

  test_transfer_knot.py --berthd build/bin/berthd
  test_transfer_knot.py --self-check
"""
import argparse
import base64
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import check, log  # noqa: E402
from test_diff_knot import ask, compare  # noqa: E402

import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402
import dns.tsig  # noqa: E402
import dns.tsigkeyring  # noqa: E402
import dns.zone  # noqa: E402

ZONE = "xfr.test."
XFR_KEY = ("xfr-key.", "hmac-sha256", base64.b64encode(os.urandom(32)).decode())
UPD_KEY = ("upd-key.", "hmac-sha256", base64.b64encode(os.urandom(32)).decode())
TYPES = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "SRV", "CAA", "DS"]
WAIT = 20.0  # seconds for the secondary to follow one change


def zone_text(serial, hosts=range(0, 1200), www="192.0.2.80", extra=""):
    """The zone at one version. 1200 hosts make the AXFR several TCP messages."""
    lines = [
        "$ORIGIN %s" % ZONE, "$TTL 300",
        "@ 3600 IN SOA ns1 hostmaster %d 3600 600 86400 60" % serial,
        "@ NS ns1", "@ NS ns2", "@ MX 10 mail", "@ TXT \"v=spf1 -all\"",
        "@ CAA 0 issue \"ca.example.net\"",
        "ns1 A 127.0.0.1", "ns2 A 127.0.0.2", "mail A 192.0.2.25", "mail AAAA 2001:db8::25",
        "www A %s" % www, "www AAAA 2001:db8::80", "alias CNAME www",
        "_sip._tcp SRV 0 5 5060 mail", "*.wild A 192.0.2.99", "a.b.c TXT \"deep name\"",
        "sub NS ns.sub", "sub DS 12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "ns.sub A 192.0.2.53",
    ]
    lines += ["host%d A 10.%d.%d.%d" % (i, i // 65536, (i // 256) % 256, i % 256) for i in hosts]
    return "\n".join(lines) + "\n" + extra


# The versions the primary goes through (serial 4 comes from the nsupdate step).
V1 = zone_text(1)
V2 = zone_text(2, hosts=[i for i in range(1200) if not 5 <= i < 10], www="192.0.2.81",
               extra="new1 A 192.0.2.101\nnew1 TXT \"added in v2\"\n")
V3 = zone_text(3, hosts=list(range(300, 1500)), www="192.0.2.81",
               extra="new1 A 192.0.2.101\nnew2 AAAA 2001:db8::102\n")
NSUPDATE = ["update add dyn.%s 60 A 192.0.2.200" % ZONE, "update delete new2.%s AAAA" % ZONE]


def keys_yaml():
    return ("auth:\n  tsig_keys:\n"
            "    - name: %s\n      algorithm: %s\n      secret: \"%s\"\n"
            "    - name: %s\n      algorithm: %s\n      secret: \"%s\"\n"
            "      scope:\n        - zone: %s\n          names: [\"*\"]\n          access: write\n"
            % (XFR_KEY + UPD_KEY + (ZONE,)))


def knot_conf(d, port, keys, remotes, acls, zone, template_extra=""):
    """A knotd config: keys/remotes/acls are lists of dicts written as YAML list items."""
    def section(name, items):
        if not items:
            return ""
        out = name + ":\n"
        for it in items:
            first = True
            for k, v in it.items():
                out += ("  - " if first else "    ") + "%s: %s\n" % (k, v)
                first = False
        return out
    return (
        "server:\n    rundir: \"%(d)s\"\n    listen: 127.0.0.1@%(p)d\n"
        "    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n"
        "control:\n    listen: \"%(d)s/knot.sock\"\n"
        "database:\n    storage: \"%(d)s\"\n"
        "log:\n  - target: stderr\n    any: info\n"
        "%(sections)s"
        "template:\n  - id: default\n    storage: \"%(d)s\"\n    zonefile-sync: -1\n%(tx)s"
        "zone:\n%(zone)s"
    ) % {"d": d, "p": port, "zone": zone, "tx": template_extra,
         "sections": section("key", keys) + section("remote", remotes) + section("acl", acls)}


def start_knot(d, conf, name):
    path = os.path.join(d, "knot.conf")
    with open(path, "w") as f:
        f.write(conf)
    return H.Proc(name, [H.KNOTD, "-c", path], os.path.join(d, "knotd.log"))


def key_item(k):
    return {"id": k[0], "algorithm": k[1], "secret": k[2]}


class KnotSecondary:
    def __init__(self, primary_port, port):
        self.dir = H.tmpdir("berth-knot2-")
        self.port = port  # where the primary sends its NOTIFY
        conf = knot_conf(
            self.dir, self.port, [key_item(XFR_KEY)],
            [{"id": "primary", "address": "127.0.0.1@%d" % primary_port, "key": XFR_KEY[0]}],
            # The primary may sign its NOTIFY or not: accept it from loopback either way.
            [{"id": "notify", "address": "127.0.0.0/8", "action": "notify"},
             {"id": "notify_signed", "address": "127.0.0.0/8", "key": XFR_KEY[0], "action": "notify"}],
            "  - domain: %s\n    master: primary\n    acl: [notify, notify_signed]\n"
            "    file: \"%s/secondary.zone\"\n" % (ZONE, self.dir),
            "    zonefile-load: none\n    journal-content: changes\n")
        self.proc = start_knot(self.dir, conf, "knotd-secondary")

    def log_text(self):
        with open(self.proc.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")


class KnotPrimary:
    """--self-check: Knot as the primary, changed by zone file reloads and nsupdate."""

    def __init__(self):
        self.dir = H.tmpdir("berth-knot1-")
        self.port = H.free_port()
        self.secondary_port = H.free_port()
        self.file = os.path.join(self.dir, "primary.zone")
        with open(self.file, "w") as f:
            f.write(V1)
        conf = knot_conf(
            self.dir, self.port, [key_item(XFR_KEY), key_item(UPD_KEY)],
            [{"id": "secondary", "address": "127.0.0.1@%d" % self.secondary_port}],
            [{"id": "xfr", "key": XFR_KEY[0], "action": "transfer"},
             {"id": "upd", "key": UPD_KEY[0], "action": "update"}],
            "  - domain: %s\n    file: \"%s\"\n    notify: secondary\n    acl: [xfr, upd]\n"
            % (ZONE, self.file),
            "    zonefile-load: difference\n    journal-content: changes\n"
            "    serial-policy: increment\n")
        self.proc = start_knot(self.dir, conf, "knotd-primary")
        H.wait_dns(self.port, ZONE, "SOA", proc=self.proc)

    def set_zone(self, text):
        with open(self.file + ".tmp", "w") as f:
            f.write(text)
        os.replace(self.file + ".tmp", self.file)
        subprocess.run(["knotc", "-s", os.path.join(self.dir, "knot.sock"), "zone-reload", ZONE],
                       check=True, capture_output=True, timeout=15)

    def metrics(self):
        return ""


class BerthPrimary:
    def __init__(self, binary):
        self.secondary_port = H.free_port()
        cfg = keys_yaml() + (
            "zones:\n  - name: %s\n    notify: [\"127.0.0.1:%d\"]\n"
            "    allow_transfer: [\"key:%s\"]\n" % (ZONE, self.secondary_port, XFR_KEY[0]))
        self.srv = H.Berthd(binary, extra_config=cfg)
        self.port = self.srv.port
        self.proc = self.srv.proc
        self.set_zone(V1)

    def set_zone(self, text):
        """PUT .../zonefile through the unix socket (admin there): the store journals the diff."""
        st, body = H.http_unix(os.path.join(self.srv.dir, "api.sock"), "PUT",
                               "/api/v1/zones/%s/zonefile" % ZONE, body=text.encode(),
                               timeout=10.0, headers={"Content-Type": "text/plain"})
        if st != 200:
            raise RuntimeError("PUT zone: %d %s" % (st, body))
        H.wait_dns(self.port, ZONE, "SOA", proc=self.proc)

    def metrics(self):
        try:
            st, body, _ = H.http_get(self.srv.api_port, "/metrics")
            return body if st == 200 else ""
        except OSError:
            return ""


def soa_serial(port):
    try:
        r = H.query(port, ZONE, "SOA", timeout=0.5)
    except Exception:  # noqa: BLE001 - not answering yet
        return None
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def wait_serial(port, newer_than, proc):
    """Bounded wait until the server at `port` serves a serial above `newer_than`."""
    deadline = time.monotonic() + WAIT
    s = None
    while time.monotonic() < deadline and proc.alive():
        s = soa_serial(port)
        if s is not None and s > newer_than:
            return s
        time.sleep(0.05)
    return s


def wait_follow(primary, secondary, what, before=0):
    """The primary moves past serial `before`; then the secondary must reach its serial."""
    want = wait_serial(primary.port, before, primary.proc)
    deadline = time.monotonic() + WAIT
    got = None
    while time.monotonic() < deadline:
        if not secondary.proc.alive():
            break
        got = soa_serial(secondary.port)
        if got == want:
            break
        time.sleep(0.1)
    return check(got == want and want is not None,
                 "secondary follows %s (serial %s)" % (what, want),
                 "secondary at %s after %.0fs\n%s" % (got, WAIT, secondary.proc.log_tail(15)))


def keyring():
    return dns.tsigkeyring.from_text({XFR_KEY[0]: (XFR_KEY[1], XFR_KEY[2])})


def xfr(port, rdtype, serial=0, signed=True):
    kw = {}
    if signed:
        kw = {"keyring": keyring(), "keyname": XFR_KEY[0], "keyalgorithm": XFR_KEY[1]}
    return list(dns.query.xfr("127.0.0.1", ZONE, rdtype=rdtype, port=port, timeout=5, lifetime=20,
                              relativize=False, serial=serial, **kw))


def rr_lines(rrsets):
    out = set()
    for rrset in rrsets:
        for rd in rrset:
            out.add("%s %d %s %s" % (rrset.name.to_text().lower(), rrset.ttl,
                                     dns.rdatatype.to_text(rrset.rdtype), rd.to_text().lower()))
    return out


def primary_records(port, checks=False):
    """Every record of the primary's zone through a signed AXFR (and checks of its framing)."""
    msgs = xfr(port, "AXFR")
    answers = [rrset for m in msgs for rrset in m.answer]
    if checks:
        check(len(msgs) >= 2, "AXFR of 1000+ hosts takes several messages", "%d" % len(msgs))
        check(answers[0].rdtype == dns.rdatatype.SOA and answers[-1].rdtype == dns.rdatatype.SOA,
              "AXFR starts and ends with the SOA")
    return rr_lines(answers[:-1]), len(msgs)


def queries(records):
    """Every (owner, type) of the zone; every type at the names other than hostN and at empty
    non-terminals; a few misses."""
    pairs, owners = set(), set()
    origin = dns.name.from_text(ZONE)
    for line in records:
        owner, _, rdtype = line.split()[:3]
        pairs.add((owner, rdtype))
        name = dns.name.from_text(owner)
        if not owner.startswith("host"):
            owners.add(name)
        while name != origin and len(name) > len(origin):
            name = name.parent()
            owners.add(name)
    qs = sorted(pairs) + [(o.to_text(), t) for o in sorted(owners) for t in TYPES]
    qs += [("nothing." + ZONE, "A"), ("x.wild." + ZONE, "TXT"), ("deep.host.sub." + ZONE, "A")]
    return qs


def compare_all(primary, secondary, what):
    records, _ = primary_records(primary.port)
    bad = 0
    qs = queries(records)
    for name, t in qs:
        a = ask(secondary.port, name, t, False)
        b = ask(primary.port, name, t, False)
        d = compare(a, b, t)
        if d:
            bad += 1
            if bad <= 10:
                log("    MISMATCH %s %s: %s" % (name, t, "; ".join(x.replace("\n", " ") for x in d)))
    check(bad == 0, "%s: %d queries answered alike by both servers" % (what, len(qs)),
          "%d mismatches" % bad)
    return records


def nsupdate(port):
    script = "server 127.0.0.1 %d\nzone %s\n%s\nsend\n" % (port, ZONE, "\n".join(NSUPDATE))
    p = subprocess.run(["nsupdate", "-t", "5", "-v", "-y", "%s:%s:%s" % (UPD_KEY[1], UPD_KEY[0], UPD_KEY[2])],
                       input=script, capture_output=True, text=True, timeout=30)
    return check(p.returncode == 0, "nsupdate on the primary", (p.stdout + p.stderr).strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd")
    ap.add_argument("--self-check", action="store_true", help="Knot primary instead of berthd")
    a = ap.parse_args()
    if a.self_check:
        primary = KnotPrimary()
    else:
        if not a.berthd or not os.access(a.berthd, os.X_OK):
            log("berthd binary not found: %s" % a.berthd)
            sys.exit(1)
        primary = BerthPrimary(a.berthd)
    log("primary on %d, secondary on %d" % (primary.port, primary.secondary_port))

    # Access: no key, no transfer. UDP AXFR is never served.
    q = dns.message.make_query(ZONE, "AXFR")
    try:
        r = dns.query.tcp(q, "127.0.0.1", port=primary.port, timeout=5)
        check(r.rcode() != dns.rcode.NOERROR and not r.answer,
              "unsigned AXFR refused (%s)" % dns.rcode.to_text(r.rcode()))
    except (EOFError, ConnectionError, OSError) as e:
        check(True, "unsigned AXFR refused (connection closed: %s)" % type(e).__name__)
    r = dns.query.udp(dns.message.make_query(ZONE, "AXFR"), "127.0.0.1", port=primary.port, timeout=5)
    check(r.rcode() != dns.rcode.NOERROR and not r.answer,
          "AXFR over UDP not served (%s)" % dns.rcode.to_text(r.rcode()))

    # The signed AXFR holds exactly the zone as written.
    want = rr_lines(_zone_rrsets(V1))
    got, nmsg = primary_records(primary.port, checks=True)
    check(got == want, "signed AXFR (%d messages, TSIG verified by dnspython) holds the zone" % nmsg,
          "only AXFR: %s; only file: %s" % (sorted(got - want)[:5], sorted(want - got)[:5]))

    secondary = KnotSecondary(primary.port, primary.secondary_port)
    wait_follow(primary, secondary, "the first load (AXFR)")
    compare_all(primary, secondary, "v1")

    steps = [("zone replaced (v2: 5 hosts gone, www changed, new names)", lambda: primary.set_zone(V2)),
             ("zone replaced (v3: 300 hosts gone, 300 new)", lambda: primary.set_zone(V3)),
             ("nsupdate (add one, delete one)", lambda: nsupdate(primary.port))]
    for what, change in steps:
        log("\n-- " + what)
        before = soa_serial(primary.port) or 0
        change()
        if wait_follow(primary, secondary, what, before):
            compare_all(primary, secondary, what)

    # Knot's log says how it transferred: one AXFR first, then only IXFRs.
    text = secondary.log_text()
    axfr = len(re.findall(r"AXFR, incoming, remote [^,]+, finished", text))
    ixfr = len(re.findall(r"IXFR, incoming, remote [^,]+, finished", text))
    fallback = len(re.findall(r"fallback to AXFR", text, re.IGNORECASE))
    check(axfr == 1, "secondary took exactly one AXFR", "AXFR %d" % axfr)
    check(ixfr >= len(steps), "secondary followed every change by IXFR", "IXFR %d, log:\n%s"
          % (ixfr, "\n".join(l for l in text.splitlines() if "XFR" in l)[-3000:]))
    check(fallback == 0, "no fallback from IXFR to AXFR", "%d" % fallback)

    # A signed IXFR from serial 1 is incremental: current SOA, then the SOA of serial 1.
    msgs = xfr(primary.port, "IXFR", serial=1)
    answers = [rr for m in msgs for rrset in m.answer for rr in _split(rrset)]
    check(len(answers) > 2 and answers[0].rdtype == dns.rdatatype.SOA
          and answers[1].rdtype == dns.rdatatype.SOA and answers[1][0].serial == 1,
          "signed IXFR from serial 1 is incremental (%d messages)" % len(msgs))

    metrics = primary.metrics()
    for line in metrics.splitlines():
        if ("notify" in line or "transfer" in line or "xfr" in line) and not line.startswith("#"):
            log("  metric: " + line)
    for p in (primary, secondary):
        check(p.proc.alive(), "%s still running" % p.proc.name, p.proc.log_tail(10))
    H.finish()


def _zone_rrsets(text):
    z = dns.zone.from_text(text, origin=ZONE, relativize=False)
    out = []
    for name, rdataset in z.iterate_rdatasets():
        rrset = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
        rrset.update(rdataset)
        out.append(rrset)
    return out


def _split(rrset):
    """One single-record rrset per record, keeping stream order (IXFR sections repeat SOAs)."""
    out = []
    for rd in rrset:
        one = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
        one.add(rd, rrset.ttl)
        out.append(one)
    return out


if __name__ == "__main__":
    main()
