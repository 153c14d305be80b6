"""Local fakes of the DNS provider APIs berthd's DDNS updater speaks, faithful enough that a
wrong request fails: Cloudflare API v4 (Bearer token, v4 envelope and error codes), DNSPod
(form posts, login_token, status codes), Alibaba Cloud DNS (RPC signature v1 with HMAC-SHA1
recomputed and checked, nonce replay, timestamp window, error bodies), plus a "what is my IP"
endpoint and a hook recorder. Standard library only; runs in a thread of the test.

    fake = FakeProviders(cf_token=..., dnspod=("id", "token"), ali=("key id", "secret"))
    fake.start(); ...; fake.records("cf") ; fake.stop()
"""
import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _valid(rtype, value):
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return (rtype == "A" and ip.version == 4) or (rtype == "AAAA" and ip.version == 6)


def ali_signature(method, params, secret):
    """Alibaba Cloud RPC signature v1 (the documented algorithm, written independently)."""
    enc = lambda s: urllib.parse.quote(str(s), safe="~")
    canon = "&".join("%s=%s" % (enc(k), enc(v)) for k, v in sorted(params.items()) if k != "Signature")
    to_sign = "%s&%s&%s" % (method, enc("/"), enc(canon))
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class FakeProviders:
    def __init__(self, cf_token="cf-token", cf_zones=("example.test",), dnspod=("10001", "pod-token"),
                 dnspod_domains=("example.test",), ali=("LTAIfakeKeyId", "ali-secret"),
                 ali_domains=("example.test",)):
        self.cf_token = cf_token
        self.cf_zones = {z: uuid.uuid4().hex for z in cf_zones}
        self.dnspod = dnspod
        self.dnspod_domains = set(dnspod_domains)
        self.ali = ali
        self.ali_domains = set(ali_domains)
        self.lock = threading.Lock()
        self.store = {"cf": {}, "dnspod": {}, "ali": {}}  # id -> record dict
        self.requests = []  # (provider, method, path, outcome)
        self.hooks = []     # (method, path, query, headers, body)
        self.my_ip = {"4": "198.51.100.10", "6": "2001:db8::10"}
        self.nonces = set()
        self.next_id = 1000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _send(self, status, obj, ctype="application/json"):
                data = obj if isinstance(obj, bytes) else (json.dumps(obj) if ctype == "application/json" else obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method):
                url = urllib.parse.urlsplit(self.path)
                body = self._body()
                with fake.lock:
                    if url.path.startswith("/cf/client/v4/"):
                        st, obj = fake._cloudflare(method, url.path[len("/cf/client/v4"):], url.query, self.headers, body)
                        fake.requests.append(("cf", method, url.path, st))
                        return self._send(st, obj)
                    if url.path.startswith("/dnspod/"):
                        st, obj = fake._dnspod(method, url.path[len("/dnspod/"):], self.headers, body)
                        fake.requests.append(("dnspod", method, url.path, obj["status"]["code"]))
                        return self._send(st, obj)
                    if url.path in ("/ali", "/ali/"):
                        st, obj = fake._alidns(method, url.query)
                        fake.requests.append(("ali", method, url.path, obj.get("Code", "OK")))
                        return self._send(st, obj)
                    if url.path.startswith("/ip/"):
                        kind = url.path[4:]
                        if kind == "fail":
                            return self._send(500, "internal error\n", "text/plain")
                        if kind == "json6":
                            return self._send(200, {"ip": fake.my_ip["6"], "country": "ZZ"})
                        if kind == "json":
                            return self._send(200, {"ip": fake.my_ip["4"], "country": "ZZ"})
                        return self._send(200, fake.my_ip["4"] + "\n", "text/plain")
                    if url.path.startswith("/hook"):
                        fake.hooks.append((method, url.path, urllib.parse.parse_qs(url.query),
                                           dict(self.headers), body.decode("utf-8", "replace")))
                        return self._send(200, {"ok": True})
                return self._send(404, {"error": "no such fake endpoint"})

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_PUT(self):
                self._route("PUT")

            def do_PATCH(self):
                self._route("PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def records(self, provider):
        with self.lock:
            return [dict(r) for r in self.store[provider].values()]

    def put(self, provider, rec):
        with self.lock:
            self.next_id += 1
            rec = dict(rec, id=str(self.next_id))
            self.store[provider][rec["id"]] = rec
            return rec["id"]

    def set_value(self, provider, rid, value):
        with self.lock:
            key = {"cf": "content", "dnspod": "value", "ali": "Value"}[provider]
            self.store[provider][rid][key] = value

    def _new_id(self):
        self.next_id += 1
        return str(self.next_id)

    # ---- Cloudflare API v4 -----------------------------------------------------------------

    def _cloudflare(self, method, path, query, headers, body):
        def fail(status, code, message):
            return status, {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}

        def ok(result, info=None):
            out = {"success": True, "errors": [], "messages": [], "result": result}
            if info is not None:
                out["result_info"] = info
            return 200, out

        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return fail(400, 10000, "Authentication error")
        if auth[7:] != self.cf_token:
            return fail(403, 9109, "Invalid access token")
        q = urllib.parse.parse_qs(query)
        parts = [p for p in path.split("/") if p]
        if parts == ["zones"] and method == "GET":
            names = q.get("name", [])
            zones = [{"id": zid, "name": z, "status": "active"} for z, zid in self.cf_zones.items()
                     if not names or z == names[0]]
            return ok(zones, {"page": 1, "per_page": 20, "count": len(zones), "total_count": len(zones)})
        if len(parts) < 3 or parts[0] != "zones" or parts[2] != "dns_records":
            return fail(404, 7003, "Could not route to %s, perhaps your object identifier is invalid?" % path)
        zone = next((z for z, zid in self.cf_zones.items() if zid == parts[1]), None)
        if zone is None:
            return fail(404, 7003, "Could not route to %s, perhaps your object identifier is invalid?" % path)
        recs = self.store["cf"]
        if len(parts) == 3 and method == "GET":
            out = [r for r in recs.values() if r["zone_id"] == parts[1]
                   and ("type" not in q or r["type"] == q["type"][0])
                   and ("name" not in q or r["name"] == q["name"][0])]
            return ok(out, {"page": 1, "per_page": 100, "count": len(out), "total_count": len(out)})
        if method in ("POST", "PUT"):
            if headers.get("Content-Type", "").split(";")[0] != "application/json":
                return fail(400, 6003, "Invalid request headers")
            try:
                rec = json.loads(body)
            except ValueError:
                return fail(400, 6007, "Malformed JSON in request body")
            for field in ("type", "name", "content", "ttl"):
                if field not in rec:
                    return fail(400, 9021 if field == "content" else 9020, "DNS record %s is required" % field)
            if rec["type"] not in ("A", "AAAA"):
                return fail(400, 9000, "DNS record type is invalid.")
            if not _valid(rec["type"], rec["content"]):
                return fail(400, 9005 if rec["type"] == "A" else 9006,
                            "Content for %s record must be a valid IPv%s address." % (rec["type"], 4 if rec["type"] == "A" else 6))
            if not (rec["name"] == zone or rec["name"].endswith("." + zone)):
                return fail(400, 9007, "DNS record name must be within the zone.")
            if not isinstance(rec["ttl"], int) or not (rec["ttl"] == 1 or 30 <= rec["ttl"] <= 86400):
                return fail(400, 9003, "Invalid 'ttl' setting.")
            if not isinstance(rec.get("proxied", False), bool):
                return fail(400, 9003, "Invalid 'proxied' setting.")
            if rec.get("proxied"):
                rec["ttl"] = 1  # proxied records are always automatic TTL
            stored = {"type": rec["type"], "name": rec["name"], "content": rec["content"], "ttl": rec["ttl"],
                      "proxied": rec.get("proxied", False), "zone_id": parts[1], "zone_name": zone}
            if len(parts) == 3 and method == "POST":
                if any(r["type"] == stored["type"] and r["name"] == stored["name"] and r["content"] == stored["content"]
                       for r in recs.values()):
                    return fail(400, 81057, "Record already exists.")
                stored["id"] = self._new_id()
                recs[stored["id"]] = stored
                return ok(stored)
            if len(parts) == 4 and method == "PUT":
                if parts[3] not in recs:
                    return fail(404, 81044, "Record does not exist.")
                stored["id"] = parts[3]
                recs[parts[3]] = stored
                return ok(stored)
        return fail(405, 10405, "Method not allowed for this endpoint")

    # ---- DNSPod ---------------------------------------------------------------------------

    def _dnspod(self, method, action, headers, body):
        def status(code, message, **extra):
            return 200, dict({"status": {"code": str(code), "message": message,
                                         "created_at": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")}}, **extra)

        if method != "POST":
            return status(-99, "Only POST is accepted")
        if "/" not in headers.get("User-Agent", ""):
            return status(-99, "Please set a User-Agent naming your program")
        if headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return status(-99, "Form data expected")
        f = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
        if f.get("login_token") != "%s,%s" % self.dnspod:
            return status(-1, "Login fail, please check login info")
        if f.get("format") != "json":
            return status(-99, "format=json expected")
        if f.get("domain") not in self.dnspod_domains:
            return status(6, "Domain id is invalid")
        recs = self.store["dnspod"]
        mine = lambda r: r["domain"] == f["domain"]
        if action == "Record.List":
            out = [r for r in recs.values() if mine(r) and ("sub_domain" not in f or r["name"] == f["sub_domain"])
                   and ("record_type" not in f or r["type"] == f["record_type"])]
            if not out:
                return status(10, "No records")
            return status(1, "Action completed successful",
                          records=[{"id": r["id"], "name": r["name"], "type": r["type"], "value": r["value"],
                                    "ttl": str(r["ttl"]), "line": r["line"], "enabled": "1"} for r in out])
        if action in ("Record.Create", "Record.Modify"):
            for field in ("sub_domain", "record_type", "record_line", "value"):
                if not f.get(field):
                    return status(-99, "missing %s" % field)
            if f["record_line"] not in ("默认", "default"):
                return status(21, "Record line invalid")
            if not _valid(f["record_type"], f["value"]):
                return status(17, "Record value invalid")
            ttl = int(f.get("ttl", "600"))
            if not 1 <= ttl <= 604800:
                return status(-99, "TTL invalid")
            rec = {"domain": f["domain"], "name": f["sub_domain"], "type": f["record_type"], "value": f["value"],
                   "ttl": ttl, "line": f["record_line"]}
            if action == "Record.Create":
                rec["id"] = self._new_id()
            else:
                if f.get("record_id") not in recs or not mine(recs[f["record_id"]]):
                    return status(8, "Record id invalid")
                rec["id"] = f["record_id"]
            recs[rec["id"]] = rec
            return status(1, "Action completed successful", record={"id": rec["id"], "name": rec["name"], "status": "enabled"})
        return status(-99, "Unknown API")

    # ---- Alibaba Cloud DNS ----------------------------------------------------------------

    def _alidns(self, method, query):
        def fail(status, code, message):
            return status, {"RequestId": str(uuid.uuid4()).upper(), "HostId": "alidns.aliyuncs.com", "Code": code,
                            "Message": message, "Recommend": "https://api.aliyun.com/troubleshoot?q=" + code}

        p = {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        for common in ("Format", "Version", "AccessKeyId", "SignatureMethod", "Timestamp", "SignatureVersion",
                       "SignatureNonce", "Signature", "Action"):
            if common not in p:
                return fail(400, "MissingParameter", "The input parameter \"%s\" that is mandatory for processing this request is not supplied." % common)
        if p["Version"] != "2015-01-09":
            return fail(400, "InvalidVersion", "Specified parameter Version is not valid.")
        if p["SignatureMethod"] != "HMAC-SHA1" or p["SignatureVersion"] != "1.0":
            return fail(400, "InvalidSignatureMethod", "Specified signature method is not valid.")
        if p["AccessKeyId"] != self.ali[0]:
            return fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        try:
            ts = datetime.datetime.strptime(p["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return fail(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
        if abs((datetime.datetime.now(datetime.timezone.utc) - ts).total_seconds()) > 900:
            return fail(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        if ali_signature(method, p, self.ali[1]) != p["Signature"]:
            return fail(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
        if p["SignatureNonce"] in self.nonces:
            return fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self.nonces.add(p["SignatureNonce"])
        recs = self.store["ali"]
        rid = str(uuid.uuid4().int)[:17]
        if p["Action"] == "DescribeSubDomainRecords":
            sub = p.get("SubDomain", "")
            out = [r for r in recs.values() if r["RR"] + "." + r["DomainName"] == sub or (r["RR"] == "@" and r["DomainName"] == sub)]
            if "Type" in p:
                out = [r for r in out if r["Type"] == p["Type"]]
            return 200, {"RequestId": rid, "TotalCount": len(out), "PageSize": 20, "PageNumber": 1,
                         "DomainRecords": {"Record": out}}
        if p["Action"] in ("AddDomainRecord", "UpdateDomainRecord"):
            for field in ("RR", "Type", "Value"):
                if field not in p:
                    return fail(400, "MissingParameter", "The input parameter \"%s\" that is mandatory for processing this request is not supplied." % field)
            if not _valid(p["Type"], p["Value"]):
                return fail(400, "DomainRecordValueInvalid", "The DNS record value is invalid.")
            ttl = int(p.get("TTL", "600"))
            if p["Action"] == "AddDomainRecord":
                if p.get("DomainName") not in self.ali_domains:
                    return fail(400, "InvalidDomainName.NoExist", "The specified domain name does not exist.")
                dom = p["DomainName"]
                if any(r["RR"] == p["RR"] and r["DomainName"] == dom and r["Type"] == p["Type"] and r["Value"] == p["Value"]
                       for r in recs.values()):
                    return fail(400, "DomainRecordDuplicate", "The DNS record already exists.")
                new_id = self._new_id()
            else:
                new_id = p.get("RecordId")
                if new_id not in recs:
                    return fail(400, "DomainRecordNotBelongToUser", "The DNS record does not belong to you.")
                dom = recs[new_id]["DomainName"]
                old = recs[new_id]
                if old["RR"] == p["RR"] and old["Type"] == p["Type"] and old["Value"] == p["Value"] and old["TTL"] == ttl:
                    return fail(400, "DomainRecordDuplicate", "The DNS record already exists.")
            recs[new_id] = {"RecordId": new_id, "RR": p["RR"], "Type": p["Type"], "Value": p["Value"], "TTL": ttl,
                            "DomainName": dom, "Line": "default", "Status": "ENABLE", "Locked": False}
            return 200, {"RequestId": rid, "RecordId": new_id}
        return fail(400, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
