#!/usr/bin/env python3
"""AH oracle for rampart-dataplane, using scapy.layers.ipsec (an implementation we did not write).

Usage:
  ah_oracle.py protect   scapy builds plain packets and protects them with AH; prints one line
                         per packet:
                           <sa> <alg> <key hex> <mode> <esn 0|1> <plain hex> <protected hex>
                         Packets with the same <sa> belong to one SA, in sending order.
  ah_oracle.py verify    reads lines from stdin:
                           <name> <alg> <key hex> <tunnel: none|v4|v6> <esn 0|1> <esn hi>
                           <plain hex> <protected hex>
                         and checks with scapy's SecurityAssociation.decrypt() (which raises
                         IPSecIntegrityError on an ICV mismatch) that the protected packet
                         verifies and unprotects to exactly the plain packet, and that the same
                         packet with one payload byte flipped does NOT verify (so the check is
                         real). Prints `<name> ok` or `<name> FAIL <why>` per line.

Exit status 3 means scapy is missing (the Rust test then skips or fails per
RAMPART_REQUIRE_ORACLES).
"""
import sys

try:
    from scapy.all import IP, IPv6, UDP, TCP, ICMP, Raw, raw
    from scapy.layers.inet import IPOption_NOP, IPOption_Router_Alert, IPOption_RR
    from scapy.layers.inet6 import IPv6ExtHdrHopByHop, RouterAlert, HBHOptUnknown, ICMPv6EchoRequest
    from scapy.layers.ipsec import AH, SecurityAssociation, IPSecIntegrityError
except ImportError as e:
    print(f"scapy unavailable: {e}", file=sys.stderr)
    sys.exit(3)

SPI = 0x0000C0DE
V4 = dict(src="192.0.2.1", dst="198.51.100.2")
V6 = dict(src="2001:db8::1", dst="2001:db8::2")
# Tunnel endpoints (outer headers).
GW4 = dict(src="203.0.113.1", dst="203.0.113.2")
GW6 = dict(src="2001:db8:ff::1", dst="2001:db8:ff::2")
KEY_LEN = {"HMAC-SHA1-96": 20, "SHA2-256-128": 32, "SHA2-384-192": 48, "SHA2-512-256": 64}


def key_for(alg, seed):
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(KEY_LEN[alg]))


def tunnel_header(kind):
    return {"none": None, "v4": IP(**GW4), "v6": IPv6(**GW6)}[kind]


def plain_packets():
    """The plain packets, by name: IPv4 with an immutable (Router Alert) and a mutable (Record
    Route) option, IPv6 with a Hop-by-Hop header holding Router Alert (immutable data) and an
    option with the "may change en route" bit (type 0x3e). No UDP port 4500: scapy would
    dissect the payload as NAT-T ESP and then sign the packet as ESP."""
    return {
        "v4_opts_udp": IP(tos=0xB9, id=0x4242, flags="DF", ttl=33, **V4,
                          options=[IPOption_NOP(), IPOption_Router_Alert(),
                                   IPOption_RR(routers=["10.0.0.1"])])
        / UDP(sport=5000, dport=5001) / Raw(b"hello oracle"),
        "v4_tcp": IP(ttl=64, **V4) / TCP(sport=1234, dport=80, flags="S") / Raw(b"GET /"),
        "v4_icmp": IP(**V4) / ICMP(id=7, seq=9) / Raw(b"ping" * 9),
        "v6_hbh_udp": IPv6(tc=0x2C, fl=0x12345, hlim=7, **V6)
        / IPv6ExtHdrHopByHop(options=[RouterAlert(),
                                      HBHOptUnknown(otype=0x3E, optdata=b"\x01\x02\x03\x04")])
        / UDP(sport=500, dport=500) / Raw(b"hop by hop"),
        "v6_icmp": IPv6(hlim=255, **V6) / ICMPv6EchoRequest(id=1, seq=2, data=b"x" * 21),
    }


# (sa, alg, tunnel, esn, plain name, [(esn hi, seq), ...])
PROTECT_CASES = [
    ("t4_sha256", "SHA2-256-128", "none", 0, "v4_opts_udp", [(0, 1), (0, 2)]),
    ("t4_sha1", "HMAC-SHA1-96", "none", 0, "v4_tcp", [(0, 7)]),
    ("t6_sha256", "SHA2-256-128", "none", 0, "v6_hbh_udp", [(0, 1)]),
    ("t6_sha512", "SHA2-512-256", "none", 0, "v6_icmp", [(0, 3)]),
    ("u4_sha384_in4", "SHA2-384-192", "v4", 0, "v4_opts_udp", [(0, 1)]),
    ("u4_sha1_in6", "HMAC-SHA1-96", "v4", 0, "v6_hbh_udp", [(0, 1)]),
    ("u6_sha256_in6", "SHA2-256-128", "v6", 0, "v6_hbh_udp", [(0, 1)]),
    ("u6_sha512_in4", "SHA2-512-256", "v6", 0, "v4_icmp", [(0, 1)]),
    ("u6_sha384_in6", "SHA2-384-192", "v6", 0, "v6_icmp", [(0, 1)]),
    # ESN: the receiver's window walks up to the top of the first 2^32 block, then a packet
    # whose high-order bits (1) exist only in the ICV input (RFC 4302 §3.3.3.2).
    ("t4_esn", "SHA2-256-128", "none", 1, "v4_opts_udp",
     [(0, 0x7FFFFFFF), (0, 0xFFFFFFF0), (1, 5)]),
    ("u6_esn", "SHA2-512-256", "v6", 1, "v6_hbh_udp",
     [(0, 0x7FFFFFFF), (0, 0xFFFFFFF0), (1, 5)]),
]


def protect():
    plains = plain_packets()
    for seed, (sa_name, alg, tunnel, esn, plain_name, seqs) in enumerate(PROTECT_CASES):
        key = key_for(alg, seed)
        plain = plains[plain_name]
        plain = plain.__class__(raw(plain))  # resolve every field once
        for hi, seq in seqs:
            sa = SecurityAssociation(AH, spi=SPI, auth_algo=alg, auth_key=key,
                                     tunnel_header=tunnel_header(tunnel),
                                     esn_en=bool(esn), esn=hi)
            protected = sa.encrypt(plain, seq_num=seq)
            print(sa_name, alg, key.hex(), "transport" if tunnel == "none" else "tunnel", esn,
                  raw(plain).hex(), raw(protected).hex())


def check_one(alg, key, tunnel, esn, hi, plain, protected):
    sa = SecurityAssociation(AH, spi=SPI, auth_algo=alg, auth_key=key,
                             tunnel_header=tunnel_header(tunnel), esn_en=bool(esn), esn=hi)
    cls = IP if protected[0] >> 4 == 4 else IPv6
    pkt = cls(protected)
    if not pkt.haslayer(AH):
        return "scapy finds no AH layer"
    try:
        out = sa.decrypt(pkt)
    except IPSecIntegrityError as e:
        return f"ICV rejected by scapy: {e}"
    if raw(out) != plain:
        return f"unprotected packet differs: {raw(out).hex()}"
    tampered = bytearray(protected)
    tampered[-1] ^= 0x01
    try:
        sa.decrypt(cls(bytes(tampered)))
    except IPSecIntegrityError:
        return None
    return "scapy accepted a tampered packet: the oracle checks nothing"


def verify():
    for line in sys.stdin:
        if not line.strip():
            continue
        name, alg, key, tunnel, esn, hi, plain, protected = line.split()
        why = check_one(alg, bytes.fromhex(key), tunnel, int(esn), int(hi),
                        bytes.fromhex(plain), bytes.fromhex(protected))
        print(name, "ok" if why is None else "FAIL " + why)


if __name__ == "__main__":
    {"protect": protect, "verify": verify}[sys.argv[1]]()
