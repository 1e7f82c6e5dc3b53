//! Nearest-neighbour search: our own max-norm k-d tree (exact k-NN, box-pruned radius counts) for 2+ dimensions, galloping sorted arrays for 1-D counts, kiddo for Euclidean queries, and the brute-force twin the tests compare against.
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
    /// Our max-norm k-d tree (2+ dimensions), sorted arrays for 1-D counts, kiddo k-d trees
    /// for Euclidean queries (1–16 dimensions), brute force beyond.
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

/// Points per leaf of [`CountTree`].
const LEAF: usize = 32;

/// A k-d tree that counts the points of a max-norm ball without visiting boxes that lie wholly
/// inside or wholly outside it (kiddo visits and returns every point inside, which is most of
/// the work when marginal counts run into the thousands).
///
/// Exactness: a box test compares `hi − q` and `q − lo` per coordinate; subtraction rounds
/// monotonically, so for every point p in the box `p − q ≤ hi − q` and `q − p ≤ q − lo` hold
/// after rounding too. A box therefore counts as inside (or outside) exactly when every point
/// in it would, and counts equal the brute-force twin's bit for bit.
struct CountTree {
    d: usize,
    /// points in tree order; within a leaf, column-major (all first coordinates, then all second, …)
    pts: Vec<f64>,
    /// original row of each point, in tree order
    ids: Vec<u32>,
    /// per node: d lower bounds, then d upper bounds
    bounds: Vec<f64>,
    nodes: Vec<CountNode>,
}

#[derive(Clone, Copy)]
struct CountNode {
    start: u32,
    end: u32,
    /// children, or u32::MAX for a leaf
    left: u32,
    right: u32,
}

impl CountTree {
    fn build(s: &Samples) -> Self {
        let (n, d) = (s.n_samples(), s.dim());
        let mut idx: Vec<u32> = (0..n as u32).collect();
        let mut t = CountTree {
            d,
            pts: Vec::new(),
            ids: Vec::new(),
            bounds: Vec::new(),
            nodes: Vec::new(),
        };
        if n > 0 {
            t.split(s, &mut idx, 0);
        }
        t.ids = idx.clone();
        // each leaf's points column by column, so a leaf scan runs down contiguous columns
        t.pts = vec![0.0; n * d];
        for node in t.nodes.iter().filter(|nd| nd.left == u32::MAX) {
            let (a, b) = (node.start as usize, node.end as usize);
            for (p, &i) in idx[a..b].iter().enumerate() {
                for (c, &v) in s.row(i as usize).iter().enumerate() {
                    t.pts[a * d + c * (b - a) + p] = v;
                }
            }
        }
        t
    }

    /// Builds the node for idx (rows start.. of the final order); returns its number.
    fn split(&mut self, s: &Samples, idx: &mut [u32], start: usize) -> u32 {
        let d = self.d;
        let (mut lo, mut hi) = (vec![f64::INFINITY; d], vec![f64::NEG_INFINITY; d]);
        for &i in idx.iter() {
            for (c, &v) in s.row(i as usize).iter().enumerate() {
                lo[c] = lo[c].min(v);
                hi[c] = hi[c].max(v);
            }
        }
        let me = self.nodes.len();
        self.nodes.push(CountNode {
            start: start as u32,
            end: (start + idx.len()) as u32,
            left: u32::MAX,
            right: u32::MAX,
        });
        self.bounds.extend_from_slice(&lo);
        self.bounds.extend_from_slice(&hi);
        if idx.len() > LEAF {
            let axis = (0..d)
                .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
                .unwrap_or(0);
            let mid = idx.len() / 2;
            idx.select_nth_unstable_by(mid, |&a, &b| {
                s.row(a as usize)[axis].total_cmp(&s.row(b as usize)[axis])
            });
            let (l, r) = idx.split_at_mut(mid);
            let left = self.split(s, l, start);
            let right = self.split(s, r, start + mid);
            self.nodes[me].left = left;
            self.nodes[me].right = right;
        }
        me as u32
    }

    /// Points with max-norm distance < r (strict) or ≤ r from q, q itself included if stored.
    fn count(&self, q: &[f64], r: f64, strict: bool) -> usize {
        let mut total = 0usize;
        self.walk(q, r, strict, |a, b| total += b - a);
        total
    }

    /// The rows counted by [`CountTree::count`], in tree order.
    fn within(&self, q: &[f64], r: f64, strict: bool) -> Vec<usize> {
        let mut out = Vec::new();
        self.walk(q, r, strict, |a, b| {
            out.extend(self.ids[a..b].iter().map(|&j| j as usize));
        });
        out
    }

    /// Calls `visit(a, b)` for runs a..b of tree positions that cover the ball's points
    /// exactly once (a whole box inside it, or one point of a leaf).
    fn walk(&self, q: &[f64], r: f64, strict: bool, visit: impl FnMut(usize, usize)) {
        macro_rules! dispatch {
            ($($k:literal)*) => {
                match (self.d, strict) {
                    $(($k, true) => self.walk_in::<$k, true>(q, r, visit),
                      ($k, false) => self.walk_in::<$k, false>(q, r, visit),)*
                    (_, true) => self.walk_in::<0, true>(q, r, visit),
                    (_, false) => self.walk_in::<0, false>(q, r, visit),
                }
            };
        }
        dispatch!(2 3 4 5 6 7 8)
    }

    /// The walk for dimension K (0: any dimension, read at run time), strict or not.
    fn walk_in<const K: usize, const STRICT: bool>(
        &self,
        q: &[f64],
        r: f64,
        mut visit: impl FnMut(usize, usize),
    ) {
        #[inline(always)]
        fn inside<const STRICT: bool>(diff: f64, r: f64) -> bool {
            if STRICT { diff < r } else { diff <= r }
        }
        let d = if K == 0 { self.d } else { K };
        let q = &q[..d];
        // depth-first; the tree is at most 33 levels deep (u32 rows, halved at each level),
        // so the stack never holds more than 34 nodes
        let mut stack = [0u32; 66];
        let mut top = usize::from(!self.nodes.is_empty());
        while top > 0 {
            top -= 1;
            let k = stack[top] as usize;
            let node = self.nodes[k];
            let b = &self.bounds[2 * d * k..2 * d * (k + 1)];
            let (lo, hi) = (&b[..d], &b[d..]);
            let mut all_in = true;
            let mut outside = false;
            for c in 0..d {
                let (below, above) = (q[c] - lo[c], hi[c] - q[c]);
                // every point of the box is at least −above (or −below) away on this axis
                if !inside::<STRICT>(-above, r) || !inside::<STRICT>(-below, r) {
                    outside = true;
                    break;
                }
                all_in &= inside::<STRICT>(above, r) && inside::<STRICT>(below, r);
            }
            if outside {
                continue;
            }
            let (start, end) = (node.start as usize, node.end as usize);
            if all_in {
                visit(start, end);
            } else if node.left == u32::MAX {
                let m = end - start;
                let mut dist = [0.0f64; LEAF];
                self.leaf_distances(q, start, end, &mut dist);
                for (p, &v) in dist[..m].iter().enumerate() {
                    if inside::<STRICT>(v, r) {
                        visit(start + p, start + p + 1);
                    }
                }
            } else {
                stack[top] = node.left;
                stack[top + 1] = node.right;
                top += 2;
            }
        }
    }

    /// dist[p] = max_c |q_c − x_c| for the points of the leaf at tree positions start..end:
    /// the value `distance` computes, down the leaf's contiguous columns.
    #[inline(always)]
    fn leaf_distances(&self, q: &[f64], start: usize, end: usize, dist: &mut [f64; LEAF]) {
        let m = end - start;
        let block = &self.pts[start * self.d..end * self.d];
        for (c, col) in block.chunks_exact(m).enumerate() {
            for (dp, &v) in dist[..m].iter_mut().zip(col) {
                *dp = dp.max((q[c] - v).abs());
            }
        }
    }

    /// The k points nearest to q under the max-norm, skipping rows for which `skip` is true,
    /// ordered by (distance, row): exactly the first k of a brute-force sort.
    fn knn(&self, q: &[f64], k: usize, skip: &dyn Fn(usize) -> bool) -> Vec<(f64, usize)> {
        macro_rules! dispatch {
            ($($k:literal)*) => {
                match self.d {
                    $($k => self.knn_in::<$k>(q, k, skip),)*
                    _ => self.knn_in::<0>(q, k, skip),
                }
            };
        }
        dispatch!(2 3 4 5 6 7 8)
    }

    /// Lower bound on the max-norm distance from q to any point of node `node`.
    #[inline(always)]
    fn box_distance<const K: usize>(&self, q: &[f64], node: usize) -> f64 {
        let d = if K == 0 { self.d } else { K };
        let b = &self.bounds[2 * d * node..2 * d * (node + 1)];
        let (lo, hi) = (&b[..d], &b[d..]);
        let mut m = 0.0f64;
        for c in 0..d {
            // rounding is monotone: no point in the box is nearer on this axis than this
            m = m.max(lo[c] - q[c]).max(q[c] - hi[c]);
        }
        m
    }

    fn knn_in<const K: usize>(
        &self,
        q: &[f64],
        k: usize,
        skip: &dyn Fn(usize) -> bool,
    ) -> Vec<(f64, usize)> {
        let d = if K == 0 { self.d } else { K };
        let q = &q[..d];
        let less = |a: (f64, usize), b: (f64, usize)| a.0 < b.0 || (a.0 == b.0 && a.1 < b.1);
        // the best k so far, ascending by (distance, row)
        let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
        let mut stack = [(0u32, 0.0f64); 66];
        let mut top = usize::from(!self.nodes.is_empty() && k > 0);
        while top > 0 {
            top -= 1;
            let (node_k, near) = stack[top];
            // a box strictly farther than the k-th best holds nothing that could enter
            // (ties at equal distance may, with a smaller row, so they are still visited)
            if best.len() == k && near > best[k - 1].0 {
                continue;
            }
            let node = self.nodes[node_k as usize];
            if node.left == u32::MAX {
                let m = (node.end - node.start) as usize;
                let mut dist = [0.0f64; LEAF];
                self.leaf_distances(q, node.start as usize, node.end as usize, &mut dist);
                let ids = &self.ids[node.start as usize..node.end as usize];
                for (&dj, &j) in dist[..m].iter().zip(ids) {
                    let cand = (dj, j as usize);
                    if (best.len() == k && !less(cand, best[k - 1])) || skip(j as usize) {
                        continue;
                    }
                    let at = best.partition_point(|&b| less(b, cand));
                    best.insert(at, cand);
                    best.truncate(k);
                }
            } else {
                let (l, r) = (node.left, node.right);
                let (dl, dr) = (
                    self.box_distance::<K>(q, l as usize),
                    self.box_distance::<K>(q, r as usize),
                );
                // the nearer child is visited first (pushed last)
                let (first, second) = if dl <= dr {
                    ((l, dl), (r, dr))
                } else {
                    ((r, dr), (l, dl))
                };
                stack[top] = second;
                stack[top + 1] = first;
                top += 2;
            }
        }
        best
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

/// `sorted.partition_point(pred)` (pred true on a prefix, false after), found by galloping
/// outward from `start`: the same index, in O(log |answer − start|) probes.
fn gallop(sorted: &[f64], start: usize, pred: impl Fn(f64) -> bool) -> usize {
    let n = sorted.len();
    if n == 0 {
        return 0;
    }
    let start = start.min(n - 1);
    if pred(sorted[start]) {
        // the answer lies in (start, n]
        let (mut lo, mut step) = (start + 1, 1usize);
        loop {
            let probe = start + step;
            if probe >= n {
                return lo + sorted[lo..].partition_point(|&v| pred(v));
            }
            if !pred(sorted[probe]) {
                return lo + sorted[lo..probe].partition_point(|&v| pred(v));
            }
            lo = probe + 1;
            step *= 2;
        }
    } else {
        // the answer lies in [0, start]
        let (mut hi, mut step) = (start, 1usize);
        loop {
            if step > start {
                return sorted[..hi].partition_point(|&v| pred(v));
            }
            let probe = start - step;
            if pred(sorted[probe]) {
                return probe + 1 + sorted[probe + 1..hi].partition_point(|&v| pred(v));
            }
            hi = probe;
            step *= 2;
        }
    }
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
    /// 1-D only: values sorted ascending, and each row's position in that order.
    sorted: Option<(Vec<f64>, Vec<u32>)>,
    /// max-norm, 2 or more dimensions: the counting tree.
    counter: Option<CountTree>,
}

impl<'a> Index<'a> {
    pub(crate) fn new(s: &'a Samples, metric: Metric, theiler: usize, backend: Backend) -> Self {
        let (tree, sorted, counter) = match backend {
            Backend::BruteForce => (None, None, None),
            Backend::Auto => {
                let sorted = (s.dim() == 1 && s.n_samples() <= u32::MAX as usize).then(|| {
                    let mut pairs: Vec<(f64, u32)> = (0u32..)
                        .zip(s.as_slice())
                        .map(|(row, &v)| (v, row))
                        .collect();
                    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let mut rank = vec![0u32; pairs.len()];
                    for (pos, &(_, row)) in pairs.iter().enumerate() {
                        rank[row as usize] = pos as u32;
                    }
                    (pairs.into_iter().map(|(v, _)| v).collect(), rank)
                });
                let counter = (s.dim() >= 2
                    && metric == Metric::MaxNorm
                    && s.n_samples() <= u32::MAX as usize)
                    .then(|| CountTree::build(s));
                // the counting tree answers every max-norm query; kiddo serves the rest
                let tree = if counter.is_some() {
                    None
                } else {
                    build_tree(s, metric)
                };
                (tree, sorted, counter)
            }
        };
        Index {
            s,
            metric,
            theiler,
            tree,
            sorted,
            counter,
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
        if let Some(counter) = &self.counter {
            return counter.knn(q, k, &|j| self.excluded(i, j));
        }
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
        if let Some(counter) = &self.counter {
            return counter.knn(q, k, &|_| false)[k - 1].0;
        }
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
        let all = if let Some((sorted, rank)) = &self.sorted {
            // both ends are searched outward from the point's own position: the count is
            // local, so a galloping search touches O(log count) nearby values, not log N
            let (x, at) = (q[0], rank[i] as usize);
            let (lo, hi) = if strict {
                (
                    gallop(sorted, at, |v| x - v >= r),
                    gallop(sorted, at, |v| v - x < r),
                )
            } else {
                (
                    gallop(sorted, at, |v| x - v > r),
                    gallop(sorted, at, |v| v - x <= r),
                )
            };
            hi.saturating_sub(lo)
        } else if let Some(counter) = &self.counter {
            counter.count(q, r, strict)
        } else {
            // brute force, or a kiddo tree (Euclidean): the listed points, exclusions applied
            return self.within(i, r, strict).len();
        };
        // the whole-set count includes the point itself and its Theiler window: remove them
        let (a, b) = (
            i.saturating_sub(self.theiler),
            (i + self.theiler).min(self.s.n_samples() - 1),
        );
        let window = (a..=b)
            .filter(|&j| inside(distance(q, self.s.row(j), self.metric)))
            .count();
        all.saturating_sub(window)
    }

    /// Indices of points j (not excluded) with distance < r (strict) or ≤ r.
    pub(crate) fn within(&self, i: usize, r: f64, strict: bool) -> Vec<usize> {
        let q = self.s.row(i);
        let inside = |d: f64| if strict { d < r } else { d <= r };
        if let Some(counter) = &self.counter {
            let mut v = counter.within(q, r, strict);
            v.retain(|&j| !self.excluded(i, j));
            return v;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every count and neighbour list of the fast index equals brute force: tie-heavy integer grids where radii
    /// fall exactly on distances, strict and not, with and without a Theiler window, in 1, 2, 3
    /// and 18 dimensions (the last has no kiddo tree).
    #[test]
    fn counts_and_neighbours_equal_brute_force_on_ties() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for (d, n) in [(1usize, 400usize), (2, 300), (3, 250), (18, 120)] {
            let data: Vec<f64> = (0..n * d).map(|_| (next() % 5) as f64).collect();
            let s = Samples::new(n, d, data).unwrap();
            for theiler in [0usize, 2] {
                let fast = Index::new(&s, Metric::MaxNorm, theiler, Backend::Auto);
                let slow = Index::new(&s, Metric::MaxNorm, theiler, Backend::BruteForce);
                for i in (0..n).step_by(7) {
                    for k in [1usize, 3, 10] {
                        assert_eq!(
                            fast.knn(i, k),
                            slow.knn(i, k),
                            "d={d} W={theiler} i={i} k={k}"
                        );
                    }
                    for r in [0.0, 0.5, 1.0, 2.0, 3.5, 4.0, 5.0] {
                        for strict in [true, false] {
                            assert_eq!(
                                fast.count(i, r, strict),
                                slow.count(i, r, strict),
                                "d={d} W={theiler} i={i} r={r} strict={strict}"
                            );
                            let mut w = fast.within(i, r, strict);
                            w.sort_unstable();
                            assert_eq!(w, slow.within(i, r, strict));
                        }
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Random small sets on a coarse grid (many ties), random radius, k and window: the
        /// tree and brute force agree on every query.
        #[test]
        fn tree_equals_brute_force(
            d in 2usize..6,
            cells in proptest::collection::vec(0u8..4, 40 * 6..=90 * 6),
            r in 0.0f64..3.0,
            k in 1usize..6,
            theiler in 0usize..3,
        ) {
            let n = cells.len() / 6;
            let data: Vec<f64> = cells[..n * d].iter().map(|&c| f64::from(c) * 0.5).collect();
            let s = Samples::new(n, d, data).unwrap();
            let fast = Index::new(&s, Metric::MaxNorm, theiler, Backend::Auto);
            let slow = Index::new(&s, Metric::MaxNorm, theiler, Backend::BruteForce);
            // radii on the grid's own distances, and the random one
            for r in [r, (r * 2.0).round() * 0.5] {
                for i in 0..n {
                    proptest::prop_assert_eq!(fast.knn(i, k), slow.knn(i, k));
                    for strict in [true, false] {
                        proptest::prop_assert_eq!(fast.count(i, r, strict), slow.count(i, r, strict));
                    }
                }
            }
        }
    }
}
