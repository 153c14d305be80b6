#!/usr/bin/env python3
"""dyndns2 end to end: the real berthd (users from its config) driven by raw HTTP, the real
ddclient and the real inadyn on loopback; every `good` must be visible to dig at once with a
higher SOA serial.

Covers: good/nochg, several hosts in one request, IPv6 and dual stack, the client address as
default, wrong password (401 badauth, nothing changed), a host outside the user's scope or zones
(nohost), notfqdn, numhost, badsys, a malformed myip (400), the alternate /v3/update path,
the per-user rate limit (abuse) and the lockout after failed logins; and a berthd whose
dyndns: config section sets the TTL, the change burst and a trusted proxy.
ddclient and inadyn never leave loopback: their address comes from the config (ddclient
use=ip) or a local command (inadyn checkip-command), inadyn's cache is seeded so it does not
resolve the host name, and both talk to berthd's API port only.

    test_dyndns.py --berthd build/bin/berthd
"""
import argparse
import base64
import http.client
import os
import shutil
import subprocess
import time

import harness as h

ZONE = "dyn.test."
ZONE_TEXT = """$ORIGIN dyn.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.1
home A 192.0.2.1
alias CNAME home
"""
USERS = {
    # alice: A and AAAA anywhere in dyn.test.; bob: A of bob.dyn.test. and below only
    "alice": ("alice-Pw.1", [(ZONE, ["*"], ["A", "AAAA"])]),
    "bob": ("bob-Pw.2", [(ZONE, ["bob", "*.bob"], ["A"])]),
    # one user per client, so each has its own rate-limit budget
    "ddc": ("ddc-Pw.3", [(ZONE, ["*"], ["A", "AAAA"])]),
    "ina": ("ina-Pw.4", [(ZONE, ["*"], ["A", "AAAA"])]),
    "spammy": ("spammy-Pw.5", [(ZONE, ["*"], ["A"])]),
}


def auth_config():
    lines = ["auth:", "  users:"]
    for name, (password, rules) in USERS.items():
        lines += ["    - name: %s" % name, "      password: \"%s\"" % password, "      scope:"]
        for zone, names, types in rules:
            lines += ["        - zone: %s" % zone,
                      "          names: [%s]" % ", ".join('"%s"' % n for n in names),
                      "          types: [%s]" % ", ".join(types),
                      "          access: write"]
    return "\n".join(lines) + "\n"


def put_zone(berthd, zone, text):
    status, body = h.http_unix(os.path.join(berthd.dir, "api.sock"), "PUT",
                               "/api/v1/zones/%s/zonefile" % zone, body=text.encode(),
                               headers={"Content-Type": "text/plain"})
    if status != 200:
        raise RuntimeError("PUT zone %s: %d %s" % (zone, status, body))
    h.wait_dns(berthd.port, zone, "SOA", proc=berthd.proc)


def update(port, query, user="alice", password=None, path="/nic/update", headers=None, method="GET"):
    """One dyndns2 request (GET unless told); returns (status, body, headers)."""
    hdrs = {"User-Agent": "berth-test/1"}
    if user is not None:
        pw = USERS[user][0] if password is None else password
        hdrs["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
    hdrs.update(headers or {})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path + "?" + query, headers=hdrs)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace"), dict(r.getheaders())
    finally:
        c.close()


def dig(port, name, rdtype):
    p = subprocess.run(["dig", "-p", str(port), "@127.0.0.1", "+short", "+norec", "+time=2",
                        "+tries=1", name, rdtype], capture_output=True, text=True, timeout=15)
    return sorted(l for l in p.stdout.strip().splitlines() if l)


def serial(port):
    out = dig(port, ZONE, "SOA")
    return int(out[0].split()[2]) if out else -1


def check_update(port, query, want_status, want_body, what, **kw):
    st, body, hdrs = update(port, query, **kw)
    h.check(st == want_status and body == want_body, what,
            "got %d %r, want %d %r" % (st, body, want_status, want_body))
    return hdrs


def raw_http_checks(b):
    api, dns = b.api_port, b.port
    s0 = serial(dns)
    hdrs = check_update(api, "hostname=home.dyn.test&myip=198.51.100.1", 200,
                        "good 198.51.100.1\n", "good: first update")
    h.check(hdrs.get("Content-Type", "").startswith("text/plain"), "reply is text/plain",
            hdrs.get("Content-Type", ""))
    h.check(dig(dns, "home.dyn.test", "A") == ["198.51.100.1"], "dig sees the new address at once",
            str(dig(dns, "home.dyn.test", "A")))
    s1 = serial(dns)
    h.check(s1 > s0, "SOA serial went up", "%d -> %d" % (s0, s1))
    ttl = subprocess.run(["dig", "-p", str(dns), "@127.0.0.1", "+noall", "+answer", "+norec",
                          "home.dyn.test", "A"], capture_output=True, text=True, timeout=15).stdout
    h.check(ttl.split()[1:2] == ["60"], "record TTL is the dyndns default (60)", ttl.strip())
    check_update(api, "hostname=home.dyn.test&myip=198.51.100.1", 200, "nochg 198.51.100.1\n",
                 "nochg: same address again")
    h.check(serial(dns) == s1, "nochg keeps the serial", "%d" % serial(dns))

    # two hosts in one request (one new name), answered in order
    check_update(api, "hostname=home.dyn.test,new.dyn.test&myip=198.51.100.2", 200,
                 "good 198.51.100.2\ngood 198.51.100.2\n", "two hosts: good, good")
    h.check(dig(dns, "home.dyn.test", "A") == ["198.51.100.2"] and
            dig(dns, "new.dyn.test", "A") == ["198.51.100.2"], "both hosts visible")

    # IPv6, and both families in one request
    check_update(api, "hostname=home.dyn.test&myip=2001:db8::1", 200, "good 2001:db8::1\n",
                 "IPv6 in myip updates AAAA")
    h.check(dig(dns, "home.dyn.test", "AAAA") == ["2001:db8::1"] and
            dig(dns, "home.dyn.test", "A") == ["198.51.100.2"], "AAAA set, A untouched")
    check_update(api, "hostname=home.dyn.test&myip=198.51.100.3,2001:db8::3", 200,
                 "good 198.51.100.3,2001:db8::3\n", "myip=v4,v6")
    check_update(api, "hostname=home.dyn.test&myip=198.51.100.3&myipv6=2001:db8::3", 200,
                 "nochg 198.51.100.3,2001:db8::3\n", "myip + myipv6: nochg")
    h.check(dig(dns, "home.dyn.test", "AAAA") == ["2001:db8::3"] and
            dig(dns, "home.dyn.test", "A") == ["198.51.100.3"], "dual stack visible")
    # HEAD goes through GET routes in the router; here it must not change anything
    st, _, hdrs = update(api, "hostname=home.dyn.test&myip=198.51.100.99", method="HEAD")
    h.check(st == 405 and hdrs.get("Allow") == "GET", "HEAD is refused with 405", "got %d" % st)
    h.check(dig(dns, "home.dyn.test", "A") == ["198.51.100.3"], "HEAD changed nothing",
            str(dig(dns, "home.dyn.test", "A")))

    # no myip: the client's own address (127.0.0.1 here); ddclient-style extras are ignored
    check_update(api, "system=dyndns&hostname=client.dyn.test&wildcard=ON&mx=mx.dyn.test&backmx=NO"
                 "&offline=NO", 200, "good 127.0.0.1\n", "client address as default")
    h.check(dig(dns, "client.dyn.test", "A") == ["127.0.0.1"], "client address visible")
    check_update(api, "hostname=client.dyn.test&myip=198.51.100.4", 200, "good 198.51.100.4\n",
                 "alternate path /v3/update", path="/v3/update")

    # errors change nothing
    before = (serial(dns), dig(dns, "home.dyn.test", "A"))
    hdrs = check_update(api, "hostname=home.dyn.test&myip=203.0.113.66", 401, "badauth\n",
                        "wrong password: 401 badauth", password="wrong")
    h.check(hdrs.get("WWW-Authenticate") == 'Basic realm="berth"', "401 carries a Basic challenge",
            str(hdrs))
    check_update(api, "hostname=home.dyn.test&myip=203.0.113.66", 401, "badauth\n",
                 "no credentials: 401 badauth", user=None)
    check_update(api, "hostname=home.dyn.test&myip=203.0.113.66", 200, "nohost\n",
                 "outside the user's scope: nohost", user="bob")
    check_update(api, "hostname=pc.bob.dyn.test&myip=2001:db8::66", 200, "nohost\n",
                 "type outside the user's scope: nohost", user="bob")
    check_update(api, "hostname=www.unknown.test&myip=203.0.113.66", 200, "nohost\n",
                 "unknown zone: nohost")
    check_update(api, "hostname=alias.dyn.test&myip=203.0.113.66", 200, "nohost\n",
                 "a CNAME owner: nohost")
    check_update(api, "hostname=localhost&myip=203.0.113.66", 200, "notfqdn\n", "notfqdn")
    check_update(api, "myip=203.0.113.66", 200, "notfqdn\n", "no hostname: notfqdn")
    many = ",".join("h%d.dyn.test" % i for i in range(21))
    check_update(api, "hostname=%s&myip=203.0.113.66" % many, 200, "numhost\n", "21 hosts: numhost")
    check_update(api, "system=bogus&hostname=home.dyn.test&myip=203.0.113.66", 200, "badsys\n",
                 "unknown system: badsys")
    st, body, _ = update(api, "hostname=home.dyn.test&myip=203.0.113.666")
    h.check(st == 400 and "myip" in body, "malformed myip: 400 naming it", "%d %r" % (st, body))
    h.check((serial(dns), dig(dns, "home.dyn.test", "A")) == before, "errors changed nothing",
            "%s -> %s" % (before, (serial(dns), dig(dns, "home.dyn.test", "A"))))
    check_update(api, "hostname=pc.bob.dyn.test&myip=203.0.113.7", 200, "good 203.0.113.7\n",
                 "bob inside his scope: good", user="bob")


def rate_limit_checks(b):
    api = b.api_port
    # nochg is cheap: 20 at once are fine
    answers = [update(api, "hostname=spam.dyn.test&myip=198.51.100.9", user="spammy")[1]
               for _ in range(21)]
    h.check(answers[0] == "good 198.51.100.9\n" and answers[1:] == ["nochg 198.51.100.9\n"] * 20,
            "20 nochg at once are not abuse", str(answers))
    # changes: a burst of 10 (one used above), then one per 5 s
    t0 = time.monotonic()
    answers = [update(api, "hostname=spam.dyn.test&myip=198.51.100.%d" % (10 + i), user="spammy")[1]
               for i in range(10)]
    if time.monotonic() - t0 < 4.0:  # else a token came back meanwhile: nothing to conclude
        h.check(answers[:9] == ["good 198.51.100.%d\n" % (10 + i) for i in range(9)] and
                answers[9] == "abuse\n", "the 11th change at once is abuse", str(answers))
    else:
        h.log("  skip the burst check: 10 requests took over 4 s")
    h.check(dig(b.port, "spam.dyn.test", "A") == ["198.51.100.18"], "abuse changed nothing",
            str(dig(b.port, "spam.dyn.test", "A")))


def lockout_checks(b):
    # Last: it locks 127.0.0.1 out for a minute.
    api = b.api_port
    for _ in range(5):
        update(api, "hostname=home.dyn.test&myip=203.0.113.77", password="guess")
    st, body, _ = update(api, "hostname=home.dyn.test&myip=203.0.113.77")
    h.check(st == 200 and body == "abuse\n", "after 5 failed logins the client gets abuse",
            "%d %r" % (st, body))
    h.check(dig(b.port, "home.dyn.test", "A") != ["203.0.113.77"], "lockout changed nothing")


def configured_checks(binary):
    """A second berthd with a dyndns: section: its TTL, burst and trusted proxy are honoured."""
    cfg = auth_config() + ("dyndns:\n  ttl: 900\n  change_burst: 2\n  change_every: 1h\n"
                           "  trusted_proxies: [127.0.0.1/32]\n")
    b = h.Berthd(binary, extra_config=cfg)
    try:
        put_zone(b, ZONE, ZONE_TEXT)
        api = b.api_port
        # Behind a trusted proxy, the default address is the forwarded client's.
        check_update(api, "hostname=home.dyn.test", 200, "good 198.51.100.40\n",
                     "dyndns.trusted_proxies: X-Forwarded-For is the client address",
                     headers={"X-Forwarded-For": "198.51.100.40"})
        out = subprocess.run(["dig", "-p", str(b.port), "@127.0.0.1", "+noall", "+answer", "+norec",
                              "home.dyn.test", "A"], capture_output=True, text=True, timeout=15).stdout
        h.check(out.split()[1:2] == ["900"], "dyndns.ttl: the record's TTL is 900", out.strip())
        check_update(api, "hostname=home.dyn.test&myip=198.51.100.41", 200, "good 198.51.100.41\n",
                     "dyndns.change_burst 2: the second change is good")
        check_update(api, "hostname=home.dyn.test&myip=198.51.100.42", 200, "abuse\n",
                     "dyndns.change_burst 2: the third change at once is abuse")
        h.check(dig(b.port, "home.dyn.test", "A") == ["198.51.100.41"], "abuse changed nothing",
                str(dig(b.port, "home.dyn.test", "A")))
    finally:
        rc = b.stop()
    h.check(rc == 0, "the configured berthd exits 0 on SIGTERM", "rc=%s" % rc)


def peer_dir(work, tool, name):
    """A fresh directory for one run of `tool`, or None (a failed check) when it is missing."""
    if not shutil.which(tool):
        h.check(False, "%s installed (apt-get install %s)" % (tool, tool))
        return None
    d = os.path.join(work, "%s-%s" % (tool, name))
    os.makedirs(d, exist_ok=True)
    return d


def ddclient_checks(b, work):
    def run(name, hosts, ip, password=None):
        d = peer_dir(work, "ddclient", name)
        if d is None:
            return -1, ""
        conf = os.path.join(d, "ddclient.conf")
        with open(conf, "w") as f:
            # use=ip: the address comes from here; nothing is looked up on the web
            f.write("daemon=0\nsyslog=no\nssl=no\nuse=ip, ip=%s\nprotocol=dyndns2\n"
                    "server=127.0.0.1:%d\nlogin=ddc\npassword='%s'\n%s\n"
                    % (ip, b.api_port, password or USERS["ddc"][0], ",".join(hosts)))
        os.chmod(conf, 0o600)
        p = subprocess.run(["ddclient", "-daemon=0", "-foreground", "-file", conf,
                            "-cache", os.path.join(d, "cache"), "-force", "-verbose"],
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr

    rc, out = run("good", ["dd1.dyn.test", "dd2.dyn.test"], "198.51.100.21")
    h.check(rc == 0 and out.count("SUCCESS:") == 2, "ddclient: two hosts updated", out[-1500:])
    h.check(dig(b.port, "dd1.dyn.test", "A") == ["198.51.100.21"] and
            dig(b.port, "dd2.dyn.test", "A") == ["198.51.100.21"], "ddclient: dig sees both")
    rc, out = run("nochg", ["dd1.dyn.test"], "198.51.100.21")
    h.check(rc == 0 and "nochg" in out and "FAILED" not in out, "ddclient: nochg is not a failure",
            out[-1500:])
    rc, out = run("v6", ["dd6.dyn.test"], "2001:db8::21")
    h.check("SUCCESS:" in out, "ddclient: IPv6 address", out[-1500:])
    h.check(dig(b.port, "dd6.dyn.test", "AAAA") == ["2001:db8::21"], "ddclient: dig sees AAAA")
    rc, out = run("badauth", ["dd1.dyn.test"], "198.51.100.22", password="wrong")
    h.check("authorization failed" in out and "SUCCESS" not in out,
            "ddclient: wrong password reported as authorization failure", out[-1500:])
    h.check(dig(b.port, "dd1.dyn.test", "A") == ["198.51.100.21"], "ddclient: badauth changed nothing")
    rc, out = run("nohost", ["dd1.elsewhere.test"], "198.51.100.22")
    h.check("nohost" in out and "FAILED" in out, "ddclient: unknown host reported as nohost",
            out[-1500:])


def inadyn_checks(b, work):
    def run(name, host, ip, password=None):
        d = peer_dir(work, "inadyn", name)
        if d is None:
            return -1, ""
        cache = os.path.join(d, "cache")
        os.makedirs(cache, exist_ok=True)
        # A cache file per host keeps inadyn from resolving the host name at start.
        with open(os.path.join(cache, host + ".cache"), "w") as f:
            f.write("10.255.255.1")
        conf = os.path.join(d, "inadyn.conf")
        with open(conf, "w") as f:
            f.write('period = 60\nverify-address = false\nallow-ipv6 = true\n'
                    'custom berth {\n  ssl = false\n  ddns-server = 127.0.0.1:%d\n'
                    '  ddns-path = "/nic/update?hostname=%%h&myip=%%i"\n'
                    '  checkip-command = "echo %s"\n  username = ina\n  password = "%s"\n'
                    '  hostname = %s\n}\n'
                    % (b.api_port, ip, password or USERS["ina"][0], host))
        p = subprocess.run(["inadyn", "-1", "--foreground", "--force", "-f", conf,
                            "--cache-dir=" + cache, "-P", os.path.join(d, "inadyn.pid")],
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr

    rc, out = run("good", "in1.dyn.test", "198.51.100.31")
    h.check(rc == 0, "inadyn: update succeeds", out[-1500:])
    h.check(dig(b.port, "in1.dyn.test", "A") == ["198.51.100.31"], "inadyn: dig sees it")
    rc, out = run("nochg", "in1.dyn.test", "198.51.100.31")
    h.check(rc == 0, "inadyn: nochg is success", out[-1500:])
    rc, out = run("v6", "in6.dyn.test", "2001:db8::31")
    h.check(rc == 0 and dig(b.port, "in6.dyn.test", "AAAA") == ["2001:db8::31"], "inadyn: IPv6",
            out[-1500:])
    rc, out = run("badauth", "in1.dyn.test", "198.51.100.32", password="wrong")
    h.check(rc != 0 and "Authentication failure" in out, "inadyn: wrong password is an auth failure",
            "rc=%d %s" % (rc, out[-1500:]))
    rc, out = run("nohost", "in1.elsewhere.test", "198.51.100.32")
    h.check(rc != 0, "inadyn: unknown host fails", "rc=%d %s" % (rc, out[-1500:]))
    h.check(dig(b.port, "in1.dyn.test", "A") == ["198.51.100.31"], "inadyn: failures changed nothing")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", required=True)
    args = ap.parse_args()
    work = h.tmpdir("berth-dyndns-")
    b = h.Berthd(args.berthd, extra_config=auth_config())
    put_zone(b, ZONE, ZONE_TEXT)
    h.log("raw HTTP:")
    raw_http_checks(b)
    h.log("ddclient:")
    ddclient_checks(b, work)
    h.log("inadyn:")
    inadyn_checks(b, work)
    h.log("rate limits:")
    rate_limit_checks(b)
    lockout_checks(b)
    rc = b.stop()
    h.check(rc == 0, "berthd exits 0 on SIGTERM", "rc=%s\n%s" % (rc, b.proc.log_tail()))
    h.log("the dyndns: config section:")
    configured_checks(args.berthd)
    h.finish()


if __name__ == "__main__":
    main()
