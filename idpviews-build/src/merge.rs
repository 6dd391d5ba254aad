//! The product-side merge: the vendored views package plus the product's
//! `idp-relations.conf` gives the product's `idp-views.prisma` (what the
//! PoC's `add-relations.sh` did), checked against the product's own schema.
//!
//! Relations are injected into the package's syntax tree, between each
//! view's `// PRODUCT_RELATIONS_START` / `// PRODUCT_RELATIONS_END` markers,
//! and the tree is rendered canonically: no string surgery.

use crate::diagnostics::{Diagnostics, Span};
use crate::manifest::{self, ManifestRelation, MANIFEST_FILE, PRISMA_FILE, SQL_FILE};
use crate::prisma::ast::{self, Arity, BlockItem, BlockKind};
use crate::prisma::model;
use crate::relations::RelationLine;
use crate::source::{FileId, SourceMap};
use crate::suggest::did_you_mean;
use crate::{prisma, Error};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Marker comment opening the product relations of a view.
pub const START_MARKER: &str = "PRODUCT_RELATIONS_START";
/// Marker comment closing the product relations of a view.
pub const END_MARKER: &str = "PRODUCT_RELATIONS_END";

const SUBMODULE_HELP: &str =
    "the package is usually a git submodule: run `git submodule update --init`";

/// A vendored views package, read and verified against its manifest.
#[derive(Debug, Clone)]
pub struct Package {
    pub dir: PathBuf,
    /// What the build reads from `idp-views.lock` (the whole text is
    /// passed on to `views.json` unchanged, plus the relations).
    pub manifest: ManifestHead,
    /// `idp-views.lock` in the source map.
    pub manifest_file: FileId,
    /// `idp-views.prisma` in the source map.
    pub prisma_file: FileId,
    pub ast: ast::SchemaFile,
    /// `create-idp-views.sql`, verbatim.
    pub sql: String,
    /// The files read (for `rerun-if-changed`).
    pub files_read: Vec<PathBuf>,
}

/// The parts of the package manifest the build checks. The views are not
/// deserialized here (the merge reads the Prisma file): `views.json` is the
/// manifest text with the relations spliced in, which keeps the build
/// script fast even unoptimised.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ManifestHead {
    pub format: u32,
    pub schema: String,
    pub files: std::collections::BTreeMap<String, String>,
    /// Must be absent in a package.
    #[serde(default)]
    relations: Option<serde::de::IgnoredAny>,
}

/// `views.json`: the package manifest text with `"relations"` appended, the
/// same bytes as [`manifest::Manifest::to_json`] of the manifest with its
/// relations set.
pub fn views_json(manifest_text: &str, relations: &[ManifestRelation]) -> String {
    let body = manifest_text.trim_end();
    if relations.is_empty() {
        return format!("{body}\n");
    }
    let head = body.strip_suffix('}').unwrap_or(body).trim_end();
    let list = serde_json::to_string_pretty(relations).expect("relations serialize");
    let list = list.replace('\n', "\n  ");
    format!("{head},\n  \"relations\": {list}\n}}\n")
}

/// Reads the package in `dir`: manifest, Prisma file and SQL; checks the
/// content hashes (products never edit the package). Problems are pushed to
/// `diags` and `Ok(None)` is returned; `Err` only for unreadable files.
pub fn load_package(
    dir: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Option<Package>, Error> {
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            diags
                .error_unspanned(format!(
                    "the views package `{}` does not exist",
                    dir.display()
                ))
                .help(SUBMODULE_HELP);
            return Ok(None);
        }
        Err(e) => return Err(Error::io(dir, e)),
    };
    if empty {
        diags
            .error_unspanned(format!(
                "the views package `{}` is empty (an uninitialised git submodule?)",
                dir.display()
            ))
            .help(SUBMODULE_HELP);
        return Ok(None);
    }
    let manifest_path = dir.join(MANIFEST_FILE);
    if !manifest_path.is_file() {
        diags
            .error_unspanned(format!(
                "`{}` is not a views package: `{MANIFEST_FILE}` is missing",
                dir.display()
            ))
            .help(format!(
                "point `views_dir` at the directory `idpviews generate` wrote; {SUBMODULE_HELP}"
            ));
        return Ok(None);
    }
    let manifest_id = sources.load(&manifest_path)?;
    let mut files_read = vec![manifest_path.clone()];
    let manifest = match serde_json::from_str::<ManifestHead>(&sources.get(manifest_id).text) {
        Ok(m) => m,
        Err(e) => {
            let file = sources.get(manifest_id);
            let offset = file.line_start(e.line()) + e.column().saturating_sub(1);
            diags
                .error(
                    Span::new(manifest_id, offset, offset + 1),
                    format!("cannot read the package manifest: {e}"),
                )
                .label("here")
                .help(format!(
                    "products never edit files in the vendored package; restore it with `git -C {} checkout -- .` or regenerate it in the IDP",
                    dir.display()
                ));
            return Ok(None);
        }
    };
    if manifest.relations.is_some() {
        diags
            .error_unspanned(format!(
                "the package manifest `{}` holds product relations",
                manifest_path.display()
            ))
            .help("a views package never holds relations: regenerate it in the IDP");
        return Ok(None);
    }
    if manifest.format > manifest::MANIFEST_FORMAT {
        diags
            .error_unspanned(format!(
                "the views package `{}` has manifest format {}, this idpviews-build reads format {}",
                dir.display(),
                manifest.format,
                manifest::MANIFEST_FORMAT
            ))
            .help("upgrade `idpviews-build` to the version the IDP generated the package with");
        return Ok(None);
    }
    // The manifest's own hash, then the files against it (one check, in
    // `manifest`, for every reader of a package).
    let full = match manifest::Manifest::from_json(&sources.get(manifest_id).text) {
        Ok(full) => full
            .check_self(&manifest_path.display().to_string())
            .map(|()| full),
        Err(e) => Err(manifest::IntegrityError {
            file: manifest_path.display().to_string(),
            problem: format!("is not a valid manifest ({e}); {}", manifest::REGENERATE),
        }),
    };
    let full = match full {
        Ok(full) => full,
        Err(e) => {
            diags.error_unspanned(e.to_string()).help(format!(
                "products never edit files in the vendored package; restore it with `git -C {} checkout -- .` or regenerate it in the IDP",
                dir.display()
            ));
            return Ok(None);
        }
    };
    let mut texts = Vec::new();
    let mut ok = true;
    for name in [PRISMA_FILE, SQL_FILE] {
        let path = dir.join(name);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                diags
                    .error_unspanned(format!(
                        "the views package `{}` has no `{name}`",
                        dir.display()
                    ))
                    .help(format!(
                        "products never edit files in the vendored package; restore it with `git -C {} checkout -- .`",
                        dir.display()
                    ));
                ok = false;
                continue;
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        files_read.push(path.clone());
        if let Err(e) = full.check_file(name, &bytes) {
            let d = diags.error_unspanned(format!(
                "`{}` was modified: its content does not match the hash in `{MANIFEST_FILE}`",
                path.display()
            ));
            d.note(e.to_string());
            d.help(format!(
                "Products never edit files in the vendored package; put product relations in `idp-relations.conf` and restore the package with `git -C {} checkout -- .` (changes to the views belong in the IDP's `idp-views.toml`)",
                dir.display()
            ));
            ok = false;
        }
        match String::from_utf8(bytes) {
            Ok(t) => texts.push(t),
            Err(_) => {
                diags.error_unspanned(format!("`{}` is not UTF-8", path.display()));
                ok = false;
            }
        }
    }
    if !ok {
        return Ok(None);
    }
    let sql = texts.pop().unwrap_or_default();
    let prisma_text = texts.pop().unwrap_or_default();
    let prisma_file = sources.add(dir.join(PRISMA_FILE), prisma_text);
    let ast = prisma::parse_file(sources, prisma_file, diags);
    Ok(Some(Package {
        dir: dir.to_path_buf(),
        manifest,
        manifest_file: manifest_id,
        prisma_file,
        ast,
        sql,
        files_read,
    }))
}

/// The product's Prisma schema: every `*.prisma` under a directory (or one
/// file), minus the merged file itself.
#[derive(Debug, Clone, Default)]
pub struct ProductSchema {
    pub files: Vec<ast::SchemaFile>,
    /// Files read, in order.
    pub paths: Vec<PathBuf>,
    /// Directories walked (for `rerun-if-changed`: files added there).
    pub dirs: Vec<PathBuf>,
}

/// Reads the product schema at `path` (file or directory, recursively, in
/// sorted order), skipping `exclude` (the committed merged file, which
/// would define the views twice).
pub fn load_product_schema(
    path: &Path,
    exclude: Option<&Path>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<ProductSchema, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let mut out = ProductSchema::default();
    let mut paths = Vec::new();
    if meta.is_dir() {
        walk(path, &mut paths, &mut out.dirs)?;
        paths.sort();
    } else {
        paths.push(path.to_path_buf());
    }
    let excluded = exclude.and_then(|e| std::fs::canonicalize(e).ok());
    for p in paths {
        if excluded.is_some() && std::fs::canonicalize(&p).ok() == excluded {
            continue;
        }
        let id = sources.load(&p)?;
        out.files.push(prisma::parse_file(sources, id, diags));
        out.paths.push(p);
    }
    Ok(out)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, dirs: &mut Vec<PathBuf>) -> Result<(), Error> {
    dirs.push(dir.to_path_buf());
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        entries.push((
            entry.path(),
            entry.file_type().map_err(|e| Error::io(dir, e))?,
        ));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, ty) in entries {
        if ty.is_dir() {
            walk(&path, files, dirs)?;
        } else if path.extension().is_some_and(|e| e == "prisma") {
            files.push(path);
        }
    }
    Ok(())
}

/// What [`merge`] produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The merged Prisma file, canonically rendered.
    pub prisma: String,
    /// The product relations, resolved against the product schema (empty
    /// without a product schema: relations cannot be resolved then).
    pub relations: Vec<ManifestRelation>,
    /// `views.json`: the package manifest with the relations.
    pub views_json: String,
}

/// Whether `s` is a plain SQL identifier we accept for schema names:
/// `[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes (PostgreSQL's limit).
pub fn is_valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}

/// Merges `relations` (from `relations_file`) into `package`, checking them
/// against the package and, when given, the product's schema. Every problem
/// goes to `diags`; `None` when there were errors.
pub fn merge(
    package: &Package,
    relations: &[RelationLine],
    relations_file: Option<FileId>,
    product: Option<&ProductSchema>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<Merged> {
    let errors_before = diags.error_count();
    let diags_before = diags.len();
    check_package_schema(package, diags);

    // the package alone, for its views' columns and unique sets
    let views: Vec<&ast::Block> = package
        .ast
        .blocks()
        .filter(|b| b.kind == BlockKind::View)
        .collect();
    let view_names: Vec<&str> = views.iter().map(|v| v.name.name.as_str()).collect();
    let view_set: BTreeSet<&str> = view_names.iter().copied().collect();

    // view-side checks
    let mut injected: Vec<&RelationLine> = Vec::new();
    for (i, rel) in relations.iter().enumerate() {
        let Some(view) = views.iter().find(|v| v.name.name == rel.view.name) else {
            let d = diags
                .error(rel.view.span, format!("unknown view `{}`", rel.view.name))
                .label("not a view of the package");
            match did_you_mean(&rel.view.name, view_names.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("the package exposes: {}", list(&view_names))),
            };
            continue;
        };
        injected.push(rel);
        if let Some(first) = relations[..i]
            .iter()
            .find(|r| r.view.name == rel.view.name && r.field.name == rel.field.name)
        {
            diags
                .error(
                    rel.field.span,
                    format!(
                        "duplicate relation field `{}.{}`",
                        rel.view.name, rel.field.name
                    ),
                )
                .label("defined again here")
                .note(format!(
                    "first defined at {}",
                    position(sources, first.field.span)
                ))
                .help("give each relation field of a view its own name");
        } else if let Some(col) = view.fields().find(|f| f.name.name == rel.field.name) {
            diags
                .error(
                    rel.field.span,
                    format!(
                        "relation field `{}` collides with the column `{}.{}`",
                        rel.field.name, view.name.name, col.name.name
                    ),
                )
                .label("already a field of the view")
                .help(format!(
                    "rename the relation field, e.g. `{}:{}{} {}`",
                    rel.view.name,
                    rel.field.name,
                    if rel.arity == Arity::List {
                        "List"
                    } else {
                        "Rel"
                    },
                    type_text(rel)
                ));
        }
        if view_set.contains(rel.target.name.as_str()) {
            diags
                .error(
                    rel.target.span,
                    format!(
                        "`{}` is a view of the package, not a product model",
                        rel.target.name
                    ),
                )
                .label("relations between views belong to the IDP")
                .help("relations between two views are declared in the IDP's `idp-views.toml`");
        } else if rel.arity == Arity::Required {
            diags
                .error(
                    rel.type_span,
                    format!(
                        "the relation field `{}.{}` must be a list or optional",
                        rel.view.name, rel.field.name
                    ),
                )
                .label("required")
                .help(format!(
                    "the product model holds the foreign key, so the view side is `{0}[]` (one-to-many) or `{0}?` (one-to-one)",
                    rel.target.name
                ));
        }
        if rel.relation_name.is_none() {
            if let Some(other) = relations[..i].iter().find(|r| {
                r.view.name == rel.view.name
                    && r.target.name == rel.target.name
                    && r.field.name != rel.field.name
            }) {
                diags
                    .error(
                        rel.target.span,
                        format!(
                            "ambiguous relations: `{}.{}` and `{}.{}` both point at `{}`",
                            other.view.name, other.field.name, rel.view.name, rel.field.name, rel.target.name
                        ),
                    )
                    .label("needs a relation name")
                    .help(format!(
                        "name both: `{}:{} {} @relation(\"...\")`, and put the same name in the `@relation` of the fields of `{}`",
                        rel.view.name,
                        rel.field.name,
                        type_text(rel),
                        rel.target.name
                    ));
            }
        }
    }

    // inject into a copy of the package tree
    let mut merged_ast = package.ast.clone();
    inject(&mut merged_ast, &injected);

    let mut resolved = Vec::new();
    if let Some(product) = product {
        // the schema Prisma will see: the product's files plus the merged views
        let mut all: Vec<ast::SchemaFile> = Vec::with_capacity(product.files.len() + 1);
        all.extend(product.files.iter().cloned());
        all.push(merged_ast);
        let mut scratch = Diagnostics::new();
        let schema = prisma::analyze(&all, &mut scratch);
        merged_ast = all.pop().expect("pushed above");
        let uncovered = check_uncovered(
            &schema,
            &view_set,
            package,
            relations,
            relations_file,
            sources,
            diags,
        );
        check_datasource(&schema, package, product, diags);
        for rel in &injected {
            if let Some(r) = check_product_side(rel, relations, &view_set, &schema, diags) {
                resolved.push(r);
            }
        }
        // where a check above reported at a span, the analysis' generic
        // message at the same span is redundant
        let ours: Vec<Span> = diags
            .iter()
            .skip(diags_before)
            .filter_map(|d| d.span)
            .collect();
        for d in scratch {
            if d.span.is_some_and(|s| ours.contains(&s)) {
                continue;
            }
            // problems located in the conf or the package are consequences
            // of the relations, checked below with better messages
            let located_in = |f: Option<FileId>| d.span.is_some_and(|s| Some(s.file) == f);
            if located_in(relations_file)
                || located_in(Some(package.prisma_file))
                || d.span.is_some_and(|s| uncovered.contains(&s))
            {
                continue;
            }
            diags.push(d);
        }
    }

    if diags.error_count() > errors_before {
        return None;
    }
    let views_json = views_json(&sources.get(package.manifest_file).text, &resolved);
    Some(Merged {
        prisma: prisma::render(&merged_ast),
        relations: resolved,
        views_json,
    })
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "no views".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_text(rel: &RelationLine) -> String {
    match rel.arity {
        Arity::List => format!("{}[]", rel.target.name),
        Arity::Optional => format!("{}?", rel.target.name),
        Arity::Required => rel.target.name.to_string(),
    }
}

fn position(sources: &SourceMap, span: Span) -> String {
    if (span.file.0 as usize) >= sources.len() {
        return "another line".into();
    }
    let file = sources.get(span.file);
    let (line, col) = file.line_col(span.start as usize);
    format!("{}:{line}:{col}", file.path.display())
}

/// Product relation fields pointing at a view with no line in the conf
/// (Prisma needs the back-relation in the view). Returns their spans, so
/// the analysis' generic "missing opposite field" is not reported twice.
fn check_uncovered(
    schema: &model::Schema,
    views: &BTreeSet<&str>,
    package: &Package,
    relations: &[RelationLine],
    relations_file: Option<FileId>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Vec<Span> {
    let conf = relations_file
        .map(|f| sources.get(f).path.display().to_string())
        .unwrap_or_else(|| "idp-relations.conf".into());
    let mut spans = Vec::new();
    for m in schema
        .plain_models()
        .filter(|m| m.file != package.prisma_file)
    {
        for f in &m.fields {
            if !views.contains(f.type_name.as_str()) || f.is_list() {
                continue;
            }
            let name = f.relation.as_ref().and_then(|r| r.name.as_deref());
            let covered = relations.iter().any(|r| {
                r.view.name == f.type_name
                    && r.target.name == m.name
                    && (r.relation_name.is_none()
                        || r.relation_name.as_ref().map(|n| n.0.as_str()) == name)
            });
            // covered or not, problems of this field are reported here or
            // by the relation checks, in terms of the conf
            spans.push(f.name_span);
            if covered {
                continue;
            }
            let unique = f
                .relation
                .as_ref()
                .is_some_and(|r| !r.fields.is_empty() && m.is_unique_set(&r.fields));
            let mut field = m.name.to_string();
            if let Some(first) = field.get(..1) {
                let lower = first.to_ascii_lowercase();
                field.replace_range(..1, &lower);
            }
            if name.is_some() {
                // `createdBy` -> `createdByOrders`
                field = format!("{}{}", f.name, m.name);
            }
            let line = format!(
                "{}:{}{} {}{}{}",
                f.type_name,
                field,
                if unique { "" } else { "s" },
                m.name,
                if unique { "?" } else { "[]" },
                name.map(|n| format!(" @relation(\"{n}\")"))
                    .unwrap_or_default()
            );
            diags
                .error(
                    f.name_span,
                    format!(
                        "the relation `{}.{}` to the view `{}` has no line in `{conf}`",
                        m.name, f.name, f.type_name
                    ),
                )
                .label("no back-relation in the view")
                .help(format!(
                    "add `{line}` to `{conf}` (the view side of the relation)"
                ));
        }
    }
    spans
}

/// `@@schema` of the package: one valid identifier, the manifest's schema.
fn check_package_schema(package: &Package, diags: &mut Diagnostics) {
    let expected = &package.manifest.schema;
    for block in package.ast.blocks().filter(|b| b.kind == BlockKind::View) {
        for attr in block.attributes().filter(|a| a.path_is("schema")) {
            let Some(ast::Expr::String(lit)) = attr.arg("name") else {
                continue;
            };
            if !is_valid_identifier(&lit.value) {
                diags
                    .error(lit.span, format!("the package's schema `{}` is not a valid identifier", lit.value))
                    .label("invalid schema name")
                    .help("schema names are `[A-Za-z_][A-Za-z0-9_]*` (at most 63 bytes); the IDP must fix `schema` in `idp-views.toml` and regenerate");
                return;
            } else if lit.value != *expected {
                diags
                    .error(
                        lit.span,
                        format!(
                            "the view `{}` is in schema `{}`, the manifest says `{expected}`",
                            block.name.name, lit.value
                        ),
                    )
                    .label("inconsistent schema")
                    .help("the package is inconsistent: regenerate it in the IDP");
                return;
            }
        }
    }
    if !is_valid_identifier(expected) {
        diags
            .error_unspanned(format!("the package's schema `{expected}` is not a valid identifier"))
            .help("schema names are `[A-Za-z_][A-Za-z0-9_]*` (at most 63 bytes); the IDP must fix `schema` in `idp-views.toml` and regenerate");
    }
}

/// Injects relation lines into a package tree without any check (what the
/// PoC's `add-relations.sh` did): for tools and tests that want to see what
/// Prisma itself says about an unchecked merge. [`merge`] is the checked path.
pub fn inject_unchecked(file: &mut ast::SchemaFile, relations: &[RelationLine]) {
    inject(file, &relations.iter().collect::<Vec<_>>());
}

/// Inserts one field per relation line into its view, between the markers
/// (or after the last field when a view has no markers), in conf order.
fn inject(file: &mut ast::SchemaFile, relations: &[&RelationLine]) {
    for item in &mut file.items {
        let ast::TopItem::Block(block) = item else {
            continue;
        };
        if block.kind != BlockKind::View {
            continue;
        }
        let fields: Vec<BlockItem> = relations
            .iter()
            .filter(|r| r.view.name == block.name.name)
            .map(|r| BlockItem::Field(relation_field(r)))
            .collect();
        if fields.is_empty() {
            continue;
        }
        let is_marker =
            |i: &BlockItem, m: &str| matches!(i, BlockItem::Comment(c) if c.content() == m);
        let at = block
            .items
            .iter()
            .position(|i| is_marker(i, END_MARKER))
            .or_else(|| {
                block
                    .items
                    .iter()
                    .rposition(|i| matches!(i, BlockItem::Field(_)))
                    .map(|p| p + 1)
            })
            .unwrap_or(0);
        block.items.splice(at..at, fields);
    }
}

/// The injected field; its spans point at the conf line.
fn relation_field(rel: &RelationLine) -> ast::Field {
    let mut ty = ast::FieldType::new(rel.target.name.clone(), rel.arity);
    ty.name.span = rel.target.span;
    ty.span = rel.type_span;
    let mut field = ast::Field::new(rel.field.name.clone(), ty);
    field.name.span = rel.field.span;
    field.span = rel.span;
    if let Some((name, span)) = &rel.relation_name {
        let mut attr = ast::Attribute::new(
            "relation",
            false,
            Some(vec![ast::Argument::positional(ast::Expr::string(
                name.clone(),
            ))]),
        );
        attr.span = *span;
        field.attributes.push(attr);
    }
    field
}

/// The product datasource lists the views schema; a generator enables `views`.
fn check_datasource(
    schema: &model::Schema,
    package: &Package,
    product: &ProductSchema,
    diags: &mut Diagnostics,
) {
    let views_schema = &package.manifest.schema;
    match schema.datasources.first() {
        None => {
            diags
                .error_unspanned("the product schema has no `datasource` block")
                .help(format!(
                    "add `datasource db {{ provider = \"postgresql\" schemas = [\"<your schema>\", \"{views_schema}\"] }}` to the product schema"
                ));
        }
        Some(ds) => match &ds.schemas {
            Some(list) if list.iter().any(|(s, _)| s == views_schema) => {}
            Some(list) => {
                let span = match (list.first(), list.last()) {
                    (Some(a), Some(b)) => a.1.to(b.1),
                    _ => ds.span,
                };
                diags
                    .error(
                        span,
                        format!("the datasource's `schemas` does not list `{views_schema}`"),
                    )
                    .label(format!("`{views_schema}` missing"))
                    .help(format!(
                        "add it: `schemas = [{}, \"{views_schema}\"]`",
                        list.iter()
                            .map(|(s, _)| format!("\"{s}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
            }
            None => {
                diags
                    .error(ds.span, format!("the datasource has no `schemas` list, so the views in `{views_schema}` are not visible"))
                    .label("no `schemas`")
                    .help(format!("add `schemas = [\"<your schema>\", \"{views_schema}\"]` to the datasource"));
            }
        },
    }
    let has_views = |g: &model::Generator| g.preview_features.iter().any(|f| f == "views");
    if !schema.generators.iter().any(has_views) {
        match schema.generators.first() {
            Some(g) => {
                diags
                    .error(g.span, format!("the generator `{}` does not enable the `views` preview feature", g.name))
                    .label("no `views` preview feature")
                    .help("add `previewFeatures = [\"views\"]` to the generator (Prisma 7 still needs it for `view` blocks)");
            }
            None => {
                diags
                    .error_unspanned("the product schema has no `generator` block to enable the `views` preview feature")
                    .help("add `generator client { provider = \"prisma-client-js\" previewFeatures = [\"views\"] }`");
            }
        }
    }
    let _ = product;
}

/// The product model named by a relation line has the opposite field with
/// the foreign key, consistent with the line; returns the resolved relation.
fn check_product_side(
    rel: &RelationLine,
    all: &[RelationLine],
    views: &BTreeSet<&str>,
    schema: &model::Schema,
    diags: &mut Diagnostics,
) -> Option<ManifestRelation> {
    let view = schema.views().find(|v| v.name == rel.view.name)?;
    if views.contains(rel.target.name.as_str()) || rel.arity == Arity::Required {
        return None; // reported by the view-side checks
    }
    let Some(model) = schema.plain_models().find(|m| m.name == rel.target.name) else {
        let names: Vec<&str> = schema.plain_models().map(|m| m.name.as_str()).collect();
        let d = diags
            .error(
                rel.target.span,
                format!("unknown model `{}` in the product schema", rel.target.name),
            )
            .label("no such model");
        match did_you_mean(&rel.target.name, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!(
                "add `model {} {{ ... }}` to the product schema, or fix the model name",
                rel.target.name
            )),
        };
        return None;
    };
    let candidates: Vec<&model::Field> = model
        .fields
        .iter()
        .filter(|f| f.type_name == view.name)
        .filter(|f| match &rel.relation_name {
            Some((name, _)) => {
                f.relation.as_ref().and_then(|r| r.name.as_deref()) == Some(name.as_str())
            }
            None => true,
        })
        .collect();
    let suggestion = suggest_fk(view, rel);
    let opposite = match candidates.as_slice() {
        [] => {
            let d = diags
                .error(
                    rel.target.span,
                    format!(
                        "the model `{}` has no relation field to the view `{}`",
                        model.name, view.name
                    ),
                )
                .label(format!(
                    "`{}` needs the opposite side of `{}`",
                    model.name, rel.field.name
                ));
            if let Some((name, _)) = &rel.relation_name {
                d.note(format!(
                    "looked for a field of type `{}` with `@relation(\"{name}\", ...)`",
                    view.name
                ));
            }
            d.help(format!("add to model `{}`: {suggestion}", model.name));
            return None;
        }
        [one] => *one,
        _ if rel.relation_name.is_none()
            && all
                .iter()
                .filter(|r| r.view.name == rel.view.name && r.target.name == rel.target.name)
                .count()
                > 1 =>
        {
            return None; // the ambiguity is reported on the conf lines
        }
        many => {
            diags
                .error(
                    rel.target.span,
                    format!(
                        "the model `{}` has {} relation fields to the view `{}` ({})",
                        model.name,
                        many.len(),
                        view.name,
                        many.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")
                    ),
                )
                .label("ambiguous")
                .help(format!(
                    "name the relation: `{}:{} {} @relation(\"Name\")` here and `@relation(\"Name\", fields: ..., references: ...)` on the field",
                    rel.view.name,
                    rel.field.name,
                    type_text(rel)
                ));
            return None;
        }
    };
    if let (None, Some(name)) = (
        &rel.relation_name,
        opposite.relation.as_ref().and_then(|r| r.name.as_ref()),
    ) {
        diags
            .error(
                rel.span,
                format!(
                    "`{}.{}` names its relation \"{name}\", this line does not",
                    model.name, opposite.name
                ),
            )
            .label("no relation name")
            .help(format!(
                "write `{}:{} {} @relation(\"{name}\")`",
                rel.view.name,
                rel.field.name,
                type_text(rel)
            ));
        return None;
    }
    if opposite.is_list() {
        diags
            .error(
                opposite.type_span,
                format!(
                    "`{}.{}` is a list, but the product model must hold the foreign key to `{}`",
                    model.name, opposite.name, view.name
                ),
            )
            .label("list")
            .help(format!("replace it with {suggestion}"));
        return None;
    }
    let Some(relation) = opposite
        .relation
        .as_ref()
        .filter(|r| !r.fields.is_empty() && !r.references.is_empty())
    else {
        diags
            .error(
                opposite.name_span,
                format!(
                    "`{}.{}` must hold the foreign key: `@relation(fields: [...], references: [...])`",
                    model.name, opposite.name
                ),
            )
            .label("no foreign key")
            .help(format!("write {suggestion}"));
        return None;
    };
    // unknown `fields` / `references` are reported by the analysis
    let fk: Option<Vec<&model::Field>> = relation.fields.iter().map(|f| model.field(f)).collect();
    let refs: Option<Vec<&model::Field>> =
        relation.references.iter().map(|r| view.field(r)).collect();
    let (Some(fk), Some(refs)) = (fk, refs) else {
        return None;
    };
    let mut ok = true;
    if fk.len() != refs.len() {
        diags
            .error(
                relation.span,
                "`fields` and `references` must have the same length",
            )
            .label(format!(
                "{} field(s), {} reference(s)",
                fk.len(),
                refs.len()
            ));
        return None;
    }
    if !view.is_unique_set(&relation.references) {
        let uniques: Vec<&str> = view
            .fields
            .iter()
            .filter(|f| f.is_unique || f.is_id)
            .map(|f| f.name.as_str())
            .collect();
        diags
            .error(
                relation.span,
                format!(
                    "`references: [{}]` is not a unique field of the view `{}`",
                    relation.references.join(", "),
                    view.name
                ),
            )
            .label("not @unique in the view")
            .help(if uniques.is_empty() {
                format!(
                    "the view `{}` has no `@unique` field to reference",
                    view.name
                )
            } else {
                format!(
                    "reference a `@unique` field of `{}`: {}",
                    view.name,
                    list(&uniques)
                )
            });
        ok = false;
    }
    for (f, r) in fk.iter().zip(&refs) {
        if f.type_name != r.type_name {
            diags
                .error(
                    f.type_span,
                    format!(
                        "`{}.{}` is `{}`, but it references `{}.{}` of type `{}`",
                        model.name, f.name, f.type_name, view.name, r.name, r.type_name
                    ),
                )
                .label("type mismatch")
                .help(format!("declare `{}` as `{}`", f.name, r.type_name));
            ok = false;
        }
    }
    let fk_names: Vec<String> = fk.iter().map(|f| f.name.to_string()).collect();
    let fk_unique = model.is_unique_set(&fk_names);
    match rel.arity {
        Arity::List if fk_unique => {
            diags
                .error(
                    rel.type_span,
                    format!(
                        "`{}.{}` is a list, but `{}.{}` is `@unique`: this is a one-to-one relation",
                        rel.view.name,
                        rel.field.name,
                        model.name,
                        fk_names.join(", ")
                    ),
                )
                .label("list")
                .help(format!(
                    "write `{}:{} {}?`, or drop `@unique` from `{}.{}` for one-to-many",
                    rel.view.name,
                    rel.field.name,
                    model.name,
                    model.name,
                    fk_names.join(", ")
                ));
            ok = false;
        }
        Arity::Optional if !fk_unique => {
            diags
                .error(
                    rel.type_span,
                    format!(
                        "`{}.{}` is optional (one-to-one), but `{}.{}` is not `@unique`",
                        rel.view.name,
                        rel.field.name,
                        model.name,
                        fk_names.join(", ")
                    ),
                )
                .label("one-to-one")
                .help(format!(
                    "write `{}:{} {}[]` for one-to-many, or add `@unique` to `{}.{}`",
                    rel.view.name,
                    rel.field.name,
                    model.name,
                    model.name,
                    fk_names.join(", ")
                ));
            ok = false;
        }
        _ => {}
    }
    if fk.iter().any(|f| f.is_optional()) && !opposite.is_optional() {
        diags
            .error(
                opposite.type_span,
                format!(
                    "`{}.{}` is required, but its foreign key `{}` is optional",
                    model.name,
                    opposite.name,
                    fk_names.join(", ")
                ),
            )
            .label("required")
            .help(format!(
                "make both optional (`{}?`) or both required",
                view.name
            ));
        ok = false;
    }
    if !ok {
        return None;
    }
    Some(ManifestRelation {
        view: view.name.to_string(),
        view_field: rel.field.name.to_string(),
        model: model.name.to_string(),
        model_schema: model
            .schema
            .as_ref()
            .map(|s| s.0.clone())
            .unwrap_or_else(|| "public".into()),
        model_table: model.db_name.to_string(),
        model_field: opposite.name.to_string(),
        fk_columns: fk.iter().map(|f| f.column.to_string()).collect(),
        references: refs.iter().map(|f| f.column.to_string()).collect(),
        list: rel.arity == Arity::List,
    })
}

/// `` `idpUserId String` and `idpUser IdpUser @relation(...)` `` for a view.
fn suggest_fk(view: &model::Model, rel: &RelationLine) -> String {
    let key = view
        .fields
        .iter()
        .find(|f| f.is_unique || f.is_id)
        .or_else(|| view.field("id"));
    let (key_name, key_type, native) = match key {
        Some(f) => (
            f.name.as_str(),
            f.type_name.as_str(),
            f.native_type
                .as_ref()
                .map(|n| {
                    if n.args.is_empty() {
                        format!(" @db.{}", n.name)
                    } else {
                        format!(" @db.{}({})", n.name, n.args.join(", "))
                    }
                })
                .unwrap_or_default(),
        ),
        None => ("id", "String", String::new()),
    };
    let mut field = view.name.to_string();
    if let Some(first) = field.get(..1) {
        let lower = first.to_ascii_lowercase();
        field.replace_range(..1, &lower);
    }
    let fk = format!(
        "{field}{}{}",
        key_name.get(..1).unwrap_or("").to_ascii_uppercase(),
        key_name.get(1..).unwrap_or("")
    );
    let unique = if rel.arity == Arity::Optional {
        " @unique"
    } else {
        ""
    };
    let name = rel
        .relation_name
        .as_ref()
        .map(|(n, _)| format!("\"{n}\", "))
        .unwrap_or_default();
    format!(
        "`{fk} {key_type}{native}{unique}` and `{field} {} @relation({name}fields: [{fk}], references: [{key_name}])`",
        view.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Manifest, MANIFEST_FORMAT};

    #[test]
    fn views_json_splices_like_to_json() {
        let mut m = Manifest {
            generated: String::new(),
            format: MANIFEST_FORMAT,
            generator: "t".into(),
            schema: "idp_views".into(),
            files: Default::default(),
            package_hash: String::new(),
            views: vec![],
            enums: vec![],
            relations: vec![],
        };
        let package = m.to_json();
        assert_eq!(views_json(&package, &[]), package);
        m.relations = vec![ManifestRelation {
            view: "IdpUser".into(),
            view_field: "drivers".into(),
            model: "Driver".into(),
            model_schema: "fuel".into(),
            model_table: "drivers".into(),
            model_field: "idpUser".into(),
            fk_columns: vec!["idp_user_id".into()],
            references: vec!["id".into()],
            list: true,
        }];
        let spliced = views_json(&package, &m.relations);
        assert_eq!(spliced, m.to_json());
        assert_eq!(Manifest::from_json(&spliced).unwrap(), m);
    }

    #[test]
    fn relations_go_between_the_markers_or_after_the_last_field() {
        let text = "view A {\n  id String @unique\n  // PRODUCT_RELATIONS_START\n  // PRODUCT_RELATIONS_END\n\n  @@schema(\"v\")\n}\n\nview B {\n  id String @unique\n\n  @@schema(\"v\")\n}\n";
        let conf = "A:xs X[]\nB:ys Y?\nA:zs Z[] @relation(\"n\")\n";
        let mut sources = SourceMap::new();
        let pf = sources.add("p.prisma", text);
        let cf = sources.add("c.conf", conf);
        let mut diags = Diagnostics::new();
        let mut ast = prisma::parse_file(&sources, pf, &mut diags);
        let rels = crate::relations::parse(&sources, cf, &mut diags);
        assert!(diags.is_empty());
        inject(&mut ast, &rels.iter().collect::<Vec<_>>());
        let out = prisma::render(&ast);
        let a = &out[out.find("view A").unwrap()..out.find("view B").unwrap()];
        let start = a.find("PRODUCT_RELATIONS_START").unwrap();
        let xs = a.find("xs X[]").unwrap();
        let zs = a.find("@relation(\"n\")").unwrap();
        let end = a.find("PRODUCT_RELATIONS_END").unwrap();
        assert!(start < xs && xs < zs && zs < end, "{out}");
        let b = &out[out.find("view B").unwrap()..];
        assert!(b.find("ys").unwrap() < b.find("@@schema").unwrap(), "{out}");
    }

    #[test]
    fn odd_inputs_never_panic() {
        let package = "view V {\n  id String @unique\n  // PRODUCT_RELATIONS_START\n  // PRODUCT_RELATIONS_END\n\n  @@schema(\"v\")\n}\n";
        let product = "datasource db {\n  provider = \"postgresql\"\n  schemas = [\"p\", \"v\"]\n}\ngenerator c {\n  provider = \"prisma-client-js\"\n  previewFeatures = [\"views\"]\n}\nmodel M {\n  id String @id\n  vId String\n  v V @relation(fields: [vId, id], references: [id])\n  w V[]\n  x V? @relation(\"n\")\n  @@schema(\"p\")\n}\n";
        for conf in [
            "V:ms M[]\nV:ms M[]\nV:id M?\nV:m M\nV:v V[]\n",
            "V:ms M[] @relation(\"n\")\nV:zs Z[]\nW:ms M[]\n",
            "V:é M[]\nV:m M?? \n\u{0}\nV:m M[] @relation(\"\")\n",
            "V:ms M[]\nV:ns M[]\n",
        ] {
            let mut sources = SourceMap::new();
            let pf = sources.add("p.prisma", package);
            let prod = sources.add("m.prisma", product);
            let cf = sources.add("c.conf", conf);
            let mut diags = Diagnostics::new();
            let ast = prisma::parse_file(&sources, pf, &mut diags);
            let manifest = sources.add(
                "idp-views.lock",
                "{\"format\": 1, \"generator\": \"t\", \"schema\": \"v\", \"files\": {}, \"views\": []}",
            );
            let pkg = Package {
                dir: PathBuf::from("pkg"),
                manifest: serde_json::from_str(&sources.get(manifest).text).unwrap(),
                manifest_file: manifest,
                prisma_file: pf,
                ast,
                sql: String::new(),
                files_read: vec![],
            };
            let schema = ProductSchema {
                files: vec![prisma::parse_file(&sources, prod, &mut diags)],
                paths: vec![],
                dirs: vec![],
            };
            let rels = crate::relations::parse(&sources, cf, &mut diags);
            let merged = merge(&pkg, &rels, Some(cf), Some(&schema), &sources, &mut diags);
            assert!(merged.is_none());
            let _ = diags.render(&sources, false);
        }
    }

    #[test]
    fn identifiers() {
        assert!(is_valid_identifier("idp_views"));
        assert!(is_valid_identifier("_x1"));
        assert!(!is_valid_identifier("idp-views"));
        assert!(!is_valid_identifier("1x"));
        assert!(!is_valid_identifier(""));
        assert!(!is_valid_identifier(&"a".repeat(64)));
    }
}
