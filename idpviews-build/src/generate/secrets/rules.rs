//! The rules, in the order they are tried. Each returns the rule's name and
//! why it fired; [`super::classify`] stops at the first that fires.

use super::words::{self, any, is};
use super::SecretCategory as C;
use crate::prisma::model::{Field, FieldKind, Model, ScalarType};

/// What the rules know about one field.
pub(super) struct Facts<'a> {
    pub model: &'a Model,
    pub field: &'a Field,
    /// Words of the model name.
    pub model_words: Vec<String>,
    /// Words of the field name, then (when different) of its column.
    pub names: Vec<Vec<String>>,
    /// Words of the `///` doc comment.
    pub doc: Vec<String>,
}

/// A rule that fired: (category, rule name, reason).
pub(super) type Hit = (C, &'static str, String);

impl Facts<'_> {
    fn scalar(&self) -> Option<ScalarType> {
        self.field.scalar()
    }

    /// Data that can hold secret material: text, bytes, JSON, or a type
    /// the connector does not support.
    fn holds_data(&self) -> bool {
        matches!(
            self.field.kind,
            FieldKind::Scalar(ScalarType::String | ScalarType::Bytes | ScalarType::Json)
                | FieldKind::Unsupported(_)
        )
    }

    fn is_number(&self) -> bool {
        matches!(
            self.scalar(),
            Some(ScalarType::Int | ScalarType::BigInt | ScalarType::Float | ScalarType::Decimal)
        )
    }

    /// Whether the field is a foreign key of one of the model's relations.
    fn is_foreign_key(&self) -> bool {
        self.model.fields.iter().any(|f| {
            f.relation
                .as_ref()
                .is_some_and(|r| r.fields.iter().any(|n| n == self.field.name.as_str()))
        })
    }

    fn named(&self) -> &str {
        &self.field.name
    }
}

/// `ws` contains `first` immediately followed by a word of `second`.
fn phrase(ws: &[String], first: &[&str], second: &[&str]) -> bool {
    ws.windows(2)
        .any(|w| any(&w[0], first) && any(&w[1], second))
}

/// Lockout and failed-login state: fires on every type (a counter, a
/// timestamp or a flag is the state itself).
pub(super) fn lockout(f: &Facts) -> Option<Hit> {
    for ws in &f.names {
        let hit = ws.iter().any(|w| w.starts_with("lockout"))
            || phrase(ws, &["locked", "lock"], &["until", "expires", "out"])
            || phrase(
                ws,
                &["failed", "failure", "bad", "invalid", "wrong"],
                &[
                    "login", "logon", "signin", "attempt", "password", "auth", "otp", "mfa", "pin",
                ],
            )
            || phrase(
                ws,
                &["login", "logon", "signin", "password", "pin", "otp", "mfa"],
                &["attempt", "failure", "fail", "retry", "retries"],
            )
            || (ws.len() == 1
                && is(&ws[0], "locked")
                && f.model_words
                    .last()
                    .is_some_and(|m| any(m, words::ACCOUNT_MODELS)));
        if hit {
            return Some((
                C::Lockout,
                "lockout-state",
                format!(
                    "`{}` is lockout or failed-login state, which tells an attacker which accounts to target",
                    f.named()
                ),
            ));
        }
    }
    None
}

/// Flags, times and enums are never secret material; neither are names
/// *about* a secret (`apiKeyId`, `accessTokenTtl`, `tokenType`), nor values
/// shown on purpose (`publicKey`, `displaySecretKey`). Returns why.
pub(super) fn harmless(f: &Facts) -> Option<&'static str> {
    match &f.field.kind {
        FieldKind::Scalar(ScalarType::Boolean) => return Some("a Boolean"),
        FieldKind::Scalar(ScalarType::DateTime) => return Some("a timestamp"),
        FieldKind::Enum => return Some("an enum"),
        FieldKind::Model | FieldKind::View | FieldKind::Composite | FieldKind::Unknown => {
            return Some("not a column")
        }
        _ => {}
    }
    // a value generated to be unguessable is a bearer value, whatever it is called
    if f.doc.iter().any(|w| any(w, words::DOC_CAPABILITY)) {
        return None;
    }
    // every name must say so: `hook @map("webhook_secret")` is a secret
    let metadata = |ws: &Vec<String>| ws.last().is_some_and(|w| any(w, words::METADATA));
    let shown = |ws: &Vec<String>| ws.iter().any(|w| any(w, words::SHOWN));
    if f.names.iter().all(metadata) {
        return Some("named as metadata (an id, time, count, limit, type or name)");
    }
    if f.names.iter().all(|ws| metadata(ws) || shown(ws)) {
        return Some("shown on purpose (public, display or obfuscated)");
    }
    None
}

/// The field's own words: passwords, tokens, keys, codes, encryption and
/// MFA material.
pub(super) fn field_words(f: &Facts) -> Option<Hit> {
    for ws in &f.names {
        if let Some(hit) = words_hit(ws, f.is_number(), f.named()) {
            return Some(hit);
        }
    }
    None
}

/// The secret words of `ws`; `number` keeps only what a number can be
/// (a PIN, an OTP, a code).
pub(super) fn words_hit(ws: &[String], number: bool, name: &str) -> Option<Hit> {
    let has = |list: &[&str]| ws.iter().find(|w| any(w, list));
    if let Some(w) = has(words::PASSWORD) {
        return Some((
            C::Password,
            "password-word",
            format!(
                "`{name}` has the word `{w}`: passwords, PINs and their hashes stay in the IDP"
            ),
        ));
    }
    if let Some(w) = has(words::MFA) {
        return Some((
            C::Mfa,
            "mfa-word",
            format!("`{name}` has the word `{w}`: multi-factor secrets and codes stay in the IDP"),
        ));
    }
    if phrase(ws, &["two", "second"], &["factor"]) {
        return Some((
            C::Mfa,
            "mfa-word",
            format!("`{name}` is two-factor material"),
        ));
    }
    let code = ws
        .iter()
        .enumerate()
        .find(|(i, w)| is(w, "code") && ws[..*i].iter().any(|q| any(q, words::CODE_QUALIFIERS)));
    if let Some((i, _)) = code {
        let q = ws[..i]
            .iter()
            .rev()
            .find(|q| any(q, words::CODE_QUALIFIERS))
            .map(String::as_str)
            .unwrap_or("");
        return Some((
            C::Code,
            "secret-code",
            format!("`{name}` is a {q} code: one-time, backup, invitation, verification and access codes let their holder in"),
        ));
    }
    if number {
        return None;
    }
    if phrase(ws, &["session"], &["state", "data", "key", "cookie"]) {
        return Some((
            C::Token,
            "session-material",
            format!("`{name}` is session material: whoever holds it can take over the session"),
        ));
    }
    if phrase(ws, &["otpauth"], &["url", "uri"]) || phrase(ws, &["magic"], &["link"]) {
        return Some((
            C::Mfa,
            "mfa-word",
            format!("`{name}` carries a login secret in a URL"),
        ));
    }
    if let Some(w) = has(words::TOKEN) {
        return Some((
            C::Token,
            "token-word",
            format!("`{name}` has the word `{w}`: tokens, secrets, cookies and credentials let their holder act as someone"),
        ));
    }
    if let Some(w) = has(words::CRYPTO) {
        return Some((
            C::Encryption,
            "encryption-material",
            format!("`{name}` has the word `{w}`: encryption material (IVs, nonces, salts, ciphertext) stays in the IDP"),
        ));
    }
    let key = ws
        .iter()
        .enumerate()
        .find(|(i, w)| is(w, "key") && *i > 0 && any(&ws[i - 1], words::KEY_QUALIFIERS));
    if let Some((i, _)) = key {
        return Some((
            C::Token,
            "secret-key",
            format!("`{name}` is a {} key", ws[i - 1]),
        ));
    }
    if ws.iter().any(|w| w == "encryption") {
        return Some((
            C::Encryption,
            "encryption-material",
            format!("`{name}` is encryption material"),
        ));
    }
    None
}

/// A model that *is* a store of secrets (its name has a secret word:
/// `ApiKey`, `VerificationToken`, `UserPassword`, `SecretStore`,
/// `MfaBackupCode`) exposes only its keys, foreign keys, timestamps,
/// numbers and descriptors (`name`, `label`, `provider`, ...); any other
/// text, bytes or JSON is the stored secret.
pub(super) fn store(f: &Facts) -> Option<Hit> {
    let (store_cat, _, _) = words_hit(&f.model_words, false, &f.model.name)?;
    let head = f.model_words.last().map(String::as_str).unwrap_or("");
    let names_the_store = f
        .names
        .iter()
        .any(|ws| ws.iter().any(|w| is(w, head) || is(head, w)));
    // a numeric `code` in `VerificationCode` is the code
    if !(f.holds_data() || f.is_number() && names_the_store) {
        return None;
    }
    let descriptor = f
        .names
        .iter()
        .all(|ws| ws.last().is_some_and(|w| any(w, words::DESCRIPTORS)));
    let key = f.field.is_id || f.is_foreign_key() || f.field.is_unique;
    if names_the_store || !(descriptor || key) {
        return Some((
            store_cat,
            "credential-store",
            format!(
                "model `{}` stores secrets; `{}` is not one of its keys, timestamps or descriptors, so it holds the stored secret",
                f.model.name,
                f.named()
            ),
        ));
    }
    None
}

/// JSON or bytes named `key`/`keys` hold key material (`Credential.key`,
/// `App.keys`), and an SSO/OAuth configuration blob holds client secrets.
pub(super) fn structured_keys(f: &Facts) -> Option<Hit> {
    if !matches!(f.scalar(), Some(ScalarType::Json | ScalarType::Bytes)) {
        return None;
    }
    for ws in &f.names {
        let last = ws.last().map(String::as_str).unwrap_or("");
        if is(last, "key") {
            return Some((
                C::Token,
                "key-material",
                format!(
                    "`{}` is {} named `{last}`: structured key material",
                    f.named(),
                    f.field.type_name
                ),
            ));
        }
        let auth = ws
            .iter()
            .any(|w| any(w, &["sso", "oauth", "saml", "oidc", "auth"]));
        if auth && any(last, &["config", "configuration", "settings"]) {
            return Some((
                C::Token,
                "auth-config",
                format!(
                    "`{}` is an SSO/OAuth configuration, which holds client secrets",
                    f.named()
                ),
            ));
        }
    }
    None
}

/// A model that marks rows as encrypted or secret with a flag
/// (`isEncrypted`, `isSecret`) keeps the marked payload in its `value`,
/// `data`, `content` or `payload` fields.
pub(super) fn flagged_payload(f: &Facts) -> Option<Hit> {
    if !f.holds_data() {
        return None;
    }
    let flag = f.model.fields.iter().find(|g| {
        g.scalar() == Some(ScalarType::Boolean)
            && words::words(&g.name)
                .iter()
                .any(|w| any(w, &["encrypted", "secret", "sensitive"]))
    })?;
    let payload = f.names.iter().any(|ws| {
        ws.last()
            .is_some_and(|w| any(w, &["value", "data", "content", "payload", "blob"]))
    });
    payload.then(|| {
        (
            C::Token,
            "flagged-payload",
            format!(
                "model `{}` marks rows secret with `{}`, and `{}` holds the row's value",
                f.model.name,
                flag.name,
                f.named()
            ),
        )
    })
}

/// The `///` doc comment calls the value a secret (`/// encrypted with ...`,
/// `/// hash of the code`).
pub(super) fn doc(f: &Facts) -> Option<Hit> {
    if !f.holds_data() {
        return None;
    }
    let w = f
        .doc
        .iter()
        .find(|w| any(w, words::DOC_SECRET) || any(w, words::DOC_CAPABILITY))?;
    Some((
        C::Token,
        "doc-comment",
        format!("the doc comment of `{}` says `{w}`", f.named()),
    ))
}
