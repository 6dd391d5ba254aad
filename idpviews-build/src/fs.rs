//! File output: atomic, write-only-when-changed, io errors that name the path.

use crate::Error;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` unless the file already holds exactly those
/// bytes (so mtimes stay put): [`write_files_if_changed`] for one file.
/// Returns whether it wrote.
pub fn write_if_changed(path: &Path, contents: &[u8]) -> Result<bool, Error> {
    Ok(!write_files_if_changed(&[(path, contents)])?.is_empty())
}

/// The one write path: writes each file whose bytes differ from
/// `contents`, atomically as a set. Every changed file is first written to
/// a temporary file in its directory (parents are created); only when all
/// of them are written are they renamed into place, in order, so an I/O
/// error leaves the files as they were and a failed run never leaves a
/// half-written file. Returns the paths written.
pub fn write_files_if_changed(files: &[(&Path, &[u8])]) -> Result<Vec<PathBuf>, Error> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |staged: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (path, contents) in files {
        if std::fs::read(path).is_ok_and(|old| old == *contents) {
            continue;
        }
        match stage(path, contents) {
            Ok(tmp) => staged.push((tmp, path.to_path_buf())),
            Err(e) => {
                cleanup(&staged);
                return Err(e);
            }
        }
    }
    let mut written = Vec::new();
    for (i, (tmp, path)) in staged.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            cleanup(&staged[i..]);
            return Err(Error::io(path, e));
        }
        written.push(path.clone());
    }
    Ok(written)
}

/// Writes `contents` to a temporary file next to `path`; returns its path.
fn stage(path: &Path, contents: &[u8]) -> Result<PathBuf, Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    if let Err(e) = std::fs::write(&tmp, contents) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    Ok(tmp)
}

/// Reads a UTF-8 file, naming the path on failure.
pub fn read_to_string(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.txt");
        assert!(write_if_changed(&p, b"x").unwrap());
        assert!(!write_if_changed(&p, b"x").unwrap());
        assert!(write_if_changed(&p, b"y").unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"y");
        // no temp files left behind
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn a_set_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, "old a").unwrap();
        let written = write_files_if_changed(&[(&a, b"old a"), (&b, b"new b")]).unwrap();
        assert_eq!(written, std::slice::from_ref(&b));
        // a file in a directory that cannot be created: nothing changes
        let blocked = b.join("c");
        assert!(write_files_if_changed(&[(&a, b"new a"), (&blocked, b"c")]).is_err());
        assert_eq!(std::fs::read(&a).unwrap(), b"old a");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
