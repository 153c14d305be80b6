#!/usr/bin/python3
"""Differential test: Knot and berthd load the same zone files (zones/diff.test.zone and
zones/rfc4592.test.zone) and get the same few hundred UDP queries; the answers must match section
by section: rcode, opcode, flags QR/AA/TC/RD/RA, EDNS presence, and answer/authority/additional as
sets of RRsets (owner names compared case-insensitively, TTLs compared, order ignored).

ANY queries (RFC 8482 allows minimal answers, and servers differ) are compared on rcode only.
Truncated replies (TC=1 on both) are compared on header only.

  test_diff_knot.py --berthd build/bin/berthd
  test_diff_knot.py --self-check       # Knot against a second Knot: proves generator + compare
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import log  # noqa: E402

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.opcode  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.zone  # noqa: E402

ZONES = ["diff.test.", "rfc4592.test."]
TYPES = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "SRV", "CAA", "PTR", "TYPE65280", "DS",
         "ANY"]
FLAGS = [("QR", dns.flags.QR), ("AA", dns.flags.AA), ("TC", dns.flags.TC),
         ("RD", dns.flags.RD), ("RA", dns.flags.RA)]


def owners(zone_name):
    z = dns.zone.from_file(H.zone_path(zone_name), origin=zone_name, relativize=False,
                           check_origin=True)
    names = set()
    origin = dns.name.from_text(zone_name)
    for n in z.nodes.keys():
        names.add(n)
        # empty non-terminals between the owner and the apex
        p = n
        while p != origin and len(p) > len(origin):
            p = p.parent()
            names.add(p)
    return sorted(names)


def generate(seed=4592):
    rnd = random.Random(seed)
    qs = []
    for zn in ZONES:
        for o in owners(zn):
            for t in TYPES:
                qs.append((o.to_text(), t))
    d, r = "diff.test.", "rfc4592.test."
    special = [
        # below wildcards, wildcard CNAME, RFC 4592 2.2.1 cases
        ("foo.wild." + d, "A"), ("a.b.wild." + d, "TXT"), ("foo.wild." + d, "AAAA"),
        ("x.exists.wild." + d, "A"), ("exists.wild." + d, "TXT"), ("foo.cw." + d, "A"),
        ("foo.cw." + d, "CNAME"), ("z.y.w2." + d, "A"), ("y.w2." + d, "A"), ("q.w2." + d, "A"),
        ("q.w2." + d, "MX"), ("host3." + r, "MX"), ("host3." + r, "A"), ("foo.bar." + r, "TXT"),
        ("host1." + r, "MX"), ("sub.*." + r, "MX"), ("_telnet._tcp.host1." + r, "SRV"),
        ("ghost.*." + r, "MX"), ("_ssh._tcp.host3." + r, "SRV"), ("*." + r, "TXT"),
        # below delegations
        ("host.sub." + d, "A"), ("a.b.sub." + d, "AAAA"), ("ns.sub." + d, "A"),
        ("x.sub2." + d, "A"), ("sub." + d, "DS"), ("sub2." + d, "NS"),
        ("host.subdel." + r, "A"), ("subdel." + r, "NS"),
        # CNAME cases
        ("chain1." + d, "AAAA"), ("dangling." + d, "A"), ("todeleg." + d, "A"),
        ("ext." + d, "A"), ("towild." + d, "TXT"),
        # class / out of zone
        ("www.notours.example.", "A"), ("test.", "SOA"),
    ]
    qs += special
    for zn in ZONES:
        for _ in range(25):
            lab = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789-")
                          for _ in range(rnd.randrange(1, 15)))
            qs.append((lab.strip("-") + "x." + zn, rnd.choice(["A", "AAAA", "MX", "TXT"])))
    out = []
    for name, t in qs:
        # mixed case for about half, RD for about a third
        if rnd.random() < 0.5:
            name = "".join(c.upper() if rnd.random() < 0.5 else c for c in name)
        out.append((name, t, rnd.random() < 0.33))
    return out


def ask(port, name, t, rd):
    q = dns.message.make_query(name, t, use_edns=0, payload=1232)
    if not rd:
        q.flags &= ~dns.flags.RD
    q.id = 4242
    last = None
    for _ in range(3):
        try:
            return dns.query.udp(q, "127.0.0.1", port=port, timeout=1.5,
                                 raise_on_truncation=False)
        except Exception as e:  # noqa: BLE001
            last = e
    return "no reply (%s)" % type(last).__name__


def rrset_key(rrset):
    if rrset.rdtype == dns.rdatatype.TXT:
        rd = sorted(r.to_text() for r in rrset)
    else:
        rd = sorted(r.to_text().lower() for r in rrset)
    return (rrset.name.to_text().lower(), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl,
            tuple(rd))


def fmt_section(sec):
    return sorted("%s %d %s %s" % (k[0], k[2], k[1], " | ".join(k[3])) for k in sec)


def compare(a, b, t):
    """List of differences between reply a (Knot) and b (other)."""
    if isinstance(a, str) or isinstance(b, str):
        return [] if (isinstance(a, str) and isinstance(b, str)) else \
            ["reply: knot=%s other=%s" % ("none" if isinstance(a, str) else "yes",
                                          "none" if isinstance(b, str) else "yes")]
    diffs = []
    if a.rcode() != b.rcode():
        diffs.append("rcode: knot=%s other=%s" % (dns.rcode.to_text(a.rcode()),
                                                  dns.rcode.to_text(b.rcode())))
    if t == "ANY":
        return diffs
    if a.opcode() != b.opcode():
        diffs.append("opcode differs")
    for n, f in FLAGS:
        if (a.flags & f) != (b.flags & f):
            diffs.append("flag %s: knot=%d other=%d" % (n, bool(a.flags & f), bool(b.flags & f)))
    if (a.edns >= 0) != (b.edns >= 0):
        diffs.append("EDNS: knot=%s other=%s" % (a.edns, b.edns))
    if (a.flags & dns.flags.TC) and (b.flags & dns.flags.TC):
        return diffs
    for sec in ("answer", "authority", "additional"):
        sa = set(rrset_key(r) for r in getattr(a, sec))
        sb = set(rrset_key(r) for r in getattr(b, sec))
        if sa != sb:
            diffs.append("%s:\n      only knot : %s\n      only other: %s"
                         % (sec, fmt_section(sa - sb), fmt_section(sb - sa)))
    return diffs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd")
    ap.add_argument("--self-check", action="store_true", help="compare Knot with Knot")
    ap.add_argument("--max-print", type=int, default=60)
    a = ap.parse_args()
    zones = {z: H.zone_path(z) for z in ZONES}
    knot = H.Knot(zones)
    if a.self_check:
        other = H.Knot(zones)
        label = "knot#2"
    else:
        if not a.berthd or not os.access(a.berthd, os.X_OK):
            log("berthd binary not found: %s" % a.berthd)
            sys.exit(1)
        other = H.Berthd(a.berthd, zones)
        label = "berthd"
    qs = generate()
    log("%d queries; knot on %d, %s on %d" % (len(qs), knot.port, label, other.port))
    mismatches = 0
    by_kind = {}
    for name, t, rd in qs:
        ra = ask(knot.port, name, t, rd)
        rb = ask(other.port, name, t, rd)
        d = compare(ra, rb, t)
        if d:
            mismatches += 1
            for x in d:
                k = x.split(":")[0]
                by_kind[k] = by_kind.get(k, 0) + 1
            if mismatches <= a.max_print:
                log("MISMATCH %s %s rd=%d" % (name, t, rd))
                for x in d:
                    log("    " + x)
    if not other.proc.alive():
        log("%s died during the run:\n%s" % (label, other.proc.log_tail()))
        mismatches += 1
    log("\n%d queries, %d mismatches %s" % (len(qs), mismatches, by_kind or ""))
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
