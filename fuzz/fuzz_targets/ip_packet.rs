//! A received IP datagram, walked the way the data plane walks it: IPv4 header and options or
//! IPv6 extension headers and their options, then UDP (with the UDP/4500 classifier), ESP or AH.
//! Nothing may panic, and every view that `new_checked` accepts must have in-bounds accessors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_wire::ip::{AddrPair, IpProtocol, IpVersion};
use rampart_wire::{ah, esp, ipv4, ipv6, natt, udp};

fn upper(proto: IpProtocol, version: IpVersion, addrs: &AddrPair, bytes: &[u8]) {
    match proto {
        IpProtocol::UDP => {
            if let Ok(u) = udp::Packet::new_checked(bytes) {
                let _ = u.verify_checksum(addrs);
                let _ = udp::Repr::parse(&u, addrs);
                if u.dst_port() == 4500 {
                    let _ = natt::classify_udp4500(u.payload());
                }
            }
        }
        IpProtocol::ESP => {
            if let Ok(e) = esp::Packet::new_checked(bytes) {
                let _ = esp::Repr::parse(&e);
                let _ = esp::Trailer::parse(e.payload(), 16);
            }
        }
        IpProtocol::AH => {
            if let Ok(a) = ah::Packet::new_checked(bytes) {
                let _ = a.check_alignment(version);
                let _ = (a.icv(), a.payload());
                let _ = ah::Repr::parse(&a, version);
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    match IpVersion::of_packet(data) {
        Ok(IpVersion::V4) => {
            let Ok(p) = ipv4::Packet::new_checked(data) else {
                return;
            };
            let _ = p.verify_checksum();
            for opt in p.option_iter() {
                if let Ok(o) = opt {
                    let _ = o.ah_mutability();
                }
            }
            let _ = ipv4::Repr::parse(&p);
            let addrs = AddrPair::V4 {
                src: p.src_addr(),
                dst: p.dst_addr(),
            };
            upper(p.protocol(), IpVersion::V4, &addrs, p.payload());
        }
        Ok(IpVersion::V6) => {
            let Ok(p) = ipv6::Packet::new_checked(data) else {
                return;
            };
            for h in p.ext_headers() {
                let Ok(h) = h else { break };
                for o in h.options().flatten() {
                    let _ = o.may_change_en_route();
                }
            }
            let _ = ipv6::Repr::parse(&p);
            let addrs = AddrPair::V6 {
                src: p.src_addr(),
                dst: p.dst_addr(),
            };
            if let Ok(ul) = p.upper_layer() {
                if let Some(rest) =
                    data.get(ul.offset..ipv6::HEADER_LEN + usize::from(p.payload_len()))
                {
                    upper(ul.protocol, IpVersion::V6, &addrs, rest);
                }
            }
        }
        Err(_) => {}
    }
});
