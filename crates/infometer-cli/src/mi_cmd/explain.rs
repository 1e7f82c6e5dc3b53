//! Errors and warnings of the estimators in the user's words: each typed reason mapped to the flag, the file or the file's column it concerns (never by matching message text).

use infometer_continuous::{ContinuousError, Setting, Variable, Warning};
use infometer_neural::NeuralError;

/// Why an estimator command stopped, before it is put in the user's words.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Already in the user's words.
    Cli(anyhow::Error),
    /// From the estimators.
    Continuous(ContinuousError),
    /// From the neural bounds.
    Neural(NeuralError),
}

impl From<ContinuousError> for Refusal {
    fn from(e: ContinuousError) -> Self {
        Refusal::Continuous(e)
    }
}

impl From<NeuralError> for Refusal {
    fn from(e: NeuralError) -> Self {
        match e {
            NeuralError::Continuous(c) => Refusal::Continuous(c),
            other => Refusal::Neural(other),
        }
    }
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Self {
        Refusal::Cli(e)
    }
}

/// What the messages need to name things as the user did.
pub(crate) struct Ctx<'a> {
    /// The `--input` path.
    pub input: &'a str,
    /// The `--estimator` name.
    pub estimator: &'a str,
    /// For X, Y, Z: the flag that chose it and the file's names of its columns.
    pub vars: Vec<(&'static str, Vec<String>)>,
    /// The effective `--noise`.
    pub noise: f64,
    /// The effective Theiler window.
    pub theiler: usize,
    /// The first constant column among the variables, if any.
    pub constant: Option<(Variable, usize)>,
}

impl Ctx<'_> {
    fn var(&self, v: Variable) -> usize {
        match v {
            Variable::X => 0,
            Variable::Y => 1,
            Variable::Z => 2,
        }
    }
    /// `--x column 'b'` for column `col` of variable `v`.
    fn column(&self, v: Variable, col: usize) -> String {
        match self.vars.get(self.var(v)) {
            Some((flag, names)) => match names.get(col) {
                Some(name) => format!("{flag} column '{name}'"),
                None => format!("{flag} column {col}"),
            },
            None => format!("{v} column {col}"),
        }
    }
}

/// The flag of a setting.
pub(crate) fn flag(s: Setting) -> &'static str {
    match s {
        Setting::K => "--k",
        Setting::Noise => "--noise",
        Setting::Standardize => "--no-standardize",
        Setting::Theiler => "--theiler",
        Setting::Copula => "--copula",
        Setting::Permutations => "--permutations",
        Setting::Local => "--local-out",
    }
}

/// A number as a user would write it: the shortest form, in exponent notation when that is
/// shorter (1e308, not 309 digits).
fn num(v: f64) -> String {
    let plain = format!("{v}");
    let sci = format!("{v:e}");
    if sci.len() < plain.len() { sci } else { plain }
}

/// The flag of a parameter the library names.
fn param_flag(name: &str) -> Option<&'static str> {
    Some(match name {
        "k" => "--k",
        "noise" => "--noise",
        "permutations" => "--permutations",
        "batch" => "--batch",
        "learning_rate" => "--lr",
        "max_steps" => "--steps",
        _ => return None,
    })
}

/// One line in the user's terms.
pub(crate) fn explain(r: Refusal, c: &Ctx) -> anyhow::Error {
    match r {
        Refusal::Cli(e) => e,
        Refusal::Continuous(e) => anyhow::anyhow!(continuous(&e, c)),
        Refusal::Neural(e) => anyhow::anyhow!(neural(&e, c)),
    }
}

fn continuous(e: &ContinuousError, c: &Ctx) -> String {
    use ContinuousError as E;
    let input = c.input;
    match e {
        E::NotApplicable {
            setting: Setting::Copula,
            estimator: "gaussian",
        } => "--copula with --estimator gaussian is Gaussian-copula MI: use --estimator gcmi, \
              which also corrects the bias of the Gaussian entropies"
            .into(),
        E::NotApplicable { setting, estimator } => format!(
            "{}: does not apply to --estimator {estimator} (it takes {})",
            flag(*setting),
            accepted(estimator)
        ),
        E::NoConditionalForm { estimator } => format!(
            "--z: --estimator {estimator} has no conditional form; use ksg1, ksg2, gaussian or gcmi with --z"
        ),
        E::ZeroDistance { what } => format!(
            "--noise {}: {input}: {what}: tied samples leave some point's k-th neighbour at distance 0, \
             which makes the estimate arbitrary; keep the tie-breaking noise on (the default --noise 1e-8) \
             or use an estimator for discrete data",
            num(c.noise)
        ),
        E::TooFewSamples { k, available } => format!(
            "--k {k} needs more samples: {input} leaves only {available} neighbours per point{}",
            if c.theiler > 0 {
                format!(" outside the Theiler window (--theiler {})", c.theiler)
            } else {
                String::new()
            }
        ),
        E::SeriesTooShort {
            len,
            needed,
            history,
        } => format!(
            "{input}: the series has {len} rows; --target-history, --source-history, their spacings and --lag \
             use the first {history}, so at least {needed} are needed"
        ),
        E::ConstantColumn { col } => match c.constant {
            Some((v, j)) => format!(
                "{input}: {} is constant: it carries no information and cannot be standardised or ranked",
                c.column(v, j)
            ),
            None => format!(
                "{input}: column {col} of a variable is constant: it carries no information and cannot be standardised or ranked"
            ),
        },
        E::NotLabels {
            estimator,
            row,
            value,
        } => format!(
            "{input}: {}, data row {}: {value} is not an integer label; --estimator {} needs integer labels in --x ({estimator})",
            c.column(Variable::X, 0),
            row + 1,
            c.estimator
        ),
        E::ShapeMismatch {
            what: "label columns",
            got,
            ..
        } => format!(
            "--x: --estimator {} needs one column of integer labels, got {got}",
            c.estimator
        ),
        E::ClassTooSmall { .. } => format!("{input}: --x: {e}"),
        E::SingularCovariance { .. } => format!(
            "{input}: the selected columns are linearly dependent ({e}): a column repeated \
             across the variables, or one that is a linear function of others, does this"
        ),
        E::InvalidParameter {
            name,
            value,
            reason,
        } => match param_flag(name) {
            Some(f) => format!("{f} {}: {reason}", num(*value)),
            None => format!("{input}: {e}"),
        },
        E::InvalidChoice { got, expected, .. } => {
            format!("--estimator {got}: expected one of {}", expected.join(", "))
        }
        other => format!("{input}: {other}"),
    }
}

/// The settings an estimator takes, as flags.
fn accepted(estimator: &str) -> String {
    let Ok(m) = estimator.parse::<infometer_continuous::MiMethod>() else {
        return "no such settings".into();
    };
    let flags: Vec<&str> = [
        Setting::K,
        Setting::Noise,
        Setting::Standardize,
        Setting::Theiler,
        Setting::Copula,
        Setting::Permutations,
    ]
    .into_iter()
    .filter(|&s| m.accepts(s))
    .map(flag)
    .collect();
    if flags.is_empty() {
        "none of --k, --noise, --no-standardize, --theiler, --copula, --permutations".into()
    } else {
        flags.join(", ")
    }
}

fn neural(e: &NeuralError, c: &Ctx) -> String {
    use NeuralError as N;
    match e {
        N::TooFewSamples { batch, .. } => format!("--batch {batch}: {}: {e}", c.input),
        N::InvalidParameter {
            name,
            value,
            reason,
        } => match param_flag(name) {
            Some(f) => format!("{f} {}: {reason}", num(*value)),
            None => format!("{}: {e}", c.input),
        },
        N::EmptyLayer { .. } => format!("--hidden: {e}"),
        N::BackendUnavailable { backend, .. } => format!("--backend {backend}: {e}"),
        N::Continuous(inner) => continuous(inner, c),
        other => format!("{}: {other}", c.input),
    }
}

/// A warning in the user's words: columns named as in the file, the quantity named.
pub(crate) fn warning(w: &Warning, c: &Ctx, quantity: &str) -> String {
    match w {
        Warning::Negative { nats } => format!(
            "negative {quantity} estimate {nats:.4} nats: {quantity} is ≥ 0, so this is estimator \
             bias or noise; read it as no detectable dependence"
        ),
        Warning::Overlap {
            first,
            first_col,
            second,
            second_col,
        } => format!(
            "{} and {} hold the same values: the information of a variable with itself is \
             unbounded, so the estimate reflects the estimator, not the data",
            c.column(*first, *first_col),
            c.column(*second, *second_col)
        ),
        Warning::Ties {
            variable,
            repeated_rows,
        } => {
            let flag = c
                .vars
                .get(c.var(*variable))
                .map_or("a variable", |(f, _)| *f);
            format!(
                "{flag} repeats {repeated_rows} rows and --noise is 0: k-NN estimators assume \
                 continuous data; keep the noise on or use an estimator for discrete data"
            )
        }
        Warning::LargeNoise { noise, .. } => format!("--noise {}: {w}", num(*noise)),
        other => other.to_string(),
    }
}
