//! `infometer-demo`: prints the healthcare scenarios report (`cargo xtask demo` runs it in release mode).

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    match infometer_health::demo::report(!quick) {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
