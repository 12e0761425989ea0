#!/usr/bin/env python3
"""ESP oracle for rampart-dataplane, on scapy's `scapy.layers.ipsec` (not our code).

Reads one JSON request per line on stdin and prints one line per request:
`<id> <hex>` on success or `<id> ERR <message>` on failure.

Request fields:
  op       "encrypt" (scapy protects `pkt`) or "decrypt" (scapy verifies and removes ESP)
  id       opaque case name, echoed back
  crypt    scapy crypt_algo name: "AES-GCM", "CHACHA20-POLY1305", "AES-CBC", "NULL"
  auth     scapy auth_algo name: "NULL", "SHA2-256-128", "HMAC-SHA1-96"
  key      encryption key hex (salt included at the end for AEADs, as RFC 4106/7634 take it)
  auth_key integrity key hex ("" for AEADs)
  spi      SPI
  seq      low 32 bits of the sequence number (encrypt only)
  esn      extended sequence numbers on/off; esn_hi: the high 32 bits
  tunnel   null (transport mode) or {"v": 4|6, "src": ..., "dst": ...}
  nat_t    null or {"sport": ..., "dport": ...} (RFC 3948 UDP encapsulation)
  pkt      the packet hex: plain IP packet (encrypt) or protected datagram (decrypt)

Exit status 3 means scapy is missing (the Rust test then skips or fails per
RAMPART_REQUIRE_ORACLES).
"""
import json
import sys

try:
    from scapy.all import IP, IPv6, UDP, raw
    from scapy.layers.ipsec import ESP, SecurityAssociation
except ImportError as e:
    print(f"scapy unavailable: {e}", file=sys.stderr)
    sys.exit(3)


def make_sa(r):
    tunnel = None
    if r["tunnel"]:
        t = r["tunnel"]
        tunnel = (IP if t["v"] == 4 else IPv6)(src=t["src"], dst=t["dst"])
    nat_t = None
    if r["nat_t"]:
        nat_t = UDP(sport=r["nat_t"]["sport"], dport=r["nat_t"]["dport"])
    return SecurityAssociation(
        ESP, spi=r["spi"], seq_num=r.get("seq", 1),
        crypt_algo=r["crypt"], crypt_key=bytes.fromhex(r["key"]),
        auth_algo=r["auth"], auth_key=bytes.fromhex(r["auth_key"]) or None,
        tunnel_header=tunnel, nat_t_header=nat_t,
        esn_en=r["esn"], esn=r["esn_hi"])


def parse_ip(data):
    return (IP if data[0] >> 4 == 4 else IPv6)(data)


def handle(r):
    sa = make_sa(r)
    pkt = parse_ip(bytes.fromhex(r["pkt"]))
    if r["op"] == "encrypt":
        out = sa.encrypt(pkt, seq_num=r["seq"], esn_en=r["esn"], esn=r["esn_hi"])
    else:
        if ESP not in pkt:
            raise ValueError("scapy finds no ESP layer")
        out = sa.decrypt(pkt, esn_en=r["esn"], esn=r["esn_hi"])
    return raw(out).hex()


for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    try:
        print(req["id"], handle(req))
    except Exception as e:  # report per case; the Rust side fails the case
        print(req["id"], "ERR", type(e).__name__, str(e).replace("\n", " "))
