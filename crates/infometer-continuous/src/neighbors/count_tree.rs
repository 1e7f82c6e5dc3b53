//! Our max-norm k-d tree for 2 or more dimensions: exact k-NN in (distance, index) order, and radius counts that add whole boxes inside the ball without visiting their points.

use super::{Collect, KthDistance, Nearest, SMALL_K, fmax};

/// What [`CountTree::knn_map`] does with a row's neighbours: writes the row's slots.
pub(super) type RowMap<'f> = dyn Fn(usize, &[(f64, usize)], &mut [f64]) + Sync + 'f;
use crate::Samples;

/// From this many dimensions on, a k-NN leaf scan takes the first half of the columns for
/// every point and the rest only for the points still near enough.
const SPLIT_SCAN_FROM: usize = 6;

/// Points per leaf of [`CountTree`].
const LEAF: usize = 64;
// a leaf's queries are a u64 mask in `count_all`
const _: () = assert!(LEAF <= 64);

/// A k-d tree that counts the points of a max-norm ball without visiting boxes that lie wholly
/// inside or wholly outside it (kiddo visits and returns every point inside, which is most of
/// the work when marginal counts run into the thousands).
///
/// Exactness: a box test compares `hi − q` and `q − lo` per coordinate; subtraction rounds
/// monotonically, so for every point p in the box `p − q ≤ hi − q` and `q − p ≤ q − lo` hold
/// after rounding too. A box therefore counts as inside (or outside) exactly when every point
/// in it would, and counts equal the brute-force twin's bit for bit.
pub(super) struct CountTree {
    d: usize,
    /// points in tree order; within a leaf, column-major (all first coordinates, then all second, …)
    pts: Vec<f64>,
    /// original row of each point, in tree order
    ids: Vec<u32>,
    /// per node: d lower bounds, then d upper bounds
    bounds: Vec<f64>,
    nodes: Vec<CountNode>,
}

/// `d < r` (strict) or `d ≤ r`.
#[inline(always)]
fn inside<const STRICT: bool>(d: f64, r: f64) -> bool {
    if STRICT { d < r } else { d <= r }
}

/// The box lo..hi against the ball of radius r around q (q's coordinate c is `q(c)`):
/// (every point of the box outside the ball, every point inside it). All axes are taken
/// without a branch (`&`, `|`), so the loop unrolls into straight-line code.
#[inline(always)]
fn box_test<const STRICT: bool>(
    lo: &[f64],
    hi: &[f64],
    r: f64,
    q: impl Fn(usize) -> f64,
) -> (bool, bool) {
    let (mut outside, mut all_in) = (false, true);
    for (c, (&l, &h)) in lo.iter().zip(hi).enumerate() {
        let (below, above) = (q(c) - l, h - q(c));
        // every point of the box is at least −above (or −below) away on this axis
        outside |= !inside::<STRICT>(-above, r) | !inside::<STRICT>(-below, r);
        all_in &= inside::<STRICT>(above, r) & inside::<STRICT>(below, r);
    }
    (outside, all_in)
}

/// What a radius walk does with the points it finds.
trait Visit {
    /// Tree positions a..b, a whole box inside the ball.
    fn whole(&mut self, a: usize, b: usize);
    /// A leaf at tree positions start.., each point's distance from the query.
    fn leaf<const STRICT: bool>(&mut self, start: usize, dist: &[f64], r: f64);
}

/// Counts the points: a leaf's are summed without a branch per point.
struct Counter<'a>(&'a mut usize);

impl Visit for Counter<'_> {
    #[inline(always)]
    fn whole(&mut self, a: usize, b: usize) {
        *self.0 += b - a;
    }
    #[inline(always)]
    fn leaf<const STRICT: bool>(&mut self, _start: usize, dist: &[f64], r: f64) {
        *self.0 += dist
            .iter()
            .map(|&d| usize::from(inside::<STRICT>(d, r)))
            .sum::<usize>();
    }
}

/// Lists the points' rows.
struct Lister<'a>(&'a [u32], &'a mut Vec<usize>);

impl Visit for Lister<'_> {
    fn whole(&mut self, a: usize, b: usize) {
        self.1.extend(self.0[a..b].iter().map(|&j| j as usize));
    }
    fn leaf<const STRICT: bool>(&mut self, start: usize, dist: &[f64], r: f64) {
        for (p, &d) in dist.iter().enumerate() {
            if inside::<STRICT>(d, r) {
                self.1.push(self.0[start + p] as usize);
            }
        }
    }
}

#[derive(Clone, Copy)]
struct CountNode {
    start: u32,
    end: u32,
    /// children, or u32::MAX for a leaf
    left: u32,
    right: u32,
}

/// Nodes in the tree over n points: the shape depends on n alone ([`split_at`]), so
/// every subtree's place in the preorder arrays is known before it is built.
fn node_count(n: usize) -> usize {
    if n > LEAF {
        let left = split_at(n);
        1 + node_count(left) + node_count(n - left)
    } else {
        1
    }
}

/// Where a node of n > LEAF points splits: a whole number of full leaves' worth on the left
/// (in proportion), so the leaves hold close to LEAF points rather than anywhere from half of
/// it (measured: 4% faster KSG at 10⁵ points in 4+4 dimensions, the same at 10⁴).
fn split_at(n: usize) -> usize {
    let leaves = n.div_ceil(LEAF);
    (leaves / 2) * n / leaves
}

/// Subtrees at least this large build their two halves in parallel.
const PARALLEL_BUILD: usize = 4096;

/// One subtree under construction: its rows (tree positions start..), its node's number `me`,
/// and its own parts of the preorder node and bound arrays and of the points.
struct Subtree<'a> {
    idx: &'a mut [u32],
    start: usize,
    me: usize,
    nodes: &'a mut [CountNode],
    bounds: &'a mut [f64],
    pts: &'a mut [f64],
}

impl Subtree<'_> {
    /// Fills the subtree: its box, then either its two parts (split on its widest axis at
    /// the [`split_at`]-th value, the left part first in preorder) or, for a leaf, its points
    /// column by column, so a leaf scan runs down contiguous columns.
    fn build(self, s: &Samples, keys: &mut Vec<(f64, u32)>) {
        let d = s.dim();
        let len = self.idx.len();
        let (lo, rest) = self.bounds.split_at_mut(d);
        let (hi, bounds) = rest.split_at_mut(d);
        lo.fill(f64::INFINITY);
        hi.fill(f64::NEG_INFINITY);
        for &i in self.idx.iter() {
            for (c, &v) in s.row(i as usize).iter().enumerate() {
                lo[c] = lo[c].min(v);
                hi[c] = hi[c].max(v);
            }
        }
        let (node, nodes) = self.nodes.split_at_mut(1);
        node[0] = CountNode {
            start: self.start as u32,
            end: (self.start + len) as u32,
            left: u32::MAX,
            right: u32::MAX,
        };
        if len <= LEAF {
            for (p, &i) in self.idx.iter().enumerate() {
                for (c, &v) in s.row(i as usize).iter().enumerate() {
                    self.pts[c * len + p] = v;
                }
            }
            return;
        }
        let axis = (0..d)
            .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
            .unwrap_or(0);
        let mid = split_at(len);
        // the axis values beside their rows, so the selection reads one contiguous array
        keys.clear();
        keys.extend(self.idx.iter().map(|&i| (s.row(i as usize)[axis], i)));
        keys.select_nth_unstable_by(mid, |a, b| a.0.total_cmp(&b.0));
        for (i, &(_, row)) in self.idx.iter_mut().zip(keys.iter()) {
            *i = row;
        }
        let left_nodes = node_count(mid);
        node[0].left = (self.me + 1) as u32;
        node[0].right = (self.me + 1 + left_nodes) as u32;
        let (ln, rn) = nodes.split_at_mut(left_nodes);
        let (lb, rb) = bounds.split_at_mut(left_nodes * 2 * d);
        let (li, ri) = self.idx.split_at_mut(mid);
        let (lp, rp) = self.pts.split_at_mut(mid * d);
        let left = Subtree {
            idx: li,
            start: self.start,
            me: self.me + 1,
            nodes: ln,
            bounds: lb,
            pts: lp,
        };
        let right = Subtree {
            idx: ri,
            start: self.start + mid,
            me: self.me + 1 + left_nodes,
            nodes: rn,
            bounds: rb,
            pts: rp,
        };
        if len >= PARALLEL_BUILD {
            rayon::join(
                || left.build(s, keys),
                || right.build(s, &mut Vec::with_capacity(len - mid)),
            );
        } else {
            left.build(s, keys);
            right.build(s, keys);
        }
    }
}

/// The tree's points and boxes rounded to f32, to screen the box tests and leaf scans of
/// [`CountTree::count_all`] and the leaf scans of the batched k-NN walk
/// ([`CountTree::per_leaf`]) at twice the lanes. A point whose f32 distance is below a radius
/// by more than rounding could move it is inside, one above it by more is outside. A count
/// rescans in f64 a leaf with any point in between, and takes a box as wholly inside or
/// outside only where f32 is sure (else it walks into it); the k-NN walk takes in f64 every
/// point not outside its current bound. Both therefore equal the f64 walks, bit for bit.
///
/// The slack. Let M be the largest |coordinate| and u = 2⁻²⁴. Rounding a coordinate to f32
/// moves it by at most u·M + 2⁻¹⁵⁰ (the last term below f32's normal range). The f32
/// difference of two rounded coordinates is then within 2u·M + 2⁻¹⁴⁹ of the exact
/// difference before its own rounding, which adds at most u·2M(1 + u) + 2⁻¹⁵⁰; the f64
/// difference the exact scan takes is within 2⁻⁵³·2M of it. So each axis's |difference|,
/// and their maximum, differ between the f32 and the f64 scan by less than 4.02·u·M +
/// 2⁻¹⁴⁷; a box test takes differences of the same kind (a box's bounds are its points'
/// coordinates), so the same holds for it. `slack` is 8.2·u·M + 2⁻¹⁴⁰, twice that.
/// Coordinates beyond 10³⁰ get no screen (f32 would overflow).
struct Screen {
    /// each leaf's points column by column, each column padded with +∞ to a multiple of LANES
    pts: Vec<f32>,
    /// every node's box in f32 (d lower bounds, then d upper; the bounds are points'
    /// coordinates, so the slack covers them as it covers the points)
    bounds: Vec<f32>,
    /// where each node's columns start in `pts` (leaves only)
    at: Vec<usize>,
    slack: f64,
}

impl Screen {
    /// None when a coordinate is beyond f32's range (there the screen would not hold).
    fn new(t: &CountTree) -> Option<Screen> {
        let m = t.pts.iter().fold(0.0f64, |m, &v| fmax(m, v.abs()));
        if m > 1e30 {
            return None;
        }
        let d = t.d;
        let mut at = vec![0usize; t.nodes.len()];
        let mut pts = Vec::with_capacity(t.pts.len() + t.nodes.len() * LANES * d);
        for (k, node) in t.nodes.iter().enumerate() {
            if node.left != u32::MAX {
                continue;
            }
            at[k] = pts.len();
            let (start, len) = (node.start as usize, (node.end - node.start) as usize);
            let stride = len.div_ceil(LANES) * LANES;
            for col in t.pts[start * d..(start + len) * d].chunks_exact(len.max(1)) {
                pts.extend(col.iter().map(|&v| v as f32));
                pts.extend(std::iter::repeat_n(f32::INFINITY, stride - len));
            }
        }
        Some(Screen {
            pts,
            bounds: t.bounds.iter().map(|&v| v as f32).collect(),
            at,
            slack: 8.2 * m * f64::from(f32::EPSILON) / 2.0 + 2f64.powi(-140),
        })
    }

    /// Node k's box against a query `q` (f32, its `d` coordinates) and the thresholds of one
    /// radius ([`Screen::thresholds`]): (every point of the box outside the radius, every
    /// point inside it), each true only where f32 is sure; where it is not, the walk goes on
    /// into the box, which changes no count and no neighbour, only the work.
    #[inline(always)]
    fn box_test<const K: usize>(
        &self,
        d: usize,
        k: usize,
        q: &[f32],
        below: f32,
        above: f32,
    ) -> (bool, bool) {
        let d = if K == 0 { d } else { K };
        let b = &self.bounds[2 * d * k..2 * d * (k + 1)];
        let (lo, hi) = (&b[..d], &b[d..]);
        let (mut outside, mut all_in) = (false, true);
        for c in 0..d {
            // the query's distance beyond the box's slab on this axis, and to its far side
            let gap = f32_max(lo[c] - q[c], q[c] - hi[c]);
            let far = f32_max(hi[c] - q[c], q[c] - lo[c]);
            outside |= gap > above;
            all_in &= far < below;
        }
        (outside, all_in & !outside)
    }

    /// Leaf `k` of `len` points in `d` dimensions: its columns, and their stride.
    fn leaf(&self, k: usize, len: usize, d: usize) -> (&[f32], usize) {
        let stride = len.div_ceil(LANES) * LANES;
        (&self.pts[self.at[k]..self.at[k] + stride * d], stride)
    }

    /// (below, above): an f32 distance < below is inside radius r (strict or not), one >
    /// above is outside it. lo = r − slack and hi = r + slack are moved out by 2⁻²² of
    /// themselves and 2⁻¹⁴⁰ before rounding to f32, more than rounding to nearest (2⁻²⁴ of
    /// the value, 2⁻¹⁵⁰ below f32's normal range) and lo's and hi's own f64 rounding can take
    /// back, so below ≤ r − slack and above ≥ r + slack exactly, with no branch.
    fn thresholds(&self, r: f64) -> (f32, f32) {
        const OUT: f64 = 1.0 / (1u64 << 22) as f64;
        let tiny = 2f64.powi(-140);
        let (lo, hi) = (r - self.slack, r + self.slack);
        if !hi.is_finite() {
            // r = +∞ (fewer than k neighbours): every point is inside
            return (f32::INFINITY, f32::INFINITY);
        }
        (
            (lo - lo.abs() * OUT - tiny) as f32,
            (hi + hi.abs() * OUT + tiny) as f32,
        )
    }
}

/// max(from, max over columns c of |q_c − x_c|) for point p of a leaf's m column-major points
/// (`block`): one point's exact distance, or the rest of it after a first stage.
#[inline(always)]
fn column_distance(
    q: &[f64],
    block: &[f64],
    m: usize,
    p: usize,
    columns: std::ops::Range<usize>,
    from: f64,
) -> f64 {
    columns.fold(from, |dj, c| fmax(dj, (q[c] - block[c * m + p]).abs()))
}

/// `f32::max` for values that are never NaN: one max instruction.
#[inline(always)]
fn f32_max(a: f32, b: f32) -> f32 {
    if b > a { b } else { a }
}

/// Up to this many dimensions, the counts' box tests go through the screen (the queries' f32
/// rows are a fixed array); beyond, they stay in f64.
const SCREEN_BOX_DIMS: usize = 16;

/// The screen pads each leaf's columns to a multiple of this many points (with +∞), so its
/// scans have no scalar tail.
const LANES: usize = 8;

/// dist[p] = the f32 max-norm distance from a query (coordinate c is `q(c)`) to point p of
/// one leaf's f32 columns (`block`, each `stride` long; dist is `stride` long).
#[inline(always)]
fn screen_distances(q: impl Fn(usize) -> f32, block: &[f32], stride: usize, dist: &mut [f32]) {
    let mut cols = block.chunks_exact(stride);
    if let Some(first) = cols.next() {
        let q0 = q(0);
        for (dp, &v) in dist.iter_mut().zip(first) {
            *dp = (q0 - v).abs();
        }
    }
    for (c, col) in cols.enumerate() {
        let qc = q(c + 1);
        for (dp, &v) in dist.iter_mut().zip(col) {
            let a = (qc - v).abs();
            *dp = if a > *dp { a } else { *dp };
        }
    }
}

/// One leaf's f32 columns against a query, as [`screen_distances`]: (points with f32
/// distance < below, points with f32 distance ≤ above).
#[inline(always)]
fn screen_leaf(
    q: impl Fn(usize) -> f32,
    block: &[f32],
    stride: usize,
    below: f32,
    above: f32,
) -> (usize, usize) {
    let mut dist = [0.0f32; LEAF];
    let dist = &mut dist[..stride];
    screen_distances(q, block, stride, dist);
    let inside: u32 = dist.iter().map(|&x| u32::from(x < below)).sum();
    let near: u32 = dist.iter().map(|&x| u32::from(x <= above)).sum();
    (inside as usize, near as usize)
}

impl CountTree {
    /// The tree over the rows of s, its nodes in preorder (a node, its left subtree, its right).
    pub(super) fn build(s: &Samples) -> Self {
        let (n, d) = (s.n_samples(), s.dim());
        let mut ids: Vec<u32> = (0..n as u32).collect();
        let count = if n > 0 { node_count(n) } else { 0 };
        let unset = CountNode {
            start: 0,
            end: 0,
            left: u32::MAX,
            right: u32::MAX,
        };
        let mut nodes = vec![unset; count];
        let mut bounds = vec![0.0; count * 2 * d];
        let mut pts = vec![0.0; n * d];
        if n > 0 {
            Subtree {
                idx: &mut ids,
                start: 0,
                me: 0,
                nodes: &mut nodes,
                bounds: &mut bounds,
                pts: &mut pts,
            }
            .build(s, &mut Vec::with_capacity(n));
        }
        CountTree {
            d,
            pts,
            ids,
            bounds,
            nodes,
        }
    }

    /// The leaves' node numbers, in tree order.
    fn leaves(&self) -> Vec<u32> {
        (0..self.nodes.len() as u32)
            .filter(|&k| self.nodes[k as usize].left == u32::MAX)
            .collect()
    }

    /// The rows in tree order: leaf by leaf, so consecutive rows are close in space.
    pub(super) fn order(&self) -> &[u32] {
        &self.ids
    }

    /// Points with max-norm distance < r (strict) or ≤ r from q, q itself included if stored.
    pub(super) fn count(&self, q: &[f64], r: f64, strict: bool) -> usize {
        let mut total = 0usize;
        self.walk(q, r, strict, &mut Counter(&mut total));
        total
    }

    /// The rows counted by [`CountTree::count`], in tree order.
    pub(super) fn within(&self, q: &[f64], r: f64, strict: bool) -> Vec<usize> {
        let mut out = Vec::new();
        self.walk(q, r, strict, &mut Lister(&self.ids, &mut out));
        out
    }

    /// Hands `visit` the ball's points exactly once: whole boxes inside it, and the leaves
    /// it cuts with each point's distance.
    fn walk(&self, q: &[f64], r: f64, strict: bool, visit: &mut impl Visit) {
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
        dispatch!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
    }

    /// The walk for dimension K (0: any dimension, read at run time), strict or not.
    fn walk_in<const K: usize, const STRICT: bool>(
        &self,
        q: &[f64],
        r: f64,
        visit: &mut impl Visit,
    ) {
        let d = if K == 0 { self.d } else { K };
        let q = &q[..d];
        // depth-first; the tree is at most 33 levels deep (u32 rows, halved at each level),
        // so the stack never holds more than 34 nodes
        let mut stack = [0u32; 66];
        let mut top = usize::from(!self.nodes.is_empty());
        let mut dist = [0.0f64; LEAF];
        while top > 0 {
            top -= 1;
            let k = stack[top] as usize;
            let node = self.nodes[k];
            let b = &self.bounds[2 * d * k..2 * d * (k + 1)];
            let (lo, hi) = (&b[..d], &b[d..]);
            let (outside, all_in) = box_test::<STRICT>(lo, hi, r, |c| q[c]);
            if outside {
                continue;
            }
            let (start, end) = (node.start as usize, node.end as usize);
            if all_in {
                visit.whole(start, end);
            } else if node.left == u32::MAX {
                self.leaf_distances(q, start, end, &mut dist);
                visit.leaf::<STRICT>(start, &dist[..end - start], r);
            } else {
                stack[top] = node.left;
                stack[top + 1] = node.right;
                top += 2;
            }
        }
    }

    /// Radius counts for every stored point as a query, each at its own radius (`radius[row]`),
    /// strict or not; the point itself included, as in [`CountTree::count`]. Returned by row.
    ///
    /// The points of a leaf walk the tree together: a node is read once for all of them, and
    /// only the queries its box cuts go on to its children. Box tests and leaf scans go
    /// through the f32 [`Screen`] where the coordinates allow: a box counts as outside or
    /// inside only where f32 is sure (else the walk goes into it), and a leaf is rescanned in
    /// f64 where f32 cannot tell, so the counts equal [`CountTree::count`]'s, bit for bit.
    pub(super) fn count_all(&self, radius: &[f64], strict: bool) -> Vec<usize> {
        use rayon::prelude::*;
        let leaves = self.leaves();
        let screen = Screen::new(self);
        let screen = screen.as_ref();
        let per_leaf: Vec<[usize; LEAF]> = leaves
            .par_iter()
            .with_min_len(4)
            .map(|&leaf| {
                let mut counts = [0usize; LEAF];
                macro_rules! dispatch {
                    ($($k:literal)*) => {
                        match (self.d, strict) {
                            $(($k, true) => self.leaf_queries::<$k, true>(leaf as usize, radius, screen, &mut counts),
                              ($k, false) => self.leaf_queries::<$k, false>(leaf as usize, radius, screen, &mut counts),)*
                            (_, true) => self.leaf_queries::<0, true>(leaf as usize, radius, screen, &mut counts),
                            (_, false) => self.leaf_queries::<0, false>(leaf as usize, radius, screen, &mut counts),
                        }
                    };
                }
                dispatch!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
                counts
            })
            .collect();
        let mut by_row = vec![0usize; self.ids.len()];
        for (&leaf, counts) in leaves.iter().zip(&per_leaf) {
            let node = self.nodes[leaf as usize];
            let ids = &self.ids[node.start as usize..node.end as usize];
            for (&row, &c) in ids.iter().zip(counts) {
                by_row[row as usize] = c;
            }
        }
        by_row
    }

    /// [`CountTree::count_all`] for the points of one leaf: counts[b] for its b-th point.
    fn leaf_queries<const K: usize, const STRICT: bool>(
        &self,
        leaf: usize,
        radius: &[f64],
        screen: Option<&Screen>,
        counts: &mut [usize; LEAF],
    ) {
        let d = if K == 0 { self.d } else { K };
        let own = self.nodes[leaf];
        let (qs, m) = (own.start as usize, (own.end - own.start) as usize);
        // the queries' coordinates: the leaf's own columns (column-major), and their radii
        let cols = &self.pts[qs * d..(qs + m) * d];
        let mut r = [0.0f64; LEAF];
        for (rb, &row) in r.iter_mut().zip(&self.ids[qs..qs + m]) {
            *rb = radius[row as usize];
        }
        let mut screened = [(0.0f32, 0.0f32); LEAF];
        if let Some(screen) = screen {
            for (t, &rp) in screened.iter_mut().zip(&r[..m]) {
                *t = screen.thresholds(rp);
            }
        }
        // the screen's box tests take the queries' f32 coordinates, row by row
        let screen_boxes = screen.filter(|_| d <= SCREEN_BOX_DIMS);
        let mut q32 = [0.0f32; LEAF * SCREEN_BOX_DIMS];
        if screen_boxes.is_some() {
            for (c, col) in cols.chunks_exact(m.max(1)).enumerate() {
                for (p, &v) in col.iter().enumerate() {
                    q32[p * d + c] = v as f32;
                }
            }
        }
        let all: u64 = if m == 64 { u64::MAX } else { (1u64 << m) - 1 };
        let mut q = vec![0.0f64; d];
        let mut dist = [0.0f64; LEAF];
        // depth-first, as `walk_in`, each entry with the queries still cut by the node
        let mut stack = [(0u32, 0u64); 66];
        let mut top = usize::from(!self.nodes.is_empty() && m > 0);
        stack[0] = (0, all);
        while top > 0 {
            top -= 1;
            let (k, active) = stack[top];
            let node = self.nodes[k as usize];
            let b = &self.bounds[2 * d * k as usize..2 * d * (k as usize + 1)];
            let (lo, hi) = (&b[..d], &b[d..]);
            // each query still active against the box: the screen's f32 test, or the tests of
            // `walk_in` (a pass down the leaf's columns for all of them measured slower: most
            // nodes have few active)
            let (mut out_mask, mut in_mask) = (0u64, 0u64);
            let mut left = active;
            while left != 0 {
                let p = left.trailing_zeros() as usize;
                left &= left - 1;
                let (outside, all_in) = match screen_boxes {
                    Some(screen) => {
                        let (below, above) = screened[p];
                        let q = &q32[p * d..(p + 1) * d];
                        screen.box_test::<K>(d, k as usize, q, below, above)
                    }
                    None => {
                        let (outside, all_in) =
                            box_test::<STRICT>(lo, hi, r[p], |c| cols[c * m + p]);
                        (outside, all_in & !outside)
                    }
                };
                out_mask |= u64::from(outside) << p;
                in_mask |= u64::from(all_in) << p;
            }
            let size = (node.end - node.start) as usize;
            let mut whole = active & in_mask;
            while whole != 0 {
                counts[whole.trailing_zeros() as usize] += size;
                whole &= whole - 1;
            }
            let cut = active & !out_mask & !in_mask;
            if cut == 0 {
                continue;
            }
            if node.left == u32::MAX {
                let (start, end) = (node.start as usize, node.end as usize);
                let mut left = cut;
                while left != 0 {
                    let p = left.trailing_zeros() as usize;
                    left &= left - 1;
                    if let Some(screen) = screen {
                        let (below, above) = screened[p];
                        let (block, stride) = screen.leaf(k as usize, end - start, d);
                        let (inside, near) =
                            screen_leaf(|c| cols[c * m + p] as f32, block, stride, below, above);
                        if inside == near {
                            counts[p] += inside;
                            continue;
                        }
                    }
                    for (c, qc) in q.iter_mut().enumerate() {
                        *qc = cols[c * m + p];
                    }
                    self.leaf_distances(&q, start, end, &mut dist);
                    counts[p] += dist[..end - start]
                        .iter()
                        .map(|&x| usize::from(inside::<STRICT>(x, r[p])))
                        .sum::<usize>();
                }
            } else {
                stack[top] = (node.left, cut);
                stack[top + 1] = (node.right, cut);
                top += 2;
            }
        }
    }

    /// dist[p] = max_c |q_c − x_c| for the points of the leaf at tree positions start..end
    /// (the first end − start entries are overwritten): the value `distance` computes, down
    /// the leaf's contiguous columns.
    #[inline(always)]
    fn leaf_distances(&self, q: &[f64], start: usize, end: usize, dist: &mut [f64; LEAF]) {
        let m = end - start;
        let block = &self.pts[start * self.d..end * self.d];
        let mut cols = block.chunks_exact(m);
        if let Some(first) = cols.next() {
            for (dp, &v) in dist[..m].iter_mut().zip(first) {
                *dp = (q[0] - v).abs();
            }
        }
        for (c, col) in cols.enumerate() {
            for (dp, &v) in dist[..m].iter_mut().zip(col) {
                *dp = fmax(*dp, (q[c + 1] - v).abs());
            }
        }
    }

    /// The k points nearest to q under the max-norm, skipping rows for which `skip` is true,
    /// ordered by (distance, row): exactly the first k of a brute-force sort.
    pub(super) fn knn(
        &self,
        q: &[f64],
        k: usize,
        skip: &dyn Fn(usize) -> bool,
    ) -> Vec<(f64, usize)> {
        macro_rules! dispatch {
            ($($k:literal)*) => {
                match self.d {
                    $($k => self.knn_in::<$k>(q, k, skip),)*
                    _ => self.knn_in::<0>(q, k, skip),
                }
            };
        }
        dispatch!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
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
            m = fmax(fmax(m, lo[c] - q[c]), q[c] - hi[c]);
        }
        m
    }

    /// Offers the points of leaf `leaf`, at their distances from q, to `best`, skipping rows
    /// for which `skip` holds (`dist`: scratch space).
    #[inline(always)]
    fn offer_leaf(
        &self,
        q: &[f64],
        leaf: usize,
        best: &mut impl Collect,
        skip: impl Fn(usize) -> bool,
        dist: &mut [f64; LEAF],
        screen: Option<&Screen>,
    ) {
        let node = self.nodes[leaf];
        let (start, end) = (node.start as usize, node.end as usize);
        let d = self.d;
        if let Some(screen) = screen {
            // every point in f32; in f64, only those the screen cannot rule out (a point
            // within the bound is within it + slack in f32, so none that could enter is lost)
            let m = end - start;
            let (block32, stride) = screen.leaf(leaf, m, d);
            let mut d32 = [0.0f32; LEAF];
            screen_distances(|c| q[c] as f32, block32, stride, &mut d32[..stride]);
            let above = screen.thresholds(best.bound()).1;
            // the points to check as bits, LANES at a time (a vector compare and a mask move)
            let mut near = 0u64;
            for (g, group) in d32[..stride].chunks_exact(LANES).enumerate() {
                let mut bits = 0u64;
                for (l, &x) in group.iter().enumerate() {
                    bits |= u64::from(x <= above) << l;
                }
                near |= bits << (g * LANES);
            }
            // not the padding (+∞, within an infinite bound)
            near &= if m == 64 { u64::MAX } else { (1u64 << m) - 1 };
            let block = &self.pts[start * d..end * d];
            while near != 0 {
                let p = near.trailing_zeros() as usize;
                near &= near - 1;
                let dj = column_distance(q, block, m, p, 0..d, 0.0);
                if dj <= best.bound() {
                    best.offer(dj, self.ids[start + p] as usize, &skip);
                }
            }
            return;
        }
        if d < SPLIT_SCAN_FROM {
            self.leaf_distances(q, start, end, dist);
            for (&dj, &j) in dist[..end - start].iter().zip(&self.ids[start..end]) {
                // most of a leaf is farther than the k-th best: one predictable test each
                if dj <= best.bound() {
                    best.offer(dj, j as usize, &skip);
                }
            }
            return;
        }
        // the first half of the columns for every point, down contiguous columns; the rest
        // only for the few points still within the bound (a max over fewer columns is never
        // larger, so a point dropped here is farther than the bound over all of them)
        let m = end - start;
        let h = d / 2;
        let block = &self.pts[start * d..end * d];
        self.partial_distances(q, block, m, h, dist);
        let bound = best.bound();
        let mut near = [0u8; LEAF];
        let mut count = 0usize;
        for (p, &dp) in dist[..m].iter().enumerate() {
            near[count] = p as u8;
            count += usize::from(dp <= bound);
        }
        for &p in &near[..count] {
            let p = p as usize;
            let dj = column_distance(q, block, m, p, h..d, dist[p]);
            if dj <= best.bound() {
                best.offer(dj, self.ids[start + p] as usize, &skip);
            }
        }
    }

    /// dist[p] = max over the first h columns of |q_c − x_c| for the m points of `block`
    /// (a leaf's column-major points).
    #[inline(always)]
    fn partial_distances(
        &self,
        q: &[f64],
        block: &[f64],
        m: usize,
        h: usize,
        dist: &mut [f64; LEAF],
    ) {
        let mut cols = block.chunks_exact(m).take(h);
        if let Some(first) = cols.next() {
            for (dp, &v) in dist[..m].iter_mut().zip(first) {
                *dp = (q[0] - v).abs();
            }
        }
        for (c, col) in cols.enumerate() {
            for (dp, &v) in dist[..m].iter_mut().zip(col) {
                *dp = fmax(*dp, (q[c + 1] - v).abs());
            }
        }
    }

    /// For every stored point, `f(row, its k nearest neighbours, out)`, the neighbours as
    /// [`CountTree::knn`] gives them (rows j with `skip(row, j)` left out) and `out` the row's
    /// `width` slots of the returned row-major table. The lists are not kept: the memory is
    /// that of the table and of one leaf's lists per thread.
    ///
    /// A leaf's points search together: each first takes its neighbours in its own leaf,
    /// then the tree is walked once for all of them, a node's box tested against each query
    /// still open, and a query leaves the walk where the box is farther than its k-th best. The
    /// k nearest by (distance, row) do not depend on the order points are offered in, so the
    /// lists equal [`CountTree::knn`]'s.
    pub(super) fn knn_map(
        &self,
        k: usize,
        skip: &(dyn Fn(usize, usize) -> bool + Sync),
        width: usize,
        f: &RowMap<'_>,
    ) -> Vec<f64> {
        self.per_leaf(
            width,
            || Nearest::new(k),
            skip,
            |row, best, out| best.with_list(|list| f(row, list, out)),
        )
    }

    /// Every row's k-th smallest distance to the rows j with |row − j| > `theiler` (+∞ with
    /// fewer), by row: [`CountTree::knn_map`]'s batched walk keeping only that distance
    /// ([`KthDistance`]); None for k = 0 or k beyond what it keeps.
    pub(super) fn kth_map(&self, k: usize, theiler: usize) -> Option<Vec<f64>> {
        KthDistance::<SMALL_K>::new(k)?;
        Some(self.per_leaf(
            1,
            || KthDistance::<SMALL_K>::new(k).expect("k checked above"),
            |i: usize, j: usize| i.abs_diff(j) <= theiler,
            |_, best, out| out[0] = best.kth(),
        ))
    }

    /// The batched walk of every leaf ([`CountTree::knn_leaf`]), each query's collector then
    /// written by `f(row, collector, out)` into the row's `width` slots of a row-major table.
    fn per_leaf<C, N, S, F>(&self, width: usize, new: N, skip: S, f: F) -> Vec<f64>
    where
        C: Collect,
        N: Fn() -> C + Sync,
        S: Fn(usize, usize) -> bool + Sync,
        F: Fn(usize, &C, &mut [f64]) + Sync,
    {
        use rayon::prelude::*;
        let leaves = self.leaves();
        let screen = Screen::new(self);
        let screen = screen.as_ref();
        let per_leaf: Vec<Vec<f64>> = leaves
            .par_iter()
            .with_min_len(4)
            .map(|&leaf| {
                macro_rules! dispatch {
                    ($($k:literal)*) => {
                        match self.d {
                            $($k => self.knn_leaf::<$k, C>(leaf as usize, &new, &skip, screen),)*
                            _ => self.knn_leaf::<0, C>(leaf as usize, &new, &skip, screen),
                        }
                    };
                }
                let found = dispatch!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
                let node = self.nodes[leaf as usize];
                let rows = &self.ids[node.start as usize..node.end as usize];
                let mut out = vec![0.0; rows.len() * width];
                for ((&row, best), o) in rows.iter().zip(&found).zip(out.chunks_mut(width.max(1))) {
                    f(row as usize, best, &mut o[..width]);
                }
                out
            })
            .collect();
        let mut table = vec![0.0; self.ids.len() * width];
        for (&leaf, out) in leaves.iter().zip(per_leaf) {
            let node = self.nodes[leaf as usize];
            let rows = &self.ids[node.start as usize..node.end as usize];
            for (p, &row) in rows.iter().enumerate() {
                let row = row as usize;
                table[row * width..(row + 1) * width]
                    .copy_from_slice(&out[p * width..(p + 1) * width]);
            }
        }
        table
    }

    /// What the k nearest of each of one leaf's points leave in a collector made by `new`
    /// ([`CountTree::per_leaf`]), by position in the leaf.
    fn knn_leaf<const K: usize, C: Collect>(
        &self,
        leaf: usize,
        new: &impl Fn() -> C,
        skip: &impl Fn(usize, usize) -> bool,
        screen: Option<&Screen>,
    ) -> Vec<C> {
        let d = if K == 0 { self.d } else { K };
        let own = self.nodes[leaf];
        let (qs, m) = (own.start as usize, (own.end - own.start) as usize);
        let cols = &self.pts[qs * d..(qs + m) * d];
        let rows = &self.ids[qs..qs + m];
        let mut q = vec![0.0f64; d];
        let gather = |q: &mut [f64], p: usize| {
            for (c, qc) in q.iter_mut().enumerate() {
                *qc = cols[c * m + p];
            }
        };
        let mut best: Vec<C> = (0..m).map(|_| new()).collect();
        let mut dist = [0.0f64; LEAF];
        for p in 0..m {
            gather(&mut q, p);
            let row = rows[p] as usize;
            self.offer_leaf(&q, leaf, &mut best[p], |j| skip(row, j), &mut dist, screen);
        }
        let all: u64 = if m == 64 { u64::MAX } else { (1u64 << m) - 1 };
        let mut stack = [(0u32, 0u64); 66];
        let mut top = usize::from(m > 0);
        stack[0] = (0, all);
        while top > 0 {
            top -= 1;
            let (nk, active) = stack[top];
            let nk = nk as usize;
            if nk == leaf {
                continue;
            }
            // the queries for which the box may hold a point that could enter (a box
            // strictly farther than the k-th best holds none; ties may, with a smaller row)
            let mut open = 0u64;
            let mut left = active;
            while left != 0 {
                let p = left.trailing_zeros() as usize;
                left &= left - 1;
                gather(&mut q, p);
                open |= u64::from(self.box_distance::<K>(&q, nk) <= best[p].bound()) << p;
            }
            if open == 0 {
                continue;
            }
            let node = self.nodes[nk];
            if node.left == u32::MAX {
                let mut left = open;
                while left != 0 {
                    let p = left.trailing_zeros() as usize;
                    left &= left - 1;
                    gather(&mut q, p);
                    let row = rows[p] as usize;
                    self.offer_leaf(&q, nk, &mut best[p], |j| skip(row, j), &mut dist, screen);
                }
            } else {
                // the child holding the queries' own leaf is walked first (pushed last)
                let holds = |c: u32| {
                    let n = self.nodes[c as usize];
                    n.start <= own.start && own.end <= n.end
                };
                let (first, second) = if holds(node.left) {
                    (node.left, node.right)
                } else {
                    (node.right, node.left)
                };
                stack[top] = (second, open);
                stack[top + 1] = (first, open);
                top += 2;
            }
        }
        best
    }

    fn knn_in<const K: usize>(
        &self,
        q: &[f64],
        k: usize,
        skip: &dyn Fn(usize) -> bool,
    ) -> Vec<(f64, usize)> {
        let d = if K == 0 { self.d } else { K };
        let q = &q[..d];
        let mut best = Nearest::new(k);
        let mut dist = [0.0f64; LEAF];
        let mut stack = [(0u32, 0.0f64); 66];
        let mut top = usize::from(!self.nodes.is_empty() && k > 0);
        while top > 0 {
            top -= 1;
            let (node_k, near) = stack[top];
            // a box strictly farther than the k-th best holds nothing that could enter
            // (ties at equal distance may, with a smaller row, so they are still visited)
            if near > best.bound() {
                continue;
            }
            let node = self.nodes[node_k as usize];
            if node.left == u32::MAX {
                self.offer_leaf(q, node_k as usize, &mut best, skip, &mut dist, None);
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
        best.into_vec()
    }
}
