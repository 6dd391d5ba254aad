//! The built-in secret guard: fields that look like credentials or
//! security state are refused even when listed, unless the view opts in
//! with a written reason (`allow_secrets = { field = "reason" }`).
//!
//! A name is split into words at camelCase humps, `_`, `-` and `.`
//! (`passwordHash` -> `password`, `hash`; `failed_login_attempts` ->
//! `failed`, `login`, `attempts`), compared case-insensitively. It is a
//! secret when one of its words is in [`SECRET_WORDS`] (a plural `s`/`es`
//! counts too) or when it contains one of [`SECRET_PHRASES`] as consecutive
//! words. Both the Prisma field name and the database column (`@map`) are
//! checked. Whole words only, so `shippingAddress` or `spinCount` are not
//! secrets, while `pin`, `pinCode` and `hashedPin` are.

/// Single words that mark a secret.
pub const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pin",
    "secret",
    "token",
    "hash",
    "hashed",
    "salt",
    "otp",
    "totp",
    "hotp",
    "mfa",
    "recovery",
    "credential",
    "apikey",
    "lockout",
    "nonce",
    "cvv",
];

/// Consecutive words that mark a secret.
pub const SECRET_PHRASES: &[&[&str]] = &[
    &["locked", "until"],
    &["failed", "login"],
    &["login", "attempts"],
    &["refresh", "token"],
    &["api", "key"],
    &["private", "key"],
    &["secret", "key"],
    &["two", "factor"],
    &["security", "question"],
    &["security", "answer"],
];

/// The words of a name, lower-cased.
pub(crate) fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let boundary = c.is_uppercase()
            && !cur.is_empty()
            && (chars[i - 1].is_lowercase()
                || chars[i - 1].is_ascii_digit()
                || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if boundary {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn word_matches(word: &str, secret: &str) -> bool {
    word == secret
        || word
            .strip_prefix(secret)
            .is_some_and(|rest| rest == "s" || rest == "es")
}

/// The rule a name matches (`"password"`, `"locked until"`), if any.
pub(crate) fn secret_rule(name: &str) -> Option<String> {
    let ws = words(name);
    for w in &ws {
        if let Some(s) = SECRET_WORDS.iter().find(|s| word_matches(w, s)) {
            return Some((*s).to_owned());
        }
    }
    for phrase in SECRET_PHRASES {
        let hit = ws.windows(phrase.len()).any(|win| {
            win.iter()
                .zip(phrase.iter())
                .all(|(w, p)| word_matches(w, p))
        });
        if hit {
            return Some(phrase.join(" "));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words() {
        assert_eq!(words("passwordHash"), ["password", "hash"]);
        assert_eq!(
            words("failed_login_attempts"),
            ["failed", "login", "attempts"]
        );
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("userID2Fa"), ["user", "id2", "fa"]);
    }

    #[test]
    fn finds_secrets_by_whole_words() {
        for s in [
            "password",
            "Password",
            "PASSWORD",
            "passwordHash",
            "pin",
            "pinCode",
            "hashedPin",
            "refreshTokenVersion",
            "failedLoginAttempts",
            "lockedUntil",
            "locked_until",
            "mfaSecret",
            "otp",
            "recoveryCodes",
            "apiKey",
            "shouldChangePassword",
            "lastPasswordChangeAt",
            "tokens",
            "salt",
        ] {
            assert!(secret_rule(s).is_some(), "{s} should be a secret");
        }
        for s in [
            "email",
            "shippingAddress",
            "spinCount",
            "mapping",
            "firstName",
            "isActive",
            "tenantId",
            "lastLoginAt",
            "createdAt",
        ] {
            assert_eq!(secret_rule(s), None, "{s} should not be a secret");
        }
        assert_eq!(secret_rule("lockedUntil").as_deref(), Some("locked until"));
        assert_eq!(secret_rule("passwordHash").as_deref(), Some("password"));
    }
}
