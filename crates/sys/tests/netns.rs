//! Root-only integration tests of `rampart-sys` against the real kernel, inside network
//! namespaces made for the test (a veth pair, documentation addresses only: 192.0.2.0/24,
//! 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
//!
//! They run only with `RAMPART_NETNS_TESTS=1` (and root); otherwise each prints a warning and
//! passes. Every test makes its own pair `rsys-<pid>-<n>-{a,b}` and a guard deletes both on drop,
//! also when the test fails. `iproute2` checks what our netlink requests did.

use rampart_sys::gso::Segments;
use rampart_sys::netlink::Netlink;
use rampart_sys::netns;
use rampart_sys::poll::{Interest, Poller};
use rampart_sys::raw::RawEspSocket;
use rampart_sys::rtnl::{LinkChange, Prefix, Route, Rule};
use rampart_sys::tun::{Tun, TunOptions};
use rampart_sys::udp::{UdpOptions, UdpSocket};
use rampart_sys::vnet::{GsoType, VnetHdr};
use rampart_sys::{BATCH_MAX, RecvMeta, Transmit};
use rampart_wire::checksum;
use rampart_wire::ip::IpProtocol;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Two namespaces joined by a veth pair; deleted on drop.
struct Pair {
    a: String,
    b: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Pair {
    /// `None` (with a warning) unless `RAMPART_NETNS_TESTS=1`.
    fn new() -> Option<Self> {
        if std::env::var("RAMPART_NETNS_TESTS").as_deref() != Ok("1") {
            eprintln!(
                "warning: skipping network-namespace test (set RAMPART_NETNS_TESTS=1, as root)"
            );
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = format!("rsys-{}-{n}", std::process::id());
        let pair = Self {
            a: format!("{base}-a"),
            b: format!("{base}-b"),
        };
        ip(&["netns", "add", &pair.a]);
        ip(&["netns", "add", &pair.b]);
        ip(&[
            "-n", &pair.a, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
            "netns", &pair.b,
        ]);
        for (ns, dev, v4, v6) in [
            (&pair.a, "veth0", "192.0.2.1/24", "2001:db8::1/64"),
            (&pair.b, "veth1", "192.0.2.2/24", "2001:db8::2/64"),
        ] {
            ip(&["-n", ns, "addr", "add", v4, "dev", dev]);
            ip(&["-n", ns, "addr", "add", v6, "dev", dev, "nodad"]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        Some(pair)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("literal socket address")
}

/// Waits until `fd` is readable (5 s at most).
fn wait_readable(fd: &impl AsRawFd) {
    let mut poller = Poller::new(4).expect("epoll");
    poller.add(fd, 1, Interest::READABLE).expect("epoll add");
    let ready = poller
        .wait(Some(Duration::from_secs(5)))
        .expect("epoll wait")
        .count();
    assert_eq!(ready, 1, "nothing arrived within 5 s");
}

/// Creates a TUN device in `ns`, configured over our netlink code: up, MTU 1400, address
/// 198.51.100.1/32, route 203.0.113.0/24 and 2001:db8:5::/64 into it.
fn tun_in(ns: &str, opts: TunOptions) -> Tun {
    netns::run_in(ns, move || {
        let tun = Tun::open("rsys-tun0", &opts).expect("open TUN");
        let idx = tun.ifindex().expect("ifindex");
        let mut nl = Netlink::open().expect("netlink");
        nl.set_link(
            idx,
            &LinkChange {
                up: Some(true),
                mtu: Some(1400),
            },
        )
        .expect("link up, mtu");
        let addr = Prefix::new("198.51.100.1".parse().expect("literal"), 32).expect("prefix");
        nl.add_addr(idx, addr).expect("add address");
        for (dst, len) in [("203.0.113.0", 24), ("2001:db8:5::", 64)] {
            let p = Prefix::new(dst.parse().expect("literal"), len).expect("prefix");
            nl.add_route(&Route::device(p, idx)).expect("add route");
        }
        tun
    })
    .expect("enter namespace")
}

const PING: &str = r"
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.bind(('198.51.100.1', 0))
s.settimeout(5)
body = struct.pack('!HH', 0x4242, 1) + b'rampart!'
s.sendto(struct.pack('!BBH', 8, 0, csum(b'\x08\x00\x00\x00' + body)) + body, ('203.0.113.5', 0))
while True:
    data, addr = s.recvfrom(2000)
    if addr[0] == '203.0.113.5' and data[20] == 0 and data[24:] == body:
        sys.exit(0)
";

#[test]
fn tun_netlink_config_and_ping() {
    let Some(pair) = Pair::new() else { return };
    let tun = tun_in(&pair.a, TunOptions::default());
    // iproute2 is the oracle for what the netlink requests did.
    let link = ip(&["-n", &pair.a, "addr", "show", "dev", "rsys-tun0"]);
    assert!(
        link.contains("mtu 1400") && link.contains(",UP") && link.contains("198.51.100.1/32"),
        "{link}"
    );
    let routes = ip(&["-n", &pair.a, "route", "show", "203.0.113.0/24"]);
    assert!(
        routes.contains("dev rsys-tun0 proto static scope link"),
        "{routes}"
    );
    let routes6 = ip(&["-n", &pair.a, "-6", "route", "show", "2001:db8:5::/64"]);
    assert!(routes6.contains("dev rsys-tun0 proto static"), "{routes6}");

    // One ICMP echo from 198.51.100.1 to 203.0.113.5 (iputils ping is not installed everywhere;
    // python's raw socket does the same and exits 0 only when the echo reply comes back).
    let mut ping = Command::new("ip")
        .args(["netns", "exec", &pair.a, "python3", "-c", PING])
        .spawn()
        .expect("spawn python3 pinger");
    let mut buf = [0u8; 2000];
    // Skip what the kernel itself sends on a new link (IPv6 router solicitations, MLD).
    let n = loop {
        wait_readable(&tun);
        let n = tun.read(&mut buf).expect("read TUN");
        if buf[0] >> 4 == 4 {
            break n;
        }
    };
    let pkt = &mut buf[..n];
    assert_eq!(pkt[9], 1, "ICMP");
    assert_eq!(&pkt[12..16], &[198, 51, 100, 1]);
    assert_eq!(&pkt[16..20], &[203, 0, 113, 5]);
    assert_eq!(pkt[20], 8, "echo request");
    // Answer it through the TUN device: swap addresses, echo reply, fix both checksums.
    let (src, dst) = (
        <[u8; 4]>::try_from(&pkt[12..16]).expect("4 bytes"),
        <[u8; 4]>::try_from(&pkt[16..20]).expect("4 bytes"),
    );
    pkt[12..16].copy_from_slice(&dst);
    pkt[16..20].copy_from_slice(&src);
    pkt[10..12].fill(0);
    let sum = checksum::checksum(&pkt[..20]);
    pkt[10..12].copy_from_slice(&sum.to_be_bytes());
    pkt[20] = 0;
    pkt[22..24].fill(0);
    let sum = checksum::checksum(&pkt[20..]);
    pkt[22..24].copy_from_slice(&sum.to_be_bytes());
    tun.write_packet(pkt).expect("write reply");
    let status = ping.wait().expect("wait ping");
    assert!(
        status.success(),
        "no echo reply came back through the TUN device"
    );

    // Delete one route again over netlink.
    let removed = netns::run_in(&pair.a, || {
        let idx = rampart_sys::if_index("rsys-tun0").expect("ifindex");
        let p = Prefix::new("203.0.113.0".parse().expect("literal"), 24).expect("prefix");
        Netlink::open().and_then(|mut nl| nl.del_route(&Route::device(p, idx)))
    })
    .expect("enter namespace");
    removed.expect("delete route");
    assert_eq!(
        ip(&["-n", &pair.a, "route", "show", "203.0.113.0/24"]).trim(),
        ""
    );
}

/// A UDP GSO send routed into a TUN device with USO on arrives as one super-packet (or, on
/// kernels without USO, already cut); either way it comes out as four checksummed datagrams.
#[test]
fn tun_vnet_header_udp_super_packet() {
    let Some(pair) = Pair::new() else { return };
    let tun = tun_in(
        &pair.a,
        TunOptions {
            vnet_hdr: true,
            ..TunOptions::default()
        },
    );
    let mode = tun.vnet().expect("vnet mode");
    let tx = netns::run_in(&pair.a, || {
        UdpSocket::bind(sa("198.51.100.1:0"), &UdpOptions::default())
    })
    .expect("enter namespace")
    .expect("bind");
    assert!(tx.gso_supported());
    let payload: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
    let t = Transmit {
        segment_size: Some(1000),
        ..Transmit::new(sa("203.0.113.5:9"), &payload)
    };
    tx.send(&t).expect("GSO send");

    let mut got = Vec::new();
    let mut supers = 0;
    let mut buf = vec![0u8; 65536 + VnetHdr::LEN];
    let mut seg = [0u8; 2000];
    while got.len() < 4 {
        wait_readable(&tun);
        let n = tun.read(&mut buf).expect("read TUN");
        let (hdr, pkt) = VnetHdr::parse(&buf[..n]).expect("vnet header");
        if hdr.gso_type == GsoType::UdpL4 {
            supers += 1;
        }
        let mut segs = Segments::new(&hdr, pkt).expect("valid offload packet");
        while let Some(len) = segs.next_into(&mut seg) {
            let d = &seg[..len.expect("segment fits")];
            // Skip what the kernel itself sends on a new link (IPv6 RS, MLD).
            if d[0] >> 4 == 4 {
                got.push(d.to_vec());
            }
        }
    }
    assert!(!mode.uso || supers == 1, "USO on but no super-packet");
    eprintln!("vnet mode {mode:?}, super-packets seen: {supers}");
    let mut joined = Vec::new();
    for d in &got {
        assert_eq!(
            checksum::Checksum::new().add_bytes(&d[..20]).folded(),
            0xffff,
            "IPv4 header checksum"
        );
        let udp = &d[20..];
        assert_eq!(usize::from(u16::from_be_bytes([udp[4], udp[5]])), udp.len());
        let pseudo = checksum::pseudo_header_v4(
            [198, 51, 100, 1].into(),
            [203, 0, 113, 5].into(),
            IpProtocol::UDP,
            udp.len() as u16,
        );
        assert_eq!(
            {
                let mut sum = pseudo;
                sum.add_bytes(udp).folded()
            },
            0xffff,
            "UDP checksum"
        );
        joined.extend_from_slice(&udp[8..]);
    }
    assert_eq!(joined, payload);
}

fn udp_round_trip(pair: &Pair, a: &str, b_any: &str, b_addr: &str) {
    let a_addr: IpAddr = a.parse().expect("literal");
    let tx = netns::run_in(&pair.a, {
        let bind = SocketAddr::new(a_addr, 0);
        move || UdpSocket::bind(bind, &UdpOptions::default())
    })
    .expect("enter namespace")
    .expect("bind a");
    let rx = netns::run_in(&pair.b, {
        let bind = sa(b_any);
        move || {
            UdpSocket::bind(
                bind,
                &UdpOptions {
                    reuse_port: true,
                    ..UdpOptions::default()
                },
            )
        }
    })
    .expect("enter namespace")
    .expect("bind b");
    let b_ip: IpAddr = b_addr.parse().expect("literal");
    let dst = SocketAddr::new(b_ip, rx.local_addr().port());
    let payloads: Vec<Vec<u8>> = (0..16u8).map(|i| vec![i; 64 + usize::from(i)]).collect();
    let pkts: Vec<Transmit<'_>> = payloads
        .iter()
        .map(|p| Transmit {
            src: Some(a_addr),
            ..Transmit::new(dst, p)
        })
        .collect();
    assert_eq!(tx.send_batch(&pkts).expect("sendmmsg"), 16);

    let mut storage = vec![[0u8; 1500]; BATCH_MAX];
    let mut meta = [RecvMeta::default(); BATCH_MAX];
    let mut got = 0;
    let mut reply_to = None;
    while got < 16 {
        wait_readable(&rx);
        let mut bufs: Vec<&mut [u8]> = storage.iter_mut().map(|b| &mut b[..]).collect();
        let n = rx.recv_batch(&mut meta, &mut bufs).expect("recvmmsg");
        for (m, buf) in meta[..n].iter().zip(&bufs) {
            assert_eq!(&buf[..m.len], &payloads[got][..]);
            assert_eq!(m.src, tx.local_addr());
            assert_eq!(m.dst, Some(b_ip), "PKTINFO destination");
            assert!(m.ifindex > 0);
            reply_to = Some((m.src, m.dst));
            got += 1;
        }
    }
    // Reply from the address the request came to.
    let (to, from) = reply_to.expect("received something");
    rx.send(&Transmit {
        src: from,
        ..Transmit::new(to, b"reply")
    })
    .expect("reply");
    wait_readable(&tx);
    let mut buf = [0u8; 64];
    let mut bufs: [&mut [u8]; 1] = [&mut buf];
    assert_eq!(
        tx.recv_batch(&mut meta[..1], &mut bufs)
            .expect("recv reply"),
        1
    );
    assert_eq!(meta[0].src, dst);
    assert_eq!(&buf[..meta[0].len], b"reply");
}

#[test]
fn udp_batches_with_pktinfo_v4_and_v6() {
    let Some(pair) = Pair::new() else { return };
    udp_round_trip(&pair, "192.0.2.1", "0.0.0.0:4500", "192.0.2.2");
    udp_round_trip(&pair, "2001:db8::1", "[::]:4500", "2001:db8::2");
}

/// Receives datagrams on `rx` until `want` payload bytes came, splitting GRO trains; returns
/// them and the largest single read.
fn recv_datagrams(rx: &UdpSocket, want: usize) -> (Vec<Vec<u8>>, usize) {
    let mut storage = vec![0u8; 65536];
    let mut meta = [RecvMeta::default(); 1];
    let (mut got, mut total, mut largest) = (Vec::new(), 0, 0);
    while total < want {
        wait_readable(rx);
        let mut bufs: [&mut [u8]; 1] = [&mut storage];
        let n = rx.recv_batch(&mut meta, &mut bufs).expect("recvmmsg");
        assert_eq!(n, 1);
        largest = largest.max(meta[0].len);
        let step = meta[0].segment_size.unwrap_or(meta[0].len);
        for d in storage[..meta[0].len].chunks(step) {
            total += d.len();
            got.push(d.to_vec());
        }
    }
    (got, largest)
}

/// A GSO train gathered from separate buffers (what the data plane sends per super-packet)
/// crosses a veth as the same datagrams: a receiver without GRO reads them one by one, each
/// of its own size (the kernel cut them), one with GRO reads trains it splits back.
#[test]
fn udp_gso_segments_over_veth_with_and_without_gro() {
    let Some(pair) = Pair::new() else { return };
    let tx = netns::run_in(&pair.a, || {
        UdpSocket::bind(sa("192.0.2.1:0"), &UdpOptions::default())
    })
    .expect("enter namespace")
    .expect("bind a");
    let bind_b = |gro: bool| {
        netns::run_in(&pair.b, move || {
            let opts = UdpOptions {
                gro,
                buffer_bytes: Some(1 << 20),
                ..UdpOptions::default()
            };
            UdpSocket::bind(sa("192.0.2.2:0"), &opts)
        })
        .expect("enter namespace")
        .expect("bind b")
    };
    let (plain, gro) = (bind_b(false), bind_b(true));
    assert!(tx.gso_supported(), "kernel without UDP GSO");
    let segs: Vec<Vec<u8>> = (0..40u8)
        .map(|i| vec![i; if i == 39 { 77 } else { 1400 }])
        .collect();
    let parts: Vec<&[u8]> = segs.iter().map(Vec::as_slice).collect();
    let want: usize = segs.iter().map(Vec::len).sum();
    let src = Some("192.0.2.1".parse().expect("literal"));
    for rx in [&plain, &gro] {
        let sent = tx
            .send_segments(rx.local_addr(), src, &parts)
            .expect("GSO send");
        assert_eq!(sent, 40);
    }
    let (got, largest) = recv_datagrams(&plain, want);
    assert_eq!(got, segs, "one datagram per segment, in order");
    assert_eq!(largest, 1400, "no read larger than a segment without GRO");
    let (got, _) = recv_datagrams(&gro, want);
    assert_eq!(got, segs, "GRO trains split back into the segments");
}

#[test]
fn raw_esp_v4_and_v6() {
    let Some(pair) = Pair::new() else { return };
    let (tx4, tx6) = netns::run_in(&pair.a, || {
        (RawEspSocket::open_v4(None), RawEspSocket::open_v6(None))
    })
    .expect("enter namespace");
    let (rx4, rx6) = netns::run_in(&pair.b, || {
        (
            RawEspSocket::open_v4(Some(Ipv4Addr::new(192, 0, 2, 2))),
            RawEspSocket::open_v6(None),
        )
    })
    .expect("enter namespace");
    let (tx4, tx6, rx4, rx6) = (
        tx4.expect("raw v4"),
        tx6.expect("raw v6"),
        rx4.expect("raw v4"),
        rx6.expect("raw v6"),
    );
    // ESP (RFC 4303 §2): SPI, sequence number, then opaque payload.
    let mut esp = vec![0, 0, 0x12, 0x34, 0, 0, 0, 1];
    esp.extend((0..40u8).map(|i| i ^ 0x5a));
    // The full outer IPv4 header goes out as built (IP_HDRINCL).
    let mut pkt = vec![
        0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 50, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ];
    let total = (20 + esp.len()) as u16;
    pkt[2..4].copy_from_slice(&total.to_be_bytes());
    let sum = checksum::checksum(&pkt);
    pkt[10..12].copy_from_slice(&sum.to_be_bytes());
    pkt.extend_from_slice(&esp);
    assert_eq!(
        tx4.send_batch(&[Transmit::new(sa("192.0.2.2:0"), &pkt)])
            .expect("send v4"),
        1
    );
    wait_readable(&rx4);
    let mut buf = [0u8; 1500];
    let mut meta = [RecvMeta::default(); 1];
    let n = rx4
        .recv_batch(&mut meta, &mut [&mut buf[..]])
        .expect("recv v4");
    assert_eq!(n, 1);
    let got = &buf[..meta[0].len];
    assert_eq!(
        &got[..20],
        &pkt[..20],
        "IPv4 header as sent (ID, TTL, addresses)"
    );
    assert_eq!(&got[20..], &esp[..]);
    assert_eq!(meta[0].dst, Some("192.0.2.2".parse().expect("literal")));

    // The full outer IPv6 header goes out as built too (IPV6_HDRINCL): RFC 8200 §3, traffic
    // class 0xb8, payload length, Next Header 50, hop limit 64, 2001:db8::1 -> 2001:db8::2.
    let src6: IpAddr = "2001:db8::1".parse().expect("literal");
    let mut pkt6 = vec![0x6b, 0x80, 0, 0, 0, 0, 50, 64];
    pkt6[4..6].copy_from_slice(&(esp.len() as u16).to_be_bytes());
    pkt6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    pkt6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    pkt6.extend_from_slice(&esp);
    let t = Transmit::new(sa("[2001:db8::2]:0"), &pkt6);
    assert_eq!(tx6.send_batch(&[t]).expect("send v6"), 1);
    wait_readable(&rx6);
    let n = rx6
        .recv_batch(&mut meta, &mut [&mut buf[..]])
        .expect("recv v6");
    assert_eq!(n, 1);
    assert_eq!(
        &buf[..meta[0].len],
        &esp[..],
        "IPv6 raw receive is ESP only"
    );
    assert_eq!(meta[0].src.ip(), src6);
    assert_eq!(meta[0].dst, Some("2001:db8::2".parse().expect("literal")));
}

/// A TCP stream routed into a TUN device with TSO on: after a hand-made SYN-ACK (MSS 1360) the
/// kernel sends its first window as a TSO super-packet, which cuts into checksummed segments
/// whose payload is the stream in order.
#[test]
fn tun_vnet_header_tcp_super_packet() {
    let Some(pair) = Pair::new() else { return };
    let tun = tun_in(
        &pair.a,
        TunOptions {
            vnet_hdr: true,
            ..TunOptions::default()
        },
    );
    let data: Vec<u8> = (0..30_000u32).map(|i| (i % 253) as u8).collect();
    let to_send = data.clone();
    // Threads inherit the namespace of the thread that spawns them.
    let client = netns::run_in(&pair.a, move || {
        std::thread::spawn(move || {
            use std::io::Write;
            let mut s = std::net::TcpStream::connect(sa("203.0.113.5:80")).expect("connect");
            let n = s.write(&to_send).expect("write");
            (s, n)
        })
    })
    .expect("enter namespace");

    let mut buf = vec![0u8; 65536 + VnetHdr::LEN];
    let mut seg = [0u8; 2000];
    let mut next_seq = None;
    let mut stream = Vec::new();
    let mut supers = 0;
    while stream.len() < 10 * 1360 {
        wait_readable(&tun);
        let n = tun.read(&mut buf).expect("read TUN");
        let (hdr, pkt) = VnetHdr::parse(&buf[..n]).expect("vnet header");
        if pkt.first().map(|b| b >> 4) != Some(4) || pkt.get(9) != Some(&6) {
            continue; // IPv6 RS/MLD from the kernel
        }
        if hdr.gso_type == GsoType::TcpV4 {
            assert_eq!(hdr.gso_size, 1360, "MSS from our SYN-ACK");
            supers += 1;
        }
        let mut segs = Segments::new(&hdr, pkt).expect("valid offload packet");
        while let Some(len) = segs.next_into(&mut seg) {
            let d = &seg[..len.expect("segment fits")];
            assert!(d.len() <= 1400, "segment fits the TUN MTU");
            assert_eq!(
                checksum::Checksum::new().add_bytes(&d[..20]).folded(),
                0xffff,
                "IPv4 header checksum"
            );
            let tcp = &d[20..];
            let src = Ipv4Addr::new(d[12], d[13], d[14], d[15]);
            let pseudo = checksum::pseudo_header_v4(
                src,
                [203, 0, 113, 5].into(),
                IpProtocol::TCP,
                tcp.len() as u16,
            );
            assert_eq!(
                {
                    let mut sum = pseudo;
                    sum.add_bytes(tcp).folded()
                },
                0xffff,
                "TCP checksum"
            );
            let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
            let payload = &tcp[usize::from(tcp[12] >> 4) * 4..];
            if tcp[13] & 0x02 != 0 {
                // The SYN: answer it.
                next_seq = Some(seq.wrapping_add(1));
                tun.write_packet(&syn_ack(d)).expect("write SYN-ACK");
            } else if !payload.is_empty() {
                assert_eq!(Some(seq), next_seq, "segments in sequence");
                next_seq = Some(seq.wrapping_add(payload.len() as u32));
                stream.extend_from_slice(payload);
            }
        }
    }
    assert!(supers >= 1, "TSO on but no super-packet");
    assert_eq!(stream, data[..stream.len()]);
    let (_socket, written) = client.join().expect("client thread");
    assert!(written >= stream.len());
}

/// A SYN-ACK answering the IPv4 SYN `syn`, with an MSS option of 1360.
fn syn_ack(syn: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0];
    p.extend_from_slice(&syn[16..20]);
    p.extend_from_slice(&syn[12..16]);
    let sum = checksum::checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    let tcp = &syn[20..];
    let ack = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]).wrapping_add(1);
    let mut t = vec![0, 80, tcp[0], tcp[1], 0, 0, 0x03, 0xe8];
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[6 << 4, 0x12, 0xff, 0xff, 0, 0, 0, 0, 2, 4, 0x05, 0x50]);
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    let sum = checksum::pseudo_header_v4(src, dst, IpProtocol::TCP, 24)
        .add_bytes(&t)
        .finish();
    t[16..18].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&t);
    p
}

/// `ip rule add not fwmark M lookup T` through our netlink code, as `ip rule` shows it, and what
/// it does: an unmarked lookup of the peer goes through table T (the TUN device), a marked one
/// (the daemon's own sockets) through the main table (the veth); deleting restores the main one.
#[test]
fn fwmark_rule_splits_marked_traffic() {
    let Some(pair) = Pair::new() else { return };
    let tun = tun_in(&pair.a, TunOptions::default());
    let (tun, idx) = netns::run_in(&pair.a, move || {
        let idx = tun.ifindex().expect("ifindex");
        (tun, idx)
    })
    .expect("enter namespace");
    let rules = [false, true].map(|ipv6| Rule {
        ipv6,
        fwmark: Some(0x7270),
        ip_proto: None,
        sport: None,
        invert: true,
        table: 7270,
        priority: 32700,
    });
    let routes = [("192.0.2.2", 32), ("2001:db8::2", 128)].map(|(a, l)| Route {
        table: 7270,
        ..Route::device(
            Prefix::new(a.parse().expect("literal"), l).expect("prefix"),
            idx,
        )
    });
    netns::run_in(&pair.a, move || {
        let mut nl = Netlink::open().expect("netlink");
        for (rule, route) in rules.iter().zip(&routes) {
            nl.add_route(route).expect("route in table 7270");
            nl.add_rule(rule).expect("add rule");
            let again = nl.add_rule(rule).expect_err("an equal rule is refused");
            assert_eq!(again.raw_os_error(), Some(libc::EEXIST));
        }
    })
    .expect("enter namespace");
    let a = pair.a.as_str();
    for fam in ["-4", "-6"] {
        let shown = ip(&["-n", a, fam, "rule", "show"]);
        assert!(
            shown.contains("32700:\tnot from all fwmark 0x7270 lookup 7270"),
            "{shown}"
        );
    }
    for peer in ["192.0.2.2", "2001:db8::2"] {
        let plain = ip(&["-n", a, "route", "get", peer]);
        assert!(plain.contains("dev rsys-tun0"), "unmarked: {plain}");
        let marked = ip(&["-n", a, "route", "get", peer, "mark", "0x7270"]);
        assert!(marked.contains("dev veth0"), "marked: {marked}");
    }
    // Strict reverse-path filtering drops what the peer sends on the link, as its address is
    // routed into the TUN device; a protocol-and-port rule keeping UDP port 500 in the main
    // table lets IKE pass (the kernel's input lookup with the packet's ports answers `ip route
    // get ... iif`).
    for dev in ["all", "veth0"] {
        let kv = format!("net.ipv4.conf.{dev}.rp_filter=1");
        ip(&["netns", "exec", a, "sysctl", "-qw", &kv]);
    }
    // A UDP packet from the peer's port `from` to our port `to`.
    let input = |from: &str, to: &str| {
        Command::new("ip")
            .args(["-n", a, "route", "get", "192.0.2.1", "from", "192.0.2.2"])
            .args(["iif", "veth0", "ipproto", "udp", "sport", from, "dport", to])
            .output()
            .expect("run ip")
            .status
            .success()
    };
    assert!(
        !input("600", "500"),
        "strict: the peer routes into the TUN device"
    );
    let ike = Rule {
        ipv6: false,
        fwmark: None,
        ip_proto: Some(17),
        sport: Some(500),
        invert: false,
        table: rampart_sys::rtnl::TABLE_MAIN,
        priority: 32690,
    };
    netns::run_in(&pair.a, move || {
        let mut nl = Netlink::open().expect("netlink");
        nl.add_rule(&ike).expect("add the IKE rule");
    })
    .expect("enter namespace");
    let shown = ip(&["-n", a, "rule", "show"]);
    assert!(
        shown.contains("32690:\tfrom all ipproto udp sport 500 lookup main"),
        "{shown}"
    );
    // The reverse lookup swaps the ports: `sport 500` is the port the packet came to.
    assert!(input("600", "500"), "IKE to port 500 passes the check");
    assert!(
        !input("500", "600"),
        "from port 500 to another port does not"
    );
    netns::run_in(&pair.a, move || {
        let mut nl = Netlink::open().expect("netlink");
        for rule in rules.iter().chain([&ike]) {
            nl.del_rule(rule).expect("delete rule");
        }
    })
    .expect("enter namespace");
    let plain = ip(&["-n", a, "route", "get", "192.0.2.2"]);
    assert!(plain.contains("dev veth0"), "rule gone: {plain}");
    drop(tun);
}
