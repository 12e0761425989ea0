//! PEM (RFC 7468) decoding for keys and certificates. The decoded bytes are returned in
//! [`Zeroizing`] buffers because a PEM block may hold a private key.

use zeroize::Zeroizing;

use super::SigError;

/// One decoded PEM block: its label and its DER bytes (zeroized on drop).
pub type PemBlock = (String, Zeroizing<Vec<u8>>);

/// Every `-----BEGIN label-----` ... `-----END label-----` block in `text`, in order, as
/// `(label, DER bytes)`. Text outside the blocks (comments, `openssl x509 -text` output) is
/// skipped; a block that does not close, or whose base64 is invalid, is an error.
pub fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, SigError> {
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut b64 = Zeroizing::new(String::new());
        loop {
            let l = lines
                .next()
                .ok_or(SigError::Malformed("PEM: block does not end"))?;
            if l == end {
                break;
            }
            b64.push_str(l);
        }
        out.push((label.to_owned(), base64_decode(&b64)?));
    }
    Ok(out)
}

/// The first block with `label`.
pub(crate) fn pem_block(text: &str, label: &str) -> Result<Zeroizing<Vec<u8>>, SigError> {
    pem_blocks(text)?
        .into_iter()
        .find(|(l, _)| l == label)
        .map(|(_, der)| der)
        .ok_or(SigError::Malformed("PEM: no block with the expected label"))
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64_decode(s: &str) -> Result<Zeroizing<Vec<u8>>, SigError> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() % 4 != 0 {
        return Err(SigError::Malformed("PEM: base64 length"));
    }
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() / 4 * 3));
    let chunks = bytes.len() / 4;
    for (i, quad) in bytes.chunks_exact(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != chunks) {
            return Err(SigError::Malformed("PEM: base64 padding"));
        }
        let mut acc = 0u32;
        for &c in &quad[..4 - pad] {
            acc = (acc << 6) | value(c).ok_or(SigError::Malformed("PEM: base64 character"))?;
        }
        acc <<= 6 * pad as u32;
        let three = acc.to_be_bytes();
        out.extend_from_slice(&three[1..4 - pad]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_blocks_and_rejects_bad_base64() {
        let text = "junk\n-----BEGIN X-----\nTWFu\nTWE=\n-----END X-----\n-----BEGIN Y-----\nTQ==\n-----END Y-----\n";
        let blocks = pem_blocks(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            (blocks[0].0.as_str(), blocks[0].1.as_slice()),
            ("X", &b"ManMa"[..])
        );
        assert_eq!(blocks[1].1.as_slice(), b"M");
        assert!(pem_blocks("-----BEGIN X-----\nTW=u\n-----END X-----").is_err());
        assert!(pem_blocks("-----BEGIN X-----\nTWFu").is_err());
        assert!(pem_blocks("-----BEGIN X-----\nTQ==TWFu\n-----END X-----").is_err());
    }
}
