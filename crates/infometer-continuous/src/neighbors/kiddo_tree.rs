//! kiddo's immutable k-d tree behind one small trait: Euclidean queries in 1–16 dimensions and 1-D k-NN (a hair-wider radius query, then an exact filter, so kiddo's boundary rule never decides a count).

use std::num::NonZero;

use kiddo::float::distance::{Chebyshev, SquaredEuclidean};
use kiddo::immutable::float::kdtree::ImmutableKdTree;

use super::Metric;
use crate::Samples;

/// A k-d tree of fixed dimension behind a dynamic interface.
pub(super) trait Tree: Send + Sync {
    /// up to n nearest (distance, index) in any order; distance in the metric's own units.
    fn nearest(&self, q: &[f64], n: usize) -> Vec<(f64, usize)>;
    /// all (distance, index) with distance ≤ r.
    fn within(&self, q: &[f64], r: f64) -> Vec<(f64, usize)>;
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

/// kiddo's tree for the dimension of `s` (1–16), or None beyond.
pub(super) fn build_tree(s: &Samples, metric: Metric) -> Option<Box<dyn Tree>> {
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
