//! Exact k-NN in two max-norm dimensions on a grid whose column and row edges are quantiles of each coordinate: about two points per cell wherever the data are, and rings of cells searched outward until no nearer point can remain.

use super::sorted_line::SortedLine;
use super::{Collect, KthDistance, Nearest, fmax};
use crate::Samples;

/// Points per cell the grid aims at (on average over the whole grid).
const PER_CELL: usize = 2;

/// A 2-D grid with quantile edges, points stored cell by cell.
///
/// Exactness: a ring of cells is skipped only when every point beyond it is farther than the
/// current k-th neighbour. A point outside the block of cells around the query has x below
/// the block's left edge (or at or above its right edge), or the same in y; subtraction rounds
/// monotonically, so `q.x − edge` is then at most the point's own |dx| after rounding, and the
/// bound never exceeds a true distance. Neighbours are the first k by (distance, row), as brute
/// force orders them.
pub(super) struct Grid2 {
    /// Columns (and rows) g; cells g².
    g: usize,
    /// Inner column edges: column c holds x in [xe[c − 1], xe[c]) (xe[−1] = −∞, xe[g − 1] = +∞).
    xe: Vec<f64>,
    /// Inner row edges, as `xe`.
    ye: Vec<f64>,
    /// cell c's points are at positions start[c]..start[c + 1]
    start: Vec<u32>,
    xs: Vec<f64>,
    ys: Vec<f64>,
    ids: Vec<u32>,
    /// the cell of each stored position, so a query at a stored point needs no search
    cell_at: Vec<u32>,
    /// each stored point's ranks in its two columns' sorted lines (a line's ranks depend only
    /// on the column: ties go by row), so a count in a line starts at its own position
    ranks: Vec<[u32; 2]>,
}

impl Grid2 {
    /// The grid of a 2-column sample set (None for other shapes or beyond u32 rows), its
    /// columns sorted here.
    pub(super) fn build(s: &Samples) -> Option<Grid2> {
        if s.dim() != 2 {
            return None;
        }
        let (x, y) = rayon::join(
            || SortedLine::of_column(s, 0),
            || SortedLine::of_column(s, 1),
        );
        Self::from_lines(s, &x?, &y?)
    }

    /// The grid of a 2-column sample set whose columns are already sorted in `x` and `y`
    /// (KSG's 1-D marginals): the edges are their quantiles, and each point's column and row
    /// come from its ranks, with no search and no sort of its own.
    pub(super) fn from_lines(s: &Samples, x: &SortedLine, y: &SortedLine) -> Option<Grid2> {
        let n = s.n_samples();
        if s.dim() != 2 || n == 0 || n > u32::MAX as usize / 2 {
            return None;
        }
        let g = ((n / PER_CELL) as f64).sqrt().ceil().max(1.0) as usize;
        let edges =
            |line: &SortedLine| -> Vec<f64> { (1..g).map(|c| line.sorted()[c * n / g]).collect() };
        let (xe, ye) = (edges(x), edges(y));
        // the number of edges ≤ v for the value v at rank r: edge c (rank ⌊c·n/g⌋) is at or
        // below rank r exactly when c·n < (r + 1)·g; edges above rank r that equal v (ties,
        // or −0 against +0) count too, as `partition_point(|e| e <= v)` would count them
        let slot = |edges: &[f64], r: usize, v: f64| {
            let mut c = (((r + 1) * g - 1) / n).min(g - 1);
            while c < g - 1 && edges[c] <= v {
                c += 1;
            }
            c
        };
        let cells: Vec<u32> = (0..n)
            .map(|i| {
                let row = s.row(i);
                let cx = slot(&xe, x.rank(i), row[0]);
                let cy = slot(&ye, y.rank(i), row[1]);
                (cy * g + cx) as u32
            })
            .collect();
        let mut start = vec![0u32; g * g + 1];
        for &c in &cells {
            start[c as usize + 1] += 1;
        }
        for c in 0..g * g {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let (mut xs, mut ys, mut ids) = (vec![0.0; n], vec![0.0; n], vec![0u32; n]);
        let mut cell_at = vec![0u32; n];
        let mut ranks = vec![[0u32; 2]; n];
        for (i, &c) in cells.iter().enumerate() {
            let at = fill[c as usize] as usize;
            fill[c as usize] += 1;
            let r = s.row(i);
            xs[at] = r[0];
            ys[at] = r[1];
            ids[at] = i as u32;
            cell_at[at] = c;
            ranks[at] = [x.rank(i) as u32, y.rank(i) as u32];
        }
        Some(Grid2 {
            g,
            xe,
            ye,
            start,
            xs,
            ys,
            ids,
            cell_at,
            ranks,
        })
    }

    /// The stored point at position p (of [`Grid2::order`]): its two coordinates, and its
    /// ranks in its columns' sorted lines.
    #[inline]
    pub(super) fn point_at(&self, p: usize) -> ([f64; 2], [u32; 2]) {
        ([self.xs[p], self.ys[p]], self.ranks[p])
    }

    /// The rows cell by cell: consecutive rows are close in space.
    pub(super) fn order(&self) -> &[u32] {
        &self.ids
    }

    /// Every stored position, tile by tile (tiles of `tile` × `tile` cells, each tile's cells
    /// row by row): queries taken in this order touch a small range of each coordinate's
    /// ranks at a time, where the row-by-row order sweeps every column once per row.
    pub(super) fn tiled_positions(&self, tile: usize) -> Vec<u32> {
        let (g, tile) = (self.g, tile.max(1));
        let mut out = Vec::with_capacity(self.ids.len());
        for ty in (0..g).step_by(tile) {
            for tx in (0..g).step_by(tile) {
                let x1 = (tx + tile).min(g);
                for y in ty..(ty + tile).min(g) {
                    let (a, b) = (self.start[y * g + tx], self.start[y * g + x1]);
                    out.extend(a..b);
                }
            }
        }
        out
    }

    /// Column (or row) of a coordinate.
    fn slot(edges: &[f64], v: f64) -> usize {
        edges.partition_point(|&e| e <= v)
    }

    /// Lower bound on the distance from q to any point outside the block of cells within
    /// `r − 1` columns and rows of (cx, cy); +∞ when the block is the whole grid.
    fn beyond(&self, q: [f64; 2], cx: usize, cy: usize, r: usize) -> f64 {
        let mut lb = f64::INFINITY;
        for (v, c, e) in [(q[0], cx, &self.xe), (q[1], cy, &self.ye)] {
            // the block spans columns c − (r − 1) ..= c + (r − 1); its left edge is e[c − r]
            if let Some(left) = c.checked_sub(r) {
                lb = lb.min(v - e[left]);
            }
            if c + r < self.g {
                lb = lb.min(e[c + r - 1] - v);
            }
        }
        lb.max(0.0)
    }

    /// Calls `visit(a, b)` for runs a..b of stored positions that together hold every point of
    /// ring r around (cx, cy) once. A row of cells is one run (cells are stored row by row),
    /// so a ring is its top and bottom rows plus one cell on each side of every row between.
    #[inline]
    fn ring(&self, cx: usize, cy: usize, r: usize, mut visit: impl FnMut(usize, usize)) {
        let g = self.g;
        let run = |y: usize, x0: usize, x1: usize| {
            (
                self.start[y * g + x0] as usize,
                self.start[y * g + x1 + 1] as usize,
            )
        };
        let (x0, x1) = (cx.saturating_sub(r), (cx + r).min(g - 1));
        if r == 0 {
            let (a, b) = run(cy, cx, cx);
            visit(a, b);
            return;
        }
        if let Some(y) = cy.checked_sub(r) {
            let (a, b) = run(y, x0, x1);
            visit(a, b);
        }
        if cy + r < g {
            let (a, b) = run(cy + r, x0, x1);
            visit(a, b);
        }
        let (y0, y1) = (cy.saturating_sub(r - 1), (cy + r - 1).min(g - 1));
        for y in y0..=y1 {
            if let Some(x) = cx.checked_sub(r) {
                let (a, b) = run(y, x, x);
                visit(a, b);
            }
            if cx + r < g {
                let (a, b) = run(y, cx + r, cx + r);
                visit(a, b);
            }
        }
    }

    /// The k points nearest to q under the max-norm, skipping rows for which `skip` is true,
    /// ordered by (distance, row): exactly the first k of a brute-force sort.
    pub(super) fn knn(
        &self,
        q: &[f64],
        k: usize,
        skip: impl Fn(usize) -> bool,
    ) -> Vec<(f64, usize)> {
        let cell = (Self::slot(&self.xe, q[0]), Self::slot(&self.ye, q[1]));
        self.knn_from(q, cell, k, skip).into_vec()
    }

    /// `f(the k nearest neighbours)` of the stored point at position p (of
    /// [`Grid2::order`]), as [`Grid2::knn`] gives them: its coordinates and cell are read
    /// there, not looked up by row, and the list is not allocated.
    pub(super) fn knn_at_with<R>(
        &self,
        p: usize,
        k: usize,
        skip: impl Fn(usize) -> bool,
        f: impl FnOnce(&[(f64, usize)]) -> R,
    ) -> R {
        let c = self.cell_at[p] as usize;
        self.knn_from(&[self.xs[p], self.ys[p]], (c % self.g, c / self.g), k, skip)
            .with_list(f)
    }

    /// The k-th smallest distance from the stored point at position p to the rows j without
    /// `skip(j)`: [`Grid2::knn_at_with`]'s k-th distance, found without keeping the list
    /// (+∞ with fewer than k such rows).
    pub(super) fn kth_distance_at(&self, p: usize, k: usize, skip: impl Fn(usize) -> bool) -> f64 {
        let c = self.cell_at[p] as usize;
        let (q, cell) = ([self.xs[p], self.ys[p]], (c % self.g, c / self.g));
        // exactly k slots, so they stay in registers through the search
        macro_rules! exactly {
            ($($cap:literal)*) => {
                match k {
                    $($cap => {
                        let mut best = KthDistance::<$cap>::new(k).expect("k = CAP");
                        self.search(&q, cell, &mut best, skip);
                        best.kth()
                    })*
                    _ => self.knn_at_with(p, k, skip, |nn| {
                        nn.get(k.wrapping_sub(1)).map_or(f64::INFINITY, |x| x.0)
                    }),
                }
            };
        }
        exactly!(1 2 3 4 5 6 7 8)
    }

    /// The search from q's cell (cx, cy) outward, keeping the k nearest.
    fn knn_from(
        &self,
        q: &[f64],
        cell: (usize, usize),
        k: usize,
        skip: impl Fn(usize) -> bool,
    ) -> Nearest {
        let mut best = Nearest::new(k);
        if k > 0 {
            self.search(q, cell, &mut best, skip);
        }
        best
    }

    /// Offers `best` every point of the rings around q's cell (cx, cy), ring by ring, until
    /// no point beyond can matter to it.
    fn search(
        &self,
        q: &[f64],
        (cx, cy): (usize, usize),
        best: &mut impl Collect,
        skip: impl Fn(usize) -> bool,
    ) {
        let q = [q[0], q[1]];
        // rings 0 and 1 at once, as the 3 × 3 block's three rows of cells (a row is one run):
        // the query's own cell (about two points) almost never holds k of them, so ring 1 is
        // searched anyway, and offering its points unconditionally only adds candidates
        let (x0, x1) = (cx.saturating_sub(1), (cx + 1).min(self.g - 1));
        for y in cy.saturating_sub(1)..=(cy + 1).min(self.g - 1) {
            let run = (self.start[y * self.g + x0], self.start[y * self.g + x1 + 1]);
            self.offer_positions(q, run.0 as usize, run.1 as usize, best, &skip);
        }
        for r in 2..self.g {
            let lb = self.beyond(q, cx, cy, r);
            // ties at the k-th distance may still enter with a smaller row
            if lb > best.bound() {
                break;
            }
            self.ring(cx, cy, r, |a, b| self.offer_positions(q, a, b, best, &skip));
        }
    }

    /// Offers `best` the stored points at positions a..b, at their distances from q.
    #[inline(always)]
    fn offer_positions(
        &self,
        q: [f64; 2],
        a: usize,
        b: usize,
        best: &mut impl Collect,
        skip: impl Fn(usize) -> bool,
    ) {
        let (xs, ys, ids) = (&self.xs[a..b], &self.ys[a..b], &self.ids[a..b]);
        let run = xs
            .iter()
            .zip(ys)
            .zip(ids)
            .map(|((&x, &y), &j)| (fmax((q[0] - x).abs(), (q[1] - y).abs()), j as usize));
        best.offer_run(run, skip);
    }

    /// Rows with max-norm distance < r (strict) or ≤ r from q, in cell order.
    pub(super) fn within(&self, q: &[f64], rad: f64, strict: bool) -> Vec<usize> {
        let q = [q[0], q[1]];
        let (cx, cy) = (Self::slot(&self.xe, q[0]), Self::slot(&self.ye, q[1]));
        let mut out = Vec::new();
        for r in 0..self.g {
            if r > 0 {
                let lb = self.beyond(q, cx, cy, r);
                if (strict && lb >= rad) || (!strict && lb > rad) {
                    break;
                }
            }
            self.ring(cx, cy, r, |a, b| {
                for p in a..b {
                    let d = fmax((q[0] - self.xs[p]).abs(), (q[1] - self.ys[p]).abs());
                    if if strict { d < rad } else { d <= rad } {
                        out.push(self.ids[p] as usize);
                    }
                }
            });
        }
        out
    }
}
