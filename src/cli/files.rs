//! Reading input files. Every file the CLI reads (topologies, scenarios,
//! drills, cost models, sweep shards) goes through [`read`], which checks
//! what the path is before reading a byte: a regular file (not a directory,
//! a device such as `/dev/zero`, a named pipe that would block for ever, or
//! a socket), no larger than its limit; then it reads at most the limit and
//! one byte more, so a file that grows while it is read is still refused.

use bottleneck::diag::{Diagnostic, Diagnostics};
use std::fs::{File, FileType};
use std::io::Read;
use std::path::Path;

/// The largest RON input (topology, scenario, drill, costs): the loader's.
pub const MAX_RON_BYTES: u64 = bottleneck::topology::limits::MAX_FILE_BYTES as u64;
/// The largest sweep shard (`bottleneck sweep --json`): 10,000 points of a
/// few hundred bytes each fit many times over.
pub const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;

/// What a path is, for messages, when it is not a regular file.
fn not_regular(t: &FileType) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a named pipe (FIFO), which would wait for a writer");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device, not a file");
        }
        if t.is_socket() {
            return Some("a socket, not a file");
        }
    }
    if t.is_dir() {
        Some("a directory")
    } else if t.is_file() {
        None
    } else {
        Some("not a regular file")
    }
}

fn size(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else if n >= 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} bytes")
    }
}

/// Reads `path`, `what` it should be (e.g. "a topology (.ron)") saying what
/// to give instead when it is not: at most `limit` bytes of a regular file.
pub fn read(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, Diagnostic> {
    let cannot = |e: std::io::Error| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!("check the path; give {what}; bundled examples are in topologies/")
            }
            std::io::ErrorKind::PermissionDenied => {
                format!("check the file's permissions; give {what}")
            }
            _ => format!("give {what}"),
        };
        Diagnostic::error(format!("cannot read the file: {e}")).hint(hint)
    };
    let kind = |t: &FileType| {
        not_regular(t).map(|k| {
            Diagnostic::error(format!("cannot read the file: it is {k}"))
                .hint(format!("give {what}"))
        })
    };
    let too_big = |n: String| {
        Diagnostic::error(format!(
            "the file is {n}, over the limit of {} for {what}",
            size(limit)
        ))
        .hint("is this the right file?")
    };
    // What the path is, before opening it: opening a named pipe would wait.
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if let Some(d) = kind(&meta.file_type()) {
        return Err(d);
    }
    if meta.len() > limit {
        return Err(too_big(size(meta.len())));
    }
    let file = File::open(path).map_err(cannot)?;
    // The same question of what was opened (the path may have changed).
    let meta = file.metadata().map_err(cannot)?;
    if let Some(d) = kind(&meta.file_type()) {
        return Err(d);
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize + 1);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(format!("over {}", size(limit))));
    }
    Ok(bytes)
}

/// [`read`], with a refusal as the diagnostics of the file named `name`.
pub fn read_named(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, Diagnostics> {
    read(path, what, limit).map_err(|d| {
        let mut ds = Diagnostics::new(&path.display().to_string(), "");
        ds.push(d);
        ds
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_small_regular_file() {
        let dir = std::env::temp_dir().join(format!("bottleneck-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = read(&dir, "a topology (.ron)", 100).unwrap_err();
        assert!(e.message.contains("a directory"), "{e:?}");
        let big = dir.join("big.ron");
        std::fs::write(&big, vec![b' '; 101]).unwrap();
        let e = read(&big, "a topology (.ron)", 100).unwrap_err();
        assert!(e.message.contains("over the limit of 100 bytes"), "{e:?}");
        assert_eq!(read(&big, "x", 101).unwrap().len(), 101);
        let e = read(&dir.join("nope.ron"), "a topology (.ron)", 100).unwrap_err();
        assert!(e.hint.unwrap().contains("check the path"));
        #[cfg(unix)]
        {
            let e = read(Path::new("/dev/zero"), "a topology (.ron)", 100).unwrap_err();
            assert!(e.message.contains("a device"), "{e:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
