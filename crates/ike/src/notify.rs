//! Error and status notifies that are not one exchange's business (RFC 7296 §2.21, §3.10.1):
//! the unprotected answers the endpoint sends outside any IKE SA (INVALID_IKE_SPI,
//! INVALID_MAJOR_VERSION, UNSUPPORTED_CRITICAL_PAYLOAD), with their rate limit, the error
//! notify for a protected request that decrypts but does not parse (UNSUPPORTED_CRITICAL_PAYLOAD,
//! INVALID_SYNTAX), and INITIAL_CONTACT (§2.4).
//!
//! Unprotected answers are only ever sent for requests, never for responses (§2.21.4, §1.5),
//! and at most [`UNPROTECTED_PER_SECOND`] per second, so that forged datagrams cannot make us a
//! traffic amplifier.

use core::time::Duration;

use rampart_wire::ike::iana::{ExchangeType, NotifyType};
use rampart_wire::ike::{
    IkeFlags, IkeHeaderRepr, NotifyPayload, Payload, Writer, emit_payload_chain,
};

use crate::failure::Failure;
use crate::sk::SkError;
use crate::time::Instant;

/// The IKE header's length (RFC 7296 §3.1).
const HEADER_LEN: usize = 28;

/// Unprotected error answers per second, at most.
pub(crate) const UNPROTECTED_PER_SECOND: u32 = 10;

/// A fixed-window rate limiter for unprotected answers.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RateLimit {
    window_start: Option<Instant>,
    sent: u32,
}

impl RateLimit {
    /// Whether one more answer may go out at `now`.
    pub(crate) fn allow(&mut self, now: Instant) -> bool {
        match self.window_start {
            Some(start) if now < start + Duration::from_secs(1) => {}
            _ => {
                self.window_start = Some(now);
                self.sent = 0;
            }
        }
        if self.sent < UNPROTECTED_PER_SECOND {
            self.sent += 1;
            true
        } else {
            false
        }
    }
}

/// The header fields of a request, read without the version check so that a request of
/// another major version can be answered (§2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawHeader {
    pub(crate) spi_i: u64,
    pub(crate) spi_r: u64,
    pub(crate) exchange: ExchangeType,
    pub(crate) flags: IkeFlags,
    pub(crate) message_id: u32,
    pub(crate) major_version: u8,
}

impl RawHeader {
    /// The fixed header fields (RFC 7296 §3.1) of `bytes`, if it is long enough.
    ///
    /// ```text
    ///  0                   1                   2                   3
    ///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                       IKE SA Initiator's SPI                  |
    /// |                                                               |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                       IKE SA Responder's SPI                  |
    /// |                                                               |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                          Message ID                           |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                            Length                             |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// ```
    pub(crate) fn read(bytes: &[u8]) -> Option<Self> {
        let h = bytes.get(..HEADER_LEN)?;
        let u64_at = |i: usize| h.get(i..i + 8)?.try_into().ok().map(u64::from_be_bytes);
        Some(Self {
            spi_i: u64_at(0)?,
            spi_r: u64_at(8)?,
            major_version: h[17] >> 4,
            exchange: ExchangeType(h[18]),
            flags: IkeFlags::from_bits(h[19]),
            message_id: u32::from_be_bytes(h[20..24].try_into().ok()?),
        })
    }

    /// Whether the message is a request (Response flag clear).
    pub(crate) fn is_request(&self) -> bool {
        !self.flags.response()
    }
}

/// An unprotected response to `request` carrying one notify: SPIs, exchange type and Message ID
/// copied, Response flag set, version 2.0 (§1.5, §2.5, §2.21.4). Our Initiator flag is the
/// opposite of the request's.
pub(crate) fn unprotected_response(request: &RawHeader, notify: NotifyPayload) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_LEN];
    let payloads = [Payload::Notify(notify)];
    let Ok(first) = emit_payload_chain(&payloads, &mut Writer::new(&mut buf)) else {
        return Vec::new();
    };
    let mut flags = IkeFlags::RESPONSE.bits();
    if !request.flags.initiator() {
        flags |= IkeFlags::INITIATOR.bits();
    }
    let Ok(length) = u32::try_from(buf.len()) else {
        return Vec::new();
    };
    let repr = IkeHeaderRepr {
        spi_i: request.spi_i,
        spi_r: request.spi_r,
        next_payload: first,
        exchange_type: request.exchange,
        flags: IkeFlags::from_bits(flags),
        message_id: request.message_id,
        length,
    };
    match repr.emit(&mut buf) {
        Ok(()) => buf,
        Err(_) => Vec::new(),
    }
}

/// UNSUPPORTED_CRITICAL_PAYLOAD naming the one-octet payload type (§2.5, §3.10.1).
pub(crate) fn unsupported_critical(payload_type: u8) -> NotifyPayload {
    NotifyPayload::new(NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, vec![payload_type])
}

/// The error notify for a protected request whose integrity check passed but whose payloads
/// do not parse: UNSUPPORTED_CRITICAL_PAYLOAD for an unknown critical payload (§2.5), else
/// INVALID_SYNTAX, which §3.10.1 allows only in an encrypted message after the Message ID and
/// checksum were valid. `None`: the message did not verify, so it is dropped silently
/// (§2.21.1).
pub(crate) fn for_undecodable_request(e: &SkError) -> Option<NotifyPayload> {
    match e {
        SkError::Inner(rampart_wire::Error::UnknownCriticalPayload { payload_type }) => {
            Some(unsupported_critical(*payload_type))
        }
        SkError::Inner(_)
        | SkError::Malformed("no Pad Length" | "Pad Length beyond the plaintext") => {
            Some(NotifyPayload::new(NotifyType::INVALID_SYNTAX, Vec::new()))
        }
        _ => None,
    }
}

/// The notify the initiator sends in a separate INFORMATIONAL after its check of the
/// responder's IKE_AUTH failed (§2.21.2): AUTHENTICATION_FAILED when the responder's identity or
/// AUTH was refused; nothing when the responder itself refused us.
pub(crate) fn after_failed_auth_response(f: &Failure) -> Option<NotifyPayload> {
    matches!(
        f,
        Failure::AuthenticationFailed { .. } | Failure::UnknownPeer { .. }
    )
    .then(|| NotifyPayload::new(NotifyType::AUTHENTICATION_FAILED, Vec::new()))
}

/// The failure an INFORMATIONAL request carrying AUTHENTICATION_FAILED reports: the initiator
/// refused our IKE_AUTH response after all (§2.21.2), so the SA must go.
pub(crate) fn auth_refused_after_the_fact(payloads: &[Payload]) -> Option<Failure> {
    payloads
        .iter()
        .any(|p| matches!(p, Payload::Notify(n) if n.notify_type == NotifyType::AUTHENTICATION_FAILED))
        .then(|| Failure::refused(ExchangeType::IKE_AUTH, NotifyType::AUTHENTICATION_FAILED))
}

/// N(INITIAL_CONTACT) (§2.4, §3.10.1): no other IKE SA of ours with this peer is alive.
pub(crate) fn initial_contact() -> Payload {
    Payload::Notify(NotifyPayload::new(NotifyType::INITIAL_CONTACT, Vec::new()))
}

/// Whether `payloads` carry INITIAL_CONTACT.
pub(crate) fn has_initial_contact(payloads: &[Payload]) -> bool {
    payloads
        .iter()
        .any(|p| matches!(p, Payload::Notify(n) if n.notify_type == NotifyType::INITIAL_CONTACT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_wire::ike::Message;

    #[test]
    fn rate_limit_allows_a_burst_per_second() {
        let mut r = RateLimit::default();
        let t0 = Instant::ZERO;
        let n = (0..20).filter(|_| r.allow(t0)).count();
        assert_eq!(n, UNPROTECTED_PER_SECOND as usize);
        assert!(!r.allow(t0 + Duration::from_millis(999)));
        assert!(r.allow(t0 + Duration::from_secs(1)));
    }

    #[test]
    fn unprotected_response_copies_the_request_header() {
        let req = RawHeader {
            spi_i: 0x1111,
            spi_r: 0x2222,
            exchange: ExchangeType::INFORMATIONAL,
            flags: IkeFlags::INITIATOR,
            message_id: 7,
            major_version: 2,
        };
        let bytes = unprotected_response(
            &req,
            NotifyPayload::new(NotifyType::INVALID_IKE_SPI, Vec::new()),
        );
        let m = Message::parse(&bytes).unwrap();
        assert_eq!((m.spi_i, m.spi_r, m.message_id), (0x1111, 0x2222, 7));
        assert_eq!(m.exchange_type, ExchangeType::INFORMATIONAL);
        assert!(m.flags.response() && !m.flags.initiator());
        assert!(matches!(&m.payloads[..], [Payload::Notify(n)]
            if n.notify_type == NotifyType::INVALID_IKE_SPI && n.data.is_empty()));
        assert_eq!(RawHeader::read(&bytes).unwrap().major_version, 2);
    }

    #[test]
    fn undecodable_requests_map_to_their_notify() {
        let crit = SkError::Inner(rampart_wire::Error::UnknownCriticalPayload { payload_type: 99 });
        let n = for_undecodable_request(&crit).unwrap();
        assert_eq!(
            (n.notify_type, n.data),
            (NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD, vec![99])
        );
        let bad = SkError::Inner(rampart_wire::Error::BadLength { what: "x", len: 1 });
        assert_eq!(
            for_undecodable_request(&bad).unwrap().notify_type,
            NotifyType::INVALID_SYNTAX
        );
        assert!(for_undecodable_request(&SkError::Integrity).is_none());
        assert!(for_undecodable_request(&SkError::Missing).is_none());
    }
}
