//! Nearest-neighbour search under the max-norm (and Euclidean for entropy/KL): kiddo k-d trees for 1–16 dimensions, sorted arrays for 1-D radius counts, and the brute-force twin the tests compare against.
//!
//! Every query excludes the point itself and, with a Theiler window W, every j with
//! |i − j| ≤ W. Neighbours are ordered by (distance, index), so ties are broken the same
//! way by every backend.

use std::num::NonZero;

use kiddo::float::distance::{Chebyshev, SquaredEuclidean};
use kiddo::immutable::float::kdtree::ImmutableKdTree;

use crate::Samples;

/// Which neighbour-search implementation to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// k-d trees (kiddo) for dimensions 1–16, sorted arrays for 1-D counts, brute force beyond.
    #[default]
    Auto,
    /// O(N²) exhaustive search: the reference twin, for tests and tiny inputs.
    BruteForce,
}

/// The distance between points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    /// max_i |a_i − b_i| (KSG's norm).
    #[default]
    MaxNorm,
    /// sqrt(Σ (a_i − b_i)²).
    Euclidean,
}

trait Tree: Send + Sync {
    /// up to n nearest (distance, index) in any order; distance in the metric's own units.
    fn nearest(&self, q: &[f64], n: usize) -> Vec<(f64, usize)>;
    /// all (distance, index) with distance ≤ r.
    fn within(&self, q: &[f64], r: f64) -> Vec<(f64, usize)>;
    /// how many points have distance < r (strict) or ≤ r and are not `skip`ped; one
    /// allocation (the tree's result) instead of three.
    fn count_within(&self, q: &[f64], r: f64, strict: bool, skip: &dyn Fn(usize) -> bool) -> usize;
}

struct KdTree<const K: usize> {
    tree: ImmutableKdTree<f64, u64, K, 32>,
    metric: Metric,
}

impl<const K: usize> KdTree<K> {
    fn build(s: &Samples, metric: Metric) -> Self {
        let pts: Vec<[f64; K]> = (0..s.n_samples())
            .map(|i| s.row(i).try_into().expect("dimension K"))
            .collect();
        KdTree {
            tree: ImmutableKdTree::new_from_slice(&pts),
            metric,
        }
    }
}

impl<const K: usize> Tree for KdTree<K> {
    fn nearest(&self, q: &[f64], n: usize) -> Vec<(f64, usize)> {
        let q: &[f64; K] = q.try_into().expect("dimension K");
        let n = NonZero::new(n).expect("n ≥ 1");
        match self.metric {
            Metric::MaxNorm => self
                .tree
                .nearest_n::<Chebyshev>(q, n)
                .into_iter()
                .map(|nn| (nn.distance, nn.item as usize))
                .collect(),
            Metric::Euclidean => self
                .tree
                .nearest_n::<SquaredEuclidean>(q, n)
                .into_iter()
                .map(|nn| (nn.distance.sqrt(), nn.item as usize))
                .collect(),
        }
    }
    fn count_within(&self, q: &[f64], r: f64, strict: bool, skip: &dyn Fn(usize) -> bool) -> usize {
        let qa: &[f64; K] = q.try_into().expect("dimension K");
        let inside = |d: f64| if strict { d < r } else { d <= r };
        match self.metric {
            Metric::MaxNorm => self
                .tree
                .within_unsorted::<Chebyshev>(qa, r.next_up())
                .iter()
                .filter(|nn| inside(nn.distance) && !skip(nn.item as usize))
                .count(),
            Metric::Euclidean => self
                .within(q, r)
                .iter()
                .filter(|&&(d, j)| inside(d) && !skip(j))
                .count(),
        }
    }
    fn within(&self, q: &[f64], r: f64) -> Vec<(f64, usize)> {
        let q: &[f64; K] = q.try_into().expect("dimension K");
        // query a hair wider, then filter exactly: the tree's own boundary rule does not matter
        let wide = r.next_up();
        match self.metric {
            Metric::MaxNorm => self
                .tree
                .within_unsorted::<Chebyshev>(q, wide)
                .into_iter()
                .map(|nn| (nn.distance, nn.item as usize))
                .collect(),
            Metric::Euclidean => self
                .tree
                .within_unsorted::<SquaredEuclidean>(q, (wide * wide).next_up())
                .into_iter()
                .map(|nn| (nn.distance.sqrt(), nn.item as usize))
                .collect(),
        }
    }
}

fn build_tree(s: &Samples, metric: Metric) -> Option<Box<dyn Tree>> {
    macro_rules! dispatch {
        ($($k:literal)*) => {
            match s.dim() {
                $($k => Some(Box::new(KdTree::<$k>::build(s, metric)) as Box<dyn Tree>),)*
                _ => None,
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

/// Distance between two points under the metric.
#[inline]
pub(crate) fn distance(a: &[f64], b: &[f64], metric: Metric) -> f64 {
    match metric {
        Metric::MaxNorm => a
            .iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs())),
        Metric::Euclidean => a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt(),
    }
}

/// A searchable point set.
pub(crate) struct Index<'a> {
    s: &'a Samples,
    metric: Metric,
    theiler: usize,
    tree: Option<Box<dyn Tree>>,
    /// 1-D only: values sorted ascending.
    sorted: Option<Vec<f64>>,
}

impl<'a> Index<'a> {
    pub(crate) fn new(s: &'a Samples, metric: Metric, theiler: usize, backend: Backend) -> Self {
        let (tree, sorted) = match backend {
            Backend::BruteForce => (None, None),
            Backend::Auto => {
                let sorted = (s.dim() == 1).then(|| {
                    let mut v = s.as_slice().to_vec();
                    v.sort_by(f64::total_cmp);
                    v
                });
                (build_tree(s, metric), sorted)
            }
        };
        Index {
            s,
            metric,
            theiler,
            tree,
            sorted,
        }
    }

    fn excluded(&self, i: usize, j: usize) -> bool {
        i.abs_diff(j) <= self.theiler
    }

    /// The k nearest neighbours of point i as (distance, index), ordered by (distance, index).
    pub(crate) fn knn(&self, i: usize, k: usize) -> Vec<(f64, usize)> {
        let q = self.s.row(i);
        let n = self.s.n_samples();
        let by_distance_then_index =
            |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        let mut cand: Vec<(f64, usize)> = match &self.tree {
            Some(t) => {
                let want = (k + 2 + 2 * self.theiler).min(n);
                let mut c = t.nearest(q, want);
                c.retain(|&(_, j)| !self.excluded(i, j));
                c.sort_by(by_distance_then_index);
                // the k-th distance reaching the farthest returned means points at that
                // distance may have been cut off: fetch all of them, so the (distance, index)
                // order is the same as brute force
                let farthest = c.last().map_or(0.0, |x| x.0);
                if let Some(&(kth, _)) = c.get(k - 1).filter(|x| x.0 >= farthest) {
                    c = t.within(q, kth);
                    c.retain(|&(_, j)| !self.excluded(i, j));
                    c.sort_by(by_distance_then_index);
                }
                c
            }
            None => {
                let mut c: Vec<(f64, usize)> = (0..n)
                    .filter(|&j| !self.excluded(i, j))
                    .map(|j| (distance(q, self.s.row(j), self.metric), j))
                    .collect();
                c.sort_by(by_distance_then_index);
                c
            }
        };
        cand.truncate(k);
        cand
    }

    /// Distance from an outside point q to its k-th nearest point of the set (no exclusions).
    pub(crate) fn kth_from_point(&self, q: &[f64], k: usize) -> f64 {
        let mut d: Vec<f64> = match &self.tree {
            Some(t) => t.nearest(q, k).into_iter().map(|x| x.0).collect(),
            None => (0..self.s.n_samples())
                .map(|j| distance(q, self.s.row(j), self.metric))
                .collect(),
        };
        d.sort_by(f64::total_cmp);
        d[k - 1]
    }

    /// Number of points j (not excluded) with distance < r (strict) or ≤ r.
    pub(crate) fn count(&self, i: usize, r: f64, strict: bool) -> usize {
        let q = self.s.row(i);
        let inside = |d: f64| if strict { d < r } else { d <= r };
        if let Some(sorted) = &self.sorted {
            let x = q[0];
            let lo = if strict {
                sorted.partition_point(|&v| x - v >= r)
            } else {
                sorted.partition_point(|&v| x - v > r)
            };
            let hi = if strict {
                sorted.partition_point(|&v| v - x < r)
            } else {
                sorted.partition_point(|&v| v - x <= r)
            };
            let mut c = hi.saturating_sub(lo);
            // remove self and the Theiler window
            let (a, b) = (
                i.saturating_sub(self.theiler),
                (i + self.theiler).min(self.s.n_samples() - 1),
            );
            for j in a..=b {
                if inside((self.s.row(j)[0] - x).abs()) {
                    c = c.saturating_sub(1);
                }
            }
            return c;
        }
        match &self.tree {
            Some(t) => t.count_within(q, r, strict, &|j| self.excluded(i, j)),
            None => self.within(i, r, strict).len(),
        }
    }

    /// Indices of points j (not excluded) with distance < r (strict) or ≤ r.
    pub(crate) fn within(&self, i: usize, r: f64, strict: bool) -> Vec<usize> {
        let q = self.s.row(i);
        let inside = |d: f64| if strict { d < r } else { d <= r };
        match &self.tree {
            Some(t) => t
                .within(q, r)
                .into_iter()
                .filter(|&(d, j)| inside(d) && !self.excluded(i, j))
                .map(|(_, j)| j)
                .collect(),
            None => (0..self.s.n_samples())
                .filter(|&j| {
                    !self.excluded(i, j) && inside(distance(q, self.s.row(j), self.metric))
                })
                .collect(),
        }
    }
}
