//! `daskwire-rs`: speaks the daskwire harness protocol on stdin and stdout: version 2 (both
//! profiles, placeholder-v1 and dask-2023.11) when the runner offers it, else version 1.

use std::io::{self, BufWriter};
use std::process::ExitCode;

/// Deeply nested messages are valid test input (limits are configurable per request),
/// so requests run on a thread with a large stack.
const STACK_BYTES: usize = 512 * 1024 * 1024;

fn main() -> ExitCode {
    let worker = std::thread::Builder::new()
        .name("harness".into())
        .stack_size(STACK_BYTES)
        .spawn(|| {
            let stdin = io::stdin().lock();
            let stdout = BufWriter::new(io::stdout().lock());
            daskwire_rs::harness::serve(stdin, stdout)
        });
    match worker.map(|w| w.join()) {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        Ok(Ok(Err(e))) => {
            eprintln!("daskwire-rs: I/O error: {e}");
            ExitCode::FAILURE
        }
        Ok(Err(_)) => {
            eprintln!("daskwire-rs: the harness thread panicked");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("daskwire-rs: cannot start the harness thread: {e}");
            ExitCode::FAILURE
        }
    }
}
