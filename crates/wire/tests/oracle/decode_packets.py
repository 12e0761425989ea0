#!/usr/bin/env python3
"""Oracle for rampart-wire: reads `name hex` lines (bytes our emitters wrote) on stdin and prints,
per line, `name key=value key=value ...` with the fields scapy decodes. Checksums are reported
together with whether scapy's own recomputation agrees (`*_ok=1`).

Exit status 3 means scapy is missing.
"""
import sys

try:
    from scapy.all import IP, IPv6, UDP, Raw, raw
    from scapy.layers.inet6 import IPv6ExtHdrFragment
    from scapy.layers.ipsec import ESP, AH
except ImportError as e:
    print(f"scapy unavailable: {e}", file=sys.stderr)
    sys.exit(3)


def checksum_ok(pkt, layer):
    """Whether scapy, recomputing `layer`'s checksum, gets what the bytes carry."""
    clone = pkt.__class__(raw(pkt))
    want = clone[layer].chksum
    del clone[layer].chksum
    if layer is UDP and want == 0 and IP in clone:
        return 1  # "no checksum" over IPv4 (RFC 768)
    return int(clone.__class__(raw(clone))[layer].chksum == want)


def fields(pkt):
    f = {}
    if IP in pkt:
        ip = pkt[IP]
        f.update(version=ip.version, ihl=ip.ihl, tos=ip.tos, len=ip.len, id=ip.id,
                 flags=int(ip.flags), frag=ip.frag, ttl=ip.ttl, proto=ip.proto,
                 src=ip.src, dst=ip.dst, ip_chksum_ok=checksum_ok(pkt, IP))
    if IPv6 in pkt:
        ip6 = pkt[IPv6]
        f.update(version=ip6.version, tc=ip6.tc, fl=ip6.fl, plen=ip6.plen, nh=ip6.nh,
                 hlim=ip6.hlim, src=ip6.src, dst=ip6.dst)
    if IPv6ExtHdrFragment in pkt:
        fr = pkt[IPv6ExtHdrFragment]
        f.update(frag_nh=fr.nh, frag_offset=fr.offset, frag_m=fr.m, frag_id=fr.id)
    if AH in pkt:
        ah = pkt[AH]
        f.update(ah_nh=ah.nh, ah_payloadlen=ah.payloadlen, ah_reserved=ah.reserved,
                 ah_spi=ah.spi, ah_seq=ah.seq, ah_icv=bytes(ah.icv).hex())
    if ESP in pkt:
        esp = pkt[ESP]
        f.update(esp_spi=esp.spi, esp_seq=esp.seq, esp_data=bytes(esp.data).hex())
    if UDP in pkt:
        udp = pkt[UDP]
        f.update(sport=udp.sport, dport=udp.dport, udp_len=udp.len, udp_chksum=udp.chksum,
                 udp_chksum_ok=checksum_ok(pkt, UDP))
    keepalive = pkt.getlayer("NAT_KEEPALIVE")  # scapy's own RFC 3948 §2.3 dissector
    if keepalive is not None:
        f.update(nat_keepalive=keepalive.nat_keepalive)
    if Raw in pkt:
        f.update(load=bytes(pkt[Raw].load).hex())
    return f


for line in sys.stdin:
    name, data = line.split()
    data = bytes.fromhex(data)
    pkt = IP(data) if data[0] >> 4 == 4 else IPv6(data)
    print(name, " ".join(f"{k}={v}" for k, v in fields(pkt).items()))
