//! The critics: an MLP on (x, y), or two MLPs whose outputs are dotted (separable).

use burn::nn::{Linear, LinearConfig, Relu};
use burn::prelude::*;

/// An MLP with ReLU between layers and a linear output.
#[derive(Module, Debug)]
pub(crate) struct Mlp {
    layers: Vec<Linear>,
    activation: Relu,
}

impl Mlp {
    pub(crate) fn new(input: usize, hidden: &[usize], output: usize, device: &Device) -> Self {
        let mut dims = vec![input];
        dims.extend_from_slice(hidden);
        dims.push(output);
        let layers = dims
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Mlp {
            layers,
            activation: Relu::new(),
        }
    }

    pub(crate) fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, l) in self.layers.iter().enumerate() {
            x = l.forward(x);
            if i < last {
                x = self.activation.forward(x);
            }
        }
        x
    }
}

/// Output width of each tower of the separable critic.
pub(crate) const EMBEDDING: usize = 8;

/// Either critic.
#[derive(Module, Debug)]
pub(crate) struct Critic {
    joint: Option<Mlp>,
    gx: Option<Mlp>,
    hy: Option<Mlp>,
}

impl Critic {
    pub(crate) fn joint(dx: usize, dy: usize, hidden: &[usize], device: &Device) -> Self {
        Critic {
            joint: Some(Mlp::new(dx + dy, hidden, 1, device)),
            gx: None,
            hy: None,
        }
    }

    pub(crate) fn separable(dx: usize, dy: usize, hidden: &[usize], device: &Device) -> Self {
        Critic {
            joint: None,
            gx: Some(Mlp::new(dx, hidden, EMBEDDING, device)),
            hy: Some(Mlp::new(dy, hidden, EMBEDDING, device)),
        }
    }

    pub(crate) fn is_separable(&self) -> bool {
        self.joint.is_none()
    }

    /// T on paired rows: [n, dx + dy] → [n, 1] (joint critic only).
    pub(crate) fn pairs(&self, xy: Tensor<2>) -> Tensor<2> {
        self.joint.as_ref().expect("joint critic").forward(xy)
    }

    /// Score matrix S[i, j] = T(x_i, y_j) for a separable critic: [B, B].
    pub(crate) fn scores(&self, x: Tensor<2>, y: Tensor<2>) -> Tensor<2> {
        let g = self.gx.as_ref().expect("separable critic").forward(x);
        let h = self.hy.as_ref().expect("separable critic").forward(y);
        g.matmul(h.transpose())
    }
}
