#!/usr/bin/env python3
"""RFC 2136 UPDATE end to end: the real berthd driven by the real nsupdate (BIND) and knsupdate
(Knot), over UDP and TCP, signed with TSIG keys from the config; every acknowledged change must
be visible to dig at once with a higher SOA serial, and survive a restart.

Covers: adds, RR/RRset/name deletes, each prerequisite form with its rcode, the RFC 2136 §3.4.2
special cases (CNAME conflicts, apex SOA/NS), every TSIG algorithm, a wrong key (NOTAUTH/BADKEY)
and a wrong secret (BADSIG), a key outside its scope (REFUSED), an unsigned update (REFUSED), a
stale signature (BADTIME, via dnspython), FORMERR and NOTZONE, and durability across a restart.

    test_nsupdate.py --berthd build/bin/berthd
    test_nsupdate.py --knot      # the same checks against knotd (proves the test)
"""
import argparse
import base64
import os
import socket
import struct
import subprocess
import sys
import types

import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.renderer
import dns.tsig
import dns.tsigkeyring
import dns.update

import harness as h

ZONE = "dyn.test."
OTHER = "other.test."
ALGORITHMS = ["hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-md5"]
ZONE_TEXT = """$ORIGIN dyn.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
@ NS ns2
ns A 127.0.0.1
ns2 A 127.0.0.2
www A 192.0.2.1
www A 192.0.2.2
alias CNAME www
"""
OTHER_TEXT = "$ORIGIN other.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n"


def secret():
    return base64.b64encode(os.urandom(32)).decode()


KEYS = {"k-" + alg + ".": (alg, secret()) for alg in ALGORITHMS}
SCOPED = ("scoped.", "hmac-sha256", secret())      # A/AAAA below hosts.dyn.test. only
OTHERKEY = ("otherzone.", "hmac-sha256", secret())  # other.test. only
MAIN = ("k-hmac-sha256.", "hmac-sha256", KEYS["k-hmac-sha256."][1])


def auth_config():
    lines = ["auth:", "  tsig_keys:"]

    def key(name, alg, sec, rules):
        lines.extend(["    - name: %s" % name, "      algorithm: %s" % alg,
                      "      secret: \"%s\"" % sec, "      scope:"])
        for zone, names, types_ in rules:
            lines.append("        - zone: %s" % zone)
            lines.append("          names: [%s]" % ", ".join('"%s"' % n for n in names))
            if types_:
                lines.append("          types: [%s]" % ", ".join(types_))
            lines.append("          access: write")

    for name, (alg, sec) in KEYS.items():
        key(name, alg, sec, [(ZONE, ["*"], None)])
    key(SCOPED[0], SCOPED[1], SCOPED[2], [(ZONE, ["*.hosts"], ["A", "AAAA"])])
    key(OTHERKEY[0], OTHERKEY[1], OTHERKEY[2], [(OTHER, ["*"], None)])
    return "\n".join(lines) + "\n"


def run_update(tool, port, lines, key=MAIN, tcp=False, zone=ZONE):
    """Runs nsupdate/knsupdate with one `send`; returns (exit code, output)."""
    script = "server 127.0.0.1 %d\nzone %s\n%s\nsend\n" % (port, zone, "\n".join(lines))
    if tool == "nsupdate":
        argv = ["nsupdate", "-t", "5", "-u", "2", "-r", "1"]
    else:
        argv = ["knsupdate", "-t", "5", "-r", "1"]
    if tcp:
        argv.append("-v")
    if key:
        argv += ["-y", "%s:%s:%s" % (key[1], key[0], key[2])]
    try:
        p = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return -1, "timeout"
    return p.returncode, (p.stdout + p.stderr).strip()


def dig(port, name, rdtype, tcp=False):
    argv = ["dig", "-p", str(port), "@127.0.0.1", "+short", "+norec", "+time=2", "+tries=1",
            name, rdtype]
    if tcp:
        argv.append("+tcp")
    p = subprocess.run(argv, capture_output=True, text=True, timeout=15)
    return sorted(l for l in p.stdout.strip().splitlines() if l)


def serial(port):
    # On a loaded machine a try can time out, and dig prints ";; ..." instead: ask again.
    for _ in range(5):
        out = [l for l in dig(port, ZONE, "SOA") if not l.startswith(";")]
        if out:
            return int(out[0].split()[2])
    return -1


class Updater:
    """One client/transport pair, checking the outcome and the serial of every update."""

    def __init__(self, port, tool, tcp):
        self.port, self.tool, self.tcp = port, tool, tcp
        self.tag = "%s-%s" % (tool, "tcp" if tcp else "udp")

    def expect(self, what, lines, rcode="NOERROR", key=MAIN, changes=True, zone=ZONE):
        before = serial(self.port)
        rc, out = run_update(self.tool, self.port, lines, key=key, tcp=self.tcp, zone=zone)
        if rcode == "NOERROR":
            ok = rc == 0
        else:
            ok = rc != 0 and any(word in out for word in rcode.split("|"))
        h.check(ok, "%s: %s -> %s" % (self.tag, what, rcode), "exit %d: %s" % (rc, out))
        after = serial(self.port)
        if changes:
            h.check(after > before, "%s: %s raised the serial" % (self.tag, what),
                    "%d -> %d" % (before, after))
        else:
            h.check(after == before, "%s: %s kept the serial" % (self.tag, what),
                    "%d -> %d" % (before, after))

    def see(self, name, rdtype, want, what):
        got = dig(self.port, name, rdtype, tcp=self.tcp)
        h.check(got == sorted(want), "%s: dig %s %s %s" % (self.tag, name, rdtype, what),
                "got %s, want %s" % (got, sorted(want)))


def scenario(port, tool, tcp):
    u = Updater(port, tool, tcp)
    n = "h-" + u.tag + "." + ZONE
    free = "free-" + u.tag + "." + ZONE
    h.log("\n-- %s" % u.tag)
    u.expect("add A", ["update add %s 60 A 192.0.2.10" % n])
    u.see(n, "A", ["192.0.2.10"], "after add")
    u.expect("add second A and TXT", ["update add %s 60 A 192.0.2.11" % n,
                                      "update add %s 60 TXT \"step 1\"" % n])
    u.see(n, "A", ["192.0.2.10", "192.0.2.11"], "after second add")
    u.expect("duplicate add", ["update add %s 60 A 192.0.2.10" % n], changes=False)

    # Each prerequisite form: failing (its rcode, nothing applied), then passing.
    prereqs = [
        ("nxdomain", "prereq nxdomain %s" % n, "YXDOMAIN", "prereq nxdomain %s" % free),
        ("yxdomain", "prereq yxdomain %s" % free, "NXDOMAIN", "prereq yxdomain %s" % n),
        ("nxrrset", "prereq nxrrset %s A" % n, "YXRRSET", "prereq nxrrset %s AAAA" % n),
        ("yxrrset", "prereq yxrrset %s AAAA" % n, "NXRRSET", "prereq yxrrset %s A" % n),
        ("yxrrset value", "prereq yxrrset %s A 192.0.2.10" % n, "NXRRSET", None),
    ]
    for i, (form, bad, rcode, good) in enumerate(prereqs):
        probe = "p%d-%s" % (i, n)
        u.expect("prereq %s failing" % form, [bad, "update add %s 60 A 192.0.2.20" % probe],
                 rcode=rcode, changes=False)
        u.see(probe, "A", [], "not added after failed %s" % form)
        if good:
            u.expect("prereq %s passing" % form, [good, "update add %s 60 A 192.0.2.20" % probe])
            u.see(probe, "A", ["192.0.2.20"], "added after %s" % form)
    # Value-dependent: the whole RRset, in another order.
    u.expect("prereq yxrrset value (whole set)",
             ["prereq yxrrset %s A 192.0.2.11" % n, "prereq yxrrset %s A 192.0.2.10" % n,
              "update add %s 60 AAAA 2001:db8::1" % n])
    u.see(n, "AAAA", ["2001:db8::1"], "after value-dependent prerequisite")

    # Deletes.
    u.expect("delete one RR", ["update delete %s A 192.0.2.10" % n])
    u.see(n, "A", ["192.0.2.11"], "after RR delete")
    u.expect("delete absent RR", ["update delete %s A 192.0.2.99" % n], changes=False)
    u.expect("delete RRset", ["update delete %s AAAA" % n])
    u.see(n, "AAAA", [], "after RRset delete")

    # CNAME and other data: ignored both ways (NOERROR, nothing changes).
    u.expect("CNAME at a name with data", ["update add %s 60 CNAME www.%s" % (n, ZONE)],
             changes=False)
    u.see(n, "TXT", ['"step 1"'], "data kept beside refused CNAME")
    u.expect("A at a CNAME name", ["update add alias.%s 60 A 192.0.2.30" % ZONE], changes=False)
    u.see("alias." + ZONE, "CNAME", ["www." + ZONE], "CNAME kept")

    u.expect("delete name", ["update delete %s" % n])
    u.see(n, "TXT", [], "after name delete")
    u.see(n, "A", [], "after name delete")

    # Apex protection.
    u.expect("delete apex NS RRset", ["update delete %s NS" % ZONE], changes=False)
    u.expect("delete apex SOA", ["update delete %s SOA" % ZONE], changes=False)
    u.see(ZONE, "NS", ["ns." + ZONE, "ns2." + ZONE], "apex NS kept")

    u.expect("outside the zone", ["update add x.elsewhere. 60 A 192.0.2.1"], rcode="NOTZONE",
             changes=False)


def algorithms(port):
    h.log("\n-- TSIG algorithms")
    for name, (alg, sec) in KEYS.items():
        for tool in ("nsupdate", "knsupdate"):
            if tool == "knsupdate" and alg == "hmac-md5":
                continue  # the legacy algorithm: one client is enough
            owner = "%s-%s.%s" % (alg, tool, ZONE)
            u = Updater(port, tool, False)
            u.expect("signed with %s" % alg, ["update add %s 60 A 192.0.2.40" % owner],
                     key=(name, alg, sec))
            u.see(owner, "A", ["192.0.2.40"], "after %s update" % alg)


def refusals(port, denied):
    h.log("\n-- keys and scopes")
    u = Updater(port, "nsupdate", False)
    u.expect("unknown key", ["update add nokey.%s 60 A 192.0.2.1" % ZONE], rcode="NOTAUTH|BADKEY",
             key=("nokey.", "hmac-sha256", secret()), changes=False)
    u.expect("wrong secret", ["update add badsig.%s 60 A 192.0.2.1" % ZONE], rcode="NOTAUTH|BADSIG",
             key=(MAIN[0], MAIN[1], secret()), changes=False)
    u.expect("unsigned", ["update add unsigned.%s 60 A 192.0.2.1" % ZONE], rcode=denied,
             key=None, changes=False)
    u.expect("scoped key inside its scope", ["update add a.hosts.%s 60 A 192.0.2.50" % ZONE],
             key=SCOPED)
    u.see("a.hosts." + ZONE, "A", ["192.0.2.50"], "scoped add")
    u.expect("scoped key, name outside", ["update add www.%s 60 A 192.0.2.51" % ZONE],
             rcode=denied, key=SCOPED, changes=False)
    u.expect("scoped key, type outside", ["update add b.hosts.%s 60 TXT x" % ZONE],
             rcode=denied, key=SCOPED, changes=False)
    u.expect("scoped key, one RR outside refuses all",
             ["update add c.hosts.%s 60 A 192.0.2.52" % ZONE,
              "update add c.hosts.%s 60 TXT x" % ZONE], rcode=denied, key=SCOPED, changes=False)
    u.see("c.hosts." + ZONE, "A", [], "nothing applied")
    u.expect("key of another zone", ["update add d.%s 60 A 192.0.2.53" % ZONE], rcode=denied,
             key=OTHERKEY, changes=False)
    k = Updater(port, "knsupdate", True)
    k.expect("knsupdate unknown key", ["update add nokey.%s 60 A 192.0.2.1" % ZONE],
             rcode="NOTAUTH|BADKEY", key=("nokey.", "hmac-sha256", secret()), changes=False)
    k.expect("knsupdate scoped key outside", ["update add www.%s 60 A 192.0.2.51" % ZONE],
             rcode=denied, key=SCOPED, changes=False)


def signed_raw_update(port, keyring, update_rr):
    """Sends an UPDATE whose update section is the raw bytes `update_rr`, signed with MAIN;
    returns the response's rcode (the response itself is not verified)."""
    r = dns.renderer.Renderer(id=4242, flags=dns.opcode.UPDATE << 11)
    r.add_question(dns.name.from_text(ZONE), dns.rdatatype.SOA, dns.rdataclass.IN)
    r._set_section(2)  # noqa: SLF001 - dnspython has no public way to write a raw RR
    r.output.write(update_rr)
    r.counts[2] += 1
    r.write_header()
    r.add_tsig(dns.name.from_text(MAIN[0]), keyring[dns.name.from_text(MAIN[0])], 300, 4242, 0,
               b"", b"", dns.name.from_text(MAIN[1]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.sendto(r.get_wire(), ("127.0.0.1", port))
        return s.recv(65535)[3] & 0xF
    finally:
        s.close()


def raw_checks(port, strict):
    h.log("\n-- dnspython")
    kr = dns.tsigkeyring.from_text({MAIN[0]: MAIN[2]})
    # A stale signature: BADTIME, signed with our clock.
    real = dns.message.time
    dns.message.time = types.SimpleNamespace(time=lambda: real.time() - 3600)
    try:
        m = dns.update.UpdateMessage(ZONE, keyring=kr, keyname=MAIN[0], keyalgorithm=MAIN[1])
        m.add("stale", 60, "A", "192.0.2.60")
        wire = m.to_wire()
    finally:
        dns.message.time = real
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.sendto(wire, ("127.0.0.1", port))
        resp = s.recv(65535)
    finally:
        s.close()
    # Read without dnspython's validation (it rejects the stale time itself): the header rcode,
    # and the TSIG ERROR field, which precedes Other Len (6) and Other Data (our clock).
    rcode = resp[3] & 0xF
    h.check(rcode == dns.rcode.NOTAUTH, "stale TSIG -> NOTAUTH", "rcode %d" % rcode)
    h.check(resp[-10:-6] == b"\x00\x12\x00\x06", "stale TSIG carries BADTIME", resp[-12:].hex())
    h.check(dig(port, "stale." + ZONE, "A") == [], "stale update not applied")

    # A signed update answered with the zone echoed and a valid TSIG (dnspython verifies it).
    m = dns.update.UpdateMessage(ZONE, keyring=kr, keyname=MAIN[0], keyalgorithm=MAIN[1])
    m.add("raw", 60, "A", "192.0.2.61")
    r = dns.query.tcp(m, "127.0.0.1", port=port, timeout=3)
    h.check(r.rcode() == dns.rcode.NOERROR, "dnspython update over TCP")
    h.check(len(r.zone) == 1 and r.zone[0].name == dns.name.from_text(ZONE), "zone section echoed")
    h.check(r.had_tsig, "response signed")

    # FORMERR: an RRset delete carrying a TTL (class ANY, TTL 5; dnspython always writes 0).
    rr = (dns.name.from_text("raw." + ZONE).to_wire()
          + struct.pack("!HHIH", dns.rdatatype.A, dns.rdataclass.ANY, 5, 0))
    # (BIND answers FORMERR as RFC 2136 §3.4.1.3 says; Knot 3.2 accepts it, so --knot skips it.)
    if strict:
        rcode = signed_raw_update(port, kr, rr)
        h.check(rcode == dns.rcode.FORMERR, "RRset delete with a TTL -> FORMERR", str(rcode))
        h.check(dig(port, "raw." + ZONE, "A") == ["192.0.2.61"], "FORMERR changed nothing")

    # NOTAUTH: a zone we do not serve.
    m = dns.update.UpdateMessage("nowhere.test.", keyring=kr, keyname=MAIN[0],
                                 keyalgorithm=MAIN[1])
    m.add("a", 60, "A", "192.0.2.1")
    r = dns.query.udp(m, "127.0.0.1", port=port, timeout=3)
    h.check(r.rcode() == dns.rcode.NOTAUTH, "zone not served -> NOTAUTH",
            dns.rcode.to_text(r.rcode()))


class BerthServer:
    """berthd with the keys in its config; the zones are store zones created over the API."""
    denied = "REFUSED"  # berth answers a request its key may not make with REFUSED

    def __init__(self, binary):
        self.binary = binary
        self.dir = h.tmpdir("berth-nsupdate-")
        self.config = auth_config()
        self.srv = h.Berthd(binary, workdir=self.dir, extra_config=self.config)
        self.port = self.srv.port
        self.srv.put_zone(ZONE, ZONE_TEXT)
        self.srv.put_zone(OTHER, OTHER_TEXT)

    def stop(self):
        return self.srv.stop()

    def start_again(self):
        self.srv = h.Berthd(self.binary, workdir=self.dir, port=self.port, extra_config=self.config,
                            ready_name=ZONE)


class KnotServer:
    """knotd with the same keys as ACLs (scopes as update-owner/update-type rules): runs the
    same checks against a reference implementation, proving the test and its expectations."""
    denied = "NOTAUTH|BADKEY"  # Knot answers an ACL denial with NOTAUTH and TSIG error BADKEY

    def __init__(self):
        self.dir = h.tmpdir("berth-nsupdate-knot-")
        self.port = h.free_port()
        keys = [(n, a, sec) for n, (a, sec) in KEYS.items()] + [SCOPED, OTHERKEY]
        conf = ["server:", "    rundir: \"%s\"" % self.dir, "    listen: 127.0.0.1@%d" % self.port,
                "    udp-workers: 1", "    tcp-workers: 1", "    background-workers: 1",
                "log:", "  - target: stderr", "    any: info", "key:"]
        for name, alg, sec in keys:
            conf += ["  - id: %s" % name, "    algorithm: %s" % alg, "    secret: %s" % sec]
        conf += ["acl:", "  - id: full", "    key: [%s]" % ", ".join(KEYS), "    action: update",
                 "  - id: scoped", "    key: %s" % SCOPED[0], "    action: update",
                 "    update-type: [A, AAAA]", "    update-owner: name",
                 "    update-owner-match: sub", "    update-owner-name: hosts.%s" % ZONE,
                 "  - id: other", "    key: %s" % OTHERKEY[0], "    action: update",
                 "template:", "  - id: default", "    storage: \"%s\"" % self.dir,
                 "    zonefile-sync: 0", "    journal-content: none", "zone:",
                 "  - domain: %s" % ZONE, "    acl: [full, scoped]",
                 "  - domain: %s" % OTHER, "    acl: [other]"]
        for zone, text in ((ZONE, ZONE_TEXT), (OTHER, OTHER_TEXT)):
            with open(os.path.join(self.dir, zone + "zone"), "w") as f:
                f.write(text)
        self.conf = os.path.join(self.dir, "knot.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.start_again()

    def stop(self):
        return self.proc.stop()

    def start_again(self):
        self.proc = h.Proc("knotd", [h.KNOTD, "-c", self.conf], os.path.join(self.dir, "knotd.log"))
        for zone in (ZONE, OTHER):
            h.wait_dns(self.port, zone, "SOA", proc=self.proc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", help="the berthd binary under test")
    ap.add_argument("--knot", action="store_true", help="run the same checks against knotd")
    args = ap.parse_args()
    if not args.berthd and not args.knot:
        ap.error("--berthd PATH or --knot")
    for tool in ("nsupdate", "knsupdate", "dig"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            h.log("missing %s (bind9-dnsutils / knot-dnsutils)" % tool)
            sys.exit(1)

    srv = KnotServer() if args.knot else BerthServer(args.berthd)
    for tool in ("nsupdate", "knsupdate"):
        for tcp in (False, True):
            scenario(srv.port, tool, tcp)
    algorithms(srv.port)
    refusals(srv.port, srv.denied)
    raw_checks(srv.port, strict=not args.knot)

    # Everything acknowledged survives a restart.
    h.log("\n-- restart")
    before = {name: dig(srv.port, name, "A") for name in
              ("a.hosts." + ZONE, "raw." + ZONE, "hmac-sha512-nsupdate." + ZONE,
               "p3-h-knsupdate-tcp." + ZONE)}
    soa = dig(srv.port, ZONE, "SOA")
    h.check(srv.stop() == 0, "server stopped cleanly")
    srv.start_again()
    h.check(dig(srv.port, ZONE, "SOA") == soa, "SOA (serial) kept across restart", str(soa))
    for name, want in before.items():
        h.check(want and dig(srv.port, name, "A") == want, "%s kept across restart" % name,
                "before %s" % want)
    Updater(srv.port, "nsupdate", False).expect("update after restart",
                                                ["update add after.%s 60 A 192.0.2.70" % ZONE])
    srv.stop()
    h.finish()


if __name__ == "__main__":
    main()
