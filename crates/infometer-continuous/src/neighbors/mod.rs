//! Nearest-neighbour search, one search per file: our max-norm k-d tree (`count_tree`: exact k-NN, box-pruned radius counts) for 2+ dimensions, the quantile grid (`grid`) for 2-D k-NN, galloping sorted arrays (`sorted_line`) for 1-D counts, the z-sorted slab (`slab`) for conditional counts, kiddo (`kiddo_tree`) for Euclidean queries and 1-D k-NN, and the brute-force twin (here) the tests compare against; [`Index`] holds the one choice, [`ksg_pass`] and [`Conditional`] serve KSG.
//!
//! Every query excludes the point itself and, with a Theiler window W, every j with
//! |i − j| ≤ W. Neighbours are ordered by (distance, index), so ties are broken the same
//! way by every backend.

mod count_tree;
mod grid;
mod kiddo_tree;
mod slab;
mod sorted_line;

use crate::Samples;
use count_tree::CountTree;
use grid::Grid2;
use kiddo_tree::{Tree, build_tree};
use slab::Slab;
use sorted_line::SortedLine;

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

/// `f64::max` for the finite values a tree holds (samples are finite), in the form that
/// compiles to one max instruction per lane, without `f64::max`'s NaN handling.
#[inline(always)]
pub(crate) fn fmax(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// `f64::min` for finite values or +∞, as [`fmax`]: one min instruction.
#[inline(always)]
pub(crate) fn fmin(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// Up to this many neighbours, [`Nearest`] keeps its list in a fixed array, inserted into
/// without a branch per slot; beyond, in a growing vector.
pub(crate) const SMALL_K: usize = 16;

/// The k nearest points found so far, ascending by (distance, row): the one place a search
/// offers a candidate, so every search keeps exactly the first k of a brute-force sort.
///
/// For k ≤ [`SMALL_K`] a neighbour is one `u128` key, the distance's bits above the row:
/// distances are never negative or NaN (max or Euclidean norms of finite differences, +0 for
/// equal values), so their bits order as the numbers do, and the keys order as (distance,
/// row). Inserting a key is then a min and a max per slot, with no search and no move.
pub(crate) struct Nearest {
    k: usize,
    /// k ≤ SMALL_K: the k best keys, ascending, `u128::MAX` in the slots not yet filled
    keys: [u128; SMALL_K],
    /// k > SMALL_K: the k best, ascending
    list: Vec<(f64, usize)>,
    /// the k-th distance so far: +∞ until there are k (−∞ when k = 0, so nothing enters)
    bound: f64,
}

/// The key of row j at distance d (≥ 0): ordered as (d, j).
#[inline(always)]
fn nearest_key(d: f64, j: usize) -> u128 {
    (u128::from(d.to_bits()) << 64) | j as u128
}

impl Nearest {
    /// None found yet.
    pub(crate) fn new(k: usize) -> Self {
        Nearest {
            k,
            keys: [u128::MAX; SMALL_K],
            list: if k > SMALL_K {
                Vec::with_capacity(k + 1)
            } else {
                Vec::new()
            },
            bound: if k == 0 {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
        }
    }

    /// The k-th distance so far (+∞ until there are k): a point farther cannot enter; one at
    /// that distance may, with a smaller row.
    #[inline(always)]
    pub(crate) fn bound(&self) -> f64 {
        self.bound
    }

    /// Offers row j at distance d; rows for which `skip` holds never enter.
    #[inline(always)]
    pub(crate) fn offer(&mut self, d: f64, j: usize, skip: impl Fn(usize) -> bool) {
        // most candidates are farther than the k-th best: one predictable test rejects them
        if d > self.bound {
            return;
        }
        self.enter(d, j, skip);
    }

    /// [`Nearest::offer`] past the bound test: kept out of line, since it is rarely reached
    /// and every search inlines `offer` in its innermost loop.
    #[inline(never)]
    fn enter(&mut self, d: f64, j: usize, skip: impl Fn(usize) -> bool) {
        let k = self.k;
        if k <= SMALL_K {
            let c = nearest_key(d, j);
            if c >= self.keys[k - 1] || skip(j) {
                return;
            }
            // slot i takes the larger of c and the old slot i − 1, unless the old slot i
            // is smaller still: the list with c inserted and the largest dropped
            for i in (1..k).rev() {
                self.keys[i] = self.keys[i].min(c.max(self.keys[i - 1]));
            }
            self.keys[0] = self.keys[0].min(c);
            let last = self.keys[k - 1];
            if last != u128::MAX {
                self.bound = f64::from_bits((last >> 64) as u64);
            }
            return;
        }
        let less = |a: (f64, usize), b: (f64, usize)| a.0 < b.0 || (a.0 == b.0 && a.1 < b.1);
        let cand = (d, j);
        if (self.list.len() == self.k && !less(cand, self.list[self.k - 1])) || skip(j) {
            return;
        }
        let at = self.list.partition_point(|&b| less(b, cand));
        self.list.insert(at, cand);
        self.list.truncate(self.k);
        if self.list.len() == self.k {
            self.bound = self.list[self.k - 1].0;
        }
    }

    /// `f(the neighbours, ascending by (distance, row))`, with no allocation for k ≤
    /// [`SMALL_K`].
    #[inline]
    pub(crate) fn with_list<R>(&self, f: impl FnOnce(&[(f64, usize)]) -> R) -> R {
        if self.k > SMALL_K {
            return f(&self.list);
        }
        let mut out = [(0.0, 0usize); SMALL_K];
        let mut len = 0;
        for &key in &self.keys[..self.k] {
            if key == u128::MAX {
                break;
            }
            out[len] = (f64::from_bits((key >> 64) as u64), key as u64 as usize);
            len += 1;
        }
        f(&out[..len])
    }

    /// The neighbours, ascending by (distance, row).
    pub(crate) fn into_vec(self) -> Vec<(f64, usize)> {
        if self.k > SMALL_K {
            return self.list;
        }
        self.with_list(<[_]>::to_vec)
    }
}

/// What a search keeps of the candidates it is offered: [`Nearest`] the list, [`KthDistance`]
/// only the k-th distance. A search offers every point that could be among the k nearest,
/// and stops where [`Collect::bound`] says nothing farther can matter.
pub(crate) trait Collect {
    /// A point farther than this cannot enter (one at this distance may, with a smaller row).
    fn bound(&self) -> f64;
    /// Offers row j at distance d; rows for which `skip` holds never enter.
    fn offer(&mut self, d: f64, j: usize, skip: impl Fn(usize) -> bool);
    /// Offers every (distance, row) of `run` in turn, as [`Collect::offer`] would one by one.
    #[inline(always)]
    fn offer_run(&mut self, run: impl Iterator<Item = (f64, usize)>, skip: impl Fn(usize) -> bool) {
        for (d, j) in run {
            self.offer(d, j, &skip);
        }
    }
}

impl Collect for Nearest {
    #[inline(always)]
    fn bound(&self) -> f64 {
        Nearest::bound(self)
    }
    #[inline(always)]
    fn offer(&mut self, d: f64, j: usize, skip: impl Fn(usize) -> bool) {
        Nearest::offer(self, d, j, skip)
    }
}

/// The `CAP` smallest distances offered so far, ascending, for a search that needs only the
/// k-th (k ≤ CAP; KSG1's radius). The k smallest distances are the same whatever order ties
/// take by row, so a candidate enters with a min and a max per slot and no branch: the same
/// k-th distance as [`Nearest`]'s list, at a fraction of its cost. With CAP = k the slots are
/// a fixed set of registers in a search's innermost loop.
pub(crate) struct KthDistance<const CAP: usize> {
    k: usize,
    d: [f64; CAP],
}

impl<const CAP: usize> KthDistance<CAP> {
    /// None yet (every slot +∞); None for k = 0 or k > CAP.
    pub(crate) fn new(k: usize) -> Option<Self> {
        (1..=CAP).contains(&k).then_some(KthDistance {
            k,
            d: [f64::INFINITY; CAP],
        })
    }

    /// The k-th smallest distance offered (+∞ until k were).
    #[inline(always)]
    pub(crate) fn kth(&self) -> f64 {
        self.d[self.k - 1]
    }
}

impl<const CAP: usize> Collect for KthDistance<CAP> {
    #[inline(always)]
    fn bound(&self) -> f64 {
        self.kth()
    }
    #[inline(always)]
    fn offer(&mut self, d: f64, j: usize, skip: impl Fn(usize) -> bool) {
        let d = if skip(j) { f64::INFINITY } else { d };
        // slot i becomes the larger of d and old slot i − 1, unless old slot i is smaller
        for i in (1..CAP).rev() {
            self.d[i] = fmin(self.d[i], fmax(d, self.d[i - 1]));
        }
        self.d[0] = fmin(self.d[0], d);
    }
    /// The run goes through a copy of the slots held in locals, written back at its end:
    /// offered one by one through `&mut self` from a search's closure, they went to memory
    /// and back at every point, a chain of store-to-load waits.
    #[inline(always)]
    fn offer_run(&mut self, run: impl Iterator<Item = (f64, usize)>, skip: impl Fn(usize) -> bool) {
        let mut here = KthDistance {
            k: self.k,
            d: self.d,
        };
        for (d, j) in run {
            here.offer(d, j, &skip);
        }
        self.d = here.d;
    }
}

/// `f(s)` for every entry s of `seq`, computed in parallel in `seq`'s order (one where
/// consecutive entries are close in space, for the caches), each value stored at row
/// `row(s)` (a permutation of 0..seq.len()): the values come back by row, the same whatever
/// the order of the work or the thread count.
pub(crate) fn by_row<S, T>(seq: &[S], row: impl Fn(S) -> usize, f: impl Fn(S) -> T + Sync) -> Vec<T>
where
    S: Copy + Sync,
    T: Copy + Default + Send,
{
    use rayon::prelude::*;
    let in_order: Vec<T> = seq.par_iter().with_min_len(64).map(|&s| f(s)).collect();
    let mut out = vec![T::default(); seq.len()];
    for (&s, v) in seq.iter().zip(in_order) {
        out[row(s)] = v;
    }
    out
}

/// Row i's Theiler window among n rows: the rows j with |i − j| ≤ `theiler`, i itself
/// included.
fn theiler_window(i: usize, theiler: usize, n: usize) -> std::ops::RangeInclusive<usize> {
    i.saturating_sub(theiler)..=(i + theiler).min(n - 1)
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

/// The search an [`Index`] runs: one choice, made when it is built.
enum Search {
    /// Exhaustive: the reference twin (and Euclidean data beyond 16 dimensions).
    Brute,
    /// One dimension: sorted values for the radius counts, kiddo for k-NN, built on the
    /// first k-NN query (KSG's marginals only count, so most lines never build it).
    Line(SortedLine, std::sync::OnceLock<Option<Box<dyn Tree>>>),
    /// Max-norm, 2 or more dimensions: our counting tree for every query.
    Count(CountTree),
    /// Euclidean, 2–16 dimensions: kiddo for every query.
    Kiddo(Box<dyn Tree>),
    /// Max-norm, exactly 2 dimensions, for an index that serves k-NN queries: the quantile
    /// grid (its radius counts scan rings of cells, correct but not tuned).
    Grid(Grid2),
}

/// The largest k the counting tree answers a leaf's worth of queries at once for.
const BATCH_K: usize = 256;

/// Cells per side of the grid's tiles, the order its queries run in (16 × 16 cells, about 512
/// points: each sorted line is read in a small range at a time).
const TILE: usize = 16;

/// Below this many points a k-NN index stays a tree: the grid's gain is in large sets.
const GRID_MIN: usize = 256;

/// A searchable point set.
pub(crate) struct Index<'a> {
    s: &'a Samples,
    metric: Metric,
    theiler: usize,
    search: Search,
}

impl<'a> Index<'a> {
    pub(crate) fn new(s: &'a Samples, metric: Metric, theiler: usize, backend: Backend) -> Self {
        let small = s.n_samples() <= u32::MAX as usize;
        let search = match backend {
            Backend::BruteForce => Search::Brute,
            Backend::Auto if s.dim() >= 2 && metric == Metric::MaxNorm && small => {
                Search::Count(CountTree::build(s))
            }
            Backend::Auto => match SortedLine::build(s) {
                Some(line) => Search::Line(line, std::sync::OnceLock::new()),
                None => match build_tree(s, metric) {
                    Some(tree) => Search::Kiddo(tree),
                    None => Search::Brute,
                },
            },
        };
        Index {
            s,
            metric,
            theiler,
            search,
        }
    }

    /// An index for k-NN queries (KSG's joint space): as [`Index::new`], except that 2-D
    /// max-norm data of at least 256 points get the quantile grid.
    pub(crate) fn for_knn(
        s: &'a Samples,
        metric: Metric,
        theiler: usize,
        backend: Backend,
    ) -> Self {
        if backend == Backend::Auto
            && metric == Metric::MaxNorm
            && s.n_samples() >= GRID_MIN
            && let Some(grid) = Grid2::build(s)
        {
            return Index {
                s,
                metric,
                theiler,
                search: Search::Grid(grid),
            };
        }
        Index::new(s, metric, theiler, backend)
    }

    /// KSG's indexes: a k-NN index on `joint` (as [`Index::for_knn`]) and a counting index
    /// per variable (as [`Index::new`]), max-norm. When the joint space is two 1-D variables
    /// (its columns, in order), the variables' sorted lines are built first and the joint
    /// grid takes its edges and cells from them, so no column is sorted twice; otherwise the
    /// joint index and the variables' are built side by side.
    pub(crate) fn joint_and_marginals(
        joint: &'a Samples,
        vars: &'a [Samples],
        theiler: usize,
        backend: Backend,
    ) -> (Index<'a>, Vec<Index<'a>>) {
        let marginals = || -> Vec<Index<'a>> {
            use rayon::prelude::*;
            vars.par_iter()
                .map(|v| Index::new(v, Metric::MaxNorm, theiler, backend))
                .collect()
        };
        let knn = || Index::for_knn(joint, Metric::MaxNorm, theiler, backend);
        if backend != Backend::Auto
            || joint.n_samples() < GRID_MIN
            || vars.len() != 2
            || vars.iter().any(|v| v.dim() != 1)
        {
            return rayon::join(knn, marginals);
        }
        let marg = marginals();
        let grid = match (&marg[0].search, &marg[1].search) {
            (Search::Line(x, _), Search::Line(y, _)) => Grid2::from_lines(joint, x, y),
            _ => None,
        };
        let joint_index = match grid {
            Some(grid) => Index {
                s: joint,
                metric: Metric::MaxNorm,
                theiler,
                search: Search::Grid(grid),
            },
            None => knn(),
        };
        (joint_index, marg)
    }

    /// Every row once, in an order where consecutive rows are close in space (the counting
    /// tree's leaf order; index order for the other searches). Queries made in this order
    /// touch the same tree nodes and sorted-array stretches one after another, which keeps
    /// them in cache; each query's answer does not depend on the order.
    pub(crate) fn query_order(&self) -> Vec<usize> {
        match &self.search {
            Search::Count(t) => t.order().iter().map(|&i| i as usize).collect(),
            Search::Grid(g) => g.order().iter().map(|&i| i as usize).collect(),
            _ => (0..self.s.n_samples()).collect(),
        }
    }

    fn excluded(&self, i: usize, j: usize) -> bool {
        i.abs_diff(j) <= self.theiler
    }

    /// kiddo's tree, where this index has one.
    fn kiddo(&self) -> Option<&dyn Tree> {
        match &self.search {
            Search::Line(_, t) => t.get_or_init(|| build_tree(self.s, self.metric)).as_deref(),
            Search::Kiddo(t) => Some(t.as_ref()),
            _ => None,
        }
    }

    /// The k nearest neighbours of point i as (distance, index), ordered by (distance, index).
    pub(crate) fn knn(&self, i: usize, k: usize) -> Vec<(f64, usize)> {
        let q = self.s.row(i);
        let n = self.s.n_samples();
        let by_distance_then_index =
            |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        match &self.search {
            Search::Count(counter) => return counter.knn(q, k, &|j| self.excluded(i, j)),
            Search::Grid(grid) => return grid.knn(q, k, |j| self.excluded(i, j)),
            _ => {}
        }
        let mut cand: Vec<(f64, usize)> = match self.kiddo() {
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
        match &self.search {
            Search::Count(counter) => return counter.knn(q, k, &|_| false)[k - 1].0,
            Search::Grid(grid) => return grid.knn(q, k, |_| false)[k - 1].0,
            _ => {}
        }
        let mut d: Vec<f64> = match self.kiddo() {
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
        let all = match &self.search {
            Search::Line(line, _) => line.count(i, q[0], r, strict),
            Search::Count(counter) => counter.count(q, r, strict),
            // brute force, a kiddo tree (Euclidean) or the grid: the listed points, exclusions
            // applied
            Search::Brute | Search::Kiddo(_) | Search::Grid(_) => {
                return self.within(i, r, strict).len();
            }
        };
        self.without_window(i, q, all, r, strict)
    }

    /// For every row, `f(row, its k nearest neighbours, out)`, the neighbours as
    /// [`Index::knn`] gives them and `out` the row's `width` slots of the returned row-major
    /// table; the lists themselves are not kept, so the memory does not grow with k. The
    /// counting tree searches a leaf's worth of queries at once ([`CountTree::knn_map`]) for
    /// k up to 256 (its lists for a leaf are then at most 64 × 257 entries); otherwise the
    /// rows are searched one by one, in [`Index::query_order`].
    pub(crate) fn knn_map<F>(&self, k: usize, width: usize, f: F) -> Vec<f64>
    where
        F: Fn(usize, &[(f64, usize)], &mut [f64]) + Sync,
    {
        use rayon::prelude::*;
        if let Search::Count(tree) = &self.search
            && k <= BATCH_K
        {
            return tree.knn_map(k, &|i, j| self.excluded(i, j), width, &f);
        }
        let order = self.query_order();
        let by_position: Vec<f64> = order
            .par_iter()
            .with_min_len(64)
            .flat_map_iter(|&i| {
                let mut out = vec![0.0; width];
                f(i, &self.knn(i, k), &mut out);
                out
            })
            .collect();
        let mut table = vec![0.0; order.len() * width];
        for (p, &i) in order.iter().enumerate() {
            table[i * width..(i + 1) * width]
                .copy_from_slice(&by_position[p * width..(p + 1) * width]);
        }
        table
    }

    /// Every row's k-th nearest-neighbour distance, by row: [`Index::knn_map`]'s k-th
    /// distance, found without the lists by the counting tree's batched walk (k ≤
    /// [`SMALL_K`]) and by the grid.
    pub(crate) fn kth_map(&self, k: usize) -> Vec<f64> {
        match &self.search {
            Search::Count(tree) => {
                if let Some(kth) = tree.kth_map(k, self.theiler) {
                    return kth;
                }
            }
            Search::Grid(grid) => {
                // at the grid positions, tile by tile, then by row
                let order = grid.order();
                return by_row(
                    &grid.tiled_positions(TILE),
                    |p| order[p as usize] as usize,
                    |p| {
                        let row = order[p as usize] as usize;
                        grid.kth_distance_at(p as usize, k, |j| self.excluded(row, j))
                    },
                );
            }
            _ => {}
        }
        self.knn_map(k, 1, |_, nn, out| out[0] = nn[k - 1].0)
    }

    /// [`Index::count`] for every row at its own radius (`radius[i]` for row i), by row. The
    /// counting tree walks a leaf's worth of queries at once ([`CountTree::count_all`]); the
    /// other searches count row by row.
    pub(crate) fn count_all(&self, radius: &[f64], strict: bool) -> Vec<usize> {
        use rayon::prelude::*;
        match &self.search {
            Search::Count(tree) => {
                let mut all = tree.count_all(radius, strict);
                all.par_iter_mut()
                    .enumerate()
                    .with_min_len(256)
                    .for_each(|(i, c)| {
                        *c = self.without_window(i, self.s.row(i), *c, radius[i], strict);
                    });
                all
            }
            _ => (0..self.s.n_samples())
                .into_par_iter()
                .with_min_len(64)
                .map(|i| self.count(i, radius[i], strict))
                .collect(),
        }
    }

    /// A whole-set count around row i (at q) less the point itself and its Theiler window.
    #[inline]
    fn without_window(&self, i: usize, q: &[f64], all: usize, r: f64, strict: bool) -> usize {
        let inside = |d: f64| if strict { d < r } else { d <= r };
        let window = if self.theiler == 0 {
            // the point itself, at distance 0 from itself (its values are finite)
            usize::from(inside(0.0))
        } else {
            theiler_window(i, self.theiler, self.s.n_samples())
                .filter(|&j| inside(distance(q, self.s.row(j), self.metric)))
                .count()
        };
        all.saturating_sub(window)
    }

    /// Indices of points j (not excluded) with distance < r (strict) or ≤ r.
    pub(crate) fn within(&self, i: usize, r: f64, strict: bool) -> Vec<usize> {
        let q = self.s.row(i);
        let inside = |d: f64| if strict { d < r } else { d <= r };
        match &self.search {
            Search::Count(counter) => {
                let mut v = counter.within(q, r, strict);
                v.retain(|&j| !self.excluded(i, j));
                return v;
            }
            Search::Grid(grid) => {
                let mut v = grid.within(q, r, strict);
                v.retain(|&j| !self.excluded(i, j));
                return v;
            }
            _ => {}
        }
        match self.kiddo() {
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

/// KSG CMI's conditional counts: for a query row and radii (rx, ry, rz), the points within
/// rz of it in Z, and of those the ones within rx in X and within ry in Y, the point itself
/// and its Theiler window excluded. The joint space holds X, Y and Z in that order.
pub(crate) struct Conditional<'a> {
    joint: &'a Samples,
    x: std::ops::Range<usize>,
    y: std::ops::Range<usize>,
    theiler: usize,
    how: ConditionalSearch<'a>,
}

enum ConditionalSearch<'a> {
    /// 1-D Z: the points sorted by z, each count one contiguous scan.
    Slab(Slab),
    /// Any Z: Z's own index lists the points within rz; X and Y are checked on each.
    Listed(Index<'a>),
}

impl<'a> Conditional<'a> {
    /// The counts over `joint` = (X | Y | Z) with Z = `z` (its last columns).
    pub(crate) fn new(
        joint: &'a Samples,
        z: &'a Samples,
        x: std::ops::Range<usize>,
        y: std::ops::Range<usize>,
        theiler: usize,
        backend: Backend,
    ) -> Self {
        let slab = (backend == Backend::Auto && z.dim() == 1)
            .then(|| Slab::build(joint))
            .flatten();
        let how = match slab {
            Some(slab) => ConditionalSearch::Slab(slab),
            None => ConditionalSearch::Listed(Index::new(z, Metric::MaxNorm, theiler, backend)),
        };
        Conditional {
            joint,
            x,
            y,
            theiler,
            how,
        }
    }

    /// (n_z, n_xz, n_yz) for row i: distances `< r` when strict, else `≤ r`.
    pub(crate) fn counts(
        &self,
        i: usize,
        (rx, ry, rz): (f64, f64, f64),
        strict: bool,
    ) -> (usize, usize, usize) {
        let q = self.joint.row(i);
        let inside = |d: f64, r: f64| if strict { d < r } else { d <= r };
        let block = |j: usize, cols: &std::ops::Range<usize>| {
            distance(
                &q[cols.clone()],
                &self.joint.row(j)[cols.clone()],
                Metric::MaxNorm,
            )
        };
        match &self.how {
            ConditionalSearch::Listed(z) => {
                let cand = z.within(i, rz, strict);
                let n_xz = cand
                    .iter()
                    .filter(|&&j| inside(block(j, &self.x), rx))
                    .count();
                let n_yz = cand
                    .iter()
                    .filter(|&&j| inside(block(j, &self.y), ry))
                    .count();
                (cand.len(), n_xz, n_yz)
            }
            ConditionalSearch::Slab(slab) => {
                let all = slab.counts(i, q, (rx, ry, rz), &self.x, &self.y, strict);
                // the whole-set counts hold the point itself and its Theiler window: remove them
                let z_cols = self.y.end..self.joint.dim();
                let (mut z, mut xz, mut yz) = (all.z, all.xz, all.yz);
                for j in theiler_window(i, self.theiler, self.joint.n_samples()) {
                    if inside(block(j, &z_cols), rz) {
                        z -= 1;
                        xz -= usize::from(inside(block(j, &self.x), rx));
                        yz -= usize::from(inside(block(j, &self.y), ry));
                    }
                }
                (z, xz, yz)
            }
        }
    }
}

/// How KSG turns a row's joint neighbours into each variable's counting radius.
pub(crate) enum Radii<R> {
    /// Every variable counts within the k-th joint distance (KSG1): the searches keep that
    /// distance alone, not the list of neighbours.
    KthJoint,
    /// `radius(row, neighbours, variable)` from the row's k nearest, ordered by (distance,
    /// row) (KSG2: the largest distance of the neighbours in the variable's own block).
    FromNeighbours(R),
}

/// What [`ksg_pass`] returns: each row's term, in row order, and whether some row's k-th joint
/// distance was 0 (k or more points on top of it, where the counts mean nothing).
pub(crate) struct PassTerms {
    pub(crate) terms: Vec<f64>,
    pub(crate) zero_distance: bool,
}

/// KSG's pass: for every row, its k nearest neighbours in `joint`, a radius in each variable's
/// space from `radii`, the count of each variable's points within it (`< r` when `strict`,
/// else `≤ r`; the point itself and its Theiler window excluded, as [`Index::count`] counts),
/// and `term(row, counts)`. The terms come back in row order, so the sum that follows is the
/// same, bit for bit, whatever the order of the work or the thread count.
///
/// The work follows the data. In 1+1 (the quantile grid and two sorted lines) each query runs
/// whole at its grid position, its coordinates, cell and ranks in the two lines stored there
/// by the grid's build, so no query reads a row at random (at 1e5 points those reads, not
/// the searches, were most of the time); the queries go tile by tile of the grid, so each
/// sorted line is read in a small range at a time. KSG1 keeps only each query's k-th
/// distance ([`KthDistance`]), KSG2 its list. Otherwise every row's radii
/// are found first from its neighbours ([`Index::knn_map`]), and each variable then counts
/// all its rows in one go ([`Index::count_all`]); the counting tree serves both a leaf's
/// worth of queries at a time.
pub(crate) fn ksg_pass<R, T>(
    joint: &Index<'_>,
    marg: &[Index<'_>],
    k: usize,
    strict: bool,
    radii: Radii<R>,
    term: T,
) -> PassTerms
where
    R: Fn(usize, &[(f64, usize)], usize) -> f64 + Sync,
    T: Fn(usize, &[usize]) -> f64 + Sync,
{
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    let n = joint.s.n_samples();
    let m = marg.len();
    let zero = AtomicBool::new(false);
    let note_zero = |kth: f64| {
        if kth == 0.0 {
            zero.store(true, Ordering::Relaxed);
        }
    };
    let lines: Option<Vec<&SortedLine>> = marg
        .iter()
        .map(|ix| match &ix.search {
            Search::Line(line, _) => Some(line),
            _ => None,
        })
        .collect();
    if let (Search::Grid(grid), Some(lines), 2) = (&joint.search, lines, m) {
        let order = grid.order();
        // tile by tile, so each variable's sorted values are read from a small range at a time
        let terms = by_row(
            &grid.tiled_positions(TILE),
            |p| order[p as usize] as usize,
            |p| {
                let p = p as usize;
                let row = order[p] as usize;
                let skip = |j| joint.excluded(row, j);
                let mut r = [0.0f64; 2];
                match &radii {
                    Radii::KthJoint => {
                        let kth = grid.kth_distance_at(p, k, skip);
                        note_zero(kth);
                        r = [kth; 2];
                    }
                    Radii::FromNeighbours(radius) => grid.knn_at_with(p, k, skip, |nn| {
                        note_zero(nn[k - 1].0);
                        for (v, r) in r.iter_mut().enumerate() {
                            *r = radius(row, nn, v);
                        }
                    }),
                }
                // the joint's columns are the variables' values, and the grid stores both
                // with their ranks in those columns' sorted lines, which are the variables'
                // lines' ranks (a line's order depends only on its column)
                let (xy, ranks) = grid.point_at(p);
                let mut counts = [0usize; 2];
                for (v, c) in counts.iter_mut().enumerate() {
                    let (x, rank) = (xy[v], ranks[v]);
                    let all = lines[v].count_at_rank(rank as usize, x, r[v], strict);
                    *c = marg[v].without_window(row, &[x], all, r[v], strict);
                }
                term(row, &counts)
            },
        );
        return PassTerms {
            terms,
            zero_distance: zero.into_inner(),
        };
    }
    // every row's radii, row-major by row, from its neighbours (KSG1: one, the k-th distance)
    let (radii, width) = match &radii {
        Radii::KthJoint => {
            let kth = joint.kth_map(k);
            kth.iter().for_each(|&d| note_zero(d));
            (kth, 1)
        }
        Radii::FromNeighbours(radius) => {
            let table = joint.knn_map(k, m, |row, nn, out| {
                note_zero(nn[k - 1].0);
                for (v, o) in out.iter_mut().enumerate() {
                    *o = radius(row, nn, v);
                }
            });
            (table, m)
        }
    };
    let mut counts = vec![0usize; n * m];
    for (v, ix) in marg.iter().enumerate() {
        let r: Vec<f64> = (0..n).map(|row| radii[row * width + v % width]).collect();
        for (row, c) in ix.count_all(&r, strict).into_iter().enumerate() {
            counts[row * m + v] = c;
        }
    }
    let terms = (0..n)
        .into_par_iter()
        .with_min_len(256)
        .map(|row| term(row, &counts[row * m..(row + 1) * m]))
        .collect();
    PassTerms {
        terms,
        zero_distance: zero.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row's k-NN list through [`Index::knn_map`] (distance and row as two slots each),
    /// checked on the way against [`Index::knn`] for the same row.
    fn knn_table(index: &Index<'_>, k: usize) -> Vec<f64> {
        index.knn_map(k, 2 * k, |i, nn, out| {
            assert_eq!(nn, index.knn(i, k).as_slice(), "row {i}");
            for (o, &(d, j)) in out.chunks_mut(2).zip(nn) {
                o.copy_from_slice(&[d, j as f64]);
            }
        })
    }

    /// A seeded xorshift64 stream, for test data.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Every count and neighbour list of the fast index equals brute force: tie-heavy integer grids where radii
    /// fall exactly on distances, strict and not, with and without a Theiler window, in 1, 2, 3,
    /// 7 and 18 dimensions (the last has no kiddo tree and no f32 screen of box tests; from 6
    /// on, a single query scans its leaves in two stages).
    #[test]
    fn counts_and_neighbours_equal_brute_force_on_ties() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for (d, n) in [
            (1usize, 400usize),
            (2, 300),
            (2, 1200),
            (3, 250),
            (7, 500),
            (18, 120),
        ] {
            let data: Vec<f64> = (0..n * d).map(|_| (next() % 5) as f64).collect();
            let s = Samples::new(n, d, data).unwrap();
            for (theiler, knn_index) in [(0usize, false), (2, false), (0, true), (3, true)] {
                let fast = if knn_index {
                    Index::for_knn(&s, Metric::MaxNorm, theiler, Backend::Auto)
                } else {
                    Index::new(&s, Metric::MaxNorm, theiler, Backend::Auto)
                };
                let slow = Index::new(&s, Metric::MaxNorm, theiler, Backend::BruteForce);
                // every row at once, each at its own radius (on the grid's distances and off)
                let radii: Vec<f64> = (0..n)
                    .map(|i| [0.0, 0.5, 1.0, 1.7, 2.0, 3.0][i % 6])
                    .collect();
                for strict in [true, false] {
                    let want: Vec<usize> =
                        (0..n).map(|i| slow.count(i, radii[i], strict)).collect();
                    assert_eq!(fast.count_all(&radii, strict), want, "d={d} W={theiler}");
                }
                // k = 300 is past the batched walk's limit: the rows one by one
                for k in [1usize, 4, 300]
                    .into_iter()
                    .filter(|&k| k + 2 * theiler < n)
                {
                    assert_eq!(
                        knn_table(&fast, k),
                        knn_table(&slow, k),
                        "d={d} W={theiler} k={k}"
                    );
                    // the k-th distance alone (the tree's batched walk up to SMALL_K)
                    let kth: Vec<f64> = (0..n).map(|i| slow.knn(i, k)[k - 1].0).collect();
                    assert_eq!(fast.kth_map(k), kth, "d={d} W={theiler} k={k}");
                }
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

    /// KSG's shared build (the joint grid from the marginals' sorted lines) gives the same
    /// neighbours and counts as separate builds and as brute force, on tie-heavy data with
    /// −0 beside +0, with and without a Theiler window.
    #[test]
    fn shared_build_equals_separate_builds() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for n in [256usize, 700] {
            let col = |next: &mut dyn FnMut() -> u64| -> Samples {
                let v: Vec<f64> = (0..n)
                    .map(|_| match next() % 7 {
                        6 => -0.0,
                        l => l as f64 * 0.25,
                    })
                    .collect();
                Samples::from_column(&v).unwrap()
            };
            let vars = vec![col(&mut next), col(&mut next)];
            let joint = vars[0].hstack(&vars[1]).unwrap();
            for theiler in [0usize, 3] {
                let (shared, marg) =
                    Index::joint_and_marginals(&joint, &vars, theiler, Backend::Auto);
                assert!(matches!(shared.search, Search::Grid(_)));
                let separate = Index::for_knn(&joint, Metric::MaxNorm, theiler, Backend::Auto);
                let slow = Index::new(&joint, Metric::MaxNorm, theiler, Backend::BruteForce);
                for i in (0..n).step_by(5) {
                    for k in [1usize, 4, 9] {
                        let want = slow.knn(i, k);
                        assert_eq!(shared.knn(i, k), want, "n={n} W={theiler} i={i} k={k}");
                        assert_eq!(separate.knn(i, k), want);
                        let eps = want[k - 1].0;
                        for (v, m) in vars.iter().zip(&marg) {
                            let brute =
                                Index::new(v, Metric::MaxNorm, theiler, Backend::BruteForce);
                            assert_eq!(m.count(i, eps, true), brute.count(i, eps, true));
                        }
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// CMI's conditional counts over the z-sorted slab (1-D Z) equal the brute-force
        /// listing, on tie-heavy values with −0 beside +0, strict and not, with separate radii
        /// on radius values that fall exactly on distances, and Theiler windows.
        #[test]
        fn slab_counts_equal_brute_force(
            cells in proptest::collection::vec((0u8..5, 0u8..5, 0u8..5, 0u8..5), 2..150),
            radii in proptest::collection::vec(0u8..7, 3),
            theiler in 0usize..3,
        ) {
            let level = |a: u8| if a == 4 { -0.0 } else { f64::from(a) * 0.5 };
            let n = cells.len();
            let x = Samples::from_column(&cells.iter().map(|c| level(c.0)).collect::<Vec<_>>()).unwrap();
            let y = Samples::new(n, 2, cells.iter().flat_map(|c| [level(c.1), level(c.2)]).collect()).unwrap();
            let z = Samples::from_column(&cells.iter().map(|c| level(c.3)).collect::<Vec<_>>()).unwrap();
            let joint = x.hstack(&y).unwrap().hstack(&z).unwrap();
            let r = |k: usize| f64::from(radii[k]) * 0.25;
            let fast = Conditional::new(&joint, &z, 0..1, 1..3, theiler, Backend::Auto);
            let slow = Conditional::new(&joint, &z, 0..1, 1..3, theiler, Backend::BruteForce);
            proptest::prop_assert!(matches!(fast.how, ConditionalSearch::Slab(_)));
            for i in 0..n {
                for strict in [true, false] {
                    for radii in [(r(0), r(1), r(2)), (r(2), r(2), r(2))] {
                        proptest::prop_assert_eq!(fast.counts(i, radii, strict), slow.counts(i, radii, strict));
                    }
                }
            }
        }
    }

    /// The grid search on any 2-D set, however small (`for_knn` keeps small sets on the tree).
    fn grid_index(s: &Samples, theiler: usize) -> Index<'_> {
        Index {
            s,
            metric: Metric::MaxNorm,
            theiler,
            search: Search::Grid(Grid2::build(s).unwrap()),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The quantile grid against brute force: tie-heavy grids (values on 0.5 steps, many
        /// points on the cell edges) and continuous values with a few far outliers, every k,
        /// Theiler window, query and radius.
        #[test]
        fn grid_equals_brute_force(
            coarse in proptest::collection::vec((0u8..7, 0u8..7), 1..400),
            fine in proptest::collection::vec((-1.0f64..1.0, -1.0f64..1.0), 1..400),
            outliers in proptest::collection::vec((-50.0f64..50.0, -50.0f64..50.0), 0..4),
            r in 0.0f64..3.0,
            k in 1usize..8,
            theiler in 0usize..3,
        ) {
            // level 6 is −0, beside the +0 of level 0: equal as numbers, apart in total order
            let level = |a: u8| if a == 6 { -0.0 } else { f64::from(a) * 0.5 };
            let coarse: Vec<f64> = coarse.iter().flat_map(|&(a, b)| [level(a), level(b)]).collect();
            let fine: Vec<f64> = fine.iter().chain(&outliers).flat_map(|&(a, b)| [a, b]).collect();
            for data in [coarse, fine] {
                let n = data.len() / 2;
                let s = Samples::new(n, 2, data).unwrap();
                let grid = grid_index(&s, theiler);
                let slow = Index::new(&s, Metric::MaxNorm, theiler, Backend::BruteForce);
                for i in 0..n {
                    if k <= n.saturating_sub(1 + 2 * theiler) {
                        proptest::prop_assert_eq!(grid.knn(i, k), slow.knn(i, k));
                    }
                    for rad in [r, (r * 2.0).round() * 0.5] {
                        for strict in [true, false] {
                            proptest::prop_assert_eq!(grid.count(i, rad, strict), slow.count(i, rad, strict));
                        }
                    }
                }
                if k <= n.saturating_sub(1 + 2 * theiler) {
                    let kth: Vec<f64> = (0..n).map(|i| slow.knn(i, k)[k - 1].0).collect();
                    proptest::prop_assert_eq!(grid.kth_map(k), kth);
                }
                // the pass's searches at each stored position: the list, and the k-th
                // distance alone (past SMALL_K through the list)
                let Search::Grid(g) = &grid.search else { unreachable!() };
                for (p, &row) in g.order().iter().enumerate() {
                    let row = row as usize;
                    for kk in [k, SMALL_K + 1].into_iter().filter(|&kk| kk <= n.saturating_sub(1 + 2 * theiler)) {
                        let want = slow.knn(row, kk);
                        let skip = |j| slow.excluded(row, j);
                        proptest::prop_assert_eq!(g.knn_at_with(p, kk, skip, <[_]>::to_vec), want.clone());
                        proptest::prop_assert_eq!(g.kth_distance_at(p, kk, skip).to_bits(), want[kk - 1].0.to_bits());
                    }
                }
                // a point outside the set
                if k <= n {
                    proptest::prop_assert_eq!(grid.kth_from_point(&[0.3, -7.0], k), slow.kth_from_point(&[0.3, -7.0], k));
                }
            }
        }

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
            // the k-NN index: the quantile grid in 2-D (256 points or more), else as `new`
            let grid = Index::for_knn(&s, Metric::MaxNorm, theiler, Backend::Auto);
            // all rows at once, each at its own radius
            let radii: Vec<f64> = cells.iter().take(n).map(|&c| f64::from(c) * r * 0.5).collect();
            for strict in [true, false] {
                let want: Vec<usize> = (0..n).map(|i| slow.count(i, radii[i], strict)).collect();
                proptest::prop_assert_eq!(fast.count_all(&radii, strict), want);
            }
            proptest::prop_assert_eq!(knn_table(&fast, k), knn_table(&slow, k));
            // radii on the grid's own distances, and the random one
            for r in [r, (r * 2.0).round() * 0.5] {
                for i in 0..n {
                    proptest::prop_assert_eq!(fast.knn(i, k), slow.knn(i, k));
                    proptest::prop_assert_eq!(grid.knn(i, k), slow.knn(i, k));
                    for strict in [true, false] {
                        proptest::prop_assert_eq!(fast.count(i, r, strict), slow.count(i, r, strict));
                        proptest::prop_assert_eq!(grid.count(i, r, strict), slow.count(i, r, strict));
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The counting tree's counts of every row at once and its batched k-NN walk (both
        /// screened in f32, checked in f64 where f32 cannot tell) against brute force, where
        /// f32 cannot tell: each row's radius is its exact distance to another row, or that
        /// distance moved by one ulp or by 2⁻³⁰ of itself, on values of magnitude 1, 10⁶ (far
        /// from 0: f32 keeps fewer of the digits that differ) and 10³¹ (past the screen's
        /// range), strict and not.
        #[test]
        fn screened_walks_equal_brute_force_at_the_radius(
            d in 2usize..6,
            vals in proptest::collection::vec(-1.0f64..1.0, 60 * 5..=200 * 5),
            picks in proptest::collection::vec((0usize..1000, 0u8..5), 200),
            scale in 0usize..3,
        ) {
            let n = vals.len() / 5;
            let (mul, add) = [(1.0, 0.0), (1.0, 1e6), (1e31, 0.0)][scale];
            let data: Vec<f64> = vals[..n * d].iter().map(|&v| v * mul + add).collect();
            let s = Samples::new(n, d, data).unwrap();
            let fast = Index::new(&s, Metric::MaxNorm, 0, Backend::Auto);
            let slow = Index::new(&s, Metric::MaxNorm, 0, Backend::BruteForce);
            proptest::prop_assert!(matches!(fast.search, Search::Count(_)));
            let radii: Vec<f64> = (0..n)
                .map(|i| {
                    let (j, how) = picks[i];
                    let r = distance(s.row(i), s.row(j % n), Metric::MaxNorm);
                    match how {
                        0 => r,
                        1 => r.next_up(),
                        2 => r.next_down().max(0.0),
                        3 => r * (1.0 + 2f64.powi(-30)),
                        _ => r * (1.0 - 2f64.powi(-30)),
                    }
                })
                .collect();
            for strict in [true, false] {
                let want: Vec<usize> = (0..n).map(|i| slow.count(i, radii[i], strict)).collect();
                proptest::prop_assert_eq!(fast.count_all(&radii, strict), want);
            }
            // the batched k-NN walk screens its leaves the same way: at 10⁶ most f32
            // distances cannot be told apart, so the f64 checks decide
            for k in [1usize, 4] {
                proptest::prop_assert_eq!(knn_table(&fast, k), knn_table(&slow, k));
                let kth: Vec<f64> = (0..n).map(|i| slow.knn(i, k)[k - 1].0).collect();
                proptest::prop_assert_eq!(fast.kth_map(k), kth);
            }
        }
    }
}
