#!/usr/bin/env python3
"""Oracle for rampart-wire: scapy builds packets, this prints `name hex` per line.

Exit status 3 means scapy is missing (the Rust test then skips or fails per
RAMPART_REQUIRE_ORACLES). The field values here are mirrored by the asserts in
../scapy_oracle.rs; checksums, lengths and padding are left for scapy to compute.
"""
import sys

try:
    from scapy.all import IP, IPv6, UDP, Raw, raw
    from scapy.layers.inet import IPOption_NOP, IPOption_Router_Alert, IPOption_RR
    from scapy.layers.inet6 import (IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                                    IPv6ExtHdrFragment, RouterAlert, HBHOptUnknown)
    from scapy.layers.ipsec import ESP, SecurityAssociation, AH
except ImportError as e:
    print(f"scapy unavailable: {e}", file=sys.stderr)
    sys.exit(3)

V4 = dict(src="192.0.2.1", dst="198.51.100.2")
V6 = dict(src="2001:db8::1", dst="2001:db8::2")


def out(name, pkt):
    print(name, raw(pkt).hex())


out("ipv4_options_udp",
    IP(tos=(46 << 2) | 1, id=0x4242, flags="DF", ttl=33, **V4,
       options=[IPOption_NOP(), IPOption_Router_Alert(),
                IPOption_RR(routers=["10.0.0.1"])])
    / UDP(sport=4500, dport=4501) / Raw(b"hello oracle"))

out("ipv6_ext_udp",
    IPv6(tc=0x2c, fl=0x12345, hlim=7, **V6)
    / IPv6ExtHdrHopByHop(options=[RouterAlert()])
    / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e, optdata=b"\x01\x02\x03\x04")])
    / IPv6ExtHdrFragment(id=0xabcdef, m=1, offset=0)
    / UDP(sport=500, dport=500) / Raw(b"ike!"))

out("ipv4_esp", IP(ttl=64, **V4) / ESP(spi=0x11223344, seq=7, data=b"\xaa" * 24))

sa4 = SecurityAssociation(AH, spi=0xdeadbeef, auth_algo="SHA2-256-128", auth_key=b"k" * 32)
ah4 = sa4.encrypt(IP(**V4) / UDP(sport=1, dport=2) / Raw(b"x" * 5), seq_num=9)
out("ipv4_ah", ah4)

sa6 = SecurityAssociation(AH, spi=0x01020304, auth_algo="SHA2-256-128", auth_key=b"k" * 32)
ah6 = sa6.encrypt(IPv6(**V6) / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e, optdata=b"\x09" * 4)])
                  / UDP(sport=1, dport=2) / Raw(b"y" * 3), seq_num=10)
out("ipv6_ah", ah6)

out("natt_keepalive", IP(**V4) / UDP(sport=4500, dport=4500) / Raw(b"\xff"))

sa_nat = SecurityAssociation(ESP, spi=0x0a0b0c0d, crypt_algo="AES-CBC", crypt_key=b"K" * 16,
                             auth_algo="HMAC-SHA1-96", auth_key=b"a" * 20,
                             nat_t_header=UDP(sport=4500, dport=4500))
out("natt_esp", sa_nat.encrypt(IP(**V4) / UDP(sport=7, dport=7) / Raw(b"z" * 10), seq_num=3))

ike_header = bytes(range(1, 17)) + bytes([0x21, 0x20, 0x22, 0x08]) + b"\0\0\0\0" + (28).to_bytes(4, "big")
out("natt_ike", IP(**V4) / UDP(sport=4500, dport=4500) / Raw(b"\0\0\0\0" + ike_header))
