#!/usr/bin/env python3
"""The DDNS updater end to end: berthd follows an address and pushes it to every provider kind.

- RFC 2136 + TSIG to a real knotd on loopback, verified with dig;
- dyndns2 to a second berthd's own /nic/update, verified with dig;
- Cloudflare v4, DNSPod and Alibaba Cloud DNS to faithful local fakes (fakes/providers.py: auth,
  error envelopes, the Alidns HMAC-SHA1 signature recomputed), a webhook and notifications;
- create / update / leave alone / repair a record changed at the provider, `POST .../run`,
  `berth ddns status`, failures with backoff, credentials never in the API or the log;
- the whole chain in a test network namespace: berthd (config with only `ddns:`) follows an
  interface (skipping private, ULA and deprecated addresses) and pushes RFC 2136 to a berthd DNS
  server there; an `ip addr` change reaches the DNS answer within a second.

    test_ddns.py --berthd build/bin/berthd --berth build/bin/berth
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

import harness as h
from fakes.providers import FakeProviders

ZONE = "example.test."
KEY_NAME = "ddns-key."
KEY_SECRET = "c2VjcmV0LWZvci1kZG5zLXRlc3Rz"  # base64
ZONE_TEXT = """$ORIGIN example.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.1
"""
DYN_ZONE = "dyn.test."
DYN_TEXT = """$ORIGIN dyn.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.1
home A 192.0.2.1
"""
CF_TOKEN = "cf-secret-token-" + os.urandom(6).hex()
POD = ("10001", "pod-secret-" + os.urandom(6).hex())
ALI = ("LTAI5tFakeKeyId", "ali-secret-" + os.urandom(6).hex())
DYN_PASSWORD = "dyn-secret-" + os.urandom(6).hex()
SECRETS = [CF_TOKEN, POD[1], ALI[1], DYN_PASSWORD, KEY_SECRET]


# Run inside the test netns: waits for "go" on stdin, then queries 127.0.0.1:PORT for NAME A
# until the answer is WANT (or 5 s), and prints the seconds that took.
POLLER = r"""
import sys, time
import dns.message, dns.query, dns.rdatatype
port, name, want = int(sys.argv[1]), sys.argv[2], sys.argv[3]
print("ready", flush=True)
sys.stdin.readline()
t0 = time.monotonic()
while time.monotonic() - t0 < 5:
    try:
        r = dns.query.udp(dns.message.make_query(name, dns.rdatatype.A), "127.0.0.1", port=port, timeout=0.2)
        if sorted(rr.address for rrset in r.answer for rr in rrset) == [want]:
            print("%.3f" % (time.monotonic() - t0), flush=True)
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.02)
print("99", flush=True)
"""


def knot_conf(d, port):
    """knotd serving example.test. with RFC 2136 updates allowed for KEY_NAME."""
    with open(os.path.join(d, "example.test.zone"), "w") as f:
        f.write(ZONE_TEXT)
    conf = ["server:", "    rundir: \"%s\"" % d, "    listen: 127.0.0.1@%d" % port,
            "    udp-workers: 1", "    tcp-workers: 1", "    background-workers: 1",
            "log:", "  - target: stderr", "    any: info",
            "key:", "  - id: %s" % KEY_NAME, "    algorithm: hmac-sha256", "    secret: %s" % KEY_SECRET,
            "acl:", "  - id: upd", "    key: %s" % KEY_NAME, "    action: update",
            "template:", "  - id: default", "    storage: \"%s\"" % d, "    zonefile-sync: -1",
            "    journal-content: none",
            "zone:", "  - domain: %s" % ZONE, "    file: \"%s\"" % os.path.join(d, "example.test.zone"),
            "    acl: [upd]"]
    path = os.path.join(d, "knot.conf")
    with open(path, "w") as f:
        f.write("\n".join(conf) + "\n")
    return path


def dig(port, name, rdtype="A", ns=None):
    argv = ["dig", "+short", "+time=1", "+tries=1", "-p", str(port), "@127.0.0.1", name, rdtype]
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    return sorted(r.stdout.split())


def wait_until(pred, timeout=15.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def api(port, method, path):
    """(status, json) from berthd's API over TCP with the admin token."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=40)
    c.request(method, path, headers={"Authorization": "Bearer " + h.ADMIN_TOKEN})
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    try:
        return r.status, json.loads(body), body
    except ValueError:
        return r.status, None, body


def jobs_by_name(port):
    st, j, _ = api(port, "GET", "/api/v1/ddns")
    return {x["job"]: x for x in j["jobs"]} if st == 200 else {}


def ddns_config(fake, knot_port, dyn_api_port, addr_file):
    """Every provider kind, one job each (more names where it matters)."""
    cat = "cat %s" % addr_file
    return """
ddns:
  interval: 300s
  recheck_every: 6
  retry_base: 200ms
  retry_max: 400ms
  failure_threshold: 2
  providers:
    - {name: knot, type: rfc2136, server: "127.0.0.1:%(knot)d",
       tsig: {name: "%(key)s", algorithm: hmac-sha256, secret: "%(secret)s"}}
    - {name: cf, type: cloudflare, base_url: "%(cf)s", token: "%(cf_token)s"}
    - {name: cfbad, type: cloudflare, base_url: "%(cf)s", token: "not-the-token"}
    - {name: pod, type: dnspod, base_url: "%(pod)s", id: "%(pod_id)s", token: "%(pod_token)s"}
    - {name: ali, type: alidns, base_url: "%(ali)s", access_key_id: "%(ali_id)s", access_key_secret: "%(ali_secret)s"}
    - {name: dyn, type: dyndns2, base_url: "http://127.0.0.1:%(dyn)d", username: ddnsuser, password: "%(dyn_pw)s"}
    - name: hook
      type: webhook
      method: POST
      url: "%(hook)s/set?ip={{address}}&name={{name}}"
      headers: {X-Record-Type: "{{type}}"}
      body: '{"name": "{{name|json}}", "ip": "{{address|json}}", "ttl": {{ttl}}}'
  records:
    - {job: knot, provider: knot, zone: example.test., names: [home.example.test., www], type: A, ttl: 60,
       source: {cmd: "%(cat)s"}}
    - {job: cf, provider: cf, zone: example.test., names: [home.example.test.], type: A, ttl: 120,
       source: {urls: ["%(ipfail)s", "%(ipplain)s"]}}
    - {job: cf6, provider: cf, zone: example.test., names: [home.example.test.], type: AAAA, ttl: 120,
       source: {urls: ["%(ipjson6)s"]}}
    - {job: cfbad, provider: cfbad, zone: example.test., names: [bad.example.test.], type: A,
       source: {cmd: "%(cat)s"}}
    - {job: pod, provider: pod, zone: example.test., names: [home.example.test.], type: A, ttl: 600,
       source: {cmd: "%(cat)s"}}
    - {job: ali, provider: ali, zone: example.test., names: [home.example.test., "@"], type: A, ttl: 600,
       source: {cmd: "%(cat)s"}}
    - {job: dyn, provider: dyn, zone: dyn.test., names: [home.dyn.test.], type: A, source: {cmd: "%(cat)s"}}
    - {job: hook, provider: hook, zone: example.test., names: [hooked.example.test.], type: A, ttl: 30,
       source: {cmd: "%(cat)s"}}
  notify:
    - {url: "%(hook)s/notify?e={{event}}&job={{job}}", body: '{"error": "{{error|json}}", "address": "{{address}}"}',
       on: [change, failure]}
""" % {"knot": knot_port, "key": KEY_NAME, "secret": KEY_SECRET, "cf": fake.url("/cf/client/v4"),
       "cf_token": CF_TOKEN, "pod": fake.url("/dnspod"), "pod_id": POD[0], "pod_token": POD[1],
       "ali": fake.url("/ali"), "ali_id": ALI[0], "ali_secret": ALI[1], "dyn": dyn_api_port, "dyn_pw": DYN_PASSWORD,
       "hook": fake.url("/hook"), "cat": cat, "ipfail": fake.url("/ip/fail"), "ipplain": fake.url("/ip/plain"),
       "ipjson6": fake.url("/ip/json6")}


def providers_scenario(args):
    h.log("== every provider kind, from one berthd")
    fake = FakeProviders(cf_token=CF_TOKEN, dnspod=POD, ali=ALI).start()
    kdir = h.tmpdir("berth-ddns-knot-")
    kport = h.free_port()
    knot = h.Proc("knotd", [h.KNOTD, "-c", knot_conf(kdir, kport)], os.path.join(kdir, "knotd.log"))
    h.wait_dns(kport, ZONE, "SOA", proc=knot)

    # The dyndns2 target: another berthd with a user allowed to change home.dyn.test.
    target = h.Berthd(args.berthd, extra_config=(
        "auth:\n  users:\n    - {name: ddnsuser, password: \"%s\", scope: [{zone: dyn.test., names: [home], "
        "types: [A, AAAA], access: write}]}\n" % DYN_PASSWORD))
    target.put_zone(DYN_ZONE, DYN_TEXT)

    work = h.tmpdir("berth-ddns-")
    addr_file = os.path.join(work, "addr")
    with open(addr_file, "w") as f:
        f.write("198.51.100.7\n")
    t_start = time.monotonic()
    srv = h.Berthd(args.berthd, extra_config=ddns_config(fake, kport, target.api_port, addr_file))
    port = srv.api_port

    good = ["knot", "cf", "cf6", "pod", "ali", "dyn", "hook"]
    ready = wait_until(lambda: all(j.get("address") and not j.get("last_error")
                                   for n, j in jobs_by_name(port).items() if n in good), timeout=20)
    jobs = jobs_by_name(port)
    h.check(ready, "every job published its address", json.dumps(jobs, indent=1)[:3000])
    h.check(jobs.get("knot", {}).get("address") == "198.51.100.7", "knot job follows the command's address")
    h.check(jobs.get("cf", {}).get("address") == "198.51.100.10", "cf job: first URL fails, the second answers")
    h.check(jobs.get("cf6", {}).get("address") == "2001:db8::10", "cf6 job: IPv6 from a JSON answer")

    # RFC 2136 to Knot, verified with dig.
    h.check(dig(kport, "home.example.test.") == ["198.51.100.7"], "knot serves home A", str(dig(kport, "home.example.test.")))
    h.check(dig(kport, "www.example.test.") == ["198.51.100.7"], "knot serves www A (relative name in the config)")
    # dyndns2 to berthd's own endpoint.
    h.check(dig(target.port, "home.dyn.test.") == ["198.51.100.7"], "dyndns2 push visible at the target berthd",
            str(dig(target.port, "home.dyn.test.")))
    # Cloudflare fake.
    cf = fake.records("cf")
    a = [r for r in cf if r["type"] == "A"]
    aaaa = [r for r in cf if r["type"] == "AAAA"]
    h.check(len(a) == 1 and a[0]["name"] == "home.example.test" and a[0]["content"] == "198.51.100.10"
            and a[0]["ttl"] == 120 and a[0]["proxied"] is False, "cloudflare A record created", str(cf))
    h.check(len(aaaa) == 1 and aaaa[0]["content"] == "2001:db8::10", "cloudflare AAAA record created", str(cf))
    # DNSPod fake.
    pod = fake.records("dnspod")
    h.check(len(pod) == 1 and pod[0]["name"] == "home" and pod[0]["value"] == "198.51.100.7" and pod[0]["ttl"] == 600
            and pod[0]["line"] == "默认", "dnspod record created on the default line", str(pod))
    # Alidns fake (every request's signature was recomputed and checked by the fake).
    ali = sorted((r["RR"], r["Value"]) for r in fake.records("ali"))
    h.check(ali == [("@", "198.51.100.7"), ("home", "198.51.100.7")], "alidns records created (apex as @)", str(ali))
    h.check(all(o in ("OK",) for p, _, _, o in fake.requests if p == "ali"), "every alidns request was signed right",
            str([r for r in fake.requests if r[0] == "ali"]))
    # Webhook provider.
    sets = [x for x in fake.hooks if x[1] == "/hook/set"]
    h.check(len(sets) == 1 and sets[0][2].get("ip") == ["198.51.100.7"] and sets[0][2].get("name") == ["hooked.example.test"]
            and sets[0][3].get("X-Record-Type") == "A"
            and json.loads(sets[0][4]) == {"name": "hooked.example.test", "ip": "198.51.100.7", "ttl": 30},
            "webhook provider sent the rendered request", str(sets))
    # Change notifications, one per job that published.
    changes = {x[2]["job"][0] for x in fake.hooks if x[1] == "/hook/notify" and x[2]["e"] == ["change"]}
    h.check(set(good) <= changes, "a change notification per job", str(changes))

    # Failures: a refused token, backed off, reported with Cloudflare's own message, notified once.
    bad = wait_until(lambda: jobs_by_name(port).get("cfbad", {}).get("consecutive_failures", 0) >= 3, timeout=10)
    j = jobs_by_name(port)["cfbad"]
    h.check(bad and "Invalid access token" in (j.get("last_error") or ""), "provider error carries its own message",
            str(j))
    # Retries are at least 200 ms apart (the floor of retry_base), so runs are bounded by time.
    bound = (time.monotonic() - t_start) / 0.2 + 2
    h.check(j["runs"] <= bound, "failures back off instead of spinning (%d runs, at most %.0f)" % (j["runs"], bound))
    fails = [x for x in fake.hooks if x[1] == "/hook/notify" and x[2]["e"] == ["failure"]]
    h.check(len(fails) == 1 and fails[0][2]["job"] == ["cfbad"] and "Invalid access token" in fails[0][4],
            "one failure notification at the threshold", str(fails))

    # A new address: a forced run pushes it at once.
    with open(addr_file, "w") as f:
        f.write("198.51.100.8\n")
    st, j, _ = api(port, "POST", "/api/v1/ddns/knot/run")
    h.check(st == 200 and j["address"] == "198.51.100.8" and "updated" in j["last_result"], "POST run pushes the new address", str(j))
    h.check(dig(kport, "home.example.test.") == ["198.51.100.8"], "knot serves the new address")
    pod_id = pod[0]["id"]
    st, j, _ = api(port, "POST", "/api/v1/ddns/pod/run")
    pod = fake.records("dnspod")
    h.check(st == 200 and len(pod) == 1 and pod[0]["id"] == pod_id and pod[0]["value"] == "198.51.100.8",
            "dnspod record modified in place", str(pod))
    # Leave alone: unchanged address, forced check, nothing written.
    st, _, _ = api(port, "POST", "/api/v1/ddns/ali/run")  # the new address
    before = len(fake.requests)
    st, j, _ = api(port, "POST", "/api/v1/ddns/ali/run")
    writes = [r for r in fake.requests[before:] if r[0] == "ali"]
    h.check(st == 200 and "unchanged" in j["last_result"] and "updated" not in j["last_result"], "matching records left alone", str(j))
    h.check(len(writes) == 2, "only the two reads were sent", str(writes))
    # Repair: someone changed the record at Cloudflare.
    rid = a[0]["id"]
    fake.set_value("cf", rid, "203.0.113.99")
    st, j, _ = api(port, "POST", "/api/v1/ddns/cf/run")
    cf_a = [r for r in fake.records("cf") if r["type"] == "A"]
    h.check(st == 200 and len(cf_a) == 1 and cf_a[0]["content"] == "198.51.100.10" and cf_a[0]["id"] == rid,
            "a record changed at the provider is repaired", str(cf_a))
    st, j, _ = api(port, "POST", "/api/v1/ddns/nope/run")
    h.check(st == 404, "unknown job: 404", str(j))

    # The CLI.
    env = dict(os.environ, BERTH_TOKEN=h.ADMIN_TOKEN)
    r = subprocess.run([args.berth, "--api", "http://127.0.0.1:%d" % port, "ddns", "status"], capture_output=True,
                       text=True, timeout=20, env=env)
    h.check(r.returncode == 0 and "knot" in r.stdout and "198.51.100.8" in r.stdout and "Invalid access token" in r.stdout,
            "berth ddns status", r.stdout + r.stderr)
    r = subprocess.run([args.berth, "--api", "http://127.0.0.1:%d" % port, "ddns", "run", "dyn"], capture_output=True,
                       text=True, timeout=40, env=env)
    h.check(r.returncode == 0 and "198.51.100.8" in r.stdout, "berth ddns run", r.stdout + r.stderr)
    h.check(dig(target.port, "home.dyn.test.") == ["198.51.100.8"], "dyndns2 target follows")

    h.log("== SIGHUP replaces the jobs: one removed, one added, the others keep their state")
    knot_runs = jobs_by_name(port)["knot"]["runs"]
    cfg = ddns_config(fake, kport, target.api_port, addr_file)
    drop = ('    - {job: cfbad, provider: cfbad, zone: example.test., names: [bad.example.test.], type: A,\n'
            '       source: {cmd: "cat %s"}}\n' % addr_file)
    assert drop in cfg
    cfg = cfg.replace(drop, '    - {job: extra, provider: knot, zone: example.test., names: [extra.example.test.], type: A,\n'
                            '       ttl: 60, source: {cmd: "cat %s"}}\n' % addr_file)
    with open(os.path.join(srv.dir, "berthd.yaml.tmp"), "w") as f:
        f.write("dns:\n  forward: []\n" + cfg)
    os.replace(os.path.join(srv.dir, "berthd.yaml.tmp"), os.path.join(srv.dir, "berthd.yaml"))
    srv.proc.signal(signal.SIGHUP)
    reloaded = wait_until(lambda: jobs_by_name(port).get("extra", {}).get("address") == "198.51.100.8", timeout=20)
    jobs = jobs_by_name(port)
    h.check(reloaded and "cfbad" not in jobs, "after SIGHUP: the new job ran, the removed one is gone",
            json.dumps(sorted(jobs)))
    h.check(dig(kport, "extra.example.test.") == ["198.51.100.8"], "knot serves the new job's name")
    h.check(jobs.get("knot", {}).get("runs", 0) > knot_runs and jobs["knot"].get("address") == "198.51.100.8",
            "an unchanged job keeps its state (runs go on from %d)" % knot_runs, str(jobs.get("knot")))

    # Secrets: never in the API answer, never in the log.
    _, _, raw = api(port, "GET", "/api/v1/ddns")
    leaked = [s for s in SECRETS if s in raw]
    h.check(not leaked, "no credential in the API output")
    srv.stop()
    with open(os.path.join(srv.dir, "berthd.log"), errors="replace") as f:
        logtext = f.read()
    leaked = [s for s in SECRETS if s in logtext]
    h.check(not leaked, "no credential in berthd's log")
    h.check("Invalid access token" in logtext, "provider errors are logged")
    target.stop()
    knot.stop()
    fake.stop()


def netns_scenario(args):
    h.log("== interface change in a test netns reaches the DNS answer within a second")
    ns = "berth-test-ddns-" + os.urandom(4).hex()
    run = lambda *a: subprocess.run(["ip", "netns", "exec", ns] + list(a), check=True, capture_output=True, timeout=10)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    procs = []
    try:
        run("ip", "link", "set", "lo", "up")
        # A veth pair stands in for the uplink (a dummy link needs a kernel module containers lack).
        run("ip", "link", "add", "wan0", "type", "veth", "peer", "name", "wan0peer")
        run("ip", "link", "set", "wan0peer", "up")
        run("ip", "link", "set", "wan0", "up")
        run("ip", "addr", "add", "203.0.113.5/24", "dev", "wan0")
        run("ip", "addr", "add", "10.9.9.9/24", "dev", "wan0")  # private: never published
        # IPv6: a deprecated address (preferred_lft 0) and a ULA are skipped, the global one wins.
        # (Added last, so the kernel lists them first.)
        run("ip", "addr", "add", "2001:db8:2::1/64", "dev", "wan0", "nodad")
        run("ip", "addr", "add", "fd00::1/64", "dev", "wan0", "nodad")
        run("ip", "addr", "add", "2001:db8:1::dead/64", "dev", "wan0", "nodad", "preferred_lft", "0")
        # The DNS server inside the netns: a full berthd with a store zone and the TSIG key
        # (Knot is the RFC 2136 peer above; its own UPDATE latency varies up to ~0.7 s, which
        # would blur a one-second bound on berthd's part).
        sdir = h.tmpdir("berth-ddns-nsdns-")
        kport = h.free_port()
        scfg = os.path.join(sdir, "berthd.yaml")
        with open(scfg, "w") as f:
            f.write("""dns:
  listen: ["127.0.0.1:%d"]
  forward: []
auth:
  tsig_keys:
    - {name: "%s", algorithm: hmac-sha256, secret: "%s",
       scope: [{zone: example.test., names: ["*"], types: [A, AAAA], access: write}]}
""" % (kport, KEY_NAME, KEY_SECRET))
        ssock = os.path.join(sdir, "api.sock")
        dns_srv = h.Proc("berthd-dns", ["ip", "netns", "exec", ns, args.berthd, "--config", scfg, "--state-dir",
                                        os.path.join(sdir, "state"), "--api-listen", "", "--api-socket", ssock,
                                        "--log-format", "text"], os.path.join(sdir, "berthd.log"))
        procs.append(dns_srv)
        h.check(wait_until(lambda: os.path.exists(ssock), timeout=15), "DNS berthd up inside the netns")
        st, body = h.http_unix(ssock, "PUT", "/api/v1/zones/%s/zonefile" % ZONE, body=ZONE_TEXT.encode(),
                               headers={"Content-Type": "text/plain"})
        h.check(st == 200 and wait_until(lambda: dig(kport, ZONE, "SOA", ns=ns), timeout=15), "zone served in the netns",
                str(body) + dns_srv.log_tail())
        bdir = h.tmpdir("berth-ddns-ns-")
        cfg = os.path.join(bdir, "berthd.yaml")
        # Only a ddns: section: berthd runs just the updater (no DNS server, no zones).
        with open(cfg, "w") as f:
            f.write("""ddns:
  interval: 300s
  providers:
    - {name: knot, type: rfc2136, server: "127.0.0.1:%d", tsig: {name: "%s", secret: "%s"}}
  records:
    - {job: wan, provider: knot, zone: example.test., names: [gw.example.test.], type: A, ttl: 30,
       source: {interface: wan0}}
    - {job: wan6, provider: knot, zone: example.test., names: [gw.example.test.], type: AAAA, ttl: 30,
       source: {interface: wan0}}
""" % (kport, KEY_NAME, KEY_SECRET))
        sock = os.path.join(bdir, "api.sock")
        berthd = h.Proc("berthd", ["ip", "netns", "exec", ns, args.berthd, "--config", cfg, "--state-dir",
                                   os.path.join(bdir, "state"), "--api-listen", "", "--api-socket", sock,
                                   "--log-format", "text"], os.path.join(bdir, "berthd.log"))
        procs.append(berthd)
        first = wait_until(lambda: dig(kport, "gw.example.test.", ns=ns) == ["203.0.113.5"], timeout=15)
        # On failure, say whether the updater is alive (an empty log once came with no answer).
        h.check(first, "the interface's global address is published", str(dig(kport, "gw.example.test.", ns=ns)) +
                " updater alive=%s rc=%s log:\n%s" % (berthd.alive(), berthd.p.returncode, berthd.log_tail()))
        six = wait_until(lambda: dig(kport, "gw.example.test.", "AAAA", ns=ns) == ["2001:db8:2::1"], timeout=10)
        h.check(six, "IPv6: deprecated and ULA addresses skipped", str(dig(kport, "gw.example.test.", "AAAA", ns=ns)))
        st, body = h.http_unix(sock, "GET", "/api/v1/ddns")
        h.check(st == 200 and '"interface wan0"' in str(body), "the --ddns-only API answers over the unix socket", str(body))
        with open(os.path.join(bdir, "berthd.log"), errors="replace") as f:
            h.check("DDNS only" in f.read(), "a config with only ddns: runs just the updater")
        # Each in its own subnet: deleting a primary address would take its secondaries along.
        for new in ("198.51.100.77", "192.0.2.200"):
            old = dig(kport, "gw.example.test.", ns=ns)[0]
            # A poller inside the netns (started first, so its start-up is not timed) asks Knot every
            # 20 ms with a 200 ms timeout from "go" on until the answer is the new address.
            poller = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", POLLER, str(kport),
                                       "gw.example.test.", new], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True)
            poller.stdout.readline()  # "ready"
            poller.stdin.write("go\n")
            poller.stdin.flush()
            # One process for both steps, so the clock measures berthd, not process start-up.
            subprocess.run(["ip", "netns", "exec", ns, "ip", "-batch", "-"], check=True, timeout=10, text=True,
                           input="addr add %s/24 dev wan0\naddr del %s/24 dev wan0\n" % (new, old))
            out, _ = poller.communicate(timeout=15)
            took = float(out.strip() or "99")
            h.check(took < 1.0, "%s -> %s reached the DNS answer in %.2f s" % (old, new, took),
                    str(dig(kport, "gw.example.test.", ns=ns)))
    finally:
        for p in reversed(procs):
            p.stop()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def bad_config(args):
    h.log("== a bad ddns: section stops berthd at start, naming the place")
    d = h.tmpdir("berth-ddns-bad-")
    cases = [
        ("ddns:\n  providers:\n    - {name: x, type: route53}\n", "berthd.yaml:3:23: key 'ddns.providers[0].type': unknown provider type 'route53'"),
        ("ddns:\n  providers:\n    - {name: cf, type: cloudflare}\n", "key 'ddns.providers[0].token': missing"),
        ("ddns:\n  providers:\n    - {name: l, type: rfc2136, server: 127.0.0.1}\n  records:\n"
         "    - {provider: l, zone: example.test., names: ['bad..name'], source: {cmd: 'echo 192.0.2.1'}}\n",
         "bad domain 'bad..name'"),
    ]
    for text, want in cases:
        cfg = os.path.join(d, "berthd.yaml")
        with open(cfg, "w") as f:
            f.write(text)
        r = subprocess.run([args.berthd, "--config", cfg, "--state-dir", os.path.join(d, "state"), "--api-listen", "",
                            "--api-socket", ""], capture_output=True, text=True, timeout=20)
        h.check(r.returncode != 0 and want in r.stderr + r.stdout, "refused: " + want, r.stderr + r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", required=True)
    ap.add_argument("--berth", required=True)
    ap.add_argument("--only", choices=["providers", "netns", "bad"])
    args = ap.parse_args()
    for tool in ("dig", "ip"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            h.log("missing %s" % tool)
            sys.exit(1)
    if args.only in (None, "providers"):
        providers_scenario(args)
    if args.only in (None, "netns"):
        netns_scenario(args)
    if args.only in (None, "bad"):
        bad_config(args)
    h.finish()


if __name__ == "__main__":
    main()
