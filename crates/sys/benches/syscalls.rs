//! Syscall-cost micro-benchmark on 127.0.0.1 (loopback only): datagrams per second sent with one
//! `sendmsg` each, with `sendmmsg` batches of 32, and with UDP GSO (one `sendmsg` of 32
//! segments). Prints `sys_udp mode=<m> pps=<x> gbps=<y>` per mode; payload 1400 bytes, about
//! one second per mode. The receiver is not drained, so this measures the sending path (the
//! kernel drops what overflows the receive buffer after the send syscall has done its work).
//!
//! Run: `cargo bench -p rampart-sys --bench syscalls`.

use rampart_sys::Transmit;
use rampart_sys::udp::{UdpOptions, UdpSocket};
use std::io;
use std::time::{Duration, Instant};

const PAYLOAD: usize = 1400;
const BATCH: usize = 32;

#[allow(clippy::disallowed_methods)] // a benchmark must read the clock
fn now() -> Instant {
    Instant::now()
}

/// Calls `step` (which sends some datagrams and returns how many) for about a second.
fn measure(mode: &str, mut step: impl FnMut() -> io::Result<usize>) {
    let start = now();
    let mut sent = 0u64;
    while now() - start < Duration::from_secs(1) {
        for _ in 0..64 {
            match step() {
                Ok(n) => sent += n as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{mode}: {e}"),
            }
        }
    }
    let secs = (now() - start).as_secs_f64();
    let pps = sent as f64 / secs;
    let gbps = pps * (PAYLOAD * 8) as f64 / 1e9;
    println!("sys_udp mode={mode} pps={pps:.0} gbps={gbps:.2}");
}

fn main() {
    let lo = "127.0.0.1:0".parse().expect("literal address");
    let rx = UdpSocket::bind(lo, &UdpOptions::default()).expect("bind receiver");
    let tx = UdpSocket::bind(lo, &UdpOptions::default()).expect("bind sender");
    let dst = rx.local_addr();
    let payload = vec![0xabu8; PAYLOAD];
    let one = Transmit::new(dst, &payload);
    measure("send", || tx.send(&one).map(|_| 1));

    let batch = vec![one; BATCH];
    measure("sendmmsg32", || tx.send_batch(&batch));

    if tx.gso_supported() {
        let big = vec![0xabu8; PAYLOAD * BATCH];
        let gso = Transmit {
            segment_size: Some(PAYLOAD as u16),
            ..Transmit::new(dst, &big)
        };
        measure("gso32", || tx.send(&gso).map(|n| n / PAYLOAD));
    } else {
        println!("sys_udp mode=gso32 unsupported");
    }
}
