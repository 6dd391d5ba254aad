//! Small, dependency-free helpers to rewrite PostgreSQL connection strings.
//!
//! Both forms libpq and `postgres` accept are handled: URLs
//! (`postgres://user:pass@host:port/dbname?params`) and key/value strings
//! (`host=... user=... dbname=...`). For the key/value form we append keys:
//! a later key overrides an earlier one.

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The parts of a URL we rewrite; everything else is kept verbatim.
struct UrlParts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    hostspec: &'a str,
    query: Option<&'a str>,
}

fn split_url(url: &str) -> UrlParts<'_> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_q, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    let (userinfo, hostpath) = match before_q.rfind('@') {
        Some(at) => (Some(&before_q[..at]), &before_q[at + 1..]),
        None => (None, before_q),
    };
    let hostspec = match hostpath.find('/') {
        Some(slash) => &hostpath[..slash],
        None => hostpath,
    };
    UrlParts {
        scheme,
        userinfo,
        hostspec,
        query,
    }
}

fn join(
    scheme: &str,
    userinfo: Option<&str>,
    hostspec: &str,
    db: &str,
    query: Option<&str>,
) -> String {
    let mut out = format!("{scheme}://");
    if let Some(u) = userinfo {
        out.push_str(u);
        out.push('@');
    }
    out.push_str(hostspec);
    out.push('/');
    out.push_str(&encode(db));
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn kv_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The same connection string, pointing at database `db`.
pub(crate) fn with_dbname(conn: &str, db: &str) -> String {
    if is_url(conn) {
        let p = split_url(conn);
        join(p.scheme, p.userinfo, p.hostspec, db, p.query)
    } else {
        format!("{} dbname={}", conn.trim_end(), kv_quote(db))
    }
}

/// The same connection string, pointing at database `db` as `user` (with `password`).
pub(crate) fn with_user(conn: &str, db: &str, user: &str, password: Option<&str>) -> String {
    if is_url(conn) {
        let p = split_url(conn);
        let userinfo = match password {
            Some(pw) => format!("{}:{}", encode(user), encode(pw)),
            None => encode(user),
        };
        join(p.scheme, Some(&userinfo), p.hostspec, db, p.query)
    } else {
        let mut out = format!(
            "{} dbname={} user={}",
            conn.trim_end(),
            kv_quote(db),
            kv_quote(user)
        );
        // An empty password overrides one given earlier in the string.
        out.push_str(&format!(" password={}", kv_quote(password.unwrap_or(""))));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_the_database_of_a_url() {
        assert_eq!(
            with_dbname("postgres://postgres@127.0.0.1:5432/postgres", "t_1"),
            "postgres://postgres@127.0.0.1:5432/t_1"
        );
        assert_eq!(
            with_dbname("postgresql://u:p%40ss@db:6000?sslmode=disable", "x"),
            "postgresql://u:p%40ss@db:6000/x?sslmode=disable"
        );
        assert_eq!(with_dbname("postgres://h/a", "b"), "postgres://h/b");
    }

    #[test]
    fn rewrites_the_user_of_a_url() {
        assert_eq!(
            with_user(
                "postgres://postgres:secret@127.0.0.1:5432/postgres?connect_timeout=5",
                "t_1",
                "t_1_app",
                Some("p@ss w/ord")
            ),
            "postgres://t_1_app:p%40ss%20w%2Ford@127.0.0.1:5432/t_1?connect_timeout=5"
        );
        assert_eq!(
            with_user("postgres://postgres@h:1/postgres", "d", "r", None),
            "postgres://r@h:1/d"
        );
    }

    #[test]
    fn rewrites_key_value_strings() {
        assert_eq!(
            with_dbname("host=localhost user=postgres dbname=postgres", "t_1"),
            "host=localhost user=postgres dbname=postgres dbname='t_1'"
        );
        let s = with_user("host=localhost password=x", "d", "r", Some("it's"));
        assert_eq!(
            s,
            "host=localhost password=x dbname='d' user='r' password='it\\'s'"
        );
        let cfg: postgres::Config = s.parse().expect("parses");
        assert_eq!(cfg.get_user(), Some("r"));
        assert_eq!(cfg.get_dbname(), Some("d"));
        assert_eq!(cfg.get_password(), Some(&b"it's"[..]));
    }
}
