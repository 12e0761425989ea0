//! Whole IKEv2 messages: the header plus the payload chain (RFC 7296 §3.1, §3.2, §2.5).
//!
//! [`Message::parse`] checks the header, then walks the generic payload headers: each names the
//! type of the next payload, has a critical bit, and a length of at least 4 that must stay
//! inside the message. Unknown payload types are skipped (kept as [`Payload::Unknown`]) unless
//! critical, which fails with [`Error::UnknownCriticalPayload`] so the engine can answer
//! UNSUPPORTED_CRITICAL_PAYLOAD. SK and SKF must be the last payload; their body stays raw until
//! the engine decrypts it and calls [`parse_payload_chain`] on the plaintext.
//!
//! Emission computes every length and Next Payload link. For an encrypted message the engine
//! emits the message with the SK body's ICV bytes present (e.g. zeroed), computes the ICV over
//! everything before them, and writes it into the last ICV-length bytes of the output.

use super::header::{HEADER_LEN, IkeFlags, IkeHeader, IkeHeaderRepr};
use super::iana::{ExchangeType, PayloadType};
use super::payload::{CRITICAL, GENERIC_HEADER_LEN, Payload, UnknownPayload};
use super::reader::{Reader, Writer};
use crate::error::{Error, Result};

const WHAT_GENERIC: &str = "IKEv2 generic payload header";
const WHAT_MSG: &str = "IKEv2 message";

/// Walks a payload chain starting with type `first`. With `allow_encrypted`, an SK or SKF payload
/// ends the chain and must be last; without it, SK/SKF are rejected.
fn walk(first: PayloadType, bytes: &[u8], allow_encrypted: bool) -> Result<Vec<Payload>> {
    let mut r = Reader::new(WHAT_GENERIC, bytes);
    let mut ty = first;
    let mut out = Vec::new();
    while ty != PayloadType::NONE {
        let next = PayloadType(r.u8()?);
        let critical = r.u8()? & CRITICAL != 0; // the 7 reserved bits are ignored (§3.2)
        let len = usize::from(r.u16()?);
        if len < GENERIC_HEADER_LEN {
            return Err(Error::BadLength {
                what: WHAT_GENERIC,
                len,
            });
        }
        let mut body = r.sub(WHAT_GENERIC, len - GENERIC_HEADER_LEN)?;
        let encrypted = matches!(ty, PayloadType::SK | PayloadType::SKF);
        if encrypted && !allow_encrypted {
            return Err(Error::BadValue {
                what: "IKEv2 payload chain: SK/SKF inside an encrypted payload",
                value: ty.0.into(),
            });
        }
        match Payload::parse_body(ty, next, &mut body)? {
            Some(p) => out.push(p),
            // §2.5: an unknown critical payload rejects the whole message.
            None if critical => return Err(Error::UnknownCriticalPayload { payload_type: ty.0 }),
            None => out.push(Payload::Unknown(UnknownPayload {
                payload_type: ty,
                body: body.rest().to_vec(),
            })),
        }
        if encrypted {
            // §3.14 / RFC 7383 §2.5: SK and SKF are the last payload of the message.
            return Reader::new("IKEv2 SK/SKF payload (must be last)", r.rest())
                .expect_empty()
                .map(|()| out);
        }
        ty = next;
    }
    r.expect_empty()?;
    Ok(out)
}

/// Parses a decrypted inner payload chain (the plaintext of an SK payload, or of reassembled
/// SKF fragments) whose first payload has type `first`. Nested SK/SKF is rejected.
pub fn parse_payload_chain(first: PayloadType, bytes: &[u8]) -> Result<Vec<Payload>> {
    walk(first, bytes, false)
}

/// Emits `payloads` as a chain and returns the type of its first payload (for the IKE header or
/// the enclosing SK payload's Next Payload); [`PayloadType::NONE`] for an empty chain. SK/SKF
/// may only be the last payload.
pub fn emit_payload_chain(payloads: &[Payload], w: &mut Writer<'_>) -> Result<PayloadType> {
    for (i, p) in payloads.iter().enumerate() {
        let next = match (p.encrypted_first_inner(), payloads.get(i + 1)) {
            (Some(inner), None) => inner,
            (Some(_), Some(_)) => {
                return Err(Error::BadValue {
                    what: "IKEv2 payload chain: SK/SKF not last",
                    value: p.payload_type().0.into(),
                });
            }
            (None, Some(n)) => n.payload_type(),
            (None, None) => PayloadType::NONE,
        };
        let start = w.position();
        w.u8(next.0);
        w.u8(0);
        let at = w.placeholder_u16();
        p.emit_body(w)?;
        w.patch_len_u16(WHAT_GENERIC, at, start)?;
    }
    Ok(payloads
        .first()
        .map_or(PayloadType::NONE, Payload::payload_type))
}

/// An IKEv2 message: header fields and the payloads in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Initiator's SPI.
    pub spi_i: u64,
    /// Responder's SPI.
    pub spi_r: u64,
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags.
    pub flags: IkeFlags,
    /// Message ID.
    pub message_id: u32,
    /// The payloads, in wire order.
    pub payloads: Vec<Payload>,
}

impl Message {
    /// Parses a whole datagram (after any non-ESP marker): the header's Length must equal the
    /// datagram length.
    pub fn parse(datagram: &[u8]) -> Result<Self> {
        let h = IkeHeader::new_checked(datagram)?;
        let repr = IkeHeaderRepr::parse(&h);
        if repr.length as usize != datagram.len() {
            return Err(Error::BadLength {
                what: WHAT_MSG,
                len: repr.length as usize,
            });
        }
        let payloads = walk(repr.next_payload, h.payload(), true)?;
        Ok(Self {
            spi_i: repr.spi_i,
            spi_r: repr.spi_r,
            exchange_type: repr.exchange_type,
            flags: repr.flags,
            message_id: repr.message_id,
            payloads,
        })
    }

    /// Emits the message into a new buffer.
    pub fn emit(&self) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; HEADER_LEN];
        let first = emit_payload_chain(&self.payloads, &mut Writer::new(&mut buf))?;
        let length = u32::try_from(buf.len()).map_err(|_| Error::BadLength {
            what: WHAT_MSG,
            len: buf.len(),
        })?;
        let repr = IkeHeaderRepr {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            next_payload: first,
            exchange_type: self.exchange_type,
            flags: self.flags,
            message_id: self.message_id,
            length,
        };
        repr.emit(&mut buf)?;
        Ok(buf)
    }

    /// Emits the message into `buf`, returning the bytes written.
    pub fn emit_into(&self, buf: &mut [u8]) -> Result<usize> {
        let v = self.emit()?;
        let Some(dst) = buf.get_mut(..v.len()) else {
            return Err(Error::BufferTooSmall {
                what: WHAT_MSG,
                need: v.len(),
                have: buf.len(),
            });
        };
        dst.copy_from_slice(&v);
        Ok(v.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ike::iana::{KeId, NotifyType};
    use crate::ike::strategies;
    use crate::ike::{KePayload, NoncePayload, NotifyPayload, SkPayload, SkfPayload};
    use proptest::prelude::*;

    /// IKE_SA_INIT-like request: KE(Curve25519, 4 bytes), Ni(16 bytes), N(NAT_DETECTION_SOURCE_IP).
    fn known() -> (Vec<u8>, Message) {
        #[rustfmt::skip]
        let mut b = vec![
            0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 0, 0, 0, 0, 0, 0, 0,
            34, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 68,
            40, 0, 0, 12, 0, 31, 0, 0, 1, 2, 3, 4,   // KE, next Nonce
            41, 0, 0, 20,                             // Nonce, next N
        ];
        b.extend([0xab; 16]);
        b.extend([0, 0, 0, 8, 0, 0, 0x40, 0x04]); // N, last; NAT_DETECTION_SOURCE_IP, no data
        let m = Message {
            spi_i: 0x1122_3344_5566_7788,
            spi_r: 0,
            exchange_type: ExchangeType::IKE_SA_INIT,
            flags: IkeFlags::INITIATOR,
            message_id: 0,
            payloads: vec![
                Payload::Ke(KePayload {
                    group: KeId::CURVE25519,
                    data: vec![1, 2, 3, 4],
                }),
                Payload::Nonce(NoncePayload {
                    data: vec![0xab; 16],
                }),
                Payload::Notify(NotifyPayload::new(
                    NotifyType::NAT_DETECTION_SOURCE_IP,
                    vec![],
                )),
            ],
        };
        (b, m)
    }

    #[test]
    fn parse_and_emit_known_message() {
        let (b, m) = known();
        assert_eq!(b.len(), 68);
        assert_eq!(Message::parse(&b).unwrap(), m);
        assert_eq!(m.emit().unwrap(), b);
        let mut out = [0u8; 80];
        assert_eq!(m.emit_into(&mut out).unwrap(), 68);
        assert_eq!(&out[..68], &b[..]);
        assert!(matches!(
            m.emit_into(&mut [0u8; 67]),
            Err(Error::BufferTooSmall { need: 68, .. })
        ));
    }

    /// Cuts the payload chain at every length, with the IKE header's Length kept consistent so
    /// the chain walker itself must notice.
    fn chain_truncations_fail(b: &[u8]) {
        for n in HEADER_LEN..b.len() {
            let mut cut = b[..n].to_vec();
            cut[24..28].copy_from_slice(&(n as u32).to_be_bytes());
            assert!(Message::parse(&cut).is_err(), "cut at {n}");
        }
        for n in 0..b.len() {
            assert!(Message::parse(&b[..n]).is_err(), "raw prefix {n}");
        }
    }

    #[test]
    fn truncated_messages_fail_at_every_length() {
        chain_truncations_fail(&known().0);
    }

    #[test]
    fn length_must_equal_datagram() {
        let (mut b, _) = known();
        b.push(0);
        assert!(matches!(
            Message::parse(&b),
            Err(Error::BadLength { len: 68, .. })
        ));
    }

    #[test]
    fn payload_length_below_four_or_past_the_end_fails() {
        let (b, _) = known();
        for bad in [3u16, 0, 200] {
            let mut x = b.clone();
            x[30..32].copy_from_slice(&bad.to_be_bytes());
            assert!(
                matches!(Message::parse(&x), Err(Error::BadLength { .. })),
                "{bad}"
            );
        }
    }

    /// Replaces the Nonce payload's type with an unknown one (99), with or without C.
    fn with_unknown_payload(critical: bool) -> Vec<u8> {
        let (mut b, _) = known();
        b[28] = 99; // KE's next payload
        b[41] = if critical { 0x80 } else { 0x7f }; // C bit; reserved bits ignored
        b
    }

    #[test]
    fn unknown_payloads_are_skipped_unless_critical() {
        let m = Message::parse(&with_unknown_payload(false)).unwrap();
        assert_eq!(
            m.payloads[1],
            Payload::Unknown(UnknownPayload {
                payload_type: PayloadType(99),
                body: vec![0xab; 16]
            })
        );
        assert_eq!(m.payloads.len(), 3);
        assert_eq!(
            Message::parse(&with_unknown_payload(true)),
            Err(Error::UnknownCriticalPayload { payload_type: 99 })
        );
        // The critical bit on a known payload changes nothing (§2.5).
        let (mut b, m) = known();
        b[29] = 0x80;
        assert_eq!(Message::parse(&b).unwrap(), m);
    }

    fn encrypted_message(last: Payload) -> Message {
        let mut m = known().1;
        m.exchange_type = ExchangeType::IKE_AUTH;
        m.message_id = 1;
        m.payloads.truncate(1);
        m.payloads.push(last);
        m
    }

    #[test]
    fn sk_ends_the_chain_and_keeps_its_inner_type() {
        let sk = SkPayload::from_parts(PayloadType::IDI, &[7; 16], &[8; 32], &[9; 16]);
        let m = encrypted_message(Payload::Sk(sk.clone()));
        let b = m.emit().unwrap();
        // KE's generic header says SK next; SK's says IDi.
        assert_eq!(b[28], 46);
        assert_eq!(b[40], 35);
        assert_eq!(Message::parse(&b).unwrap(), m);
        chain_truncations_fail(&b);
        // Bytes after SK (within the message Length) are rejected.
        let mut x = b.clone();
        x.extend([0, 0, 0, 4]);
        let n = x.len() as u32;
        x[24..28].copy_from_slice(&n.to_be_bytes());
        assert!(matches!(
            Message::parse(&x),
            Err(Error::TrailingData { extra: 4, .. })
        ));
        // SK not last cannot be emitted.
        let mut bad = m.clone();
        bad.payloads
            .push(Payload::Nonce(NoncePayload { data: vec![0; 16] }));
        assert!(bad.emit().is_err());
    }

    #[test]
    fn skf_round_trip_and_inner_chain_rejects_nesting() {
        let skf = SkfPayload {
            first_inner: PayloadType::NONE,
            fragment_number: 2,
            total_fragments: 2,
            body: vec![1; 40],
        };
        let m = encrypted_message(Payload::Skf(skf));
        let b = m.emit().unwrap();
        assert_eq!(Message::parse(&b).unwrap(), m);
        chain_truncations_fail(&b);
        // Decrypted inner chain: Nonce then SK — nested encryption is refused.
        let mut inner = Vec::new();
        let chain = [
            Payload::Nonce(NoncePayload { data: vec![0; 16] }),
            Payload::Sk(SkPayload::from_parts(PayloadType::NONE, &[], &[1], &[])),
        ];
        let first = emit_payload_chain(&chain, &mut Writer::new(&mut inner)).unwrap();
        assert!(parse_payload_chain(first, &inner).is_err());
        let first = emit_payload_chain(&chain[..1], &mut Writer::new(&mut inner.clone())).unwrap();
        assert_eq!(first, PayloadType::NONCE);
    }

    #[test]
    fn chain_end_must_match_data() {
        let mut inner = Vec::new();
        let chain = [Payload::Nonce(NoncePayload { data: vec![3; 16] })];
        let first = emit_payload_chain(&chain, &mut Writer::new(&mut inner)).unwrap();
        assert_eq!(parse_payload_chain(first, &inner).unwrap(), chain);
        inner.push(0);
        assert!(matches!(
            parse_payload_chain(first, &inner),
            Err(Error::TrailingData { extra: 1, .. })
        ));
        assert_eq!(parse_payload_chain(PayloadType::NONE, &[]).unwrap(), []);
    }

    proptest! {
        #[test]
        fn every_payload_round_trips(p in strategies::plain_payload()) {
            let mut buf = Vec::new();
            let chain = [p];
            let first = emit_payload_chain(&chain, &mut Writer::new(&mut buf)).unwrap();
            prop_assert_eq!(parse_payload_chain(first, &buf).unwrap(), chain);
        }

        #[test]
        fn messages_round_trip(m in strategies::message()) {
            let b = m.emit().unwrap();
            prop_assert_eq!(Message::parse(&b).unwrap(), m);
        }

        #[test]
        fn arbitrary_bytes_never_panic(mut b in proptest::collection::vec(any::<u8>(), 28..300)) {
            // Make the header plausible so the payload walker gets exercised.
            b[17] = 0x20;
            let n = b.len() as u32;
            b[24..28].copy_from_slice(&n.to_be_bytes());
            let _ = Message::parse(&b);
        }
    }
}
