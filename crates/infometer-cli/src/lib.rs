//! infometer-cli: the library behind the `infometer` binary (file formats and subcommands), exposed so tests and fuzzers can drive it.

#![warn(missing_docs)]

pub mod heap;
pub mod logits;
pub mod mi_cmd;
pub mod npy;
pub mod staged;
pub mod table_cmd;
pub mod table_input;
pub mod tensor_file;
pub mod uncertainty_cmd;
