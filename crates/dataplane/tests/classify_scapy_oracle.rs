//! Oracle: scapy builds packets of every kind the classifier distinguishes (TCP, UDP, SCTP,
//! ICMP, ICMPv6, IPv6 extension-header chains, first and later fragments, Mobility Header) and
//! says which protocol and ports RFC 4301 §4.4.1.1 gives each; `packet_selector` must agree.

use rampart_dataplane::classify::packet_selector;
use rampart_policy::{Direction, PortValue};

const SCRIPT: &str = r#"
from scapy.all import *
from scapy.layers.inet6 import *
from scapy.layers.sctp import SCTP
from scapy.layers.mobileip import *
def out(p, proto, sport, dport):
    print(bytes(p).hex(), proto, sport, dport)
a4, b4 = "198.51.100.10", "203.0.113.10"
a6, b6 = "2001:db8:1::10", "2001:db8:2::10"
out(IP(src=a4, dst=b4)/TCP(sport=40000, dport=443), 6, 40000, 443)
out(IP(src=a4, dst=b4)/UDP(sport=5353, dport=53)/b"q", 17, 5353, 53)
out(IP(src=a4, dst=b4)/SCTP(sport=2905, dport=2906), 132, 2905, 2906)
out(IP(src=a4, dst=b4)/ICMP(type=8, code=0), 1, 8*256, "opaque")
out(IP(src=a4, dst=b4)/ICMP(type=3, code=4), 1, 3*256+4, "opaque")
out(IP(src=a4, dst=b4)/GRE()/IP(), 47, "opaque", "opaque")
frags = fragment(IP(src=a4, dst=b4)/UDP(sport=1111, dport=2222)/(b"x"*3000), fragsize=1000)
out(frags[0], 17, 1111, 2222)
out(frags[1], 17, "opaque", "opaque")
out(IPv6(src=a6, dst=b6)/TCP(sport=40001, dport=22), 6, 40001, 22)
out(IPv6(src=a6, dst=b6)/ICMPv6EchoRequest(), 58, 128*256, "opaque")
out(IPv6(src=a6, dst=b6)/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt()/UDP(sport=7, dport=9), 17, 7, 9)
out(IPv6(src=a6, dst=b6)/IPv6ExtHdrRouting(addresses=[b6])/TCP(sport=80, dport=81), 6, 80, 81)
f6 = fragment6(IPv6(src=a6, dst=b6)/IPv6ExtHdrFragment()/UDP(sport=3333, dport=4444)/(b"y"*3000), 1280)
out(f6[0], 17, 3333, 4444)
out(f6[1], 17, "opaque", "opaque")
out(IPv6(src=a6, dst=b6, nh=135)/Raw(bytes([59, 0, 5, 0, 0, 0, 0, 0])), 135, 5*256, "opaque")
"#;

fn port(s: &str) -> PortValue {
    match s {
        "opaque" => PortValue::Opaque,
        n => PortValue::Port(n.parse().expect("port")),
    }
}

#[test]
fn classifier_agrees_with_scapy() {
    let Some(out) = rampart_testkit::python(SCRIPT, "") else {
        return;
    };
    let mut n = 0;
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [hex, proto, sport, dport] = f[..] else {
            panic!("bad oracle line: {line}");
        };
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        let s = packet_selector(&bytes, Direction::Outbound).expect("classifies");
        assert_eq!(s.protocol.0.to_string(), proto, "protocol of {line}");
        assert_eq!(
            (s.local_port, s.remote_port),
            (port(sport), port(dport)),
            "ports of {line}"
        );
        n += 1;
    }
    assert_eq!(n, 15, "every oracle case ran: {out}");
}
