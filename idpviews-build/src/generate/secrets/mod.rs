//! The built-in secret guard: fields that hold credentials or security
//! state are refused even when listed, unless the view opts in with a
//! written reason (`allow_secrets = { field = "reason" }`).
//!
//! [`classify`] decides per field from everything the schema says, trying
//! these rules in order (the first that decides wins):
//!
//! 1. `lockout-state`: lockout and failed-login state (`lockedUntil`,
//!    `failedLoginAttempts`, `locked` on a user/account model), whatever
//!    its type.
//! 2. Not secret: a `Boolean`, `DateTime` or enum; a relation; a name whose
//!    last word is metadata (`apiKeyId`, `accessTokenTtl`, `tokenType`,
//!    `maxOutputTokens` is a number, `tokenCount`); a value shown on
//!    purpose (`publicKey`, `displaySecretKey`, `obfuscatedToken`).
//! 3. The field's words (name and `@map` column, split at camelCase humps,
//!    acronyms, `_`): `password-word` (passwords, PINs), `mfa-word` (TOTP,
//!    OTP, MFA, two-factor, `otpauthUrl`), `secret-code` (backup, recovery,
//!    one-time, invitation, verification, authorization, access codes),
//!    `session-material` (`session_state`), `token-word` (tokens, secrets,
//!    cookies, JWTs, credentials), `encryption-material` (IV, nonce, salt,
//!    ciphertext, `encrypted*`), `secret-key` (`apiKey`, `signingKey`). A
//!    number (`Int`, ...) can only be a PIN, an OTP or a code.
//! 4. `credential-store`: in a model that *is* a store of secrets (its name
//!    says so: `ApiKey`, `VerificationToken`, `UserPassword`,
//!    `SecretStore`, `MfaBackupCode`, `Credential`), text, bytes and JSON
//!    are the stored secret unless they are a key (`@id`, `@unique`, a
//!    foreign key) or a descriptor (`name`, `label`, `provider`, ...); a
//!    field named after the store (`code` in `AccessCode`) always is.
//! 5. `key-material` / `auth-config`: JSON or bytes named `key`/`keys`;
//!    an SSO/OAuth configuration blob.
//! 6. `flagged-payload`: the `value`/`data`/`content`/`payload` of a model
//!    that flags rows with `isEncrypted`/`isSecret`.
//! 7. `doc-comment`: the `///` comment calls the value secret, password,
//!    encrypted, hashed, a credential, or CSPRNG-generated.
//!
//! Measured on a labelled set of real fields:
//! `idpviews-build/tests/data/secret-fields.tsv`.

mod rules;
mod words;

use crate::prisma::model::{Field, Model};

/// What kind of secret a field is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretCategory {
    /// Passwords, PINs and their hashes.
    Password,
    /// Tokens, keys, secrets, session material, cookies, JWTs, credentials.
    Token,
    /// One-time, backup, recovery, invitation, verification, authorization
    /// and access codes.
    Code,
    /// IVs, nonces, salts, ciphertext, encrypted values.
    Encryption,
    /// TOTP secrets, otpauth URLs, MFA codes.
    Mfa,
    /// Lockout and failed-login state.
    Lockout,
}

impl SecretCategory {
    /// The category's name in the labelled data set (`password`, `token`,
    /// `code`, `encryption`, `mfa`, `lockout`).
    pub fn name(self) -> &'static str {
        match self {
            SecretCategory::Password => "password",
            SecretCategory::Token => "token",
            SecretCategory::Code => "code",
            SecretCategory::Encryption => "encryption",
            SecretCategory::Mfa => "mfa",
            SecretCategory::Lockout => "lockout",
        }
    }
}

/// Why a field is a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretFinding {
    pub category: SecretCategory,
    /// The rule that fired (`token-word`, `credential-store`, ...).
    pub rule: &'static str,
    /// One sentence: what in the schema made the rule fire.
    pub reason: String,
}

/// Whether `field` of `model` holds a secret, and why. See the module docs
/// for the rules.
pub fn classify(model: &Model, field: &Field) -> Option<SecretFinding> {
    let mut names = vec![words::words(&field.name)];
    if field.column != field.name {
        names.push(words::words(&field.column));
    }
    let facts = rules::Facts {
        model,
        field,
        model_words: words::words(&model.name),
        names,
        doc: field
            .doc
            .as_deref()
            .map(|d| {
                d.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_lowercase)
                    .collect()
            })
            .unwrap_or_default(),
    };
    let hit = rules::lockout(&facts).or_else(|| {
        if rules::harmless(&facts).is_some() {
            return None;
        }
        rules::field_words(&facts)
            .or_else(|| rules::store(&facts))
            .or_else(|| rules::structured_keys(&facts))
            .or_else(|| rules::flagged_payload(&facts))
            .or_else(|| rules::doc(&facts))
    })?;
    Some(SecretFinding {
        category: hit.0,
        rule: hit.1,
        reason: hit.2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prisma::parse_str;

    fn check(schema: &str) -> Vec<(String, Option<&'static str>)> {
        let (_, _, s, d) = parse_str("t.prisma", schema);
        assert!(!d.has_errors(), "{d:?}");
        let mut out = Vec::new();
        for m in &s.models {
            for f in &m.fields {
                out.push((
                    format!("{}.{}", m.name, f.name),
                    classify(m, f).map(|x| x.category.name()),
                ));
            }
        }
        out
    }

    fn expect(schema: &str, secrets: &[(&str, &str)]) {
        for (name, got) in check(schema) {
            let want = secrets.iter().find(|(n, _)| *n == name).map(|(_, c)| *c);
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn made_up_models_from_the_issue() {
        expect(
            "model Login {\n  id String @id\n  otpauthUrl String\n  jwt String\n  cookie String\n  signingKey String\n  verificationCode String\n  inviteCode String\n  email String\n  TOTPSecret String\n  apiKeyID String\n  failed_login_attempts Int\n  lockedUntil DateTime\n  passwordHash String\n  hashedPin String\n  isSecret Boolean\n  maxOutputTokens Int\n  contentHash String\n  accessTokenTtl Int\n  tokenType String\n  spinCount Int\n  shippingAddress String\n  iv Bytes\n  nonce String\n  encryptedPayload String\n  session_state String\n  backupCodes String[]\n}\n",
            &[
                ("Login.otpauthUrl", "mfa"),
                ("Login.jwt", "token"),
                ("Login.cookie", "token"),
                ("Login.signingKey", "token"),
                ("Login.verificationCode", "code"),
                ("Login.inviteCode", "code"),
                ("Login.TOTPSecret", "mfa"),
                ("Login.failed_login_attempts", "lockout"),
                ("Login.lockedUntil", "lockout"),
                ("Login.passwordHash", "password"),
                ("Login.hashedPin", "password"),
                ("Login.iv", "encryption"),
                ("Login.nonce", "encryption"),
                ("Login.encryptedPayload", "encryption"),
                ("Login.session_state", "token"),
                ("Login.backupCodes", "code"),
            ],
        );
    }

    #[test]
    fn a_store_of_secrets_exposes_only_keys_timestamps_and_descriptors() {
        expect(
            "model SecretStore {\n  key String @unique\n  value Json\n  version String\n  createdAt DateTime\n}\n\
             model UserPassword {\n  hash String\n  userId Int @unique\n  user User @relation(fields: [userId], references: [id])\n}\n\
             model User {\n  id Int @id\n  locked Boolean\n  pw UserPassword?\n}\n\
             model AccessCode {\n  id Int @id\n  code String\n  clientId String\n  note String\n}\n\
             model VerificationCode {\n  id Int @id\n  code Int\n  attempts Int\n}\n\
             model Credential {\n  id Int @id\n  type String\n  key Json\n  iv String\n  data Bytes\n}\n",
            &[
                ("SecretStore.value", "token"),
                ("UserPassword.hash", "password"),
                ("User.locked", "lockout"),
                ("AccessCode.code", "code"),
                ("VerificationCode.code", "code"),
                ("Credential.key", "token"),
                ("Credential.iv", "encryption"),
                ("Credential.data", "token"),
            ],
        );
    }

    #[test]
    fn the_map_column_and_the_doc_comment_count() {
        expect(
            "model Integration {\n  id String @id\n  hook String @map(\"webhook_secret\")\n  /// encrypted with the project key\n  blob String\n  /// CSPRNG url key\n  opaqueId String @unique\n  /// The user's display name\n  name String\n}\n",
            &[
                ("Integration.hook", "token"),
                ("Integration.blob", "token"),
                ("Integration.opaqueId", "token"),
            ],
        );
    }

    #[test]
    fn findings_name_the_rule() {
        let (_, _, s, _) = parse_str("t.prisma", "model A {\n  id Int @id\n  apiKey String\n}\n");
        let m = s.model("A").unwrap();
        let f = classify(m, m.field("apiKey").unwrap()).unwrap();
        assert_eq!(f.rule, "secret-key");
        assert!(f.reason.contains("apiKey"), "{}", f.reason);
        assert_eq!(classify(m, m.field("id").unwrap()), None);
    }
}
