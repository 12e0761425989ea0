//! Regions as unions of boxes: the exact set arithmetic under the policy check and under the
//! union-containment test for traffic-selector lists.
//!
//! A box is a product of inclusive `u128` intervals, one per dimension (address family, local
//! address, remote address, protocol, local port, remote port for SPD selectors). Subtracting box
//! `b` from box `a` cuts `a` along each dimension in turn into at most `2 * N` disjoint pieces, so
//! a region stays a list of pairwise-disjoint boxes. Work is bounded by a [`Budget`]; when it runs
//! out the caller reports "analysis incomplete" instead of looping on adversarial input.

/// An inclusive interval `lo..=hi`; `lo <= hi` always.
pub(crate) type Interval = (u128, u128);

/// A box: one interval per dimension.
pub(crate) type Cube<const N: usize> = [Interval; N];

/// The work allowance was used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exhausted;

/// How many boxes the analysis may still create.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    left: usize,
}

impl Budget {
    /// An allowance of `boxes` box creations.
    pub(crate) fn new(boxes: usize) -> Self {
        Self { left: boxes }
    }

    fn spend(&mut self, n: usize) -> Result<(), Exhausted> {
        self.left = self.left.checked_sub(n).ok_or(Exhausted)?;
        Ok(())
    }
}

/// The intersection of two boxes, if not empty.
pub(crate) fn intersect<const N: usize>(a: &Cube<N>, b: &Cube<N>) -> Option<Cube<N>> {
    let mut out = *a;
    for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b)) {
        let (lo, hi) = (x.0.max(y.0), x.1.min(y.1));
        if lo > hi {
            return None;
        }
        *o = (lo, hi);
    }
    Some(out)
}

/// Pushes `a \ b` onto `out` as disjoint boxes.
fn subtract_one<const N: usize>(a: &Cube<N>, b: &Cube<N>, out: &mut Vec<Cube<N>>) {
    let Some(common) = intersect(a, b) else {
        out.push(*a);
        return;
    };
    // Peel off, dimension by dimension, the slabs of `rest` that lie below and above `common`.
    let mut rest = *a;
    for d in 0..N {
        let (lo, hi) = rest[d];
        let (clo, chi) = common[d];
        if lo < clo {
            let mut below = rest;
            below[d] = (lo, clo - 1);
            out.push(below);
        }
        if chi < hi {
            let mut above = rest;
            above[d] = (chi + 1, hi);
            out.push(above);
        }
        rest[d] = (clo, chi);
    }
}

/// Replaces `region` by `region \ b`. Returns whether `b` overlapped the region at all.
pub(crate) fn subtract<const N: usize>(
    region: &mut Vec<Cube<N>>,
    b: &Cube<N>,
    budget: &mut Budget,
) -> Result<bool, Exhausted> {
    if !region.iter().any(|a| intersect(a, b).is_some()) {
        return Ok(false);
    }
    let mut out = Vec::with_capacity(region.len());
    for a in region.iter() {
        let before = out.len();
        subtract_one(a, b, &mut out);
        budget.spend(out.len() - before)?;
    }
    *region = out;
    Ok(true)
}

/// The part of `region` inside box `b`.
pub(crate) fn clip<const N: usize>(region: &[Cube<N>], b: &Cube<N>) -> Vec<Cube<N>> {
    region.iter().filter_map(|a| intersect(a, b)).collect()
}

/// Whether the union of `outer` covers every box of `inner`.
pub(crate) fn covers<const N: usize>(
    outer: &[Cube<N>],
    inner: &[Cube<N>],
    budget: &mut Budget,
) -> Result<bool, Exhausted> {
    let mut rest = inner.to_vec();
    for b in outer {
        subtract(&mut rest, b, budget)?;
        if rest.is_empty() {
            return Ok(true);
        }
    }
    Ok(rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_cube() -> impl Strategy<Value = Cube<2>> {
        let iv = (0u128..12, 0u128..12).prop_map(|(a, b)| (a.min(b), a.max(b)));
        [iv.clone(), iv]
    }

    fn inside(c: &Cube<2>, p: (u128, u128)) -> bool {
        (c[0].0..=c[0].1).contains(&p.0) && (c[1].0..=c[1].1).contains(&p.1)
    }

    proptest! {
        /// Subtraction is exact and keeps the pieces disjoint, checked point by point.
        #[test]
        fn subtraction_is_exact(a in arb_cube(), bs in proptest::collection::vec(arb_cube(), 0..5)) {
            let mut region = vec![a];
            let mut budget = Budget::new(10_000);
            for b in &bs {
                subtract(&mut region, b, &mut budget).unwrap();
            }
            for x in 0..13 {
                for y in 0..13 {
                    let want = inside(&a, (x, y)) && !bs.iter().any(|b| inside(b, (x, y)));
                    let hits = region.iter().filter(|c| inside(c, (x, y))).count();
                    prop_assert_eq!(hits, usize::from(want));
                }
            }
        }
    }

    #[test]
    fn budget_stops_work() {
        let mut region = vec![[(0, 100), (0, 100)]];
        let mut budget = Budget::new(3);
        assert_eq!(
            subtract(&mut region, &[(50, 50), (50, 50)], &mut budget),
            Err(Exhausted)
        );
    }
}
