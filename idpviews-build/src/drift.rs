//! Drift: committed output compared with what the inputs produce, the one
//! bless switch ([`bless_requested`]), and unified diffs of two texts.
//!
//! Every entry point that checks committed output (`idpviews generate
//! --check`, `idpviews merge --check`, a product's build script, the golden
//! tests) compares through [`stale_file`] and blesses only when
//! [`bless_requested`] says so.
//!
//! A small Myers line diff (no dependency) with 3 lines of context, in the
//! format of `diff -u`: `--- old`, `+++ new`, `@@ -a,b +c,d @@` hunks and
//! `\ No newline at end of file` markers. Very different inputs (more than
//! `MAX_EDIT_DISTANCE` (2000) changed lines) fall back to replacing the differing
//! middle wholesale, so the cost stays bounded.

use crate::Error;
use std::path::{Path, PathBuf};

/// The environment variable that rewrites committed output instead of
/// failing on drift: `IDPVIEWS_BLESS=1`.
pub const BLESS_ENV: &str = "IDPVIEWS_BLESS";

/// Whether `IDPVIEWS_BLESS=1` is set: exactly `1` blesses (`0`, `false`,
/// an empty value or anything else does not). The only reader of the
/// variable.
pub fn bless_requested() -> bool {
    std::env::var_os(BLESS_ENV).is_some_and(|v| v == "1")
}

/// `Some((path, diff))` when the file at `path` does not hold `expected`
/// (a missing file counts as empty, and the diff says it does not exist
/// yet): a unified diff from the file, labelled `old_label`, to the
/// expected text, labelled `new_label`.
pub fn stale_file(
    path: &Path,
    expected: &str,
    old_label: &str,
    new_label: &str,
) -> Result<Option<(PathBuf, String)>, Error> {
    let (current, exists) = match std::fs::read(path) {
        Ok(bytes) if bytes == expected.as_bytes() => return Ok(None),
        Ok(bytes) => (String::from_utf8_lossy(&bytes).into_owned(), true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), false),
        Err(e) => return Err(Error::io(path, e)),
    };
    let diff = unified_diff(old_label, new_label, &current, expected);
    let diff = if exists {
        diff
    } else {
        format!("the file does not exist yet\n{diff}")
    };
    Ok(Some((path.to_path_buf(), diff)))
}

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// Beyond this many inserted + deleted lines, the middle is shown as one
/// block replaced by another (the diff stays correct, just less minimal).
const MAX_EDIT_DISTANCE: usize = 2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Equal,
    Delete,
    Insert,
}

/// One line of a text, with whether it ended with `\n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Line<'a> {
    text: &'a str,
    newline: bool,
}

fn split_lines(s: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        match rest.find('\n') {
            Some(i) => {
                out.push(Line {
                    text: &rest[..i],
                    newline: true,
                });
                rest = &rest[i + 1..];
            }
            None => {
                out.push(Line {
                    text: rest,
                    newline: false,
                });
                rest = "";
            }
        }
    }
    out
}

/// A unified diff from `old` to `new` with 3 lines of context, headed
/// `--- {old_name}` / `+++ {new_name}`. Empty when the texts are equal.
pub fn unified_diff(old_name: &str, new_name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a = split_lines(old);
    let b = split_lines(new);
    let ops = diff_ops(&a, &b);
    render(old_name, new_name, &a, &b, &ops)
}

/// The edit script turning `a` into `b`, one op per line.
fn diff_ops(a: &[Line<'_>], b: &[Line<'_>]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let am = &a[prefix..a.len() - suffix];
    let bm = &b[prefix..b.len() - suffix];
    let mut ops = vec![Op::Equal; prefix];
    match myers(am, bm) {
        Some(middle) => ops.extend(middle),
        None => {
            ops.extend(std::iter::repeat_n(Op::Delete, am.len()));
            ops.extend(std::iter::repeat_n(Op::Insert, bm.len()));
        }
    }
    ops.extend(std::iter::repeat_n(Op::Equal, suffix));
    ops
}

/// Myers' O(ND) diff. `None` when the edit distance exceeds the cap.
fn myers(a: &[Line<'_>], b: &[Line<'_>]) -> Option<Vec<Op>> {
    let n = a.len() as isize;
    let m = b.len() as isize;
    let max = (a.len() + b.len()).min(MAX_EDIT_DISTANCE) as isize;
    let offset = max + 1;
    let mut v = vec![0isize; 2 * offset as usize + 1];
    // trace[d] = the furthest x on each diagonal k in -d..=d after step d
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut found = None;
    'outer: for d in 0..=max {
        for k in (-d..=d).step_by(2) {
            let idx = (k + offset) as usize;
            let mut x = if k == -d || (k != d && v[idx - 1] < v[idx + 1]) {
                v[idx + 1]
            } else {
                v[idx - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[idx] = x;
            if x >= n && y >= m {
                trace.push(snapshot(&v, d, offset));
                found = Some(d);
                break 'outer;
            }
        }
        trace.push(snapshot(&v, d, offset));
    }
    let dmax = found?;
    // backtrack
    let mut ops = Vec::with_capacity(a.len() + b.len());
    let (mut x, mut y) = (n, m);
    for d in (1..=dmax).rev() {
        let prev = &trace[d as usize - 1];
        let get = |k: isize| prev[(k + d - 1) as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && get(k - 1) < get(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = get(prev_k);
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            ops.push(Op::Equal);
            x -= 1;
            y -= 1;
        }
        if prev_k == k + 1 {
            ops.push(Op::Insert);
        } else {
            ops.push(Op::Delete);
        }
        x = prev_x;
        y = prev_y;
    }
    while x > 0 && y > 0 {
        ops.push(Op::Equal);
        x -= 1;
        y -= 1;
    }
    ops.reverse();
    Some(ops)
}

/// The entries of `v` for diagonals `-d..=d`.
fn snapshot(v: &[isize], d: isize, offset: isize) -> Vec<isize> {
    v[(offset - d) as usize..=(offset + d) as usize].to_vec()
}

fn render(old_name: &str, new_name: &str, a: &[Line<'_>], b: &[Line<'_>], ops: &[Op]) -> String {
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    // positions (in a and b) before each op
    let mut pos = Vec::with_capacity(ops.len() + 1);
    let (mut i, mut j) = (0usize, 0usize);
    for op in ops {
        pos.push((i, j));
        match op {
            Op::Equal => {
                i += 1;
                j += 1;
            }
            Op::Delete => i += 1,
            Op::Insert => j += 1,
        }
    }
    pos.push((i, j));
    let changes: Vec<usize> = (0..ops.len()).filter(|&k| ops[k] != Op::Equal).collect();
    let mut c = 0;
    while c < changes.len() {
        // group changes whose gaps are at most 2 * CONTEXT equal lines
        let first = changes[c];
        let mut last = first;
        c += 1;
        while c < changes.len() && changes[c] - last <= 2 * CONTEXT + 1 {
            last = changes[c];
            c += 1;
        }
        let start = first.saturating_sub(CONTEXT);
        let end = (last + 1 + CONTEXT).min(ops.len());
        let (a0, b0) = pos[start];
        let (a1, b1) = pos[end];
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(a0, a1 - a0),
            range(b0, b1 - b0)
        ));
        for k in start..end {
            let (ai, bi) = pos[k];
            let (sign, line) = match ops[k] {
                Op::Equal => (' ', a[ai]),
                Op::Delete => ('-', a[ai]),
                Op::Insert => ('+', b[bi]),
            };
            out.push(sign);
            out.push_str(line.text);
            out.push('\n');
            if !line.newline {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// `start,len` as `diff -u` prints it (1-based; `n,0` for empty ranges).
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a unified diff to `old`, the way `patch` would.
    fn apply(old: &str, diff: &str) -> String {
        let a = split_lines(old);
        let mut out = String::new();
        let mut next = 0usize;
        let mut lines = diff.lines().skip(2).peekable();
        while let Some(h) = lines.next() {
            let h = h.strip_prefix("@@ -").unwrap();
            let old_range = h.split(' ').next().unwrap();
            let mut it = old_range.split(',');
            let s: usize = it.next().unwrap().parse().unwrap();
            let l: usize = it.next().map(|x| x.parse().unwrap()).unwrap_or(1);
            let s0 = if l == 0 { s } else { s - 1 };
            for line in &a[next..s0] {
                out.push_str(line.text);
                if line.newline {
                    out.push('\n');
                }
            }
            next = s0;
            while let Some(l) = lines.peek() {
                if l.starts_with("@@") {
                    break;
                }
                let l = lines.next().unwrap();
                if l.starts_with('\\') {
                    out.pop();
                    continue;
                }
                let (sign, text) = l.split_at(1);
                match sign {
                    " " => {
                        out.push_str(text);
                        out.push('\n');
                        next += 1;
                    }
                    "-" => next += 1,
                    "+" => {
                        out.push_str(text);
                        out.push('\n');
                    }
                    _ => panic!("bad line {l:?}"),
                }
            }
        }
        for line in &a[next..] {
            out.push_str(line.text);
            if line.newline {
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified_diff("a", "b", "x\ny\n", "x\ny\n"), "");
    }

    #[test]
    fn small_change_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let new = "1\n2\n3\n4\n5\nsix\n7\n8\n9\n10\n";
        let d = unified_diff("old", "new", old, new);
        assert_eq!(
            d,
            "--- old\n+++ new\n@@ -3,7 +3,7 @@\n 3\n 4\n 5\n-6\n+six\n 7\n 8\n 9\n"
        );
    }

    #[test]
    fn separate_hunks_and_missing_newline() {
        let old: String = (1..=30).map(|i| format!("{i}\n")).collect();
        let mut new = old.replacen("2\n", "two\n", 1).replace("25\n", "");
        new.push_str("end");
        let d = unified_diff("o", "n", &old, &new);
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.ends_with("+end\n\\ No newline at end of file\n"), "{d}");
        assert_eq!(apply(&old, &d), new);
    }

    #[test]
    fn empty_sides() {
        let d = unified_diff("o", "n", "", "a\nb\n");
        assert_eq!(d, "--- o\n+++ n\n@@ -0,0 +1,2 @@\n+a\n+b\n");
        let d = unified_diff("o", "n", "a\n", "");
        assert_eq!(d, "--- o\n+++ n\n@@ -1 +0,0 @@\n-a\n");
    }

    #[test]
    fn diffs_apply_back() {
        // a deterministic pseudo-random walk of edits
        let mut seed = 0x2545f491u32;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for _ in 0..200 {
            let n = (rnd() % 40) as usize;
            let old: Vec<String> = (0..n).map(|_| format!("l{}", rnd() % 6)).collect();
            let mut new = old.clone();
            for _ in 0..(rnd() % 6) {
                let at = if new.is_empty() {
                    0
                } else {
                    (rnd() as usize) % new.len()
                };
                match rnd() % 3 {
                    0 if !new.is_empty() => {
                        new.remove(at);
                    }
                    1 => new.insert(at, format!("n{}", rnd() % 6)),
                    _ if !new.is_empty() => new[at] = format!("c{}", rnd() % 6),
                    _ => {}
                }
            }
            let old_s: String = old.iter().map(|l| format!("{l}\n")).collect();
            let new_s: String = new.iter().map(|l| format!("{l}\n")).collect();
            let d = unified_diff("o", "n", &old_s, &new_s);
            assert_eq!(apply(&old_s, &d), new_s, "diff:\n{d}");
        }
    }

    #[test]
    fn huge_differences_stay_bounded() {
        let old: String = (0..5000).map(|i| format!("a{i}\n")).collect();
        let new: String = (0..5000).map(|i| format!("b{i}\n")).collect();
        let d = unified_diff("o", "n", &old, &new);
        assert_eq!(apply(&old, &d), new);
    }
}
