//! The "never plaintext" oracle of the end-to-end tests: a tshark capture on the link between
//! the gateways, started before the daemons and stopped after the traffic, then one tshark pass
//! that sorts every IP frame into IKE (UDP 500, or 4500 behind the RFC 3948 non-ESP marker),
//! ESP in UDP 4500, raw ESP (IP protocol 50) or NAT keepalive — anything else, and any frame
//! that carries one of the hosts' addresses (198.51.100.0/24, 203.0.113.0/24 and the IPv6 LANs)
//! where tshark can read it, fails the test.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rampart_testkit::unavailable;

/// How ESP must travel on the captured link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EspOn {
    /// RFC 3948 ESP in UDP 4500 only.
    Udp,
    /// IP protocol 50 only.
    Raw,
}

/// A running capture (tshark in a namespace, writing a pcap; killed on drop).
pub(crate) struct WireCapture {
    child: Child,
    file: PathBuf,
}

/// What one capture held, frame by frame.
#[derive(Debug, Default)]
pub(crate) struct WireSummary {
    /// IKE on UDP 500.
    pub(crate) ike_500: usize,
    /// IKE on UDP 4500 (after the non-ESP marker).
    pub(crate) ike_4500: usize,
    /// ESP in UDP 4500.
    pub(crate) esp_udp: usize,
    /// Raw ESP.
    pub(crate) esp_raw: usize,
    /// NAT keepalives (RFC 3948 §2.3: one 0xFF byte on 4500).
    pub(crate) keepalive: usize,
    /// The UDP ports ESP-in-UDP frames used (source, destination).
    pub(crate) esp_udp_ports: Vec<(u16, u16)>,
    /// ESP frames by SPI, as tshark prints it (`0x1234abcd`).
    pub(crate) esp_spis: BTreeMap<String, usize>,
    /// Frames that are none of the above (tshark's field line).
    pub(crate) other: Vec<String>,
    /// Frames in which tshark saw a host address.
    pub(crate) clear: Vec<String>,
}

impl WireCapture {
    /// Starts capturing on `dev` in `ns` into `file` and returns once tshark captures. `None`
    /// when tshark is missing (an unavailable oracle: fails under `RAMPART_REQUIRE_ORACLES=1`).
    pub(crate) fn start(ns: &str, dev: &str, file: &Path) -> Option<Self> {
        if Command::new("tshark").arg("-v").output().is_err() {
            return unavailable("tshark", "not installed");
        }
        // 128 bytes a frame keep the IP, UDP and ESP/IKE headers, and the pcap small under iperf.
        let mut child = Command::new("ip")
            .args([
                "netns", "exec", ns, "tshark", "-q", "-s", "128", "-i", dev, "-w",
            ])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tshark starts");
        let stderr = child.stderr.take().expect("stderr was piped");
        let (tx, rx) = mpsc::channel();
        // Drain tshark's stderr for its whole life; say when it captures.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Capturing on") {
                    let _ = tx.send(());
                }
            }
        });
        let started = rx.recv_timeout(Duration::from_secs(15)).is_ok();
        let mut me = Self {
            child,
            file: file.to_path_buf(),
        };
        assert!(started, "tshark did not start capturing on {dev} in {ns}");
        // dumpcap has opened the device; give the ring a moment before traffic starts.
        std::thread::sleep(Duration::from_millis(200));
        me.child_alive();
        Some(me)
    }

    fn child_alive(&mut self) {
        if let Ok(Some(st)) = self.child.try_wait() {
            panic!("tshark exited early: {st}");
        }
    }

    /// Stops the capture (SIGINT, so the pcap is complete) and sorts its frames.
    pub(crate) fn finish(mut self) -> WireSummary {
        // dumpcap writes what the kernel handed it up to now; let the last frames reach it.
        std::thread::sleep(Duration::from_millis(500));
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let _ = self.child.wait();
        self.summarize()
    }

    fn summarize(&self) -> WireSummary {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&self.file)
            .args(["-T", "fields", "-E", "separator=/t"])
            .args(["-e", "frame.number", "-e", "frame.protocols"])
            .args(["-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.length"])
            .args(["-e", "ip.addr", "-e", "ipv6.addr", "-e", "icmpv6.type"])
            .args(["-e", "esp.spi"])
            .stderr(Stdio::null())
            .output()
            .expect("tshark reads the capture");
        assert!(out.status.success(), "tshark -r {:?} failed", self.file);
        let mut s = WireSummary::default();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            s.add(line);
        }
        s
    }
}

impl Drop for WireCapture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `addr` (as tshark prints it) is one of the hosts' (inner) addresses.
fn is_inner(addr: &str) -> bool {
    ["198.51.100.", "203.0.113.", "2001:db8:1:", "2001:db8:2:"]
        .iter()
        .any(|p| addr.starts_with(p))
}

/// Whether an ICMPv6 type is link control: MLD (130-132, 143) or neighbour discovery
/// (133-137, RFC 4861).
fn link_control(icmpv6_type: &str) -> bool {
    icmpv6_type
        .parse::<u8>()
        .is_ok_and(|t| (130..=137).contains(&t) || t == 143)
}

impl WireSummary {
    fn add(&mut self, line: &str) {
        let f: Vec<&str> = line.split('\t').collect();
        let field = |i: usize| f.get(i).copied().unwrap_or("");
        let layers: Vec<&str> = field(1).split(':').collect();
        let has = |l: &str| layers.contains(&l);
        if !has("ip") && !has("ipv6") {
            return; // ARP and the like: not IP between the gateways.
        }
        let addrs: Vec<&str> = field(5)
            .split(',')
            .chain(field(6).split(','))
            .filter(|a| !a.is_empty())
            .collect();
        if addrs.iter().any(|a| is_inner(a)) {
            self.clear.push(line.to_owned());
        }
        let port = |i: usize| field(i).parse::<u16>().ok();
        let ports = (port(2), port(3));
        let on = |p: u16| ports.0 == Some(p) || ports.1 == Some(p);
        if has("esp") {
            *self.esp_spis.entry(field(8).to_owned()).or_default() += 1;
        }
        if has("esp") && has("udp") && on(4500) {
            self.esp_udp += 1;
            if let (Some(a), Some(b)) = ports {
                if !self.esp_udp_ports.contains(&(a, b)) {
                    self.esp_udp_ports.push((a, b));
                }
            }
        } else if has("esp") && !has("udp") {
            self.esp_raw += 1;
        } else if has("isakmp") && on(500) && !has("udpencap") {
            self.ike_500 += 1;
        } else if has("isakmp") && on(4500) && has("udpencap") {
            self.ike_4500 += 1;
        } else if has("udp") && on(4500) && field(4) == "9" {
            self.keepalive += 1;
        } else if has("ipv6") && has("icmpv6") && link_control(field(7)) {
            // Neighbour discovery and MLD on the link: not traffic between the gateways.
        } else {
            self.other.push(line.to_owned());
        }
    }

    /// The one-line account the tests print.
    pub(crate) fn line(&self) -> String {
        format!(
            "IKE/500={} IKE/4500={} ESP-in-UDP={} raw-ESP={} keepalive={} other={} host-addresses-in-clear={}",
            self.ike_500,
            self.ike_4500,
            self.esp_udp,
            self.esp_raw,
            self.keepalive,
            self.other.len(),
            self.clear.len()
        )
    }

    /// Every frame was IKE, keepalive or ESP (on `esp` only), at least `min_esp` were ESP,
    /// the IKE exchanges were seen, and no host address appeared; else what broke the rule.
    pub(crate) fn check(&self, esp: EspOn, min_esp: usize) -> Result<(), String> {
        let show = |v: &[String]| v.iter().take(10).cloned().collect::<Vec<_>>().join("\n");
        let (used, unused) = match esp {
            EspOn::Udp => (self.esp_udp, self.esp_raw),
            EspOn::Raw => (self.esp_raw, self.esp_udp),
        };
        let broken = if !self.clear.is_empty() {
            format!("host addresses in clear:\n{}", show(&self.clear))
        } else if !self.other.is_empty() {
            format!(
                "frames that are neither IKE nor ESP:\n{}",
                show(&self.other)
            )
        } else if unused > 0 {
            format!("ESP other than as {esp:?}")
        } else if used < min_esp {
            format!("fewer than {min_esp} ESP frames as {esp:?}")
        } else if self.ike_500 + self.ike_4500 == 0 {
            "no IKE exchange captured".to_owned()
        } else {
            return Ok(());
        };
        Err(format!("on the wire ({}): {broken}", self.line()))
    }

    /// [`WireSummary::check`], printing the account; panics with what broke the rule.
    pub(crate) fn assert_never_plaintext(&self, esp: EspOn, min_esp: usize) {
        eprintln!("wire: {}", self.line());
        if let Err(e) = self.check(esp, min_esp) {
            panic!("{e}");
        }
    }
}
