//! Writing to stdout and stderr without panicking.
//!
//! `print!` panics when stdout is closed or full (`bottleneck check | head
//! -1`, `> /dev/full`). Here every write goes through [`write`], which locks
//! stdout, returns the error and remembers it: a closed pipe (EPIPE) makes
//! the rest of the output quietly go nowhere, as Unix tools do when the
//! reader has what it wanted; any other error is said once on stderr, and
//! [`finish`] turns it into exit code 1. Messages on stderr go through
//! [`write_err`], which ignores errors: there is nowhere left to report them.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

const OK: u8 = 0;
const CLOSED: u8 = 1;
const FAILED: u8 = 2;

static STDOUT: AtomicU8 = AtomicU8::new(OK);

/// Writes to stdout. After a closed pipe or a failed write, writes nothing
/// more (and says `Ok`, so a command carries on to its exit code).
pub fn write(args: fmt::Arguments) -> io::Result<()> {
    if STDOUT.load(Ordering::Relaxed) != OK {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    out.write_fmt(args).inspect_err(failed)
}

/// Remembers a failed write to stdout; says it unless the pipe was closed.
fn failed(e: &io::Error) {
    if e.kind() == io::ErrorKind::BrokenPipe {
        STDOUT.store(CLOSED, Ordering::Relaxed);
    } else if STDOUT.swap(FAILED, Ordering::Relaxed) != FAILED {
        write_err(format_args!(
            "error: cannot write the output: {e}\n   = hint: check the disk or the file stdout goes to (or send it elsewhere with > FILE)\n"
        ));
    }
}

/// Writes to stderr, ignoring errors.
pub fn write_err(args: fmt::Arguments) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Flushes stdout and gives the exit code: `code`, or 1 when the output
/// could not be written (a closed pipe is not a failure).
pub fn finish(code: ExitCode) -> ExitCode {
    if STDOUT.load(Ordering::Relaxed) == OK {
        let _ = io::stdout().lock().flush().inspect_err(failed);
    }
    if STDOUT.load(Ordering::Relaxed) == FAILED {
        ExitCode::from(crate::EXIT_FAILED)
    } else {
        code
    }
}

/// `print!` that does not panic: see [`write`].
macro_rules! out {
    ($($t:tt)*) => {{
        let _ = $crate::cli::out::write(format_args!($($t)*));
    }};
}

/// `println!` that does not panic: see [`write`].
macro_rules! outln {
    () => { $crate::cli::out::out!("\n") };
    ($($t:tt)*) => {{
        let _ = $crate::cli::out::write(format_args!("{}\n", format_args!($($t)*)));
    }};
}

/// `eprint!` that does not panic.
macro_rules! err {
    ($($t:tt)*) => {
        $crate::cli::out::write_err(format_args!($($t)*))
    };
}

/// `eprintln!` that does not panic.
macro_rules! errln {
    ($($t:tt)*) => {
        $crate::cli::out::write_err(format_args!("{}\n", format_args!($($t)*)))
    };
}

pub(crate) use {err, errln, out, outln};
