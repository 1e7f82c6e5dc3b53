//! The `infometer` command: information measures from files (logits tensors, tables, samples).

use clap::{Parser, Subcommand};
use infometer_cli::{logits, mi_cmd, table_cmd, uncertainty_cmd};

/// Information measures for language models and data.
#[derive(Parser)]
#[command(name = "infometer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// `defer`: a subcommand's arguments are built only when it is the one run (building all
// nine took about 0.15 ms of every run). Its help text therefore comes from its arguments'
// struct, whose doc comment repeats the line given here for the list (a test keeps the two
// equal).
#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    /// Per-token entropy, NLL, perplexity, calibration, KL and JS of logits tensors.
    Logits(logits::LogitsArgs),
    /// Two models on the same labelled tokens: Δ NLL, perplexity ratio, Δ ECE, Δ Brier with
    /// document-level intervals, the delta method and a paired sign-flip test.
    Compare(logits::compare::CompareArgs),
    /// Total, aleatoric and epistemic (mutual information) uncertainty of an ensemble or
    /// MC-dropout samples, per token and averaged.
    Uncertainty(uncertainty_cmd::UncertaintyArgs),
    /// Combines state files of `logits --state` (shards, batches, workers) into one report.
    Merge(logits::state::MergeArgs),
    /// Entropies and mutual information of a joint table of counts.
    Table(table_cmd::TableArgs),
    /// Mutual information (or conditional MI with --z) between columns of a sample file.
    Mi(mi_cmd::MiArgs),
    /// Transfer entropy from a source column to a target column.
    Te(mi_cmd::TeArgs),
    /// Differential entropy (Kozachenko–Leonenko) of columns.
    Entropy(mi_cmd::EntropyArgs),
    /// Multi-information (total correlation) of several columns.
    MultiInfo(mi_cmd::MultiInfoArgs),
    /// Internal: one training step on a backend, run in a child process by `mi --backend wgpu`
    /// so that a crashing GPU driver ends the child, not the command.
    #[command(hide = true)]
    ProbeBackend {
        /// flex, ndarray or wgpu
        backend: String,
    },
}

fn main() {
    // before any thread starts
    infometer_cli::heap::tune_for_one_run();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // a bad flag value is one line that names the flag (clap's first line), then the
            // usual exit code 2; the usage block is what `--help` is for
            let text = e.render().to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("error");
            eprintln!("{}", first.trim_end());
            std::process::exit(2);
        }
    };
    if let Command::ProbeBackend { backend } = &cli.command {
        std::process::exit(mi_cmd::probe_backend_here(backend));
    }
    let (res, as_json) = match &cli.command {
        Command::Logits(a) => (logits::run(a), a.json),
        Command::Compare(a) => (logits::compare::run(a), a.json),
        Command::Uncertainty(a) => (uncertainty_cmd::run(a), a.json),
        Command::Merge(a) => (logits::state::run_merge(a), a.json),
        Command::Table(a) => (table_cmd::run(a), a.json),
        Command::Mi(a) => (mi_cmd::run_mi(a), a.common.json),
        Command::Te(a) => (mi_cmd::run_te(a), a.common.json),
        Command::Entropy(a) => (mi_cmd::run_entropy(a), a.common.json),
        Command::MultiInfo(a) => (mi_cmd::run_multi_info(a), a.common.json),
        Command::ProbeBackend { .. } => unreachable!("handled above"),
    };
    match res {
        Ok(v) => {
            if as_json {
                println!("{v}");
            } else {
                print_human(&v);
                for w in v["warnings"].as_array().into_iter().flatten() {
                    eprintln!("warning: {}", w.as_str().unwrap_or_default());
                }
            }
        }
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            std::process::exit(1);
        }
    }
}

fn print_human(v: &serde_json::Value) {
    if let Some(o) = v.as_object() {
        let w = o.keys().map(|k| k.len()).max().unwrap_or(0);
        for (k, x) in o {
            match x.as_f64() {
                Some(f) if x.is_f64() => println!("{k:<w$}  {f:.6}"),
                _ => println!("{k:<w$}  {x}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every subcommand's own help opens with the line the list of `infometer --help` gives
    /// it: with `defer`, the first comes from the arguments' struct and the second from the
    /// enum's variant, and this keeps the two equal. Clap's own consistency checks run on the
    /// whole tree, deferred parts built.
    #[test]
    fn a_subcommand_says_of_itself_what_the_list_says_of_it() {
        let cli = Cli::command();
        let mut checked = 0;
        for listed in cli.get_subcommands() {
            let mut own = listed.clone();
            own.build();
            let text = |c: &clap::Command| c.get_about().map(|a| a.to_string());
            assert!(text(listed).is_some(), "{} has no line", listed.get_name());
            assert_eq!(text(&own), text(listed), "infometer {}", listed.get_name());
            assert!(
                own.get_arguments().count() > 1,
                "{}: the deferred arguments were built",
                listed.get_name()
            );
            checked += 1;
        }
        assert_eq!(checked, 10);
        cli.debug_assert();
    }
}
