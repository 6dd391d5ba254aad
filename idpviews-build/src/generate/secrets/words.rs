//! Word splitting and the word lists the secret rules use. Every list is
//! lower-case; a word matches its list entry exactly or with a plural
//! `s`/`es`.

/// The words of a name, lower-cased: split at `_`, `-`, `.`, spaces and
/// camelCase humps, with acronyms kept together (`TOTPSecret` -> `totp`,
/// `secret`; `apiKeyID` -> `api`, `key`, `id`; `failed_login_attempts` ->
/// `failed`, `login`, `attempts`).
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

/// Whether `word` is `base` or its plural.
pub(crate) fn is(word: &str, base: &str) -> bool {
    word == base
        || word
            .strip_prefix(base)
            .is_some_and(|rest| rest == "s" || rest == "es")
}

/// Whether `word` is one of `list` (or a plural of one).
pub(crate) fn any(word: &str, list: &[&str]) -> bool {
    list.iter().any(|b| is(word, b))
}

/// Passwords, PINs and their relatives.
pub(crate) const PASSWORD: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "pin",
    "pincode",
    "passcode",
];

/// Bearer material: tokens, secrets, cookies, JWTs, credentials.
pub(crate) const TOKEN: &[&str] = &[
    "token",
    "secret",
    "apikey",
    "jwt",
    "cookie",
    "credential",
    "bearer",
    "privatekey",
    "accesstoken",
    "refreshtoken",
];

/// Multi-factor material.
pub(crate) const MFA: &[&str] = &["totp", "hotp", "otp", "otpauth", "mfa", "2fa", "seed"];

/// Encryption material.
pub(crate) const CRYPTO: &[&str] = &[
    "salt",
    "iv",
    "nonce",
    "ciphertext",
    "cipher",
    "encrypted",
    "hmac",
    "dek",
    "kek",
];

/// Words before `key` that make it a secret key (`apiKey`, `signingKey`).
pub(crate) const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "signing",
    "sign",
    "encryption",
    "master",
    "client",
    "webhook",
    "license",
    "hmac",
    "ssh",
    "gpg",
    "pgp",
    "service",
    "deploy",
    "root",
    "recovery",
    "auth",
    "session",
    "jwt",
];

/// Words before `code` that make it a secret code (`backupCodes`,
/// `verificationCode`, `inviteCode`).
pub(crate) const CODE_QUALIFIERS: &[&str] = &[
    "backup",
    "recovery",
    "otp",
    "totp",
    "mfa",
    "time",
    "onetime",
    "invite",
    "invitation",
    "verification",
    "verify",
    "confirmation",
    "confirm",
    "authorization",
    "auth",
    "access",
    "reset",
    "security",
    "login",
    "signin",
    "magic",
    "activation",
    "sms",
    "email",
    "secret",
    "pairing",
    "device",
    "exchange",
];

/// Words before the secret word that say the value is shown on purpose
/// (`publicKey`, `displaySecretKey`, `obfuscatedToken`).
pub(crate) const SHOWN: &[&str] = &["public", "display", "obfuscated", "masked", "redacted"];

/// Last words that make a name *about* a secret rather than the secret:
/// ids (foreign keys), times, durations, counts, limits, types, names.
pub(crate) const METADATA: &[&str] = &[
    "id",
    "ids",
    "uid",
    "uuid",
    "at",
    "on",
    "date",
    "time",
    "timestamp",
    "ttl",
    "expiry",
    "expires",
    "expire",
    "expiration",
    "in",
    "lifetime",
    "duration",
    "seconds",
    "secs",
    "ms",
    "minutes",
    "hours",
    "days",
    "count",
    "counter",
    "limit",
    "max",
    "min",
    "length",
    "len",
    "size",
    "type",
    "kind",
    "version",
    "enabled",
    "required",
    "status",
    "method",
    "provider",
    "algorithm",
    "algo",
    "format",
    "name",
    "label",
    "description",
    "policy",
    "mode",
    "strategy",
    "scope",
    "prefix",
    "strength",
    "usage",
];

/// Last words of fields a credentials store may expose: what the entry
/// is, not what it holds.
pub(crate) const DESCRIPTORS: &[&str] = &[
    "name",
    "label",
    "note",
    "description",
    "title",
    "type",
    "kind",
    "provider",
    "adapter",
    "scope",
    "algorithm",
    "email",
    "identifier",
    "region",
    "url",
    "endpoint",
    "host",
    "domain",
    "model",
    "status",
    "source",
    "role",
    "four",
    "last4",
];

/// Last words of models that hold accounts (where `locked` is lockout state).
pub(crate) const ACCOUNT_MODELS: &[&str] = &[
    "user", "account", "login", "identity", "member", "profile", "admin", "customer", "person",
];

/// Doc-comment words that mark a value as secret material.
pub(crate) const DOC_SECRET: &[&str] = &[
    "secret",
    "password",
    "encrypted",
    "hashed",
    "credential",
    "csprng",
    "bearer",
];

/// Doc-comment words that mark even an id-like field as a bearer value
/// (a capability: whoever knows it gets in).
pub(crate) const DOC_CAPABILITY: &[&str] = &["csprng", "randombytes", "bearer"];

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
        assert_eq!(words("TOTPSecret"), ["totp", "secret"]);
        assert_eq!(words("apiKeyID"), ["api", "key", "id"]);
        assert_eq!(words("userID2Fa"), ["user", "id2", "fa"]);
        assert_eq!(words("sha256Hash"), ["sha256", "hash"]);
    }

    #[test]
    fn plurals_match() {
        assert!(is("tokens", "token"));
        assert!(is("passwords", "password"));
        assert!(!is("tokenizer", "token"));
        assert!(any("secrets", TOKEN));
    }
}
