#!/usr/bin/env python3
"""Nothing acknowledged is lost: a stream of TSIG-signed RFC 2136 updates from several clients
while berthd is killed with SIGKILL at random moments (20 times), restarted on the same state
each time. After every restart each update that got NOERROR must be served, each delete that
got NOERROR must stay deleted, and no UPDATE may be half applied (each one adds an A and a TXT
record together).

  test_crash.py --berthd build/bin/berthd [--rounds 20] [--seed N]
"""
import argparse
import os
import random
import signal
import socket
import sys
import threading
import time

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsigkeyring
import dns.update

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ZONE = "crash.test."
KEY_NAME = "crash-key."
KEY_SECRET = "c2VjcmV0LWtleS1mb3ItdGhlLWNyYXNoLXRlc3QtMTIzNDU2Nzg5MA=="
KEYRING = dns.tsigkeyring.from_text({KEY_NAME: ("hmac-sha256", KEY_SECRET)})

ZONE_TEXT = """$ORIGIN crash.test.
$TTL 300
@ SOA ns hostmaster 1 7200 900 1209600 60
@ NS ns
ns A 192.0.2.1
"""

CONFIG = """auth:
  tsig_keys:
    - name: %s
      algorithm: hmac-sha256
      secret: "%s"
      scope: [{zone: %s, names: ["*"], access: write}]
""" % (KEY_NAME, KEY_SECRET, ZONE)


class Ledger:
    """What the clients were told: names added (A+TXT) and names deleted, by NOERROR answers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.added = {}       # name -> last octet, acknowledged adds
        self.deleted = set()  # acknowledged deletes
        self.recent = set()   # names acknowledged since the last restart (right before a kill)
        self.uncertain = set()  # names with an unanswered change: not checked until acknowledged again
        self.sent = 0
        self.errors = 0


def client(port, tid, stop, ledger, rnd, use_tcp):
    seq = 0
    mine = []
    while not stop.is_set():
        seq += 1
        upd = dns.update.UpdateMessage(ZONE, keyring=KEYRING, keyname=KEY_NAME, keyalgorithm="hmac-sha256")
        if mine and rnd.random() < 0.2:
            victim = mine.pop(rnd.randrange(len(mine)))
            upd.delete(victim)
            op = ("del", victim, None)
        else:
            name = "c%d-%d" % (tid, seq)
            octet = seq % 250 + 1
            upd.add(name, 60, "A", "10.%d.%d.%d" % (tid, (seq // 250) % 250, octet))
            upd.add(name, 60, "TXT", '"seq %d"' % seq)
            op = ("add", name, octet)
        with ledger.lock:
            ledger.sent += 1
        try:
            if use_tcp:
                resp = dns.query.tcp(upd, "127.0.0.1", port=port, timeout=2)
            else:
                resp = dns.query.udp(upd, "127.0.0.1", port=port, timeout=2)
        except (OSError, dns.exception.DNSException, EOFError):
            # Killed mid-flight: unacknowledged, so it may or may not have landed. The name's
            # state is unknown from now on: it leaves the ledger (an earlier acknowledged add of
            # a name this unanswered delete targeted may rightly be gone).
            with ledger.lock:
                ledger.added.pop(op[1], None)
                ledger.deleted.discard(op[1])
                ledger.uncertain.add(op[1])
            if op[0] == "add":
                mine.append(op[1])  # perhaps there; deleting it later is harmless either way
            time.sleep(0.05)
            continue
        if resp.rcode() != dns.rcode.NOERROR:
            with ledger.lock:
                ledger.errors += 1
            continue
        with ledger.lock:
            ledger.recent.add(op[1])
            ledger.uncertain.discard(op[1])
            if op[0] == "add":
                ledger.added[op[1]] = op[2]
                ledger.deleted.discard(op[1])
                mine.append(op[1])
            else:
                ledger.added.pop(op[1], None)
                ledger.deleted.add(op[1])


def check_state(port, ledger, round_no, rnd=None, sample=100):
    """Checks the names acknowledged in the last round (just before the kill) and, with `rnd`,
    a random sample of the older ones; without `rnd`, everything."""
    ok = True
    with ledger.lock:
        added = dict(ledger.added)
        deleted = set(ledger.deleted)
        recent = set(ledger.recent)
        ledger.recent.clear()
    if rnd is not None:
        older = sorted(set(added) - recent)
        keep = recent | set(rnd.sample(older, min(sample, len(older))))
        added = {n: v for n, v in added.items() if n in keep}
        deleted = deleted & recent
    for name, octet in added.items():
        fq = "%s.%s" % (name, ZONE)
        a = h.query(port, fq, "A")
        t = h.query(port, fq, "TXT")
        if a.rcode() != dns.rcode.NOERROR or not a.answer or not t.answer:
            h.check(False, "round %d: acknowledged add %s served" % (round_no, fq),
                    "A=%s TXT=%s" % (a.answer, t.answer))
            ok = False
            break
    for name in deleted:
        fq = "%s.%s" % (name, ZONE)
        a = h.query(port, fq, "A")
        if a.rcode() != dns.rcode.NXDOMAIN:
            h.check(False, "round %d: acknowledged delete %s stays deleted" % (round_no, fq),
                    dns.rcode.to_text(a.rcode()))
            ok = False
            break
    return ok, len(added), len(deleted)


def check_atomic(port, names, round_no):
    """Every name the clients ever touched: A and TXT both present or both absent."""
    for name in names:
        fq = "%s.%s" % (name, ZONE)
        a = h.query(port, fq, "A")
        t = h.query(port, fq, "TXT")
        if bool(a.answer) != bool(t.answer):
            h.check(False, "round %d: UPDATE for %s applied whole" % (round_no, fq),
                    "A=%s TXT=%s" % (a.answer, t.answer))
            return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berthd", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    h.log("seed %d" % args.seed)

    work = h.tmpdir("berth-crash-")
    zone_file = os.path.join(work, "crash.test.zone")
    with open(zone_file, "w") as f:
        f.write(ZONE_TEXT)
    port = h.free_port()
    ledger = Ledger()
    deadline = time.monotonic() + 240
    touched = set()
    all_ok = True
    for round_no in range(1, args.rounds + 1):
        if time.monotonic() > deadline:
            h.check(False, "crash rounds finished in time", "stopped at round %d" % round_no)
            break
        d = h.Berthd(args.berthd, zones={ZONE: zone_file}, port=port, workdir=work, extra_config=CONFIG)
        if round_no > 1:
            ok, n_add, n_del = check_state(port, ledger, round_no, rnd)
            all_ok &= ok
        stop = threading.Event()
        threads = [threading.Thread(target=client, args=(port, t, stop, ledger, random.Random(rnd.random()),
                                                         t % 2 == 1), daemon=True)
                   for t in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(rnd.uniform(0.2, 1.2))
        os.kill(d.pid, signal.SIGKILL)
        d.proc.wait(5)
        stop.set()
        for t in threads:
            t.join(5)
        with ledger.lock:
            touched |= set(ledger.added) | set(ledger.deleted)
    # Final restart: everything acknowledged is there, nothing is half applied.
    d = h.Berthd(args.berthd, zones={ZONE: zone_file}, port=port, workdir=work, extra_config=CONFIG)
    ok, n_add, n_del = check_state(port, ledger, args.rounds + 1)
    all_ok &= ok
    all_ok &= check_atomic(port, sorted(touched), args.rounds + 1)
    h.log("updates sent %d, acknowledged adds live %d, acknowledged deletes %d, non-NOERROR %d"
          % (ledger.sent, n_add, n_del, ledger.errors))
    h.check(n_add > 50, "a real stream of updates was acknowledged", "only %d" % n_add)
    h.check(ledger.errors == 0, "no update was refused", "%d refused" % ledger.errors)
    h.check(all_ok, "every acknowledged update survived %d kill -9s" % args.rounds)
    d.stop()
    h.finish()


if __name__ == "__main__":
    main()
