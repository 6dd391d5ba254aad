//! The views package manifest (`idp-views.lock`): the machine-readable
//! description of what the package exposes.
//!
//! The generator writes it next to `idp-views.prisma` and
//! `create-idp-views.sql`; products check the package against it (content
//! hashes catch hand edits); the next generation compares against it
//! (breaking-change guard); the build script copies it, with the product's
//! relations filled in, to `$OUT_DIR/idpviews/views.json`, where the proc
//! macro and the runtime (`verify`, `audit`) read it.
//!
//! JSON, pretty-printed, fields in declaration order, lists in a defined
//! order: same inputs, same bytes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the manifest format. Bump on incompatible changes.
pub const MANIFEST_FORMAT: u32 = 1;

/// File name of the manifest inside a views package.
pub const MANIFEST_FILE: &str = "idp-views.lock";
/// File name of the Prisma views inside a views package.
pub const PRISMA_FILE: &str = "idp-views.prisma";
/// File name of the SQL inside a views package.
pub const SQL_FILE: &str = "create-idp-views.sql";
/// File name of the manifest (with product relations) in `$OUT_DIR/idpviews/`.
pub const OUT_MANIFEST_FILE: &str = "views.json";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: u32,
    /// `idpviews-build <version>` of the generator that wrote it.
    pub generator: String,
    /// The PostgreSQL schema holding the views (e.g. `idp_views`).
    pub schema: String,
    /// Content hashes of the package files, `file name -> "sha256:<hex>"`.
    pub files: BTreeMap<String, String>,
    /// The views, in allowlist order.
    pub views: Vec<ManifestView>,
    /// Enums used by exposed columns, sorted by name.
    #[serde(default)]
    pub enums: Vec<ManifestEnum>,
    /// Product relations (only in the build script's copy; never in the package).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<ManifestRelation>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestView {
    /// View name, e.g. `IdpUser` (Prisma `view` name and PostgreSQL view name).
    pub name: String,
    /// IDP model it exposes, e.g. `User`.
    pub model: String,
    /// PostgreSQL schema of the source table (the model's `@@schema`, default `public`).
    pub source_schema: String,
    /// PostgreSQL table of the model (`@@map` or the model name).
    pub source_table: String,
    /// `///` documentation of the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Field name of the tenant column when the view is tenant-isolated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_field: Option<String>,
    /// Database column of the tenant id when the view is tenant-isolated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_column: Option<String>,
    /// The role owning a tenant-isolated view; row-level security policies
    /// on the source table limit it to the tenant in `idpviews.tenant_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_owner: Option<String>,
    /// Exposed columns, in view order.
    pub columns: Vec<ManifestColumn>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestColumn {
    /// Prisma field name, e.g. `firstName`.
    pub field: String,
    /// Column name in the view; the same as the source column (`@map` or the
    /// field name), so the Prisma file keeps the model's `@map`.
    pub column: String,
    /// Prisma type of the view field, e.g. `String` (enum columns are exposed
    /// as `String`: see [`ManifestColumn::enum_name`]).
    pub prisma_type: String,
    /// Native type attribute kept on the view field, e.g. `@db.Uuid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_type: Option<String>,
    /// PostgreSQL type of the view column as `format_type()` prints it, e.g.
    /// `text`, `uuid`, `timestamp(3) without time zone`, `text[]`.
    pub sql_type: String,
    /// `Type?`: the column may be NULL.
    pub nullable: bool,
    /// `Type[]`.
    pub list: bool,
    /// `@unique` in the view (from the model's `@id` or `@unique`).
    #[serde(default)]
    pub unique: bool,
    /// The IDP enum behind this column when it is an enum cast to text.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub enum_name: Option<String>,
    /// `///` documentation of the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestEnum {
    /// Prisma enum name, e.g. `UserType`.
    pub name: String,
    /// PostgreSQL schema of the enum type.
    pub source_schema: String,
    /// PostgreSQL type name (`@@map` or the enum name).
    pub db_name: String,
    /// Values in declaration order.
    pub values: Vec<ManifestEnumValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestEnumValue {
    /// Prisma value name, e.g. `DRIVER`.
    pub name: String,
    /// Database label (`@map` or the name).
    pub label: String,
}

/// A product relation to a view, e.g. `Driver.idpUserId -> IdpUser.id`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestRelation {
    /// The view, e.g. `IdpUser`.
    pub view: String,
    /// Relation field injected into the view, e.g. `drivers`.
    pub view_field: String,
    /// Product model, e.g. `Driver`.
    pub model: String,
    /// PostgreSQL schema and table of the product model.
    pub model_schema: String,
    pub model_table: String,
    /// Relation field on the product model, e.g. `idpUser`.
    pub model_field: String,
    /// Foreign-key columns on the product table (database names).
    pub fk_columns: Vec<String>,
    /// Referenced view columns (database names).
    pub references: Vec<String>,
    /// `Driver[]` on the view side (one-to-many) rather than `Driver?`.
    pub list: bool,
}

impl Manifest {
    /// Pretty JSON with a trailing newline: the on-disk form.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("manifest serializes");
        s.push('\n');
        s
    }

    pub fn from_json(text: &str) -> Result<Manifest, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn view(&self, name: &str) -> Option<&ManifestView> {
        self.views.iter().find(|v| v.name == name)
    }

    pub fn enum_(&self, name: &str) -> Option<&ManifestEnum> {
        self.enums.iter().find(|e| e.name == name)
    }
}

impl ManifestView {
    pub fn column(&self, field: &str) -> Option<&ManifestColumn> {
        self.columns.iter().find(|c| c.field == field)
    }
}

/// `sha256:<hex>` of some bytes: the form used in [`Manifest::files`].
pub fn content_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_hash() {
        let m = Manifest {
            format: MANIFEST_FORMAT,
            generator: "idpviews-build 0.1.0".into(),
            schema: "idp_views".into(),
            files: BTreeMap::from([("a".into(), content_hash(b"abc"))]),
            views: vec![ManifestView {
                name: "IdpUser".into(),
                model: "User".into(),
                source_schema: "idp".into(),
                source_table: "User".into(),
                doc: None,
                tenant_field: None,
                tenant_column: None,
                tenant_owner: None,
                columns: vec![ManifestColumn {
                    field: "id".into(),
                    column: "id".into(),
                    prisma_type: "String".into(),
                    native_type: Some("@db.Uuid".into()),
                    sql_type: "uuid".into(),
                    nullable: false,
                    list: false,
                    unique: true,
                    enum_name: None,
                    doc: None,
                }],
            }],
            enums: vec![],
            relations: vec![],
        };
        let json = m.to_json();
        assert_eq!(Manifest::from_json(&json).unwrap(), m);
        assert!(!json.contains("relations"));
        assert_eq!(
            content_hash(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
