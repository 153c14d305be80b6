#!/usr/bin/env python3
"""REST writes and who may make them, against the real berthd and berth CLI: tenant isolation,
PATCH all-or-nothing, zone create/delete, /api/v1/update seen by dig at once, credentials
created through the admin API surviving a restart, 401/403, the --insecure-api rule and the
TLS listener. Loopback only; every process and temp dir is cleaned up by the harness."""
import argparse
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time

import harness as H
from harness import check, log

TOKEN_A = "tenant-a-token-0123456789"
TOKEN_B = "tenant-b-token-0123456789"
TOKEN_WWW = "tenant-a-www-only-0123456789"

AUTH_YAML = """auth:
  tokens:
    - name: tenant-a
      secret: %s
      scope: [{zone: a.internal., names: ["*"], access: write}]
    - name: tenant-b
      secret: %s
      scope: [{zone: b.internal., names: ["*"], access: write}]
    - name: a-www
      secret: %s
      scope: [{zone: a.internal., names: [www, "*.dyn"], types: [A], access: write}]
""" % (TOKEN_A, TOKEN_B, TOKEN_WWW)


def api(port, method, path, body=None, token=None, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, str) else json.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return r.status, parsed, text, dict(r.getheaders())
    finally:
        c.close()


def dig(port, name, rdtype="A"):
    r = subprocess.run(["dig", "-p", str(port), "@127.0.0.1", "+short", "+norec", "+time=2", "+tries=1",
                        name, rdtype], capture_output=True, text=True, timeout=10)
    return r.stdout.strip()


def serial(port, zone):
    out = dig(port, zone, "SOA").split()
    return int(out[2]) if len(out) >= 3 else None


def cli(binary, args, api_ep, token=None):
    env = dict(os.environ)
    env.pop("BERTH_TOKEN", None)
    if token:
        env["BERTH_TOKEN"] = token
    return subprocess.run([binary, "--api", api_ep] + args, capture_output=True, text=True, timeout=15, env=env)


def test_auth_required(b):
    log("== 401 without credentials, open health endpoints")
    p = b.api_port
    st, body, _, hdrs = api(p, "GET", "/api/v1/zones")
    check(st == 401 and body and "error" in body, "GET /api/v1/zones without token -> 401 JSON", "%s" % st)
    check("Bearer" in hdrs.get("WWW-Authenticate", ""), "401 carries WWW-Authenticate: Bearer")
    st, _, _, _ = api(p, "GET", "/api/v1/zones", token="not-a-valid-token-xxxxxxxx")
    check(st == 401, "unknown token -> 401", str(st))
    st, _, _, _ = api(p, "POST", "/api/v1/update", {"name": "x.a.internal.", "content": "10.0.0.1"})
    check(st == 401, "POST /api/v1/update without token -> 401", str(st))
    for path in ("/healthz", "/readyz", "/metrics"):
        st, _, _, _ = api(p, "GET", path)
        check(st == 200, "GET %s stays open" % path, str(st))
    st, _ = H.http_unix(os.path.join(b.dir, "api.sock"), "GET", "/api/v1/zones")
    check(st == 200, "unix socket is trusted without a token", str(st))


def test_zones_and_isolation(b):
    log("== zone creation and tenant isolation")
    p = b.api_port
    st, body, text, hdrs = api(p, "POST", "/api/v1/zones",
                               {"name": "a.internal.", "kind": "Native", "nameservers": ["ns1.a.internal."],
                                "rrsets": [{"name": "www.a.internal.", "type": "A", "ttl": 60,
                                            "records": [{"content": "10.0.0.1", "disabled": False}]}]},
                               token=TOKEN_A)
    check(st == 201 and body and body.get("name") == "a.internal.", "tenant A creates a.internal. -> 201", text[:300])
    check(dig(b.port, "www.a.internal") == "10.0.0.1", "dig sees www.a.internal from the new zone")
    st, _, text, _ = api(p, "POST", "/api/v1/zones", {"name": "b.internal.", "nameservers": ["ns1.b.internal."]},
                         token=TOKEN_A)
    check(st == 403, "tenant A cannot create b.internal. -> 403", "%s %s" % (st, text[:200]))
    st, _, text, _ = api(p, "POST", "/api/v1/zones", {"name": "b.internal.", "nameservers": ["ns1.b.internal."]},
                         token=H.ADMIN_TOKEN)
    check(st == 201, "admin creates b.internal. -> 201", "%s %s" % (st, text[:200]))
    st, _, _, _ = api(p, "POST", "/api/v1/zones", {"name": "b.internal."}, token=H.ADMIN_TOKEN)
    check(st == 409, "creating an existing zone -> 409", str(st))
    st, _, _, _ = api(p, "POST", "/api/v1/zones", {"name": "a.internal."}, token=TOKEN_WWW)
    check(st == 403, "a scope limited to names/types cannot create its zone -> 403", str(st))

    before = serial(b.port, "a.internal")
    st, body, _, _ = api(p, "GET", "/api/v1/zones", token=TOKEN_B)
    names = [z.get("name") for z in body] if isinstance(body, list) else []
    check(st == 200 and names == ["b.internal."], "tenant B lists only b.internal.", str(names))
    st, body, _, _ = api(p, "GET", "/api/v1/zones", token=TOKEN_A)
    names = [z.get("name") for z in body] if isinstance(body, list) else []
    check(names == ["a.internal."], "tenant A lists only a.internal.", str(names))
    st, _, _, _ = api(p, "GET", "/api/v1/zones/a.internal.", token=TOKEN_B)
    check(st == 404, "tenant B GET a.internal. -> 404", str(st))
    st, _, _, _ = api(p, "GET", "/api/v1/zones/a.internal./export", token=TOKEN_B)
    check(st == 404, "tenant B export a.internal. -> 404", str(st))
    patch = {"rrsets": [{"name": "www.a.internal.", "type": "A", "ttl": 60, "changetype": "REPLACE",
                         "records": [{"content": "6.6.6.6", "disabled": False}]}]}
    st, _, _, _ = api(p, "PATCH", "/api/v1/zones/a.internal.", patch, token=TOKEN_B)
    check(st in (403, 404), "tenant B PATCH a.internal. -> 403/404", str(st))
    st, _, _, _ = api(p, "POST", "/api/v1/update", {"name": "www.a.internal.", "type": "A", "content": "6.6.6.6"},
                      token=TOKEN_B)
    check(st in (403, 404), "tenant B /api/v1/update in a.internal. -> 403/404", str(st))
    st, _, _, _ = api(p, "DELETE", "/api/v1/zones/a.internal.", token=TOKEN_B)
    check(st in (403, 404), "tenant B DELETE a.internal. -> 403/404", str(st))
    st, _, _, _ = api(p, "GET", "/api/v1/auth/tokens", token=TOKEN_A)
    check(st == 403, "a tenant cannot list tokens -> 403", str(st))
    st, _, _, _ = api(p, "GET", "/api/v1/query?name=www.a.internal", token=TOKEN_B)
    check(st == 403, "a tenant cannot use /api/v1/query -> 403", str(st))
    check(dig(b.port, "www.a.internal") == "10.0.0.1" and serial(b.port, "a.internal") == before,
          "a.internal. unchanged after tenant B's attempts")
    # A limited scope sees only its names and types.
    st, body, _, _ = api(p, "GET", "/api/v1/zones/a.internal.", token=TOKEN_WWW)
    sets = [(r["name"], r["type"]) for r in body.get("rrsets", [])] if isinstance(body, dict) else []
    check(st == 200 and sets == [("www.a.internal.", "A")], "a-www token sees only www A", str(sets))


def test_patch(b):
    log("== PATCH all-or-nothing and scope checks")
    p = b.api_port
    before = serial(b.port, "a.internal")
    bad = {"rrsets": [
        {"name": "new.a.internal.", "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "10.0.0.9", "disabled": False}]},
        {"name": "broken.a.internal.", "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "not-an-address", "disabled": False}]}]}
    st, body, text, _ = api(p, "PATCH", "/api/v1/zones/a.internal.", bad, token=TOKEN_A)
    check(st == 422 and "broken.a.internal. A" in text, "PATCH with one bad rrset -> 422 naming it", "%s %s" % (st, text[:300]))
    check(dig(b.port, "new.a.internal") == "" and serial(b.port, "a.internal") == before,
          "nothing of the rejected PATCH was applied")
    outside = {"rrsets": [
        {"name": "www.a.internal.", "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "10.0.0.2", "disabled": False}]},
        {"name": "www.a.internal.", "type": "TXT", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "\"hi\"", "disabled": False}]}]}
    st, _, text, _ = api(p, "PATCH", "/api/v1/zones/a.internal.", outside, token=TOKEN_WWW)
    check(st == 403 and "www.a.internal. TXT" in text, "PATCH with an rrset outside the scope -> 403 naming it",
          "%s %s" % (st, text[:300]))
    check(dig(b.port, "www.a.internal") == "10.0.0.1", "nothing of the refused PATCH was applied")
    cname_clash = {"rrsets": [{"name": "www.a.internal.", "type": "CNAME", "ttl": 60, "changetype": "REPLACE",
                               "records": [{"content": "x.a.internal.", "disabled": False}]}]}
    st, _, text, _ = api(p, "PATCH", "/api/v1/zones/a.internal.", cname_clash, token=TOKEN_A)
    check(st == 422, "PATCH breaking zone rules (CNAME and other data) -> 422", "%s %s" % (st, text[:200]))
    good = {"rrsets": [
        {"name": "new.a.internal.", "type": "A", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "10.0.0.9", "disabled": False}, {"content": "10.0.0.10", "disabled": False}]},
        {"name": "www.a.internal.", "type": "TXT", "ttl": 60, "changetype": "REPLACE",
         "records": [{"content": "\"hello world\"", "disabled": False}]}]}
    st, _, text, _ = api(p, "PATCH", "/api/v1/zones/a.internal.", good, token=TOKEN_A)
    check(st == 204, "good PATCH -> 204", "%s %s" % (st, text[:200]))
    check(sorted(dig(b.port, "new.a.internal").split()) == ["10.0.0.10", "10.0.0.9"], "dig sees both new A records")
    check(dig(b.port, "www.a.internal", "TXT") == '"hello world"', "dig sees the new TXT")
    check((serial(b.port, "a.internal") or 0) > (before or 0), "serial went up")
    st, _, _, _ = api(p, "PATCH", "/api/v1/zones/a.internal.",
                      {"rrsets": [{"name": "new.a.internal.", "type": "A", "changetype": "DELETE"}]}, token=TOKEN_A)
    check(st == 204 and dig(b.port, "new.a.internal") == "", "PATCH DELETE removes the rrset")
    st, _, _, _ = api(p, "PATCH", "/api/v1/zones/a.internal.", "{nope", token=TOKEN_A)
    check(st == 400, "malformed JSON -> 400", str(st))


def test_update(b):
    log("== POST /api/v1/update")
    p = b.api_port
    st, body, text, _ = api(p, "POST", "/api/v1/update",
                            {"name": "web.dyn.a.internal.", "type": "A", "content": "10.0.0.5", "ttl": 60},
                            token=TOKEN_WWW)
    check(st == 200 and body and body.get("zone") == "a.internal." and body.get("serial"),
          "update -> 200 with zone and serial", "%s %s" % (st, text[:200]))
    check(dig(b.port, "web.dyn.a.internal") == "10.0.0.5", "dig sees the update at once")
    st, body2, _, _ = api(p, "POST", "/api/v1/update",
                          {"name": "web.dyn.a.internal.", "type": "A", "content": "10.0.0.6"}, token=TOKEN_WWW)
    check(st == 200 and dig(b.port, "web.dyn.a.internal") == "10.0.0.6", "a second update replaces the record")
    check(body and body2 and body2.get("serial", 0) > body.get("serial", 0), "each update raises the serial")
    st, _, _, _ = api(p, "POST", "/api/v1/update", {"name": "mail.a.internal.", "type": "A", "content": "10.0.0.7"},
                      token=TOKEN_WWW)
    check(st == 403, "update outside the token's names -> 403", str(st))
    st, _, _, _ = api(p, "POST", "/api/v1/update", {"name": "x.nowhere.", "type": "A", "content": "10.0.0.7"},
                      token=H.ADMIN_TOKEN)
    check(st == 404, "update of a name no zone serves -> 404", str(st))
    st, _, _, _ = api(p, "POST", "/api/v1/update", {"name": "www.a.internal.", "type": "A", "content": "300.1.1.1"},
                      token=TOKEN_A)
    check(st == 422, "update with bad content -> 422", str(st))
    # The commit pipeline reports its fsyncs and change times: two changes above were saved.
    st, _, metrics, _ = api(p, "GET", "/metrics")
    counts = {}
    for line in metrics.splitlines():
        for name in ("berth_store_journal_syncs_total", "berth_store_journal_sync_seconds_count",
                     "berth_zone_change_seconds_count"):
            if line.startswith(name + " "):
                counts[name] = float(line.split()[1])
    check(counts.get("berth_store_journal_syncs_total", 0) >= 2 and
          counts.get("berth_store_journal_sync_seconds_count", 0) >= 2 and
          counts.get("berth_zone_change_seconds_count", 0) >= 2,
          "/metrics counts journal syncs and change times", str(counts))


def test_cli(b, berth):
    log("== berth CLI")
    url = "http://127.0.0.1:%d" % b.api_port
    sock = os.path.join(b.dir, "api.sock")
    r = cli(berth, ["record", "set", "a.internal.", "cli", "A", "--ttl", "120", "10.1.0.1", "10.1.0.2"], url, TOKEN_A)
    check(r.returncode == 0, "berth record set (token over TCP)", r.stdout + r.stderr)
    check(sorted(dig(b.port, "cli.a.internal").split()) == ["10.1.0.1", "10.1.0.2"], "dig sees the CLI's records")
    r = cli(berth, ["record", "ls", "a.internal."], url, TOKEN_A)
    check(r.returncode == 0 and "cli.a.internal." in r.stdout and "10.1.0.2" in r.stdout, "berth record ls",
          r.stdout + r.stderr)
    r = cli(berth, ["record", "rm", "a.internal.", "cli", "A"], url, TOKEN_A)
    check(r.returncode == 0 and dig(b.port, "cli.a.internal") == "", "berth record rm", r.stdout + r.stderr)
    r = cli(berth, ["record", "ls", "a.internal."], url)
    check(r.returncode == 1 and "401" in r.stderr and "BERTH_TOKEN" in r.stderr, "no token over TCP: clear error",
          r.stderr)
    r = cli(berth, ["record", "set", "a.internal.", "www", "A", "10.9.9.9"], url, TOKEN_B)
    check(r.returncode == 1 and dig(b.port, "www.a.internal") == "10.0.0.1", "tenant B's CLI cannot change a.internal.",
          r.stderr)
    r = cli(berth, ["zone", "create", "c.internal", "--ns", "ns1.c.internal"], sock)
    check(r.returncode == 0 and dig(b.port, "c.internal", "NS") == "ns1.c.internal.",
          "berth zone create over the socket (no token)", r.stdout + r.stderr)
    r = cli(berth, ["record", "set", "c.internal", "@", "TXT", '"v=1"'], sock)
    check(r.returncode == 0 and dig(b.port, "c.internal", "TXT") == '"v=1"', "berth record set at the apex",
          r.stdout + r.stderr)
    r = cli(berth, ["record", "set", "c.internal", "x", "A", "nope"], sock)
    check(r.returncode == 1 and "nope" in r.stderr, "bad value: clear error", r.stderr)
    r = cli(berth, ["zone", "rm", "c.internal"], sock)
    check(r.returncode == 0, "berth zone rm", r.stdout + r.stderr)
    out = subprocess.run(["dig", "-p", str(b.port), "@127.0.0.1", "+norec", "c.internal", "SOA"],
                         capture_output=True, text=True, timeout=10).stdout
    check("REFUSED" in out, "the deleted zone is no longer served", out[-300:])


def test_credentials(b):
    log("== credentials through the admin API")
    p = b.api_port
    st, body, text, _ = api(p, "POST", "/api/v1/auth/tokens",
                            {"name": "tenant-d", "scope": [{"zone": "b.internal.", "names": ["*"], "types": ["A"],
                                                            "access": "write"}]}, token=H.ADMIN_TOKEN)
    secret = body.get("secret") if isinstance(body, dict) else None
    check(st == 201 and secret and len(secret) >= 32, "POST token without secret -> 201 with a generated one", text[:200])
    st, _, _, _ = api(p, "POST", "/api/v1/auth/tokens", {"name": "tenant-a", "secret": "x" * 20}, token=H.ADMIN_TOKEN)
    check(st == 409, "a token named like a config one -> 409", str(st))
    st, _, _, _ = api(p, "POST", "/api/v1/auth/tokens", {"name": "evil", "secret": "x" * 20}, token=TOKEN_A)
    check(st == 403, "a tenant cannot create tokens -> 403", str(st))
    st, _, _, _ = api(p, "POST", "/api/v1/auth/users",
                      {"name": "router", "password": "pw-router", "scope": [{"zone": "b.internal.", "names": ["gw"],
                                                                             "access": "write"}]},
                      token=H.ADMIN_TOKEN)
    check(st == 201, "POST user -> 201", str(st))
    st, body, text, _ = api(p, "POST", "/api/v1/auth/tsig-keys", {"name": "rt-key.", "algorithm": "hmac-sha256"},
                            token=H.ADMIN_TOKEN)
    check(st == 201 and body and body.get("secret"), "POST tsig-key -> 201 with a generated secret", text[:200])
    st, body, text, _ = api(p, "GET", "/api/v1/auth/tokens", token=H.ADMIN_TOKEN)
    names = sorted(t["name"] for t in body) if isinstance(body, list) else []
    check(st == 200 and "tenant-d" in names and "tenant-a" in names and "secret" not in text and TOKEN_A not in text,
          "GET tokens lists names and scopes, never secrets", text[:300])
    st, _, text, _ = api(p, "GET", "/api/v1/auth/tsig-keys", token=H.ADMIN_TOKEN)
    check(st == 200 and "rt-key." in text and "secret" not in text, "GET tsig-keys has no secrets", text[:200])
    st, _, _, _ = api(p, "POST", "/api/v1/update", {"name": "d.b.internal.", "type": "A", "content": "10.2.0.1"},
                      token=secret)
    check(st == 200 and dig(b.port, "d.b.internal") == "10.2.0.1", "the new token works at once", str(st))
    st, _, _, _ = api(p, "POST", "/api/v1/update", {"name": "d.b.internal.", "type": "TXT", "content": "\"x\""},
                      token=secret)
    check(st == 403, "and only within its scope", str(st))
    st, _, _, _ = api(p, "DELETE", "/api/v1/auth/tokens/tenant-a", token=H.ADMIN_TOKEN)
    check(st == 409, "a config token cannot be deleted through the API -> 409", str(st))
    st, _, _, _ = api(p, "POST", "/api/v1/auth/tokens", {"name": "gone", "secret": "gone-token-0123456789"},
                      token=H.ADMIN_TOKEN)
    st, _, _, _ = api(p, "DELETE", "/api/v1/auth/tokens/gone", token=H.ADMIN_TOKEN)
    check(st == 204, "DELETE token -> 204", str(st))
    st, _, _, _ = api(p, "GET", "/api/v1/zones", token="gone-token-0123456789")
    check(st == 401, "a deleted token no longer works", str(st))
    return secret


def test_restart(b, binary, token_d):
    log("== restart keeps zones and runtime credentials")
    serial_before = serial(b.port, "a.internal")
    rc = b.stop()
    check(rc == 0, "berthd exits 0 on SIGTERM", str(rc))
    b2 = H.Berthd(binary, workdir=b.dir, extra_config=AUTH_YAML, ready_name="a.internal.")
    st, _, _, _ = api(b2.api_port, "GET", "/api/v1/zones/b.internal.", token=token_d)
    check(st == 200, "a token created through the API survives the restart", str(st))
    st, _, _, _ = api(b2.api_port, "GET", "/api/v1/zones/a.internal.", token=token_d)
    check(st == 404, "and still cannot read other tenants' zones", str(st))
    st, body, text, _ = api(b2.api_port, "GET", "/api/v1/auth/users", token=H.ADMIN_TOKEN)
    check(st == 200 and "router" in text, "a user created through the API survives the restart", text[:200])
    st, _, text, _ = api(b2.api_port, "GET", "/api/v1/auth/tsig-keys", token=H.ADMIN_TOKEN)
    check("rt-key." in text, "a TSIG key created through the API survives the restart", text[:200])
    check(dig(b2.port, "web.dyn.a.internal") == "10.0.0.6" and serial(b2.port, "a.internal") == serial_before,
          "zone data and serial survive the restart")
    st, _, _, _ = api(b2.api_port, "DELETE", "/api/v1/zones/b.internal.", token=TOKEN_B)
    check(st == 204, "tenant B deletes its own zone -> 204", str(st))
    st, _, _, _ = api(b2.api_port, "GET", "/api/v1/zones/b.internal.", token=H.ADMIN_TOKEN)
    check(st == 404, "the deleted zone is gone", str(st))
    b2.stop()


def test_insecure_rule(binary):
    log("== a non-loopback API listener needs TLS or --insecure-api")
    d = H.tmpdir()
    # berthd refuses before binding anything, so no port is opened on a public address.
    r = subprocess.run([binary, "--state-dir", os.path.join(d, "state"), "--dns-listen",
                        "127.0.0.1:%d" % H.free_port(), "--api-listen", "0.0.0.0:%d" % H.free_port(),
                        "--api-socket", ""], capture_output=True, text=True, timeout=15)
    check(r.returncode != 0 and "--insecure-api" in r.stderr, "non-loopback api.listen without TLS: refused at start",
          "rc=%s %s" % (r.returncode, r.stderr[-300:]))


def make_cert(cert, key, cn="localhost"):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=" + cn, "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], capture_output=True, timeout=30, check=True)


def test_tls(binary):
    log("== TLS on the API listener")
    d = H.tmpdir()
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    make_cert(cert, key)
    port = H.free_port()
    # api=False: the harness's readiness probe speaks plain HTTP; this listener is TLS.
    b = H.Berthd(binary, api=False,
                 args=["--api-listen", "127.0.0.1:%d" % port, "--api-tls-cert", cert, "--api-tls-key", key])
    ctx = ssl.create_default_context(cafile=cert)
    ok = False
    for _ in range(100):
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ctx)
            st, body, _, _ = api(port, "GET", "/api/v1/zones", token=H.ADMIN_TOKEN, conn=conn)
            ok = st == 200 and isinstance(body, list)
            break
        except OSError:
            time.sleep(0.05)
    check(ok, "HTTPS GET /api/v1/zones with the admin token -> 200")
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ctx)
    st, _, _, _ = api(port, "GET", "/api/v1/zones", conn=conn)
    check(st == 401, "HTTPS without a token -> 401", str(st))
    try:
        st, _, _, _ = api(port, "GET", "/healthz")
        plain = st
    except (OSError, http.client.HTTPException):
        plain = None
    check(plain != 200, "plain HTTP on the TLS port gets no answer", str(plain))
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "--cacert", cert, "https://127.0.0.1:%d/healthz" % port],
                       capture_output=True, text=True, timeout=10)
    check(r.stdout.strip() == "ok", "curl over TLS verifies the certificate", r.stderr)

    log("== SIGHUP loads a renewed certificate (same file names), a broken one is refused")
    old = os.path.join(d, "old.pem")
    shutil.copyfile(cert, old)
    make_cert(cert + ".new", key + ".new", cn="renewed")
    os.replace(key + ".new", key)
    os.replace(cert + ".new", cert)

    def curl_code(ca):
        r = subprocess.run(["curl", "-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca,
                            "https://127.0.0.1:%d/healthz" % port], capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    check(curl_code(old) == "200", "before SIGHUP: the old certificate is still served")
    b.proc.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and curl_code(cert) != "200":
        time.sleep(0.1)
    check(curl_code(cert) == "200", "after SIGHUP: the renewed certificate is served")
    check(curl_code(old) != "200", "after SIGHUP: the old certificate is gone")
    with open(key, "w") as f:
        f.write("not a key\n")
    b.proc.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "API certificate kept" not in open(b.proc.logpath).read():
        time.sleep(0.1)
    check("API certificate kept" in open(b.proc.logpath).read(), "a broken key on SIGHUP is logged and refused")
    check(curl_code(cert) == "200" and b.proc.alive(), "the renewed certificate keeps serving")
    b.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", required=True)
    ap.add_argument("--berth", required=True)
    a = ap.parse_args()
    b = H.Berthd(a.berthd, extra_config=AUTH_YAML)
    token_d = None
    sections = [lambda: test_auth_required(b), lambda: test_zones_and_isolation(b), lambda: test_patch(b),
                lambda: test_update(b), lambda: test_cli(b, a.berth)]
    for fn in sections:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report and go on
            check(False, "section raised", repr(e))
    try:
        token_d = test_credentials(b)
        test_restart(b, a.berthd, token_d)
    except Exception as e:  # noqa: BLE001
        check(False, "credentials/restart raised", repr(e))
    for fn in (lambda: test_insecure_rule(a.berthd), lambda: test_tls(a.berthd)):
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            check(False, "section raised", repr(e))
    H.finish()


if __name__ == "__main__":
    main()
