//! The [`Payload`] enum over every IKEv2 payload body, and the generic payload header
//! (RFC 7296 §3.2) that links them into a chain.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Payload  |C|  RESERVED   |         Payload Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use super::auth::AuthPayload;
use super::cert::{CertPayload, CertReqPayload};
use super::cp::CpPayload;
use super::delete::DeletePayload;
use super::eap::EapPayload;
use super::iana::PayloadType;
use super::id::IdPayload;
use super::ke::KePayload;
use super::nonce::NoncePayload;
use super::notify::NotifyPayload;
use super::reader::{Reader, Writer};
use super::sa::SaPayload;
use super::sk::{SkPayload, SkfPayload};
use super::ts::TsPayload;
use super::vendor::VendorIdPayload;
use crate::error::Result;

/// Length of the generic payload header.
pub const GENERIC_HEADER_LEN: usize = 4;

/// The critical bit of the generic payload header (§2.5).
pub const CRITICAL: u8 = 0x80;

/// A payload of a type this crate does not know, sent without the critical bit. Kept so the
/// engine can log it; RFC 7296 §2.5 says to skip it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPayload {
    /// Its payload type.
    pub payload_type: PayloadType,
    /// Its body.
    pub body: Vec<u8>,
}

/// One IKEv2 payload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload {
    /// SA.
    Sa(SaPayload),
    /// KE.
    Ke(KePayload),
    /// IDi.
    IdI(IdPayload),
    /// IDr.
    IdR(IdPayload),
    /// CERT.
    Cert(CertPayload),
    /// CERTREQ.
    CertReq(CertReqPayload),
    /// AUTH.
    Auth(AuthPayload),
    /// Nonce (Ni or Nr).
    Nonce(NoncePayload),
    /// N.
    Notify(NotifyPayload),
    /// D.
    Delete(DeletePayload),
    /// V.
    VendorId(VendorIdPayload),
    /// TSi.
    TsI(TsPayload),
    /// TSr.
    TsR(TsPayload),
    /// SK (always the last payload of its chain).
    Sk(SkPayload),
    /// SKF (always the last payload of its chain).
    Skf(SkfPayload),
    /// CP.
    Cp(CpPayload),
    /// EAP.
    Eap(EapPayload),
    /// A non-critical payload of unknown type.
    Unknown(UnknownPayload),
}

impl Payload {
    /// The payload type that names this payload in the previous Next Payload field.
    pub fn payload_type(&self) -> PayloadType {
        match self {
            Self::Sa(_) => PayloadType::SA,
            Self::Ke(_) => PayloadType::KE,
            Self::IdI(_) => PayloadType::IDI,
            Self::IdR(_) => PayloadType::IDR,
            Self::Cert(_) => PayloadType::CERT,
            Self::CertReq(_) => PayloadType::CERTREQ,
            Self::Auth(_) => PayloadType::AUTH,
            Self::Nonce(_) => PayloadType::NONCE,
            Self::Notify(_) => PayloadType::NOTIFY,
            Self::Delete(_) => PayloadType::DELETE,
            Self::VendorId(_) => PayloadType::VENDOR_ID,
            Self::TsI(_) => PayloadType::TSI,
            Self::TsR(_) => PayloadType::TSR,
            Self::Sk(_) => PayloadType::SK,
            Self::Skf(_) => PayloadType::SKF,
            Self::Cp(_) => PayloadType::CP,
            Self::Eap(_) => PayloadType::EAP,
            Self::Unknown(u) => u.payload_type,
        }
    }

    /// For SK/SKF, the first inner payload type carried in their Next Payload field.
    pub(crate) fn encrypted_first_inner(&self) -> Option<PayloadType> {
        match self {
            Self::Sk(p) => Some(p.first_inner),
            Self::Skf(p) => Some(p.first_inner),
            _ => None,
        }
    }

    /// Parses the body of a known payload type; `None` for a type this crate does not know.
    /// `next` is the Next Payload field of this payload's generic header (SK/SKF keep it).
    pub(crate) fn parse_body(
        ty: PayloadType,
        next: PayloadType,
        r: &mut Reader<'_>,
    ) -> Result<Option<Self>> {
        let p = match ty {
            PayloadType::SA => Self::Sa(SaPayload::parse(r)?),
            PayloadType::KE => Self::Ke(KePayload::parse(r)?),
            PayloadType::IDI => Self::IdI(IdPayload::parse(r)?),
            PayloadType::IDR => Self::IdR(IdPayload::parse(r)?),
            PayloadType::CERT => Self::Cert(CertPayload::parse(r)?),
            PayloadType::CERTREQ => Self::CertReq(CertReqPayload::parse(r)?),
            PayloadType::AUTH => Self::Auth(AuthPayload::parse(r)?),
            PayloadType::NONCE => Self::Nonce(NoncePayload::parse(r)?),
            PayloadType::NOTIFY => Self::Notify(NotifyPayload::parse(r)?),
            PayloadType::DELETE => Self::Delete(DeletePayload::parse(r)?),
            PayloadType::VENDOR_ID => Self::VendorId(VendorIdPayload::parse(r)?),
            PayloadType::TSI => Self::TsI(TsPayload::parse(r)?),
            PayloadType::TSR => Self::TsR(TsPayload::parse(r)?),
            PayloadType::SK => Self::Sk(SkPayload::parse(next, r)?),
            PayloadType::SKF => Self::Skf(SkfPayload::parse(next, r)?),
            PayloadType::CP => Self::Cp(CpPayload::parse(r)?),
            PayloadType::EAP => Self::Eap(EapPayload::parse(r)?),
            _ => return Ok(None),
        };
        r.expect_empty()?;
        Ok(Some(p))
    }

    /// Appends this payload's body (without the generic header).
    pub fn emit_body(&self, w: &mut Writer<'_>) -> Result<()> {
        match self {
            Self::Sa(p) => p.emit(w),
            Self::Ke(p) => p.emit(w),
            Self::IdI(p) | Self::IdR(p) => p.emit(w),
            Self::Cert(p) => p.emit(w),
            Self::CertReq(p) => p.emit(w),
            Self::Auth(p) => p.emit(w),
            Self::Nonce(p) => p.emit(w),
            Self::Notify(p) => p.emit(w),
            Self::Delete(p) => p.emit(w),
            Self::VendorId(p) => p.emit(w),
            Self::TsI(p) | Self::TsR(p) => p.emit(w),
            Self::Sk(p) => p.emit(w),
            Self::Skf(p) => p.emit(w),
            Self::Cp(p) => p.emit(w),
            Self::Eap(p) => p.emit(w),
            Self::Unknown(p) => {
                // A known type (or 0) here would re-parse as something else.
                if matches!(p.payload_type.0, 0 | 33..=48 | 53) {
                    return Err(crate::error::Error::BadValue {
                        what: "IKEv2 unknown payload with a known type",
                        value: p.payload_type.0.into(),
                    });
                }
                w.bytes(&p.body);
                Ok(())
            }
        }
    }
}
