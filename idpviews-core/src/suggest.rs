//! "Did you mean" suggestions: one implementation for the Prisma analysis,
//! the generator, the merge and the proc macros.

/// The candidate closest to `name` by edit distance (case-insensitive),
/// if it is close enough to be a plausible typo.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    // nobody mistypes a name this long; edit distance is quadratic
    if name.len() > 64 {
        return None;
    }
    let lower = name.to_lowercase();
    let len = name.chars().count();
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        // cheap length filters first, so many unknown names against many
        // candidates stay cheap: a longer length difference is more edits
        .filter(|c| {
            c.len().abs_diff(name.len()) <= limit * 4 && c.chars().count().abs_diff(len) <= limit
        })
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// Edit distance over chars, counting an adjacent transposition as one edit
/// (optimal string alignment), so `emial` is one edit from `email`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        d[i * w] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j - 1] + cost)
                .min(d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let c = ["email", "firstName", "lastName"];
        assert_eq!(did_you_mean("emial", c), Some("email"));
        assert_eq!(did_you_mean("firstname", c), Some("firstName"));
        assert_eq!(did_you_mean("password", c), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
