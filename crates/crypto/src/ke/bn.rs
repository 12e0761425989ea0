//! The crate's only `unsafe`: a constant-time modular exponentiation over aws-lc's bignum
//! (`BN_mod_exp_mont_consttime`), for the MODP groups. Every `BIGNUM` / `BN_CTX` /
//! `BN_MONT_CTX` is owned by an RAII guard; bignums that hold secrets are freed with
//! `BN_clear_free`, which wipes them first.
#![allow(unsafe_code)]

use core::ptr::NonNull;

use aws_lc_sys::{
    BIGNUM, BN_CTX, BN_CTX_free, BN_CTX_new, BN_MONT_CTX, BN_MONT_CTX_free,
    BN_MONT_CTX_new_for_modulus, BN_bin2bn, BN_bn2bin_padded, BN_clear_free, BN_free,
    BN_mod_exp_mont_consttime, BN_new,
};

use crate::CryptoError;

/// An owned `BIGNUM`; `secret` selects `BN_clear_free` on drop.
struct Bn {
    ptr: NonNull<BIGNUM>,
    secret: bool,
}

impl Bn {
    /// A big-endian unsigned integer.
    fn from_be(bytes: &[u8], secret: bool) -> Result<Self, CryptoError> {
        // SAFETY: `bytes` is a valid readable slice for `bytes.len()` bytes; passing a null
        // `ret` asks aws-lc to allocate a fresh BIGNUM, which we own from here on.
        let ptr = unsafe { BN_bin2bn(bytes.as_ptr(), bytes.len(), core::ptr::null_mut()) };
        let ptr = NonNull::new(ptr).ok_or(CryptoError::Backend("BN_bin2bn"))?;
        Ok(Self { ptr, secret })
    }

    /// A fresh zero-valued BIGNUM.
    fn new(secret: bool) -> Result<Self, CryptoError> {
        // SAFETY: BN_new has no preconditions; it returns an owned BIGNUM or null.
        let ptr = NonNull::new(unsafe { BN_new() }).ok_or(CryptoError::Backend("BN_new"))?;
        Ok(Self { ptr, secret })
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from BN_new/BN_bin2bn, is owned solely by this guard and is
        // freed exactly once, here.
        unsafe {
            if self.secret {
                BN_clear_free(self.ptr.as_ptr());
            } else {
                BN_free(self.ptr.as_ptr());
            }
        }
    }
}

/// An owned `BN_CTX` (scratch space for bignum operations).
struct Ctx(NonNull<BN_CTX>);

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: owned pointer from BN_CTX_new, freed exactly once.
        unsafe { BN_CTX_free(self.0.as_ptr()) }
    }
}

/// An owned Montgomery context for a (public) modulus.
struct Mont(NonNull<BN_MONT_CTX>);

impl Drop for Mont {
    fn drop(&mut self) {
        // SAFETY: owned pointer from BN_MONT_CTX_new_for_modulus, freed exactly once.
        unsafe { BN_MONT_CTX_free(self.0.as_ptr()) }
    }
}

/// Writes `base^exponent mod modulus` into `out`, big-endian, left-padded with zeros to
/// `out.len()`, which must equal `modulus.len()`.
///
/// Requirements checked here: `modulus` is odd and non-empty, `base < modulus` (compared as
/// equal-length big-endian strings). The exponent and result are treated as secret: the
/// exponentiation is constant-time in them and their bignums are wiped when freed.
pub(crate) fn mod_exp_consttime(
    base: &[u8],
    exponent: &[u8],
    modulus: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let odd = modulus.last().is_some_and(|b| b & 1 == 1);
    if !odd || base.len() != modulus.len() || out.len() != modulus.len() || base >= modulus {
        return Err(CryptoError::Backend("mod_exp_consttime arguments"));
    }
    let m = Bn::from_be(modulus, false)?;
    let a = Bn::from_be(base, false)?;
    let p = Bn::from_be(exponent, true)?;
    let r = Bn::new(true)?;
    // SAFETY: BN_CTX_new has no preconditions; returns an owned context or null.
    let ctx = Ctx(NonNull::new(unsafe { BN_CTX_new() }).ok_or(CryptoError::Backend("BN_CTX"))?);
    // SAFETY: `m` is a valid BIGNUM for the duration of the call; `ctx` is a valid BN_CTX.
    // The returned Montgomery context is owned by the guard.
    let mont = unsafe { BN_MONT_CTX_new_for_modulus(m.ptr.as_ptr(), ctx.0.as_ptr()) };
    let mont = Mont(NonNull::new(mont).ok_or(CryptoError::Backend("BN_MONT_CTX"))?);
    // SAFETY: all pointers are valid, distinct, live guards; 0 <= a < m was checked above
    // (the function's documented precondition); `mont` was built for `m`.
    let ok = unsafe {
        BN_mod_exp_mont_consttime(
            r.ptr.as_ptr(),
            a.ptr.as_ptr(),
            p.ptr.as_ptr(),
            m.ptr.as_ptr(),
            ctx.0.as_ptr(),
            mont.0.as_ptr(),
        )
    };
    if ok != 1 {
        return Err(CryptoError::Backend("BN_mod_exp_mont_consttime"));
    }
    // SAFETY: `out` is a valid writable slice of `out.len()` bytes; `r` is a valid BIGNUM.
    // BN_bn2bin_padded writes exactly `out.len()` bytes or fails without writing past it.
    let ok = unsafe { BN_bn2bin_padded(out.as_mut_ptr(), out.len(), r.ptr.as_ptr()) };
    if ok != 1 {
        return Err(CryptoError::Backend("BN_bn2bin_padded"));
    }
    Ok(())
}
